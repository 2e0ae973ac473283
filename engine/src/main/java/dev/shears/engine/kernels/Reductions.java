package dev.shears.engine.kernels;

import dev.shears.engine.Parallel;
import java.lang.foreign.MemorySegment;

/**
 * The reduction facade: checks bounds (errors name the kernel, operand and shape), then runs
 * the selected twin. Whole-array reductions run on the caller's thread (one fixed order, so a
 * run is reproducible); per-channel NCHW reductions split channels over the pool (each channel
 * is still summed by one thread in one order). Semantics, NaN rules included, in
 * {@link ReductionKernel}. Pinned by ReductionsTest.
 */
public final class Reductions {
    private static final ReductionKernel KERNEL = Twins.pick(ReductionKernel.class, "ReductionSimd", ReductionScalar::new);

    private Reductions() {}

    public static double sum(MemorySegment x, long xOffset, int n) {
        one("sum", x, xOffset, n);
        return KERNEL.sum(x, xOffset, n);
    }

    public static double sumOfSquares(MemorySegment x, long xOffset, int n) {
        one("sumOfSquares", x, xOffset, n);
        return KERNEL.sumOfSquares(x, xOffset, n);
    }

    /** The maximum; NaN if any element is NaN; -Infinity when n is 0. */
    public static float max(MemorySegment x, long xOffset, int n) {
        one("max", x, xOffset, n);
        return KERNEL.max(x, xOffset, n);
    }

    /** First index of the maximum (of the first NaN, if any); n must be at least 1. */
    public static int argmax(MemorySegment x, long xOffset, int n) {
        if (n < 1) throw new IllegalArgumentException("argmax: needs at least one element, got n=" + n);
        one("argmax", x, xOffset, n);
        return KERNEL.argmax(x, xOffset, n);
    }

    /** {@code out[r] = argmax(x[r, :])}, x (rows, cols) row-major floats, out (rows) ints. */
    public static void rowArgmax(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset) {
        if (rows < 0 || cols < 1) throw new IllegalArgumentException("rowArgmax: x " + KernelChecks.dims(rows, cols) + " needs rows >= 0 and cols >= 1");
        KernelChecks.floats("rowArgmax", "x", KernelChecks.dims(rows, cols), x, xOffset, (long) rows * cols);
        KernelChecks.ints("rowArgmax", "out (ints)", KernelChecks.len(rows), out, outOffset, rows);
        KERNEL.rowArgmax(x, xOffset, rows, cols, out, outOffset);
    }

    /** {@code out[c] += sum_r x[r, c]}, x (rows, cols) row-major: the bias gradient of a linear layer. */
    public static void columnSumsAdd(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("columnSumsAdd: negative shape " + KernelChecks.dims(rows, cols));
        KernelChecks.floats("columnSumsAdd", "x", KernelChecks.dims(rows, cols), x, xOffset, (long) rows * cols);
        KernelChecks.floats("columnSumsAdd", "out", KernelChecks.len(cols), out, outOffset, cols);
        KERNEL.columnSumsAdd(x, xOffset, rows, cols, out, outOffset);
    }

    /** {@code out[c] = sum of x[:, c, :, :]} for x (images, channels, hw) contiguous NCHW. */
    public static void channelSum(MemorySegment x, long xOffset, int images, int channels, int hw, double[] out) {
        channels("channelSum", "x", x, xOffset, images, channels, hw, out, null);
        split(images, channels, hw, (c0, c) -> KERNEL.channelSum(x, xOffset + (long) c0 * hw, images, (long) channels * hw, c, hw, out, c0));
    }

    /** {@code out[c] = sum of x[:, c, :, :]^2}. */
    public static void channelSumOfSquares(MemorySegment x, long xOffset, int images, int channels, int hw, double[] out) {
        channels("channelSumOfSquares", "x", x, xOffset, images, channels, hw, out, null);
        split(images, channels, hw, (c0, c) -> KERNEL.channelSumOfSquares(x, xOffset + (long) c0 * hw, images, (long) channels * hw, c, hw, out, c0));
    }

    /** {@code out[c] = sum of (x[:, c, :, :] - mean[c])^2}: the stable second pass of a batch variance. */
    public static void channelCenteredSumOfSquares(MemorySegment x, long xOffset, int images, int channels, int hw, double[] mean, double[] out) {
        channels("channelCenteredSumOfSquares", "x", x, xOffset, images, channels, hw, out, mean);
        split(images, channels, hw, (c0, c) -> KERNEL.channelCenteredSumOfSquares(x, xOffset + (long) c0 * hw, images, (long) channels * hw,
                c, hw, mean, out, c0));
    }

    /** {@code out[c] = sum of a[:, c] * (b[:, c] - mean[c])} (batch norm backward: a = dy, b = x). */
    public static void channelCenteredDot(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int images, int channels, int hw,
                                          double[] mean, double[] out) {
        channels("channelCenteredDot", "a", a, aOffset, images, channels, hw, out, mean);
        KernelChecks.floats("channelCenteredDot", "b", "(" + images + ", " + channels + ", " + hw + ")", b, bOffset, (long) images * channels * hw);
        split(images, channels, hw, (c0, c) -> KERNEL.channelCenteredDot(a, aOffset + (long) c0 * hw, b, bOffset + (long) c0 * hw, images,
                (long) channels * hw, c, hw, mean, out, c0));
    }

    private interface ChannelChunk {
        void run(int firstChannel, int count);
    }

    private static void split(int images, int channels, int hw, ChannelChunk chunk) {
        if (channels == 0) return;
        if ((long) images * channels * hw < 2L * Split.GRAIN || channels == 1) {
            chunk.run(0, channels);
        } else {
            Parallel.forRange(channels, 1, (c0, c1) -> chunk.run(c0, c1 - c0));
        }
    }

    private static void one(String kernel, MemorySegment x, long xOffset, int n) {
        if (n >= 0 && KernelChecks.fits(x, xOffset, n)) return; // no message strings on the hot path
        KernelChecks.nonNegative(kernel, "n", n);
        KernelChecks.floats(kernel, "x", KernelChecks.len(n), x, xOffset, n);
    }

    private static void channels(String kernel, String what, MemorySegment x, long xOffset, int images, int channels, int hw, double[] out, double[] mean) {
        if (images >= 0 && channels >= 0 && hw >= 0 && KernelChecks.fits(x, xOffset, (long) images * channels * hw) && out != null && out.length >= channels
                && (!kernel.contains("Centered") || (mean != null && mean.length >= channels))) {
            return; // no message strings on the hot path
        }
        String shape = "(" + images + ", " + channels + ", " + hw + ")";
        if (images < 0 || channels < 0 || hw < 0) throw new IllegalArgumentException(kernel + ": negative shape " + shape);
        KernelChecks.floats(kernel, what, shape, x, xOffset, (long) images * channels * hw);
        if (out == null || out.length < channels) {
            throw new IllegalArgumentException(kernel + ": out needs " + channels + " entries (one per channel of " + shape + "), got "
                    + (out == null ? "null" : out.length));
        }
        if (kernel.contains("Centered") && (mean == null || mean.length < channels)) {
            throw new IllegalArgumentException(kernel + ": mean needs " + channels + " entries (one per channel of " + shape + "), got "
                    + (mean == null ? "null" : mean.length));
        }
    }
}
