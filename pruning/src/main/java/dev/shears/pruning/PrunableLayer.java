package dev.shears.pruning;

import dev.shears.engine.Shape;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The prunable view of one weight tensor: its name, shape (e.g. (out, in/groups, kh, kw)), the
 * {@code count} floats of {@code weights}, the MACs each weight does per sample, and whether an
 * identity path goes around the layer (so its collapse does not cut the network). Everything in
 * this package works on these raw segments, not on layers. Not an owner of the memory.
 */
public record PrunableLayer(String name, int[] shape, MemorySegment weights, long count, long macsPerWeight,
                            boolean hasIdentityBypass) {
    public PrunableLayer {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a prunable layer needs a name");
        if (shape == null) throw new IllegalArgumentException("layer '" + name + "': no shape");
        shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("layer '" + name + "': negative dimension in " + Shape.str(shape));
            n = Math.multiplyExact(n, d);
        }
        if (n != count) {
            throw new IllegalArgumentException("layer '" + name + "': shape " + Shape.str(shape) + " holds " + n + " weights, count says " + count);
        }
        if (macsPerWeight < 0) throw new IllegalArgumentException("layer '" + name + "': negative MACs per weight " + macsPerWeight);
        if (weights == null) throw new IllegalArgumentException("layer '" + name + "': no weight memory");
        if (weights.byteSize() < count * Float.BYTES) {
            throw new IllegalArgumentException("layer '" + name + "': " + count + " weights need " + count * Float.BYTES
                    + " bytes, its segment has " + weights.byteSize());
        }
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Dense multiply-accumulates of this layer per sample. */
    public long macs() {
        return Math.multiplyExact(macsPerWeight, count);
    }

    /** The weights as the selection's score segment (magnitude pruning reads them in place). */
    public ScoreSegment asScores() {
        return new ScoreSegment(name, weights, count);
    }

    /**
     * The prunable parameters of a model, in order ({@link Parameter#prunable()}); {@code bypassed}
     * names those with an identity path around them (the model zoo knows; null means none).
     */
    public static List<PrunableLayer> of(List<Parameter> parameters, Predicate<String> bypassed) {
        List<PrunableLayer> out = new ArrayList<>();
        for (Parameter p : parameters) {
            if (!p.prunable()) continue;
            out.add(new PrunableLayer(p.name(), p.shape(), p.value().segment(), p.size(), p.macsPerWeight(),
                    bypassed != null && bypassed.test(p.name())));
        }
        return List.copyOf(out);
    }

    /** Total weights over layers. */
    public static long total(List<PrunableLayer> layers) {
        long n = 0;
        for (PrunableLayer l : layers) n = Math.addExact(n, l.count());
        return n;
    }

    static List<ScoreSegment> magnitudes(List<PrunableLayer> layers) {
        List<ScoreSegment> out = new ArrayList<>(layers.size());
        for (PrunableLayer l : layers) out.add(l.asScores());
        return out;
    }

    @Override
    public String toString() {
        return "PrunableLayer[" + name + " " + Shape.str(shape) + " " + count + " weights]";
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
