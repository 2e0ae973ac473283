package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.List;
import org.junit.jupiter.api.Test;

/** ERK: densities sum to the target, follow (sum of dims)/(product of dims), dense layers capped at 1. */
class ErkTest {
    @Test
    void densitiesSumToTheTargetAndFollowTheShapeRule() {
        qt().withExamples(150).forAll(longs().all(), doubles().between(0, 0.999)).checkAssert((seed, s) -> {
            List<PrunableLayer> layers = Fixtures.layers(seed, 0, 8);
            long n = PrunableLayer.total(layers);
            long k = Math.round(s * n);
            double[] keep = Allocations.erkKeep(layers, n - k);
            double sum = 0, eps = Double.NaN;
            for (int l = 0; l < layers.size(); l++) {
                PrunableLayer layer = layers.get(l);
                sum += keep[l];
                assertTrue(keep[l] <= layer.count() + 1e-9, "density above 1 in layer " + l);
                if (keep[l] < layer.count()) { // not dense: kept = eps * (sum of dims), the same eps for all
                    double dims = 0;
                    for (int d : layer.shape()) dims += d;
                    double e = keep[l] / dims;
                    if (Double.isNaN(eps)) eps = e;
                    assertEquals(eps, e, 1e-9 * eps, "one scale factor for every sparse layer");
                }
            }
            for (int l = 0; l < layers.size(); l++) { // a dense layer is one whose eps * dims would exceed its size
                double dims = 0;
                for (int d : layers.get(l).shape()) dims += d;
                if (keep[l] == layers.get(l).count() && !Double.isNaN(eps) && layers.get(l).count() > 0) {
                    assertTrue(eps * dims >= layers.get(l).count() * (1 - 1e-9), "layer " + l + " dense without need");
                }
            }
            assertEquals(n - k, sum, 1e-6 * Math.max(1, n), "real-valued kept total");
            PruningResult r = PruningMethods.create("erk").prune(layers, s, Fixtures.masks(layers));
            assertEquals(k, r.prunedTotal(), "integer counts hit k exactly");
            for (int l = 0; l < layers.size(); l++) {
                long kept = layers.get(l).count() - r.pruned()[l];
                assertTrue(Math.abs(kept - keep[l]) < 1 + 1e-6, "layer " + l + " kept " + kept + " vs " + keep[l]);
            }
        });
    }

    @Test
    void smallLayersGoDenseFirst() {
        // a (3, 3) FC (dims 6, 9 weights: ratio 2/3) and a (64, 64, 3, 3) conv (dims 134 / 36864)
        List<PrunableLayer> layers = List.of(
                new PrunableLayer("fc", new int[] {3, 3}, Fixtures.segment(new float[9]), 9, 1, false),
                new PrunableLayer("conv", new int[] {64, 64, 3, 3}, Fixtures.segment(new float[36864]), 36864, 1, false));
        long n = 36873, k = Math.round(0.9 * n);
        double[] keep = Allocations.erkKeep(layers, n - k);
        assertEquals(9, keep[0], 0, "the tiny layer is dense");
        assertEquals(n - k - 9, keep[1], 1e-9);
    }
}
