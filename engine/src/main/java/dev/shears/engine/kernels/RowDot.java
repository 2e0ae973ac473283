package dev.shears.engine.kernels;

import dev.shears.engine.Parallel;
import java.lang.foreign.MemorySegment;

/**
 * The row-dot facade ({@code C += A . B^T}, rows contiguous along k; see {@link RowDotKernel}):
 * checks shapes and bounds (errors name both operands' shapes), then runs the selected twin,
 * split over C's rows across the pool when large (inside a pool task it stays on the caller).
 * Pinned by RowDotTest.
 */
public final class RowDot {
    private static final RowDotKernel KERNEL = Twins.pick(RowDotKernel.class, "RowDotSimd", RowDotScalar::new);
    /** Below this many multiply-adds a call runs on the calling thread. */
    private static final long PARALLEL_MIN = 1 << 18;

    private RowDot() {}

    /** {@code C (m, n) += A (m, k) . B (n, k)^T}. */
    public static void accumulate(int m, int n, int k, MemorySegment a, long aOffset, int lda,
                                  MemorySegment b, long bOffset, int ldb, MemorySegment c, long cOffset, int ldc) {
        check(m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (m == 0 || n == 0 || k == 0) return;
        if ((long) m * n * k < PARALLEL_MIN || m < 8) {
            KERNEL.accumulate(m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
            return;
        }
        // row ranges in multiples of 4 (the SIMD twin's block), so the split does not change any sum
        int blocks = (m + 3) / 4;
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            int i0 = b0 * 4, i1 = Math.min(m, b1 * 4);
            KERNEL.accumulate(i1 - i0, n, k, a, aOffset + (long) i0 * lda, lda, b, bOffset, ldb, c, cOffset + (long) i0 * ldc, ldc);
        });
    }

    private static void check(int m, int n, int k, MemorySegment a, long aOffset, int lda,
                              MemorySegment b, long bOffset, int ldb, MemorySegment c, long cOffset, int ldc) {
        if (m >= 0 && n >= 0 && k >= 0 && lda >= k && ldb >= k && ldc >= n
                && (m == 0 || k == 0 || KernelChecks.fits(a, aOffset, (long) (m - 1) * lda + k))
                && (n == 0 || k == 0 || KernelChecks.fits(b, bOffset, (long) (n - 1) * ldb + k))
                && (m == 0 || n == 0 || KernelChecks.fits(c, cOffset, (long) (m - 1) * ldc + n))) {
            return; // no message strings on the hot path
        }
        String where = "row dot C" + KernelChecks.dims(m, n) + " += A" + KernelChecks.dims(m, k) + " . B" + KernelChecks.dims(n, k) + "^T";
        KernelChecks.nonNegative(where, "m", m);
        KernelChecks.nonNegative(where, "n", n);
        KernelChecks.nonNegative(where, "k", k);
        if (lda < k || ldb < k || ldc < n) {
            throw new IllegalArgumentException(where + ": leading dimensions lda=" + lda + " ldb=" + ldb + " ldc=" + ldc + " are shorter than a row");
        }
        if (m > 0 && k > 0) KernelChecks.floats(where, "A", KernelChecks.dims(m, k), a, aOffset, (long) (m - 1) * lda + k);
        if (n > 0 && k > 0) KernelChecks.floats(where, "B", KernelChecks.dims(n, k), b, bOffset, (long) (n - 1) * ldb + k);
        KernelChecks.floats(where, "C", KernelChecks.dims(m, n), c, cOffset, (long) (m - 1) * ldc + n);
    }
}
