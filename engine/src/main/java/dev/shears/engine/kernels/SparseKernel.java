package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Sparse x dense kernels on a CSR matrix S (rows, cols) handed over as its three arrays (see
 * {@link SparseMatrix}); each call computes the output rows {@code [rowFrom, rowTo)}, so the
 * facade {@link Sparse} can split rows across threads. Offsets and leading dimensions count
 * floats and address row 0 of the whole matrix. Kernels trust their arguments: the facade checks.
 * Implementations: SparseScalar (the spec) and the SIMD twin. Pinned by SparseKernelTest.
 */
public interface SparseKernel {
    /**
     * {@code Y[r, 0..n) = alpha * sum_p value[p] * X[col[p], 0..n) + beta * Y[r, 0..n)} for r in
     * [rowFrom, rowTo): X is (cols, n), Y is (rows, n), both row-major. With {@code beta == 0} Y
     * is overwritten (NaNs in Y do not propagate), as in BLAS.
     */
    void spmm(int[] rowStart, int[] col, float[] value, int rowFrom, int rowTo, int n, float alpha,
              MemorySegment x, long xOffset, int ldx, float beta, MemorySegment y, long yOffset, int ldy);

    /**
     * {@code y[r] = sum_p value[p] * x[xOffset + col[p]] + bias[r]} for r in [rowFrom, rowTo);
     * x is a heap copy of the input vector (the gather-dot reads it at random), bias may be null.
     */
    void spmv(int[] rowStart, int[] col, float[] value, int rowFrom, int rowTo, float[] x, int xOffset,
              MemorySegment bias, long biasOffset, MemorySegment y, long yOffset);
}
