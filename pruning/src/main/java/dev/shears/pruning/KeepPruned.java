package dev.shears.pruning;

import dev.shears.engine.Parallel;
import dev.shears.nn.Parameter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A scorer decorator for re-pruning a model that already has masks (iterative rounds, gradual
 * steps, SynFlow rounds): the inner scores become signed keys (|s| for magnitude-ordered
 * scores), and every weight the current mask prunes scores -Float.MAX_VALUE, below every other
 * score. So a global threshold pruning at least as many weights as before keeps every earlier
 * cut: masks only shrink, and ties among zero scores never revive a pruned weight. An allocation
 * that gives a layer fewer cuts than it already has (MT paper mode can) does keep some pruned
 * positions; their weights stay zero. Pinned by FineTuneTest (re-pruning, iterative, gradual) and GradientScoresTest (SynFlow rounds).
 */
final class KeepPruned implements Scorer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final float PRUNED = -Float.MAX_VALUE;

    private final Scorer inner;
    private final List<Parameter> prunable; // in layer order, masks read at score time

    KeepPruned(Scorer inner, List<Parameter> prunable) {
        this.inner = inner;
        this.prunable = List.copyOf(prunable);
    }

    /** True when any prunable parameter has a mask (then re-pruning should keep its cuts). */
    static boolean anyMask(List<Parameter> prunable) {
        for (Parameter p : prunable) if (p.mask() != null) return true;
        return false;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Scores score(List<PrunableLayer> layers, Arena arena) {
        if (layers.size() != prunable.size()) throw new IllegalStateException(layers.size() + " layers for " + prunable.size() + " parameters");
        Scores in = inner.score(layers, arena);
        boolean magnitude = in.order() == KeyOrder.MAGNITUDE;
        List<ScoreSegment> out = new ArrayList<>(layers.size());
        for (int l = 0; l < layers.size(); l++) {
            PrunableLayer layer = layers.get(l);
            if (!prunable.get(l).name().equals(layer.name())) {
                throw new IllegalStateException("layer " + l + " is '" + layer.name() + "' but parameter " + l + " is '" + prunable.get(l).name() + "'");
            }
            out.add(new ScoreSegment(layer.name(), arena.allocate(Math.max(1, layer.count()) * Float.BYTES, 64), layer.count()));
        }
        GlobalThreshold.requireFinite(in.segments(), in.what());
        Parallel.forEachChunk(layers.size(), l -> {
            MemorySegment src = in.segments().get(l).values(), dst = out.get(l).values();
            MemorySegment mask = prunable.get(l).mask() == null ? null : prunable.get(l).mask().segment();
            long n = layers.get(l).count();
            for (long i = 0; i < n; i++) {
                float s = src.getAtIndex(F, i);
                if (magnitude) s = Math.abs(s);
                if (mask != null && mask.getAtIndex(F, i) == 0f) s = PRUNED;
                dst.setAtIndex(F, i, s);
            }
        });
        return new Scores(out, KeyOrder.SIGNED, in.what());
    }
}
