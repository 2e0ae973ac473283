package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The elementwise and optimizer spec, written plainly, one element at a time. Pinned by
 * ElementwiseTest (the SIMD twin equals it bit for bit; the optimizer steps match a double
 * reference of PyTorch's formulas over several steps).
 */
public final class ElementwiseScalar implements ElementwiseKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void add(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n) {
        for (int i = 0; i < n; i++) out.setAtIndex(F, outOffset + i, a.getAtIndex(F, aOffset + i) + b.getAtIndex(F, bOffset + i));
    }

    @Override
    public void addInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n) {
        add(a, aOffset, b, bOffset, a, aOffset, n);
    }

    @Override
    public void scale(MemorySegment a, long aOffset, float s, int n) {
        for (int i = 0; i < n; i++) a.setAtIndex(F, aOffset + i, a.getAtIndex(F, aOffset + i) * s);
    }

    @Override
    public void axpy(float alpha, MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        for (int i = 0; i < n; i++) y.setAtIndex(F, yOffset + i, Math.fma(alpha, x.getAtIndex(F, xOffset + i), y.getAtIndex(F, yOffset + i)));
    }

    @Override
    public void affine(MemorySegment x, long xOffset, float a, float b, MemorySegment y, long yOffset, int n) {
        for (int i = 0; i < n; i++) y.setAtIndex(F, yOffset + i, Math.fma(a, x.getAtIndex(F, xOffset + i), b));
    }

    @Override
    public void affine2(float a, MemorySegment u, long uOffset, float b, MemorySegment v, long vOffset, float c, MemorySegment out, long outOffset, int n) {
        for (int i = 0; i < n; i++) {
            float t = Math.fma(a, u.getAtIndex(F, uOffset + i), c);
            out.setAtIndex(F, outOffset + i, Math.fma(b, v.getAtIndex(F, vOffset + i), t));
        }
    }

    @Override
    public void mul(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n) {
        for (int i = 0; i < n; i++) out.setAtIndex(F, outOffset + i, a.getAtIndex(F, aOffset + i) * b.getAtIndex(F, bOffset + i));
    }

    @Override
    public void mulInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n) {
        mul(a, aOffset, b, bOffset, a, aOffset, n);
    }

    @Override
    public void fill(MemorySegment a, long aOffset, float value, int n) {
        for (int i = 0; i < n; i++) a.setAtIndex(F, aOffset + i, value);
    }

    @Override
    public void copy(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int n) {
        for (int i = 0; i < n; i++) dst.setAtIndex(F, dstOffset + i, src.getAtIndex(F, srcOffset + i));
    }

    @Override
    public void maskMultiply(MemorySegment w, long wOffset, MemorySegment mask, long maskOffset, int n) {
        mul(w, wOffset, mask, maskOffset, w, wOffset, n);
    }

    @Override
    public void sgdMomentum(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment v, long vOffset, int n,
                            float lr, float momentum, float weightDecay, boolean nesterov, float dampening, boolean firstStep) {
        float keep = 1f - dampening;
        for (int i = 0; i < n; i++) {
            float wi = w.getAtIndex(F, wOffset + i);
            float gi = g.getAtIndex(F, gOffset + i);
            if (weightDecay != 0f) gi = gi + weightDecay * wi;
            float step = gi;
            if (momentum != 0f) {
                float vi = firstStep ? gi : momentum * v.getAtIndex(F, vOffset + i) + keep * gi;
                v.setAtIndex(F, vOffset + i, vi);
                step = nesterov ? gi + momentum * vi : vi;
            }
            w.setAtIndex(F, wOffset + i, wi - lr * step);
        }
    }

    @Override
    public void adam(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment m, long mOffset, MemorySegment v, long vOffset,
                     int n, float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        AdamConstants c = AdamConstants.of(lr, beta1, beta2, step);
        float oneMinusBeta1 = 1f - beta1, oneMinusBeta2 = 1f - beta2;
        for (int i = 0; i < n; i++) {
            float wi = w.getAtIndex(F, wOffset + i);
            float gi = g.getAtIndex(F, gOffset + i);
            if (weightDecay != 0f) gi = gi + weightDecay * wi;
            float mi = beta1 * m.getAtIndex(F, mOffset + i) + oneMinusBeta1 * gi;
            float vi = beta2 * v.getAtIndex(F, vOffset + i) + oneMinusBeta2 * (gi * gi);
            m.setAtIndex(F, mOffset + i, mi);
            v.setAtIndex(F, vOffset + i, vi);
            float denom = (float) Math.sqrt(vi) / c.biasCorrection2Sqrt() + eps;
            w.setAtIndex(F, wOffset + i, wi - c.stepSize() * (mi / denom));
        }
    }
}
