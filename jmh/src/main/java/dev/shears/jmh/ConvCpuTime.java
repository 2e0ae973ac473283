package dev.shears.jmh;

import dev.shears.engine.kernels.Conv;
import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.ConvShape;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.Im2col;
import dev.shears.engine.kernels.RowDot;
import dev.shears.engine.kernels.Winograd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The pieces of a convolution step on ResNet-32's 3x3 layer shapes at the chunk sizes Conv.plan
 * picks for batch 128 (stage 1: 16 ch, 32x32, one image per chunk; stage 2: 32 ch, 16x16, 3
 * images; stage 3: 64 ch, 8x8, 7 images), timed in thread CPU time on one thread, variants
 * interleaved round by round so machine load hits them alike; medians. Today: the weight
 * gradient as a GEMM "NT" call (packs B transposed) against RowDot (dots along the pixels).
 * With {@code winograd} first: whole layers through the Conv facade at batch 128 (forward, and
 * backward with dW, db and dx), the Winograd plan against the im2col + GEMM plan, on ResNet-32's
 * stride-1 shapes and its first layer (3 -> 16 channels), interleaved the same way.
 * Not a JMH benchmark; run with -Dshears.threads=1:
 *   java -Dshears.threads=1 --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp jmh/target/benchmarks.jar dev.shears.jmh.ConvCpuTime [winograd [rounds] [batch] [Winograd scratch floats per lane]] [rounds]
 */
public final class ConvCpuTime {
    private ConvCpuTime() {}

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("winograd")) {
            winograd(args.length > 1 ? Integer.parseInt(args[1]) : 7, args.length > 2 ? Integer.parseInt(args[2]) : 128,
                    args.length > 3 ? Long.parseLong(args[3]) : Conv.COLUMN_FLOATS);
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        if (!"1".equals(System.getProperty("shears.threads"))) System.err.println("note: run with -Dshears.threads=1");
        int[][] shapes = {{16, 32, 1}, {32, 16, 3}, {64, 8, 7}}; // channels, side, images per chunk
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int oc = s[0], ckk = s[0] * 9, cols = s[1] * s[1] * s[2];
                MemorySegment dy = Stats.random(arena, (long) oc * cols, 1), col = Stats.random(arena, (long) ckk * cols, 2);
                MemorySegment dw = Stats.random(arena, (long) oc * ckk, 3), y = arena.allocate(4L * oc * cols, 64);
                MemorySegment dcol = arena.allocate(4L * ckk * cols, 64);
                MemorySegment x = Stats.random(arena, (long) oc * s[1] * s[1] * s[2], 4), xm = Stats.random(arena, (long) oc * s[1] * s[1] * s[2] + 128, 4), dx = arena.allocate(4L * oc * s[1] * s[1] * s[2], 64);
                ConvGeometry g = ConvGeometry.square(oc, s[1], s[1], 3, 1, 1), g2 = ConvGeometry.square(oc, 2 * s[1], 2 * s[1], 3, 2, 1);
                MemorySegment x2 = Stats.random(arena, 4L * oc * s[1] * s[1] * s[2], 5), dx2 = arena.allocate(16L * oc * s[1] * s[1] * s[2], 64);
                String[] names = {"dW.gemm_nt", "dW.rowdot", "y.gemm_nn", "dcol.gemm_tn", "im2col", "im2col.margin", "col2im", "im2col.stride2", "col2im.stride2"};
                Runnable[] ops = {
                    () -> Gemm.sgemm(false, true, oc, ckk, cols, 1f, dy, 0, cols, col, 0, cols, 1f, dw, 0, ckk),
                    () -> RowDot.accumulate(oc, ckk, cols, dy, 0, cols, col, 0, cols, dw, 0, ckk),
                    () -> Gemm.sgemm(false, false, oc, cols, ckk, 1f, dw, 0, ckk, col, 0, cols, 0f, y, 0, cols),
                    () -> Gemm.sgemm(true, false, ckk, cols, oc, 1f, dw, 0, ckk, dy, 0, cols, 0f, dcol, 0, cols),
                    () -> Im2col.im2colBatch(g, s[2], x, 0, col, 0),
                    () -> Im2col.im2colBatch(g, s[2], xm, 64, col, 0),
                    () -> Im2col.col2imBatch(g, s[2], col, 0, dx, 0),
                    () -> Im2col.im2colBatch(g2, s[2], x2, 0, col, 0),
                    () -> Im2col.col2imBatch(g2, s[2], col, 0, dx2, 0),
                };
                double[][] us = new double[ops.length][rounds];
                int reps = Math.max(1, 2_000_000 / (oc * ckk * cols / 16));
                for (int r = -5; r < rounds; r++) {
                    for (int o = 0; o < ops.length; o++) {
                        long t0 = mx.getCurrentThreadCpuTime();
                        for (int i = 0; i < reps; i++) ops[o].run();
                        long t1 = mx.getCurrentThreadCpuTime();
                        if (r >= 0) us[o][r] = (t1 - t0) / 1e3 / reps;
                    }
                }
                double flops = 2.0 * oc * ckk * cols;
                for (int o = 0; o < ops.length; o++) {
                    double med = Stats.median(us[o]);
                    String rate = o < 4 ? String.format(Locale.ROOT, "%.1f GFLOP/s", flops / med / 1e3)
                            : String.format(Locale.ROOT, "%.2f GB/s of columns", 4.0 * ckk * cols / med / 1e3);
                    System.out.println(String.format(Locale.ROOT, "conv%dx%d_x%d.%s %.1f us (%s, thread CPU time, median of %d)",
                            s[1], s[1], s[2], names[o], med, rate, rounds));
                }
            }
        }
    }

    /** Whole layers at {@code batch}: Winograd plan against the im2col + GEMM plan, forward and backward. */
    private static void winograd(int rounds, int batch, long winogradFloats) {
        if (!"1".equals(System.getProperty("shears.threads"))) System.err.println("note: run with -Dshears.threads=1");
        ConvShape[] shapes = {new ConvShape(3, 32, 32, 16, 3, 1, 1, 1), new ConvShape(16, 32, 32, 16, 3, 1, 1, 1),
            new ConvShape(32, 16, 16, 32, 3, 1, 1, 1), new ConvShape(64, 8, 8, 64, 3, 1, 1, 1)};
        Winograd.Mode[] modes = {Winograd.Mode.OFF, Winograd.Mode.ON};
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (ConvShape s : shapes) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment x = Stats.random(arena, batch * s.inputSize(), 1), w = Stats.random(arena, s.weightSize(), 2), b = Stats.random(arena, s.out(), 3);
                MemorySegment dy = Stats.random(arena, batch * s.outputSize(), 4), y = arena.allocate(4L * batch * s.outputSize(), 64);
                MemorySegment dx = arena.allocate(4L * batch * s.inputSize(), 64), dw = arena.allocate(4L * s.weightSize(), 64);
                MemorySegment db = arena.allocate(4L * s.out(), 64);
                Conv.Plan[] plans = new Conv.Plan[2];
                Conv.Scratch[] scratch = new Conv.Scratch[2];
                for (int m = 0; m < 2; m++) {
                    plans[m] = Conv.plan(s, batch, m == 0 ? Conv.COLUMN_FLOATS : winogradFloats, true, modes[m]);
                    scratch[m] = new Conv.Scratch(alloc(arena, plans[m].columnFloats()), alloc(arena, plans[m].rowFloats()), alloc(arena, plans[m].partialFloats()));
                }
                double[][] us = new double[4][rounds];
                for (int r = -2; r < rounds; r++) {
                    for (int m = 0; m < 2; m++) {
                        Conv.Plan p = plans[m];
                        Conv.Scratch sc = scratch[m];
                        long t0 = mx.getCurrentThreadCpuTime();
                        Conv.forward(p, sc, batch, x, w, b, y);
                        long t1 = mx.getCurrentThreadCpuTime();
                        Conv.backward(p, sc, batch, x, w, dy, dw, db, dx);
                        long t2 = mx.getCurrentThreadCpuTime();
                        if (r >= 0) {
                            us[2 * m][r] = (t1 - t0) / 1e3;
                            us[2 * m + 1][r] = (t2 - t1) / 1e3;
                        }
                    }
                }
                double flops = 2.0 * s.weightSize() * s.pixels() * batch;
                String[] what = {"forward", "backward"};
                for (int k = 0; k < 2; k++) {
                    double off = Stats.median(us[k]), on = Stats.median(us[2 + k]);
                    System.out.println(String.format(Locale.ROOT,
                            "%d->%d ch %dx%d batch %d %s: im2col+GEMM %.0f us (%.0f GFLOP/s direct-equivalent), Winograd %.0f us (%.0f), ratio %.2fx (thread CPU time, median of %d)",
                            s.in(), s.out(), s.height(), s.width(), batch, what[k], off, (k + 1) * flops / off / 1e3, on, (k + 1) * flops / on / 1e3, off / on, rounds));
                }
            }
        }
    }

    private static MemorySegment alloc(Arena arena, long floats) {
        return floats == 0 ? null : arena.allocate(4 * floats, 64);
    }
}
