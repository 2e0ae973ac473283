package dev.shears.pruning;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A way to prune: given the prunable layers and a sparsity in [0, 1), write one 0/1 float mask
 * per layer (0 = pruned) and say what was pruned. {@link PruningMethods} builds the named ones;
 * {@link ScoredPruning} is the scores-plus-allocation shape they all share.
 */
public interface PruningMethod {
    String name();

    /** Masks must hold at least each layer's count of floats; they are fully overwritten. */
    PruningResult prune(List<PrunableLayer> layers, double sparsity, List<MemorySegment> masks);
}
