package dev.shears.cli;

import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The training-recipe options of {@code shears train} as a picocli mixin, for commands that
 * fine-tune or train after something else ({@code shears prune}): data, batch, optimizer, LR
 * schedule, label smoothing, seed, progress, threads. Same names and defaults as train, except
 * the LR schedule is {@code --lr-schedule} (in prune, {@code --schedule} is the pruning
 * schedule). Only parses and checks; the epochs and run folder come from the command. Pinned by
 * PruneCliTest.
 */
final class RecipeOptions {
    @Option(names = "--dataset", description = "Dataset name (default: the one the checkpoint was trained on, else fashion-mnist).")
    String dataset;

    @Option(names = "--data", description = "Data folder (default: the checkpoint's, else the dataset's built-in source).")
    Path data;

    @Option(names = "--batch", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--optimizer", defaultValue = "sgd", description = "sgd or adam (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", defaultValue = "0.1", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum.")
    boolean nesterov;

    @Option(names = "--weight-decay", defaultValue = "5e-4", description = "L2 weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--no-decay-norm-bias", description = "Exempt biases and batch-norm parameters from weight decay.")
    boolean noDecayNormBias;

    @Option(names = "--adamw", description = "Adam with decoupled weight decay (AdamW).")
    boolean adamw;

    @Option(names = "--lr-schedule", defaultValue = "cosine", description = "cosine, step or constant (default: ${DEFAULT-VALUE}).")
    String lrSchedule;

    @Option(names = "--schedule-per-epoch", description = "Cosine: change the rate once per epoch instead of every step.")
    boolean perEpoch;

    @Option(names = "--milestones", split = ",", description = "Step schedule: epochs where the rate is multiplied by --gamma.")
    int[] milestones;

    @Option(names = "--gamma", defaultValue = "0.1", description = "Step schedule factor (default: ${DEFAULT-VALUE}).")
    double gamma;

    @Option(names = "--warmup-epochs", defaultValue = "0", description = "Linear warm-up epochs (default: ${DEFAULT-VALUE}).")
    int warmupEpochs;

    @Option(names = "--label-smoothing", defaultValue = "0", description = "Label smoothing of the training loss (default: ${DEFAULT-VALUE}).")
    double labelSmoothing;

    @Option(names = "--mask-gradients", description = "Also zero gradients and optimizer state of pruned weights (they are always re-zeroed after each step).")
    boolean maskGradients;

    @Option(names = "--augment", defaultValue = "auto", description = "none, crop-flip or auto (default: ${DEFAULT-VALUE}).")
    String augment;

    @Option(names = "--train-size", description = "Use a fixed random subset of N training images (quick runs).")
    Integer trainSize;

    @Option(names = "--test-size", description = "Use a fixed random subset of N test images (quick runs).")
    Integer testSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of data order, augmentation, dropout, random scores and new models (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--progress", defaultValue = "auto", description = "auto, bar, lines or off (default: ${DEFAULT-VALUE}).")
    String progress;

    @Option(names = "--threads", description = "Worker threads (default: all cores, or -Dshears.threads).")
    Integer threads;

    /** The recipe for {@code epochs} epochs writing into {@code runDir}. */
    TrainConfig recipe(int epochs, Path runDir, String epochsOption) {
        require(epochs >= 1, epochsOption + " must be >= 1, got " + epochs);
        require(batch >= 1, "--batch must be >= 1, got " + batch);
        require(lr > 0 && Double.isFinite(lr), "--lr must be > 0, got " + lr);
        require(warmupEpochs >= 0 && (warmupEpochs == 0 || warmupEpochs < epochs),
                "--warmup-epochs must be >= 0 and below " + epochsOption + " (" + epochs + "), got " + warmupEpochs);
        require(labelSmoothing >= 0 && labelSmoothing < 1, "--label-smoothing must be in [0, 1), got " + labelSmoothing);
        OptimizerConfig opt = switch (optimizer.trim().toLowerCase(Locale.ROOT)) {
            case "sgd" -> {
                require(!adamw, "--adamw applies to --optimizer adam");
                require(!nesterov || momentum > 0, "--nesterov needs --momentum > 0");
                yield OptimizerConfig.sgd(momentum, nesterov, weightDecay);
            }
            case "adam" -> {
                require(!nesterov, "--nesterov applies to --optimizer sgd");
                yield OptimizerConfig.adam(weightDecay).withDecoupled(adamw);
            }
            default -> throw new UserError("--optimizer must be sgd or adam, got '" + optimizer + "'");
        };
        opt = opt.withDecayNormAndBias(!noDecayNormBias).withMaskGradients(maskGradients);
        Schedule s = switch (lrSchedule.trim().toLowerCase(Locale.ROOT)) {
            case "cosine" -> Schedule.cosine(lr, epochs, warmupEpochs, !perEpoch);
            case "step" -> Schedule.step(lr, epochs, warmupEpochs, milestones, gamma);
            case "constant" -> Schedule.constant(lr, epochs, warmupEpochs);
            default -> throw new UserError("--lr-schedule must be cosine, step or constant, got '" + lrSchedule + "'");
        };
        require(milestones == null || s.kind() == Schedule.Kind.STEP, "--milestones applies to --lr-schedule step");
        return new TrainConfig(epochs, batch, opt, s, labelSmoothing, seed, runDir, progressMode());
    }

    Progress.Mode progressMode() {
        return TrainCommand.enumOption("--progress", progress, Progress.Mode.class);
    }

    /**
     * The data keys a run stores (as train does): the dataset and subsets given here, else those of
     * the checkpoint's metadata ({@code fallback}), else fashion-mnist.
     */
    Map<String, String> dataMetadata(Map<String, String> fallback) {
        Map<String, String> m = new LinkedHashMap<>();
        boolean own = dataset != null || data != null || !fallback.containsKey(TrainCommand.DATA_NAME);
        if (own) {
            m.put(TrainCommand.DATA_NAME, dataset != null ? dataset : fallback.getOrDefault(TrainCommand.DATA_NAME, "fashion-mnist"));
            if (data != null) m.put(TrainCommand.DATA_DIR, data.toAbsolutePath().toString());
        } else {
            m.put(TrainCommand.DATA_NAME, fallback.get(TrainCommand.DATA_NAME));
            if (fallback.containsKey(TrainCommand.DATA_DIR)) m.put(TrainCommand.DATA_DIR, fallback.get(TrainCommand.DATA_DIR));
        }
        m.put(TrainCommand.DATA_AUGMENT, augment);
        String train = trainSize != null ? trainSize.toString() : own ? null : fallback.get(TrainCommand.DATA_TRAIN_SIZE);
        String test = testSize != null ? testSize.toString() : own ? null : fallback.get(TrainCommand.DATA_TEST_SIZE);
        if (train != null) m.put(TrainCommand.DATA_TRAIN_SIZE, train);
        if (test != null) m.put(TrainCommand.DATA_TEST_SIZE, test);
        return m;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new UserError(message);
    }
}
