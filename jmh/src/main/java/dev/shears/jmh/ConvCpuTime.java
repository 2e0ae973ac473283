package dev.shears.jmh;

import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.Im2col;
import dev.shears.engine.kernels.RowDot;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The pieces of a convolution step on ResNet-32's 3x3 layer shapes at the chunk sizes Conv.plan
 * picks for batch 128 (stage 1: 16 ch, 32x32, one image per chunk; stage 2: 32 ch, 16x16, 3
 * images; stage 3: 64 ch, 8x8, 7 images), timed in thread CPU time on one thread, variants
 * interleaved round by round so machine load hits them alike; medians. Today: the weight
 * gradient as a GEMM "NT" call (packs B transposed) against RowDot (dots along the pixels).
 * Not a JMH benchmark; run with -Dshears.threads=1:
 *   java -Dshears.threads=1 --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp jmh/target/benchmarks.jar dev.shears.jmh.ConvCpuTime [rounds]
 */
public final class ConvCpuTime {
    private ConvCpuTime() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        if (!"1".equals(System.getProperty("shears.threads"))) System.err.println("note: run with -Dshears.threads=1");
        int[][] shapes = {{16, 32, 1}, {32, 16, 3}, {64, 8, 7}}; // channels, side, images per chunk
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int oc = s[0], ckk = s[0] * 9, cols = s[1] * s[1] * s[2];
                MemorySegment dy = random(arena, (long) oc * cols, 1), col = random(arena, (long) ckk * cols, 2);
                MemorySegment dw = random(arena, (long) oc * ckk, 3), y = arena.allocate(4L * oc * cols, 64);
                MemorySegment dcol = arena.allocate(4L * ckk * cols, 64);
                MemorySegment x = random(arena, (long) oc * s[1] * s[1] * s[2], 4), xm = random(arena, (long) oc * s[1] * s[1] * s[2] + 128, 4), dx = arena.allocate(4L * oc * s[1] * s[1] * s[2], 64);
                ConvGeometry g = ConvGeometry.square(oc, s[1], s[1], 3, 1, 1), g2 = ConvGeometry.square(oc, 2 * s[1], 2 * s[1], 3, 2, 1);
                MemorySegment x2 = random(arena, 4L * oc * s[1] * s[1] * s[2], 5), dx2 = arena.allocate(16L * oc * s[1] * s[1] * s[2], 64);
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
                    double med = median(us[o]);
                    String rate = o < 4 ? String.format(Locale.ROOT, "%.1f GFLOP/s", flops / med / 1e3)
                            : String.format(Locale.ROOT, "%.2f GB/s of columns", 4.0 * ckk * cols / med / 1e3);
                    System.out.println(String.format(Locale.ROOT, "conv%dx%d_x%d.%s %.1f us (%s, thread CPU time, median of %d)",
                            s[1], s[1], s[2], names[o], med, rate, rounds));
                }
            }
        }
    }

    private static MemorySegment random(Arena arena, long n, long seed) {
        MemorySegment m = arena.allocate(4 * n, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) m.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
        return m;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
