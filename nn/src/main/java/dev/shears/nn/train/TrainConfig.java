package dev.shears.nn.train;

import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import java.nio.file.Path;

/**
 * One training recipe. The schedule must span the same number of epochs as the run. {@code runDir}
 * (nullable) receives {@code last.safetensors} after every epoch, {@code best.safetensors},
 * {@code metrics.csv} and {@code metrics.jsonl}; without it nothing is written. Pinned by TrainerTest.
 *
 * @param epochs         total epochs of the run
 * @param batchSize      examples per batch (recorded; the batch source must agree)
 * @param optimizer      SGD or Adam hyper-parameters
 * @param schedule       learning-rate schedule over {@code epochs}
 * @param labelSmoothing training-loss label smoothing in [0, 1] (evaluation uses none)
 * @param seed           the run's seed (weights init, data order, dropout: each derived from it)
 * @param runDir         output folder, or null
 * @param progress       how progress is shown on stderr
 */
public record TrainConfig(int epochs, int batchSize, OptimizerConfig optimizer, Schedule schedule, double labelSmoothing,
                          long seed, Path runDir, Progress.Mode progress) {
    public TrainConfig {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (optimizer == null) throw new IllegalArgumentException("an optimizer configuration is required");
        if (schedule == null) throw new IllegalArgumentException("a learning-rate schedule is required");
        if (schedule.epochs() != epochs) {
            throw new IllegalArgumentException("the schedule spans " + schedule.epochs() + " epochs but the run has " + epochs);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
        if (progress == null) progress = Progress.Mode.AUTO;
    }

    /** The same recipe with another number of epochs (the schedule stretched to match). */
    public TrainConfig withEpochs(int newEpochs) {
        Schedule s = schedule;
        Schedule stretched = new Schedule(s.kind(), s.baseLr(), newEpochs, s.warmupEpochs(), s.perStep(), s.minLr(), s.milestones(), s.gamma());
        return new TrainConfig(newEpochs, batchSize, optimizer, stretched, labelSmoothing, seed, runDir, progress);
    }

    public TrainConfig withRunDir(Path dir) {
        return new TrainConfig(epochs, batchSize, optimizer, schedule, labelSmoothing, seed, dir, progress);
    }

    public TrainConfig withProgress(Progress.Mode mode) {
        return new TrainConfig(epochs, batchSize, optimizer, schedule, labelSmoothing, seed, runDir, mode);
    }
}
