package dev.shears.cli.experiment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The paper's claims checked against a sweep's numbers, as sentences computed from the results
 * (never hard-coded): (1) Global MP is at least as accurate as every other method at every
 * sparsity, and how it compares with uniform pruning at the highest sparsity; (2) where Global MP
 * loses or wins on the FLOPs-accuracy plane; (3) layer collapse under Global MP at the highest
 * sparsity (a layer emptied, or, as the paper tests it, accuracy at chance after fine-tuning) and
 * whether MT prevents it. A claim the data does not support is said so. Accuracies
 * are final (last fine-tuning epoch) means over seeds. Pinned by ReportTest.
 */
final class Findings {
    private Findings() {}

    static List<String> of(Plan plan, List<Summary> summaries, List<CellResult> cells) {
        List<String> out = new ArrayList<>();
        accuracy(plan, summaries, out);
        uniformAtTop(plan, summaries, out);
        flops(summaries, out);
        collapse(plan, summaries, cells, out);
        return out;
    }

    private static Optional<Summary> find(List<Summary> all, String method, double sparsity) {
        return all.stream().filter(s -> s.method().equals(method) && Math.abs(s.sparsity() - sparsity) < 1e-9).findFirst();
    }

    /** Claim 1: Global MP >= every other method (Global MP + MT aside: it is Global MP too) at every sparsity. */
    private static void accuracy(Plan plan, List<Summary> all, List<String> out) {
        List<String> rivals = plan.methods().stream().filter(m -> !m.equals("global") && !m.equals("global-mt")).toList();
        if (!plan.methods().contains("global") || rivals.isEmpty()) return;
        List<String> losses = new ArrayList<>();
        int compared = 0;
        for (double s : plan.sparsities()) {
            Optional<Summary> g = find(all, "global", s);
            if (g.isEmpty()) continue;
            for (String r : rivals) {
                Optional<Summary> o = find(all, r, s);
                if (o.isEmpty()) continue;
                compared++;
                double gm = g.get().accuracy().mean(), om = o.get().accuracy().mean();
                if (om > gm) {
                    double noise = Math.max(g.get().accuracy().std(), o.get().accuracy().std());
                    String within = g.get().runs() > 1 && om - gm <= noise ? ", within one standard deviation" : "";
                    losses.add(String.format(Locale.ROOT, "%s at %s: %.2f%% vs Global MP %.2f%% (+%.2f points%s)", r, SweepProgress.percent(s), om, gm, om - gm, within));
                }
            }
        }
        if (compared == 0) return;
        if (losses.isEmpty()) {
            out.add("Claim 1 holds here: Global MP is at least as accurate as " + String.join(", ", rivals) + " at every sparsity run ("
                    + compared + " comparisons).");
        } else {
            out.add("Claim 1 does not hold everywhere here: " + losses.size() + " of " + compared + " comparisons favour another method: "
                    + String.join("; ", losses) + ".");
        }
    }

    /** Global MP vs uniform at the highest sparsity both ran. */
    private static void uniformAtTop(Plan plan, List<Summary> all, List<String> out) {
        Optional<Double> top = plan.sparsities().stream().filter(s -> find(all, "global", s).isPresent() && find(all, "uniform", s).isPresent())
                .max(Comparator.naturalOrder());
        if (top.isEmpty()) return;
        Summary g = find(all, "global", top.get()).orElseThrow(), u = find(all, "uniform", top.get()).orElseThrow();
        String verdict = g.accuracy().mean() >= u.accuracy().mean() ? "Global MP is at or above uniform" : "Global MP is BELOW uniform";
        out.add(String.format(Locale.ROOT, "Global MP vs uniform at %s: %.2f%% vs %.2f%% (%s at the highest sparsity).", SweepProgress.percent(top.get()),
                g.accuracy().mean(), u.accuracy().mean(), verdict));
    }

    /** Claim 2: on the FLOPs-accuracy plane, which other point beats a Global MP point on both axes. */
    private static void flops(List<Summary> all, List<String> out) {
        List<Summary> global = all.stream().filter(s -> s.method().equals("global")).toList();
        List<Summary> others = all.stream().filter(s -> !s.method().equals("global") && !s.method().equals("global-mt")).toList();
        if (global.isEmpty() || others.isEmpty()) return;
        List<String> fewer = new ArrayList<>();
        for (Summary g : global) {
            Optional<Summary> u = find(all, "uniform", g.sparsity());
            if (u.isPresent()) {
                fewer.add(String.format(Locale.ROOT, "%s: %s vs uniform %s", SweepProgress.percent(g.sparsity()), SweepProgress.percent(g.flopsPruned()),
                        SweepProgress.percent(u.get().flopsPruned())));
            }
        }
        if (!fewer.isEmpty()) out.add("FLOPs pruned by Global MP at each sparsity: " + String.join("; ", fewer) + ".");
        List<String> lose = new ArrayList<>(), win = new ArrayList<>();
        for (Summary g : global) {
            List<String> beaters = new ArrayList<>();
            for (Summary o : others) {
                if (o.remainingFlops() <= g.remainingFlops() && o.accuracy().mean() > g.accuracy().mean()) {
                    beaters.add(String.format(Locale.ROOT, "%s at %s (%.2f%% accuracy with %s of the FLOPs)", o.method(), SweepProgress.percent(o.sparsity()),
                            o.accuracy().mean(), SweepProgress.percent(o.remainingFlops())));
                }
            }
            String where = String.format(Locale.ROOT, "Global MP at %s (%.2f%% with %s of the FLOPs)", SweepProgress.percent(g.sparsity()), g.accuracy().mean(),
                    SweepProgress.percent(g.remainingFlops()));
            if (beaters.isEmpty()) win.add(SweepProgress.percent(g.sparsity()));
            else lose.add(where + " is beaten on both axes by " + String.join(", ", beaters));
        }
        if (lose.isEmpty()) {
            out.add("Claim 2: no other method reaches higher accuracy with fewer FLOPs than any Global MP point.");
        } else {
            out.add("Claim 2: Global MP loses on the FLOPs-accuracy plane at " + lose.size() + " of " + global.size() + " sparsities: "
                    + String.join("; ", lose) + (win.isEmpty() ? "." : "; it is not beaten on both axes at " + String.join(", ", win) + "."));
        }
    }

    /** Claim 3: Global MP's layer collapse at the highest sparsity, and what MT does there. */
    private static void collapse(Plan plan, List<Summary> all, List<CellResult> cells, List<String> out) {
        if (!plan.methods().contains("global")) return;
        Optional<Summary> worst = all.stream().filter(s -> s.method().equals("global") && s.collapsedRuns() > 0).max(Comparator.comparingDouble(Summary::sparsity));
        if (worst.isEmpty()) {
            Optional<Summary> chance = all.stream().filter(s -> s.method().equals("global") && allAtChance(cells, "global", s.sparsity()))
                    .max(Comparator.comparingDouble(Summary::sparsity));
            if (chance.isPresent()) {
                out.add(atChance(plan, all, cells, chance.get()));
                return;
            }
            Optional<Summary> top = all.stream().filter(s -> s.method().equals("global")).max(Comparator.comparingDouble(Summary::sparsity));
            top.ifPresent(t -> out.add(overPruned(plan, all, cells, t)));
            return;
        }
        Summary g = worst.get();
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Layer collapse: Global MP empties %s at %s in %d of %d runs (accuracy %.2f%%%s)", String.join(", ", g.collapsedLayers()),
                SweepProgress.percent(g.sparsity()), g.collapsedRuns(), g.runs(), g.accuracy().mean(),
                g.cutRuns() > 0 ? ", network cut" : ", an identity path goes around it"));
        Optional<Summary> mt = find(all, "global-mt", g.sparsity());
        if (mt.isPresent()) {
            Summary m = mt.get();
            long keptThere = keptIn(cells, "global-mt", g.sparsity(), g.collapsedLayers());
            if (m.collapsedRuns() == 0) {
                b.append(String.format(Locale.ROOT, "; Global MP + MT (%s) keeps %,d weights there (accuracy %.2f%%)", plan.mt(), keptThere, m.accuracy().mean()));
            } else {
                b.append(String.format(Locale.ROOT, "; Global MP + MT (%s) collapses too (%s; accuracy %.2f%%)", plan.mt(), String.join(", ", m.collapsedLayers()),
                        m.accuracy().mean()));
            }
        } else if (plan.methods().contains("global-mt")) {
            b.append("; Global MP + MT was not run at that sparsity");
        }
        out.add(b.append('.').toString());
    }

    /**
     * No layer emptied: say so, name the layer Global MP prunes hardest at the highest sparsity
     * (the smallest fraction left, first seed), and what MT does to it and to the accuracy.
     */
    private static String overPruned(Plan plan, List<Summary> all, List<CellResult> cells, Summary top) {
        StringBuilder b = new StringBuilder("No layer collapse: Global MP left every layer some weights at every sparsity run (up to "
                + SweepProgress.percent(top.sparsity()) + ")");
        Optional<CellResult> g = first(cells, "global", top.sparsity());
        Optional<CellResult.Layer> hardest = g.flatMap(c -> c.layers().stream().filter(l -> l.weights() > 0)
                .min(Comparator.comparingDouble(l -> (double) l.kept() / l.weights())));
        if (hardest.isEmpty()) return b.append('.').toString();
        CellResult.Layer h = hardest.get();
        b.append(String.format(Locale.ROOT, ", but it prunes %s hardest: %,d of %,d weights left (%s) at %s, accuracy %.2f%%", h.name(), h.kept(), h.weights(),
                SweepProgress.percent((double) h.kept() / h.weights()), SweepProgress.percent(top.sparsity()), top.accuracy().mean()));
        Optional<Summary> mt = find(all, "global-mt", top.sparsity());
        Optional<CellResult> m = first(cells, "global-mt", top.sparsity());
        if (mt.isPresent() && m.isPresent()) {
            long keptMt = m.get().layers().stream().filter(l -> l.name().equals(h.name())).mapToLong(CellResult.Layer::kept).sum();
            double gain = mt.get().accuracy().mean() - top.accuracy().mean();
            b.append(String.format(Locale.ROOT, "; Global MP + MT (%s) keeps %,d there and reaches %.2f%% (%s%.2f points%s)", plan.mt(), keptMt,
                    mt.get().accuracy().mean(), gain >= 0 ? "+" : "", gain, gain > 0 ? "" : ": MT does not help here"));
        }
        return b.append('.').toString();
    }

    /** Every run of {@code method} at {@code sparsity} ended at chance accuracy (and there is at least one). */
    private static boolean allAtChance(List<CellResult> cells, String method, double sparsity) {
        List<CellResult> runs = cells.stream().filter(c -> c.method().equals(method) && Math.abs(c.sparsity() - sparsity) < 1e-9).toList();
        return !runs.isEmpty() && runs.stream().allMatch(CellResult::atChance);
    }

    /**
     * No layer emptied, but Global MP ends at chance accuracy after fine-tuning (the paper's
     * empirical test of collapse: "unable to learn"): name the layer pruned hardest there and what
     * MT does to it and to the accuracy.
     */
    private static String atChance(Plan plan, List<Summary> all, List<CellResult> cells, Summary g) {
        CellResult c = first(cells, "global", g.sparsity()).orElseThrow();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "Layer collapse (the paper's empirical test: accuracy at chance after fine-tuning): "
                + "Global MP at %s ends at %.2f%% (chance %.2f%%)", SweepProgress.percent(g.sparsity()), g.accuracy().mean(), 100.0 / c.classes()));
        Optional<CellResult.Layer> hardest = c.layers().stream().filter(l -> l.weights() > 0).min(Comparator.comparingDouble(l -> (double) l.kept() / l.weights()));
        hardest.ifPresent(h -> b.append(String.format(Locale.ROOT, ", with %s cut to %,d of %,d weights (no layer is quite empty)", h.name(), h.kept(), h.weights())));
        Optional<Summary> mt = find(all, "global-mt", g.sparsity());
        Optional<CellResult> m = first(cells, "global-mt", g.sparsity());
        if (mt.isPresent() && m.isPresent()) {
            long keptMt = hardest.map(h -> m.get().layers().stream().filter(l -> l.name().equals(h.name())).mapToLong(CellResult.Layer::kept).sum()).orElse(0L);
            boolean mtChance = allAtChance(cells, "global-mt", g.sparsity());
            b.append(String.format(Locale.ROOT, "; Global MP + MT (%s) keeps %,d there and %s %.2f%%", plan.mt(), keptMt,
                    mtChance ? "is at chance too:" : "learns:", mt.get().accuracy().mean()));
        } else if (plan.methods().contains("global-mt")) {
            b.append("; Global MP + MT was not run at that sparsity");
        }
        return b.append('.').toString();
    }

    private static Optional<CellResult> first(List<CellResult> cells, String method, double sparsity) {
        return cells.stream().filter(c -> c.method().equals(method) && Math.abs(c.sparsity() - sparsity) < 1e-9).findFirst();
    }

    /** Weights kept in {@code layers} by the first seed's cell of {@code method} at {@code sparsity}. */
    private static long keptIn(List<CellResult> cells, String method, double sparsity, List<String> layers) {
        return cells.stream().filter(c -> c.method().equals(method) && Math.abs(c.sparsity() - sparsity) < 1e-9).findFirst()
                .map(c -> c.layers().stream().filter(l -> layers.contains(l.name())).mapToLong(CellResult.Layer::kept).sum()).orElse(0L);
    }
}
