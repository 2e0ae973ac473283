package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The direct sparse convolution kernel: per output row (channel) r, each nonzero p is one
 * broadcast multiply-add of {@code value[p]} over a contiguous run of n floats of the input that
 * starts {@code offset[p]} floats past {@code xOffset} (the tap's shifted view of a zero-padded
 * input plane, see {@link SparseConv}), then a fused epilogue: + bias, + residual, ReLU, and
 * zeros where {@code valid[q]} is false (padding columns); and the layout moves around it (strided
 * row copies into and out of the padded layout, the even/odd split of stride-2 inputs). Kernels
 * trust their arguments: the facade checks. Implementations: SparseConvScalar (the spec) and the
 * SIMD twin.
 * Pinned by SparseConvTest.
 */
public interface SparseConvKernel {
    /**
     * For r in [rowFrom, rowTo) and q in [0, n):
     * {@code v = bias[r] + sum_p value[p] * x[xOffset + offset[p] + q]} (bias null = 0);
     * {@code v += res[resOffset + r * ldr + q]} when res is not null; {@code v = max(v, 0)} when
     * relu; {@code v = 0} when valid is not null and {@code !valid[q]};
     * {@code y[yOffset + r * ldy + q] = v}. X and Y must not overlap; res may be Y only at the
     * same offset and leading dimension.
     */
    void rows(int[] rowStart, int[] offset, float[] value, float[] bias, int rowFrom, int rowTo, int n,
              MemorySegment x, long xOffset, MemorySegment y, long yOffset, int ldy,
              MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid);

    /**
     * {@code dst[dstOffset + i * dstStride + j] = src[srcOffset + i * srcStride + j]} for i in
     * [0, rows), j in [0, n): a block of rows between the compact and the padded layouts. The
     * blocks must not overlap.
     */
    void copyRows(MemorySegment src, long srcOffset, int srcStride, MemorySegment dst, long dstOffset, int dstStride, int rows, int n);

    /**
     * {@code even[evenOffset + j] = x[xOffset + 2j]}, {@code odd[oddOffset + j] = x[xOffset + 2j + 1]}
     * for j in [0, pairs): one row of the stride-2 parity split. Outputs must not overlap x.
     */
    void deinterleave(MemorySegment x, long xOffset, MemorySegment even, long evenOffset, MemorySegment odd, long oddOffset, int pairs);
}
