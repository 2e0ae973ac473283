package dev.shears.nn.train;

import java.util.List;

/**
 * What a training run returns: every epoch's metrics (including those before a resume) and the
 * best epoch by test accuracy (by training loss when there is no test source).
 *
 * @param history   metrics per epoch, epoch 1 first
 * @param bestEpoch 1-based epoch with the best score (0 when no epoch ran)
 */
public record TrainResult(List<EpochMetrics> history, int bestEpoch) {
    public TrainResult {
        history = List.copyOf(history);
    }

    public EpochMetrics last() {
        return history.isEmpty() ? null : history.getLast();
    }

    public EpochMetrics best() {
        return bestEpoch == 0 ? null : history.get(bestEpoch - 1);
    }
}
