package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;

/**
 * (N, C, H, W) -> (N, C*H*W) as a view: no copy in either direction. Pinned by GradientCheckTest.
 */
public final class Flatten implements Layer {
    private final String name;
    private final int[] in;
    private final int features;
    private Tensor lastX, xView, lastDy, dyView;

    public Flatten(String name, int[] inShape) {
        this.name = name;
        this.in = inShape.clone();
        this.features = Math.toIntExact(Shape.size(inShape));
    }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return in.clone(); }
    @Override public int[] outputShape() { return new int[] {features}; }
    @Override public boolean passesGradientThrough() { return true; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        lastX = lastDy = null;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, in);
        if (x != lastX) { // the previous layer's output is fixed per batch size: build the view once
            lastX = x;
            xView = x.reshape(n, features);
        }
        return xView;
    }

    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        if (dy != lastDy) {
            lastDy = dy;
            dyView = dy.reshape(Shapes.prepend(n, in));
        }
        return dyView;
    }
}
