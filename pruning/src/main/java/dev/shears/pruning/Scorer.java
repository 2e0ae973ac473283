package dev.shears.pruning;

import java.lang.foreign.Arena;
import java.util.List;

/**
 * The first half of a pruning method: one score per weight, lower scores pruned first. Magnitude
 * reads the weights in place; LAMP and random write score segments into the given arena
 * (shared, so the pool threads may fill them). Gradient-based scores (SNIP |g*w|, GraSP
 * -w*Hg, SynFlow) plug in here once models can produce them; the allocation half is unchanged.
 */
public interface Scorer {
    /** Scores, their key order, and what to call the values in errors ("weight", "LAMP score"). */
    record Scores(List<ScoreSegment> segments, KeyOrder order, String what) {}

    String name();

    /** One score segment per layer, in layer order; non-finite weights are an error naming layer and index. */
    Scores score(List<PrunableLayer> layers, Arena arena);
}
