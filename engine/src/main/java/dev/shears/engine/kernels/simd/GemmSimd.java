package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.GemmKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of GemmScalar (first version: row-broadcast FMA, op(B) packed row-major on the heap
 * when transposed). Pinned by GemmTest.
 */
public final class GemmSimd implements GemmKernel {
    private static final VectorSpecies<Float> S = SimdWidth.floatSpecies(dev.shears.engine.simd.SimdProbe.decision().enabled()
            ? dev.shears.engine.simd.SimdProbe.decision().bits() : SimdWidth.preferredBits());
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        float[] bp = new float[k * n];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) {
            bp[p * n + j] = b.getAtIndex(F, bOffset + (transB ? (long) j * ldb + p : (long) p * ldb + j));
        }
        float[] row = new float[n];
        int bound = S.loopBound(n);
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(row, 0f);
            for (int p = 0; p < k; p++) {
                float av = a.getAtIndex(F, aOffset + (transA ? (long) p * lda + i : (long) i * lda + p));
                FloatVector va = FloatVector.broadcast(S, av);
                int j = 0;
                for (; j < bound; j += S.length()) {
                    FloatVector.fromArray(S, bp, p * n + j).fma(va, FloatVector.fromArray(S, row, j)).intoArray(row, j);
                }
                for (; j < n; j++) row[j] = Math.fma(av, bp[p * n + j], row[j]);
            }
            for (int j = 0; j < n; j++) {
                long ci = cOffset + (long) i * ldc + j;
                float old = beta == 0f ? 0f : beta * c.getAtIndex(F, ci);
                c.setAtIndex(F, ci, alpha * row[j] + old);
            }
        }
    }
}
