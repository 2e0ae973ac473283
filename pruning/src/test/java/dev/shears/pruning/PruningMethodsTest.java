package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every method prunes exactly k = round(s * N), masks agree with counts, and per-layer methods prune by magnitude. */
class PruningMethodsTest {
    @Test
    void everyMethodPrunesExactlyK() {
        qt().withExamples(100).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 0.999))
                .checkAssert((seed, family, s) -> {
                    List<PrunableLayer> layers = Fixtures.layers(seed, family, 6);
                    long n = PrunableLayer.total(layers);
                    long k = Math.round(s * n);
                    for (PruningMethod m : methods(layers, k, seed)) {
                        List<MemorySegment> masks = Fixtures.masks(layers);
                        PruningResult r = m.prune(layers, s, masks);
                        String at = m.name() + " s=" + s + " " + layers;
                        assertEquals(k, r.target(), at);
                        assertEquals(k, r.prunedTotal(), at);
                        assertEquals(n, r.weights(), at);
                        long[] zeros = new long[layers.size()];
                        for (int l = 0; l < layers.size(); l++) {
                            for (float x : Fixtures.read(masks.get(l), (int) layers.get(l).count())) {
                                assertTrue(x == 0f || x == 1f, at);
                                if (x == 0f) zeros[l]++;
                            }
                        }
                        assertArrayEquals(r.pruned(), zeros, "mask zeros = pruned counts, " + at);
                    }
                });
    }

    @Test
    void globalAndMtExactEqualTheOracle() {
        qt().withExamples(100).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 0.999))
                .checkAssert((seed, family, s) -> {
                    List<PrunableLayer> layers = Fixtures.layers(seed, family, 6);
                    float[][] v = Fixtures.values(layers);
                    long n = PrunableLayer.total(layers);
                    long k = Math.round(s * n);
                    assertMasks(Fixtures.oracle(v, KeyOrder.MAGNITUDE, k, null), PruningMethods.create("global"), layers, s);
                    long m = largestFeasibleM(layers, k, seed);
                    MinimumThreshold mt = new MinimumThreshold(m, 0, MinimumThreshold.Mode.EXACT);
                    long[] floors = mt.floors(Allocations.sizes(layers), n);
                    assertMasks(Fixtures.oracle(v, KeyOrder.MAGNITUDE, k, floors),
                            PruningMethods.create("global", PruningMethods.Options.DEFAULT.withMt(mt)), layers, s);
                });
    }

    @Test
    void perLayerMethodsPruneEachLayerByMagnitude() {
        qt().withExamples(100).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 0.999))
                .checkAssert((seed, family, s) -> {
                    List<PrunableLayer> layers = Fixtures.layers(seed, family, 6);
                    float[][] v = Fixtures.values(layers);
                    for (String name : List.of("uniform", "erk")) {
                        List<MemorySegment> masks = Fixtures.masks(layers);
                        PruningResult r = PruningMethods.create(name).prune(layers, s, masks);
                        for (int l = 0; l < v.length; l++) {
                            // the layer alone, pruned to its count, by the oracle
                            Fixtures.Expected want = Fixtures.oracle(new float[][] {v[l]}, KeyOrder.MAGNITUDE, r.pruned()[l], null);
                            float[] got = Fixtures.read(masks.get(l), v[l].length);
                            for (int i = 0; i < got.length; i++) {
                                assertEquals(want.pruned()[0][i] ? 0f : 1f, got[i], name + " layer " + l + " index " + i);
                            }
                        }
                    }
                });
    }

    @Test
    void uniformSparsityIsWithinOneWeightPerLayer() {
        qt().withExamples(100).forAll(longs().all(), doubles().between(0, 0.999)).checkAssert((seed, s) -> {
            List<PrunableLayer> layers = Fixtures.layers(seed, 0, 8);
            long n = PrunableLayer.total(layers);
            long k = Math.round(s * n);
            PruningResult r = PruningMethods.create("uniform").prune(layers, s, Fixtures.masks(layers));
            for (int l = 0; l < layers.size(); l++) {
                double exact = n == 0 ? 0 : (double) k * layers.get(l).count() / n;
                assertTrue(Math.abs(r.pruned()[l] - exact) < 1, "layer " + l + " pruned " + r.pruned()[l] + " vs " + exact);
            }
            if (layers.isEmpty() || k > n - layers.get(0).count() || n == layers.get(0).count()) return;
            PruningMethod firstDense = PruningMethods.create("uniform", PruningMethods.Options.DEFAULT.withKeepFirstDense(true));
            r = firstDense.prune(layers, s, Fixtures.masks(layers));
            assertEquals(0, r.pruned()[0]);
            assertEquals(k, r.prunedTotal());
            for (int l = 1; l < layers.size(); l++) {
                double exact = (double) k * layers.get(l).count() / (n - layers.get(0).count());
                assertTrue(Math.abs(r.pruned()[l] - exact) < 1, "layer " + l + " pruned " + r.pruned()[l] + " vs " + exact);
            }
        });
    }

    @Test
    void randomIsSeededAndSpreadsOverLayers() {
        List<PrunableLayer> layers = List.of(layer("a", 4000), layer("b", 1000), layer("c", 5000));
        PruningMethod r1 = PruningMethods.create("random", PruningMethods.Options.DEFAULT.withSeed(1));
        List<MemorySegment> m1 = Fixtures.masks(layers), m1again = Fixtures.masks(layers), m2 = Fixtures.masks(layers);
        PruningResult a = r1.prune(layers, 0.5, m1);
        r1.prune(layers, 0.5, m1again);
        PruningMethods.create("random", PruningMethods.Options.DEFAULT.withSeed(2)).prune(layers, 0.5, m2);
        for (int l = 0; l < 3; l++) {
            int n = (int) layers.get(l).count();
            assertArrayEquals(Fixtures.read(m1.get(l), n), Fixtures.read(m1again.get(l), n), "same seed, same mask");
            // binomial(n, 1/2): 6 standard deviations is a test that fails only when the scores are not random
            assertTrue(Math.abs(a.pruned()[l] - n / 2.0) < 6 * Math.sqrt(n / 4.0), "layer " + l + " pruned " + a.pruned()[l]);
        }
        assertNotEquals(Arrays.toString(Fixtures.read(m1.get(0), 4000)), Arrays.toString(Fixtures.read(m2.get(0), 4000)));
    }

    @Test
    void lampNeverEmptiesALayer() {
        qt().withExamples(100).forAll(longs().all(), integers().between(0, Fixtures.FAMILIES - 1), doubles().between(0, 0.999))
                .checkAssert((seed, family, s) -> {
                    List<PrunableLayer> layers = Fixtures.layers(seed, family, 6);
                    PruningResult r = PruningMethods.create("lamp").prune(layers, s, Fixtures.masks(layers));
                    long n = PrunableLayer.total(layers), nonEmpty = layers.stream().filter(l -> l.count() > 0).count();
                    // every layer's top scores 1; the threshold reaches 1 only once fewer than nonEmpty weights are kept
                    if (n - r.target() < nonEmpty) return;
                    for (int l = 0; l < layers.size(); l++) {
                        if (layers.get(l).count() == 0) continue;
                        assertTrue(r.pruned()[l] < layers.get(l).count(), "layer " + l + " emptied by LAMP");
                    }
                });
    }

    @Test
    void badSparsityUnknownMethodAndMisplacedOptionsAreClearErrors() {
        List<PrunableLayer> layers = List.of(layer("a", 10));
        for (double s : new double[] {-0.1, 1, 1.5, Double.NaN, Double.POSITIVE_INFINITY}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> PruningMethods.create("global").prune(layers, s, Fixtures.masks(layers)));
            assertTrue(e.getMessage().contains("sparsity " + s) && e.getMessage().contains("[0, 1)"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> PruningMethods.create("magnitude-ish"));
        assertTrue(e.getMessage().contains("magnitude-ish") && e.getMessage().contains("global"), e.getMessage());
        MinimumThreshold mt = MinimumThreshold.parse("5", MinimumThreshold.Mode.EXACT);
        e = assertThrows(IllegalArgumentException.class, () -> PruningMethods.create("erk", PruningMethods.Options.DEFAULT.withMt(mt)));
        assertTrue(e.getMessage().contains("--mt"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> PruningMethods.create("global", PruningMethods.Options.DEFAULT.withKeepFirstDense(true)));
        var small = List.of(layer("first", 90), layer("rest", 10));
        e = assertThrows(IllegalArgumentException.class,
                () -> PruningMethods.create("uniform", PruningMethods.Options.DEFAULT.withKeepFirstDense(true))
                        .prune(small, 0.5, Fixtures.masks(small)));
        assertTrue(e.getMessage().contains("'first'"), e.getMessage());
    }

    static PrunableLayer layer(String name, int n) {
        float[] v = new float[n];
        java.util.SplittableRandom r = new java.util.SplittableRandom(name.hashCode());
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return new PrunableLayer(name, new int[] {n}, Fixtures.segment(v), n, 1, false);
    }

    private static long largestFeasibleM(List<PrunableLayer> layers, long k, long seed) {
        long n = PrunableLayer.total(layers);
        long m = Math.floorMod(seed, 12);
        while (m > 0) {
            long kept = 0;
            for (PrunableLayer l : layers) kept += Math.min(m, l.count());
            if (kept <= n - k) break;
            m--;
        }
        return m;
    }

    private static List<PruningMethod> methods(List<PrunableLayer> layers, long k, long seed) {
        MinimumThreshold exact = new MinimumThreshold(largestFeasibleM(layers, k, seed), 0, MinimumThreshold.Mode.EXACT);
        var list = new java.util.ArrayList<PruningMethod>();
        for (String name : PruningMethods.NAMES) list.add(PruningMethods.create(name, PruningMethods.Options.DEFAULT.withSeed(seed)));
        list.add(PruningMethods.create("global", PruningMethods.Options.DEFAULT.withMt(exact)));
        if (!layers.isEmpty() && k <= PrunableLayer.total(layers) - layers.get(0).count()) {
            list.add(PruningMethods.create("uniform", PruningMethods.Options.DEFAULT.withKeepFirstDense(true)));
        }
        return list;
    }

    private static void assertMasks(Fixtures.Expected want, PruningMethod m, List<PrunableLayer> layers, double s) {
        List<MemorySegment> masks = Fixtures.masks(layers);
        m.prune(layers, s, masks);
        for (int l = 0; l < layers.size(); l++) {
            float[] got = Fixtures.read(masks.get(l), (int) layers.get(l).count());
            for (int i = 0; i < got.length; i++) {
                assertEquals(want.pruned()[l][i] ? 0f : 1f, got[i], m.name() + " layer " + l + " index " + i + " s=" + s);
            }
        }
    }
}
