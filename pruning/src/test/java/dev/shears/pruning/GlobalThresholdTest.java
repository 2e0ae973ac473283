package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** GlobalThreshold and the masking pass against the full-sort oracle in {@link Fixtures}. */
class GlobalThresholdTest {
    /** Tiny work sizes: a chunk per thread, pieces of 7, histograms spilling every 50 weights; histogram passes only. */
    static final Spans.Tuning TINY = new Spans.Tuning(1, 7, 50, Long.MAX_VALUE, 0);
    /** The guessed window tried at any size, with room in the candidate buffers. */
    static final Spans.Tuning GUESS = new Spans.Tuning(1, 1L << 30, Integer.MAX_VALUE, 0, 4096);
    /** The guessed window tried with buffers barely sized to the sample's share: they often overflow (then the fallback). */
    static final Spans.Tuning CRAMPED = new Spans.Tuning(1, 7, 50, 0, 0);

    @Test
    void thresholdMasksAndCountsEqualTheSortOracle() {
        qt().withExamples(200).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 1))
                .checkAssert((seed, family, fraction) -> {
                    float[][] v = Fixtures.values(seed, family, 6, 40);
                    for (Spans.Tuning t : new Spans.Tuning[] {Spans.Tuning.DEFAULT, GUESS, CRAMPED}) {
                        check(v, KeyOrder.MAGNITUDE, fraction, null, t);
                    }
                });
    }

    @Test
    void tinyChunksPiecesAndSpillsChangeNothing() {
        qt().withExamples(150).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 1))
                .checkAssert((seed, family, fraction) -> check(Fixtures.values(seed, family, 5, 60), KeyOrder.MAGNITUDE,
                        fraction, null, TINY));
    }

    @Test
    void floorsAreHonouredAndTheRestFollowsTheOracle() {
        qt().withExamples(100).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 1))
                .checkAssert((seed, family, fraction) -> {
                    float[][] v = Fixtures.values(seed, family, 6, 40);
                    long n = Fixtures.total(v);
                    long k = Math.round(fraction * n);
                    long[] floors = randomFloors(v, n - k, new SplittableRandom(seed ^ 0x5eed));
                    for (Spans.Tuning t : new Spans.Tuning[] {Spans.Tuning.DEFAULT, TINY, GUESS, CRAMPED}) {
                        check(v, KeyOrder.MAGNITUDE, fraction, floors, t);
                    }
                });
    }

    @Test
    void signedOrderFollowsTheOracle() {
        qt().withExamples(100).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 1))
                .checkAssert((seed, family, fraction) -> {
                    float[][] v = Fixtures.values(seed, family, 5, 40);
                    long n = Fixtures.total(v);
                    long[] floors = randomFloors(v, n - Math.round(fraction * n), new SplittableRandom(seed));
                    check(v, KeyOrder.SIGNED, fraction, null, TINY);
                    check(v, KeyOrder.SIGNED, fraction, floors, Spans.Tuning.DEFAULT);
                });
    }

    @Test
    void threadedDefaultsOnAQuarterMillionWeights() {
        // above the default grain, so every pool thread gets a chunk; ties across chunk borders
        SplittableRandom r = new SplittableRandom(7);
        float[][] v = new float[5][];
        int[] sizes = {1, 100_000, 0, 150_003, 7};
        for (int l = 0; l < 5; l++) {
            v[l] = new float[sizes[l]];
            for (int i = 0; i < sizes[l]; i++) v[l][i] = r.nextInt(3) == 0 ? 0.25f : (float) r.nextGaussian();
        }
        Spans.Tuning guess = new Spans.Tuning(1L << 16, 1L << 30, Integer.MAX_VALUE, 0, 4096);
        for (double s : new double[] {0, 0.1, 0.5, 0.9, 0.999999}) {
            check(v, KeyOrder.MAGNITUDE, s, null, Spans.Tuning.DEFAULT);
            check(v, KeyOrder.MAGNITUDE, s, null, guess);
        }
        long[] floors = {1, 5000, 0, 60_000, 3};
        check(v, KeyOrder.MAGNITUDE, 0.7, floors, Spans.Tuning.DEFAULT);
        check(v, KeyOrder.MAGNITUDE, 0.7, floors, guess);
    }

    @Test
    void nonFiniteWeightNamesLayerAndIndex() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fffffff)}) {
            float[][] v = {{1f, 2f}, {3f, 4f, bad, 5f}};
            for (long k : new long[] {0, 1, 6}) {
                for (long[] floors : new long[][] {null, {0, 4}, {2, 1}}) {
                    if (floors != null && floors[0] + floors[1] > 6 - k) continue;
                    var e = assertThrows(IllegalArgumentException.class,
                            () -> GlobalThreshold.select(Fixtures.segments(v), KeyOrder.MAGNITUDE, k, floors, "weight"));
                    assertTrue(e.getMessage().contains("'layer1'") && e.getMessage().contains("index 2"), e.getMessage());
                }
            }
            var e = assertThrows(IllegalArgumentException.class,
                    () -> GlobalThreshold.perLayer(Fixtures.segments(v), KeyOrder.MAGNITUDE, new long[] {1, 0}, "weight"));
            assertTrue(e.getMessage().contains("'layer1'") && e.getMessage().contains("index 2"), e.getMessage());
        }
    }

    @Test
    void impossibleFloorsAndCountsAreClearErrors() {
        float[][] v = {{1f, 2f, 3f}, {4f, 5f}};
        var e = assertThrows(IllegalArgumentException.class,
                () -> GlobalThreshold.select(Fixtures.segments(v), KeyOrder.MAGNITUDE, 3, new long[] {2, 2}, "weight"));
        assertTrue(e.getMessage().contains("floors keep 4"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> GlobalThreshold.select(Fixtures.segments(v), KeyOrder.MAGNITUDE, 6, null, "weight"));
        assertThrows(IllegalArgumentException.class,
                () -> GlobalThreshold.select(Fixtures.segments(v), KeyOrder.MAGNITUDE, 1, new long[] {4, 0}, "weight"));
    }

    @Test
    void noLayersAndNoWeights() {
        GlobalThreshold.Result r = GlobalThreshold.select(List.of(), KeyOrder.MAGNITUDE, 0, null, "weight");
        assertEquals(0, r.k());
        assertArrayEquals(new long[0], r.cuts().apply(List.of(), List.of()));
        float[][] v = {{}, {}};
        r = GlobalThreshold.select(Fixtures.segments(v), KeyOrder.MAGNITUDE, 0, null, "weight");
        assertArrayEquals(new long[2], r.cuts().count(Fixtures.segments(v)));
    }

    static long[] randomFloors(float[][] v, long room, SplittableRandom r) {
        long[] f = new long[v.length];
        for (int l = 0; l < v.length && room > 0; l++) {
            f[l] = Math.min(room, r.nextInt(v[l].length + 1));
            room -= f[l];
        }
        return f;
    }

    private static void check(float[][] v, KeyOrder order, double fraction, long[] floors, Spans.Tuning tuning) {
        long n = Fixtures.total(v);
        long k = Math.round(fraction * n);
        Fixtures.Expected want = Fixtures.oracle(v, order, k, floors);
        List<ScoreSegment> segs = Fixtures.segments(v);
        GlobalThreshold.Result got = GlobalThreshold.select(segs, order, k, floors, "weight", tuning);
        String at = "k=" + k + " floors=" + java.util.Arrays.toString(floors) + " " + Fixtures.describe(v);
        if (k > 0) {
            assertEquals(want.key(), got.key(), "threshold key, " + at);
            assertEquals(want.below(), got.below(), "below, " + at);
            assertEquals(k - want.below(), got.tiesPruned(), "ties, " + at);
        }
        List<MemorySegment> masks = Fixtures.masks(v);
        long[] pruned = got.cuts().apply(segs, masks, tuning);
        long sum = 0;
        for (int l = 0; l < v.length; l++) {
            float[] m = Fixtures.read(masks.get(l), v[l].length);
            for (int i = 0; i < m.length; i++) {
                assertEquals(want.pruned()[l][i] ? 0f : 1f, m[i], "mask of layer " + l + " index " + i + ", " + at);
            }
            assertEquals(want.prunedIn(l), pruned[l], "count of layer " + l + ", " + at);
            if (floors != null) assertTrue(v[l].length - pruned[l] >= floors[l], "floor of layer " + l + ", " + at);
            sum += pruned[l];
        }
        assertEquals(k, sum, "total, " + at);
        assertArrayEquals(pruned, got.cuts().count(segs), "counting agrees with masking, " + at);
    }
}
