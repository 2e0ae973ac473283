package dev.shears.jmh;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.ActivationKernel;
import dev.shears.engine.kernels.ActivationScalar;
import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.Im2colKernel;
import dev.shears.engine.kernels.Im2colScalar;
import dev.shears.engine.kernels.SoftmaxKernel;
import dev.shears.engine.kernels.SoftmaxScalar;
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
 * Scalar spec against SIMD twin, in one run, for the non-GEMM kernels on ResNet-32 shapes:
 * relu forward/backward over a first-stage activation (128 x 16 x 32 x 32 floats), row softmax
 * and fused cross-entropy over (128, K) logits, im2col/col2im of the first stage (16 x 32 x 32,
 * 3x3, stride 1, pad 1, batch 128 into one (144, 131072) column matrix). One thread (the twins,
 * not the threaded facades). Quick settings; for a ratio read both rows of the same run.
 * How to run:
 * {@code mvn -B -q -o -DskipTests -pl jmh -am package && java --add-modules jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -jar jmh/target/benchmarks.jar KernelBench}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBench {

    /** relu over one ResNet-32 first-stage activation. */
    @State(Scope.Benchmark)
    public static class Relu {
        @Param({"scalar", "simd"})
        public String twin;
        ActivationKernel kernel;
        Tensor x, y, dy;
        final int n = 128 * 16 * 32 * 32;

        @Setup(Level.Trial)
        public void setup() {
            kernel = twin.equals("simd") ? Twins.loadSimd(ActivationKernel.class, "ActivationSimd") : new ActivationScalar();
            x = random(1, n);
            y = Tensor.allocate(DType.F32, n);
            dy = random(2, n);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            x.close();
            y.close();
            dy.close();
        }
    }

    @Benchmark
    public Tensor reluForward(Relu s) {
        s.kernel.reluForward(s.x.segment(), 0, s.y.segment(), 0, s.n);
        return s.y;
    }

    @Benchmark
    public Tensor reluBackward(Relu s) {
        s.kernel.reluBackward(s.x.segment(), 0, s.dy.segment(), 0, s.y.segment(), 0, s.n);
        return s.y;
    }

    /** Softmax over a batch of 128 rows of K classes (10: CIFAR-10, 1000: ImageNet). */
    @State(Scope.Benchmark)
    public static class Logits {
        @Param({"scalar", "simd"})
        public String twin;
        @Param({"10", "1000"})
        public int classes;
        SoftmaxKernel kernel;
        Tensor x, y, labels;
        final int rows = 128;

        @Setup(Level.Trial)
        public void setup() {
            kernel = twin.equals("simd") ? Twins.loadSimd(SoftmaxKernel.class, "SoftmaxSimd") : new SoftmaxScalar();
            x = random(3, rows * classes);
            y = Tensor.allocate(DType.F32, rows * classes);
            labels = Tensor.allocate(DType.I32, rows);
            for (int r = 0; r < rows; r++) labels.setInt(r, (r * 7) % classes);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            x.close();
            y.close();
            labels.close();
        }
    }

    @Benchmark
    public Tensor softmaxRows(Logits s) {
        s.kernel.softmaxRows(s.x.segment(), 0, s.y.segment(), 0, s.rows, s.classes);
        return s.y;
    }

    @Benchmark
    public double crossEntropy(Logits s) {
        return s.kernel.crossEntropy(s.x.segment(), 0, s.labels.segment(), 0, s.rows, s.classes, 0.1f, s.y.segment(), 0);
    }

    /** im2col/col2im of the ResNet-32 first stage, batch 128, into one column matrix. */
    @State(Scope.Benchmark)
    public static class Columns {
        @Param({"scalar", "simd"})
        public String twin;
        Im2colKernel kernel;
        final ConvGeometry g = ConvGeometry.square(16, 32, 32, 3, 1, 1);
        final int images = 128;
        Tensor x, cols;

        @Setup(Level.Trial)
        public void setup() {
            kernel = twin.equals("simd") ? Twins.loadSimd(Im2colKernel.class, "Im2colSimd") : new Im2colScalar();
            x = random(4, (int) (images * g.imageSize()));
            cols = Tensor.allocate(DType.F32, g.patch(), (int) (images * g.pixels()));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            x.close();
            cols.close();
        }
    }

    @Benchmark
    public Tensor im2colBatch(Columns s) {
        s.kernel.im2col(s.g, s.images, s.x.segment(), 0, s.g.imageSize(), s.cols.segment(), 0, s.images * s.g.pixels());
        return s.cols;
    }

    @Benchmark
    public Tensor col2imBatch(Columns s) {
        // adds into x every call; the values drift, the work does not
        s.kernel.col2im(s.g, s.images, s.cols.segment(), 0, s.images * s.g.pixels(), s.x.segment(), 0, s.g.imageSize());
        return s.x;
    }

    static Tensor random(long seed, int n) {
        Tensor t = Tensor.allocate(DType.F32, n);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) t.set(i, (float) (rng.nextDouble() * 2 - 1));
        return t;
    }
}
