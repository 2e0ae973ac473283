package dev.shears.nn.train;

/**
 * Callbacks from the training loop (for progress displays, experiment runners, tests that stop a
 * run). {@link #onEpoch} is called after the epoch's checkpoint is written, so an exception thrown
 * there is a kill at an epoch boundary that {@code --resume} continues exactly.
 */
public interface TrainListener {
    /** After every optimizer step: 1-based epoch, step within the epoch, the batch's mean loss. */
    default void onStep(int epoch, int stepInEpoch, double loss) {}

    /** After every epoch, its checkpoint already written. */
    default void onEpoch(EpochMetrics metrics) {}
}
