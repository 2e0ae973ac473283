package dev.shears.jmh;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.Sparse;
import dev.shears.engine.kernels.SparseMatrix;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sparse x dense against the dense GEMM ({@link Gemm#sgemm}, whatever backend it selects) on the
 * same shapes in one run, so the speed-up is read off one run on a noisy machine. Shapes are
 * {@code rows x k x n}: linear layers 1024^2 and 4096^2 at batch 1 (SpMV against a GEMM with
 * n = 1) and batch 64 (SpMM on features x batch, and {@link Sparse#linear} on the PyTorch layout
 * batch x features), and ResNet-32 3x3 convolutions as GEMMs on im2col columns at batch 1
 * (64 x 576 x 64: stage 3, 8x8 output; 16 x 144 x 1024: stage 1, 32x32 output).
 * The dense time does not depend on the sparsity, so {@code dense} runs once per shape.
 * How to run (one thread, as the dense path is single-threaded today; on a loaded machine give
 * C2 time to compile the Vector API code, interpreted it is 100x slower):
 * {@code mvn -B -q -o -DskipTests -pl jmh -am package && java --add-modules jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -Dshears.threads=1 -jar jmh/target/benchmarks.jar SparseBench
 * -wi 5 -w 1s -i 6 -r 500ms}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 4, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SparseBench {
    /** Weight (rows, k) with about {@code sparsity} of its entries zeroed at random, X (k, n), Y (rows, n). */
    abstract static class Problem {
        int rows, k, n;
        Tensor w, x, y, xRows, yRows;
        SparseMatrix s;

        void build(String shape, double sparsity) {
            String[] d = shape.split("x");
            rows = Integer.parseInt(d[0]);
            k = Integer.parseInt(d[1]);
            n = Integer.parseInt(d[2]);
            SplittableRandom rng = new SplittableRandom(42);
            w = Tensor.allocate(DType.F32, rows, k);
            for (long i = 0; i < w.size(); i++) {
                if (rng.nextDouble() >= sparsity) w.set(i, (float) (rng.nextDouble() * 2 - 1));
            }
            x = Tensor.allocate(DType.F32, k, n);
            for (long i = 0; i < x.size(); i++) x.set(i, (float) rng.nextDouble());
            y = Tensor.allocate(DType.F32, rows, n);
            xRows = Tensor.allocate(DType.F32, n, k); // the PyTorch layout of the same input
            for (int b = 0; b < n; b++) for (int c = 0; c < k; c++) xRows.set((long) b * k + c, x.get((long) c * n + b));
            yRows = Tensor.allocate(DType.F32, n, rows);
            s = SparseMatrix.fromDense(w);
        }

        @TearDown(Level.Trial)
        public void close() {
            for (Tensor t : new Tensor[] {w, x, y, xRows, yRows}) if (t != null) t.close();
        }
    }

    @State(Scope.Benchmark)
    public static class DenseProblem extends Problem {
        @Param({"1024x1024x1", "4096x4096x1", "1024x1024x64", "4096x4096x64", "64x576x64", "16x144x1024"})
        public String shape;

        @Setup(Level.Trial)
        public void setup() {
            build(shape, 0.0);
        }
    }

    @State(Scope.Benchmark)
    public static class SparseProblem extends Problem {
        @Param({"1024x1024x1", "4096x4096x1", "1024x1024x64", "4096x4096x64", "64x576x64", "16x144x1024"})
        public String shape;

        @Param({"0", "0.9", "0.95", "0.98", "0.99"})
        public double sparsity;

        @Setup(Level.Trial)
        public void setup() {
            build(shape, sparsity);
        }
    }

    @State(Scope.Benchmark)
    public static class BatchedLinearProblem extends Problem {
        @Param({"1024x1024x64", "4096x4096x64"})
        public String shape;

        @Param({"0", "0.9", "0.95", "0.98", "0.99"})
        public double sparsity;

        Tensor scratch;

        @Setup(Level.Trial)
        public void setup() {
            build(shape, sparsity);
            scratch = Tensor.allocate(DType.F32, (int) Sparse.linearScratchFloats(s, n));
        }

        @Override
        @TearDown(Level.Trial)
        public void close() {
            super.close();
            if (scratch != null) scratch.close();
        }
    }

    /** The dense peer: Y (rows, n) = W (rows, k) X (k, n) through the GEMM facade. */
    @Benchmark
    public float dense(DenseProblem p) {
        Gemm.sgemm(false, false, p.rows, p.n, p.k, 1f, p.w.segment(), 0, p.k, p.x.segment(), 0, p.n, 0f, p.y.segment(), 0, p.n);
        return p.y.get(0);
    }

    /** SpMV at n = 1, else SpMM (broadcast-FMA over the n columns). */
    @Benchmark
    public float sparse(SparseProblem p) {
        if (p.n == 1) Sparse.spmv(p.s, p.x.segment(), 0, null, 0, p.y.segment(), 0);
        else Sparse.spmm(p.s, p.n, 1f, p.x.segment(), 0, p.n, 0f, p.y.segment(), 0, p.n);
        return p.y.get(0);
    }

    /** The batched linear layer on the PyTorch layout: Y (batch, out) = X (batch, in) W^T. */
    @Benchmark
    public float sparseLinearRowMajor(BatchedLinearProblem p) {
        Sparse.linear(p.s, p.n, p.xRows.segment(), 0, p.k, null, 0, p.yRows.segment(), 0, p.rows, p.scratch.segment());
        return p.yRows.get(0);
    }

    /**
     * The same table timed in thread CPU time rather than wall-clock, for a machine shared with
     * other jobs, where descheduling swamps JMH's wall-clock scores: each case warms up, then
     * the best of 5 rounds of at least 0.2 s CPU each. Single-threaded by construction (run it
     * with {@code -Dshears.threads=1}). {@code java --add-modules jdk.incubator.vector
     * -Dshears.threads=1 -cp jmh/target/benchmarks.jar dev.shears.jmh.SparseBench}
     */
    public static void main(String[] args) {
        if (dev.shears.engine.Parallel.threads() != 1) System.out.println("warning: run with -Dshears.threads=1; CPU time of one thread is measured");
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        String[] shapes = args.length > 0 ? args : new String[] {"1024x1024x1", "4096x4096x1", "1024x1024x64", "4096x4096x64", "64x576x64", "16x144x1024"};
        double[] sparsities = {0, 0.9, 0.95, 0.98, 0.99};
        SparseBench bench = new SparseBench();
        System.out.println("kernel " + Sparse.kernelName() + "; CPU microseconds per call (best of 5 rounds)");
        System.out.println("| shape rows x k x n | sparsity | nnz | dense Gemm.sgemm | sparse | speed-up | sparse linear (batch x in) | speed-up |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (String shape : shapes) {
            DenseProblem d = new DenseProblem();
            d.shape = shape;
            d.setup();
            double dense = cpuMicros(mx, () -> bench.dense(d));
            d.close();
            for (double sp : sparsities) {
                SparseProblem p = new SparseProblem();
                p.shape = shape;
                p.sparsity = sp;
                p.setup();
                double sparse = cpuMicros(mx, () -> bench.sparse(p));
                String linear = " | ";
                if (p.n > 1 && p.rows == p.k) { // the linear shapes
                    BatchedLinearProblem b = new BatchedLinearProblem();
                    b.shape = shape;
                    b.sparsity = sp;
                    b.setup();
                    double lin = cpuMicros(mx, () -> bench.sparseLinearRowMajor(b));
                    linear = String.format("%.1f | %.1fx", lin, dense / lin);
                    b.close();
                }
                System.out.printf("| %s | %.2f | %d | %.1f | %.1f | %.1fx | %s |%n", shape, sp, p.s.nnz(), dense, sparse, dense / sparse, linear);
                p.close();
            }
        }
    }

    private static double cpuMicros(java.lang.management.ThreadMXBean mx, java.util.function.DoubleSupplier op) {
        double sink = 0;
        long warm = mx.getCurrentThreadCpuTime();
        while (mx.getCurrentThreadCpuTime() - warm < 1_500_000_000L) sink += op.getAsDouble();
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long t0 = mx.getCurrentThreadCpuTime(), t;
            int calls = 0;
            do {
                sink += op.getAsDouble();
                calls++;
                t = mx.getCurrentThreadCpuTime();
            } while (t - t0 < 200_000_000L);
            best = Math.min(best, (t - t0) / 1e3 / calls);
        }
        if (Double.isNaN(sink)) System.out.print("");
        return best;
    }
}
