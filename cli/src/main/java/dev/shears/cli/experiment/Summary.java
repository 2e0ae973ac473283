package dev.shears.cli.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One (method, sparsity) point of a sweep over its seeds: mean and sample standard deviation of
 * the accuracies, mean sparsity reached and FLOPs pruned, and how many seeds collapsed a layer or
 * cut the network. Built from cells by {@link #of}; the order is the plan's. Pinned by ReportTest.
 */
record Summary(String method, double sparsity, int runs, Stat accuracy, Stat best, Stat pruned, Stat dense, double achieved,
               double flopsPruned, double kept, int collapsedRuns, int cutRuns, List<String> collapsedLayers) {
    /** Mean, sample standard deviation (0 for one run) and count of the finite values. */
    record Stat(double mean, double std, int n) {
        static Stat of(List<Double> values) {
            List<Double> v = values.stream().filter(Double::isFinite).toList();
            if (v.isEmpty()) return new Stat(Double.NaN, Double.NaN, 0);
            double m = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double ss = 0;
            for (double x : v) ss += (x - m) * (x - m);
            return new Stat(m, v.size() > 1 ? Math.sqrt(ss / (v.size() - 1)) : 0, v.size());
        }

        String format() {
            if (n == 0) return "-";
            return n > 1 ? String.format(java.util.Locale.ROOT, "%.2f ± %.2f", mean, std) : String.format(java.util.Locale.ROOT, "%.2f", mean);
        }
    }

    double remainingFlops() {
        return 1 - flopsPruned;
    }

    /** Summaries in plan order (methods, then sparsities) of the cells given. */
    static List<Summary> of(Plan plan, List<CellResult> cells) {
        Map<String, List<CellResult>> groups = new LinkedHashMap<>();
        for (String m : plan.methods()) for (double s : plan.sparsities()) groups.put(m + "@" + Plan.sparsityKey(s), new ArrayList<>());
        for (CellResult c : cells) {
            List<CellResult> g = groups.get(c.method() + "@" + Plan.sparsityKey(c.sparsity()));
            if (g != null) g.add(c);
        }
        List<Summary> out = new ArrayList<>();
        for (List<CellResult> g : groups.values()) {
            if (g.isEmpty()) continue;
            CellResult first = g.getFirst();
            List<String> layers = new ArrayList<>();
            for (CellResult c : g) for (String l : c.collapsedLayers()) if (!layers.contains(l)) layers.add(l);
            out.add(new Summary(first.method(), first.sparsity(), g.size(),
                    Stat.of(g.stream().map(CellResult::accuracy).toList()),
                    Stat.of(g.stream().map(CellResult::bestAccuracy).toList()),
                    Stat.of(g.stream().map(CellResult::prunedAccuracy).toList()),
                    Stat.of(g.stream().map(CellResult::denseAccuracy).toList()),
                    g.stream().mapToDouble(CellResult::achieved).average().orElse(Double.NaN),
                    g.stream().mapToDouble(CellResult::flopsPruned).average().orElse(Double.NaN),
                    g.stream().mapToDouble(CellResult::kept).average().orElse(Double.NaN),
                    (int) g.stream().filter(c -> !c.collapsedLayers().isEmpty()).count(),
                    (int) g.stream().filter(c -> !c.connected()).count(), layers));
        }
        return out;
    }
}
