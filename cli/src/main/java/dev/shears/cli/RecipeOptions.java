package dev.shears.cli;

import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The training-recipe options of {@code shears train} as a picocli mixin, for commands that
 * fine-tune or train after something else ({@code shears prune}): the options shared with train
 * ({@link TrainingOptions}, one definition) plus the data options and the LR schedule, which is
 * {@code --lr-schedule} here (in prune, {@code --schedule} is the pruning schedule). Only parses
 * and checks; the epochs and run folder come from the command. Pinned by PruneCliTest.
 */
final class RecipeOptions extends TrainingOptions {
    @Option(names = "--dataset", description = "Dataset name (default: the one the checkpoint was trained on, else fashion-mnist).")
    String dataset;

    @Option(names = "--data", description = "Data folder (default: the checkpoint's, else the dataset's built-in source).")
    Path data;

    @Option(names = "--lr-schedule", defaultValue = "cosine", description = "cosine, step or constant (default: ${DEFAULT-VALUE}).")
    String lrSchedule;

    /** The recipe for {@code epochs} epochs writing into {@code runDir}. */
    TrainConfig recipe(int epochs, Path runDir, String epochsOption) {
        require(epochs >= 1, epochsOption + " must be >= 1, got " + epochs);
        require(batch >= 1, "--batch must be >= 1, got " + batch);
        require(lr > 0 && Double.isFinite(lr), "--lr must be > 0, got " + lr);
        require(warmupEpochs >= 0 && (warmupEpochs == 0 || warmupEpochs < epochs),
                "--warmup-epochs must be >= 0 and below " + epochsOption + " (" + epochs + "), got " + warmupEpochs);
        require(labelSmoothing >= 0 && labelSmoothing < 1, "--label-smoothing must be in [0, 1), got " + labelSmoothing);
        OptimizerConfig opt = optimizerConfig();
        Schedule s = schedule(lrSchedule, "--lr-schedule", epochs);
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
}
