package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The activation facade layers call: checks that every operand holds {@code n} floats from its
 * offset (errors name the kernel and the operand), then runs the selected twin, split over the
 * pool for large {@code n}. Outputs may alias inputs. Semantics in {@link ActivationKernel}.
 * Pinned by ActivationsTest.
 */
public final class Activations {
    private static final ActivationKernel KERNEL = Twins.pick(ActivationKernel.class, "ActivationSimd", ActivationScalar::new);

    private Activations() {}

    /** {@code y = max(x, 0)}; y may be x. */
    public static void reluForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        check("reluForward", n, "x", x, xOffset, "y", y, yOffset);
        Split.ranges(n, (a, len) -> KERNEL.reluForward(x, xOffset + a, y, yOffset + a, len));
    }

    /** {@code dx = x > 0 ? dy : 0}; x is relu's input or output; dx may be dy. */
    public static void reluBackward(MemorySegment x, long xOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        check("reluBackward", n, "x", x, xOffset, "dy", dy, dyOffset);
        check("reluBackward", n, "dx", dx, dxOffset, "dx", dx, dxOffset);
        Split.ranges(n, (a, len) -> KERNEL.reluBackward(x, xOffset + a, dy, dyOffset + a, dx, dxOffset + a, len));
    }

    /** {@code y = relu(a + b)} (a residual join and its ReLU in one pass); y may be a or b. */
    public static void addReluForward(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment y, long yOffset, int n) {
        check("addReluForward", n, "a", a, aOffset, "b", b, bOffset);
        check("addReluForward", n, "y", y, yOffset, "y", y, yOffset);
        Split.ranges(n, (i, len) -> KERNEL.addReluForward(a, aOffset + i, b, bOffset + i, y, yOffset + i, len));
    }

    /** {@code dx = x > 0 ? a + b : 0}, x the output of the ReLU before a residual join; dx may be a or b. */
    public static void addReluBackward(MemorySegment x, long xOffset, MemorySegment a, long aOffset, MemorySegment b, long bOffset,
                                       MemorySegment dx, long dxOffset, int n) {
        check("addReluBackward", n, "x", x, xOffset, "a", a, aOffset);
        check("addReluBackward", n, "b", b, bOffset, "dx", dx, dxOffset);
        Split.ranges(n, (i, len) -> KERNEL.addReluBackward(x, xOffset + i, a, aOffset + i, b, bOffset + i, dx, dxOffset + i, len));
    }

    /** {@code y = min(max(x, min), max)}; y may be x. */
    public static void clampForward(MemorySegment x, long xOffset, float min, float max, MemorySegment y, long yOffset, int n) {
        check("clampForward", n, "x", x, xOffset, "y", y, yOffset);
        Split.ranges(n, (a, len) -> KERNEL.clampForward(x, xOffset + a, min, max, y, yOffset + a, len));
    }

    /** {@code dx = min < x < max ? dy : 0}; x is the clamp's input; dx may be dy. */
    public static void clampBackward(MemorySegment x, long xOffset, float min, float max, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        check("clampBackward", n, "x", x, xOffset, "dy", dy, dyOffset);
        check("clampBackward", n, "dx", dx, dxOffset, "dx", dx, dxOffset);
        Split.ranges(n, (a, len) -> KERNEL.clampBackward(x, xOffset + a, min, max, dy, dyOffset + a, dx, dxOffset + a, len));
    }

    /** {@code y = 1 / (1 + exp(-x))}; y may be x. */
    public static void sigmoidForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        check("sigmoidForward", n, "x", x, xOffset, "y", y, yOffset);
        Split.ranges(n, (a, len) -> KERNEL.sigmoidForward(x, xOffset + a, y, yOffset + a, len));
    }

    /** {@code dx = dy * y (1 - y)} from the forward output y; dx may be dy. */
    public static void sigmoidBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        check("sigmoidBackward", n, "y", y, yOffset, "dy", dy, dyOffset);
        check("sigmoidBackward", n, "dx", dx, dxOffset, "dx", dx, dxOffset);
        Split.ranges(n, (a, len) -> KERNEL.sigmoidBackward(y, yOffset + a, dy, dyOffset + a, dx, dxOffset + a, len));
    }

    /** {@code y = tanh(x)}; y may be x. */
    public static void tanhForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        check("tanhForward", n, "x", x, xOffset, "y", y, yOffset);
        Split.ranges(n, (a, len) -> KERNEL.tanhForward(x, xOffset + a, y, yOffset + a, len));
    }

    /** {@code dx = dy (1 - y^2)} from the forward output y; dx may be dy. */
    public static void tanhBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        check("tanhBackward", n, "y", y, yOffset, "dy", dy, dyOffset);
        check("tanhBackward", n, "dx", dx, dxOffset, "dx", dx, dxOffset);
        Split.ranges(n, (a, len) -> KERNEL.tanhBackward(y, yOffset + a, dy, dyOffset + a, dx, dxOffset + a, len));
    }

    private static void check(String kernel, int n, String a, MemorySegment sa, long oa, String b, MemorySegment sb, long ob) {
        if (n >= 0 && KernelChecks.fits(sa, oa, n) && KernelChecks.fits(sb, ob, n)) return; // no message strings on the hot path
        KernelChecks.nonNegative(kernel, "n", n);
        KernelChecks.floats(kernel, a, KernelChecks.len(n), sa, oa, n);
        KernelChecks.floats(kernel, b, KernelChecks.len(n), sb, ob, n);
    }
}
