package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.DirectConvKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of DirectConvScalar. Dense: blocks of 3 vectors of output positions outer (4 or 5 on
 * AVX-512 where they tile the positions exactly and 3 do not), blocks of ROWS = 4 output channels
 * inner, the reduction in chunks of 128 between them; the accumulators stay in registers over a
 * chunk, each step 3-5 unaligned loads of the input at the tap's offset and 4 broadcasts of packed
 * weights, then pass through a small array into the epilogue (bias, residual, ReLU, zeroed border
 * columns; the last vector of a short block masked). Depthwise: 4 vectors per channel in flight
 * (4 independent FMA chains over the taps). Parity split: two-vector permutes. Not threaded (the
 * facade splits channels or positions). Native segments. Pinned by DirectConvTest.
 */
public final class DirectConvSimd implements DirectConvKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final long VB = 4L * L; // bytes per vector
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Reduction chunk of the dense body: 128 x 3 vectors of input = 24 KiB at 512 bits, within a 48 KiB L1. */
    private static final int CHUNK = 128;

    @Override
    public void dense(float[] packed, int kn, int[] offset, float[] bias, int ocFrom, int ocTo, int qFrom, int qTo,
                      MemorySegment x, long xOffset, MemorySegment y, long yOffset, int ldy,
                      MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        // 3 vectors of positions per block; 5 or 4 where they tile the range exactly and 3 would not, when the
        // registers allow (AVX-512: 20 or 16 accumulators of 32). 8x8 planes: 80 wide positions, one block of 5
        // instead of 2 of 3 with a third wasted (1.36x on ResNet-32's stage 3); 32x32: 1088 = 17 blocks of 4 (5-10%)
        int n = qTo - qFrom;
        int vectors = L < 16 || n % (3 * L) == 0 ? 3 : n % (5 * L) == 0 ? 5 : n % (4 * L) == 0 ? 4 : 3;
        float[] sums = new float[ROWS * vectors * L]; // one block's raw sums (ROWS rows of `vectors` vectors)
        // reduction chunks: the input a chunk reads for one block of positions (chunk x 3 vectors) stays in L1
        // while every channel block passes over it; partial sums wait in y between chunks
        int chunk = kn <= 2 * CHUNK ? kn : CHUNK;
        for (int q = qFrom; q < qTo; q += vectors * L) {
            int lim = Math.min(vectors * L, qTo - q); // positions of this block (the last may be short)
            for (int j0 = 0; j0 < kn; j0 += chunk) {
                int j1 = Math.min(kn, j0 + chunk);
                for (int o = ocFrom; o < ocTo; o += ROWS) {
                    if (vectors == 5) block5(packed, kn, offset, j0, j1, o, x, 4 * (xOffset + q), sums);
                    else if (vectors == 4) block4(packed, kn, offset, j0, j1, o, x, 4 * (xOffset + q), sums);
                    else block(packed, kn, offset, j0, j1, o, x, 4 * (xOffset + q), sums);
                    emit(sums, vectors, Math.min(ROWS, ocTo - o), lim, j0 == 0, j1 == kn, o, q, y, yOffset, ldy, bias, res, resOffset, ldr, relu, valid);
                }
            }
        }
    }

    /**
     * Body: 4 channels x 3 vectors = 12 accumulators (of 32 AVX-512 registers: 12 + 3 inputs + 1
     * weight) over reduction [j0, j1) for the block of positions at byte offset xq, stored raw
     * into sums. Takes and returns no vectors (a helper that did boxed them when C2 did not inline
     * it: 10x slower), and stays small enough for C1 (the first tier must not run it interpreted).
     */
    private static void block(float[] packed, int kn, int[] offset, int j0, int j1, int o, MemorySegment x, long xq, float[] sums) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
        int wi = ((o / ROWS) * kn + j0) * ROWS;
        for (int j = j0; j < j1; j++, wi += ROWS) {
            long xb = xq + 4L * offset[j];
            FloatVector x0 = FloatVector.fromMemorySegment(S, x, xb, ORDER);
            FloatVector x1 = FloatVector.fromMemorySegment(S, x, xb + VB, ORDER);
            FloatVector x2 = FloatVector.fromMemorySegment(S, x, xb + 2 * VB, ORDER);
            FloatVector w = FloatVector.broadcast(S, packed[wi]);
            a00 = x0.fma(w, a00);
            a01 = x1.fma(w, a01);
            a02 = x2.fma(w, a02);
            w = FloatVector.broadcast(S, packed[wi + 1]);
            a10 = x0.fma(w, a10);
            a11 = x1.fma(w, a11);
            a12 = x2.fma(w, a12);
            w = FloatVector.broadcast(S, packed[wi + 2]);
            a20 = x0.fma(w, a20);
            a21 = x1.fma(w, a21);
            a22 = x2.fma(w, a22);
            w = FloatVector.broadcast(S, packed[wi + 3]);
            a30 = x0.fma(w, a30);
            a31 = x1.fma(w, a31);
            a32 = x2.fma(w, a32);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
        a02.intoArray(sums, 2 * L);
        a10.intoArray(sums, 3 * L);
        a11.intoArray(sums, 4 * L);
        a12.intoArray(sums, 5 * L);
        a20.intoArray(sums, 6 * L);
        a21.intoArray(sums, 7 * L);
        a22.intoArray(sums, 8 * L);
        a30.intoArray(sums, 9 * L);
        a31.intoArray(sums, 10 * L);
        a32.intoArray(sums, 11 * L);
    }

    /** As {@link #block} with 5 vectors of positions: 20 accumulators (AVX-512 only: 16 registers would spill). */
    private static void block5(float[] packed, int kn, int[] offset, int j0, int j1, int o, MemorySegment x, long xq, float[] sums) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00, a34 = a00;
        int wi = ((o / ROWS) * kn + j0) * ROWS;
        for (int j = j0; j < j1; j++, wi += ROWS) {
            long xb = xq + 4L * offset[j];
            FloatVector x0 = FloatVector.fromMemorySegment(S, x, xb, ORDER);
            FloatVector x1 = FloatVector.fromMemorySegment(S, x, xb + VB, ORDER);
            FloatVector x2 = FloatVector.fromMemorySegment(S, x, xb + 2 * VB, ORDER);
            FloatVector x3 = FloatVector.fromMemorySegment(S, x, xb + 3 * VB, ORDER);
            FloatVector x4 = FloatVector.fromMemorySegment(S, x, xb + 4 * VB, ORDER);
            FloatVector w = FloatVector.broadcast(S, packed[wi]);
            a00 = x0.fma(w, a00);
            a01 = x1.fma(w, a01);
            a02 = x2.fma(w, a02);
            a03 = x3.fma(w, a03);
            a04 = x4.fma(w, a04);
            w = FloatVector.broadcast(S, packed[wi + 1]);
            a10 = x0.fma(w, a10);
            a11 = x1.fma(w, a11);
            a12 = x2.fma(w, a12);
            a13 = x3.fma(w, a13);
            a14 = x4.fma(w, a14);
            w = FloatVector.broadcast(S, packed[wi + 2]);
            a20 = x0.fma(w, a20);
            a21 = x1.fma(w, a21);
            a22 = x2.fma(w, a22);
            a23 = x3.fma(w, a23);
            a24 = x4.fma(w, a24);
            w = FloatVector.broadcast(S, packed[wi + 3]);
            a30 = x0.fma(w, a30);
            a31 = x1.fma(w, a31);
            a32 = x2.fma(w, a32);
            a33 = x3.fma(w, a33);
            a34 = x4.fma(w, a34);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
        a02.intoArray(sums, 2 * L);
        a03.intoArray(sums, 3 * L);
        a04.intoArray(sums, 4 * L);
        a10.intoArray(sums, 5 * L);
        a11.intoArray(sums, 6 * L);
        a12.intoArray(sums, 7 * L);
        a13.intoArray(sums, 8 * L);
        a14.intoArray(sums, 9 * L);
        a20.intoArray(sums, 10 * L);
        a21.intoArray(sums, 11 * L);
        a22.intoArray(sums, 12 * L);
        a23.intoArray(sums, 13 * L);
        a24.intoArray(sums, 14 * L);
        a30.intoArray(sums, 15 * L);
        a31.intoArray(sums, 16 * L);
        a32.intoArray(sums, 17 * L);
        a33.intoArray(sums, 18 * L);
        a34.intoArray(sums, 19 * L);
    }

    /** As {@link #block} with 4 vectors of positions: 16 accumulators (AVX-512 only: 16 registers would spill). */
    private static void block4(float[] packed, int kn, int[] offset, int j0, int j1, int o, MemorySegment x, long xq, float[] sums) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int wi = ((o / ROWS) * kn + j0) * ROWS;
        for (int j = j0; j < j1; j++, wi += ROWS) {
            long xb = xq + 4L * offset[j];
            FloatVector x0 = FloatVector.fromMemorySegment(S, x, xb, ORDER);
            FloatVector x1 = FloatVector.fromMemorySegment(S, x, xb + VB, ORDER);
            FloatVector x2 = FloatVector.fromMemorySegment(S, x, xb + 2 * VB, ORDER);
            FloatVector x3 = FloatVector.fromMemorySegment(S, x, xb + 3 * VB, ORDER);
            FloatVector w = FloatVector.broadcast(S, packed[wi]);
            a00 = x0.fma(w, a00);
            a01 = x1.fma(w, a01);
            a02 = x2.fma(w, a02);
            a03 = x3.fma(w, a03);
            w = FloatVector.broadcast(S, packed[wi + 1]);
            a10 = x0.fma(w, a10);
            a11 = x1.fma(w, a11);
            a12 = x2.fma(w, a12);
            a13 = x3.fma(w, a13);
            w = FloatVector.broadcast(S, packed[wi + 2]);
            a20 = x0.fma(w, a20);
            a21 = x1.fma(w, a21);
            a22 = x2.fma(w, a22);
            a23 = x3.fma(w, a23);
            w = FloatVector.broadcast(S, packed[wi + 3]);
            a30 = x0.fma(w, a30);
            a31 = x1.fma(w, a31);
            a32 = x2.fma(w, a32);
            a33 = x3.fma(w, a33);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
        a02.intoArray(sums, 2 * L);
        a03.intoArray(sums, 3 * L);
        a10.intoArray(sums, 4 * L);
        a11.intoArray(sums, 5 * L);
        a12.intoArray(sums, 6 * L);
        a13.intoArray(sums, 7 * L);
        a20.intoArray(sums, 8 * L);
        a21.intoArray(sums, 9 * L);
        a22.intoArray(sums, 10 * L);
        a23.intoArray(sums, 11 * L);
        a30.intoArray(sums, 12 * L);
        a31.intoArray(sums, 13 * L);
        a32.intoArray(sums, 14 * L);
        a33.intoArray(sums, 15 * L);
    }

    /**
     * A block's sums into y, rows o.. o+rows, positions q..q+lim: the first chunk stores them,
     * later ones add them to y; the last chunk then adds bias and residual, applies ReLU, zeroes
     * the invalid positions. The last vector of a short block is masked.
     */
    private static void emit(float[] sums, int vectors, int rows, int lim, boolean first, boolean last, int o, int q, MemorySegment y, long yOffset, int ldy,
                             float[] bias, MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        for (int r = 0; r < rows; r++) {
            long yi = yOffset + (long) (o + r) * ldy + q, ri = resOffset + (long) (o + r) * ldr + q;
            float b = bias(bias, o + r);
            for (int v = 0; v < lim; v += L) {
                long at = 4 * (yi + v);
                VectorMask<Float> m = v + L <= lim ? null : S.indexInRange(v, lim);
                FloatVector s = FloatVector.fromArray(S, sums, r * vectors * L + v);
                if (!first) s = s.add(m == null ? FloatVector.fromMemorySegment(S, y, at, ORDER) : FloatVector.fromMemorySegment(S, y, at, ORDER, m));
                if (last) {
                    s = s.add(b);
                    if (res != null) {
                        long rat = 4 * (ri + v);
                        s = s.add(m == null ? FloatVector.fromMemorySegment(S, res, rat, ORDER) : FloatVector.fromMemorySegment(S, res, rat, ORDER, m));
                    }
                    if (relu) s = s.max(0f);
                    if (valid != null) {
                        if (m == null) s = FloatVector.zero(S).blend(s, VectorMask.fromArray(S, valid, q + v));
                        else for (int i = 0; i < lim - v; i++) if (!valid[q + v + i]) s = s.withLane(i, 0f);
                    }
                }
                if (m == null) s.intoMemorySegment(y, at, ORDER);
                else s.intoMemorySegment(y, at, ORDER, m);
            }
        }
    }

    @Override
    public void depthwise(float[] taps, int kk, int[] offset, float[] bias, int cFrom, int cTo, int qFrom, int qTo,
                          MemorySegment x, long xOffset, long ldx, MemorySegment y, long yOffset, int ldy,
                          MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        for (int ch = cFrom; ch < cTo; ch++) {
            long xc = 4 * (xOffset + ch * ldx);
            long yc = yOffset + (long) ch * ldy, rc = resOffset + (long) ch * ldr;
            float b = bias(bias, ch);
            int t0 = ch * kk, q = qFrom;
            // body: 4 vectors, 4 independent FMA chains (one chain of kk FMAs would wait on the FMA latency)
            for (; q + 4 * L <= qTo; q += 4 * L) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                long xq = xc + 4L * q;
                for (int t = 0; t < kk; t++) {
                    FloatVector w = FloatVector.broadcast(S, taps[t0 + t]);
                    long xb = xq + 4L * offset[t];
                    a0 = FloatVector.fromMemorySegment(S, x, xb, ORDER).fma(w, a0);
                    a1 = FloatVector.fromMemorySegment(S, x, xb + VB, ORDER).fma(w, a1);
                    a2 = FloatVector.fromMemorySegment(S, x, xb + 2 * VB, ORDER).fma(w, a2);
                    a3 = FloatVector.fromMemorySegment(S, x, xb + 3 * VB, ORDER).fma(w, a3);
                }
                long y0 = 4 * (yc + q);
                a0.intoMemorySegment(y, y0, ORDER);
                a1.intoMemorySegment(y, y0 + VB, ORDER);
                a2.intoMemorySegment(y, y0 + 2 * VB, ORDER);
                a3.intoMemorySegment(y, y0 + 3 * VB, ORDER);
                finish(y, yc + q, 4 * L, b, res, rc + q, relu, valid, q);
            }
            // vector tail
            for (; q + L <= qTo; q += L) {
                FloatVector a0 = FloatVector.zero(S);
                long xq = xc + 4L * q;
                for (int t = 0; t < kk; t++) a0 = FloatVector.fromMemorySegment(S, x, xq + 4L * offset[t], ORDER).fma(FloatVector.broadcast(S, taps[t0 + t]), a0);
                a0.intoMemorySegment(y, 4 * (yc + q), ORDER);
                finish(y, yc + q, L, b, res, rc + q, relu, valid, q);
            }
            // scalar tail
            for (; q < qTo; q++) {
                float acc = 0f;
                for (int t = 0; t < kk; t++) acc = Math.fma(taps[t0 + t], x.getAtIndex(F, xOffset + ch * ldx + offset[t] + q), acc);
                scalarStore(acc, b, y, yc + q, res, rc + q, relu, valid, q);
            }
        }
    }

    @Override
    public void epilogue(float[] bias, int rowFrom, int rowTo, int qFrom, int qTo, MemorySegment y, long yOffset, int ldy,
                         MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        for (int r = rowFrom; r < rowTo; r++) {
            finish(y, yOffset + (long) r * ldy + qFrom, qTo - qFrom, bias(bias, r), res, resOffset + (long) r * ldr + qFrom, relu, valid, qFrom);
        }
    }

    private static float bias(float[] bias, int o) {
        return bias == null ? 0f : bias[o];
    }

    /**
     * Epilogue of {@code n} raw sums already stored at float index yi: + bias, + residual, ReLU,
     * zero the invalid positions, stored back (the last vector masked when n is not a multiple).
     */
    private static void finish(MemorySegment y, long yi, int n, float bias, MemorySegment res, long ri, boolean relu, boolean[] valid, int q) {
        for (int v = 0; v < n; v += L) {
            long at = 4 * (yi + v);
            VectorMask<Float> m = v + L <= n ? null : S.indexInRange(v, n);
            FloatVector o = (m == null ? FloatVector.fromMemorySegment(S, y, at, ORDER) : FloatVector.fromMemorySegment(S, y, at, ORDER, m)).add(bias);
            if (res != null) {
                long rat = 4 * (ri + v);
                o = o.add(m == null ? FloatVector.fromMemorySegment(S, res, rat, ORDER) : FloatVector.fromMemorySegment(S, res, rat, ORDER, m));
            }
            if (relu) o = o.max(0f);
            if (valid != null) {
                if (m == null) o = FloatVector.zero(S).blend(o, VectorMask.fromArray(S, valid, q + v));
                else for (int i = 0; i < n - v; i++) if (!valid[q + v + i]) o = o.withLane(i, 0f);
            }
            if (m == null) o.intoMemorySegment(y, at, ORDER);
            else o.intoMemorySegment(y, at, ORDER, m);
        }
    }

    private static void scalarStore(float acc, float bias, MemorySegment y, long yi, MemorySegment res, long ri, boolean relu, boolean[] valid, int q) {
        float v = bias + acc;
        if (res != null) v += res.getAtIndex(F, ri);
        if (relu) v = Math.max(v, 0f);
        if (valid != null && !valid[q]) v = 0f;
        y.setAtIndex(F, yi, v);
    }
}
