package dev.shears.nn.layers;

import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Activations;

/**
 * Clamping to [min, max] (ONNX Clip; ReLU6 is [0, 6], a ReLU that must not work in place is
 * [0, +inf)): y = min(max(x, min), max); backward passes dy where min < x < max and zero
 * elsewhere (torch's hardtanh). Out of place both ways: unlike {@link ReLU} it may follow any
 * layer and feed any number of readers. Pinned by GradientCheckTest.
 */
public final class Clip implements Layer {
    private final String name;
    private final int[] shape;
    private final float min, max;
    private int batch;
    private Tensor x, y, dx;

    public Clip(String name, int[] shape, float min, float max) {
        if (Float.isNaN(min) || Float.isNaN(max) || min > max) {
            throw new IllegalArgumentException("layer '" + name + "': clip needs min <= max, got min=" + min + " max=" + max);
        }
        this.name = name;
        this.shape = shape.clone();
        this.min = min;
        this.max = max;
    }

    /** ReLU6: clamping to [0, 6]. */
    public static Clip relu6(String name, int[] shape) {
        return new Clip(name, shape, 0f, 6f);
    }

    public float min() { return min; }
    public float max() { return max; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return shape.clone(); }
    @Override public int[] outputShape() { return shape.clone(); }
    @Override public boolean ownsOutput() { return true; }
    @Override public boolean ownsInputGradient() { return true; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", Shapes.prepend(batch, shape));
        dx = acts.floats(name + ".dx", Shapes.prepend(batch, shape));
    }

    // x: (N, ...) -> y = clamp(x, min, max)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        Shapes.requireBatch(name, Shapes.batchOf(name, x, shape), batch);
        this.x = x;
        Activations.clampForward(x.segment(), 0, min, max, y.segment(), 0, Math.toIntExact(x.size()));
        return y;
    }

    // dy: (N, ...) -> dx = dy where min < x < max, else 0
    @Override
    public Tensor backward(Tensor dy) {
        Shapes.requireBatch(name, Shapes.batchOf(name, dy, shape), batch);
        Activations.clampBackward(x.segment(), 0, min, max, dy.segment(), 0, dx.segment(), 0, Math.toIntExact(dy.size()));
        return dx;
    }
}
