package dev.shears.engine.kernels;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The GEMM facade every layer calls: checks shapes and bounds (errors name both shapes), then
 * delegates to the selected backend ({@code -Dshears.gemm=java|openblas|cuda|auto}, see
 * {@link GemmBackends}). Pinned by GemmTest.
 */
public final class Gemm {
    private Gemm() {}

    /** {@code C = alpha * op(A) op(B) + beta * C} on raw segments; see {@link GemmKernel}. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, long aOffset, int lda,
                             MemorySegment b, long bOffset, int ldb,
                             float beta, MemorySegment c, long cOffset, int ldc) {
        check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (m == 0 || n == 0) return;
        GemmBackends.selected().sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    /** Matrix form on 2-D tensors: {@code c = alpha * op(a) op(b) + beta * c}. */
    public static void sgemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2) {
            throw new IllegalArgumentException("gemm needs 2-D tensors, got A " + Shape.str(a.shape()) + ", B " + Shape.str(b.shape()) + ", C " + Shape.str(c.shape()));
        }
        int m = transA ? a.dim(1) : a.dim(0);
        int k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0);
        int n = transB ? b.dim(0) : b.dim(1);
        if (k != kb || c.dim(0) != m || c.dim(1) != n) {
            throw new IllegalArgumentException("gemm shapes do not chain: op(A) " + Shape.str(m, k) + " x op(B) " + Shape.str(kb, n)
                    + " -> C " + Shape.str(c.shape()) + " (A " + Shape.str(a.shape()) + (transA ? "^T" : "") + ", B "
                    + Shape.str(b.shape()) + (transB ? "^T" : "") + ")");
        }
        sgemm(transA, transB, m, n, k, alpha, a.segment(), 0, a.dim(1), b.segment(), 0, b.dim(1), beta, c.segment(), 0, c.dim(1));
    }

    static void check(boolean transA, boolean transB, int m, int n, int k,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      MemorySegment c, long cOffset, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        need("A", a, aOffset, lda, aRows, aCols);
        need("B", b, bOffset, ldb, bRows, bCols);
        need("C", c, cOffset, ldc, m, n);
    }

    private static void need(String what, MemorySegment s, long offset, int ld, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new IllegalArgumentException("gemm: leading dimension of " + what + " is " + ld + " but rows hold " + cols + " floats");
        long last = offset + (long) (rows - 1) * ld + cols;
        if (offset < 0 || last * 4 > s.byteSize()) {
            throw new IllegalArgumentException("gemm: " + what + " " + Shape.str(rows, cols) + " at offset " + offset + " with ld " + ld
                    + " needs " + last * 4 + " bytes but its segment has " + s.byteSize());
        }
    }
}
