package dev.shears.pruning;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A pruning method as a scorer plus an allocation: score every weight, let the allocation cut
 * each layer, then one masking pass. Score memory lives only for the call. Pinned by
 * PruningMethodsTest.
 */
public record ScoredPruning(String name, Scorer scorer, Allocation allocation) implements PruningMethod {
    @Override
    public PruningResult prune(List<PrunableLayer> layers, double sparsity, List<MemorySegment> masks) {
        long n = PrunableLayer.total(layers);
        long k = PruningMethods.targetCount(sparsity, n);
        if (masks == null || masks.size() != layers.size()) {
            throw new IllegalArgumentException((masks == null ? "no" : masks.size()) + " masks for " + layers.size() + " layers");
        }
        try (Arena arena = Arena.ofShared()) {
            Scorer.Scores scores = scorer.score(layers, arena);
            Allocation.Cuts cuts = allocation.allocate(layers, scores, k, sparsity);
            long[] pruned = cuts.cuts().apply(scores.segments(), masks);
            return new PruningResult(name, sparsity, n, k, pruned, cuts.note());
        }
    }
}
