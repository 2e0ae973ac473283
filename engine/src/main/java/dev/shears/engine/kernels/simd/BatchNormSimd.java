package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.BatchNormKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of BatchNormScalar. Sums run in float vector chains across a channel's planes and
 * go into a double every {@link #BLOCK} floats (small planes need no reduce each; no chain grows
 * long), so they stay within a length-dependent tolerance of the spec; normalize and backwardInput use
 * the spec's fma and compare, so they match it bit for bit. Sum anatomy: bound, body with two
 * chains per sum (two sums per element already give four independent add chains, enough to
 * cover the FP add latency), vector tail, reduce, scalar tail. Pinned by BatchNormTest.
 */
public final class BatchNormSimd implements BatchNormKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Floats per float-accumulated block (16 KiB). */
    static final int BLOCK = 4096;

    private static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER);
    }

    private static FloatVector load(MemorySegment s, long index, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER, m);
    }

    private static long plane(int image, int channels, int c, int hw) {
        return ((long) image * channels + c) * hw;
    }

    @Override
    public void moments(MemorySegment x, int images, int channels, int hw, int c0, int c1, double[] mean, double[] m2) {
        for (int c = c0; c < c1; c++) {
            float shift = 0f;
            if (hw > 0 && images > 0) {
                double[] first = shiftedSums(x, images, channels, hw, c, 0f, 1);
                shift = (float) (first[0] / hw); // K
            }
            double[] sq = shiftedSums(x, images, channels, hw, c, shift, images);
            long count = (long) images * hw;
            mean[c] = count == 0 ? 0 : shift + sq[0] / count;
            m2[c] = count == 0 ? 0 : Math.max(0, sq[1] - sq[0] * sq[0] / count);
        }
    }

    /**
     * {sum (x - k), sum (x - k)^2} over channel c of the first {@code images} images. The vector
     * chains run across planes (small planes need no reduce each) and go into doubles every
     * BLOCK floats.
     */
    private static double[] shiftedSums(MemorySegment x, int images, int channels, int hw, int c, float k, int upTo) {
        FloatVector kv = FloatVector.broadcast(S, k);
        FloatVector s0 = FloatVector.zero(S), s1 = s0, q0 = s0, q1 = s0;
        double s = 0, q = 0;
        int pending = 0;
        for (int img = 0; img < upTo; img++) {
            long base = plane(img, channels, c, hw);
            for (int from = 0; from < hw; from += BLOCK) {
                long off = base + from;
                int len = Math.min(BLOCK, hw - from);
                int i = 0, bound2 = len & -(2 * L); // bound
                for (; i < bound2; i += 2 * L) { // body
                    FloatVector d0 = load(x, off + i).sub(kv), d1 = load(x, off + i + L).sub(kv);
                    s0 = s0.add(d0);
                    s1 = s1.add(d1);
                    q0 = d0.fma(d0, q0);
                    q1 = d1.fma(d1, q1);
                }
                int bound = S.loopBound(len);
                for (; i < bound; i += L) { // vector tail
                    FloatVector d = load(x, off + i).sub(kv);
                    s0 = s0.add(d);
                    q0 = d.fma(d, q0);
                }
                for (; i < len; i++) { // scalar tail
                    double d = x.getAtIndex(F, off + i) - k;
                    s += d;
                    q += d * d;
                }
                pending += len;
                if (pending >= BLOCK) { // reduce: at most about 2 BLOCK floats per float chain
                    s += KernelSpecies.sumLanes(s0.add(s1));
                    q += KernelSpecies.sumLanes(q0.add(q1));
                    s0 = FloatVector.zero(S);
                    s1 = s0;
                    q0 = s0;
                    q1 = s0;
                    pending = 0;
                }
            }
        }
        s += KernelSpecies.sumLanes(s0.add(s1));
        q += KernelSpecies.sumLanes(q0.add(q1));
        return new double[] {s, q};
    }

    @Override
    public void normalize(MemorySegment x, MemorySegment y, int images, int channels, int hw, int c0, int c1, float[] scale, float[] shift, boolean relu) {
        FloatVector zero = FloatVector.zero(S);
        int bound = S.loopBound(hw);
        for (int i = 0; i < images; i++) {
            for (int c = c0; c < c1; c++) {
                long at = plane(i, channels, c, hw);
                FloatVector a = FloatVector.broadcast(S, scale[c]), b = FloatVector.broadcast(S, shift[c]);
                int j = 0;
                for (; j < bound; j += L) { // body: one vector per step, lanes independent
                    FloatVector z = load(x, at + j).fma(a, b);
                    if (relu) z = z.blend(zero, z.compare(VectorOperators.LT, 0f));
                    z.intoMemorySegment(y, (at + j) * 4, ORDER);
                }
                if (j < hw) { // tail
                    VectorMask<Float> m = S.indexInRange(j, hw);
                    FloatVector z = load(x, at + j, m).fma(a, b);
                    if (relu) z = z.blend(zero, z.compare(VectorOperators.LT, 0f));
                    z.intoMemorySegment(y, (at + j) * 4, ORDER, m);
                }
            }
        }
    }

    @Override
    public void backwardSums(MemorySegment dy, MemorySegment x, int images, int channels, int hw, int c0, int c1,
                             float[] maskScale, float[] maskShift, double[] mean, double[] sumG, double[] sumGX) {
        boolean masked = maskScale != null;
        FloatVector zero = FloatVector.zero(S);
        for (int c = c0; c < c1; c++) {
            float m = (float) mean[c];
            float ms = masked ? maskScale[c] : 0f, mh = masked ? maskShift[c] : 0f;
            FloatVector mv = FloatVector.broadcast(S, m), a = FloatVector.broadcast(S, ms), b = FloatVector.broadcast(S, mh);
            FloatVector s0 = zero, s1 = zero, t0 = zero, t1 = zero;
            double s = 0, t = 0;
            int pending = 0;
            for (int img = 0; img < images; img++) { // chains run across planes, into doubles every BLOCK floats
                long base = plane(img, channels, c, hw);
                for (int from = 0; from < hw; from += BLOCK) {
                    long off = base + from;
                    int len = Math.min(BLOCK, hw - from);
                    int i = 0, bound2 = len & -(2 * L); // bound
                    for (; i < bound2; i += 2 * L) { // body
                        FloatVector x0 = load(x, off + i), x1 = load(x, off + i + L);
                        FloatVector g0 = load(dy, off + i), g1 = load(dy, off + i + L);
                        if (masked) {
                            g0 = zero.blend(g0, x0.fma(a, b).compare(VectorOperators.GT, 0f));
                            g1 = zero.blend(g1, x1.fma(a, b).compare(VectorOperators.GT, 0f));
                        }
                        s0 = s0.add(g0);
                        s1 = s1.add(g1);
                        t0 = g0.fma(x0.sub(mv), t0);
                        t1 = g1.fma(x1.sub(mv), t1);
                    }
                    int bound = S.loopBound(len);
                    for (; i < bound; i += L) { // vector tail
                        FloatVector x0 = load(x, off + i), g0 = load(dy, off + i);
                        if (masked) g0 = zero.blend(g0, x0.fma(a, b).compare(VectorOperators.GT, 0f));
                        s0 = s0.add(g0);
                        t0 = g0.fma(x0.sub(mv), t0);
                    }
                    for (; i < len; i++) { // scalar tail
                        float v = x.getAtIndex(F, off + i), g = dy.getAtIndex(F, off + i);
                        if (masked && !(Math.fma(ms, v, mh) > 0f)) g = 0f;
                        s += g;
                        t += (double) g * (v - m);
                    }
                    pending += len;
                    if (pending >= BLOCK) { // reduce
                        s += KernelSpecies.sumLanes(s0.add(s1));
                        t += KernelSpecies.sumLanes(t0.add(t1));
                        s0 = zero;
                        s1 = zero;
                        t0 = zero;
                        t1 = zero;
                        pending = 0;
                    }
                }
            }
            sumG[c] = s + KernelSpecies.sumLanes(s0.add(s1));
            sumGX[c] = t + KernelSpecies.sumLanes(t0.add(t1));
        }
    }

    @Override
    public void backwardInput(MemorySegment dy, MemorySegment x, MemorySegment dx, int images, int channels, int hw, int c0, int c1,
                              float[] maskScale, float[] maskShift, float[] a, float[] b, float[] k) {
        FloatVector zero = FloatVector.zero(S);
        int bound = S.loopBound(hw);
        boolean masked = maskScale != null;
        for (int i = 0; i < images; i++) {
            for (int c = c0; c < c1; c++) {
                long at = plane(i, channels, c, hw);
                FloatVector va = FloatVector.broadcast(S, a[c]), vb = FloatVector.broadcast(S, b[c]), vk = FloatVector.broadcast(S, k[c]);
                FloatVector ms = FloatVector.broadcast(S, masked ? maskScale[c] : 0f), mh = FloatVector.broadcast(S, masked ? maskShift[c] : 0f);
                int j = 0;
                for (; j < bound; j += L) { // body: one vector per step, lanes independent
                    FloatVector v = load(x, at + j), g = load(dy, at + j);
                    if (masked) g = zero.blend(g, v.fma(ms, mh).compare(VectorOperators.GT, 0f));
                    v.fma(vb, g.fma(va, vk)).intoMemorySegment(dx, (at + j) * 4, ORDER);
                }
                if (j < hw) { // tail
                    VectorMask<Float> m = S.indexInRange(j, hw);
                    FloatVector v = load(x, at + j, m), g = load(dy, at + j, m);
                    if (masked) g = zero.blend(g, v.fma(ms, mh).compare(VectorOperators.GT, 0f));
                    v.fma(vb, g.fma(va, vk)).intoMemorySegment(dx, (at + j) * 4, ORDER, m);
                }
            }
        }
    }
}
