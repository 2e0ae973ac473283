package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ReLU, in place in both directions: forward overwrites x with max(x, 0) and returns it, backward
 * zeroes dy where the output was not positive and returns dy. So it costs no memory, and the
 * builder must place it only where x and dy have no other reader (after a layer whose backward
 * does not need its own output; never as the last layer of a residual branch). Pinned by
 * GradientCheckTest.
 */
public final class ReLU implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int GRAIN = 1 << 15;

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
    @Override public boolean overwritesInput() { return true; }

    @Override
    public void allocate(Activations acts, int batch) {}

    // x: (N, ...) -> x, overwritten with max(x, 0)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        Shapes.batchOf(name, x, shape);
        MemorySegment s = x.segment();
        Parallel.forRange((int) x.size(), GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                if (s.getAtIndex(F, i) < 0f) s.setAtIndex(F, i, 0f); // NaN passes, as in PyTorch
            }
        });
        y = x;
        return x;
    }

    // dy: (N, ...) -> dy, zeroed where y <= 0
    @Override
    public Tensor backward(Tensor dy) {
        Shapes.batchOf(name, dy, shape);
        if (dy.size() != y.size()) throw new IllegalStateException("layer '" + name + "': backward batch differs from forward");
        MemorySegment d = dy.segment(), ys = y.segment();
        Parallel.forRange((int) dy.size(), GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                if (ys.getAtIndex(F, i) <= 0f) d.setAtIndex(F, i, 0f);
            }
        });
        return dy;
    }
}
