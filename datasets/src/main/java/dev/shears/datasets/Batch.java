package dev.shears.datasets;

import dev.shears.engine.Tensor;

/**
 * One batch from a {@link Loader}: images (B, C, H, W) or sequences (B, T, F) as F32, labels (B)
 * as I32, in off-heap buffers the loader owns and reuses. Valid until the consumer asks for the
 * next batch, starts another epoch or closes the loader; then its memory holds another batch
 * (or is freed, and a use is a clear IllegalStateException). B is the batch size, or less for a
 * kept partial last batch. Pinned by LoaderTest.
 */
public final class Batch {
    private final Tensor fullInputs;   // (batchSize, sample...)
    private final Tensor fullLabels;   // (batchSize)
    private final Tensor lastInputs;   // (lastSize, sample...) or null when every batch is full
    private final Tensor lastLabels;
    private final int[] sampleIndices; // (batchSize) dataset index of each row
    private int size;
    private int index;
    private int epoch;

    Batch(Tensor fullInputs, Tensor fullLabels, Tensor lastInputs, Tensor lastLabels) {
        this.fullInputs = fullInputs;
        this.fullLabels = fullLabels;
        this.lastInputs = lastInputs;
        this.lastLabels = lastLabels;
        this.sampleIndices = new int[fullInputs.dim(0)];
    }

    void set(int epoch, int index, int size) {
        this.epoch = epoch;
        this.index = index;
        this.size = size;
    }

    int[] sampleIndicesBuffer() { return sampleIndices; }

    /** F32 (B, C, H, W) or (B, T, F). */
    public Tensor inputs() {
        return size == fullInputs.dim(0) || lastInputs == null ? fullInputs : lastInputs;
    }

    /** I32 (B), each 0..classes-1. */
    public Tensor labels() {
        return size == fullLabels.dim(0) || lastLabels == null ? fullLabels : lastLabels;
    }

    /** Rows in this batch. */
    public int size() { return size; }

    /** Position of this batch in its epoch, from 0. */
    public int index() { return index; }

    public int epoch() { return epoch; }

    /** The dataset index of row {@code row}. */
    public int sampleIndex(int row) {
        if (row < 0 || row >= size) throw new IllegalArgumentException("row " + row + " outside batch of " + size);
        return sampleIndices[row];
    }

    @Override
    public String toString() {
        return "Batch[epoch " + epoch + ", #" + index + ", " + size + " rows]";
    }
}
