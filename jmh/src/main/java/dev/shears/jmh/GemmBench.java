package dev.shears.jmh;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.GemmKernel;
import dev.shears.engine.kernels.simd.GemmSimd;
import dev.shears.engine.nativelib.OpenBlasGemm;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * SGEMM time of our SIMD GEMM ({@code java}) and OpenBLAS through FFM ({@code openblas}) in the
 * same run, on square sizes and the GEMMs Conv runs for ResNet-32 at batch 128, one im2col chunk
 * each (1, 3 and 7 images for stages 1-3, as Conv.plan picks): forward (M=Cout, K=Cin*9,
 * N=H*W*images), weight gradient {@code dW:} (dY * X^T, B transposed; stage 1 uses RowDot) and
 * input gradient {@code dX:} (W^T * dY, A transposed; stage 1 uses the flipped forward). Shapes
 * read MxKxN.
 *
 * <p>Five 1 s warm-ups: the Vector API runs ~1000x slower until C2 has compiled the kernel.
 * Run all (~10 min on 2 cores), or a subset with {@code -p}; {@link #main} runs one shape at a
 * time (java and OpenBLAS back to back) and prints GFLOP/s and the java/OpenBLAS ratio from the
 * median measured iteration. Plain JMH ({@code -jar benchmarks.jar GemmBench}) works too.
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp jmh/target/benchmarks.jar dev.shears.jmh.GemmBench [-p shape=1024x1024x1024 -p threads=2]
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class GemmBench {
    @Param({"256x256x256", "512x512x512", "1024x1024x1024",
            "16x144x1024", "32x288x768", "64x576x448",
            "dW:32x768x288", "dW:64x448x576",
            "dX:288x32x768", "dX:576x64x448"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    @Param({"java", "openblas"})
    public String backend;

    private Problem p;
    private GemmKernel kernel;
    private OpenBlasGemm blas;
    private Tensor a, b, c;

    /** A parsed shape: {@code [dW:|dX:]MxKxN}; dW transposes B, dX transposes A. */
    record Problem(boolean transA, boolean transB, int m, int k, int n) {
        static Problem parse(String s) {
            boolean ta = s.startsWith("dX:"), tb = s.startsWith("dW:");
            String[] d = s.substring(ta || tb ? 3 : 0).split("x");
            if (d.length != 3) throw new IllegalArgumentException("shape '" + s + "': expected [dW:|dX:]MxKxN");
            return new Problem(ta, tb, Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]));
        }

        double flops() {
            return 2.0 * m * n * k;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        p = Problem.parse(shape);
        a = random(1, p.transA ? p.k : p.m, p.transA ? p.m : p.k);
        b = random(2, p.transB ? p.n : p.k, p.transB ? p.k : p.n);
        c = Tensor.allocate(DType.F32, p.m, p.n);
        switch (backend) {
            case "java" -> kernel = new GemmSimd(threads);
            case "openblas" -> {
                blas = OpenBlasGemm.load();
                if (blas == null) throw new IllegalStateException(OpenBlasGemm.describe());
                kernel = blas;
            }
            default -> throw new IllegalArgumentException("backend '" + backend + "': expected java or openblas");
        }
    }

    @Setup(Level.Iteration)
    public void threadsForThisThread() {
        // OpenBLAS's OpenMP build keeps the thread count per calling thread: set it on the benchmark thread
        if (blas != null) {
            blas.setThreads(threads);
            if (blas.threads() != threads) throw new IllegalStateException("openblas runs " + blas.threads() + " threads, asked " + threads);
        }
    }

    /**
     * CPU time of the benchmark thread per call, next to the wall time: on a shared machine it is
     * what a single-threaded call costs when it is not preempted (meaningless for 2 threads).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        public long cpuNanos;
        public long calls;

        @Setup(Level.Iteration)
        public void clear() {
            cpuNanos = 0;
            calls = 0;
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Benchmark
    public MemorySegment sgemm(CpuTime cpu) {
        long t0 = THREADS.getCurrentThreadCpuTime();
        kernel.sgemm(p.transA, p.transB, p.m, p.n, p.k, 1f, a.segment(), 0, a.dim(1), b.segment(), 0, b.dim(1), 0f, c.segment(), 0, p.n);
        cpu.cpuNanos += THREADS.getCurrentThreadCpuTime() - t0;
        cpu.calls++;
        return c.segment();
    }

    @TearDown(Level.Trial)
    public void close() {
        a.close();
        b.close();
        c.close();
    }

    private static Tensor random(long seed, int rows, int cols) {
        Tensor t = Tensor.allocate(DType.F32, rows, cols);
        SplittableRandom rng = new SplittableRandom(seed);
        for (long i = 0; i < t.size(); i++) t.set(i, (float) (rng.nextDouble() * 2 - 1));
        return t;
    }

    /**
     * Runs the benchmark (JMH options as on the JMH command line) one shape at a time, so java and
     * OpenBLAS of a shape run minutes apart at most, and prints GFLOP/s from the median iteration.
     */
    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        Collection<String> shapes = cli.getParameter("shape").hasValue()
                ? cli.getParameter("shape").get() : List.of(GemmBench.class.getField("shape").getAnnotation(Param.class).value());
        Map<String, double[]> rows = new LinkedHashMap<>(); // shape|threads -> {java, openblas} wall GFLOP/s, then CPU-time GFLOP/s
        for (String shape : shapes) {
            var options = new OptionsBuilder().parent(cli).include(GemmBench.class.getName() + ".sgemm").param("shape", shape).build();
            for (RunResult r : new Runner(options).run()) {
                var params = r.getParams();
                List<Double> ms = new ArrayList<>(), cpuMs = new ArrayList<>();
                r.getBenchmarkResults().forEach(br -> br.getIterationResults().forEach(it -> {
                    ms.add(it.getPrimaryResult().getScore());
                    var sec = it.getSecondaryResults();
                    if (sec.containsKey("cpuNanos") && sec.get("calls").getScore() > 0) {
                        cpuMs.add(sec.get("cpuNanos").getScore() / sec.get("calls").getScore() / 1e6);
                    }
                }));
                double flops = Problem.parse(shape).flops();
                double[] row = rows.computeIfAbsent(shape + "|" + params.getParam("threads"), x -> new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN});
                int col = params.getParam("backend").equals("java") ? 0 : 1;
                row[col] = flops / (Stats.median(ms) * 1e6);
                row[col + 2] = flops / (Stats.median(cpuMs) * 1e6);
            }
        }
        System.out.println();
        System.out.println("| shape (MxKxN) | threads | java GFLOP/s | OpenBLAS GFLOP/s | java / OpenBLAS | 1-thread CPU-time GFLOP/s: java, OpenBLAS, ratio |");
        System.out.println("|---|---|---|---|---|---|");
        for (var e : rows.entrySet()) {
            String[] key = e.getKey().split("\\|");
            double[] g = e.getValue();
            String cpu = key[1].equals("1") ? String.format("%.1f, %.1f, %.2f", g[2], g[3], g[2] / g[3]) : "";
            System.out.printf("| %s | %s | %.1f | %.1f | %.2f | %s |%n", key[0], key[1], g[0], g[1], g[0] / g[1], cpu);
        }
    }
}
