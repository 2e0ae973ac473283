package dev.shears.jmh;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What the plain-main benchmarks share: the median they quote (the mean of the two middle values
 * for an even count; NaN for none) and seeded random native inputs. Not a timer: each benchmark
 * reads its own clock (thread CPU time or wall).
 */
final class Stats {
    private Stats() {}

    static double median(double[] v) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double median(List<Double> v) {
        return median(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** n floats uniform in [-1, 1) from the seed, 64-byte aligned. */
    static MemorySegment random(Arena arena, long n, long seed) {
        MemorySegment m = arena.allocate(4 * n, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) m.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
        return m;
    }
}
