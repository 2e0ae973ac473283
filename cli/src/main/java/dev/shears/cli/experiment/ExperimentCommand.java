package dev.shears.cli.experiment;

import dev.shears.engine.Parallel;
import dev.shears.nn.train.Progress;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shears experiment}: a sweep of pruning methods x sparsities x seeds (or a named recipe
 * from the paper's appendix), resumable, with results.csv/json, report.md and plots in the output
 * folder; {@code --dry-run} prints the plan and its time on this machine; {@code --shard I/N} makes
 * it one worker of many on a shared folder ({@link Worker}). Only parses options and
 * builds the {@link Plan}; {@link Sweep} runs it. Pinned by ExperimentCommandTest and DemoTest (the dry run).
 */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false,
        subcommands = {SubmitCommand.class, StatusCommand.class, ReportCommand.class}, description = {
        "Sweep pruning methods x sparsities x seeds: train the dense model, prune, fine-tune, evaluate; resumable.",
        "Writes results.csv, results.json, report.md and PNG plots to --out.",
        "On a cluster: --shard I/N runs one of N workers on a shared --out; 'submit' hands the workers to Slurm or Kubernetes, 'status' and 'report' follow them."})
public final class ExperimentCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--list-recipes", description = "List the named recipes and exit.")
    boolean listRecipes;

    @Option(names = "--dry-run", description = "Print the full plan and an estimate of its time on this machine; run nothing.")
    boolean dryRun;

    @Mixin
    PlanOptions options = new PlanOptions();

    @Option(names = "--out", description = "Output folder (default: runs/experiment-NAME). A rerun with the same folder skips finished cells.")
    Path out;

    @Option(names = "--progress", defaultValue = "auto", description = "auto, bar, lines or off: the display of each training run (default: ${DEFAULT-VALUE}).")
    String progress;

    @Option(names = "--threads", description = "Worker threads (default: all cores, or -Dshears.threads).")
    Integer threads;

    @Option(names = "--shard", paramLabel = "I/N|auto", description = {"Run as worker I of N (0 <= I < N) on the folder --out that all workers share; "
            + "auto: I and N from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or Kubernetes' JOB_COMPLETION_INDEX with --shard-count (or SHEARS_SHARD_COUNT)."})
    String shard;

    @Option(names = "--shard-count", description = "N for --shard auto under Kubernetes (default: the SHEARS_SHARD_COUNT environment variable).")
    Integer shardCount;

    @Option(names = "--lease", defaultValue = "300", description = "With --shard: seconds a claim lasts without its worker's heartbeat before another worker takes the item over (default: ${DEFAULT-VALUE}).")
    long leaseSeconds;

    @Option(names = "--dense-wait", defaultValue = "86400", description = "With --shard: seconds to wait for a dense model trained by another worker before giving up (default: ${DEFAULT-VALUE}).")
    long denseWaitSeconds;

    @Option(names = "--no-steal", description = "With --shard: do not take unclaimed items of other shards once this shard's are done.")
    boolean noSteal;

    @Override
    public void run() {
        PrintStream log = System.err;
        if (listRecipes) {
            for (String n : Recipes.names()) {
                Plan p = Recipes.get(n);
                System.out.printf(Locale.ROOT, "%-30s %s on %s: %s at %s, %d seeds%n", n, p.model(), p.dataset(), String.join(", ", p.methods()),
                        String.join(", ", p.sparsities().stream().map(SweepProgress::percent).toList()), p.seeds().size());
            }
            return;
        }
        applyThreads(threads);
        Plan plan = plan();
        Path dir = out != null ? out : Path.of("runs", "experiment-" + (options.recipe != null ? options.recipe : plan.model() + "-" + plan.dataset()));
        if (dryRun) {
            dryRun(plan, dir);
            return;
        }
        Progress.Mode mode = progressMode(progress);
        String command = commandLine(spec.commandLine().getParseResult().originalArgs());
        if (shard != null) {
            if (out == null) throw new IllegalArgumentException("--shard needs --out: the folder that all workers of the sweep share");
            WorkItems.Shard sh = WorkItems.Shard.parse(shard, shardCount, System.getenv());
            Worker w = new Worker(plan, dir, sh.index(), sh.count(), System.out).lease(leaseSeconds * 1000).denseWait(denseWaitSeconds * 1000).steal(!noSteal)
                    .progress(mode == Progress.Mode.AUTO ? Progress.Mode.LINES : mode).context(Report.Context.of(List.of()).withCommand(command));
            Worker.Outcome o = w.run();
            if (o.failed() > 0) {
                throw new IllegalArgumentException(o.failed() + " items failed in this worker (the errors are in " + dir.resolve(Claims.WORK).resolve(Claims.FAILED)
                        + "; see shears experiment status --out " + dir + "); running the worker again retries them");
            }
            return;
        }
        Sweep sweep = new Sweep(plan, dir, log).progress(mode).context(Report.Context.of(List.of()).withCommand(command));
        Sweep.Outcome o = sweep.run();
        System.out.println();
        System.out.print(ConsoleTable.table(plan, Summary.of(plan, o.cells())));
        for (String f : Findings.of(plan, Summary.of(plan, o.cells()), o.cells())) System.out.println("- " + f);
        System.out.printf(Locale.ROOT, "%n%d cells (%d run now, %d reused). Results: %s (results.csv, results.json, report.md, plots)%n", o.cells().size(), o.ran(),
                o.reused(), dir.toAbsolutePath());
    }

    /** The plan the options describe. */
    Plan plan() {
        return options.plan(spec.commandLine().getParseResult());
    }

    private void dryRun(Plan plan, Path dir) {
        System.out.print(describe(plan, dir));
        Estimate.DataShape shape;
        String source;
        try {
            ExperimentData d = ExperimentData.open(plan);
            shape = new Estimate.DataShape(d.train().size(), d.test().size(), d.train().sampleShape(), d.train().classes(), "the data on this machine");
        } catch (IllegalArgumentException e) {
            Estimate.DataShape k = Estimate.known(plan.dataset());
            shape = new Estimate.DataShape(plan.trainSize() != null ? plan.trainSize() : k.train(), plan.testSize() != null ? plan.testSize() : k.test(),
                    k.sampleShape(), k.classes(), k.source() + " (the data is not here: " + e.getMessage() + ")");
        }
        source = shape.source();
        System.out.printf(Locale.ROOT, "data: %,d training and %,d test samples of shape %s, %d classes (%s)%n", shape.train(), shape.test(),
                Arrays.toString(shape.sampleShape()), shape.classes(), source);
        long finished = WorkFolder.finished(plan, dir).size();
        if (finished > 0) System.out.printf(Locale.ROOT, "%d of %d cells already finished in %s (a run would skip them)%n", finished, plan.cells().size(), dir);
        try {
            Estimate e = Estimate.measure(plan, shape);
            System.out.println("estimate: " + e.describe());
        } catch (RuntimeException | OutOfMemoryError e) {
            System.out.println("estimate: not available (" + e.getMessage() + ")");
        }
    }

    /** The full plan as text. */
    static String describe(Plan plan, Path dir) {
        StringBuilder b = new StringBuilder();
        b.append("plan ").append(plan.name()).append(" (fingerprint ").append(plan.fingerprint()).append("), output ").append(dir.toAbsolutePath()).append('\n');
        b.append("  model:       ").append(plan.model()).append(plan.modelOptions().isEmpty() ? "" : " " + plan.modelOptions()).append('\n');
        b.append("  data:        ").append(plan.dataset()).append(plan.dataDir() != null ? " from " + plan.dataDir() : "")
                .append(plan.trainSize() != null ? ", train subset " + plan.trainSize() : "").append(plan.testSize() != null ? ", test subset " + plan.testSize() : "")
                .append(", augment ").append(plan.augment()).append('\n');
        b.append("  dense:       ").append(plan.denseCheckpoint() != null ? plan.denseCheckpoint() + " (given)" : plan.dense().describe() + ", one model per seed").append('\n');
        b.append("  fine-tune:   ").append(plan.finetune().describe()).append('\n');
        for (Plan.Rule r : plan.rules()) {
            b.append("               ").append(r.method() == null ? "" : r.method() + " ").append(Double.isNaN(r.sparsity()) ? "" : "at " + SweepProgress.percent(r.sparsity()))
                    .append(": ").append(r.stage().describe()).append('\n');
        }
        b.append("  methods:     ").append(String.join(", ", plan.methods())).append('\n');
        b.append("  sparsities:  ").append(String.join(", ", plan.sparsities().stream().map(SweepProgress::percent).toList())).append('\n');
        b.append("  seeds:       ").append(plan.seeds()).append('\n');
        if (plan.mt() != null) b.append("  MT:          ").append(plan.mt()).append(" (").append(plan.mtMode()).append(" mode)\n");
        for (String n : plan.notes()) b.append("  note: ").append(n).append('\n');
        b.append("  cells (").append(plan.cells().size()).append("):\n");
        for (Plan.Cell c : plan.cells()) {
            Stage s = plan.stageFor(c);
            b.append(String.format(Locale.ROOT, "    %-16s %-8s seed %d: %s%n", c.method(), SweepProgress.percent(c.sparsity()), c.seed(),
                    c.method().equals("gradual-global") ? "train from scratch, pruning along the way: " + s.describe() : "prune, then fine-tune " + s.describe()));
        }
        return b.toString();
    }

    static Progress.Mode progressMode(String value) {
        try {
            return Progress.Mode.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--progress must be auto, bar, lines or off, got '" + value + "'");
        }
    }

    static void applyThreads(Integer threads) {
        if (threads == null) return;
        if (threads < 1 || threads > 1024) throw new IllegalArgumentException("--threads must be from 1 to 1024, got " + threads);
        System.setProperty("shears.threads", Integer.toString(threads));
        if (Parallel.threads() != threads) {
            throw new IllegalArgumentException("--threads " + threads + " came after the engine started with " + Parallel.threads()
                    + " threads; use SHEARS_JAVA_OPTS=-Dshears.threads=" + threads);
        }
    }

    /**
     * The command as the user typed it, for the report: picocli hands a subcommand the whole
     * argument list (starting with "experiment" when run through {@code shears}), or only its own
     * options when the command is used alone.
     */
    static String commandLine(List<String> originalArgs) {
        int at = originalArgs.indexOf("experiment");
        List<String> own = at >= 0 ? originalArgs.subList(at + 1, originalArgs.size()) : originalArgs;
        return own.isEmpty() ? "shears experiment" : "shears experiment " + String.join(" ", own);
    }
}
