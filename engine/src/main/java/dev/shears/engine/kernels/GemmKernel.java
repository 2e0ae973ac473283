package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Single-precision GEMM, row-major, BLAS semantics: {@code C = alpha * op(A) * op(B) + beta * C}
 * where op(A) is (m, k) and op(B) is (k, n). Offsets and leading dimensions count floats.
 * With {@code beta == 0} C is overwritten (NaNs in C do not propagate), as in BLAS.
 * Implementations: GemmScalar (the spec), the SIMD twin, OpenBLAS and cuBLAS backends.
 */
public interface GemmKernel {
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               MemorySegment a, long aOffset, int lda,
               MemorySegment b, long bOffset, int ldb,
               float beta, MemorySegment c, long cOffset, int ldc);
}
