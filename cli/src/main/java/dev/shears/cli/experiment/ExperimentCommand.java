package dev.shears.cli.experiment;

import dev.shears.engine.Parallel;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.train.Progress;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code shears experiment}: a sweep of pruning methods x sparsities x seeds (or a named recipe
 * from the paper's appendix), resumable, with results.csv/json, report.md and plots in the output
 * folder; {@code --dry-run} prints the plan and its time on this machine. Only parses options and
 * builds the {@link Plan}; {@link Sweep} runs it. Pinned by ExperimentCommandTest and DemoTest (the dry run).
 */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Sweep pruning methods x sparsities x seeds: train the dense model, prune, fine-tune, evaluate; resumable.",
        "Writes results.csv, results.json, report.md and PNG plots to --out."})
public final class ExperimentCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--recipe", description = "A named recipe from the paper's appendix (see --list-recipes); other options override it.")
    String recipe;

    @Option(names = "--list-recipes", description = "List the named recipes and exit.")
    boolean listRecipes;

    @Option(names = "--dry-run", description = "Print the full plan and an estimate of its time on this machine; run nothing.")
    boolean dryRun;

    @Option(names = "--model", description = "Zoo model, e.g. lenet5, resnet20, mobilenet-v2-cifar.")
    String model;

    @Option(names = "--model-option", description = "Model option KEY=VALUE (e.g. shortcut=B); repeatable.")
    Map<String, String> modelOptions = new LinkedHashMap<>();

    @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "Dataset (default: ${DEFAULT-VALUE}, the embedded subset).")
    String dataset;

    @Option(names = "--data", description = "Data folder (default: the dataset's built-in source).")
    Path data;

    @Option(names = "--methods", split = ",", description = "Comma-separated: global, global-mt, uniform, erk, lamp, snip, grasp, synflow, random, gradual-global (default: global,uniform).")
    List<String> methods;

    @Option(names = "--sparsities", split = ",", description = "Comma-separated target sparsities (default: 0.5,0.8,0.9,0.95,0.98,0.99).")
    List<Double> sparsities;

    @Option(names = "--seeds", split = ",", description = "Comma-separated seeds; each trains its own dense model (default: 0).")
    List<Long> seeds;

    @Option(names = "--mt", description = "Minimum Threshold for global-mt: a count (500) or a percent of all prunable weights (0.02%%).")
    String mt;

    @Option(names = "--mt-mode", description = "paper (the authors' reallocation) or exact (top-M protected, one global threshold) (default: paper).")
    String mtMode;

    @Option(names = "--dense", paramLabel = "CHECKPOINT", description = "Prune this trained dense checkpoint instead of training one.")
    Path dense;

    @Option(names = "--dense-epochs", description = "Dense training epochs (default: 10).")
    Integer denseEpochs;

    @Option(names = "--finetune-epochs", description = "Fine-tuning epochs after pruning (default: 5; 0 = prune and evaluate only).")
    Integer finetuneEpochs;

    @Option(names = "--finetune-samples", description = "Fine-tuning epochs see only N random training samples each (default: all).")
    Integer finetuneSamples;

    @Option(names = "--batch", description = "Batch size of both stages (default: 128).")
    Integer batch;

    @Option(names = "--optimizer", description = "sgd or adam (default: sgd).")
    String optimizer;

    @Option(names = "--lr", description = "Dense learning rate (default: 0.1).")
    Double lr;

    @Option(names = "--finetune-lr", description = "Fine-tuning learning rate (default: 0.01).")
    Double finetuneLr;

    @Option(names = "--momentum", description = "SGD momentum (default: 0.9).")
    Double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum.")
    Boolean nesterov;

    @Option(names = "--weight-decay", description = "Weight decay of both stages (default: 5e-4).")
    Double weightDecay;

    @Option(names = "--schedule", description = "cosine, step or constant (default: cosine, updated per epoch).")
    String schedule;

    @Option(names = "--warmup-epochs", description = "Linear warm-up epochs of both stages (default: 0).")
    Integer warmup;

    @Option(names = "--label-smoothing", description = "Label smoothing of both stages (default: 0).")
    Double labelSmoothing;

    @Option(names = "--augment", description = "none, flip, crop-flip or auto (default: auto: crop-flip on CIFAR).")
    String augment;

    @Option(names = "--train-size", description = "Train on a fixed random subset of N training samples.")
    Integer trainSize;

    @Option(names = "--test-size", description = "Evaluate on a fixed random subset of N test samples.")
    Integer testSize;

    @Option(names = "--out", description = "Output folder (default: runs/experiment-NAME). A rerun with the same folder skips finished cells.")
    Path out;

    @Option(names = "--progress", defaultValue = "auto", description = "auto, bar, lines or off: the display of each training run (default: ${DEFAULT-VALUE}).")
    String progress;

    @Option(names = "--threads", description = "Worker threads (default: all cores, or -Dshears.threads).")
    Integer threads;

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
        Path dir = out != null ? out : Path.of("runs", "experiment-" + (recipe != null ? recipe : plan.model() + "-" + plan.dataset()));
        if (dryRun) {
            dryRun(plan, dir);
            return;
        }
        Progress.Mode mode = progressMode(progress);
        String command = "shears experiment " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        Sweep sweep = new Sweep(plan, dir, log).progress(mode).context(Report.Context.of(List.of()).withCommand(command));
        Sweep.Outcome o = sweep.run();
        System.out.println();
        System.out.print(ConsoleTable.table(plan, Summary.of(plan, o.cells())));
        for (String f : Findings.of(plan, Summary.of(plan, o.cells()), o.cells())) System.out.println("- " + f);
        System.out.printf(Locale.ROOT, "%n%d cells (%d run now, %d reused). Results: %s (results.csv, results.json, report.md, plots)%n", o.cells().size(), o.ran(),
                o.reused(), dir.toAbsolutePath());
    }

    /** The plan: the recipe (or the defaults) with every option the user gave applied over it. */
    Plan plan() {
        ParseResult pr = spec.commandLine().getParseResult();
        Plan base;
        if (recipe != null) {
            base = Recipes.get(recipe);
        } else {
            if (model == null && dense == null) throw new IllegalArgumentException("give --recipe NAME or --model NAME (e.g. --model lenet5); recipes: " + String.join(", ", Recipes.names()));
            Stage d = Stage.sgd(10, 128, 0.1, 0.9, false, 5e-4);
            Stage f = Stage.sgd(5, 128, 0.01, 0.9, false, 5e-4);
            base = new Plan("custom", model, Map.of(), dataset, null, null, null, "auto", d, f, List.of(), List.of("global", "uniform"),
                    List.of(0.5, 0.8, 0.9, 0.95, 0.98, 0.99), List.of(0L), null, "paper", null, List.of());
        }
        String m = model != null ? model : base.model();
        Map<String, String> opts = new LinkedHashMap<>(base.modelOptions());
        opts.putAll(modelOptions);
        if (dense != null) {
            if (!Files.isRegularFile(dense)) throw new IllegalArgumentException("--dense " + dense + " does not exist");
            try (Checkpoint ck = Checkpoint.read(dense)) {
                Map<String, String> s = ck.spec();
                m = s.get("model");
                opts.clear();
                for (Map.Entry<String, String> e : s.entrySet()) {
                    if (!List.of("model", "channels", "height", "width", "classes", "seed").contains(e.getKey())) opts.put(e.getKey(), e.getValue());
                }
            }
        }
        Stage d = override(base.dense(), pr, denseEpochs, lr);
        Stage f = override(base.finetune(), pr, finetuneEpochs, finetuneLr);
        if (finetuneSamples != null) f = f.withSamplesPerEpoch(finetuneSamples);
        List<Plan.Rule> rules = new ArrayList<>();
        for (Plan.Rule r : base.rules()) {
            Stage s = override(r.stage(), pr, finetuneEpochs, finetuneLr);
            rules.add(new Plan.Rule(r.method(), r.sparsity(), finetuneSamples != null ? s.withSamplesPerEpoch(finetuneSamples) : s));
        }
        List<String> ms = methods == null ? base.methods() : methods.stream().map(Methods::normalize).toList();
        String mtValue = mt != null ? mt : base.mt();
        List<String> notes = new ArrayList<>(base.notes());
        List<String> changed = new ArrayList<>();
        for (String o : List.of("--model", "--model-option", "--dataset", "--data", "--methods", "--sparsities", "--seeds", "--mt", "--mt-mode", "--dense",
                "--dense-epochs", "--finetune-epochs", "--finetune-samples", "--batch", "--optimizer", "--lr", "--finetune-lr", "--momentum", "--nesterov", "--weight-decay",
                "--schedule", "--warmup-epochs", "--label-smoothing", "--augment", "--train-size", "--test-size")) {
            if (pr.hasMatchedOption(o)) changed.add(o);
        }
        if (recipe != null && !changed.isEmpty()) notes.add("Changed from the recipe by " + String.join(", ", changed) + " (see the command).");
        return new Plan(recipe != null ? recipe : "custom", m, opts, pr.hasMatchedOption("--dataset") || recipe == null ? dataset : base.dataset(),
                data != null ? data : base.dataDir(), trainSize != null ? trainSize : base.trainSize(), testSize != null ? testSize : base.testSize(),
                augment != null ? augment : base.augment(), d, f, rules, ms, sparsities != null ? sparsities : base.sparsities(),
                seeds != null ? seeds : base.seeds(), mtValue, mtMode != null ? mtMode : base.mtMode(), dense, notes);
    }

    private Stage override(Stage s, ParseResult pr, Integer epochs, Double rate) {
        Stage o = s;
        if (epochs != null) o = o.withEpochs(epochs);
        if (rate != null) o = o.withLr(rate);
        if (batch != null) o = o.withBatch(batch);
        if (optimizer != null) o = o.withOptimizer(optimizer);
        if (momentum != null || nesterov != null) o = o.withMomentum(momentum != null ? momentum : o.momentum(), nesterov != null ? nesterov : o.nesterov());
        if (weightDecay != null) o = o.withWeightDecay(weightDecay);
        if (schedule != null) o = o.withSchedule(schedule, true);
        if (warmup != null) o = o.withWarmup(warmup);
        if (labelSmoothing != null) o = o.withLabelSmoothing(labelSmoothing);
        return o;
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
        CellStore.Loaded done = new CellStore(dir).load(plan.fingerprint());
        long finished = plan.cells().stream().filter(c -> done.cells().containsKey(c.key())).count();
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
}
