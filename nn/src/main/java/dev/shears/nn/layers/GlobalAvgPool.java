package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.engine.kernels.Reductions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Global average pool (N, C, H, W) -> (N, C), flattening as it goes (torch's avg_pool over the
 * whole map followed by view). Pinned by GradientCheckTest.
 */
public final class GlobalAvgPool implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final String name;
    private final int c, h, w;
    private int batch;
    private Tensor y, dx;

    public GlobalAvgPool(String name, int[] inShape) {
        if (inShape.length != 3) throw new IllegalArgumentException("layer '" + name + "' expects (C, H, W) inputs, got rank " + inShape.length);
        this.name = name;
        this.c = inShape[0];
        this.h = inShape[1];
        this.w = inShape[2];
    }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {c}; }

    /** MACs of the pool for one sample (STR counts them; unprunable). */
    public long macs() { return (long) c * h * w; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", batch, c);
        dx = acts.floats(name + ".dx", batch, c, h, w);
    }

    // x: (N, c, h, w) -> y: (N, c)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment xs = x.segment(), ys = y.segment();
        int p = h * w;
        Parallel.forRange(n * c, 64, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                ys.setAtIndex(F, plane, (float) (Reductions.sum(xs, (long) plane * p, p) / p));
            }
        });
        return y;
    }

    // dy: (N, c) -> dx: (N, c, h, w) = dy / (h*w) everywhere
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment ds = dy.segment(), dxs = dx.segment();
        int p = h * w;
        Parallel.forRange(n * c, 64, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                Elementwise.fill(dxs, (long) plane * p, ds.getAtIndex(F, plane) / p, p);
            }
        });
        return dx;
    }
}
