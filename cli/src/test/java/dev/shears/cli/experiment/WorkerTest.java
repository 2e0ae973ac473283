package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import dev.shears.nn.train.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workers on one folder, in this JVM one after another: two shards end with the cells a single
 * process computes, bit for bit; a worker killed mid-cell leaves its claim, which the next worker
 * takes over once the lease runs out; a failed item is recorded, shown by status and retried by a
 * later worker; a worker with other options is told which; a worker whose cells wait for a dense
 * model that another (live) worker holds does its other items, then gives up with a clear error.
 */
class WorkerTest {
    /** Stands for a kill: an Error, so the worker does not record it as the item's failure. */
    static final class Killed extends Error {
        Killed() {
            super("simulated kill");
        }
    }

    static Plan plan() {
        return new Plan("worker-test", "lenet5", Map.of(), "fashion-mnist", null, 64, 32, "none", Stage.sgd(1, 32, 0.05, 0.9, false, 5e-4),
                Stage.sgd(1, 32, 0.01, 0.9, false, 5e-4), List.of(), List.of("global", "uniform"), List.of(0.9), List.of(0L, 1L), null, "paper", null, List.of());
    }

    static Worker worker(Plan p, Path dir, int shard, int count, ByteArrayOutputStream log) {
        return new Worker(p, dir, shard, count, new PrintStream(log, true, StandardCharsets.UTF_8)).progress(Progress.Mode.OFF).plots(false).poll(50);
    }

    @TempDir
    static Path shared;
    private static List<CellResult> single;

    /** The single-process sweep of the plan, run once for all tests. */
    static synchronized List<CellResult> single() {
        if (single == null) single = SweepTest.sweep(plan(), shared.resolve("single"), new ByteArrayOutputStream()).run().cells();
        return single;
    }

    static void assertSameCells(List<CellResult> expected, List<CellResult> actual) {
        assertEquals(expected.size(), actual.size());
        Map<String, String> e = SweepTest.results(expected), a = SweepTest.results(actual);
        for (String k : e.keySet()) {
            assertEquals(strip(e.get(k)), strip(a.get(k)), "cell " + k + " differs from the single-process run");
        }
    }

    /** A cell's record without the machine it ran on (the wall time is already gone). */
    private static String strip(String json) {
        var o = com.google.gson.JsonParser.parseString(json).getAsJsonObject();
        o.remove("host");
        return o.toString();
    }

    @Test
    void twoShardsEndWhereOneProcessDoes(@TempDir Path tmp) throws Exception {
        Plan p = plan();
        Path dir = tmp.resolve("sharded");
        ByteArrayOutputStream log0 = new ByteArrayOutputStream(), log1 = new ByteArrayOutputStream();
        Worker.Outcome first = worker(p, dir, 0, 2, log0).steal(false).run();
        assertTrue(first.ran() < first.total(), "without stealing, shard 0 leaves shard 1's cells: " + log0.toString(StandardCharsets.UTF_8));
        Worker.Outcome second = worker(p, dir, 1, 2, log1).run();
        assertEquals(first.total(), first.ran() + second.ran(), "no item ran twice (the dense models included)");
        assertEquals(6, second.done());
        assertSameCells(single(), WorkFolder.finished(p, dir));
        assertEquals(5, Files.readString(dir.resolve(Report.CSV), StandardCharsets.UTF_8).lines().count(), "results.csv: the header and 4 cells");
        String status = StatusCommand.status(dir, System.currentTimeMillis());
        assertTrue(status.contains("6 items: 6 done") && status.contains("finished"), status);
    }

    @Test
    void aKilledWorkersItemIsTakenOverAndAFailureIsRetried(@TempDir Path tmp) {
        Plan p = plan();
        Path dir = tmp.resolve("killed");
        Sweep.Listener killMidCell = new Sweep.Listener() {
            @Override
            public void trainStep(Plan.Cell c, int epoch, int step) {
                if (step == 1) throw new Killed();
            }
        };
        assertThrows(Killed.class, () -> worker(p, dir, 0, 1, new ByteArrayOutputStream()).lease(1000).hooks(killMidCell).run());
        String during = StatusCommand.status(dir, System.currentTimeMillis());
        assertTrue(during.contains("running  worker"), during);
        sleep(1300); // the killed worker's lease runs out
        String after = StatusCommand.status(dir, System.currentTimeMillis());
        assertTrue(after.contains("stale    worker"), after);

        Sweep.Listener failOne = new Sweep.Listener() {
            @Override
            public void cellStarting(Plan.Cell c, int index, int total) {
                if (c.key().equals("uniform@0.9#1")) throw new IllegalStateException("injected failure\nsecond line");
            }
        };
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Worker.Outcome o = worker(p, dir, 0, 1, log).lease(1000).hooks(failOne).run();
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, o.failed(), text);
        assertTrue(text.contains("FAILED uniform at 90%, seed 1: injected failure"), text);
        String status = StatusCommand.status(dir, System.currentTimeMillis());
        assertTrue(status.contains("cell-uniform@0.9#1") && status.contains("failed   ") && status.contains("injected failure") && !status.contains("second line"), status);
        assertFalse(status.contains("stale    worker"), "the killed worker's claim was taken over: " + status);

        sleep(1100); // a later run retries the failure
        Worker.Outcome retry = worker(p, dir, 0, 1, new ByteArrayOutputStream()).run();
        assertEquals(1, retry.ran());
        assertSameCells(single(), WorkFolder.finished(p, dir));
    }

    @Test
    void aWorkerWithOtherOptionsIsToldWhichDiffer(@TempDir Path tmp) {
        Path dir = tmp.resolve("mismatch");
        WorkFolder.writeOrCheck(plan(), dir);
        WorkFolder.writeOrCheck(plan(), dir); // the same plan again is fine
        Plan other = plan().withSparsities(List.of(0.5, 0.9));
        other = new Plan(other.name(), other.model(), other.modelOptions(), other.dataset(), other.dataDir(), other.trainSize(), other.testSize(), other.augment(),
                other.dense().withEpochs(3), other.finetune(), other.rules(), other.methods(), other.sparsities(), other.seeds(), other.mt(), other.mtMode(),
                other.denseCheckpoint(), other.notes());
        Plan o = other;
        String e = assertThrows(IllegalArgumentException.class, () -> worker(o, dir, 0, 1, new ByteArrayOutputStream()).run()).getMessage();
        assertTrue(e.contains("--dense-epochs (dense.epochs): 1 in the folder, 3 here"), e);
        assertTrue(e.contains("--sparsities (sparsities): [0.9] in the folder, [0.5,0.9] here"), e);
        assertTrue(e.contains(WorkFolder.planFile(dir).toString()), e);
    }

    @Test
    void aCellWaitingForADenseModelHeldElsewhereGivesUpClearly(@TempDir Path tmp) {
        Plan p = plan().withSeeds(List.of(3L));
        Path dir = tmp.resolve("waiting");
        // a live worker on another node holds the dense model (its lease is an hour)
        Claims elsewhere = new Claims(dir, new Claims.Identity("node9:77 slurm 5_1", "node9", 77, 1), 3_600_000);
        elsewhere.tryClaim(WorkItems.denseId(3)).orElseThrow();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> worker(p, dir, 0, 1, log).denseWait(300).run());
        assertTrue(e.getMessage().contains("dense model, seed 3") && e.getMessage().contains("node9:77 slurm 5_1") && e.getMessage().contains("--dense-wait"),
                e.getMessage());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("waiting for the dense model, seed 3"), log.toString(StandardCharsets.UTF_8));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
