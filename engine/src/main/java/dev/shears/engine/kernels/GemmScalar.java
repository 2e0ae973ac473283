package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The GEMM spec, written plainly: one dot product per output element, accumulated in float in
 * index order. Slow on purpose; the SIMD twin and the native backends are tested against it and
 * against a double-precision triple loop. Pinned by GemmTest.
 */
public final class GemmScalar implements GemmKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int p = 0; p < k; p++) {
                    float av = a.getAtIndex(F, aOffset + (transA ? (long) p * lda + i : (long) i * lda + p));
                    float bv = b.getAtIndex(F, bOffset + (transB ? (long) j * ldb + p : (long) p * ldb + j));
                    acc += av * bv;
                }
                long ci = cOffset + (long) i * ldc + j;
                float old = beta == 0f ? 0f : beta * c.getAtIndex(F, ci);
                c.setAtIndex(F, ci, alpha * acc + old);
            }
        }
    }
}
