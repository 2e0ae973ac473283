package dev.shears.datasets;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.*;

import dev.shears.datasets.tools.MakeEmbeddedSubset;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The embedded subset's selection: stratified, ascending, distinct, deterministic in the seed. */
class SubsetSelectionTest {
    @Test
    void selectionIsStratifiedDistinctSortedAndSeeded() {
        qt().withFixedSeed(51).withExamples(40).forAll(integers().between(1, 6), integers().between(1, 5), longs().all()).checkAssert((classes, perClass, seed) -> {
            SplittableRandom rng = new SplittableRandom(seed);
            int n = classes * perClass * 3;
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = i < classes * perClass ? i % classes : rng.nextInt(classes); // every class has enough
            int[] kept = MakeEmbeddedSubset.select(labels, classes, perClass, seed);
            assertEquals(classes * perClass, kept.length);
            int[] counts = new int[classes];
            for (int j = 0; j < kept.length; j++) {
                if (j > 0) assertTrue(kept[j] > kept[j - 1], "indices ascending and distinct");
                counts[labels[kept[j]]]++;
            }
            for (int c : counts) assertEquals(perClass, c);
            assertArrayEquals(kept, MakeEmbeddedSubset.select(labels, classes, perClass, seed));
        });
        int[] labels = new int[100];
        for (int i = 0; i < 100; i++) labels[i] = i % 2;
        assertNotEquals(java.util.Arrays.toString(MakeEmbeddedSubset.select(labels, 2, 10, 1)), java.util.Arrays.toString(MakeEmbeddedSubset.select(labels, 2, 10, 2)));
        assertThrows(IllegalArgumentException.class, () -> MakeEmbeddedSubset.select(labels, 2, 51, 1));
    }
}
