package dev.shears.jmh;

import dev.shears.engine.kernels.SparseConv;
import dev.shears.engine.kernels.SparseMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * What bounds the direct sparse convolution on this CPU, in one thread's CPU time (medians):
 * (1) FMAs on registers only, (2) a stream of vector load + FMA from a native segment at a
 * data-dependent address, 64-byte aligned, (3) the same 4 bytes off (every load splits a cache
 * line, as the wide rows' tap loads do), then (4) SparseConv itself on ResNet-32's three 3x3
 * stride-1 shapes at the densities Global MP leaves at 95%, as GFLOP/s on the nonzeros (2 flops
 * per nonzero per output pixel). Not a JMH benchmark and not a test. How to run:
 *   java -Dshears.threads=1 --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp jmh/target/benchmarks.jar dev.shears.jmh.SparseCeiling [rounds]
 */
public final class SparseCeiling {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int LOOPS = 2_000_000;

    private SparseCeiling() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double flopsPerFma = 2.0 * S.length();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(64L * 64 + 1024, 64);
            double[][] t = new double[3][rounds];
            float sink = 0;
            for (int r = 0; r < rounds; r++) {
                long c0 = mx.getCurrentThreadCpuTime();
                sink += registers(LOOPS);
                long c1 = mx.getCurrentThreadCpuTime();
                sink += loads(buf, 0, LOOPS);
                long c2 = mx.getCurrentThreadCpuTime();
                sink += loads(buf, 4, LOOPS);
                long c3 = mx.getCurrentThreadCpuTime();
                t[0][r] = 12.0 * LOOPS * flopsPerFma / (c1 - c0);
                t[1][r] = 8.0 * LOOPS * flopsPerFma / (c2 - c1);
                t[2][r] = 8.0 * LOOPS * flopsPerFma / (c3 - c2);
            }
            System.out.printf(Locale.ROOT, "# %d-bit vectors; sink %s%n", S.vectorBitSize(), sink);
            System.out.printf(Locale.ROOT, "ceiling.fma_registers %.1f GFLOP/s%n", Stats.median(t[0]));
            System.out.printf(Locale.ROOT, "ceiling.load_fma_aligned %.1f GFLOP/s%n", Stats.median(t[1]));
            System.out.printf(Locale.ROOT, "ceiling.load_fma_split_lines %.1f GFLOP/s%n", Stats.median(t[2]));
            int[][] shapes = {{16, 32}, {32, 16}, {64, 8}}; // channels in = out, side
            double[] density = {0.25, 0.107, 0.022};
            for (int i = 0; i < shapes.length; i++) {
                int c = shapes[i][0], side = shapes[i][1];
                SplittableRandom rng = new SplittableRandom(i);
                float[] w = new float[c * c * 9];
                for (int j = 0; j < w.length; j++) if (rng.nextDouble() < density[i]) w[j] = (float) rng.nextGaussian();
                SparseConv conv = new SparseConv(SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, c, c * 9, c * 9), new float[c], c, side, side, 3, 1, 1);
                MemorySegment x = arena.allocate(4 * SparseConv.paddedFloats(c, side, side), 64), y = arena.allocate(4 * SparseConv.paddedFloats(c, side, side), 64);
                for (int ci = 0; ci < c; ci++) for (int p = 0; p < side * side; p++) {
                    x.setAtIndex(ValueLayout.JAVA_FLOAT, (long) ci * (side + 2) * (side + 2) + (p / side + 1) * (side + 2) + p % side + 1, (float) rng.nextGaussian());
                }
                MemorySegment scratch = arena.allocate(4 * conv.scratchFloats() + 64, 64);
                int reps = Math.max(1, (int) (4e7 / (conv.nnz() * (double) side * side)));
                double[] us = new double[rounds];
                for (int r = 0; r < rounds + 3; r++) {
                    long c0 = mx.getCurrentThreadCpuTime();
                    for (int k = 0; k < reps; k++) conv.forward(x, 0, y, 0, y, 0, true, scratch, 0);
                    if (r >= 3) us[r - 3] = (mx.getCurrentThreadCpuTime() - c0) / 1e3 / reps;
                }
                double med = Stats.median(us);
                System.out.printf(Locale.ROOT, "sparse_conv.%dx%dx%d.density_%.3f %.2f us, %.1f GFLOP/s on the nonzeros (nnz %d)%n", c, side, side,
                        (double) conv.nnz() / w.length, med, 2.0 * conv.nnz() * side * side / med / 1e3, conv.nnz());
            }
        }
    }

    /** 12 independent FMA chains (enough to fill two FMA ports at 4 cycles of latency). */
    private static float registers(int n) {
        FloatVector w = FloatVector.broadcast(S, 0.999f);
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < n; i++) {
            a0 = a0.fma(w, w); a1 = a1.fma(w, w); a2 = a2.fma(w, w); a3 = a3.fma(w, w); a4 = a4.fma(w, w); a5 = a5.fma(w, w);
            a6 = a6.fma(w, w); a7 = a7.fma(w, w); a8 = a8.fma(w, w); a9 = a9.fma(w, w); a10 = a10.fma(w, w); a11 = a11.fma(w, w);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).reduceLanes(VectorOperators.ADD);
    }

    /** 8 vector loads + FMAs per step from a base that changes every step (as a nonzero's input offset does), {@code skew} bytes past 64-byte alignment. */
    private static float loads(MemorySegment x, long skew, int n) {
        FloatVector w = FloatVector.broadcast(S, 0.999f);
        long vb = S.vectorByteSize();
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0; i < n; i++) {
            long b = (i & 63) * 64L + skew;
            a0 = FloatVector.fromMemorySegment(S, x, b, ORDER).fma(w, a0);
            a1 = FloatVector.fromMemorySegment(S, x, b + vb, ORDER).fma(w, a1);
            a2 = FloatVector.fromMemorySegment(S, x, b + 2 * vb, ORDER).fma(w, a2);
            a3 = FloatVector.fromMemorySegment(S, x, b + 3 * vb, ORDER).fma(w, a3);
            a4 = FloatVector.fromMemorySegment(S, x, b + 4 * vb, ORDER).fma(w, a4);
            a5 = FloatVector.fromMemorySegment(S, x, b + 5 * vb, ORDER).fma(w, a5);
            a6 = FloatVector.fromMemorySegment(S, x, b + 6 * vb, ORDER).fma(w, a6);
            a7 = FloatVector.fromMemorySegment(S, x, b + 7 * vb, ORDER).fma(w, a7);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(VectorOperators.ADD);
    }
}
