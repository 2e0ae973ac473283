package dev.shears.jmh;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.RnnKernel;
import dev.shears.engine.kernels.RnnScalar;
import dev.shears.engine.kernels.Twins;
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
 * One recurrent step's pieces at the benchmark's size (hidden 128): the product h U^T for a
 * block of {@code rows} rows (64: one thread's half of a batch of 128; 1: batch-1 inference)
 * through the Rnn kernel family's scalar spec and SIMD twin, with the engine's GEMM facade in the
 * same run (the general path the Rnn family avoids: its per-call packing and blocking are paid
 * 128 times per sequence, 10x the product itself for one row), and the FastGRNN gate math of those
 * rows. One thread. For a ratio read rows of the
 * same run. How to run:
 * {@code mvn -B -q -o -DskipTests -pl jmh -am package && java --add-modules jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -Dshears.threads=1 -jar jmh/target/benchmarks.jar RnnBench}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dshears.threads=1"})
@State(Scope.Benchmark)
public class RnnBench {
    static final int H = 128;

    @Param({"1", "64"})
    public int rows;

    @Param({"scalar", "simd", "gemm-facade"})
    public String path;

    RnnKernel kernel;
    Tensor h, uT, pre, z, c, hNew, bias;

    @Setup(Level.Trial)
    public void setup() {
        kernel = path.equals("scalar") ? new RnnScalar() : Twins.loadSimd(RnnKernel.class, "RnnSimd");
        h = random(1, rows * H);
        uT = random(2, H * H);
        pre = random(3, rows * H);
        bias = random(4, H);
        z = Tensor.allocate(DType.F32, rows * H);
        c = Tensor.allocate(DType.F32, rows * H);
        hNew = Tensor.allocate(DType.F32, rows * H);
    }

    @TearDown(Level.Trial)
    public void close() {
        for (Tensor t : new Tensor[] {h, uT, pre, z, c, hNew, bias}) t.close();
    }

    static Tensor random(long seed, int n) {
        Tensor t = Tensor.allocate(DType.F32, n);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) t.set(i, (float) (r.nextDouble() - 0.5));
        return t;
    }

    /** pre = pre + h U^T for the block of rows (what every step does before the gates). */
    @Benchmark
    public Tensor recurrentProduct() {
        if (path.equals("gemm-facade")) {
            Gemm.sgemm(false, false, rows, H, H, 1f, h.segment(), 0, H, uT.segment(), 0, H, 1f, pre.segment(), 0, H);
        } else {
            kernel.matmulAdd(rows, H, H, h.segment(), 0, H, uT.segment(), 0, H, pre.segment(), 0, H, pre.segment(), 0, H);
        }
        return pre;
    }

    /** The FastGRNN gates of the block (the facade path has none of its own: it runs the SIMD twin). */
    @Benchmark
    public Tensor gates() {
        for (int i = 0; i < rows; i++) {
            long o = (long) i * H;
            kernel.fastgrnnForward(H, pre.segment(), o, bias.segment(), 0, bias.segment(), 0, 0.7f, 0.02f, h.segment(), o,
                    z.segment(), o, c.segment(), o, hNew.segment(), o);
        }
        return hNew;
    }
}
