package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The magnitude-key facade: checks ranges and histogram sizes (errors name the kernel and
 * operand), then runs the selected twin on the caller's thread; callers split work themselves
 * (the pruning passes run one piece per pool thread). Semantics in {@link AbsKeyKernel}.
 * Pinned by AbsKeysTest.
 */
public final class AbsKeys {
    private static final AbsKeyKernel KERNEL = Twins.pick(AbsKeyKernel.class, "AbsKeySimd", AbsKeyScalar::new);
    public static final int HIGH_BUCKETS = 1 << 16;
    public static final int LOW_BUCKETS = 1 << 15;

    private AbsKeys() {}

    public static double sumAbs(MemorySegment x, long from, long to) {
        range("sumAbs", "x", x, from, to);
        return KERNEL.sumAbs(x, from, to);
    }

    public static boolean countHigh(MemorySegment x, long from, long to, int limit, int[] high) {
        range("countHigh", "x", x, from, to);
        if (high.length != HIGH_BUCKETS) throw new IllegalArgumentException("countHigh: histogram has " + high.length + " buckets, expected " + HIGH_BUCKETS);
        return KERNEL.countHigh(x, from, to, limit, high);
    }

    public static void countAndCollect(MemorySegment x, long from, long to, int lo, int hi, int limit, long[] below,
                                       int[] out, int[] state) {
        range("countAndCollect", "x", x, from, to);
        if (below.length < 1 || state.length < 2 || state[0] < -1 || state[0] > out.length) {
            throw new IllegalArgumentException("countAndCollect: below needs 1 entry and state {next free index of out, or -1; flag}, got "
                    + below.length + " and " + java.util.Arrays.toString(state));
        }
        KERNEL.countAndCollect(x, from, to, lo, hi, limit, below, out, state);
    }

    public static void countLow(MemorySegment x, long from, long to, int bucket, int limit, int[] low) {
        range("countLow", "x", x, from, to);
        if (low.length != LOW_BUCKETS) throw new IllegalArgumentException("countLow: histogram has " + low.length + " buckets, expected " + LOW_BUCKETS);
        if (bucket < 0 || bucket >= HIGH_BUCKETS) throw new IllegalArgumentException("countLow: bucket " + bucket + " outside [0, 65536)");
        KERNEL.countLow(x, from, to, bucket, limit, low);
    }

    public static void mask(MemorySegment x, MemorySegment mask, long from, long to, int cut, long[] counts,
                            long[] where, int whereOffset, int whereCap) {
        range("mask", "x", x, from, to);
        if (mask != null) range("mask", "mask", mask, from, to);
        if (counts.length < 2) throw new IllegalArgumentException("mask: counts needs 2 entries (below, ties), has " + counts.length);
        if (whereCap < 0 || whereOffset < 0 || (long) whereOffset + whereCap > where.length) {
            throw new IllegalArgumentException("mask: tie positions [" + whereOffset + ", +" + whereCap + ") outside an array of " + where.length);
        }
        KERNEL.mask(x, mask, from, to, cut, counts, where, whereOffset, whereCap);
    }

    private static void range(String kernel, String operand, MemorySegment s, long from, long to) {
        if (from < 0 || to < from || to * Float.BYTES > s.byteSize()) {
            throw new IllegalArgumentException(kernel + ": " + operand + " range [" + from + ", " + to + ") outside a segment of "
                    + s.byteSize() / Float.BYTES + " floats");
        }
    }
}
