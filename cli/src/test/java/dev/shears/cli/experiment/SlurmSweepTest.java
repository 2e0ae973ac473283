package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import dev.shears.nn.train.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The sweep on a real scheduler: scripts/slurm-local.sh brings up a one-node Slurm (as root, as CI
 * runs; the test is skipped, saying why, where it cannot), {@code shears experiment submit} sends
 * a small sweep (lenet5, embedded subset, 2 methods x 2 sparsities x 2 seeds) as an array of 4
 * workers, one worker is cancelled with scancel while it holds an item, the sweep is submitted
 * again, and the merged results equal a single process's run of the same plan, cell for cell.
 * Runs in the SIMD pass only; stops the daemons it started.
 */
class SlurmSweepTest {
    static final String[] PLAN = {"--model", "lenet5", "--methods", "global,uniform", "--sparsities", "0.5,0.9", "--seeds", "0,1", "--dense-epochs", "1",
            "--finetune-epochs", "1", "--train-size", "128", "--test-size", "64", "--batch", "32"};
    static final long TIMEOUT_MS = 150_000;

    private static Path script;
    private static boolean startedHere;
    private static final Map<String, String> env = new HashMap<>();
    private static final List<String> jobs = new ArrayList<>();

    @Test
    void anArrayWithACancelledWorkerResubmittedEndsWhereOneProcessDoes(@TempDir Path tmp) throws Exception {
        assumeFalse("off".equals(System.getProperty("shears.simd")),
                "the Slurm sweep runs once per ./test, in the SIMD pass; the scalar pass would only repeat the same cluster run");
        startSlurm();
        long t0 = System.nanoTime();
        Path out = tmp.resolve("sweep");
        String[] submit = SubmitTest.concat(new String[] {"experiment", "submit", "--scheduler", "slurm", "--workers", "4", "--cpus-per-task", "1", "--out",
                out.toString(), "--lease", "60"}, PLAN);

        // round 1: four workers; cancel the one that holds an item as soon as one does
        String[] ids = submitted(shears(tmp, submit));
        String array = ids[0];
        Matcher held = null;
        long until = System.currentTimeMillis() + TIMEOUT_MS;
        while (held == null && System.currentTimeMillis() < until) {
            for (String claim : claims(out)) {
                Matcher m = Pattern.compile("\"worker\": \"([^\"]+) slurm " + array + "_(\\d+)\"").matcher(claim);
                if (m.find()) {
                    held = m;
                    break;
                }
            }
            if (held == null) Thread.sleep(100);
        }
        if (held == null) fail("no worker of array " + array + " claimed an item in time; logs:\n" + logs(out));
        String task = held.group(2);
        run(List.of("scancel", array + "_" + task), 30);
        long cancelledAt = System.nanoTime();
        waitFor(out, ids);
        long round1 = System.nanoTime();
        Path cancelledLog = out.resolve("slurm/worker-" + array + "_" + task + ".out");
        String cancelled = Files.readString(cancelledLog, StandardCharsets.UTF_8);
        assertTrue(cancelled.contains("claimed"), cancelled);
        assertFalse(cancelled.contains(": ran "), "the cancelled worker was stopped mid-item, before its last line:\n" + cancelled);
        assertTrue(cancelled.contains("stopping; released the claim on"), "scancel's SIGTERM gives the claim back:\n" + cancelled);

        // round 2: submit again; the folder resumes
        String[] again = submitted(shears(tmp, submit));
        waitFor(out, again);
        long round2 = System.nanoTime();
        String report = Files.readString(out.resolve("slurm/report-" + again[1] + ".out"), StandardCharsets.UTF_8);
        assertTrue(report.contains("8 of 8 cells finished"), report);

        // the single process: same plan, same bits
        ExperimentCommand cmd = new ExperimentCommand();
        new CommandLine(cmd).parseArgs(PLAN);
        Plan plan = cmd.plan();
        List<CellResult> single = new Sweep(plan, tmp.resolve("single"), new java.io.PrintStream(new ByteArrayOutputStream())).progress(Progress.Mode.OFF).plots(false)
                .run().cells();
        WorkerTest.assertSameCells(single, WorkFolder.finished(plan, out));
        String all = logs(out);
        for (long seed : plan.seeds()) {
            assertEquals(1, Pattern.compile("dense model, seed " + seed + ": test accuracy").matcher(all).results().count(),
                    "dense model " + seed + " finished once across all workers:\n" + all);
        }
        System.out.printf("SlurmSweepTest: %.0f s in all: round 1 %.0f s (a worker cancelled after %.0f s), round 2 %.0f s, the single process %.0f s%n",
                (System.nanoTime() - t0) / 1e9, (round1 - t0) / 1e9, (cancelledAt - t0) / 1e9, (round2 - round1) / 1e9, (System.nanoTime() - round2) / 1e9);
    }

    /** Starts the local Slurm, or skips the test with the reason. */
    private static void startSlurm() throws Exception {
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "Slurm here needs Linux");
        Path root = Path.of("").toAbsolutePath();
        while (root != null && !Files.isRegularFile(root.resolve("scripts/slurm-local.sh"))) root = root.getParent();
        assumeTrue(root != null, "scripts/slurm-local.sh not found above " + Path.of("").toAbsolutePath());
        script = root.resolve("scripts/slurm-local.sh");
        boolean running = exec(List.of("bash", script.toString(), "status"), 30).code() == 0;
        Result r = exec(List.of("bash", script.toString(), "start"), 600);
        String lastLine = r.output().strip().lines().reduce((a, b) -> b).orElse("");
        assumeTrue(r.code() == 0 && lastLine.startsWith("export SLURM_CONF="),
                "a local Slurm could not be started (scripts/slurm-local.sh start: exit " + r.code() + "): " + lastLine);
        startedHere = !running;
        env.put("SLURM_CONF", lastLine.substring("export SLURM_CONF=".length()).trim());
    }

    @AfterAll
    static void stopSlurm() throws Exception {
        if (!jobs.isEmpty() && env.containsKey("SLURM_CONF")) {
            List<String> cancel = new ArrayList<>(List.of("scancel"));
            cancel.addAll(jobs);
            exec(cancel, 30);
        }
        if (startedHere) exec(List.of("bash", script.toString(), "stop"), 60);
    }

    /** {@code shears ARGS} in a fresh JVM like this one (its options and class path), with the local Slurm's environment. */
    private static String shears(Path cwd, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(SchedulerFiles.thisJava());
        cmd.addAll(List.of(args));
        Result r = exec(cmd, 120);
        assertEquals(0, r.code(), String.join(" ", args) + ":\n" + r.output());
        return r.output();
    }

    /** The array and report job ids a submit printed. */
    private static String[] submitted(String said) {
        Matcher m = Pattern.compile("submitted array job (\\d+) \\(4 workers\\) and report job (\\d+)").matcher(said);
        assertTrue(m.find(), said);
        jobs.add(m.group(1));
        jobs.add(m.group(2));
        return new String[] {m.group(1), m.group(2)};
    }

    /** Waits until the jobs have left the queue. */
    private static void waitFor(Path out, String[] ids) throws Exception {
        long until = System.currentTimeMillis() + TIMEOUT_MS;
        while (System.currentTimeMillis() < until) {
            Result q = exec(List.of("squeue", "-h", "-o", "%i %T", "-j", String.join(",", ids)), 30);
            if (q.code() == 0 && q.output().isBlank()) return;
            Thread.sleep(500);
        }
        fail("jobs " + String.join(",", ids) + " still queued after " + TIMEOUT_MS / 1000 + " s; logs:\n" + logs(out));
    }

    private static List<String> claims(Path out) throws IOException {
        Path dir = out.resolve(Claims.WORK).resolve(Claims.CLAIMS);
        if (!Files.isDirectory(dir)) return List.of();
        List<String> texts = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("\\d+\\.json")).toList()) {
                try {
                    texts.add(Files.readString(p, StandardCharsets.UTF_8));
                } catch (IOException gone) {
                    // released meanwhile
                }
            }
        }
        return texts;
    }

    private static String logs(Path out) throws IOException {
        Path dir = out.resolve("slurm");
        if (!Files.isDirectory(dir)) return "(no " + dir + ")";
        StringBuilder b = new StringBuilder();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".out")).sorted().toList()) {
                b.append("== ").append(p.getFileName()).append('\n').append(Files.readString(p, StandardCharsets.UTF_8));
            }
        }
        return b.toString();
    }

    record Result(int code, String output) {}

    private static Result run(List<String> cmd, int seconds) throws Exception {
        Result r = exec(cmd, seconds);
        assertEquals(0, r.code(), String.join(" ", cmd) + ": " + r.output());
        return r;
    }

    private static Result exec(List<String> cmd, int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path log = Files.createTempFile("shears-slurm-test", ".log");
        try {
            pb.redirectOutput(log.toFile()); // a file, not a pipe: daemons started by the script never hold this JVM's streams
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(124, String.join(" ", cmd) + " did not finish in " + seconds + " s: " + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
