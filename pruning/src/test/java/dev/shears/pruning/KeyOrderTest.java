package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.floats;

import org.junit.jupiter.api.Test;

/** Keys preserve order: |a| vs |b| for MAGNITUDE, a vs b for SIGNED; -0 == +0; digits rebuild the key. */
class KeyOrderTest {
    @Test
    void keysPreserveOrder() {
        qt().withExamples(2000).forAll(floats().any(), floats().any()).checkAssert((a, b) -> {
            if (!Float.isFinite(a) || !Float.isFinite(b)) return;
            assertEquals(Integer.signum(Float.compare(Math.abs(a) + 0f, Math.abs(b) + 0f)),
                    Integer.signum(Integer.compare(KeyOrder.MAGNITUDE.key(a), KeyOrder.MAGNITUDE.key(b))), a + " vs " + b);
            assertEquals(Integer.signum(Float.compare(a + 0f, b + 0f)),
                    Integer.signum(Integer.compare(KeyOrder.SIGNED.key(a), KeyOrder.SIGNED.key(b))), a + " vs " + b);
            for (KeyOrder o : KeyOrder.values()) {
                int key = o.key(a);
                assertEquals(key, o.join(o.high(key), key & o.lowMask));
                assertTrue(o.high(key) >= 0 && o.high(key) < 65536);
                assertEquals(o == KeyOrder.MAGNITUDE ? Math.abs(a) + 0f : a + 0f, o.value(key) + 0f);
            }
        });
        for (KeyOrder o : KeyOrder.values()) {
            assertEquals(o.key(0f), o.key(-0f));
            assertTrue(o.key(Float.MAX_VALUE) < KeyOrder.ABOVE_ALL && o.key(-Float.MAX_VALUE) > KeyOrder.BELOW_ALL);
        }
    }
}
