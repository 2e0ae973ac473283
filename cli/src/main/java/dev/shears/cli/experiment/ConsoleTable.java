package dev.shears.cli.experiment;

import java.util.List;
import java.util.Locale;

/**
 * The console table of a sweep: one row per sparsity, per method the accuracy after fine-tuning
 * (mean over seeds), the FLOPs pruned, and a mark where a layer collapsed ("!" = a layer empty,
 * "X" = the network cut). Text only; report.md has the full tables.
 */
final class ConsoleTable {
    private ConsoleTable() {}

    static String table(Plan plan, List<Summary> summaries) {
        List<String> methods = plan.methods().stream().filter(m -> summaries.stream().anyMatch(s -> s.method().equals(m))).toList();
        if (methods.isEmpty()) return "(no finished cells)\n";
        int w = 24;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-9s", "sparsity"));
        for (String m : methods) b.append(String.format(Locale.ROOT, " | %-" + w + "s", m));
        b.append('\n').append("-".repeat(9));
        for (int i = 0; i < methods.size(); i++) b.append("-+-").append("-".repeat(w));
        b.append('\n');
        for (double s : plan.sparsities()) {
            b.append(String.format(Locale.ROOT, "%-9s", SweepProgress.percent(s)));
            for (String m : methods) {
                String v = summaries.stream().filter(x -> x.method().equals(m) && Math.abs(x.sparsity() - s) < 1e-9).findFirst()
                        .map(x -> String.format(Locale.ROOT, "%6.2f%% (FLOPs -%5.1f%%)%s", x.accuracy().mean(), 100 * x.flopsPruned(),
                                x.cutRuns() > 0 ? " X" : x.collapsedRuns() > 0 ? " !" : ""))
                        .orElse("");
                b.append(String.format(Locale.ROOT, " | %-" + w + "s", v));
            }
            b.append('\n');
        }
        b.append("accuracy after fine-tuning (mean over seeds), FLOPs pruned; ! = a layer left empty, X = the network cut by empty layers\n");
        return b.toString();
    }
}
