package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Elementwise activations, forward and backward side by side; offsets count floats, every
 * operand holds {@code n} floats. Outputs may alias inputs (in-place). Backward of sigmoid and
 * tanh reads the forward OUTPUT {@code y}; backward of relu reads relu's input or its output
 * (both are positive exactly where the gradient passes). Implementations: ActivationScalar (the
 * spec) and the SIMD twin; callers go through {@link Activations}.
 */
public interface ActivationKernel {
    /** {@code y = x < 0 ? 0 : x} (max(x, 0); NaN and -0.0 pass through unchanged). */
    void reluForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n);

    /** {@code dx = x > 0 ? dy : 0}, where x is relu's input or output. */
    void reluBackward(MemorySegment x, long xOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n);

    /** {@code y = relu(a + b)}: a residual join and the ReLU after it in one pass (the sum rounded to float first). */
    void addReluForward(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment y, long yOffset, int n);

    /**
     * {@code dx = x > 0 ? a + b : 0}: the two branch gradients of a residual join summed and passed
     * through the ReLU whose output x the join read, in one pass.
     */
    void addReluBackward(MemorySegment x, long xOffset, MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment dx, long dxOffset, int n);

    /** {@code y = Math.min(Math.max(x, min), max)} (ReLU6 is [0, 6]; NaN passes through). */
    void clampForward(MemorySegment x, long xOffset, float min, float max, MemorySegment y, long yOffset, int n);

    /** {@code dx = min < x < max ? dy : 0}, where x is the clamp's input. */
    void clampBackward(MemorySegment x, long xOffset, float min, float max, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n);

    /** {@code y = 1 / (1 + exp(-x))}. */
    void sigmoidForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n);

    /** {@code dx = dy * y * (1 - y)} from the forward output y. */
    void sigmoidBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n);

    /** {@code y = tanh(x)}. */
    void tanhForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n);

    /** {@code dx = dy * (1 - y * y)} from the forward output y. */
    void tanhBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n);
}
