package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The elementwise facade layers and optimizers call: checks that every operand holds {@code n}
 * floats from its offset (errors name the kernel and operand), then runs the selected twin,
 * split over the pool for large {@code n} (results do not depend on the split: each element is
 * computed alone). Semantics in {@link ElementwiseKernel}. Pinned by ElementwiseTest.
 */
public final class Elementwise {
    private static final ElementwiseKernel KERNEL = Twins.pick(ElementwiseKernel.class, "ElementwiseSimd", ElementwiseScalar::new);

    private Elementwise() {}

    /** {@code out = a + b}. */
    public static void add(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n) {
        check("add", n, "a", a, aOffset, "b", b, bOffset, "out", out, outOffset);
        Split.ranges(n, (s, len) -> KERNEL.add(a, aOffset + s, b, bOffset + s, out, outOffset + s, len));
    }

    /** {@code a += b}. */
    public static void addInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n) {
        check("addInPlace", n, "a", a, aOffset, "b", b, bOffset, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.addInPlace(a, aOffset + s, b, bOffset + s, len));
    }

    /** {@code a *= s}. */
    public static void scale(MemorySegment a, long aOffset, float factor, int n) {
        check("scale", n, "a", a, aOffset, null, null, 0, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.scale(a, aOffset + s, factor, len));
    }

    /** {@code y += alpha x} (fused multiply-add). */
    public static void axpy(float alpha, MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        check("axpy", n, "x", x, xOffset, "y", y, yOffset, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.axpy(alpha, x, xOffset + s, y, yOffset + s, len));
    }

    /** {@code y = fma(a, x, b)}. Short calls (one plane of a layer) run on the caller's thread without a lambda. */
    public static void affine(MemorySegment x, long xOffset, float a, float b, MemorySegment y, long yOffset, int n) {
        check("affine", n, "x", x, xOffset, "y", y, yOffset, null, null, 0);
        if (n < 2 * Split.GRAIN) KERNEL.affine(x, xOffset, a, b, y, yOffset, n);
        else Split.ranges(n, (s, len) -> KERNEL.affine(x, xOffset + s, a, b, y, yOffset + s, len));
    }

    /** {@code out = fma(b, v, fma(a, u, c))}; out may be u or v. Short calls run on the caller's thread without a lambda. */
    public static void affine2(float a, MemorySegment u, long uOffset, float b, MemorySegment v, long vOffset, float c,
                               MemorySegment out, long outOffset, int n) {
        check("affine2", n, "u", u, uOffset, "v", v, vOffset, "out", out, outOffset);
        if (n < 2 * Split.GRAIN) KERNEL.affine2(a, u, uOffset, b, v, vOffset, c, out, outOffset, n);
        else Split.ranges(n, (s, len) -> KERNEL.affine2(a, u, uOffset + s, b, v, vOffset + s, c, out, outOffset + s, len));
    }

    /** {@code out = a * b}. */
    public static void mul(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out, long outOffset, int n) {
        check("mul", n, "a", a, aOffset, "b", b, bOffset, "out", out, outOffset);
        Split.ranges(n, (s, len) -> KERNEL.mul(a, aOffset + s, b, bOffset + s, out, outOffset + s, len));
    }

    /** {@code a *= b}. */
    public static void mulInPlace(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int n) {
        check("mulInPlace", n, "a", a, aOffset, "b", b, bOffset, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.mulInPlace(a, aOffset + s, b, bOffset + s, len));
    }

    /** {@code a = value}. */
    public static void fill(MemorySegment a, long aOffset, float value, int n) {
        check("fill", n, "a", a, aOffset, null, null, 0, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.fill(a, aOffset + s, value, len));
    }

    /** {@code dst = src}; the ranges must not partially overlap. */
    public static void copy(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int n) {
        check("copy", n, "src", src, srcOffset, "dst", dst, dstOffset, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.copy(src, srcOffset + s, dst, dstOffset + s, len));
    }

    /** {@code w *= mask}: re-applies a 0/1 pruning mask. */
    public static void maskMultiply(MemorySegment w, long wOffset, MemorySegment mask, long maskOffset, int n) {
        check("maskMultiply", n, "w", w, wOffset, "mask", mask, maskOffset, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.maskMultiply(w, wOffset + s, mask, maskOffset + s, len));
    }

    /**
     * One SGD step (PyTorch semantics, see {@link ElementwiseKernel#sgdMomentum}); with
     * {@code momentum == 0} the buffer v is not touched and may be {@link MemorySegment#NULL}.
     */
    public static void sgdMomentum(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment v, long vOffset, int n,
                                   float lr, float momentum, float weightDecay, boolean nesterov, float dampening, boolean firstStep) {
        if (nesterov && (momentum <= 0f || dampening != 0f)) {
            throw new IllegalArgumentException("sgdMomentum: Nesterov momentum needs momentum > 0 and dampening 0, got momentum "
                    + momentum + ", dampening " + dampening);
        }
        check("sgdMomentum", n, "w", w, wOffset, "g", g, gOffset, momentum != 0f ? "v" : null, v, vOffset);
        Split.ranges(n, (s, len) -> KERNEL.sgdMomentum(w, wOffset + s, g, gOffset + s, v, vOffset + s, len,
                lr, momentum, weightDecay, nesterov, dampening, firstStep));
    }

    /** One Adam step (PyTorch semantics, L2 decay; see {@link ElementwiseKernel#adam}); {@code step} counts from 1. */
    public static void adam(MemorySegment w, long wOffset, MemorySegment g, long gOffset, MemorySegment m, long mOffset,
                            MemorySegment v, long vOffset, int n, float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        if (step < 1) throw new IllegalArgumentException("adam: step counts from 1, got " + step);
        if (!(beta1 >= 0f && beta1 < 1f && beta2 >= 0f && beta2 < 1f)) {
            throw new IllegalArgumentException("adam: betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        check("adam", n, "w", w, wOffset, "g", g, gOffset, "m", m, mOffset);
        check("adam", n, "v", v, vOffset, null, null, 0, null, null, 0);
        Split.ranges(n, (s, len) -> KERNEL.adam(w, wOffset + s, g, gOffset + s, m, mOffset + s, v, vOffset + s, len,
                lr, beta1, beta2, eps, weightDecay, step));
    }

    /** Checks up to three operands of {@code n} floats (a null name skips one). */
    private static void check(String kernel, int n, String a, MemorySegment sa, long oa, String b, MemorySegment sb, long ob,
                              String c, MemorySegment sc, long oc) {
        if (n >= 0 && KernelChecks.fits(sa, oa, n) && (b == null || KernelChecks.fits(sb, ob, n)) && (c == null || KernelChecks.fits(sc, oc, n))) return;
        KernelChecks.nonNegative(kernel, "n", n);
        String shape = KernelChecks.len(n);
        if (a != null) KernelChecks.floats(kernel, a, shape, sa, oa, n);
        if (b != null) KernelChecks.floats(kernel, b, shape, sb, ob, n);
        if (c != null) KernelChecks.floats(kernel, c, shape, sc, oc, n);
    }
}
