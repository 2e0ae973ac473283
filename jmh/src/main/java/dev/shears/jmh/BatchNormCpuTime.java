package dev.shears.jmh;

import dev.shears.engine.kernels.Activations;
import dev.shears.engine.kernels.BatchNorm;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.engine.kernels.Reductions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Batch norm + ReLU and residual add + ReLU on ResNet-32's activation shapes at batch 128 (16 ch
 * at 32x32, 32 at 16x16, 64 at 8x8): the unfused passes the layers ran before (Reductions' two
 * channel sums, Elementwise.affine per plane, a ReLU pass; backward a ReLU pass, two channel
 * reductions, Elementwise.affine2) against the fused BatchNorm family and Activations.addRelu*.
 * Thread CPU time on one thread, variants interleaved round by round so machine load hits them
 * alike; medians and the old/fused ratio. Not a JMH benchmark; run with -Dshears.threads=1:
 *   java -Dshears.threads=1 --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp jmh/target/benchmarks.jar dev.shears.jmh.BatchNormCpuTime [rounds]
 */
public final class BatchNormCpuTime {
    private BatchNormCpuTime() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        if (!"1".equals(System.getProperty("shears.threads"))) System.err.println("note: run with -Dshears.threads=1");
        int images = 128;
        int[][] shapes = {{16, 1024}, {32, 256}, {64, 64}}; // channels, h*w
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int c = s[0], p = s[1], n = images * c * p;
                MemorySegment x = Stats.random(arena, n, 1), dy = Stats.random(arena, n, 2), y = arena.allocate(4L * n, 64), dx = arena.allocate(4L * n, 64);
                MemorySegment a = Stats.random(arena, n, 3), b = Stats.random(arena, n, 4), g = arena.allocate(4L * n, 64);
                double[] sum = new double[c], sq = new double[c], mean = new double[c];
                float[] scale = new float[c], shift = new float[c], ka = new float[c], kb = new float[c], kk = new float[c];
                SplittableRandom r = new SplittableRandom(5);
                for (int ch = 0; ch < c; ch++) {
                    scale[ch] = (float) r.nextDouble(0.5, 1.5);
                    shift[ch] = (float) r.nextDouble(-0.5, 0.5);
                    ka[ch] = (float) r.nextDouble(-1, 1);
                    kb[ch] = (float) r.nextDouble(-1, 1);
                    kk[ch] = (float) r.nextDouble(-1, 1);
                }
                String[] names = {"bn_relu.forward.old", "bn_relu.forward.fused", "bn_relu.backward.old", "bn_relu.backward.fused",
                    "bn_relu.forward.fused_by_pass", "bn_relu.forward.fused", "bn_relu.backward.fused_by_pass", "bn_relu.backward.fused",
                    "add_relu.forward.old", "add_relu.forward.fused", "add_relu.backward.old", "add_relu.backward.fused"};
                Runnable[] ops = {
                    () -> { // channel sum, centred second pass, affine per plane, ReLU pass
                        Reductions.channelSum(x, 0, images, c, p, sum);
                        for (int ch = 0; ch < c; ch++) mean[ch] = sum[ch] / ((long) images * p);
                        Reductions.channelCenteredSumOfSquares(x, 0, images, c, p, mean, sq);
                        for (int plane = 0; plane < images * c; plane++) Elementwise.affine(x, (long) plane * p, scale[plane % c], shift[plane % c], y, (long) plane * p, p);
                        Activations.reluForward(y, 0, y, 0, n);
                    },
                    () -> BatchNorm.trainingForward(x, y, images, c, p, mean, sq, ch -> { }, scale, shift, true),
                    () -> { // ReLU mask into g, two reductions, affine2 per plane
                        Activations.reluBackward(y, 0, dy, 0, g, 0, n);
                        Reductions.channelSum(g, 0, images, c, p, sum);
                        Reductions.channelCenteredDot(g, 0, x, 0, images, c, p, mean, sq);
                        for (int plane = 0; plane < images * c; plane++) {
                            long at = (long) plane * p;
                            Elementwise.affine2(ka[plane % c], g, at, kb[plane % c], x, at, kk[plane % c], dx, at, p);
                        }
                    },
                    () -> BatchNorm.backward(dy, x, dx, images, c, p, scale, shift, mean, sum, sq, ch -> { }, ka, kb, kk),
                    () -> { // all channels' statistics, then all channels' normalise
                        BatchNorm.moments(x, images, c, p, mean, sq);
                        BatchNorm.normalize(x, y, images, c, p, scale, shift, true);
                    },
                    () -> BatchNorm.trainingForward(x, y, images, c, p, mean, sq, ch -> { }, scale, shift, true),
                    () -> {
                        BatchNorm.backwardSums(dy, x, images, c, p, scale, shift, mean, sum, sq);
                        BatchNorm.backwardInput(dy, x, dx, images, c, p, scale, shift, ka, kb, kk);
                    },
                    () -> BatchNorm.backward(dy, x, dx, images, c, p, scale, shift, mean, sum, sq, ch -> { }, ka, kb, kk),
                    () -> {
                        Elementwise.add(a, 0, b, 0, g, 0, n);
                        Activations.reluForward(g, 0, g, 0, n);
                    },
                    () -> Activations.addReluForward(a, 0, b, 0, g, 0, n),
                    () -> {
                        Elementwise.add(a, 0, b, 0, g, 0, n);
                        Activations.reluBackward(x, 0, g, 0, g, 0, n);
                    },
                    () -> Activations.addReluBackward(x, 0, a, 0, b, 0, g, 0, n),
                };
                double[][] us = new double[ops.length][rounds];
                int reps = Math.max(1, 4_000_000 / n);
                for (int round = -5; round < rounds; round++) {
                    for (int o = 0; o < ops.length; o++) {
                        long t0 = mx.getCurrentThreadCpuTime();
                        for (int i = 0; i < reps; i++) ops[o].run();
                        long t1 = mx.getCurrentThreadCpuTime();
                        if (round >= 0) us[o][round] = (t1 - t0) / 1e3 / reps;
                    }
                }
                for (int o = 0; o < ops.length; o++) {
                    double med = Stats.median(us[o]);
                    String ratio = o % 2 == 1 ? String.format(Locale.ROOT, ", line above / this %.2fx", Stats.median(us[o - 1]) / med) : "";
                    System.out.println(String.format(Locale.ROOT, "b%d_c%d_hw%d.%s %.1f us (%.2f GB/s of activation, thread CPU time, median of %d%s)",
                            images, c, p, names[o], med, 4.0 * n / med / 1e3, rounds, ratio));
                }
            }
        }
    }
}
