package dev.shears.jmh;

import dev.shears.engine.Parallel;
import dev.shears.engine.kernels.AbsKeys;
import dev.shears.pruning.GlobalThreshold;
import dev.shears.pruning.PrunableLayer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * The global threshold on a ResNet-50-shaped parameter set (its 54 conv/FC weight tensors,
 * 25,502,912 weights, N(0,1) values, k = round(0.9 N)), in one run with its two anchors: a full
 * Arrays.sort of a copy of |w| (the peer) and one pass summing |w| over the same segments on the
 * same threads (the memory floor). radixSelectHistogram is the select without its guessed window
 * (-Dshears.select=histogram). The PyTorch peer, torch.kthvalue, is scripts/peers/select.py
 * (run it right after, on the same machine).
 * Run: java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -jar jmh/target/benchmarks.jar ThresholdBench
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ThresholdBench {
    @Param({"0.9"})
    public double sparsity;

    private Arena arena;
    private List<PrunableLayer> layers;
    private long k;
    private float[] copy;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        layers = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(1);
        for (long[] s : resnet50Shapes()) {
            int[] shape = new int[s.length - 2];
            for (int i = 0; i < shape.length; i++) shape[i] = (int) s[i + 2];
            long n = 1;
            for (int d : shape) n *= d;
            MemorySegment w = arena.allocate(n * Float.BYTES, 64);
            for (long i = 0; i < n; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextGaussian());
            layers.add(new PrunableLayer("layer" + s[0], shape, w, n, s[1], false));
        }
        long total = PrunableLayer.total(layers);
        if (total != 25_502_912L) throw new IllegalStateException("ResNet-50 shapes give " + total + " weights");
        k = Math.round(sparsity * total);
        copy = new float[(int) total];
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float radixSelect() {
        return GlobalThreshold.magnitude(layers, k).value();
    }

    /** The same select with the guessed window switched off: the two full histogram passes. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g",
        "-Dshears.select=histogram"})
    public float radixSelectHistogram() {
        return GlobalThreshold.magnitude(layers, k).value();
    }

    @Benchmark
    public float fullSort() {
        int at = 0;
        for (PrunableLayer l : layers) {
            MemorySegment w = l.weights();
            for (long i = 0; i < l.count(); i++) copy[at++] = Math.abs(w.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
        Arrays.sort(copy);
        return copy[(int) k - 1];
    }

    @Benchmark
    public double streamingPass() {
        double[] part = new double[Parallel.threads()];
        long total = copy.length;
        Parallel.forEachChunk(part.length, c -> {
            long from = total * c / part.length, to = total * (c + 1) / part.length;
            double sum = 0;
            long at = 0;
            for (PrunableLayer l : layers) {
                long a = Math.max(from, at), b = Math.min(to, at + l.count());
                if (a < b) sum += AbsKeys.sumAbs(l.weights(), a - at, b - at);
                at += l.count();
            }
            part[c] = sum;
        });
        double s = 0;
        for (double p : part) s += p;
        return s;
    }

    /** {index, MACs per weight, shape...} of torchvision's resnet50 conv/FC weights, in module order. */
    static List<long[]> resnet50Shapes() {
        List<long[]> out = new ArrayList<>();
        out.add(new long[] {0, 112 * 112, 64, 3, 7, 7});
        int cin = 64, res = 56;
        int[][] stages = {{64, 3}, {128, 4}, {256, 6}, {512, 3}};
        for (int st = 0; st < stages.length; st++) {
            int width = stages[st][0];
            for (int b = 0; b < stages[st][1]; b++) {
                int out2 = st > 0 && b == 0 ? res / 2 : res; // v1.5: the stride sits on conv2
                out.add(new long[] {out.size(), (long) res * res, width, cin, 1, 1});
                out.add(new long[] {out.size(), (long) out2 * out2, width, width, 3, 3});
                out.add(new long[] {out.size(), (long) out2 * out2, width * 4L, width, 1, 1});
                if (b == 0) out.add(new long[] {out.size(), (long) out2 * out2, width * 4L, cin, 1, 1});
                cin = width * 4;
                res = out2;
            }
        }
        out.add(new long[] {out.size(), 1, 1000, 2048});
        return out;
    }
}
