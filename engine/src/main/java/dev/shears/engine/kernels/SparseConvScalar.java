package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The direct sparse convolution spec, written plainly: one sum per output element over the
 * row's nonzeros in stored order, accumulated in float, then the epilogue in the order the
 * interface states. Not tuned; the SIMD twin is tested against it, and both against a dense
 * convolution in double on the masked weights. Pinned by SparseConvTest.
 */
public final class SparseConvScalar implements SparseConvKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void rows(int[] rowStart, int[] offset, float[] value, float[] bias, int rowFrom, int rowTo, int n,
                     MemorySegment x, long xOffset, MemorySegment y, long yOffset, int ldy,
                     MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        for (int r = rowFrom; r < rowTo; r++) {
            for (int q = 0; q < n; q++) {
                float acc = 0f;
                for (int p = rowStart[r]; p < rowStart[r + 1]; p++) acc += value[p] * x.getAtIndex(F, xOffset + offset[p] + q);
                float v = (bias == null ? 0f : bias[r]) + acc;
                if (res != null) v += res.getAtIndex(F, resOffset + (long) r * ldr + q);
                if (relu) v = Math.max(v, 0f);
                if (valid != null && !valid[q]) v = 0f;
                y.setAtIndex(F, yOffset + (long) r * ldy + q, v);
            }
        }
    }

    @Override
    public void copyRows(MemorySegment src, long srcOffset, int srcStride, MemorySegment dst, long dstOffset, int dstStride, int rows, int n) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < n; j++) dst.setAtIndex(F, dstOffset + (long) i * dstStride + j, src.getAtIndex(F, srcOffset + (long) i * srcStride + j));
        }
    }

    @Override
    public void deinterleave(MemorySegment x, long xOffset, MemorySegment even, long evenOffset, MemorySegment odd, long oddOffset, int pairs) {
        for (int j = 0; j < pairs; j++) {
            even.setAtIndex(F, evenOffset + j, x.getAtIndex(F, xOffset + 2L * j));
            odd.setAtIndex(F, oddOffset + j, x.getAtIndex(F, xOffset + 2L * j + 1));
        }
    }
}
