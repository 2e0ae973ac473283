package dev.shears.nn.layers;

import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Activations;

/**
 * ReLU, in place in both directions: forward overwrites x with max(x, 0) and returns it, backward
 * zeroes dy where the output was not positive and returns dy. So it costs no memory, and the
 * builder must place it only where x and dy have no other reader (after a layer whose backward
 * does not need its own output; never as the last layer of a residual branch). A Sequential may
 * run it inside its neighbours (after a batch norm or a residual join; its backward inside a
 * batch norm's or a following residual join's): the layer and its name stay. Pinned by
 * GradientCheckTest and BatchNormReluTest.
 */
public final class ReLU implements Layer {
    private final String name;
    private final int[] shape;
    private Tensor y; // the last forward's output (= its input, overwritten)

    public ReLU(String name, int[] shape) {
        this.name = name;
        this.shape = shape.clone();
    }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return shape.clone(); }
    @Override public int[] outputShape() { return shape.clone(); }
    @Override public boolean overwritesGradient() { return true; }
    @Override public boolean passesGradientThrough() { return true; }
    @Override public boolean overwritesInput() { return true; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {}

    // x: (N, ...) -> x, overwritten with max(x, 0)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        Shapes.batchOf(name, x, shape);
        Activations.reluForward(x.segment(), 0, x.segment(), 0, Math.toIntExact(x.size()));
        y = x;
        return x;
    }

    /** The container ran this ReLU inside the layer before it (see Sequential): y is that fused step's output. */
    void rememberOutput(Tensor y) {
        this.y = y;
    }

    // dy: (N, ...) -> dy, zeroed where y <= 0
    @Override
    public Tensor backward(Tensor dy) {
        Shapes.batchOf(name, dy, shape);
        if (dy.size() != y.size()) throw new IllegalStateException("layer '" + name + "': backward batch differs from forward");
        Activations.reluBackward(y.segment(), 0, dy.segment(), 0, dy.segment(), 0, Math.toIntExact(dy.size()));
        return dy;
    }
}
