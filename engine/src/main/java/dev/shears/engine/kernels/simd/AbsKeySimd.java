package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.AbsKeyKernel;
import dev.shears.engine.kernels.AbsKeyScalar;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of AbsKeyScalar. sumAbs: float vector chains over blocks of {@link #BLOCK} floats,
 * each block's total added into a double (4 accumulators: an FP add has ~4 cycles of latency,
 * four chains keep the loop load-bound). countLow and mask: keys a vector at a time, a compare,
 * and only the rare lanes that hit (the candidate bucket, a tie) go scalar. countHigh is a
 * scatter of increments, which vectors do not speed up: the spec's loop, without its branch when
 * there is no limit. Results equal
 * the spec exactly (sums within tolerance). Pinned by AbsKeysTest.
 */
public final class AbsKeySimd implements AbsKeyKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfInt BITS = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Floats per float-accumulated block (16 KiB). */
    static final int BLOCK = 4096;
    private static final AbsKeyKernel SCALAR = new AbsKeyScalar();
    private static final int ONE_BITS = Float.floatToRawIntBits(1f);

    private static IntVector keys(MemorySegment x, long i) {
        return IntVector.fromMemorySegment(I, x, i * 4, ORDER).and(0x7fffffff);
    }

    @Override
    public double sumAbs(MemorySegment x, long from, long to) {
        double total = 0;
        for (long b = from; b < to; b += BLOCK) total += blockSumAbs(x, b, (int) Math.min(BLOCK, to - b));
        return total;
    }

    private static double blockSumAbs(MemorySegment x, long off, int len) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0, bound4 = len & -(4 * L);
        for (; i < bound4; i += 4 * L) { // body
            a0 = a0.add(FloatVector.fromMemorySegment(S, x, (off + i) * 4, ORDER).abs());
            a1 = a1.add(FloatVector.fromMemorySegment(S, x, (off + i + L) * 4, ORDER).abs());
            a2 = a2.add(FloatVector.fromMemorySegment(S, x, (off + i + 2 * L) * 4, ORDER).abs());
            a3 = a3.add(FloatVector.fromMemorySegment(S, x, (off + i + 3 * L) * 4, ORDER).abs());
        }
        int bound = S.loopBound(len);
        for (; i < bound; i += L) a0 = a0.add(FloatVector.fromMemorySegment(S, x, (off + i) * 4, ORDER).abs()); // vector tail
        double acc = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD); // reduce
        for (; i < len; i++) acc += Math.abs(x.getAtIndex(F, off + i)); // scalar tail
        return acc;
    }

    @Override
    public boolean countHigh(MemorySegment x, long from, long to, int limit, int[] high) {
        if (limit != Integer.MAX_VALUE) return SCALAR.countHigh(x, from, to, limit, high);
        // no limit: every key counts, no branch (non-finite keys land in the top buckets, which the caller checks)
        for (long i = from; i < to; i++) high[(x.getAtIndex(BITS, i) & 0x7fffffff) >>> 15]++;
        return false;
    }

    @Override
    public void countHighCollect(MemorySegment x, long from, long to, int limit, int[] high, int first, int last, int[] out, int[] state) {
        if (limit != Integer.MAX_VALUE || state[0] < 0) {
            SCALAR.countHighCollect(x, from, to, limit, high, first, last, out, state);
            return;
        }
        int at = state[0], width = last - first;
        for (long i = from; i < to; i++) {
            int key = x.getAtIndex(BITS, i) & 0x7fffffff;
            int d = key >>> 15;
            high[d]++;
            if (Integer.compareUnsigned(d - first, width) <= 0) { // rare: the predicted window
                if (at < out.length) {
                    out[at++] = key;
                } else { // full: stop collecting, finish the histogram
                    state[0] = -1;
                    countHigh(x, i + 1, to, limit, high);
                    return;
                }
            }
        }
        state[0] = at;
    }

    @Override
    public void countLow(MemorySegment x, long from, long to, int bucket, int limit, int[] low) {
        long i = from;
        long bound = from + ((to - from) & -(2L * L));
        for (; i < bound; i += 2 * L) { // body: two vectors, one test for "any lane in the bucket"
            VectorMask<Integer> m0 = keys(x, i).lanewise(VectorOperators.LSHR, 15).eq(bucket);
            VectorMask<Integer> m1 = keys(x, i + L).lanewise(VectorOperators.LSHR, 15).eq(bucket);
            if (m0.or(m1).anyTrue()) SCALAR.countLow(x, i, i + 2 * L, bucket, limit, low); // rare: the lanes one by one
        }
        SCALAR.countLow(x, i, to, bucket, limit, low); // tail
    }

    @Override
    public void mask(MemorySegment x, MemorySegment mask, long from, long to, int cut, long[] counts, long[] where, int whereOffset, int whereCap) {
        long below = 0;
        long i = from;
        long bound = from + ((to - from) & -(long) L);
        IntVector one = IntVector.broadcast(I, ONE_BITS), zero = IntVector.zero(I);
        for (; i < bound; i += L) { // body: 0f below the cut, 1f elsewhere (as float bits)
            IntVector k = keys(x, i);
            VectorMask<Integer> lt = k.lt(cut);
            if (mask != null) one.blend(zero, lt).intoMemorySegment(mask, i * 4, ORDER);
            below += lt.trueCount();
            if (k.eq(cut).anyTrue()) { // rare: note the ties in index order
                for (long j = i; j < i + L; j++) {
                    if ((x.getAtIndex(BITS, j) & 0x7fffffff) == cut) {
                        if (counts[1] < whereCap) where[whereOffset + (int) counts[1]] = j;
                        counts[1]++;
                    }
                }
            }
        }
        counts[0] += below;
        SCALAR.mask(x, mask, i, to, cut, counts, where, whereOffset, whereCap); // tail
    }
}
