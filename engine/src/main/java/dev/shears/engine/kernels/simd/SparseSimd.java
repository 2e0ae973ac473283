package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.SparseKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of SparseScalar. SpMM: each nonzero w at (r, c) is a broadcast-FMA of w times a
 * contiguous run of X[c, j..], with 4 vectors of Y[r, j..] held in registers across all the row's
 * nonzeros, stored once. SpMV: a gather-dot per row, scalar with 4 accumulators: measured against
 * Vector API gathers (FloatVector.fromArray with an index map, 256 and 512 bits) on 1024^2 and
 * 4096^2 at 2-10% density, the gathers were no faster, so plain loads win on simplicity.
 * Not threaded (the facade splits rows). Give it native segments: Vector API loads that have
 * seen heap and native segments at one site run ~3x slower for the JVM's life (measured).
 * Pinned by SparseKernelTest.
 */
public final class SparseSimd implements SparseKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final long VB = 4L * L; // bytes per vector
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    @Override
    public void spmm(int[] rowStart, int[] col, float[] value, int rowFrom, int rowTo, int n, float alpha,
                     MemorySegment x, long xOffset, int ldx, float beta, MemorySegment y, long yOffset, int ldy) {
        // column blocks outer, rows inner (as XNNPACK): the block of X that all rows read, cols x
        // 4 vectors, stays in L1/L2 instead of all of X streaming past once per row
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            for (int r = rowFrom; r < rowTo; r++) {
                // body: 4 accumulators = 4 vectors of the output row in registers; 4 independent FMA
                // chains hide the FMA latency, and more (8) measured no faster
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                for (int p = rowStart[r], p1 = rowStart[r + 1]; p < p1; p++) {
                    FloatVector w = FloatVector.broadcast(S, value[p]);
                    long xb = 4 * (xOffset + (long) col[p] * ldx + j);
                    a0 = FloatVector.fromMemorySegment(S, x, xb, ORDER).fma(w, a0);
                    a1 = FloatVector.fromMemorySegment(S, x, xb + VB, ORDER).fma(w, a1);
                    a2 = FloatVector.fromMemorySegment(S, x, xb + 2 * VB, ORDER).fma(w, a2);
                    a3 = FloatVector.fromMemorySegment(S, x, xb + 3 * VB, ORDER).fma(w, a3);
                }
                long yb = 4 * (yOffset + (long) r * ldy + j);
                store(a0, alpha, beta, y, yb);
                store(a1, alpha, beta, y, yb + VB);
                store(a2, alpha, beta, y, yb + 2 * VB);
                store(a3, alpha, beta, y, yb + 3 * VB);
            }
        }
        // vector tail: one vector at a time
        for (; j + L <= n; j += L) {
            for (int r = rowFrom; r < rowTo; r++) {
                FloatVector a0 = FloatVector.zero(S);
                for (int p = rowStart[r], p1 = rowStart[r + 1]; p < p1; p++) {
                    long xb = 4 * (xOffset + (long) col[p] * ldx + j);
                    a0 = FloatVector.fromMemorySegment(S, x, xb, ORDER).fma(FloatVector.broadcast(S, value[p]), a0);
                }
                store(a0, alpha, beta, y, 4 * (yOffset + (long) r * ldy + j));
            }
        }
        // scalar tail: the last n mod L columns
        for (; j < n; j++) {
            for (int r = rowFrom; r < rowTo; r++) {
                float acc = 0f;
                for (int p = rowStart[r], p1 = rowStart[r + 1]; p < p1; p++) {
                    acc = Math.fma(value[p], x.getAtIndex(F, xOffset + (long) col[p] * ldx + j), acc);
                }
                long yi = yOffset + (long) r * ldy + j;
                y.setAtIndex(F, yi, beta == 0f ? alpha * acc : alpha * acc + beta * y.getAtIndex(F, yi));
            }
        }
    }

    private static void store(FloatVector acc, float alpha, float beta, MemorySegment y, long yb) {
        FloatVector out = alpha == 1f ? acc : acc.mul(alpha);
        if (beta != 0f) out = FloatVector.fromMemorySegment(S, y, yb, ORDER).fma(FloatVector.broadcast(S, beta), out);
        out.intoMemorySegment(y, yb, ORDER);
    }

    @Override
    public void spmv(int[] rowStart, int[] col, float[] value, int rowFrom, int rowTo, float[] x, int xOffset,
                     MemorySegment bias, long biasOffset, MemorySegment y, long yOffset) {
        for (int r = rowFrom; r < rowTo; r++) {
            int p = rowStart[r], p1 = rowStart[r + 1];
            // body: 4 accumulators break the add chain so 4 gathers are in flight
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            for (; p + 4 <= p1; p += 4) {
                s0 = Math.fma(value[p], x[xOffset + col[p]], s0);
                s1 = Math.fma(value[p + 1], x[xOffset + col[p + 1]], s1);
                s2 = Math.fma(value[p + 2], x[xOffset + col[p + 2]], s2);
                s3 = Math.fma(value[p + 3], x[xOffset + col[p + 3]], s3);
            }
            // tail
            for (; p < p1; p++) s0 = Math.fma(value[p], x[xOffset + col[p]], s0);
            float acc = (s0 + s1) + (s2 + s3);
            if (bias != null) acc += bias.getAtIndex(F, biasOffset + r);
            y.setAtIndex(F, yOffset + r, acc);
        }
    }
}
