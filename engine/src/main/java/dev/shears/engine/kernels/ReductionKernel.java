package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Reductions; offsets count floats (ints for index outputs). Whole-array sums return double.
 * {@code max} follows {@link Math#max}: NaN if any element is NaN, +0.0 beats -0.0, -Infinity
 * for no elements. {@code argmax} is the first index of the maximum; if any element is NaN it is
 * the first NaN's index (as PyTorch and NumPy do); -0.0 and +0.0 tie (the first wins).
 * Per-channel reductions run over NCHW data: channel {@code c} of image {@code i} is the run of
 * {@code hw} floats at {@code xOffset + i * imageStride + c * hw}; they OVERWRITE
 * {@code out[outOffset + c]}, and centered ones read {@code mean[outOffset + c]}.
 * Implementations: ReductionScalar (the spec, double accumulation) and the SIMD twin; callers
 * go through {@link Reductions}.
 */
public interface ReductionKernel {
    double sum(MemorySegment x, long xOffset, int n);

    double sumOfSquares(MemorySegment x, long xOffset, int n);

    float max(MemorySegment x, long xOffset, int n);

    int argmax(MemorySegment x, long xOffset, int n);

    /** {@code out[r] = argmax(x[r, :])} for x (rows, cols) row-major; out holds ints. */
    void rowArgmax(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset);

    /**
     * {@code out[c] += sum_r x[r, c]} for x (rows, cols) row-major (a bias gradient). Each column is
     * summed in float in row order from 0, then added to out, so the twins agree bit for bit.
     */
    void columnSumsAdd(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset);

    /** {@code out[c] = sum over images and hw of x}. */
    void channelSum(MemorySegment x, long xOffset, int images, long imageStride, int channels, int hw, double[] out, int outOffset);

    /** {@code out[c] = sum of x^2}. */
    void channelSumOfSquares(MemorySegment x, long xOffset, int images, long imageStride, int channels, int hw, double[] out, int outOffset);

    /** {@code out[c] = sum of (x - mean[c])^2} (the stable second pass of a variance). */
    void channelCenteredSumOfSquares(MemorySegment x, long xOffset, int images, long imageStride, int channels, int hw,
                                     double[] mean, double[] out, int outOffset);

    /** {@code out[c] = sum of a * (b - mean[c])} over the same layout (batch norm backward: dy against x). */
    void channelCenteredDot(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int images, long imageStride, int channels, int hw,
                            double[] mean, double[] out, int outOffset);
}
