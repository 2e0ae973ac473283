package dev.shears.cli.experiment;

import dev.shears.nn.io.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/**
 * The options that make an experiment's plan (a recipe and the user's overrides), as a picocli
 * mixin shared by {@code shears experiment} (which runs the plan) and {@code shears experiment
 * submit} (which hands it to a scheduler's workers, and so needs the same options back as
 * arguments: {@link #arguments}). Only parses; {@link Plan} checks. Pinned by ExperimentCommandTest.
 */
final class PlanOptions {
    @Option(names = "--recipe", description = "A named recipe from the paper's appendix (see --list-recipes); other options override it.")
    String recipe;

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

    /** The plan: the recipe (or the defaults) with every option the user gave applied over it. */
    Plan plan(ParseResult pr) {
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

    /** The plan options given on this command line, as arguments again (for the workers' command). */
    static List<String> arguments(ParseResult pr) {
        List<String> out = new ArrayList<>();
        for (OptionSpec o : pr.matchedOptions()) {
            if (!NAMES.contains(o.longestName())) continue;
            List<String> values = o.originalStringValues();
            if (o.arity().max() == 0 || values.isEmpty()) {
                out.add(o.longestName());
                continue;
            }
            for (String v : values) {
                out.add(o.longestName());
                out.add(v);
            }
        }
        return out;
    }

    /** Every option of this mixin. */
    static final List<String> NAMES = List.of("--recipe", "--model", "--model-option", "--dataset", "--data", "--methods", "--sparsities", "--seeds", "--mt",
            "--mt-mode", "--dense", "--dense-epochs", "--finetune-epochs", "--finetune-samples", "--batch", "--optimizer", "--lr", "--finetune-lr", "--momentum",
            "--nesterov", "--weight-decay", "--schedule", "--warmup-epochs", "--label-smoothing", "--augment", "--train-size", "--test-size");
}
