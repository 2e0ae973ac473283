package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Dot products of rows: {@code C (m, n) += A (m, k) . B (n, k)^T}, every A and B row contiguous
 * along k (offsets and leading dimensions count floats). A convolution's weight gradient is this
 * with A = dy rows (out channels, pixels) and B = the im2col columns (patch, pixels): both already
 * run along the pixel axis, so nothing is packed or transposed (a GEMM "NT" call transposes B).
 * Implementations: RowDotScalar (the spec) and the SIMD twin; callers go through {@link RowDot}.
 */
public interface RowDotKernel {
    void accumulate(int m, int n, int k, MemorySegment a, long aOffset, int lda,
                    MemorySegment b, long bOffset, int ldb, MemorySegment c, long cOffset, int ldc);
}
