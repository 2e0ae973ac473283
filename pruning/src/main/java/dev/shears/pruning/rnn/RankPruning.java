package dev.shears.pruning.rnn;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Structured rank pruning of a low-rank FastGRNN, the Global MP paper's T-FGRNN variant (its
 * section 4.2): W = W2 W1 and U = U2 U1 are sums of rank-1 components (column i of the second
 * factor times row i of the first, EdgeML's PyTorch shapes W1 (r_W, F), W2 (H, r_W), U1 (r_U, H),
 * U2 (H, r_U)); each component gets the L1 norm of its factor slice as its score, and the lowest
 * are removed until W and U have the target ranks. A removed component is masked in both factors
 * (row i of W1 and column i of W2; row i of U1 and column i of U2), so fine-tuning with the masks
 * fixed (the optimizer re-applies them) keeps the ranks. Our choice of slice (the paper leaves the
 * layout open) is {@link Score#FIRST_FACTOR}: row i of W1 / U1 = column i of EdgeML's TensorFlow
 * layout, the factor that meets the input. Ties: the higher index goes first. Not unstructured
 * pruning: for that, Global MP over {@link #cellWeights} through {@code ParameterPruning}.
 * Pinned by RankPruningTest.
 *
 * <pre>{@code
 * RankPruning.Result r = RankPruning.prune(model, 9, 8, RankPruning.Score.FIRST_FACTOR, ws);
 * }</pre>
 * The command line ({@code shears prune --method rank --rank-w 9 --rank-u 8}) maps onto this call.
 */
public final class RankPruning {
    /** Which slice of a component scores it (L1 norm). */
    public enum Score {
        /** Row i of W1 / U1 (the default; column i in EdgeML's TensorFlow layout). */
        FIRST_FACTOR,
        /** Column i of W2 / U2. */
        SECOND_FACTOR,
        /** L1 of the whole rank-1 term: |row i of W1|_1 * |column i of W2|_1. */
        PRODUCT;

        /** Parses first-factor, second-factor or product (case and - or _ do not matter). */
        public static Score parse(String s) {
            String k = s == null ? "" : s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (Score v : values()) if (v.name().equals(k)) return v;
            throw new IllegalArgumentException("rank score must be first-factor, second-factor or product, got '" + s + "'");
        }
    }

    /** One matrix's outcome: component scores (index = component), which survive, the rank before and after. */
    public record Matrix(String name, double[] scores, boolean[] kept, int rankBefore, int rankAfter) {
        public Matrix {
            scores = scores.clone();
            kept = kept.clone();
        }

        @Override public double[] scores() { return scores.clone(); }
        @Override public boolean[] kept() { return kept.clone(); }
    }

    /** Both matrices, and the weights the masks now keep in the four factors. */
    public record Result(Matrix w, Matrix u, long factorWeights, long factorWeightsKept) {
        public String summary() {
            return String.format(Locale.ROOT, "rank pruning: W rank %d -> %d, U rank %d -> %d; factor weights kept %d of %d (%.2f%%)",
                    w.rankBefore(), w.rankAfter(), u.rankBefore(), u.rankAfter(), factorWeightsKept, factorWeights, 100.0 * factorWeightsKept / factorWeights);
        }
    }

    private RankPruning() {}

    /**
     * Prunes W and U of {@code model}'s FastGRNN to ranks {@code rankW} and {@code rankU} (at least
     * 1, at most the current rank); masks are created in {@code ws} when a factor has none and are
     * combined with existing ones. Components already pruned (all zero) score 0 and go first.
     */
    public static Result prune(Model model, int rankW, int rankU, Score score, Workspace ws) {
        Parameter w1 = factor(model, "W1"), w2 = factor(model, "W2"), u1 = factor(model, "U1"), u2 = factor(model, "U2");
        Matrix w = pruneMatrix("W", w1, w2, rankW, "--rank-w", score, ws);
        Matrix u = pruneMatrix("U", u1, u2, rankU, "--rank-u", score, ws);
        long total = 0, kept = 0;
        for (Parameter p : List.of(w1, w2, u1, u2)) {
            total += p.size();
            kept += p.kept();
        }
        return new Result(w, u, total, kept);
    }

    /**
     * The recurrent weight matrices of a model's cell (W, U or their factors; the GRU's
     * weight_ih/weight_hh), without the classifier: the pool of unstructured Global MP for RNNs.
     */
    public static List<Parameter> cellWeights(Model model) {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : model.parameters()) if (p.prunable() && !p.name().startsWith("fc.")) out.add(p);
        if (out.isEmpty()) throw new IllegalArgumentException("model '" + model.spec().get("model") + "' has no recurrent weight matrices (expected rnn.W, rnn.U, ... )");
        return out;
    }

    private static Parameter factor(Model model, String suffix) {
        for (Parameter p : model.parameters()) if (p.name().endsWith("." + suffix)) return p;
        String kind = model.spec().get("model");
        throw new IllegalArgumentException("rank pruning needs a low-rank FastGRNN (factors W1, W2, U1, U2), but model '" + kind
                + "' has no '" + suffix + "' (build it with --model-option rank-w=R --model-option rank-u=R; the paper starts from (9, 80))");
    }

    private static Matrix pruneMatrix(String name, Parameter first, Parameter second, int target, String option, Score score, Workspace ws) {
        int[] fs = first.shape(), ss = second.shape();
        int rank = fs[0], cols = fs[1], rows = ss[0];
        if (ss.length != 2 || ss[1] != rank) {
            throw new IllegalArgumentException(second.name() + " " + Arrays.toString(ss) + " does not match " + first.name() + " " + Arrays.toString(fs));
        }
        if (target < 1 || target > rank) throw new IllegalArgumentException(option + " must be from 1 to the current rank of " + name + " (" + rank + "), got " + target);
        float[] a = first.value().toFloatArray(), b = second.value().toFloatArray();
        double[] s = new double[rank];
        for (int i = 0; i < rank; i++) {
            double rowL1 = 0, colL1 = 0;
            for (int j = 0; j < cols; j++) rowL1 += Math.abs(a[i * cols + j]);
            for (int j = 0; j < rows; j++) colL1 += Math.abs(b[j * rank + i]);
            s[i] = switch (score) {
                case FIRST_FACTOR -> rowL1;
                case SECOND_FACTOR -> colL1;
                case PRODUCT -> rowL1 * colL1;
            };
            if (!Double.isFinite(s[i])) throw new IllegalArgumentException(name + ": component " + i + " has a non-finite score (weights of " + first.name() + " or " + second.name() + " are not finite)");
        }
        Integer[] order = new Integer[rank];
        for (int i = 0; i < rank; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> s[x] != s[y] ? Double.compare(s[x], s[y]) : Integer.compare(y, x)); // lowest first; ties: higher index first
        boolean[] kept = new boolean[rank];
        Arrays.fill(kept, true);
        for (int r = 0; r < rank - target; r++) kept[order[r]] = false;
        float[] m1 = existing(first), m2 = existing(second);
        for (int i = 0; i < rank; i++) {
            if (kept[i]) continue;
            for (int j = 0; j < cols; j++) m1[i * cols + j] = 0f;
            for (int j = 0; j < rows; j++) m2[j * rank + i] = 0f;
        }
        first.setMask(ws, m1);
        second.setMask(ws, m2);
        return new Matrix(name, s, kept, rank, target);
    }

    private static float[] existing(Parameter p) {
        if (p.mask() != null) return p.mask().toFloatArray();
        float[] ones = new float[(int) p.size()];
        Arrays.fill(ones, 1f);
        return ones;
    }
}
