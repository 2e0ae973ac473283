package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.RowDotKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link RowDotKernel}: 4 rows of A x 4 rows of B per block, 16 vector
 * accumulators along k (8 loads feed 16 FMAs, so the FMA units, not the loads, set the pace;
 * 16 chains also cover the FMA latency), each reduced in lane order, then the scalar tail of k.
 * Edge rows and columns run one dot at a time. Pinned by RowDotTest (against the scalar spec).
 */
public final class RowDotSimd implements RowDotKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    @Override
    public void accumulate(int m, int n, int k, MemorySegment a, long aOffset, int lda,
                           MemorySegment b, long bOffset, int ldb, MemorySegment c, long cOffset, int ldc) {
        int kb = S.loopBound(k), m4 = m & ~3, n4 = n & ~3;
        float[] sums = new float[16], lanes = new float[16 * L];
        for (int i = 0; i < m4; i += 4) {
            for (int j = 0; j < n4; j += 4) {
                block4(kb, k, a, aOffset + (long) i * lda, lda, b, bOffset + (long) j * ldb, ldb, sums, lanes);
                for (int r = 0; r < 4; r++) {
                    for (int q = 0; q < 4; q++) add(c, cOffset + (long) (i + r) * ldc + j + q, sums[r * 4 + q]);
                }
            }
            for (int j = n4; j < n; j++) {
                for (int r = 0; r < 4; r++) add(c, cOffset + (long) (i + r) * ldc + j, dot(kb, k, a, aOffset + (long) (i + r) * lda, b, bOffset + (long) j * ldb));
            }
        }
        for (int i = m4; i < m; i++) {
            for (int j = 0; j < n; j++) add(c, cOffset + (long) i * ldc + j, dot(kb, k, a, aOffset + (long) i * lda, b, bOffset + (long) j * ldb));
        }
    }

    private static void add(MemorySegment c, long at, float v) {
        c.setAtIndex(F, at, c.getAtIndex(F, at) + v);
    }

    /** sums[r*4 + q] = A row r . B row q over k (4 x 4 block at the given offsets). */
    private static void block4(int kb, int k, MemorySegment a, long ao, int lda, MemorySegment b, long bo, int ldb, float[] sums, float[] lanes) {
        long a0 = ao * 4, a1 = a0 + 4L * lda, a2 = a1 + 4L * lda, a3 = a2 + 4L * lda;
        long b0 = bo * 4, b1 = b0 + 4L * ldb, b2 = b1 + 4L * ldb, b3 = b2 + 4L * ldb;
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        // body: 16 accumulators over whole vectors of k
        for (int p = 0; p < kb; p += L) {
            long o = 4L * p;
            FloatVector y0 = FloatVector.fromMemorySegment(S, b, b0 + o, NO), y1 = FloatVector.fromMemorySegment(S, b, b1 + o, NO);
            FloatVector y2 = FloatVector.fromMemorySegment(S, b, b2 + o, NO), y3 = FloatVector.fromMemorySegment(S, b, b3 + o, NO);
            FloatVector x = FloatVector.fromMemorySegment(S, a, a0 + o, NO);
            c00 = x.fma(y0, c00); c01 = x.fma(y1, c01); c02 = x.fma(y2, c02); c03 = x.fma(y3, c03);
            x = FloatVector.fromMemorySegment(S, a, a1 + o, NO);
            c10 = x.fma(y0, c10); c11 = x.fma(y1, c11); c12 = x.fma(y2, c12); c13 = x.fma(y3, c13);
            x = FloatVector.fromMemorySegment(S, a, a2 + o, NO);
            c20 = x.fma(y0, c20); c21 = x.fma(y1, c21); c22 = x.fma(y2, c22); c23 = x.fma(y3, c23);
            x = FloatVector.fromMemorySegment(S, a, a3 + o, NO);
            c30 = x.fma(y0, c30); c31 = x.fma(y1, c31); c32 = x.fma(y2, c32); c33 = x.fma(y3, c33);
        }
        // reduce: each accumulator's lanes in lane order (same bits whatever the JIT tier), via one array
        float[] t = lanes;
        c00.intoArray(t, 0); c01.intoArray(t, L); c02.intoArray(t, 2 * L); c03.intoArray(t, 3 * L);
        c10.intoArray(t, 4 * L); c11.intoArray(t, 5 * L); c12.intoArray(t, 6 * L); c13.intoArray(t, 7 * L);
        c20.intoArray(t, 8 * L); c21.intoArray(t, 9 * L); c22.intoArray(t, 10 * L); c23.intoArray(t, 11 * L);
        c30.intoArray(t, 12 * L); c31.intoArray(t, 13 * L); c32.intoArray(t, 14 * L); c33.intoArray(t, 15 * L);
        for (int e = 0; e < 16; e++) {
            float sum = 0f;
            for (int l = 0; l < L; l++) sum += t[e * L + l];
            sums[e] = sum;
        }
        // tail: the last k % L products, scalar
        for (int p = kb; p < k; p++) {
            for (int r = 0; r < 4; r++) {
                float av = a.getAtIndex(F, ao + (long) r * lda + p);
                for (int q = 0; q < 4; q++) sums[r * 4 + q] += av * b.getAtIndex(F, bo + (long) q * ldb + p);
            }
        }
    }

    /** One dot product of length k: vector body, lane-order reduce, scalar tail. */
    private static float dot(int kb, int k, MemorySegment a, long ao, MemorySegment b, long bo) {
        FloatVector acc = FloatVector.zero(S);
        for (int p = 0; p < kb; p += L) {
            acc = FloatVector.fromMemorySegment(S, a, 4 * (ao + p), NO).fma(FloatVector.fromMemorySegment(S, b, 4 * (bo + p), NO), acc);
        }
        float s = KernelSpecies.sumLanes(acc);
        for (int p = kb; p < k; p++) s += a.getAtIndex(F, ao + p) * b.getAtIndex(F, bo + p);
        return s;
    }
}
