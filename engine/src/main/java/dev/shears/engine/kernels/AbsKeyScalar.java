package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The magnitude-key spec, written plainly in index order (sums in double). The SIMD twin must
 * give the same histograms, masks, counts and tie positions, and sums within tolerance.
 * Pinned by AbsKeysTest.
 */
public final class AbsKeyScalar implements AbsKeyKernel {
    private static final ValueLayout.OfInt BITS = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Override
    public double sumAbs(MemorySegment x, long from, long to) {
        double acc = 0;
        for (long i = from; i < to; i++) acc += Math.abs(x.getAtIndex(F, i));
        return acc;
    }

    @Override
    public boolean countHigh(MemorySegment x, long from, long to, int limit, int[] high) {
        boolean bad = false;
        for (long i = from; i < to; i++) {
            int key = x.getAtIndex(BITS, i) & 0x7fffffff;
            if (key < limit) high[key >>> 15]++;
            else bad |= key >= 0x7f800000;
        }
        return bad;
    }

    @Override
    public void countAndCollect(MemorySegment x, long from, long to, int lo, int hi, int limit, long[] below, int[] out, int[] state) {
        long under = 0;
        int at = state[0];
        for (long i = from; i < to; i++) {
            int key = x.getAtIndex(BITS, i) & 0x7fffffff;
            if (key >= 0x7f800000) state[1] = 1;
            if (key >= limit && limit != Integer.MAX_VALUE) continue;
            if (key < lo) {
                under++;
            } else if (key < hi && at >= 0) {
                if (at < out.length) out[at++] = key;
                else at = -1;
            }
        }
        below[0] += under;
        state[0] = at;
    }

    @Override
    public void countLow(MemorySegment x, long from, long to, int bucket, int limit, int[] low) {
        for (long i = from; i < to; i++) {
            int key = x.getAtIndex(BITS, i) & 0x7fffffff;
            if (key >>> 15 == bucket && key < limit) low[key & 0x7fff]++;
        }
    }

    @Override
    public void mask(MemorySegment x, MemorySegment mask, long from, long to, int cut, long[] counts, long[] where, int whereOffset, int whereCap) {
        long below = 0, ties = counts[1];
        for (long i = from; i < to; i++) {
            int key = x.getAtIndex(BITS, i) & 0x7fffffff;
            if (mask != null) mask.setAtIndex(F, i, key < cut ? 0f : 1f);
            if (key < cut) below++;
            if (key == cut) {
                if (ties < whereCap) where[whereOffset + (int) ties] = i;
                ties++;
            }
        }
        counts[0] += below;
        counts[1] = ties;
    }
}
