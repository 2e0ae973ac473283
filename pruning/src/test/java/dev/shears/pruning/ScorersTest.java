package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

/** LAMP scores against the direct O(n^2) definition; random scores are finite and seeded. */
class ScorersTest {
    @Test
    void lampEqualsTheDirectDefinition() {
        qt().withExamples(200).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1)).checkAssert((seed, family) -> {
            List<PrunableLayer> layers = Fixtures.layers(seed, family, 4);
            try (Arena arena = Arena.ofShared()) {
                Scorer.Scores s = Scorers.lamp().score(layers, arena);
                assertEquals(KeyOrder.MAGNITUDE, s.order());
                for (int l = 0; l < layers.size(); l++) {
                    float[] w = Fixtures.read(layers.get(l).weights(), (int) layers.get(l).count());
                    float[] got = Fixtures.read(s.segments().get(l).values(), w.length);
                    for (int u = 0; u < w.length; u++) {
                        double want = direct(w, u);
                        assertEquals(want, got[u], Math.max(1e-6 * want, Float.MIN_VALUE),
                                "layer " + l + " index " + u + " of " + java.util.Arrays.toString(w));
                    }
                }
            }
        });
    }

    /** score(u) = w_u^2 / sum of w_v^2 over v at or after u in the (|w|, index) order; a zero suffix scores 0, the last 1. */
    private static double direct(float[] w, int u) {
        double sq = (double) w[u] * w[u], sum = 0;
        int after = 0;
        for (int v = 0; v < w.length; v++) {
            boolean atOrAfter = Math.abs(w[v]) > Math.abs(w[u]) || (Math.abs(w[v]) == Math.abs(w[u]) && v >= u);
            if (atOrAfter) {
                sum += (double) w[v] * w[v];
                if (v != u) after++;
            }
        }
        if (sum > 0) return sq / sum;
        return after == 0 ? 1 : 0;
    }

    @Test
    void lampTopWeightScoresOne() {
        List<PrunableLayer> layers = List.of(PruningMethodsTest.layer("a", 300), PruningMethodsTest.layer("b", 7));
        try (Arena arena = Arena.ofShared()) {
            Scorer.Scores s = Scorers.lamp().score(layers, arena);
            for (int l = 0; l < 2; l++) {
                float[] got = Fixtures.read(s.segments().get(l).values(), (int) layers.get(l).count());
                int ones = 0;
                for (float x : got) {
                    assertTrue(x > 0 && x <= 1, "score " + x);
                    if (x == 1f) ones++;
                }
                assertEquals(1, ones);
            }
        }
    }

    @Test
    void randomScoresAreFiniteAndDependOnTheSeedOnly() {
        List<PrunableLayer> layers = List.of(PruningMethodsTest.layer("a", 1000), PruningMethodsTest.layer("b", 10));
        try (Arena arena = Arena.ofShared()) {
            float[] a = Fixtures.read(Scorers.random(5).score(layers, arena).segments().get(0).values(), 1000);
            float[] b = Fixtures.read(Scorers.random(5).score(layers, arena).segments().get(0).values(), 1000);
            float[] c = Fixtures.read(Scorers.random(6).score(layers, arena).segments().get(0).values(), 1000);
            assertTrue(java.util.Arrays.equals(a, b));
            assertTrue(!java.util.Arrays.equals(a, c));
            for (float x : a) assertTrue(Float.isFinite(x) && x >= 0, "score " + x);
        }
    }

    @Test
    void nonFiniteWeightsAreNamedByEveryScorer() {
        float[] v = {1f, Float.NaN, 2f};
        List<PrunableLayer> layers = List.of(PruningMethodsTest.layer("ok", 5),
                new PrunableLayer("bad.weight", new int[] {3}, Fixtures.segment(v), 3, 1, false));
        for (String m : PruningMethods.NAMES) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> PruningMethods.create(m).prune(layers, 0.5, Fixtures.masks(layers)));
            assertTrue(e.getMessage().contains("'bad.weight'") && e.getMessage().contains("index 1"), m + ": " + e.getMessage());
        }
    }
}
