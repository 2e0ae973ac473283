package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Magnitude-key twins: on awkward sizes and offsets, with ties, signed zeros, subnormals and
 * non-finite values, the SIMD twin's histograms, masks, counts and tie positions equal the
 * spec's exactly, sums within the usual tolerance; the spec against a direct reading.
 */
class AbsKeysTest {
    private static final AbsKeyKernel SCALAR = new AbsKeyScalar();
    private static final AbsKeyKernel SIMD = Twins.loadSimd(AbsKeyKernel.class, "AbsKeySimd");

    private static MemorySegment data(int n, int pattern, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment s = Arena.ofAuto().allocate(Math.max(4, 4L * n), 64);
        for (int i = 0; i < n; i++) {
            float v = switch (pattern) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> (r.nextBoolean() ? -1 : 1) * new float[] {0f, 0.5f, 1f}[r.nextInt(3)];
                case 2 -> (r.nextBoolean() ? -1 : 1) * Float.MIN_VALUE * (1 + r.nextInt(4));
                default -> r.nextInt(20) == 0 ? new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}[r.nextInt(3)]
                        : (float) r.nextGaussian();
            };
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
        }
        return s;
    }

    private static int key(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_INT, i) & 0x7fffffff;
    }

    @Test
    void twinsAgreeOnEveryPass() {
        for (int n : TestData.AWKWARD) {
            for (int pattern = 0; pattern < 4; pattern++) {
                MemorySegment x = data(n + 3, pattern, n * 31L + pattern);
                int from = n % 3, to = from + n;
                int probe = key(x, from + n / 2);
                for (int limit : new int[] {Integer.MAX_VALUE, probe, probe + 1, 0}) {
                    int[] hs = new int[AbsKeys.HIGH_BUCKETS], hv = new int[AbsKeys.HIGH_BUCKETS];
                    boolean bs = SCALAR.countHigh(x, from, to, limit, hs), bv = SIMD.countHigh(x, from, to, limit, hv);
                    assertArrayEquals(hs, hv, "countHigh n=" + n + " pattern " + pattern);
                    assertEquals(bs, bv);
                    long counted = 0;
                    boolean bad = false;
                    for (int i = from; i < to; i++) {
                        if (key(x, i) < limit) counted++;
                        else bad |= key(x, i) >= 0x7f800000;
                    }
                    long sum = 0;
                    for (int c : hs) sum += c;
                    assertEquals(counted, sum, "the spec counts every key below the limit");
                    assertEquals(bad, bs);
                    for (int room : new int[] {0, n / 4, n + 3}) { // a guessed window: overflowing, and with room for all
                        int lo = Math.max(0, probe - (probe >>> 3)), hi = probe + (probe >>> 3) + 1;
                        long[] us = {7}, uv = {7};
                        int[] os = new int[room], ov = new int[room], ss = {0, 0}, sv = {0, 0};
                        SCALAR.countAndCollect(x, from, to, lo, hi, limit, us, os, ss);
                        SIMD.countAndCollect(x, from, to, lo, hi, limit, uv, ov, sv);
                        assertArrayEquals(us, uv, "countAndCollect below n=" + n + " room " + room);
                        assertArrayEquals(ss, sv, "countAndCollect state n=" + n + " room " + room);
                        assertArrayEquals(os, ov, "collected keys n=" + n + " room " + room);
                        long under = 0;
                        int want = 0;
                        boolean nonFinite = false;
                        for (int i = from; i < to; i++) {
                            int kk = key(x, i);
                            nonFinite |= kk >= 0x7f800000;
                            if (kk >= limit && limit != Integer.MAX_VALUE) continue;
                            if (kk < lo) under++;
                            else if (kk < hi) {
                                if (want < room) assertEquals(kk, os[want]);
                                want++;
                            }
                        }
                        assertEquals(7 + under, us[0]);
                        assertEquals(want <= room ? want : -1, ss[0]);
                        assertEquals(nonFinite ? 1 : 0, ss[1]);
                    }
                    int bucket = probe >>> 15;
                    int[] ls = new int[AbsKeys.LOW_BUCKETS], lv = new int[AbsKeys.LOW_BUCKETS];
                    SCALAR.countLow(x, from, to, bucket, limit, ls);
                    SIMD.countLow(x, from, to, bucket, limit, lv);
                    assertArrayEquals(ls, lv, "countLow n=" + n + " pattern " + pattern);
                }
                for (int cut : new int[] {probe, 0, Integer.MAX_VALUE, key(x, from)}) {
                    for (boolean write : new boolean[] {true, false}) {
                        MemorySegment ms = write ? Arena.ofAuto().allocate(4L * (n + 3), 64) : null;
                        MemorySegment mv = write ? Arena.ofAuto().allocate(4L * (n + 3), 64) : null;
                        long[] cs = {5, 0}, cv = {5, 0}; // counts add to what is there
                        long[] ws = new long[12], wv = new long[12];
                        SCALAR.mask(x, ms, from, to, cut, cs, ws, 2, 7);
                        SIMD.mask(x, mv, from, to, cut, cv, wv, 2, 7);
                        assertArrayEquals(cs, cv, "mask counts n=" + n + " cut " + cut);
                        assertArrayEquals(ws, wv, "tie positions n=" + n + " cut " + cut);
                        long below = 0, ties = 0;
                        for (int i = from; i < to; i++) {
                            if (key(x, i) < cut) below++;
                            if (key(x, i) == cut) {
                                if (ties < 7) assertEquals(i, ws[2 + (int) ties]);
                                ties++;
                            }
                            if (write) {
                                assertEquals(key(x, i) < cut ? 0f : 1f, ms.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                                assertEquals(ms.getAtIndex(ValueLayout.JAVA_FLOAT, i), mv.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                            }
                        }
                        assertEquals(5 + below, cs[0]);
                        assertEquals(ties, cs[1]);
                    }
                }
                if (pattern < 3) {
                    double want = 0;
                    for (int i = from; i < to; i++) want += Math.abs(x.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                    assertEquals(want, SCALAR.sumAbs(x, from, to), 1e-9 * Math.max(1, want));
                    assertEquals(want, SIMD.sumAbs(x, from, to), TestData.sumTolerance(n));
                }
            }
        }
    }

    @Test
    void longSumsStayAccurate() {
        int n = 300_007;
        MemorySegment x = data(n, 0, 9);
        double want = SCALAR.sumAbs(x, 0, n);
        assertEquals(want, SIMD.sumAbs(x, 0, n), 1e-7 * want);
        assertEquals(want, AbsKeys.sumAbs(x, 0, n), 1e-7 * want);
    }

    @Test
    void facadeErrorsNameKernelAndOperand() {
        MemorySegment x = data(10, 0, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> AbsKeys.sumAbs(x, 0, 11));
        assertTrue(e.getMessage().contains("sumAbs") && e.getMessage().contains("10 floats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AbsKeys.countHigh(x, 0, 10, 0, new int[10]));
        assertTrue(e.getMessage().contains("65536"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AbsKeys.countLow(x, 0, 10, 70_000, 0, new int[AbsKeys.LOW_BUCKETS]));
        assertTrue(e.getMessage().contains("bucket"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AbsKeys.mask(x, data(5, 0, 2), 0, 10, 0, new long[2], new long[4], 0, 4));
        assertTrue(e.getMessage().contains("mask range"), e.getMessage());
    }
}
