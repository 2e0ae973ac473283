package dev.shears.cli.experiment;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.pruning.MinimumThreshold;
import dev.shears.pruning.ParameterPruning;
import dev.shears.pruning.PruningMethod;
import dev.shears.pruning.PruningMethods;
import dev.shears.pruning.PruningResult;
import java.util.List;
import java.util.Locale;

/**
 * The experiment's method names and the adapter from a name to the pruning module: global
 * (Global MP), global-mt (Global MP + Minimum Threshold), uniform, erk, lamp, random, the
 * data-driven scores snip, grasp and synflow, and gradual-global (Global MP during training from
 * scratch, which the sweep drives epoch by epoch through {@link #prune} with "global"). Masks are
 * installed on the model's parameters. Not a pruning algorithm itself. Pinned by SweepTest.
 */
final class Methods {
    static final List<String> NAMES = List.of("global", "global-mt", "uniform", "erk", "lamp", "snip", "grasp", "synflow", "random", "gradual-global");
    /** Methods whose scores come with the prune branch (SNIP, GraSP, SynFlow); not in this build yet. */
    static final List<String> PENDING = List.of("snip", "grasp", "synflow");

    private Methods() {}

    static void check(String name) {
        if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown method '" + name + "'; expected some of " + String.join(", ", NAMES));
    }

    /** Normalises a user's spelling ("Global-MT" -> "global-mt"). */
    static String normalize(String name) {
        return name.trim().toLowerCase(Locale.ROOT);
    }

    /** Throws a clear error when a method of the plan is not in this build. */
    static void requireAvailable(List<String> methods) {
        List<String> missing = methods.stream().filter(PENDING::contains).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("method(s) " + missing + " are not in this build yet (their scores come with the pruning "
                    + "module's SNIP/GraSP/SynFlow work); available: " + NAMES.stream().filter(m -> !PENDING.contains(m)).toList());
        }
    }

    /** The pruning module's method for an experiment method name. */
    static PruningMethod method(String name, String mt, String mtMode, long seed) {
        return switch (name) {
            case "global", "gradual-global" -> PruningMethods.create("global");
            case "global-mt" -> PruningMethods.create("global", PruningMethods.Options.DEFAULT
                    .withMt(MinimumThreshold.parse(mt, MinimumThreshold.Mode.parse(mtMode))));
            case "uniform", "erk", "lamp" -> PruningMethods.create(name);
            case "random" -> PruningMethods.create("random", PruningMethods.Options.DEFAULT.withSeed(seed));
            default -> {
                requireAvailable(List.of(name));
                throw new IllegalArgumentException("unknown method '" + name + "'");
            }
        };
    }

    /**
     * Checks before a sweep starts that Minimum Threshold {@code mt} can be met at every sparsity:
     * each layer keeps min(M, n) weights, which must fit in what the sparsity leaves.
     */
    static void checkMinimumThreshold(Model model, String mt, String mtMode, List<Double> sparsities) {
        MinimumThreshold m = MinimumThreshold.parse(mt, MinimumThreshold.Mode.parse(mtMode));
        long[] sizes = model.parameters().stream().filter(dev.shears.nn.Parameter::prunable).mapToLong(dev.shears.nn.Parameter::size).toArray();
        long n = java.util.Arrays.stream(sizes).sum(), floor = java.util.Arrays.stream(m.floors(sizes, n)).sum();
        for (double s : sparsities) {
            long left = n - PruningMethods.targetCount(s, n);
            if (floor > left) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--mt %s cannot hold at sparsity %s: M = %,d per layer keeps at least %,d "
                        + "of the %,d prunable weights in %d layers, but the sparsity leaves %,d; lower --mt or drop that sparsity",
                        mt, SweepProgress.percent(s), m.resolve(n), floor, n, sizes.length, left));
            }
        }
    }

    /** Prunes {@code model}'s prunable weights to {@code sparsity} with {@code name}; masks are owned by {@code ws}. */
    static PruningResult prune(Model model, String name, double sparsity, String mt, String mtMode, long seed, Workspace ws) {
        PruningMethod m = method(name, mt, mtMode, seed);
        return ParameterPruning.prune(model.parameters(), m, sparsity, ws, Topology.bypassed(model));
    }
}
