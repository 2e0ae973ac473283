package dev.shears.cli;

import dev.shears.datasets.Augment;
import dev.shears.datasets.Dataset;
import dev.shears.datasets.DatasetException;
import dev.shears.datasets.Datasets;
import dev.shears.datasets.Splits;
import dev.shears.engine.EngineInfo;
import dev.shears.engine.Parallel;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.EpochMetrics;
import dev.shears.nn.train.LoaderSource;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import dev.shears.nn.train.TrainResult;
import dev.shears.nn.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shears train}: a zoo model on a dataset with SGD/Adam and a schedule, progress on stderr,
 * evaluation after every epoch, checkpoints and metrics in the run folder; {@code --resume DIR}
 * continues a run from its last checkpoint with the recipe stored there. Only parses options and
 * wires the pieces: the loop is {@link Trainer}. Pinned by CliTest.
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a zoo model (checkpoints, metrics, resume).", sortOptions = false)
final class TrainCommand extends TrainingOptions implements Runnable {
    /** Checkpoint metadata keys that let --resume and eval reopen the data. */
    static final String DATA_NAME = "data.name", DATA_DIR = "data.dir", DATA_AUGMENT = "data.augment";
    static final String DATA_TRAIN_SIZE = "data.train_size", DATA_TEST_SIZE = "data.test_size";

    @Spec
    CommandSpec spec;

    @Option(names = "--model", description = "Zoo model: ${COMPLETION-CANDIDATES}... e.g. lenet5, resnet20, resnet32.")
    String model;

    @Option(names = "--model-option", description = "Model option KEY=VALUE (e.g. shortcut=B, dropout=0.3); repeatable.")
    Map<String, String> modelOptions = new LinkedHashMap<>();

    @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "Dataset name (default: ${DEFAULT-VALUE}, the embedded subset without --data).")
    String dataset;

    @Option(names = "--data", description = "Data folder (default: the dataset's built-in source).")
    Path data;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--schedule", defaultValue = "cosine", description = "cosine, step or constant (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--out", description = "Run folder for checkpoints and metrics (default: runs/MODEL-DATASET-sSEED).")
    Path out;

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its last checkpoint (its recipe; --epochs may extend it).")
    Path resume;

    /** Options that make up the recipe; with --resume the checkpoint's recipe is used instead. */
    private static final List<String> RECIPE_OPTIONS = List.of("--model", "--model-option", "--dataset", "--data", "--batch", "--optimizer", "--lr",
            "--momentum", "--nesterov", "--weight-decay", "--no-decay-norm-bias", "--adamw", "--schedule", "--schedule-per-epoch", "--milestones",
            "--gamma", "--warmup-epochs", "--label-smoothing", "--mask-gradients", "--augment", "--train-size", "--test-size", "--seed", "--out");

    @Override
    public void run() {
        applyThreads(threads);
        Progress.Mode progressMode = enumOption("--progress", progress, Progress.Mode.class);
        TrainConfig config;
        Map<String, String> dataMeta = new LinkedHashMap<>();
        Map<String, String> modelSpec = null;
        if (resume != null) {
            for (String o : RECIPE_OPTIONS) {
                if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                    throw new UserError("option " + o + " cannot be combined with --resume: the run's recipe is in " + resume.resolve(Trainer.LAST)
                            + " (only --epochs, --progress and --threads may be given)");
                }
            }
            Trainer.Saved saved = Trainer.saved(resume);
            config = saved.config();
            if (spec.commandLine().getParseResult().hasMatchedOption("--epochs") && epochs != config.epochs()) config = config.withEpochs(epochs);
            config = config.withProgress(progressMode);
            for (String k : List.of(DATA_NAME, DATA_DIR, DATA_AUGMENT, DATA_TRAIN_SIZE, DATA_TEST_SIZE)) {
                if (saved.metadata().containsKey(k)) dataMeta.put(k, saved.metadata().get(k));
            }
            if (!dataMeta.containsKey(DATA_NAME)) throw new UserError(resume.resolve(Trainer.LAST) + " does not say which dataset it was trained on (no 'data.name' in its metadata)");
            modelSpec = saved.spec();
            if (saved.epochsDone() >= config.epochs()) {
                System.out.println("run in " + resume + " already has " + saved.epochsDone() + " of " + config.epochs() + " epochs; give --epochs N to extend it");
                return;
            }
        } else {
            if (model == null) throw new UserError("--model is required (e.g. --model resnet20); valid names: " + String.join(", ", ModelZoo.names()));
            config = recipe(progressMode);
            dataMeta.put(DATA_NAME, dataset);
            if (data != null) dataMeta.put(DATA_DIR, data.toAbsolutePath().toString());
            dataMeta.put(DATA_AUGMENT, augment);
            if (trainSize != null) dataMeta.put(DATA_TRAIN_SIZE, Integer.toString(trainSize));
            if (testSize != null) dataMeta.put(DATA_TEST_SIZE, Integer.toString(testSize));
        }
        Splits splits = openData(dataMeta);
        Augment aug = augmentFor(dataMeta.get(DATA_AUGMENT), dataMeta.get(DATA_NAME), splits.train());
        Model net = modelSpec != null ? ModelZoo.create(modelSpec) : ModelZoo.create(model, modelConfig(splits.train(), seed, modelOptions));
        try (net;
             LoaderSource train = LoaderSource.training(splits.train(), config.batchSize(), config.seed(), aug);
             LoaderSource test = LoaderSource.evaluation(splits.test(), config.batchSize()); // same batch: no second set of activations
             Trainer trainer = new Trainer(net, config).metadata(dataMeta)) {
            if (resume != null) trainer.resume(resume);
            System.out.println(header(net, splits, config, trainer.epochsDone()));
            TrainResult r = trainer.fit(train, test);
            EpochMetrics best = r.best(), last = r.last();
            System.out.printf(Locale.ROOT, "done: %d epochs; last test accuracy %.2f%% (loss %.4f); best %.2f%% at epoch %d%n", last.epoch(),
                    last.testAcc(), last.testLoss(), best.testAcc(), best.epoch());
            System.out.println("run folder: " + config.runDir() + " (" + Trainer.LAST + ", " + Trainer.BEST + ", metrics.csv, metrics.jsonl)");
        } catch (DatasetException e) {
            throw new UserError(e.getMessage());
        } catch (IllegalStateException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("training diverged")) throw new UserError(e.getMessage());
            throw e;
        }
    }

    private TrainConfig recipe(Progress.Mode progressMode) {
        require(epochs >= 1, "--epochs must be >= 1, got " + epochs);
        require(batch >= 1, "--batch must be >= 1, got " + batch);
        require(lr > 0 && Double.isFinite(lr), "--lr must be > 0, got " + lr);
        require(warmupEpochs >= 0, "--warmup-epochs must be >= 0, got " + warmupEpochs);
        require(warmupEpochs == 0 || warmupEpochs < epochs || !schedule.trim().equalsIgnoreCase("cosine"),
                "--warmup-epochs must be below --epochs (" + epochs + ") for a cosine schedule, got " + warmupEpochs);
        require(labelSmoothing >= 0 && labelSmoothing < 1, "--label-smoothing must be in [0, 1), got " + labelSmoothing);
        OptimizerConfig opt = optimizerConfig();
        Schedule s = schedule(schedule, "--schedule", epochs);
        Path dir = out != null ? out : Path.of("runs", model + "-" + dataset + "-s" + seed);
        if (Files.exists(dir.resolve(Trainer.LAST))) {
            throw new UserError(dir + " already holds a run (" + Trainer.LAST + "); continue it with --resume " + dir + " or choose another --out");
        }
        return new TrainConfig(epochs, batch, opt, s, labelSmoothing, seed, dir, progressMode);
    }

    private String header(Model net, Splits splits, TrainConfig c, int done) {
        long params = net.parameters().stream().mapToLong(Parameter::size).sum();
        String simd = EngineInfo.lines().stream().filter(l -> l.toLowerCase(Locale.ROOT).contains("simd")).findFirst().orElse("");
        return String.format(Locale.ROOT, "%s %s (%,d parameters) on %s: %,d train / %,d test images %s; %s, %s, batch %d, label smoothing %s, seed %d; %d threads%s%s",
                done > 0 ? "resuming at epoch " + (done + 1) + ":" : "training", net.spec().get("model"), params, splits.train().name(), splits.train().size(),
                splits.test().size(), Arrays.toString(splits.train().sampleShape()), describe(c.optimizer()), c.schedule(), c.batchSize(), c.labelSmoothing(), c.seed(),
                Parallel.threads(), simd.isEmpty() ? "" : "; ", simd.trim());
    }

    private static String describe(OptimizerConfig o) {
        return switch (o.kind()) {
            case SGD -> String.format(Locale.ROOT, "SGD momentum %s%s wd %s%s", o.momentum(), o.nesterov() ? " (Nesterov)" : "", o.weightDecay(),
                    o.decayNormAndBias() ? "" : " (not on norm/bias)");
            case ADAM -> String.format(Locale.ROOT, "%s wd %s%s", o.decoupled() ? "AdamW" : "Adam", o.weightDecay(), o.decayNormAndBias() ? "" : " (not on norm/bias)");
        };
    }

    // ---------------------------------------------------------------- shared with eval and bench

    /** The splits a run's data metadata names, subsets applied. */
    static Splits openData(Map<String, String> meta) {
        Splits s = openData(meta.get(DATA_NAME), meta.containsKey(DATA_DIR) ? Path.of(meta.get(DATA_DIR)) : null);
        Dataset train = subset(s.train(), meta.get(DATA_TRAIN_SIZE), "--train-size");
        Dataset test = subset(s.test(), meta.get(DATA_TEST_SIZE), "--test-size");
        return new Splits(train, test);
    }

    /** A fixed random subset (seed 0, independent of the run's seed), in index order. */
    private static Dataset subset(Dataset d, String size, String option) {
        if (size == null) return d;
        int n = Integer.parseInt(size);
        if (n < 1 || n > d.size()) throw new UserError(option + " must be from 1 to " + d.size() + " (the size of " + d.name() + "), got " + n);
        int[] idx = new int[d.size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        java.util.SplittableRandom r = new java.util.SplittableRandom(0);
        for (int i = idx.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int[] pick = Arrays.copyOf(idx, n);
        Arrays.sort(pick);
        return d.subset(d.name() + "-" + n, pick);
    }

    static Splits openData(String name, Path dir) {
        try {
            return Datasets.open(name, dir);
        } catch (DatasetException e) {
            throw new UserError(e.getMessage());
        }
    }

    static ModelConfig modelConfig(Dataset train, long seed, Map<String, String> options) {
        int[] s = train.sampleShape();
        if (s.length == 2) return new ModelConfig(1, s[0], s[1], train.classes(), seed, options); // a sequence (T, F): fastgrnn, gru
        if (s.length != 3) {
            throw new UserError("dataset '" + train.name() + "' has samples " + Arrays.toString(s) + "; the zoo's models take images (C, H, W) or sequences (T, F)");
        }
        return new ModelConfig(s[0], s[1], s[2], train.classes(), seed, options);
    }

    static Augment augmentFor(String choice, String dataName, Dataset train) {
        String c = choice == null ? "auto" : choice.trim().toLowerCase(Locale.ROOT);
        return switch (c) {
            case "none" -> Augment.none();
            case "crop-flip" -> Augment.cifar();
            case "auto" -> dataName.startsWith("cifar") ? Augment.cifar() : Augment.none();
            default -> throw new UserError("--augment must be none, crop-flip or auto, got '" + choice + "'");
        };
    }

    static void applyThreads(Integer threads) {
        if (threads == null) return;
        if (threads < 1 || threads > 1024) throw new UserError("--threads must be from 1 to 1024, got " + threads);
        System.setProperty("shears.threads", Integer.toString(threads));
        if (Parallel.threads() != threads) {
            throw new UserError("--threads " + threads + " came after the engine started with " + Parallel.threads()
                    + " threads; use SHEARS_JAVA_OPTS=-Dshears.threads=" + threads);
        }
    }

    static <E extends Enum<E>> E enumOption(String option, String value, Class<E> type) {
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError(option + " must be one of " + Arrays.stream(type.getEnumConstants()).map(x -> x.name().toLowerCase(Locale.ROOT)).toList()
                    + ", got '" + value + "'");
        }
    }
}
