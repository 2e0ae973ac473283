package dev.shears.pruning;

import java.util.List;

/**
 * What a pruning run did: the method, the sparsity asked for, all prunable weights N, the target
 * k = round(s * N), the pruned count per layer (layer order) and a note (for example where the MT
 * paper mode's total differs from k). Counts only; the masks went to the caller's segments.
 */
public record PruningResult(String method, double sparsity, long weights, long target, long[] pruned, String note) {
    public PruningResult {
        pruned = pruned.clone();
    }

    @Override
    public long[] pruned() {
        return pruned.clone();
    }

    public long prunedTotal() {
        long t = 0;
        for (long p : pruned) t += p;
        return t;
    }

    /** Kept weights per layer. */
    public long[] kept(List<PrunableLayer> layers) {
        long[] k = new long[pruned.length];
        for (int l = 0; l < k.length; l++) k[l] = layers.get(l).count() - pruned[l];
        return k;
    }
}
