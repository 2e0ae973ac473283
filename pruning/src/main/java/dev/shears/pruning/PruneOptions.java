package dev.shears.pruning;

/**
 * Options of {@link Pruning#prune}: Minimum Threshold (global only; null for none), the first
 * layer kept dense (uniform only), the seed of random scores, how many batches the data-driven
 * scores read (SNIP, GraSP), SynFlow's rounds, and GraSP's finite-difference step (relative: the
 * perturbation eps*g has norm {@code graspStep} * ||w||). Each check names the CLI option.
 *
 * @param mt             Minimum Threshold, or null
 * @param keepFirstDense uniform: leave the first prunable layer dense
 * @param seed           seed of the random method
 * @param scoreBatches   SNIP/GraSP: batches of the data source averaged into the gradient (>= 1)
 * @param synflowRounds  SynFlow: pruning rounds with exponentially decaying density (>= 1; 100 in the paper)
 * @param graspStep      GraSP: ||eps*g|| / ||w|| of the central difference of gradients (> 0)
 */
public record PruneOptions(MinimumThreshold mt, boolean keepFirstDense, long seed, int scoreBatches, int synflowRounds,
                           double graspStep) {
    /** No MT, first layer prunable, seed 0, one score batch, 100 SynFlow rounds, GraSP step 1e-3. */
    public static final PruneOptions DEFAULT = new PruneOptions(null, false, 0, 1, 100, 1e-3);

    public PruneOptions {
        if (scoreBatches < 1) throw new IllegalArgumentException("--score-batches must be >= 1, got " + scoreBatches);
        if (synflowRounds < 1) throw new IllegalArgumentException("--synflow-rounds must be >= 1, got " + synflowRounds);
        if (!(graspStep > 0 && graspStep < 1)) throw new IllegalArgumentException("--grasp-step must be in (0, 1), got " + graspStep);
    }

    public PruneOptions withMt(MinimumThreshold m) {
        return new PruneOptions(m, keepFirstDense, seed, scoreBatches, synflowRounds, graspStep);
    }

    public PruneOptions withKeepFirstDense(boolean b) {
        return new PruneOptions(mt, b, seed, scoreBatches, synflowRounds, graspStep);
    }

    public PruneOptions withSeed(long s) {
        return new PruneOptions(mt, keepFirstDense, s, scoreBatches, synflowRounds, graspStep);
    }

    public PruneOptions withScoreBatches(int b) {
        return new PruneOptions(mt, keepFirstDense, seed, b, synflowRounds, graspStep);
    }

    public PruneOptions withSynflowRounds(int r) {
        return new PruneOptions(mt, keepFirstDense, seed, scoreBatches, r, graspStep);
    }

    public PruneOptions withGraspStep(double s) {
        return new PruneOptions(mt, keepFirstDense, seed, scoreBatches, synflowRounds, s);
    }

    /** The core's options (MT, first layer dense, seed). */
    PruningMethods.Options core() {
        return new PruningMethods.Options(mt, keepFirstDense, seed);
    }
}
