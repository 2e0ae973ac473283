package dev.shears.jmh;

import dev.shears.datasets.Augment;
import dev.shears.datasets.Batch;
import dev.shears.datasets.Dataset;
import dev.shears.datasets.Loader;
import java.util.Iterator;
import java.util.List;
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
 * Time to get one CIFAR-shaped batch (128 x 3 x 32 x 32, from 10,000 synthetic uint8 images) from
 * the {@link Loader}: with {@code prefetch=0} the whole cost lands on the calling thread (the
 * honest per-batch price); with {@code prefetch=2} the consumer only waits, here for a producer
 * that has nothing to overlap with. {@code augment}: cifar = reflect-pad 4, random crop, flip,
 * normalise; normalize = normalise only; raw = the bare copy (the floor). Compare with a ResNet-32
 * training step at batch 128 (about 0.55 s for PyTorch on this machine, peers/results.md).
 * Run: java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar jmh/target/benchmarks.jar LoaderBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LoaderBench {
    @Param({"cifar", "normalize", "raw"})
    String augment;

    @Param({"0", "2"})
    int prefetch;

    private Loader loader;
    private Iterator<Batch> batches;
    private int epoch;

    @Setup(Level.Trial)
    public void setUp() {
        int n = 10_000;
        SplittableRandom rng = new SplittableRandom(1);
        byte[] pixels = new byte[n * 3072];
        rng.nextBytes(pixels);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(10);
        Dataset data = Dataset.ofBytes("bench-cifar", new int[] {3, 32, 32}, List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), pixels, labels);
        Augment a = switch (augment) {
            case "cifar" -> Augment.cifar();
            case "normalize" -> Augment.none();
            default -> Augment.raw();
        };
        loader = new Loader(data, Loader.Options.of(128).withSeed(7).withAugment(a).withPrefetch(prefetch).withDropLast(true));
        batches = loader.epoch(epoch);
    }

    /** One batch; a new epoch (a reshuffle of 10,000 indices) every 78 calls is part of the price. */
    @Benchmark
    public Batch nextBatch() {
        if (!batches.hasNext()) batches = loader.epoch(++epoch);
        return batches.next();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loader.close();
    }
}
