package dev.shears.nn.layers;

import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;

/**
 * Multiplication by a constant, y = c x (ONNX Mul with a scalar constant operand); backward
 * dx = c dy. Own buffers both ways, so it never aliases its neighbours. The constant is part of
 * the architecture, not a parameter: never trained, never pruned. Pinned by GradientCheckTest.
 */
public final class Scale implements Layer {
    private final String name;
    private final int[] shape;
    private final float factor;
    private int batch;
    private Tensor y, dx;

    public Scale(String name, int[] shape, float factor) {
        if (!Float.isFinite(factor)) throw new IllegalArgumentException("layer '" + name + "': scale factor must be finite, got " + factor);
        this.name = name;
        this.shape = shape.clone();
        this.factor = factor;
    }

    public float factor() { return factor; }

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

    // x: (N, ...) -> y = factor * x
    @Override
    public Tensor forward(Tensor x, boolean training) {
        Shapes.requireBatch(name, Shapes.batchOf(name, x, shape), batch);
        int n = Math.toIntExact(x.size());
        Elementwise.copy(x.segment(), 0, y.segment(), 0, n);
        Elementwise.scale(y.segment(), 0, factor, n);
        return y;
    }

    // dy: (N, ...) -> dx = factor * dy
    @Override
    public Tensor backward(Tensor dy) {
        Shapes.requireBatch(name, Shapes.batchOf(name, dy, shape), batch);
        int n = Math.toIntExact(dy.size());
        Elementwise.copy(dy.segment(), 0, dx.segment(), 0, n);
        Elementwise.scale(dx.segment(), 0, factor, n);
        return dx;
    }
}
