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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import dev.shears.nn.train.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sweep on a tiny slice of the embedded data: every cell is recorded with what the pruning
 * did; a crash (an injected failure between cells, and one mid-fine-tuning) loses at most the cell
 * in flight, and the rerun skips the finished cells and ends with the same results as a run that
 * was never interrupted.
 */
class SweepTest {
    static final class Crash extends RuntimeException {
        Crash(String m) {
            super(m);
        }
    }

    static Plan plan() {
        return new Plan("sweep-test", "lenet5", Map.of(), "fashion-mnist", null, 64, 32, "none", Stage.sgd(1, 32, 0.05, 0.9, false, 5e-4),
                Stage.sgd(1, 32, 0.01, 0.9, false, 5e-4), List.of(), List.of("global", "global-mt", "uniform"), List.of(0.999), List.of(0L),
                "50", "exact", null, List.of());
    }

    static Sweep sweep(Plan p, Path dir, ByteArrayOutputStream log) {
        return new Sweep(p, dir, new PrintStream(log, true, StandardCharsets.UTF_8)).progress(Progress.Mode.OFF).plots(false);
    }

    /** Results without wall times, by key. */
    static Map<String, String> results(List<CellResult> cells) {
        return cells.stream().collect(Collectors.toMap(CellResult::key, c -> {
            var o = c.json();
            o.remove("seconds");
            return o.toString();
        }));
    }

    @TempDir
    static Path shared;
    private static Sweep.Outcome whole;

    /** The uninterrupted sweep, run once for both tests. */
    static synchronized Sweep.Outcome whole() {
        if (whole == null) whole = sweep(plan(), shared.resolve("whole"), new ByteArrayOutputStream()).run();
        return whole;
    }

    @Test
    void aCrashedSweepResumesAndEndsWhereAnUninterruptedOneDoes(@TempDir Path tmp) throws Exception {
        Plan p = plan();
        Sweep.Outcome whole = whole();
        assertEquals(3, whole.ran());
        assertEquals(3, whole.cells().size());

        Path dir = tmp.resolve("crashed");
        // first a failure after the first finished cell (its line is already on disk)
        Sweep.Listener afterOne = new Sweep.Listener() {
            @Override
            public void cellDone(CellResult r, int done, int total) {
                if (done == 1) throw new Crash("injected failure after cell 1");
            }
        };
        assertThrows(Crash.class, () -> sweep(p, dir, new ByteArrayOutputStream()).listener(afterOne).run());
        assertEquals(1, new CellStore(dir).load(p.fingerprint()).cells().size());
        // then a failure in the middle of the third cell's fine-tuning: cell 2 is kept, cell 3 is lost
        List<String> started = new ArrayList<>();
        Sweep.Listener midCell = new Sweep.Listener() {
            @Override
            public void cellStarting(Plan.Cell c, int index, int total) {
                started.add(c.key());
            }

            @Override
            public void trainStep(Plan.Cell c, int epoch, int step) {
                if (started.size() == 2 && step == 2) throw new Crash("injected failure inside " + c.key());
            }
        };
        ByteArrayOutputStream log2 = new ByteArrayOutputStream();
        assertThrows(Crash.class, () -> sweep(p, dir, log2).listener(midCell).run());
        assertTrue(log2.toString(StandardCharsets.UTF_8).contains("resuming: 1 of 3 cells already finished"), log2.toString(StandardCharsets.UTF_8));
        assertEquals(2, new CellStore(dir).load(p.fingerprint()).cells().size());
        assertFalse(new CellStore(dir).load(p.fingerprint()).cells().containsKey(started.get(1)), "the cell in flight is not recorded");

        ByteArrayOutputStream log3 = new ByteArrayOutputStream();
        Sweep.Outcome resumed = sweep(p, dir, log3).run();
        assertEquals(2, resumed.reused());
        assertEquals(1, resumed.ran());
        assertEquals(results(whole.cells()), results(resumed.cells()), "the resumed sweep equals the uninterrupted one");
        assertEquals(3, Files.readAllLines(dir.resolve(CellStore.FILE)).size(), "each cell recorded once");

        Sweep.Outcome again = sweep(p, dir, new ByteArrayOutputStream()).run();
        assertEquals(0, again.ran(), "a finished sweep runs nothing");
        try (FolderLock held = FolderLock.acquire(dir)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sweep(p, dir, new ByteArrayOutputStream()).run());
            assertTrue(e.getMessage().contains("another shears experiment is running"), e.getMessage());
        }
        String csv = Files.readString(dir.resolve(Report.CSV));
        assertEquals(4, csv.lines().count(), csv);
        assertTrue(Files.readString(dir.resolve(Report.MD)).contains("| 99.9% |"));
    }

    @Test
    void cellsRecordPruningAccuraciesFlopsAndCollapse() {
        Sweep.Outcome o = whole();
        for (CellResult c : o.cells()) {
            assertEquals(430_500, c.weights(), "LeNet-5's prunable weights");
            assertEquals(c.sparsity(), c.achieved(), 1.5 / c.weights(), c.key() + " reaches its sparsity");
            assertEquals(c.weights() - c.kept(), Math.round(c.achieved() * c.weights()));
            assertEquals(c.layers().stream().mapToLong(CellResult.Layer::kept).sum(), c.kept());
            assertTrue(c.accuracy() >= 0 && c.accuracy() <= 100 && c.denseAccuracy() > 0);
            assertTrue(c.flopsPruned() > 0 && c.flopsPruned() < 1);
            assertEquals(1, c.epochs());
        }
        CellResult uniform = find(o, "uniform", 0.999), global = find(o, "global", 0.999), mt = find(o, "global-mt", 0.999);
        assertEquals(0.999, uniform.flopsPruned(), 1e-3, "uniform pruning removes FLOPs in proportion");
        for (CellResult.Layer l : mt.layers()) assertTrue(l.kept() >= Math.min(50, l.weights()), "MT keeps 50 weights in " + l.name());
        // collapse flags agree with the per-layer counts, and a cut network is flagged
        for (CellResult c : o.cells()) {
            for (CellResult.Layer l : c.layers()) assertEquals(l.kept() == 0, l.collapsed(), c.key() + " " + l.name());
            assertEquals(c.collapsedLayers(), c.fatalLayers(), c.key() + ": LeNet-5 has no bypass, so any empty layer cuts it");
            assertEquals(c.collapsedLayers().isEmpty(), c.connected(), c.key());
        }
        // LeNet-5 barely trained: conv1's 500 weights (init bound 1/sqrt(25)) outweigh the others (bounds 1/sqrt(500), 1/sqrt(800)),
        // so the 430 weights Global MP keeps at 99.9% empty other layers, while MT keeps every layer alive
        assertFalse(global.collapsedLayers().isEmpty(), "Global MP at 99.9% empties a layer: " + global.layers());
        assertFalse(global.connected());
        assertTrue(mt.collapsedLayers().isEmpty() && mt.connected(), "MT keeps every layer: " + mt.layers());
    }

    @Test
    void gradualAndDataDrivenMethodsRun(@TempDir Path tmp) {
        Plan p = new Plan("sweep-test-2", "lenet5", Map.of(), "fashion-mnist", null, 64, 32, "none", Stage.sgd(2, 32, 0.05, 0.9, false, 5e-4),
                Stage.sgd(1, 32, 0.01, 0.9, false, 5e-4), List.of(), List.of("snip", "gradual-global"), List.of(0.9), List.of(3L),
                null, "paper", null, List.of());
        Sweep.Outcome o = sweep(p, tmp, new ByteArrayOutputStream()).run();
        CellResult snip = find(o, "snip", 0.9), gradual = find(o, "gradual-global", 0.9);
        assertEquals(0.9, snip.achieved(), 1.0 / snip.weights());
        assertTrue(snip.denseAccuracy() > 0 && snip.epochs() == 1);
        assertEquals(0.9, gradual.achieved(), 1.0 / gradual.weights(), "the cubic schedule ends at the target");
        assertEquals(2, gradual.epochs(), "gradual-global trains with the dense recipe");
        assertTrue(Double.isNaN(gradual.denseAccuracy()) && Double.isNaN(gradual.prunedAccuracy()), "it never had a dense model");
        assertTrue(gradual.note().contains("pruning events"), gradual.note());
    }

    private static CellResult find(Sweep.Outcome o, String m, double s) {
        return o.cells().stream().filter(c -> c.method().equals(m) && c.sparsity() == s).findFirst().orElseThrow();
    }
}
