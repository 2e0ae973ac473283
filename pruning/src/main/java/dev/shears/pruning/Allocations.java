package dev.shears.pruning;

import java.util.List;
import java.util.Locale;

/**
 * The built-in allocations: global (one threshold, optional MT floors in exact mode), MT paper
 * reallocation, uniform (optionally keeping the first layer dense) and ERK (Evci et al. 2020).
 * Per-layer counts are rounded by largest remainder so the total is exactly k. Pinned by
 * PruningMethodsTest and MinimumThresholdTest.
 */
public final class Allocations {
    private Allocations() {}

    /** One threshold over all scores; with {@code mt} (exact mode) each layer keeps its top min(M, n) first. */
    public static Allocation global(MinimumThreshold mt) {
        if (mt != null && mt.mode() != MinimumThreshold.Mode.EXACT) {
            throw new IllegalArgumentException("Allocations.global takes MT in exact mode; use Allocations.minimumThresholdPaper");
        }
        return new Allocation() {
            @Override
            public String name() {
                return mt == null ? "global" : "global, MT " + mt;
            }

            @Override
            public Cuts allocate(List<PrunableLayer> layers, Scorer.Scores scores, long k, double sparsity) {
                long n = PrunableLayer.total(layers);
                long[] floors = null;
                if (mt != null) {
                    floors = mt.floors(sizes(layers), n);
                    requirePossible(layers, floors, n, k, mt);
                }
                GlobalThreshold.Result r = GlobalThreshold.select(scores.segments(), scores.order(), k, floors, scores.what());
                return new Cuts(r.cuts(), "");
            }
        };
    }

    /**
     * MT as the authors' code does it (PAPER.md 1.3): Global MP's per-layer sparsities, the
     * reallocation in {@link MinimumThreshold#reallocate}, then each layer pruned by its own
     * scores to int(s_l * n_l). The total can differ from k; the note says by how much.
     */
    public static Allocation minimumThresholdPaper(MinimumThreshold mt) {
        return new Allocation() {
            @Override
            public String name() {
                return "global, MT " + mt;
            }

            @Override
            public Cuts allocate(List<PrunableLayer> layers, Scorer.Scores scores, long k, double sparsity) {
                long n = PrunableLayer.total(layers);
                long[] sizes = sizes(layers);
                requirePossible(layers, mt.floors(sizes, n), n, k, mt);
                long[] globalPruned = GlobalThreshold.select(scores.segments(), scores.order(), k, null, scores.what())
                        .cuts().count(scores.segments());
                double[] s = new double[sizes.length];
                for (int l = 0; l < s.length; l++) s[l] = sizes[l] == 0 ? 0 : (double) globalPruned[l] / sizes[l];
                long m = mt.resolve(n);
                MinimumThreshold.Reallocation re = MinimumThreshold.reallocate(sizes, s, m, sparsity);
                LayerCuts cuts = GlobalThreshold.perLayer(scores.segments(), scores.order(), re.prune(), scores.what());
                long total = re.total();
                String note = total == k ? "" : String.format(Locale.ROOT,
                        "MT paper mode pruned %d weights, %+d from k = %d (sparsity %.6f): its reallocation stops once the "
                                + "real-valued total reaches the target and truncates each layer's count to int(s_l * n_l)",
                        total, total - k, k, n == 0 ? 0.0 : (double) total / n);
                return new Cuts(cuts, note);
            }
        };
    }

    /** The same sparsity in every layer (the first layer dense when asked; the rest then carry all of k). */
    public static Allocation uniform(boolean keepFirstDense) {
        return new Allocation() {
            @Override
            public String name() {
                return keepFirstDense ? "uniform, first layer dense" : "uniform";
            }

            @Override
            public Cuts allocate(List<PrunableLayer> layers, Scorer.Scores scores, long k, double sparsity) {
                long[] sizes = sizes(layers);
                long[] cap = sizes.clone();
                if (keepFirstDense && cap.length > 0) cap[0] = 0;
                long room = 0;
                for (long c : cap) room += c;
                if (k > room) {
                    throw new IllegalArgumentException("uniform pruning of " + k + " weights with the first layer '"
                            + layers.get(0).name() + "' dense: only " + room + " weights in the other layers");
                }
                double[] exact = new double[sizes.length];
                for (int l = 0; l < sizes.length; l++) exact[l] = room == 0 ? 0 : (double) k * cap[l] / room;
                long[] prune = Apportion.largestRemainder(exact, cap, k);
                return new Cuts(GlobalThreshold.perLayer(scores.segments(), scores.order(), prune, scores.what()), "");
            }
        };
    }

    /**
     * ERK: layer density proportional to (sum of its shape's dims) / (product of its dims),
     * scaled by one factor so the kept total is N - k; layers that would exceed density 1 are
     * dense and the factor is solved again over the rest. Magnitude (or the given scores) inside
     * each layer.
     */
    public static Allocation erk() {
        return new Allocation() {
            @Override
            public String name() {
                return "erk";
            }

            @Override
            public Cuts allocate(List<PrunableLayer> layers, Scorer.Scores scores, long k, double sparsity) {
                long[] sizes = sizes(layers);
                double[] keep = erkKeep(layers, PrunableLayer.total(layers) - k);
                long[] kept = Apportion.largestRemainder(keep, sizes, PrunableLayer.total(layers) - k);
                long[] prune = new long[sizes.length];
                for (int l = 0; l < prune.length; l++) prune[l] = sizes[l] - kept[l];
                return new Cuts(GlobalThreshold.perLayer(scores.segments(), scores.order(), prune, scores.what()), "");
            }
        };
    }

    /** ERK's real-valued kept count per layer, summing to {@code keepTotal}. */
    static double[] erkKeep(List<PrunableLayer> layers, long keepTotal) {
        int n = layers.size();
        double[] raw = new double[n]; // sum of dims: kept = eps * raw while not dense
        boolean[] dense = new boolean[n];
        for (int l = 0; l < n; l++) {
            for (int d : layers.get(l).shape()) raw[l] += d;
            if (layers.get(l).count() == 0) dense[l] = true;
        }
        double eps;
        while (true) {
            double rest = keepTotal, denominator = 0;
            for (int l = 0; l < n; l++) {
                if (dense[l]) rest -= layers.get(l).count();
                else denominator += raw[l];
            }
            eps = denominator == 0 ? 0 : rest / denominator;
            boolean grew = false;
            for (int l = 0; l < n; l++) {
                if (!dense[l] && eps * raw[l] > layers.get(l).count()) {
                    dense[l] = true; // eps only grows as layers turn dense, so this never needs undoing
                    grew = true;
                }
            }
            if (!grew) break;
        }
        double[] keep = new double[n];
        for (int l = 0; l < n; l++) keep[l] = dense[l] ? layers.get(l).count() : Math.max(0, eps * raw[l]);
        return keep;
    }

    static long[] sizes(List<PrunableLayer> layers) {
        long[] s = new long[layers.size()];
        for (int l = 0; l < s.length; l++) s[l] = layers.get(l).count();
        return s;
    }

    private static void requirePossible(List<PrunableLayer> layers, long[] floors, long n, long k, MinimumThreshold mt) {
        long kept = 0;
        for (long f : floors) kept += f;
        if (kept > n - k) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "impossible MT %s: M = %d keeps at least %d of the %d prunable weights in %d layers, "
                            + "but pruning %d leaves only %d; lower --mt or the sparsity",
                    mt, mt.resolve(n), kept, n, layers.size(), k, n - k));
        }
    }
}
