package dev.shears.cli;

import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The training options that {@code shears train} and the commands that train after something else
 * ({@code shears prune} through {@link RecipeOptions}) share: batch, optimizer, learning rate and
 * its schedule's shape, label smoothing, data subsets and augmentation, seed, progress, threads.
 * One definition, so names, defaults and meaning cannot drift apart; each command keeps what
 * differs (the data options, the schedule's option name, epochs, the run folder). Builds the
 * optimizer and the schedule; the command checks epochs. Pinned by TrainingOptionsTest, TrainCliTest
 * and PruneCliTest.
 */
abstract class TrainingOptions {
    @Option(order = 1, names = "--batch", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(order = 1, names = "--optimizer", defaultValue = "sgd", description = "sgd or adam (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(order = 1, names = "--lr", defaultValue = "0.1", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(order = 1, names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(order = 1, names = "--nesterov", description = "Nesterov momentum.")
    boolean nesterov;

    @Option(order = 1, names = "--weight-decay", defaultValue = "5e-4", description = "L2 weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(order = 1, names = "--no-decay-norm-bias", description = "Exempt biases and batch-norm parameters from weight decay (PyTorch's default decays all).")
    boolean noDecayNormBias;

    @Option(order = 1, names = "--adamw", description = "Adam with decoupled weight decay (AdamW).")
    boolean adamw;

    @Option(order = 1, names = "--schedule-per-epoch", description = "Cosine: change the rate once per epoch instead of every step.")
    boolean perEpoch;

    @Option(order = 1, names = "--milestones", split = ",", description = "Step schedule: epochs where the rate is multiplied by --gamma (default: 50%% and 75%% of --epochs).")
    int[] milestones;

    @Option(order = 1, names = "--gamma", defaultValue = "0.1", description = "Step schedule factor (default: ${DEFAULT-VALUE}).")
    double gamma;

    @Option(order = 1, names = "--warmup-epochs", defaultValue = "0", description = "Linear warm-up epochs (default: ${DEFAULT-VALUE}).")
    int warmupEpochs;

    @Option(order = 1, names = "--label-smoothing", defaultValue = "0", description = "Label smoothing of the training loss (default: ${DEFAULT-VALUE}).")
    double labelSmoothing;

    @Option(order = 1, names = "--mask-gradients", description = "Also zero gradients and optimizer state of pruned weights (they are always re-zeroed after each step).")
    boolean maskGradients;

    @Option(order = 1, names = "--augment", defaultValue = "auto", description = "none, crop-flip (pad 4, random crop, horizontal flip) or auto: crop-flip for CIFAR, none otherwise (default: ${DEFAULT-VALUE}).")
    String augment;

    @Option(order = 1, names = "--train-size", description = "Train on a fixed random subset of N training images (quick runs).")
    Integer trainSize;

    @Option(order = 1, names = "--test-size", description = "Evaluate on a fixed random subset of N test images (quick runs).")
    Integer testSize;

    @Option(order = 1, names = "--seed", defaultValue = "0", description = "Seed of weights, data order, augmentation, dropout and random scores (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(order = 1, names = "--progress", defaultValue = "auto", description = "auto, bar, lines or off (default: ${DEFAULT-VALUE}).")
    String progress;

    @Option(order = 1, names = "--threads", description = "Worker threads (default: all cores, or -Dshears.threads).")
    Integer threads;

    /** The optimizer these options describe (combinations that do not apply are errors naming the options). */
    OptimizerConfig optimizerConfig() {
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
        return opt.withDecayNormAndBias(!noDecayNormBias).withMaskGradients(maskGradients);
    }

    /** The learning-rate schedule {@code name} (the value of {@code option}) over {@code epochs}. */
    Schedule schedule(String name, String option, int epochs) {
        Schedule s = switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cosine" -> Schedule.cosine(lr, epochs, warmupEpochs, !perEpoch);
            case "step" -> Schedule.step(lr, epochs, warmupEpochs, milestones, gamma);
            case "constant" -> Schedule.constant(lr, epochs, warmupEpochs);
            default -> throw new UserError(option + " must be cosine, step or constant, got '" + name + "'");
        };
        require(milestones == null || s.kind() == Schedule.Kind.STEP, "--milestones applies to " + option + " step");
        return s;
    }

    static void require(boolean ok, String message) {
        if (!ok) throw new UserError(message);
    }
}
