package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The sparse-kernel spec, written plainly: one sum per output element over the row's nonzeros in
 * stored order, accumulated in float. Not tuned; the SIMD twin is tested against it, and both
 * against a double-precision dense product on the same weights. Pinned by SparseKernelTest.
 */
public final class SparseScalar implements SparseKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void spmm(int[] rowStart, int[] col, float[] value, int rowFrom, int rowTo, int n, float alpha,
                     MemorySegment x, long xOffset, int ldx, float beta, MemorySegment y, long yOffset, int ldy) {
        for (int r = rowFrom; r < rowTo; r++) {
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int p = rowStart[r]; p < rowStart[r + 1]; p++) {
                    acc += value[p] * x.getAtIndex(F, xOffset + (long) col[p] * ldx + j);
                }
                long yi = yOffset + (long) r * ldy + j;
                float old = beta == 0f ? 0f : beta * y.getAtIndex(F, yi);
                y.setAtIndex(F, yi, alpha * acc + old);
            }
        }
    }

    @Override
    public void spmv(int[] rowStart, int[] col, float[] value, int rowFrom, int rowTo, float[] x, int xOffset,
                     MemorySegment bias, long biasOffset, MemorySegment y, long yOffset) {
        for (int r = rowFrom; r < rowTo; r++) {
            float acc = 0f;
            for (int p = rowStart[r]; p < rowStart[r + 1]; p++) acc += value[p] * x[xOffset + col[p]];
            if (bias != null) acc += bias.getAtIndex(F, biasOffset + r);
            y.setAtIndex(F, yOffset + r, acc);
        }
    }
}
