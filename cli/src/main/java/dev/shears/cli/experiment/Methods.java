package dev.shears.cli.experiment;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.train.BatchSource;
import dev.shears.pruning.MinimumThreshold;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import dev.shears.pruning.PruningMethods;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The experiment's method names and their mapping onto the pruning module's {@link Pruning}
 * facade: global (Global MP), global-mt (Global MP + Minimum Threshold), uniform, erk, lamp,
 * random, snip, grasp, synflow, and gradual-global (Global MP while training from scratch, which
 * the sweep drives through the pruning module's {@code GradualPruning}). Here every method but
 * gradual-global prunes the trained dense model one-shot, SNIP, GraSP and SynFlow included (they
 * were designed for pruning at initialisation). Not a pruning algorithm. Pinned by SweepTest.
 */
final class Methods {
    static final List<String> NAMES = List.of("global", "global-mt", "uniform", "erk", "lamp", "snip", "grasp", "synflow", "random", "gradual-global");

    private Methods() {}

    static void check(String name) {
        if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown method '" + name + "'; expected some of " + String.join(", ", NAMES));
    }

    /** Normalises a user's spelling ("Global-MT" -> "global-mt"). */
    static String normalize(String name) {
        return name.trim().toLowerCase(Locale.ROOT);
    }

    /** Whether the method's scores read training batches. */
    static boolean needsData(String name) {
        return Pruning.DATA_METHODS.contains(name);
    }

    /** The facade's options for a cell: the seed (random scores) and MT for global-mt. */
    static PruneOptions options(String name, String mt, String mtMode, long seed) {
        PruneOptions o = PruneOptions.DEFAULT.withSeed(seed);
        if (name.equals("global-mt")) o = o.withMt(MinimumThreshold.parse(mt, MinimumThreshold.Mode.parse(mtMode)));
        return o;
    }

    /** Prunes {@code model} one-shot to {@code sparsity}; {@code data} feeds SNIP and GraSP; masks are owned by {@code ws}. */
    static Pruning.Outcome prune(Model model, String name, double sparsity, String mt, String mtMode, long seed, BatchSource data, Workspace ws) {
        if (name.equals("gradual-global")) throw new IllegalArgumentException("gradual-global prunes while training, not one-shot");
        return Pruning.pruneWithResult(model, name, sparsity, options(name, mt, mtMode, seed), needsData(name) ? data : null, ws);
    }

    /**
     * Checks before a sweep starts that Minimum Threshold {@code mt} can be met at every sparsity:
     * each layer keeps min(M, n) weights, which must fit in what the sparsity leaves.
     */
    static void checkMinimumThreshold(Model model, String mt, String mtMode, List<Double> sparsities) {
        MinimumThreshold m = MinimumThreshold.parse(mt, MinimumThreshold.Mode.parse(mtMode));
        long[] sizes = model.parameters().stream().filter(Parameter::prunable).mapToLong(Parameter::size).toArray();
        long n = Arrays.stream(sizes).sum(), floor = Arrays.stream(m.floors(sizes, n)).sum();
        for (double s : sparsities) {
            long left = n - PruningMethods.targetCount(s, n);
            if (floor > left) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--mt %s cannot hold at sparsity %s: M = %,d per layer keeps at least %,d "
                        + "of the %,d prunable weights in %d layers, but the sparsity leaves %,d; lower --mt or drop that sparsity",
                        mt, SweepProgress.percent(s), m.resolve(n), floor, n, sizes.length, left));
            }
        }
    }
}
