package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * More than 2^31 weights in total: 17 layers that are views of one 2^27-float segment (512 MiB),
 * values 1..1000 in a cycle, so the expected threshold, counts and per-layer ties follow by
 * arithmetic. Minutes and half a GiB, so only on request:
 * {@code mvn -pl pruning -am test -Dtest=BeyondIntRangeTest -Dshears.bigTests=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "shears.bigTests", matches = "true")
class BeyondIntRangeTest {
    @Test
    void moreThanTwoToThe31Weights() {
        long per = 1L << 27;
        int layers = 17, values = 1000;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = arena.allocate(per * 4, 64);
            for (long i = 0; i < per; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (i % values + 1) * (i % 2 == 0 ? 1 : -1));
            List<ScoreSegment> segs = new ArrayList<>();
            for (int l = 0; l < layers; l++) segs.add(new ScoreSegment("view" + l, s, per));
            long n = per * layers;
            long[] countOf = new long[values + 1]; // weights of |value| j over all layers
            for (int j = 1; j <= values; j++) countOf[j] = layers * (per / values + (per % values >= j ? 1 : 0));
            for (double sparsity : new double[] {0.9, 0.5004}) {
                long k = Math.round(sparsity * n);
                int t = 0;
                long below = 0;
                while (below + countOf[t + 1] < k) below += countOf[++t];
                t++; // the k-th smallest |w| is t
                GlobalThreshold.Result r = GlobalThreshold.select(segs, KeyOrder.MAGNITUDE, k, null, "weight");
                assertEquals((float) t, r.value());
                assertEquals(below, r.below());
                long[] pruned = r.cuts().count(segs);
                long ties = k - below, perLayerBelow = below / layers, perLayerTies = countOf[t] / layers;
                for (int l = 0; l < layers; l++) {
                    long take = Math.min(perLayerTies, Math.max(0, ties - l * perLayerTies));
                    assertEquals(perLayerBelow + take, pruned[l], "layer " + l);
                }
            }
        }
    }
}
