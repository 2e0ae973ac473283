package dev.shears.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Schedule values at chosen steps, each computed here from the schedule's formula. */
class ScheduleTest {
    private static final double EPS = 1e-12;

    @Test
    void constantWithWarmup() {
        Schedule s = Schedule.constant(0.1, 10, 2);
        int spe = 5; // 10 warm-up steps
        assertEquals(0.1 * 1 / 10, s.lr(0, spe), EPS);
        assertEquals(0.1 * 7 / 10, s.lr(6, spe), EPS);
        assertEquals(0.1, s.lr(9, spe), EPS);
        assertEquals(0.1, s.lr(10, spe), EPS);
        assertEquals(0.1, s.lr(49, spe), EPS);
    }

    @Test
    void cosinePerStepFollowsTheHalfCosine() {
        Schedule s = Schedule.cosine(0.2, 10, 0, true);
        int spe = 7, total = 70;
        assertEquals(0.2, s.lr(0, spe), EPS);
        for (int t : new int[] {1, 13, 35, 52, 69}) {
            assertEquals(0.2 * 0.5 * (1 + Math.cos(Math.PI * t / total)), s.lr(t, spe), EPS, "step " + t);
        }
        assertEquals(0.1, s.lr(35, spe), EPS); // halfway is half the rate
        assertTrue(s.lr(69, spe) > 0);
    }

    @Test
    void cosinePerEpochIsConstantWithinAnEpoch() {
        Schedule s = Schedule.cosine(0.1, 8, 0, false);
        int spe = 10;
        for (int e = 0; e < 8; e++) {
            double expected = 0.1 * 0.5 * (1 + Math.cos(Math.PI * e / 8));
            assertEquals(expected, s.lr(e * spe, spe), EPS, "epoch " + e);
            assertEquals(expected, s.lr(e * spe + 9, spe), EPS, "epoch " + e + " last step");
        }
    }

    @Test
    void cosineAfterWarmupStartsAtThePeakAndHasAFloor() {
        Schedule s = new Schedule(Schedule.Kind.COSINE, 0.4, 10, 2, true, 0.01, null, 1);
        int spe = 4, warm = 8, rest = 32;
        assertEquals(0.4 * 3 / warm, s.lr(2, spe), EPS);
        assertEquals(0.4, s.lr(warm, spe), EPS);
        int t = 20;
        assertEquals(0.01 + 0.39 * 0.5 * (1 + Math.cos(Math.PI * (t - warm) / rest)), s.lr(t, spe), EPS);
        assertEquals(0.01, s.lr(1000, spe), EPS); // past the end: the floor
    }

    @Test
    void stepDecayAtMilestones() {
        Schedule s = Schedule.step(0.1, 12, 0, new int[] {4, 9}, 0.2);
        int spe = 3;
        assertEquals(0.1, s.lr(11, spe), EPS);        // epoch 3
        assertEquals(0.1 * 0.2, s.lr(12, spe), EPS);  // epoch 4
        assertEquals(0.1 * 0.2, s.lr(26, spe), EPS);  // epoch 8
        assertEquals(0.1 * 0.04, s.lr(27, spe), EPS); // epoch 9
        Schedule d = Schedule.step(0.1, 100, 0, null, 0.1);
        assertEquals(0.1, d.lr(49, 1), EPS);
        assertEquals(0.01, d.lr(50, 1), EPS);
        assertEquals(0.001, d.lr(75, 1), 1e-15);
    }

    @Test
    void invalidSchedulesAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedule.cosine(0.1, 5, 5, true));
        assertTrue(e.getMessage().contains("warm-up"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedule.step(0.1, 10, 0, new int[] {5, 3}, 0.1));
        assertTrue(e.getMessage().contains("milestones"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedule.constant(-1, 10, 0));
        assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
    }
}
