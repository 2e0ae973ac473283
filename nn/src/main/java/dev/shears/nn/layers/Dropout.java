package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Inverted dropout: in training each value is kept with probability 1-p and scaled by 1/(1-p);
 * in evaluation it is the identity. The mask comes from (seed, call count, block), so a run is
 * reproducible whatever the thread count. Pinned by GradientCheckTest and NetworkTest (reseeding).
 */
public final class Dropout implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int BLOCK = 1 << 14;

    private final String name;
    private final int[] shape;
    private final double p;
    private long seed;
    private long calls;
    private int batch;
    private boolean lastTraining;
    private Tensor mask, y, dx; // (N, shape...): mask holds 0 or 1/(1-p)

    public Dropout(String name, int[] shape, double p, long seed) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("layer '" + name + "': dropout probability must be in [0, 1), got " + p);
        this.name = name;
        this.shape = shape.clone();
        this.p = p;
        this.seed = seed;
    }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return shape.clone(); }
    @Override public int[] outputShape() { return shape.clone(); }

    public double probability() { return p; }

    /** Restarts the mask stream from {@code newSeed} (the trainer reseeds per epoch, so a resumed run repeats its masks). */
    public void reseed(long newSeed) {
        seed = newSeed;
        calls = 0;
    }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        int[] full = Shapes.prepend(batch, shape);
        mask = acts.floats(name + ".mask", full);
        y = acts.floats(name + ".out", full);
        dx = acts.floats(name + ".dx", full);
    }

    // x: (N, ...) -> y = x * mask (training) or x (evaluation)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, shape);
        Shapes.requireBatch(name, n, batch);
        lastTraining = training && p > 0;
        if (!lastTraining) return x;
        long call = calls++;
        long size = x.size();
        float keep = (float) (1.0 / (1.0 - p));
        MemorySegment xs = x.segment(), ms = mask.segment(), ys = y.segment();
        int blocks = (int) ((size + BLOCK - 1) / BLOCK);
        Parallel.forRange(blocks, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + call * 0xC2B2AE3D27D4EB4FL + b);
                long end = Math.min(size, (long) (b + 1) * BLOCK);
                for (long i = (long) b * BLOCK; i < end; i++) ms.setAtIndex(F, i, rng.nextDouble() >= p ? keep : 0f);
                Elementwise.mul(xs, (long) b * BLOCK, ms, (long) b * BLOCK, ys, (long) b * BLOCK, (int) (end - (long) b * BLOCK));
            }
        });
        return y;
    }

    // dy: (N, ...) -> dx = dy * mask (training) or dy (evaluation)
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, shape);
        Shapes.requireBatch(name, n, batch);
        if (!lastTraining) return dy;
        Elementwise.mul(dy.segment(), 0, mask.segment(), 0, dx.segment(), 0, Math.toIntExact(dy.size()));
        return dx;
    }
}
