package dev.shears.pruning;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.Network;
import dev.shears.nn.train.BatchSource;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Pruning a model in one call: method by name, sparsity, options, data for the data-driven
 * scores; the masks go onto the model's prunable {@link Parameter}s (pruned weights become exactly
 * zero) and the {@link SparsityReport} comes back. Methods: {@code global} (Global MP;
 * {@code global-mt} or {@code global} with an MT option for Minimum Threshold), {@code uniform},
 * {@code erk}, {@code random}, {@code lamp}, {@code snip}, {@code grasp} (both need data) and
 * {@code synflow} (data-free, iterative). Every method prunes exactly k = round(s * N), except MT
 * paper mode (its note says by how much). On a model that already has masks, earlier cuts are
 * kept (see {@link KeepPruned}). Not a training loop: fine-tuning is {@link FineTune}.
 *
 * <pre>{@code
 * SparsityReport r = Pruning.prune(model, "global", 0.9, PruneOptions.DEFAULT, null, maskOwner);
 * }</pre>
 * Pinned by PruningApiTest and ZooPruningTest.
 */
public final class Pruning {
    /** The method names {@link #prune} accepts. */
    public static final List<String> METHODS = List.of("global", "global-mt", "uniform", "erk", "random", "lamp", "snip", "grasp", "synflow");
    /** Methods whose scores read batches of training data. */
    public static final List<String> DATA_METHODS = List.of("snip", "grasp");

    private Pruning() {}

    /** What a pruning call did: the report of the model afterwards and the core's counts. */
    public record Outcome(SparsityReport report, PruningResult result) {
        /** The core's note (MT paper mode's distance from k), empty when there is nothing to say. */
        public String note() {
            return result.note();
        }
    }

    /**
     * Prunes {@code model} to {@code sparsity} with {@code method}; returns the report afterwards.
     * {@code data} feeds SNIP and GraSP (null otherwise). New masks are allocated in
     * {@code maskOwner}, which must outlive the model's use; it may be null when every prunable
     * parameter already has a mask.
     */
    public static SparsityReport prune(Model model, String method, double sparsity, PruneOptions opts, BatchSource data, Workspace maskOwner) {
        return pruneWithResult(model, method, sparsity, opts, data, maskOwner).report();
    }

    /** {@link #prune}, also returning the core's counts and note. */
    public static Outcome pruneWithResult(Model model, String method, double sparsity, PruneOptions opts, BatchSource data, Workspace maskOwner) {
        if (model == null) throw new IllegalArgumentException("no model to prune");
        PruneOptions o = opts == null ? PruneOptions.DEFAULT : opts;
        String name = normalise(method);
        List<Parameter> prunable = prunable(model);
        long n = 0;
        for (Parameter p : prunable) n += p.size();
        PruningMethods.targetCount(sparsity, n); // the sparsity check, before any work
        if (maskOwner == null) {
            for (Parameter p : prunable) {
                if (p.mask() == null) throw new IllegalArgumentException("pruning needs a workspace to own the masks: '" + p.name() + "' has none yet");
            }
        }
        if (DATA_METHODS.contains(name) && data == null) {
            throw new IllegalArgumentException("method " + name + " scores weights with gradients of the loss: it needs training data (a batch source)");
        }
        PruningResult result;
        if (name.equals("synflow")) {
            result = synflow(model, prunable, sparsity, o, maskOwner);
        } else {
            ScoredPruning m = method(name, model, o, data);
            result = ParameterPruning.prune(model.parameters(), keepingCuts(m, prunable), sparsity, maskOwner, null);
        }
        return new Outcome(report(model), result);
    }

    /** The report of the model as it is now (its masks, FLOPs in the STR convention, collapse). */
    public static SparsityReport report(Model model) {
        long pool = model instanceof Network n ? n.poolMacs() : 0;
        return SparsityReport.fromParameters(model.parameters(), LivePaths.bypassed(model), pool);
    }

    /**
     * Throws {@link IllegalArgumentException} naming the first parameter or float buffer of
     * {@code model} (in its order) that holds a NaN or an infinity, and the index: the check that
     * pruning runs on the prunable weights, over every tensor. {@code purpose} ("evaluation",
     * "export") ends the message. {@code shears eval} and {@code shears export} refuse such models.
     */
    public static void requireFinite(Model model, String purpose) {
        List<ScoreSegment> tensors = new java.util.ArrayList<>();
        for (Parameter p : model.parameters()) tensors.add(new ScoreSegment(p.name(), p.value().segment(), p.size()));
        for (var b : model.buffers().entrySet()) {
            if (b.getValue().dtype() == dev.shears.engine.DType.F32) tensors.add(new ScoreSegment(b.getKey(), b.getValue().segment(), b.getValue().size()));
        }
        GlobalThreshold.requireFinite(tensors, "tensor", "value", purpose);
    }

    /** The prunable view of a model's weights (no bypass information). */
    public static List<PrunableLayer> layers(Model model) {
        return PrunableLayer.of(model.parameters(), null);
    }

    /** The method's name as {@link #prune} reads it, or a one-line error listing the valid ones. */
    public static String normalise(String method) {
        if (method == null || method.isBlank()) throw new IllegalArgumentException("no pruning method given; expected one of " + METHODS);
        String n = method.trim().toLowerCase(Locale.ROOT);
        if (!METHODS.contains(n)) throw new IllegalArgumentException("unknown pruning method '" + method + "'; expected one of " + METHODS);
        return n;
    }

    /** Sparsity of round r (1-based) of n with geometric density: 1 - (1 - s)^(r/n); round n is s itself. */
    public static double geometricSparsity(double target, int round, int rounds) {
        if (rounds < 1 || round < 1 || round > rounds) throw new IllegalArgumentException("round " + round + " of " + rounds);
        if (round == rounds) return target;
        return 1 - Math.pow(1 - target, (double) round / rounds);
    }

    // ---------------------------------------------------------------- methods

    private static ScoredPruning method(String name, Model model, PruneOptions o, BatchSource data) {
        if (o.mt() != null && !name.equals("global") && !name.equals("global-mt")) {
            throw new IllegalArgumentException("--mt applies to method global, not " + name);
        }
        if (o.keepFirstDense() && !name.equals("uniform")) {
            throw new IllegalArgumentException("--keep-first-dense applies to method uniform, not " + name);
        }
        return switch (name) {
            case "global-mt" -> {
                if (o.mt() == null) throw new IllegalArgumentException("method global-mt needs --mt (a count like 500 or a percent like 0.05%)");
                yield (ScoredPruning) PruningMethods.create("global", o.core());
            }
            case "snip" -> new ScoredPruning("snip", GradientScores.snip(model, data, o.scoreBatches()), Allocations.global(null));
            case "grasp" -> new ScoredPruning("grasp", GradientScores.grasp(model, data, o.scoreBatches(), o.graspStep()), Allocations.global(null));
            default -> (ScoredPruning) PruningMethods.create(name, o.core());
        };
    }

    private static PruningMethod keepingCuts(ScoredPruning m, List<Parameter> prunable) {
        if (!KeepPruned.anyMask(prunable)) return m;
        return new ScoredPruning(m.name(), new KeepPruned(m.scorer(), prunable), m.allocation());
    }

    /** SynFlow's loop: rounds with density (1 - s)^(r/R), scores recomputed on the masked model each round. */
    private static PruningResult synflow(Model model, List<Parameter> prunable, double sparsity, PruneOptions o, Workspace maskOwner) {
        if (o.mt() != null) throw new IllegalArgumentException("--mt applies to method global, not synflow");
        if (o.keepFirstDense()) throw new IllegalArgumentException("--keep-first-dense applies to method uniform, not synflow");
        PruningResult last = null;
        int rounds = o.synflowRounds();
        for (int r = 1; r <= rounds; r++) {
            ScoredPruning m = new ScoredPruning("synflow", GradientScores.synflow(model), Allocations.global(null));
            last = ParameterPruning.prune(model.parameters(), keepingCuts(m, prunable), geometricSparsity(sparsity, r, rounds), maskOwner, null);
        }
        return last;
    }

    static List<Parameter> prunable(Model model) {
        return model.parameters().stream().filter(Parameter::prunable).toList();
    }

    static Predicate<String> bypassed(Model model) {
        return LivePaths.bypassed(model);
    }
}
