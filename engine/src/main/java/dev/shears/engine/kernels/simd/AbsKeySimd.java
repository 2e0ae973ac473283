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
 * scatter of increments, which vectors do not speed up: it is the spec's loop. Results equal
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

    private static IntVector keys(MemorySegment block, int i) {
        return IntVector.fromMemorySegment(I, block, (long) i * 4, ORDER).and(0x7fffffff);
    }

    private static FloatVector absAt(MemorySegment block, int i) {
        return FloatVector.fromMemorySegment(S, block, (long) i * 4, ORDER).abs();
    }

    /** Floats [b, b + len) of x as their own segment: int offsets inside keep the vector loops tight. */
    private static MemorySegment block(MemorySegment x, long b, int len) {
        return x.asSlice(b * 4, (long) len * 4);
    }

    @Override
    public double sumAbs(MemorySegment x, long from, long to) {
        double total = 0;
        for (long b = from; b < to; b += BLOCK) total += blockSumAbs(block(x, b, (int) Math.min(BLOCK, to - b)));
        return total;
    }

    private static double blockSumAbs(MemorySegment x) {
        int len = (int) (x.byteSize() / 4);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0, bound4 = len & -(4 * L);
        for (; i < bound4; i += 4 * L) { // body
            a0 = a0.add(absAt(x, i));
            a1 = a1.add(absAt(x, i + L));
            a2 = a2.add(absAt(x, i + 2 * L));
            a3 = a3.add(absAt(x, i + 3 * L));
        }
        int bound = S.loopBound(len);
        for (; i < bound; i += L) a0 = a0.add(absAt(x, i)); // vector tail
        double acc = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD); // reduce
        for (; i < len; i++) acc += Math.abs(x.getAtIndex(F, i)); // scalar tail
        return acc;
    }

    @Override
    public boolean countHigh(MemorySegment x, long from, long to, int limit, int[] high) {
        return SCALAR.countHigh(x, from, to, limit, high);
    }

    @Override
    public void countAndCollect(MemorySegment x, long from, long to, int lo, int hi, int limit, long[] below, int[] out, int[] state) {
        // eligible and under lo: key < under = min(lo, limit); collected: under <= key < top = min(hi, limit)
        // (empty when the limit is under lo). With d = key - under (no overflow: both are non-negative),
        // d >> 31 is -1 exactly for the keys under, and d unsigned below the width marks the window.
        boolean all = limit == Integer.MAX_VALUE;
        int under = all ? lo : Math.min(lo, limit);
        int top = all ? hi : Math.min(hi, limit);
        int width = (int) Math.max(0, (long) top - under); // an empty window when hi <= lo
        IntVector vUnder = IntVector.broadcast(I, under), vWidth = IntVector.broadcast(I, width ^ Integer.MIN_VALUE);
        int at = state[0];
        long count = 0;
        int[] lanes = new int[L];
        for (long b = from; b < to; b += BLOCK) {
            int len = (int) Math.min(BLOCK, to - b);
            MemorySegment k = block(x, b, len);
            IntVector worst = IntVector.zero(I), acc = IntVector.zero(I); // per lane at most BLOCK / L: no overflow
            int i = 0, bound = len & -L;
            for (; i < bound; i += L) { // body
                IntVector v = keys(k, i);
                worst = worst.max(v);
                IntVector d = v.sub(vUnder);
                acc = acc.add(d.lanewise(VectorOperators.ASHR, 31));
                VectorMask<Integer> in = d.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).lt(vWidth);
                if (at >= 0 && in.anyTrue()) { // rare: append the lanes in the window, in lane order
                    long bits = in.toLong();
                    v.intoArray(lanes, 0);
                    do {
                        if (at == out.length) {
                            at = -1;
                            break;
                        }
                        out[at++] = lanes[Long.numberOfTrailingZeros(bits)];
                        bits &= bits - 1;
                    } while (bits != 0);
                }
            }
            count -= acc.reduceLanes(VectorOperators.ADD); // reduce
            if (worst.reduceLanes(VectorOperators.MAX) >= 0x7f800000) state[1] = 1;
            long[] tail = {0};
            int[] tailState = {at, state[1]};
            SCALAR.countAndCollect(k, i, len, lo, hi, limit, tail, out, tailState); // tail
            count += tail[0];
            at = tailState[0];
            state[1] = tailState[1];
        }
        below[0] += count;
        state[0] = at;
    }

    @Override
    public void countLow(MemorySegment x, long from, long to, int bucket, int limit, int[] low) {
        for (long b = from; b < to; b += BLOCK) {
            int len = (int) Math.min(BLOCK, to - b);
            MemorySegment k = block(x, b, len);
            int i = 0, bound = len & -(2 * L);
            for (; i < bound; i += 2 * L) { // body: two vectors, one test for "any lane in the bucket"
                VectorMask<Integer> m0 = keys(k, i).lanewise(VectorOperators.LSHR, 15).eq(bucket);
                VectorMask<Integer> m1 = keys(k, i + L).lanewise(VectorOperators.LSHR, 15).eq(bucket);
                if (m0.or(m1).anyTrue()) SCALAR.countLow(k, i, i + 2 * L, bucket, limit, low); // rare: lane by lane
            }
            SCALAR.countLow(k, i, len, bucket, limit, low); // tail
        }
    }

    @Override
    public void mask(MemorySegment x, MemorySegment mask, long from, long to, int cut, long[] counts, long[] where, int whereOffset, int whereCap) {
        IntVector one = IntVector.broadcast(I, ONE_BITS), zero = IntVector.zero(I);
        for (long b = from; b < to; b += BLOCK) {
            int len = (int) Math.min(BLOCK, to - b);
            MemorySegment k = block(x, b, len), m = mask == null ? null : block(mask, b, len);
            long below = 0;
            int i = 0, bound = len & -L;
            for (; i < bound; i += L) { // body: 0f below the cut, 1f elsewhere (as float bits)
                IntVector v = keys(k, i);
                VectorMask<Integer> lt = v.lt(cut);
                if (m != null) one.blend(zero, lt).intoMemorySegment(m, (long) i * 4, ORDER);
                below += lt.trueCount();
                if (v.eq(cut).anyTrue()) { // rare: note the ties in index order
                    for (int j = i; j < i + L; j++) {
                        if ((k.getAtIndex(BITS, j) & 0x7fffffff) == cut) {
                            if (counts[1] < whereCap) where[whereOffset + (int) counts[1]] = b + j;
                            counts[1]++;
                        }
                    }
                }
            }
            counts[0] += below;
            SCALAR.mask(x, mask, b + i, b + len, cut, counts, where, whereOffset, whereCap); // tail
        }
    }
}
