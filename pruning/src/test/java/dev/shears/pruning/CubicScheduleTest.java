package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The gradual schedule is Zhu and Gupta's formula, s_i before the window and s_f from its end. */
class CubicScheduleTest {
    @Test
    void valuesFollowTheFormula() {
        double si = 0.1, sf = 0.9;
        long t0 = 7, dt = 3;
        int n = 5;
        CubicSchedule c = new CubicSchedule(si, sf, t0, dt, n);
        assertEquals(t0 + n * dt, c.end());
        for (long t = 0; t < 40; t++) {
            double expected;
            if (t <= t0) expected = si;
            else if (t >= t0 + n * dt) expected = sf;
            else expected = sf + (si - sf) * Math.pow(1 - (t - t0) / (double) (n * dt), 3);
            assertEquals(expected, c.sparsityAt(t), 1e-12, "t = " + t);
            assertEquals(t >= t0 && t <= t0 + n * dt && (t - t0) % dt == 0, c.prunesAt(t), "t = " + t);
        }
        assertEquals(sf, c.sparsityAt(c.end()));
        double prev = -1;
        for (long t = 0; t <= c.end(); t++) {
            assertTrue(c.sparsityAt(t) >= prev, "non-decreasing at " + t);
            prev = c.sparsityAt(t);
        }
        // cubic: most of the pruning early in the window
        assertTrue(c.sparsityAt(t0 + (n * dt) / 2) - si > 0.8 * (sf - si));
    }

    @Test
    void forRunPrunesFromTwentyToEightyPercentInAtMostTheEventsAsked() {
        CubicSchedule c = CubicSchedule.forRun(0.9, 1000, 0.2, 0.8, 100);
        assertEquals(200, c.start());
        assertEquals(800, c.end());
        assertEquals(6, c.every());
        assertEquals(100, c.events());
        assertEquals(0, c.initial());
        CubicSchedule tiny = CubicSchedule.forRun(0.5, 6, 0.2, 0.8, 100); // fewer steps than events
        assertEquals(1, tiny.every());
        assertTrue(tiny.end() <= 6);
        assertEquals(0.5, tiny.sparsityAt(tiny.end()));
        assertFalse(tiny.prunesAt(tiny.end() + 1));
    }

    @Test
    void badSettingsAreClearErrors() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CubicSchedule(0, 1.0, 0, 1, 1)).getMessage().contains("outside"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CubicSchedule(0.5, 0.4, 0, 1, 1)).getMessage().contains("target"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CubicSchedule(0, 0.5, 0, 0, 1)).getMessage().contains("interval"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CubicSchedule.forRun(0.5, 10, 0.8, 0.2, 5)).getMessage().contains("window"));
    }
}
