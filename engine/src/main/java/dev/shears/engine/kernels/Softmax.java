package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The softmax facade: checks bounds, the label range and the smoothing factor (errors name the
 * kernel, the operand and its shape, or the offending row and label), then runs the selected
 * twin on the caller's thread (batches of logits are small next to the convolutions).
 * Semantics in {@link SoftmaxKernel}. Pinned by SoftmaxTest.
 */
public final class Softmax {
    private static final SoftmaxKernel KERNEL = Twins.pick(SoftmaxKernel.class, "SoftmaxSimd", SoftmaxScalar::new);

    private Softmax() {}

    /** Row-wise softmax of x (rows, cols) into y; y may be x. */
    public static void softmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols) {
        check("softmaxRows", rows, cols, x, xOffset, y, yOffset);
        KERNEL.softmaxRows(x, xOffset, y, yOffset, rows, cols);
    }

    /** Row-wise log-softmax of x (rows, cols) into y; y may be x. */
    public static void logSoftmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols) {
        check("logSoftmaxRows", rows, cols, x, xOffset, y, yOffset);
        KERNEL.logSoftmaxRows(x, xOffset, y, yOffset, rows, cols);
    }

    /**
     * Mean cross-entropy of logits (rows, cols) against int labels (rows), with PyTorch's label
     * smoothing; writes {@code dLogits = (softmax - target) / rows} unless dLogits is null (it
     * may be the logits themselves). Returns the mean loss.
     */
    public static double crossEntropy(MemorySegment logits, long logitsOffset, MemorySegment labels, long labelsOffset, int rows, int cols,
                                      float labelSmoothing, MemorySegment dLogits, long dLogitsOffset) {
        String kernel = "softmaxCrossEntropy";
        if (rows < 1 || cols < 1) throw new IllegalArgumentException(kernel + ": logits " + KernelChecks.dims(rows, cols) + " need rows >= 1 and cols >= 1");
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f)) {
            throw new IllegalArgumentException(kernel + ": label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        String shape = KernelChecks.dims(rows, cols);
        KernelChecks.floats(kernel, "logits", shape, logits, logitsOffset, (long) rows * cols);
        KernelChecks.ints(kernel, "labels (ints)", KernelChecks.len(rows), labels, labelsOffset, rows);
        if (dLogits != null) KernelChecks.floats(kernel, "dLogits", shape, dLogits, dLogitsOffset, (long) rows * cols);
        for (int r = 0; r < rows; r++) {
            int label = labels.getAtIndex(ValueLayout.JAVA_INT, labelsOffset + r);
            if (label < 0 || label >= cols) {
                throw new IllegalArgumentException(kernel + ": label " + label + " of row " + r + " is outside [0, " + cols + ") for logits " + shape);
            }
        }
        return KERNEL.crossEntropy(logits, logitsOffset, labels, labelsOffset, rows, cols, labelSmoothing, dLogits, dLogitsOffset);
    }

    private static void check(String kernel, int rows, int cols, MemorySegment x, long xOffset, MemorySegment y, long yOffset) {
        if (rows < 0 || cols < 1) throw new IllegalArgumentException(kernel + ": x " + KernelChecks.dims(rows, cols) + " needs rows >= 0 and cols >= 1");
        String shape = KernelChecks.dims(rows, cols);
        KernelChecks.floats(kernel, "x", shape, x, xOffset, (long) rows * cols);
        KernelChecks.floats(kernel, "y", shape, y, yOffset, (long) rows * cols);
    }
}
