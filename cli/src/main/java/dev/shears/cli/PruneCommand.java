package dev.shears.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.shears.datasets.Augment;
import dev.shears.datasets.Dataset;
import dev.shears.datasets.DatasetException;
import dev.shears.datasets.Splits;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.io.AtomicFiles;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.train.Evaluator;
import dev.shears.nn.train.LoaderSource;
import dev.shears.nn.train.TrainConfig;
import dev.shears.nn.train.TrainResult;
import dev.shears.nn.train.Trainer;
import dev.shears.pruning.CubicSchedule;
import dev.shears.pruning.GradualPruning;
import dev.shears.pruning.MinimumThreshold;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import dev.shears.pruning.SparsityReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shears prune}: loads a checkpoint (or builds an untrained zoo model for gradual pruning),
 * prunes it by method name to a sparsity, writes the pruned checkpoint with its masks
 * ({@code pruned.safetensors}), the report ({@code report.json}, {@code report.csv}, printed as a
 * table) and a summary ({@code prune.json}), and fine-tunes with the masks fixed (the trainer's
 * {@code last.safetensors}, {@code best.safetensors}, {@code metrics.csv}; iterative rounds in
 * {@code round-R/}). Schedules: one-shot, iterative (geometric sparsity per round), and
 * {@code --method gradual-global} (cubic schedule inside training). Wires options to the pruning
 * API ({@link Pruning}); impossible options are one line. Pinned by PruneCliTest.
 */
@Command(name = "prune", mixinStandardHelpOptions = true, description = "Prune a checkpoint (Global MP and baselines), fine-tune with masks fixed, report sparsity and FLOPs.",
        sortOptions = false)
final class PruneCommand implements Runnable {
    static final List<String> EXTRA_METHODS = List.of("gradual-global", "rank");
    static final String PRUNED = "pruned.safetensors", REPORT_JSON = "report.json", REPORT_CSV = "report.csv", SUMMARY = "prune.json";

    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "The checkpoint to prune (a .safetensors written by shears train).")
    Path checkpoint;

    @Option(names = "--model", description = "gradual-global only: start from an untrained zoo model instead of a checkpoint.")
    String model;

    @Option(names = "--model-option", description = "Model option KEY=VALUE for --model; repeatable.")
    Map<String, String> modelOptions = new LinkedHashMap<>();

    @Option(names = "--method", required = true, description = "global, global-mt, uniform, erk, random, lamp, snip, grasp, synflow, gradual-global or rank.")
    String method;

    @Option(names = "--sparsity", description = "Fraction of prunable weights to remove, in [0, 1), e.g. 0.9.")
    Double sparsity;

    @Option(names = "--mt", description = "Minimum Threshold: every layer keeps at least M weights; a count (500) or a percent of all prunable weights (0.05%%).")
    String mt;

    @Option(names = "--mt-mode", defaultValue = "exact", description = "exact (top-M per layer protected, one global threshold, exactly k) or paper (the authors' reallocation) (default: ${DEFAULT-VALUE}).")
    String mtMode;

    @Option(names = "--keep-first-dense", description = "uniform: leave the first prunable layer dense.")
    boolean keepFirstDense;

    @Option(names = "--schedule", defaultValue = "one-shot", description = "one-shot or iterative (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--rounds", defaultValue = "3", description = "iterative: rounds of prune and fine-tune, sparsity 1-(1-s)^(r/n) (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--finetune-epochs", defaultValue = "0", description = "Fine-tuning epochs after pruning (per round when iterative; default: ${DEFAULT-VALUE}, none).")
    int finetuneEpochs;

    @Option(names = "--epochs", description = "gradual-global: epochs of the training run that prunes.")
    Integer epochs;

    @Option(names = "--gradual-start", defaultValue = "0.2", description = "gradual-global: fraction of the run where pruning starts (default: ${DEFAULT-VALUE}).")
    double gradualStart;

    @Option(names = "--gradual-end", defaultValue = "0.8", description = "gradual-global: fraction of the run where the target is reached (default: ${DEFAULT-VALUE}).")
    double gradualEnd;

    @Option(names = "--gradual-events", defaultValue = "100", description = "gradual-global: at most this many threshold updates (default: ${DEFAULT-VALUE}).")
    int gradualEvents;

    @Option(names = "--score-batches", defaultValue = "1", description = "snip, grasp: batches of training data the gradient averages (default: ${DEFAULT-VALUE}).")
    int scoreBatches;

    @Option(names = "--synflow-rounds", defaultValue = "100", description = "synflow: pruning rounds (default: ${DEFAULT-VALUE}, as the paper).")
    int synflowRounds;

    @Option(names = "--grasp-step", defaultValue = "1e-3", description = "grasp: finite-difference step, ||eps*g|| / ||w|| (default: ${DEFAULT-VALUE}).")
    double graspStep;

    @Option(names = "--rank-w", description = "rank: target rank of FastGRNN's W.")
    Integer rankW;

    @Option(names = "--rank-u", description = "rank: target rank of FastGRNN's U.")
    Integer rankU;

    @Option(names = "--rank-score", defaultValue = "first-factor", description = "rank: first-factor, second-factor or product (default: ${DEFAULT-VALUE}).")
    String rankScore;

    @Option(names = "--out", required = true, paramLabel = "RUN_DIR", description = "Run folder for the pruned checkpoint, report and fine-tuning metrics.")
    Path out;

    @Mixin
    RecipeOptions recipe;

    @Override
    public void run() {
        TrainCommand.applyThreads(recipe.threads);
        String name = method.trim().toLowerCase(Locale.ROOT);
        if (!Pruning.METHODS.contains(name) && !EXTRA_METHODS.contains(name)) {
            List<String> all = new ArrayList<>(Pruning.METHODS);
            all.addAll(EXTRA_METHODS);
            throw new UserError("unknown --method '" + method + "'; expected one of " + String.join(", ", all));
        }
        boolean gradual = name.equals("gradual-global"), rank = name.equals("rank");
        checkOptions(name, gradual, rank);
        if (Files.exists(out.resolve(PRUNED)) || Files.exists(out.resolve(REPORT_JSON)) || Files.exists(out.resolve(Trainer.LAST))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        PruneOptions opts = options(name);
        if (finetuneEpochs > 0) recipe.recipe(finetuneEpochs, out, "--finetune-epochs"); // check the recipe before any work
        if (gradual) recipe.recipe(epochs, out, "--epochs");
        String sched = schedule.trim().toLowerCase(Locale.ROOT);
        boolean needData = finetuneEpochs > 0 || gradual || Pruning.DATA_METHODS.contains(name);
        try (Workspace masks = new Workspace("prune-masks"); Loaded loaded = load(gradual)) {
            Model net = loaded.model();
            Map<String, String> dataMeta = recipe.dataMetadata(loaded.metadata());
            Splits splits = null;
            if (needData) {
                splits = TrainCommand.openData(dataMeta);
                checkShape(net, splits.train());
            }
            JsonObject summary = new JsonObject();
            summary.addProperty("method", name);
            summary.addProperty("sparsity", sparsity);
            summary.addProperty("schedule", gradual ? "gradual" : sched);
            if (opts.mt() != null) summary.addProperty("mt", opts.mt().toString());
            summary.addProperty("source", checkpoint != null ? checkpoint.toAbsolutePath().toString() : "untrained " + net.spec().get("model"));
            Map<String, String> meta = new LinkedHashMap<>(dataMeta);
            meta.put("pruning", summary.toString());
            try (LoaderSource train = splits == null ? null : LoaderSource.training(splits.train(), recipe.batch, recipe.seed,
                         TrainCommand.augmentFor(dataMeta.get(TrainCommand.DATA_AUGMENT), dataMeta.get(TrainCommand.DATA_NAME), splits.train()));
                 LoaderSource scores = splits == null || !Pruning.DATA_METHODS.contains(name) ? null
                         : LoaderSource.training(splits.train(), recipe.batch, recipe.seed, Augment.none());
                 LoaderSource test = splits == null ? null : LoaderSource.evaluation(splits.test(), recipe.batch)) {
                if (test != null && !gradual) summary.addProperty("accuracy_before", Evaluator.evaluate(net, test).accuracy());
                long t0 = System.nanoTime();
                if (gradual) {
                    gradual(net, opts, train, test, masks, meta, summary);
                } else if (sched.equals("iterative")) {
                    for (int r = 1; r <= rounds; r++) {
                        double s = Pruning.geometricSparsity(sparsity, r, rounds);
                        Pruning.Outcome o = Pruning.pruneWithResult(net, name, s, opts, scores, masks);
                        System.out.printf(Locale.ROOT, "round %d/%d: pruned to %.4f (%s)%n", r, rounds, o.report().sparsity(), name);
                        if (finetuneEpochs > 0) fineTune(net, train, test, recipe.recipe(finetuneEpochs, out.resolve("round-" + r), "--finetune-epochs"), meta);
                        note(summary, o);
                    }
                } else {
                    if (rank) {
                        String line = RankCli.prune(net, rankW, rankU, rankScore, masks);
                        summary.addProperty("rank", line);
                        System.out.println(line);
                    } else {
                        note(summary, Pruning.pruneWithResult(net, name, sparsity, opts, scores, masks));
                    }
                    summary.addProperty("prune_seconds", (System.nanoTime() - t0) / 1e9);
                    Checkpoint.save(out.resolve(PRUNED), net, null, meta);
                    if (test != null) summary.addProperty("accuracy_pruned", Evaluator.evaluate(net, test).accuracy());
                    if (finetuneEpochs > 0) {
                        TrainResult r = fineTune(net, train, test, recipe.recipe(finetuneEpochs, out, "--finetune-epochs"), meta);
                        summary.addProperty("accuracy_finetuned_last", r.last().testAcc());
                        summary.addProperty("accuracy_finetuned_best", r.best().testAcc());
                    }
                }
                if (!Files.exists(out.resolve(PRUNED))) Checkpoint.save(out.resolve(PRUNED), net, null, meta);
            }
            SparsityReport report = Pruning.report(net);
            summary.addProperty("pruned_weights", report.weights() - report.kept());
            summary.addProperty("weights", report.weights());
            summary.addProperty("sparsity_reached", report.sparsity());
            summary.addProperty("flops_pruned", report.flopsPruned());
            summary.addProperty("fatal_collapse", report.fatalCollapse());
            try {
                report.writeJson(out.resolve(REPORT_JSON));
                report.writeCsv(out.resolve(REPORT_CSV));
            } catch (IOException e) {
                throw new UncheckedIOException(out + ": cannot write the report: " + e.getMessage(), e);
            }
            AtomicFiles.writeString(out.resolve(SUMMARY), new GsonBuilder().setPrettyPrinting().create().toJson(summary) + "\n");
            System.out.print(report.table());
            System.out.println("run folder: " + out + " (" + PRUNED + ", " + REPORT_JSON + ", " + REPORT_CSV + ", " + SUMMARY
                    + (finetuneEpochs > 0 || gradual ? ", " + Trainer.LAST + ", metrics.csv" : "") + ")");
        } catch (DatasetException e) {
            throw new UserError(e.getMessage());
        }
    }

    private static void note(JsonObject summary, Pruning.Outcome o) {
        if (!o.note().isEmpty()) {
            summary.addProperty("note", o.note());
            System.out.println("note: " + o.note());
        }
    }

    private TrainResult fineTune(Model net, LoaderSource train, LoaderSource test, TrainConfig config, Map<String, String> meta) {
        try (Trainer t = new Trainer(net, config).metadata(meta)) {
            return t.fit(train, test);
        } catch (IllegalStateException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("training diverged")) throw new UserError(e.getMessage());
            throw e;
        }
    }

    private void gradual(Model net, PruneOptions opts, LoaderSource train, LoaderSource test, Workspace masks, Map<String, String> meta, JsonObject summary) {
        TrainConfig config = recipe.recipe(epochs, out, "--epochs");
        long steps = (long) epochs * train.batchesPerEpoch();
        CubicSchedule c = CubicSchedule.forRun(sparsity, steps, gradualStart, gradualEnd, gradualEvents);
        summary.addProperty("gradual", String.format(Locale.ROOT, "s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3, s_i = 0, s_f = %s, t0 = %d, dt = %d, n = %d of %d steps",
                sparsity, c.start(), c.every(), c.events(), steps));
        System.out.println("gradual Global MP: " + summary.get("gradual").getAsString());
        GradualPruning g = new GradualPruning(net, "global", c, opts, null, masks);
        try (Trainer t = new Trainer(net, config).metadata(meta).listener(g)) {
            TrainResult r = t.fit(train, test);
            summary.addProperty("accuracy_last", r.last().testAcc());
            summary.addProperty("accuracy_best", r.best().testAcc());
        }
        summary.addProperty("pruning_events", g.events().size());
    }

    /** A model, the metadata of the checkpoint it came from (empty for a new model), and the owner of the masks it had. */
    private record Loaded(Model model, Map<String, String> metadata, Workspace masks) implements AutoCloseable {
        @Override
        public void close() {
            try {
                model.close();
            } finally {
                if (masks != null) masks.close();
            }
        }
    }

    private Loaded load(boolean gradual) {
        if (checkpoint != null) {
            if (!Files.isRegularFile(checkpoint)) throw new UserError("--checkpoint " + checkpoint + ": no such file");
            try (Checkpoint ck = Checkpoint.read(checkpoint)) {
                Model m = ModelZoo.create(ck.spec());
                Workspace owner = new Workspace("checkpoint-masks");
                try {
                    ck.restoreModel(m, owner);
                } catch (RuntimeException e) {
                    m.close();
                    owner.close();
                    throw e;
                }
                return new Loaded(m, Map.copyOf(ck.metadata()), owner);
            }
        }
        Map<String, String> none = Map.of();
        Splits s = TrainCommand.openData(recipe.dataMetadata(none));
        return new Loaded(ModelZoo.create(model, TrainCommand.modelConfig(s.train(), recipe.seed, modelOptions)), none, null);
    }

    /** The checked option combinations, each a one-line error. */
    private void checkOptions(String name, boolean gradual, boolean rank) {
        if (rank) {
            if (rankW == null || rankU == null) throw new UserError("--method rank needs --rank-w and --rank-u (target ranks of W and U)");
            if (sparsity != null) throw new UserError("--method rank prunes to ranks (--rank-w, --rank-u), not to a --sparsity");
        } else {
            if (sparsity == null) throw new UserError("--sparsity is required (the fraction of prunable weights to remove, e.g. 0.9)");
            if (!(sparsity >= 0 && sparsity < 1)) throw new UserError("--sparsity must be in [0, 1), got " + sparsity);
            if (rankW != null || rankU != null) throw new UserError("--rank-w and --rank-u apply to --method rank");
        }
        if (gradual) {
            if (epochs == null) throw new UserError("--method gradual-global trains while it prunes: give --epochs");
            if (checkpoint == null && model == null) throw new UserError("--method gradual-global needs --model (untrained) or --checkpoint");
            if (checkpoint != null && model != null) throw new UserError("give --model or --checkpoint, not both");
            if (finetuneEpochs > 0) throw new UserError("--finetune-epochs applies to one-shot and iterative; gradual-global trains for --epochs");
        } else {
            if (checkpoint == null) {
                throw new UserError("--checkpoint is required" + (model != null ? " (--model applies to --method gradual-global)" : " (a dense checkpoint from shears train)"));
            }
            if (model != null) throw new UserError("--model applies to --method gradual-global; prune a --checkpoint");
            if (epochs != null) throw new UserError("--epochs applies to --method gradual-global; fine-tuning length is --finetune-epochs");
        }
        if (finetuneEpochs < 0) throw new UserError("--finetune-epochs must be >= 0, got " + finetuneEpochs);
        String sched = schedule.trim().toLowerCase(Locale.ROOT);
        if (!sched.equals("one-shot") && !sched.equals("iterative")) throw new UserError("--schedule must be one-shot or iterative, got '" + schedule + "'");
        if ((gradual || rank) && sched.equals("iterative")) throw new UserError("--schedule iterative does not apply to --method " + name);
        if (sched.equals("iterative") && rounds < 1) throw new UserError("--rounds must be >= 1, got " + rounds);
        if (sched.equals("iterative") && name.equals("synflow")) throw new UserError("synflow is iterative on its own (--synflow-rounds); use --schedule one-shot");
        if (!sched.equals("iterative") && spec.commandLine().getParseResult().hasMatchedOption("--rounds")) throw new UserError("--rounds applies to --schedule iterative");
        if (mt != null && !name.equals("global") && !name.equals("global-mt") && !gradual) throw new UserError("--mt applies to methods global, global-mt and gradual-global, not " + name);
        if (mt == null && name.equals("global-mt")) throw new UserError("--method global-mt needs --mt (a count like 500 or a percent like 0.05%)");
        if (keepFirstDense && !name.equals("uniform")) throw new UserError("--keep-first-dense applies to --method uniform, not " + name);
    }

    private PruneOptions options(String name) {
        PruneOptions o;
        try {
            o = PruneOptions.DEFAULT.withSeed(recipe.seed).withKeepFirstDense(keepFirstDense).withScoreBatches(scoreBatches)
                    .withSynflowRounds(synflowRounds).withGraspStep(graspStep);
            if (mt != null) o = o.withMt(MinimumThreshold.parse(mt, MinimumThreshold.Mode.parse(mtMode)));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        return o;
    }

    private static void checkShape(Model net, Dataset d) {
        int[] s = d.sampleShape();
        if (s.length == 2) s = new int[] {1, s[0], s[1]}; // a sequence (T, F) is 1 x T x F to the zoo (fastgrnn, gru)
        Map<String, String> spec = net.spec();
        String c = spec.get("channels"), h = spec.get("height"), w = spec.get("width"), k = spec.get("classes");
        boolean ok = s.length == 3 && Integer.toString(s[0]).equals(c) && Integer.toString(s[1]).equals(h) && Integer.toString(s[2]).equals(w)
                && Integer.toString(d.classes()).equals(k);
        if (!ok) {
            throw new UserError("the model " + spec.get("model") + " takes " + c + "x" + h + "x" + w + " inputs and " + k + " classes, but " + d.name()
                    + " has samples " + Arrays.toString(s) + " and " + d.classes() + " classes; give the dataset it was trained on (--dataset)");
        }
    }
}
