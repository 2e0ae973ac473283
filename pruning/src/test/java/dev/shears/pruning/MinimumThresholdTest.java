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
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Minimum Threshold: parsing, the paper's reallocation on a hand-checkable example, floors, and impossible MT. */
class MinimumThresholdTest {
    @Test
    void percentResolvesAsTheAuthorsCodeDoes() {
        // PAPER.md 1.3: ResNet-50, 25,502,912 prunable weights: 0.05% -> 12,751 and 0.005% -> 1,275 per layer
        assertEquals(12_751, MinimumThreshold.parse("0.05%", MinimumThreshold.Mode.PAPER).resolve(25_502_912));
        assertEquals(1_275, MinimumThreshold.parse("0.005%", MinimumThreshold.Mode.PAPER).resolve(25_502_912));
        assertEquals(500, MinimumThreshold.parse("500", MinimumThreshold.Mode.EXACT).resolve(25_502_912));
        assertEquals(MinimumThreshold.Mode.PAPER, MinimumThreshold.Mode.parse("Paper"));
        for (String bad : new String[] {"", "abc", "5.5", "-3", "101%", "x%"}) {
            assertThrows(IllegalArgumentException.class, () -> MinimumThreshold.parse(bad, MinimumThreshold.Mode.EXACT), bad);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> MinimumThreshold.Mode.parse("strict"));
        assertTrue(e.getMessage().contains("paper or exact"), e.getMessage());
    }

    /**
     * Four layers, M = 100, target 0.8 of N = 3000 (k = 2400). Magnitudes are laid out so Global MP
     * prunes all of A (50) and B (200), 600 of C (1000) and 1550 of D (1750). The paper's procedure
     * then: (a) A is smaller than M: dense; (b) rescale; (c) B, then D, would keep fewer than M: they
     * keep M; C takes the rest, about 650. The expectation is derived below step by step.
     */
    @Test
    void paperModeFollowsTheAuthorsReallocation() {
        long[] n = {50, 200, 1000, 1750};
        long m = 100;
        double target = 0.8;
        SplittableRandom r = new SplittableRandom(3);
        List<PrunableLayer> layers = new ArrayList<>();
        float[][] v = {
            spread(r, 50, 1e-4f, 1e-5f, 0, 0, 0),
            spread(r, 200, 0.001f, 4e-6f, 0, 0, 0),
            spread(r, 1000, 0.002f, 1e-6f, 600, 1f, 0.001f),
            spread(r, 1750, 0.003f, 5e-7f, 1550, 2f, 0.001f)};
        for (int l = 0; l < 4; l++) layers.add(new PrunableLayer("L" + l, new int[] {(int) n[l]}, Fixtures.segment(v[l]), n[l], 1, false));

        // step 1, Global MP per-layer sparsity, by the full-sort oracle
        long k = Math.round(target * 3000);
        Fixtures.Expected global = Fixtures.oracle(v, KeyOrder.MAGNITUDE, k, null);
        double[] s = new double[4];
        for (int l = 0; l < 4; l++) s[l] = (double) global.prunedIn(l) / n[l];
        assertArrayEquals(new double[] {1, 1, 0.6, 1550.0 / 1750}, s, 0, "the layout gives the Global MP split described above");

        // step 2, the procedure as PAPER.md states it (with the two documented choices)
        for (int l = 0; l < 4; l++) if (n[l] < m) s[l] = 0;                                  // (a)
        double total = weighted(n, s);
        for (int l = 0; l < 4; l++) s[l] *= target / total;                                   // (b)
        clampTo(n, s, m);                                                                     // (c)
        total = weighted(n, s);
        while (total < target) {
            for (int l = 0; l < 4; l++) s[l] *= target / total;
            clampTo(n, s, m);
            double next = weighted(n, s);
            if (next <= total) break; // converged to the float limit below the target
            total = next;
        }
        long[] want = new long[4];
        for (int l = 0; l < 4; l++) want[l] = (long) Math.floor(s[l] * n[l]);                 // step 3: int(s_l * n_l)

        // the hand check of that arithmetic
        assertEquals(0, want[0]);
        assertTrue(n[1] - want[1] == m || n[1] - want[1] == m + 1, "B keeps M");
        assertTrue(n[3] - want[3] == m || n[3] - want[3] == m + 1, "D keeps M");
        assertTrue(Math.abs(want[2] - (k - (n[1] - m) - (n[3] - m))) <= 1, "C takes the rest: " + want[2]);

        MinimumThreshold mt = new MinimumThreshold(m, 0, MinimumThreshold.Mode.PAPER);
        List<MemorySegment> masks = Fixtures.masks(layers);
        PruningResult got = PruningMethods.create("global", PruningMethods.Options.DEFAULT.withMt(mt)).prune(layers, target, masks);
        assertArrayEquals(want, got.pruned());
        long sum = want[0] + want[1] + want[2] + want[3];
        assertEquals(sum == k, got.note().isEmpty(), "the note reports a total that differs from k: " + got.note());
        if (sum != k) assertTrue(got.note().contains(Long.toString(sum)) && got.note().contains("k = " + k), got.note());
        for (int l = 0; l < 4; l++) { // each layer pruned by its own magnitudes
            Fixtures.Expected layer = Fixtures.oracle(new float[][] {v[l]}, KeyOrder.MAGNITUDE, want[l], null);
            float[] mask = Fixtures.read(masks.get(l), (int) n[l]);
            for (int i = 0; i < n[l]; i++) assertEquals(layer.pruned()[0][i] ? 0f : 1f, mask[i], "layer " + l + " index " + i);
        }
    }

    @Test
    void floorsHoldInBothModes() {
        qt().withExamples(150).forAll(longs().all(), integers().between(0, 20), doubles().between(0, 0.999)).checkAssert((seed, m, s) -> {
            List<PrunableLayer> layers = Fixtures.layers(seed, 0, 6);
            long total = PrunableLayer.total(layers);
            long k = Math.round(s * total);
            long floorSum = 0;
            for (PrunableLayer l : layers) floorSum += Math.min(m, l.count());
            for (MinimumThreshold.Mode mode : MinimumThreshold.Mode.values()) {
                PruningMethod method = PruningMethods.create("global",
                        PruningMethods.Options.DEFAULT.withMt(new MinimumThreshold(m, 0, mode)));
                if (floorSum > total - k) {
                    var e = assertThrows(IllegalArgumentException.class, () -> method.prune(layers, s, Fixtures.masks(layers)));
                    assertTrue(e.getMessage().contains("impossible MT"), e.getMessage());
                    continue;
                }
                PruningResult r;
                try {
                    r = method.prune(layers, s, Fixtures.masks(layers));
                } catch (IllegalArgumentException e) {
                    // the paper's rescaling cannot move layers Global MP left untouched; said plainly
                    assertEquals(MinimumThreshold.Mode.PAPER, mode, e.getMessage());
                    assertTrue(e.getMessage().contains("cannot reach"), e.getMessage());
                    continue;
                }
                for (int l = 0; l < layers.size(); l++) {
                    long kept = layers.get(l).count() - r.pruned()[l];
                    assertTrue(kept >= Math.min(m, layers.get(l).count()), mode + " layer " + l + " kept " + kept + " < M " + m);
                }
                if (mode == MinimumThreshold.Mode.EXACT) assertEquals(k, r.prunedTotal());
            }
        });
    }

    @Test
    void paperModeSaysWhenItsRescalingCannotReachTheTarget() {
        // Global MP prunes all of X and none of Y; X may keep only M, Y was never pruned, so rescaling cannot move
        float[] x = new float[1000], y = new float[1000];
        for (int i = 0; i < 1000; i++) {
            x[i] = 1e-3f * (1 + i % 7);
            y[i] = 10f + i;
        }
        List<PrunableLayer> layers = List.of(new PrunableLayer("X", new int[] {1000}, Fixtures.segment(x), 1000, 1, false),
                new PrunableLayer("Y", new int[] {1000}, Fixtures.segment(y), 1000, 1, false));
        var mt = new MinimumThreshold(400, 0, MinimumThreshold.Mode.PAPER);
        var e = assertThrows(IllegalArgumentException.class, () -> PruningMethods.create("global",
                PruningMethods.Options.DEFAULT.withMt(mt)).prune(layers, 0.5, Fixtures.masks(layers)));
        assertTrue(e.getMessage().contains("cannot reach") && e.getMessage().contains("exact"), e.getMessage());
        // the exact mode does it: X keeps its top 400, Y gives 400
        PruningResult r = PruningMethods.create("global", PruningMethods.Options.DEFAULT.withMt(
                new MinimumThreshold(400, 0, MinimumThreshold.Mode.EXACT))).prune(layers, 0.5, Fixtures.masks(layers));
        assertArrayEquals(new long[] {600, 400}, r.pruned());
    }

    /** n values: the first {@code low} count from a small base upward, the others from a large base; shuffled. */
    private static float[] spread(SplittableRandom r, int n, float base, float step, int low, float bigBase, float bigStep) {
        if (low == 0) low = n;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (r.nextBoolean() ? 1 : -1) * (i < low ? base + i * step : bigBase + (i - low) * bigStep);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            float t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    }

    private static double weighted(long[] n, double[] s) {
        double p = 0, t = 0;
        for (int l = 0; l < n.length; l++) {
            p += n[l] * s[l];
            t += n[l];
        }
        return p / t;
    }

    private static void clampTo(long[] n, double[] s, long m) {
        for (int l = 0; l < n.length; l++) if (n[l] >= m && (1 - s[l]) * n[l] < m) s[l] = 1 - (double) m / n[l];
    }
}
