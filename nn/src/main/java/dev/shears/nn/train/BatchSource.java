package dev.shears.nn.train;

import dev.shears.engine.Tensor;
import java.util.Iterator;

/**
 * What the trainer reads: epochs of batches. A training source shuffles and augments from
 * (seed, epoch) alone, so epoch {@code e} is the same batches whether or not the run was
 * resumed; an evaluation source yields the same order every time. Batches and their tensors are
 * valid until the next {@code next()}. Not a data pipeline itself: the datasets module's loader
 * is adapted to it.
 */
public interface BatchSource {
    /** One batch: images F32 (B, C, H, W) (or (B, T, F)) and labels I32 (B,); B may be smaller at the end. */
    record Batch(Tensor images, Tensor labels) {
        public Batch {
            if (images.dim(0) != labels.size()) {
                throw new IllegalArgumentException("batch has " + images.dim(0) + " images but " + labels.size() + " labels");
            }
        }

        public int size() {
            return images.dim(0);
        }
    }

    /** The batches of one epoch, closed after use (a loader may stop prefetch threads). */
    interface Epoch extends Iterator<Batch>, AutoCloseable {
        @Override
        void close();
    }

    /** Examples per epoch. */
    long size();

    /** Examples per full batch. */
    int batchSize();

    /** Batches per epoch, the last one possibly partial. */
    default int batchesPerEpoch() {
        return Math.toIntExact((size() + batchSize() - 1) / batchSize());
    }

    /** The batches of epoch {@code epoch} (0-based), in order. */
    Epoch epoch(int epoch);
}
