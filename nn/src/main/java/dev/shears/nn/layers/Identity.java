package dev.shears.nn.layers;

import dev.shears.engine.Tensor;

/**
 * The identity (ONNX Identity): forward returns x, backward returns dy, no memory. Kept as a
 * node only where a graph names it; the importer usually skips it. Pinned by GradientCheckTest.
 */
public final class Identity implements Layer {
    private final String name;
    private final int[] shape;

    public Identity(String name, int[] shape) {
        this.name = name;
        this.shape = shape.clone();
    }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return shape.clone(); }
    @Override public int[] outputShape() { return shape.clone(); }
    @Override public boolean passesGradientThrough() { return true; }
    @Override public void allocate(ActivationMemory acts, int batch) {}

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Shapes.batchOf(name, x, shape);
        return x;
    }

    @Override
    public Tensor backward(Tensor dy) {
        Shapes.batchOf(name, dy, shape);
        return dy;
    }
}
