package dev.shears.pruning;

import java.util.List;

/**
 * The second half of a pruning method: how many of the lowest scores each layer loses, as
 * {@link LayerCuts}. Global (one threshold, optional MT floors), uniform, ERK and the MT paper
 * reallocation implement it. Each prunes exactly k, except the MT paper mode, which reports its
 * own total in the note.
 */
public interface Allocation {
    /** The cuts, and a note for the report (empty when there is nothing to say). */
    record Cuts(LayerCuts cuts, String note) {}

    String name();

    /** Cuts over {@code scores} pruning k of the layers' weights (sparsity = the requested fraction). */
    Cuts allocate(List<PrunableLayer> layers, Scorer.Scores scores, long k, double sparsity);
}
