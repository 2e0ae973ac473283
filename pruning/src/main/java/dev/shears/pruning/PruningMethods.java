package dev.shears.pruning;

import java.util.List;
import java.util.Locale;

/**
 * The named pruning methods: {@code global} (Global MP; with {@code --mt}, Minimum Threshold in
 * paper or exact mode), {@code uniform} (optionally first layer dense), {@code erk}, {@code random}
 * (seeded, global) and {@code lamp}. Also the one rule every method shares: sparsity s in [0, 1)
 * prunes k = round(s * N) weights. Pinned by PruningMethodsTest.
 */
public final class PruningMethods {
    public static final List<String> NAMES = List.of("global", "uniform", "erk", "random", "lamp");

    private PruningMethods() {}

    /** Options: MT (global only, null for none), keep the first layer dense (uniform only), random seed. */
    public record Options(MinimumThreshold mt, boolean keepFirstDense, long seed) {
        public static final Options DEFAULT = new Options(null, false, 0);

        public Options withMt(MinimumThreshold m) {
            return new Options(m, keepFirstDense, seed);
        }

        public Options withKeepFirstDense(boolean b) {
            return new Options(mt, b, seed);
        }

        public Options withSeed(long s) {
            return new Options(mt, keepFirstDense, s);
        }
    }

    public static PruningMethod create(String name) {
        return create(name, Options.DEFAULT);
    }

    public static PruningMethod create(String name, Options o) {
        if (name == null) throw new IllegalArgumentException("no pruning method named; expected one of " + NAMES);
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (o.mt() != null && !n.equals("global")) {
            throw new IllegalArgumentException("--mt applies to method global, not " + n);
        }
        if (o.keepFirstDense() && !n.equals("uniform")) {
            throw new IllegalArgumentException("keeping the first layer dense applies to method uniform, not " + n);
        }
        return switch (n) {
            case "global" -> {
                if (o.mt() == null) yield new ScoredPruning("global", Scorers.magnitude(), Allocations.global(null));
                if (o.mt().mode() == MinimumThreshold.Mode.EXACT) {
                    yield new ScoredPruning("global+mt-exact", Scorers.magnitude(), Allocations.global(o.mt()));
                }
                yield new ScoredPruning("global+mt-paper", Scorers.magnitude(), Allocations.minimumThresholdPaper(o.mt()));
            }
            case "uniform" -> new ScoredPruning(o.keepFirstDense() ? "uniform+first-dense" : "uniform",
                    Scorers.magnitude(), Allocations.uniform(o.keepFirstDense()));
            case "erk" -> new ScoredPruning("erk", Scorers.magnitude(), Allocations.erk());
            case "random" -> new ScoredPruning("random", Scorers.random(o.seed()), Allocations.global(null));
            case "lamp" -> new ScoredPruning("lamp", Scorers.lamp(), Allocations.global(null));
            default -> throw new IllegalArgumentException("unknown pruning method '" + name + "'; expected one of " + NAMES);
        };
    }

    /** k = round(s * n) for s in [0, 1); anything else is an error naming the value. */
    public static long targetCount(double sparsity, long n) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity " + sparsity + " outside [0, 1): give the fraction of prunable weights to remove, e.g. 0.9");
        }
        return Math.min(n, Math.round(sparsity * n));
    }
}
