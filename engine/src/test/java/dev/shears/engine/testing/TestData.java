package dev.shears.engine.testing;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Shared test helpers: the awkward sizes every kernel runs on (1..13, 2^k +-1, primes, 4098),
 * seeded random tensors, and float tolerances that grow with the reduction length.
 */
public final class TestData {
    private TestData() {}

    /** 1..13, 2^k-1 and 2^k+1 for k = 4..8, some primes, and 4098. */
    public static final int[] AWKWARD = IntStream.concat(IntStream.rangeClosed(1, 13),
            IntStream.of(15, 17, 31, 33, 63, 65, 127, 129, 255, 257, 37, 61, 97, 101, 4098)).toArray();

    /** Smaller set for 2- and 3-D sweeps. */
    public static final int[] AWKWARD_SMALL = {1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 31, 33};

    public static float[] uniform(SplittableRandom rng, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return a;
    }

    public static Tensor randomTensor(long seed, int... shape) {
        Tensor t = Tensor.allocate(DType.F32, shape);
        SplittableRandom rng = new SplittableRandom(seed);
        for (long i = 0; i < t.size(); i++) t.set(i, (float) (rng.nextDouble() * 2 - 1));
        return t;
    }

    /** Absolute tolerance for a float sum of {@code n} products of values of magnitude ~1. */
    public static double sumTolerance(int n) {
        return 1e-5 * Math.max(1, n) + 1e-6;
    }
}
