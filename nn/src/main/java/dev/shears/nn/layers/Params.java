package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The registry a model's layers create their parameters and buffers through: one workspace owns
 * the memory, names are unique (PyTorch state_dict names), order is creation order. Initialisers
 * are seeded per tensor from (seed, name, block), so the same seed gives the same weights whatever
 * the thread count or construction order. Not a module tree. Pinned by ModelZooTest (seeding, init).
 */
public final class Params {
    private static final int INIT_BLOCK = 1 << 16;

    private final Workspace workspace;
    private final long seed;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();

    public Params(Workspace workspace, long seed) {
        this.workspace = workspace;
        this.seed = seed;
    }

    public Workspace workspace() { return workspace; }

    /** A zero-initialised parameter registered under {@code name}. */
    public Parameter parameter(String name, boolean prunable, long macsPerWeight, int... shape) {
        checkFresh(name);
        Parameter p = new Parameter(workspace, name, prunable, macsPerWeight, shape);
        parameters.add(p);
        return p;
    }

    /** A zero-initialised buffer (running statistics), saved in checkpoints, never trained. */
    public Tensor buffer(String name, int... shape) {
        checkFresh(name);
        Tensor t = workspace.floats(name, shape);
        buffers.put(name, t);
        return t;
    }

    private void checkFresh(String name) {
        if (buffers.containsKey(name) || parameters.stream().anyMatch(p -> p.name().equals(name))) {
            throw new IllegalArgumentException("duplicate parameter or buffer name '" + name + "'");
        }
    }

    public List<Parameter> parameters() { return Collections.unmodifiableList(parameters); }

    public Map<String, Tensor> buffers() { return Collections.unmodifiableMap(buffers); }

    /** Fills t with N(0, std^2). */
    public void normal(Tensor t, double std) {
        fill(t, (rng) -> (float) (rng.nextGaussian() * std));
    }

    /** Fills t with U(-bound, bound). */
    public void uniform(Tensor t, double bound) {
        fill(t, (rng) -> (float) ((rng.nextDouble() * 2 - 1) * bound));
    }

    /** Fills t with a constant. */
    public static void constant(Tensor t, float v) {
        MemorySegment s = t.segment();
        for (long i = 0; i < t.size(); i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
    }

    private interface Draw {
        float next(SplittableRandom rng);
    }

    private void fill(Tensor t, Draw draw) {
        long base = mix(seed ^ mix(t.name().hashCode() * 0x9E3779B97F4A7C15L));
        long n = t.size();
        int blocks = (int) ((n + INIT_BLOCK - 1) / INIT_BLOCK);
        MemorySegment s = t.segment();
        Parallel.forRange(blocks, 4, (from, to) -> {
            for (int b = from; b < to; b++) {
                SplittableRandom rng = new SplittableRandom(mix(base + b));
                long end = Math.min(n, (long) (b + 1) * INIT_BLOCK);
                for (long i = (long) b * INIT_BLOCK; i < end; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, draw.next(rng));
            }
        });
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
