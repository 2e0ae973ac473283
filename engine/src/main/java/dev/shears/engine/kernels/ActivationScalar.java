package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The activation spec, written plainly, one element at a time, with {@link Math#exp} and
 * {@link Math#tanh} in double narrowed to float. Pinned by ActivationsTest (the SIMD twin must
 * match relu bit for bit and the transcendental ones within a few ulps).
 */
public final class ActivationScalar implements ActivationKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void reluForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        for (int i = 0; i < n; i++) {
            float v = x.getAtIndex(F, xOffset + i);
            y.setAtIndex(F, yOffset + i, v < 0f ? 0f : v);
        }
    }

    @Override
    public void reluBackward(MemorySegment x, long xOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        for (int i = 0; i < n; i++) {
            float g = dy.getAtIndex(F, dyOffset + i);
            dx.setAtIndex(F, dxOffset + i, x.getAtIndex(F, xOffset + i) > 0f ? g : 0f);
        }
    }

    @Override
    public void addReluForward(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment y, long yOffset, int n) {
        for (int i = 0; i < n; i++) {
            float v = a.getAtIndex(F, aOffset + i) + b.getAtIndex(F, bOffset + i);
            y.setAtIndex(F, yOffset + i, v < 0f ? 0f : v);
        }
    }

    @Override
    public void addReluBackward(MemorySegment x, long xOffset, MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment dx, long dxOffset, int n) {
        for (int i = 0; i < n; i++) {
            float g = a.getAtIndex(F, aOffset + i) + b.getAtIndex(F, bOffset + i);
            dx.setAtIndex(F, dxOffset + i, x.getAtIndex(F, xOffset + i) > 0f ? g : 0f);
        }
    }

    @Override
    public void clampForward(MemorySegment x, long xOffset, float min, float max, MemorySegment y, long yOffset, int n) {
        for (int i = 0; i < n; i++) {
            y.setAtIndex(F, yOffset + i, Math.min(Math.max(x.getAtIndex(F, xOffset + i), min), max));
        }
    }

    @Override
    public void clampBackward(MemorySegment x, long xOffset, float min, float max, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        for (int i = 0; i < n; i++) {
            float v = x.getAtIndex(F, xOffset + i), g = dy.getAtIndex(F, dyOffset + i);
            dx.setAtIndex(F, dxOffset + i, v > min && v < max ? g : 0f);
        }
    }

    @Override
    public void sigmoidForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        for (int i = 0; i < n; i++) {
            float v = x.getAtIndex(F, xOffset + i);
            y.setAtIndex(F, yOffset + i, 1f / (1f + (float) Math.exp(-v)));
        }
    }

    @Override
    public void sigmoidBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        for (int i = 0; i < n; i++) {
            float s = y.getAtIndex(F, yOffset + i);
            dx.setAtIndex(F, dxOffset + i, dy.getAtIndex(F, dyOffset + i) * (s * (1f - s)));
        }
    }

    @Override
    public void tanhForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        for (int i = 0; i < n; i++) y.setAtIndex(F, yOffset + i, (float) Math.tanh(x.getAtIndex(F, xOffset + i)));
    }

    @Override
    public void tanhBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        for (int i = 0; i < n; i++) {
            float t = y.getAtIndex(F, yOffset + i);
            dx.setAtIndex(F, dxOffset + i, dy.getAtIndex(F, dyOffset + i) * (1f - t * t));
        }
    }
}
