package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.SparseConvKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of SparseConvScalar. Blocks of 4 vectors of output positions outer, rows inner (as
 * XNNPACK's sparse kernels): the block of input every row reads (channels x taps x 4 vectors)
 * stays in L1, and 4 vectors of one output row stay in registers across all of the row's
 * nonzeros, each a broadcast-FMA over 4 unaligned loads; stored once, through the epilogue.
 * Not threaded (the caller splits rows). Give it native segments. Pinned by SparseConvTest.
 */
public final class SparseConvSimd implements SparseConvKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final long VB = 4L * L; // bytes per vector
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    // lanes of two consecutive vectors (v0, v1) taken two apart: 0, 2, .. from v0 then from v1 (indexes
    // past the first vector wrap to negative ones, which the two-vector rearrange reads from v1)
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i), ODD = VectorShuffle.fromOp(S, i -> 2 * i + 1);

    @Override
    public void rows(int[] rowStart, int[] offset, float[] value, float[] bias, int rowFrom, int rowTo, int n,
                     MemorySegment x, long xOffset, MemorySegment y, long yOffset, int ldy,
                     MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        long xb0 = 4 * xOffset;
        int q = 0;
        // body: 4 accumulators (4 independent FMA chains hide the FMA latency; 8 measured slower:
        // 37-42 against 26-28 us on a ResNet-32 layer1 convolution at 25% density, AVX-512)
        for (; q + 4 * L <= n; q += 4 * L) {
            long xq = xb0 + 4L * q;
            for (int r = rowFrom; r < rowTo; r++) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                for (int p = rowStart[r], p1 = rowStart[r + 1]; p < p1; p++) {
                    FloatVector w = FloatVector.broadcast(S, value[p]);
                    long xb = xq + 4L * offset[p];
                    a0 = FloatVector.fromMemorySegment(S, x, xb, ORDER).fma(w, a0);
                    a1 = FloatVector.fromMemorySegment(S, x, xb + VB, ORDER).fma(w, a1);
                    a2 = FloatVector.fromMemorySegment(S, x, xb + 2 * VB, ORDER).fma(w, a2);
                    a3 = FloatVector.fromMemorySegment(S, x, xb + 3 * VB, ORDER).fma(w, a3);
                }
                float b = bias == null ? 0f : bias[r];
                long yr = yOffset + (long) r * ldy + q, rr = resOffset + (long) r * ldr + q;
                store(a0, b, y, yr, res, rr, relu, valid, q);
                store(a1, b, y, yr + L, res, rr + L, relu, valid, q + L);
                store(a2, b, y, yr + 2 * L, res, rr + 2 * L, relu, valid, q + 2 * L);
                store(a3, b, y, yr + 3 * L, res, rr + 3 * L, relu, valid, q + 3 * L);
            }
        }
        // vector tail: one vector at a time
        for (; q + L <= n; q += L) {
            long xq = xb0 + 4L * q;
            for (int r = rowFrom; r < rowTo; r++) {
                FloatVector a0 = FloatVector.zero(S);
                for (int p = rowStart[r], p1 = rowStart[r + 1]; p < p1; p++) {
                    a0 = FloatVector.fromMemorySegment(S, x, xq + 4L * offset[p], ORDER).fma(FloatVector.broadcast(S, value[p]), a0);
                }
                store(a0, bias == null ? 0f : bias[r], y, yOffset + (long) r * ldy + q, res, resOffset + (long) r * ldr + q, relu, valid, q);
            }
        }
        // scalar tail: the last n mod L positions
        for (; q < n; q++) {
            for (int r = rowFrom; r < rowTo; r++) {
                float acc = 0f;
                for (int p = rowStart[r], p1 = rowStart[r + 1]; p < p1; p++) acc = Math.fma(value[p], x.getAtIndex(F, xOffset + offset[p] + q), acc);
                float v = (bias == null ? 0f : bias[r]) + acc;
                if (res != null) v += res.getAtIndex(F, resOffset + (long) r * ldr + q);
                if (relu) v = Math.max(v, 0f);
                if (valid != null && !valid[q]) v = 0f;
                y.setAtIndex(F, yOffset + (long) r * ldy + q, v);
            }
        }
    }

    /** Epilogue of one vector: + bias, + residual, ReLU, zero the invalid positions, store at float index yi. */
    private static void store(FloatVector acc, float bias, MemorySegment y, long yi, MemorySegment res, long ri,
                              boolean relu, boolean[] valid, int q) {
        FloatVector v = acc.add(bias);
        if (res != null) v = v.add(FloatVector.fromMemorySegment(S, res, 4 * ri, ORDER));
        if (relu) v = v.max(0f);
        if (valid != null) v = FloatVector.zero(S).blend(v, VectorMask.fromArray(S, valid, q));
        v.intoMemorySegment(y, 4 * yi, ORDER);
    }

    @Override
    public void copyRows(MemorySegment src, long srcOffset, int srcStride, MemorySegment dst, long dstOffset, int dstStride, int rows, int n) {
        for (int i = 0; i < rows; i++) {
            long from = 4 * (srcOffset + (long) i * srcStride), to = 4 * (dstOffset + (long) i * dstStride);
            int j = 0;
            // body: one vector at a time (a row is a few vectors; the copy is bound by the stores)
            for (; j + L <= n; j += L) FloatVector.fromMemorySegment(S, src, from + 4L * j, ORDER).intoMemorySegment(dst, to + 4L * j, ORDER);
            // tail: masked
            if (j < n) {
                VectorMask<Float> m = S.indexInRange(j, n);
                FloatVector.fromMemorySegment(S, src, from + 4L * j, ORDER, m).intoMemorySegment(dst, to + 4L * j, ORDER, m);
            }
        }
    }

    @Override
    public void deinterleave(MemorySegment x, long xOffset, MemorySegment even, long evenOffset, MemorySegment odd, long oddOffset, int pairs) {
        int j = 0;
        // body: 2 vectors of x give one vector of each parity (two two-vector permutes)
        for (; j + L <= pairs; j += L) {
            long at = 4 * (xOffset + 2L * j);
            FloatVector v0 = FloatVector.fromMemorySegment(S, x, at, ORDER), v1 = FloatVector.fromMemorySegment(S, x, at + VB, ORDER);
            v0.rearrange(EVEN, v1).intoMemorySegment(even, 4 * (evenOffset + j), ORDER);
            v0.rearrange(ODD, v1).intoMemorySegment(odd, 4 * (oddOffset + j), ORDER);
        }
        // tail: the same on masked loads and stores (rows of small planes are all tail)
        if (j < pairs) {
            long at = 4 * (xOffset + 2L * j);
            int left = 2 * (pairs - j);
            FloatVector v0 = FloatVector.fromMemorySegment(S, x, at, ORDER, S.indexInRange(0, left));
            FloatVector v1 = FloatVector.fromMemorySegment(S, x, at + VB, ORDER, S.indexInRange(L, left));
            VectorMask<Float> m = S.indexInRange(j, pairs);
            v0.rearrange(EVEN, v1).intoMemorySegment(even, 4 * (evenOffset + j), ORDER, m);
            v0.rearrange(ODD, v1).intoMemorySegment(odd, 4 * (oddOffset + j), ORDER, m);
        }
    }
}
