package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.ElementwiseKernel;
import dev.shears.engine.kernels.ElementwiseScalar;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of ElementwiseScalar, the same float operations in the same order per element (so
 * bit-identical results). Every kernel: guard (shorter than a vector: the spec), bound, body of
 * one vector per step (elements are independent, nothing accumulates; these loops are
 * memory-bound and the JIT unrolls them), masked vector tail; no reduce, no scalar tail.
 * Pinned by ElementwiseTest.
 */
public final class ElementwiseSimd implements ElementwiseKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ElementwiseKernel SCALAR = new ElementwiseScalar();

    private static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER);
    }

    private static FloatVector load(MemorySegment s, long index, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER, m);
    }

    private static void store(FloatVector v, MemorySegment s, long index) {
        v.intoMemorySegment(s, index * 4, ORDER);
    }

    private static void store(FloatVector v, MemorySegment s, long index, VectorMask<Float> m) {
        v.intoMemorySegment(s, index * 4, ORDER, m);
    }

    @Override
    public void add(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n) {
        if (n < S.length()) { // guard
            SCALAR.add(a, aOffset, b, bOffset, out, outOffset, n);
            return;
        }
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) store(load(a, aOffset + i).add(load(b, bOffset + i)), out, outOffset + i); // body
        if (i < n) { // tail
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(a, aOffset + i, m).add(load(b, bOffset + i, m)), out, outOffset + i, m);
        }
    }

    @Override
    public void addInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n) {
        add(a, aOffset, b, bOffset, a, aOffset, n);
    }

    @Override
    public void scale(MemorySegment a, long aOffset, float s, int n) {
        if (n < S.length()) {
            SCALAR.scale(a, aOffset, s, n);
            return;
        }
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) store(load(a, aOffset + i).mul(s), a, aOffset + i);
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(a, aOffset + i, m).mul(s), a, aOffset + i, m);
        }
    }

    @Override
    public void axpy(float alpha, MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        if (n < S.length()) {
            SCALAR.axpy(alpha, x, xOffset, y, yOffset, n);
            return;
        }
        FloatVector va = FloatVector.broadcast(S, alpha);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) store(load(x, xOffset + i).fma(va, load(y, yOffset + i)), y, yOffset + i);
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(x, xOffset + i, m).fma(va, load(y, yOffset + i, m)), y, yOffset + i, m);
        }
    }

    @Override
    public void affine(MemorySegment x, long xOffset, float a, float b, MemorySegment y, long yOffset, int n) {
        if (n < S.length()) { // guard
            SCALAR.affine(x, xOffset, a, b, y, yOffset, n);
            return;
        }
        FloatVector va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, b);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) store(load(x, xOffset + i).fma(va, vb), y, yOffset + i); // body
        if (i < n) { // tail
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(x, xOffset + i, m).fma(va, vb), y, yOffset + i, m);
        }
    }

    @Override
    public void affine2(float a, MemorySegment u, long uOffset, float b, MemorySegment v, long vOffset, float c, MemorySegment out, long outOffset, int n) {
        if (n < S.length()) { // guard
            SCALAR.affine2(a, u, uOffset, b, v, vOffset, c, out, outOffset, n);
            return;
        }
        FloatVector va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, b), vc = FloatVector.broadcast(S, c);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) { // body
            store(load(v, vOffset + i).fma(vb, load(u, uOffset + i).fma(va, vc)), out, outOffset + i);
        }
        if (i < n) { // tail
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(v, vOffset + i, m).fma(vb, load(u, uOffset + i, m).fma(va, vc)), out, outOffset + i, m);
        }
    }

    @Override
    public void mul(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n) {
        if (n < S.length()) {
            SCALAR.mul(a, aOffset, b, bOffset, out, outOffset, n);
            return;
        }
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) store(load(a, aOffset + i).mul(load(b, bOffset + i)), out, outOffset + i);
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(a, aOffset + i, m).mul(load(b, bOffset + i, m)), out, outOffset + i, m);
        }
    }

    @Override
    public void mulInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n) {
        mul(a, aOffset, b, bOffset, a, aOffset, n);
    }

    @Override
    public void fill(MemorySegment a, long aOffset, float value, int n) {
        if (n < S.length()) {
            SCALAR.fill(a, aOffset, value, n);
            return;
        }
        FloatVector v = FloatVector.broadcast(S, value);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) store(v, a, aOffset + i);
        if (i < n) store(v, a, aOffset + i, S.indexInRange(i, n));
    }

    @Override
    public void copy(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int n) {
        if (n < S.length()) {
            SCALAR.copy(src, srcOffset, dst, dstOffset, n);
            return;
        }
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) store(load(src, srcOffset + i), dst, dstOffset + i);
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(src, srcOffset + i, m), dst, dstOffset + i, m);
        }
    }

    @Override
    public void maskMultiply(MemorySegment w, long wOffset, MemorySegment mask, long maskOffset, int n) {
        mul(w, wOffset, mask, maskOffset, w, wOffset, n);
    }

    @Override
    public void sgdMomentum(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment v, long vOffset, int n,
                            float lr, float momentum, float weightDecay, boolean nesterov, float dampening, boolean firstStep) {
        if (n < S.length()) {
            SCALAR.sgdMomentum(w, wOffset, g, gOffset, v, vOffset, n, lr, momentum, weightDecay, nesterov, dampening, firstStep);
            return;
        }
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) sgdLane(w, wOffset + i, g, gOffset + i, v, vOffset + i, lr, momentum, weightDecay, nesterov, dampening, firstStep, null);
        if (i < n) sgdLane(w, wOffset + i, g, gOffset + i, v, vOffset + i, lr, momentum, weightDecay, nesterov, dampening, firstStep, S.indexInRange(i, n));
    }

    /** One vector of the SGD step; {@code m == null} is the unmasked body. The flags are loop-invariant, so C2 unswitches them. */
    private static void sgdLane(MemorySegment w, long wi, MemorySegment g, long gi, MemorySegment v, long vi, float lr, float momentum,
                                float weightDecay, boolean nesterov, float dampening, boolean firstStep, VectorMask<Float> m) {
        FloatVector wv = m == null ? load(w, wi) : load(w, wi, m);
        FloatVector gv = m == null ? load(g, gi) : load(g, gi, m);
        if (weightDecay != 0f) gv = gv.add(wv.mul(weightDecay));
        FloatVector step = gv;
        if (momentum != 0f) {
            FloatVector vv;
            if (firstStep) {
                vv = gv;
            } else {
                vv = (m == null ? load(v, vi) : load(v, vi, m)).mul(momentum).add(gv.mul(1f - dampening));
            }
            if (m == null) store(vv, v, vi);
            else store(vv, v, vi, m);
            step = nesterov ? gv.add(vv.mul(momentum)) : vv;
        }
        FloatVector out = wv.sub(step.mul(lr));
        if (m == null) store(out, w, wi);
        else store(out, w, wi, m);
    }

    @Override
    public void adam(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment m, long mOffset, MemorySegment v, long vOffset,
                     int n, float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        if (n < S.length()) {
            SCALAR.adam(w, wOffset, g, gOffset, m, mOffset, v, vOffset, n, lr, beta1, beta2, eps, weightDecay, step);
            return;
        }
        AdamConstants c = AdamConstants.of(lr, beta1, beta2, step);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) adamLane(w, wOffset + i, g, gOffset + i, m, mOffset + i, v, vOffset + i, beta1, beta2, eps, weightDecay, c, null);
        if (i < n) adamLane(w, wOffset + i, g, gOffset + i, m, mOffset + i, v, vOffset + i, beta1, beta2, eps, weightDecay, c, S.indexInRange(i, n));
    }

    private static void adamLane(MemorySegment w, long wi, MemorySegment g, long gi, MemorySegment m, long mi, MemorySegment v, long vi,
                                 float beta1, float beta2, float eps, float weightDecay, AdamConstants c, VectorMask<Float> k) {
        FloatVector wv = k == null ? load(w, wi) : load(w, wi, k);
        FloatVector gv = k == null ? load(g, gi) : load(g, gi, k);
        if (weightDecay != 0f) gv = gv.add(wv.mul(weightDecay));
        FloatVector mv = (k == null ? load(m, mi) : load(m, mi, k)).mul(beta1).add(gv.mul(1f - beta1));
        FloatVector vv = (k == null ? load(v, vi) : load(v, vi, k)).mul(beta2).add(gv.mul(gv).mul(1f - beta2));
        FloatVector denom = vv.sqrt().div(c.biasCorrection2Sqrt()).add(eps);
        FloatVector out = wv.sub(mv.div(denom).mul(c.stepSize()));
        if (k == null) {
            store(mv, m, mi);
            store(vv, v, vi);
            store(out, w, wi);
        } else {
            store(mv, m, mi, k);
            store(vv, v, vi, k);
            store(out, w, wi, k);
        }
    }
}
