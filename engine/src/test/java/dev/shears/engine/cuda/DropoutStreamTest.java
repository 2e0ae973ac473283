package dev.shears.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * dropout.cu computes each mask value on its own thread; that is only nn's Dropout mask if
 * SplittableRandom's k-th nextDouble() is mix64(start + (k+1)*GOLDEN_GAMMA), as the formula
 * (DropoutStream) says. Checked here against the JDK's SplittableRandom, across block boundaries.
 */
class DropoutStreamTest {
    @Test
    void theCounterFormulaIsSplittableRandomsStream() {
        long[] seeds = {0, 1, 42, -7, Long.MAX_VALUE};
        for (long seed : seeds) {
            for (long call : new long[] {0, 1, 17}) {
                for (int block : new int[] {0, 1, 5}) {
                    long base = (long) block * DropoutStream.BLOCK;
                    SplittableRandom walk = new SplittableRandom(seed * DropoutStream.GOLDEN_GAMMA + call * DropoutStream.CALL_MIX + block);
                    for (int k = 0; k < DropoutStream.BLOCK; k++) {
                        double want = walk.nextDouble();
                        if (k < 64 || k % 1021 == 0 || k == DropoutStream.BLOCK - 1) {
                            assertEquals(want, DropoutStream.uniform(seed, call, base + k), "seed " + seed + " call " + call + " block " + block + " value " + k);
                        }
                    }
                }
            }
        }
    }

    @Test
    void theMaskKeepsAndScalesLikeNnsDropout() {
        double p = 0.3;
        int kept = 0, n = 50_000;
        for (int i = 0; i < n; i++) {
            float m = DropoutStream.mask(9, 2, i, p);
            if (m != 0f) {
                assertEquals((float) (1.0 / 0.7), m);
                kept++;
            }
        }
        assertEquals(0.7, kept / (double) n, 0.01, "kept fraction");
    }
}
