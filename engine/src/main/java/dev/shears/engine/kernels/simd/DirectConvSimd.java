package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.DirectConvKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of DirectConvScalar. Dense: blocks of 3 vectors of output positions outer, blocks of
 * ROWS = 4 output channels inner; the 12 accumulators stay in registers over the whole reduction,
 * each step 3 unaligned loads of the input at the tap's offset and 4 broadcasts of packed weights
 * (12 FMAs per 7 loads), stored once through the epilogue. The positions block outer keeps the
 * input it reads (reduction x 3 vectors) in L1 while every channel block passes over it.
 * Depthwise: 4 vectors per channel in flight (4 independent FMA chains over the taps).
 * Not threaded (the facade splits channels). Native segments. Pinned by DirectConvTest.
 */
public final class DirectConvSimd implements DirectConvKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final long VB = 4L * L; // bytes per vector
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    @Override
    public void dense(float[] packed, int kn, int[] offset, float[] bias, int ocFrom, int ocTo, int qFrom, int qTo,
                      MemorySegment x, long xOffset, MemorySegment y, long yOffset, int ldy,
                      MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        int q = qFrom;
        // body: 4 channels x 3 vectors = 12 accumulators (of 32 AVX-512 registers: 12 + 3 inputs + 4 weights)
        for (; q + 3 * L <= qTo; q += 3 * L) {
            long xq = 4 * (xOffset + q);
            for (int o = ocFrom; o < ocTo; o += ROWS) {
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
                FloatVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
                int wi = (o / ROWS) * kn * ROWS;
                for (int j = 0; j < kn; j++, wi += ROWS) {
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
                // raw sums stored here, the epilogue re-reads them from L1: a helper taking vectors would box
                // them when C2 does not inline it (measured 10x slower)
                int rows = Math.min(ROWS, ocTo - o);
                long y0 = 4 * (yOffset + (long) o * ldy + q), yb = 4L * ldy;
                a00.intoMemorySegment(y, y0, ORDER);
                a01.intoMemorySegment(y, y0 + VB, ORDER);
                a02.intoMemorySegment(y, y0 + 2 * VB, ORDER);
                if (rows > 1) {
                    a10.intoMemorySegment(y, y0 + yb, ORDER);
                    a11.intoMemorySegment(y, y0 + yb + VB, ORDER);
                    a12.intoMemorySegment(y, y0 + yb + 2 * VB, ORDER);
                }
                if (rows > 2) {
                    a20.intoMemorySegment(y, y0 + 2 * yb, ORDER);
                    a21.intoMemorySegment(y, y0 + 2 * yb + VB, ORDER);
                    a22.intoMemorySegment(y, y0 + 2 * yb + 2 * VB, ORDER);
                }
                if (rows > 3) {
                    a30.intoMemorySegment(y, y0 + 3 * yb, ORDER);
                    a31.intoMemorySegment(y, y0 + 3 * yb + VB, ORDER);
                    a32.intoMemorySegment(y, y0 + 3 * yb + 2 * VB, ORDER);
                }
                for (int r = 0; r < rows; r++) {
                    finish(y, yOffset + (long) (o + r) * ldy + q, 3, bias(bias, o + r), res, resOffset + (long) (o + r) * ldr + q, relu, valid, q);
                }
            }
        }
        // vector tail: 4 channels x 1 vector
        for (; q + L <= qTo; q += L) {
            long xq = 4 * (xOffset + q);
            for (int o = ocFrom; o < ocTo; o += ROWS) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                int wi = (o / ROWS) * kn * ROWS;
                for (int j = 0; j < kn; j++, wi += ROWS) {
                    FloatVector x0 = FloatVector.fromMemorySegment(S, x, xq + 4L * offset[j], ORDER);
                    a0 = x0.fma(FloatVector.broadcast(S, packed[wi]), a0);
                    a1 = x0.fma(FloatVector.broadcast(S, packed[wi + 1]), a1);
                    a2 = x0.fma(FloatVector.broadcast(S, packed[wi + 2]), a2);
                    a3 = x0.fma(FloatVector.broadcast(S, packed[wi + 3]), a3);
                }
                int rows = Math.min(ROWS, ocTo - o);
                long y0 = 4 * (yOffset + (long) o * ldy + q), yb = 4L * ldy;
                a0.intoMemorySegment(y, y0, ORDER);
                if (rows > 1) a1.intoMemorySegment(y, y0 + yb, ORDER);
                if (rows > 2) a2.intoMemorySegment(y, y0 + 2 * yb, ORDER);
                if (rows > 3) a3.intoMemorySegment(y, y0 + 3 * yb, ORDER);
                for (int r = 0; r < rows; r++) {
                    finish(y, yOffset + (long) (o + r) * ldy + q, 1, bias(bias, o + r), res, resOffset + (long) (o + r) * ldr + q, relu, valid, q);
                }
            }
        }
        // scalar tail: the last positions short of a vector
        for (; q < qTo; q++) {
            for (int o = ocFrom; o < ocTo; o++) {
                int base = (o / ROWS) * kn * ROWS + o % ROWS;
                float acc = 0f;
                for (int j = 0; j < kn; j++) acc = Math.fma(packed[base + j * ROWS], x.getAtIndex(F, xOffset + offset[j] + q), acc);
                scalarStore(acc, bias(bias, o), y, yOffset + (long) o * ldy + q, res, resOffset + (long) o * ldr + q, relu, valid, q);
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
                finish(y, yc + q, 4, b, res, rc + q, relu, valid, q);
            }
            // vector tail
            for (; q + L <= qTo; q += L) {
                FloatVector a0 = FloatVector.zero(S);
                long xq = xc + 4L * q;
                for (int t = 0; t < kk; t++) a0 = FloatVector.fromMemorySegment(S, x, xq + 4L * offset[t], ORDER).fma(FloatVector.broadcast(S, taps[t0 + t]), a0);
                a0.intoMemorySegment(y, 4 * (yc + q), ORDER);
                finish(y, yc + q, 1, b, res, rc + q, relu, valid, q);
            }
            // scalar tail
            for (; q < qTo; q++) {
                float acc = 0f;
                for (int t = 0; t < kk; t++) acc = Math.fma(taps[t0 + t], x.getAtIndex(F, xOffset + ch * ldx + offset[t] + q), acc);
                scalarStore(acc, b, y, yc + q, res, rc + q, relu, valid, q);
            }
        }
    }

    private static float bias(float[] bias, int o) {
        return bias == null ? 0f : bias[o];
    }

    /**
     * Epilogue of {@code vectors} vectors of raw sums already stored at float index yi: + bias,
     * + residual, ReLU, zero the invalid positions, stored back.
     */
    private static void finish(MemorySegment y, long yi, int vectors, float bias, MemorySegment res, long ri, boolean relu, boolean[] valid, int q) {
        for (int v = 0; v < vectors; v++) {
            long at = 4 * (yi + (long) v * L);
            FloatVector o = FloatVector.fromMemorySegment(S, y, at, ORDER).add(bias);
            if (res != null) o = o.add(FloatVector.fromMemorySegment(S, res, 4 * (ri + (long) v * L), ORDER));
            if (relu) o = o.max(0f);
            if (valid != null) o = FloatVector.zero(S).blend(o, VectorMask.fromArray(S, valid, q + v * L));
            o.intoMemorySegment(y, at, ORDER);
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
