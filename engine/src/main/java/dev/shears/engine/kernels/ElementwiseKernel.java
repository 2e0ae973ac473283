package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Elementwise arithmetic and the fused optimizer steps; offsets count floats, each operand holds
 * {@code n} floats. An output may alias an input of the same index (a += b through add is fine);
 * partially overlapping ranges are not supported. Every operation is a fixed sequence of IEEE
 * float operations per element (no FMA unless named), so the twins agree bit for bit.
 * Implementations: ElementwiseScalar (the spec) and the SIMD twin; callers go through
 * {@link Elementwise}.
 */
public interface ElementwiseKernel {
    /** {@code out = a + b}. */
    void add(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n);

    /** {@code a += b}. */
    void addInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n);

    /** {@code a *= s}. */
    void scale(MemorySegment a, long aOffset, float s, int n);

    /** {@code y = fma(alpha, x, y)} (one rounding). */
    void axpy(float alpha, MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n);

    /** {@code y = fma(a, x, b)}: an affine map with one rounding (batch norm's y = scale x + shift). */
    void affine(MemorySegment x, long xOffset, float a, float b, MemorySegment y, long yOffset, int n);

    /**
     * {@code out = fma(b, v, fma(a, u, c))}: two scaled inputs and a constant in one pass (batch
     * norm's dx = a dy + b x + c); out may be u or v itself (element i is read before it is written).
     */
    void affine2(float a, MemorySegment u, long uOffset, float b, MemorySegment v, long vOffset, float c, MemorySegment out, long outOffset, int n);

    /** {@code out = a * b}. */
    void mul(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n);

    /** {@code a *= b}. */
    void mulInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n);

    /** {@code a = value}. */
    void fill(MemorySegment a, long aOffset, float value, int n);

    /** {@code dst = src} (the ranges must not overlap unless identical). */
    void copy(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int n);

    /** {@code w *= mask} (a 0/1 float pruning mask). */
    void maskMultiply(MemorySegment w, long wOffset, MemorySegment mask, long maskOffset, int n);

    /**
     * One SGD step with PyTorch's semantics: {@code g' = g + weightDecay w} (skipped when
     * weightDecay is 0); with momentum, {@code v = firstStep ? g' : momentum v + (1 - dampening) g'}
     * and {@code step = nesterov ? g' + momentum v : v}; without momentum (0) {@code step = g'}
     * and v is neither read nor written; then {@code w -= lr step}. g is not modified.
     */
    void sgdMomentum(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment v, long vOffset, int n,
                     float lr, float momentum, float weightDecay, boolean nesterov, float dampening, boolean firstStep);

    /**
     * One Adam step with PyTorch's semantics (L2 weight decay added to the gradient, not AdamW):
     * {@code g' = g + weightDecay w}; {@code m = beta1 m + (1 - beta1) g'};
     * {@code v = beta2 v + (1 - beta2) g'^2}; {@code w -= (lr / (1 - beta1^step)) m /
     * (sqrt(v) / sqrt(1 - beta2^step) + eps)}, with {@code step} counting from 1. The two bias
     * corrections are computed once in double, then rounded to float.
     */
    void adam(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment m, long mOffset, MemorySegment v, long vOffset,
              int n, float lr, float beta1, float beta2, float eps, float weightDecay, long step);

    /** Adam's per-call constants, shared by the twins so both round them the same way. */
    record AdamConstants(float stepSize, float biasCorrection2Sqrt) {
        public static AdamConstants of(float lr, float beta1, float beta2, long step) {
            double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
            return new AdamConstants((float) (lr / bc1), (float) Math.sqrt(bc2));
        }
    }
}
