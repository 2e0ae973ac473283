package dev.shears.nn.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The training progress display on stderr: one line updated in place ({@code \r}) when a terminal
 * is attached, plain lines every tenth of an epoch (or 30 s) otherwise, so CI logs stay readable.
 * Shows epoch, step, running loss, images/s and the epoch's ETA. Not a general progress library.
 */
public final class Progress {
    /** AUTO picks BAR on a terminal and LINES elsewhere; OFF prints nothing. */
    public enum Mode { AUTO, BAR, LINES, OFF }

    private final PrintStream out;
    private final Mode mode;
    private int epoch, epochs, total;
    private long startNanos, lastPrintNanos;
    private long images;
    private double lossSum;
    private int steps;
    private int lastLineStep;

    public Progress(PrintStream out, Mode mode) {
        this.out = out;
        this.mode = mode == Mode.AUTO ? (isTerminal() ? Mode.BAR : Mode.LINES) : mode;
    }

    private static boolean isTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    public void startEpoch(int epoch, int epochs, int totalSteps) {
        this.epoch = epoch;
        this.epochs = epochs;
        this.total = totalSteps;
        this.startNanos = System.nanoTime();
        this.lastPrintNanos = startNanos;
        this.images = 0;
        this.lossSum = 0;
        this.steps = 0;
        this.lastLineStep = 0;
    }

    /** After a step of {@code batch} images with mean loss {@code loss}. */
    public void step(int batch, double loss) {
        steps++;
        images += batch;
        lossSum += loss;
        if (mode == Mode.OFF) return;
        long now = System.nanoTime();
        if (mode == Mode.BAR) {
            if (now - lastPrintNanos > 200_000_000L || steps == total) {
                out.print("\r" + line(now, true));
                out.flush();
                lastPrintNanos = now;
            }
        } else {
            int every = Math.max(1, total / 10);
            if (steps - lastLineStep >= every || now - lastPrintNanos > 30_000_000_000L || steps == total) {
                out.println(line(now, false));
                lastPrintNanos = now;
                lastLineStep = steps;
            }
        }
    }

    /** Ends the epoch's display with the evaluation summary. */
    public void endEpoch(String summary) {
        if (mode == Mode.OFF) return;
        if (mode == Mode.BAR) out.print("\r\033[K");
        out.println(summary);
        out.flush();
    }

    private String line(long now, boolean bar) {
        double secs = Math.max(1e-9, (now - startNanos) / 1e9);
        double ips = images / secs;
        double eta = steps == 0 ? 0 : secs / steps * (total - steps);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "epoch %d/%d ", epoch, epochs));
        if (bar) {
            int width = 24, filled = total == 0 ? width : (int) ((long) width * steps / total);
            sb.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
        }
        sb.append(String.format(Locale.ROOT, "step %d/%d loss %.4f %.0f img/s ETA %s", steps, total, lossSum / Math.max(1, steps), ips, clock(eta)));
        return sb.toString();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
