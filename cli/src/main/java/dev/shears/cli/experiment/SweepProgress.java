package dev.shears.cli.experiment;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The sweep's progress: a bar over all cells with the ETA from the cells run so far, printed as
 * one line when a cell starts and one with its outcome when it ends (the trainer draws the bar of
 * the run in flight between them). Not a general progress library.
 */
final class SweepProgress {
    private final PrintStream out;
    private final int total;
    private final int reused;
    private int finished;
    private double seconds;

    SweepProgress(PrintStream out, int total, int reused) {
        this.out = out;
        this.total = total;
        this.reused = reused;
        this.finished = reused;
    }

    void starting(Plan.Cell c, int index) {
        int ranNow = finished - reused;
        String eta = ranNow == 0 ? "ETA --:--" : "ETA " + clock(seconds / ranNow * (total - finished));
        out.printf(Locale.ROOT, "sweep %s %d/%d done, %s | cell %d: %s at %s, seed %d%n", bar(finished, total), finished, total, eta, index,
                c.method(), percent(c.sparsity()), c.seed());
        out.flush();
    }

    void finished(CellResult r) {
        finished++;
        seconds += r.seconds();
        String collapse = r.collapsedLayers().isEmpty() ? "" : " | collapsed: " + String.join(", ", r.collapsedLayers()) + (r.connected() ? "" : " (network cut)");
        String pruned = Double.isNaN(r.prunedAccuracy()) ? "" : String.format(Locale.ROOT, " (%.2f%% right after pruning)", r.prunedAccuracy());
        out.printf(Locale.ROOT, "  -> %s at %s, seed %d: accuracy %.2f%%%s, sparsity %s, FLOPs pruned %s, %.1f s%s%n", r.method(), percent(r.sparsity()),
                r.seed(), r.accuracy(), pruned, percent(r.achieved()), percent(r.flopsPruned()), r.seconds(), collapse);
        out.flush();
    }

    static String bar(int done, int total) {
        int width = 20, filled = total == 0 ? width : (int) ((long) width * done / total);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
    }

    static String percent(double f) {
        String s = String.format(Locale.ROOT, "%.2f", 100 * f);
        if (s.endsWith("0") && s.contains(".")) s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        return s + "%";
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
