package dev.shears.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import org.junit.jupiter.api.Test;

/** Parameter: MAC count, mask installation (pruned weights exactly +0), kept count, clear errors. */
class ParameterTest {
    @Test
    void maskZeroesPrunedWeightsToPositiveZero() {
        try (Workspace ws = new Workspace("t")) {
            Parameter p = new Parameter(ws, "conv.weight", true, 9, 2, 3);
            p.value().copyFrom(new float[] {-1, 2, -3, 4, Float.NaN, -0.5f});
            assertEquals(54, p.macs());
            assertEquals(6, p.kept());
            p.setMask(ws, new float[] {0, 1, 0, 1, 0, 1});
            float[] v = p.value().toFloatArray();
            assertArrayEquals(new float[] {0, 2, 0, 4, 0, -0.5f}, v);
            for (int i : new int[] {0, 2, 4}) assertEquals(0, Float.floatToRawIntBits(v[i]), "pruned weight " + i + " is +0.0");
            assertEquals(3, p.kept());
            p.value().set(0, 7f); // an optimizer step moved a pruned weight
            p.applyMask();
            assertEquals(0, Float.floatToRawIntBits(p.value().get(0)));
            p.clearMask();
            assertNull(p.mask());
            assertEquals(6, p.kept());
        }
    }

    @Test
    void badMasksSayWhatIsWrong() {
        try (Workspace ws = new Workspace("t")) {
            Parameter p = new Parameter(ws, "fc.weight", true, 1, 2, 2);
            var e = assertThrows(IllegalArgumentException.class, () -> p.setMask(ws, new float[3]));
            assertTrue(e.getMessage().contains("fc.weight") && e.getMessage().contains("3 entries"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.setMask(ws, new float[] {1, 0.5f, 0, 1}));
            assertTrue(e.getMessage().contains("0 or 1") && e.getMessage().contains("0.5"), e.getMessage());
        }
    }
}
