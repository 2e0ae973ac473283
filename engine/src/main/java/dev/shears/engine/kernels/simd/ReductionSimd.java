package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.ReductionKernel;
import dev.shears.engine.kernels.ReductionScalar;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of ReductionScalar. Sums accumulate in FLOAT vectors over blocks of {@link #BLOCK}
 * floats, and each block's total is added into a double: every float chain then holds at most
 * BLOCK / (4 lanes) terms, so the error stays near the spec's double result at any length
 * (tests hold it to a tolerance growing with n). Each reduction: guard (short runs go to the
 * scalar tail), bound, body with 4 accumulators (an FP add has ~4 cycles of latency and two
 * ports: four independent chains keep the loop load-bound), vector tail, reduce, scalar tail.
 * max, argmax and rowArgmax equal the spec exactly; columnSumsAdd equals it bit for bit (same
 * per-column order). Pinned by ReductionsTest.
 */
public final class ReductionSimd implements ReductionKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Floats per float-accumulated block (16 KiB, L1-resident). */
    static final int BLOCK = 4096;
    private static final ReductionKernel SCALAR = new ReductionScalar();

    private static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER);
    }

    @Override
    public double sum(MemorySegment x, long xOffset, int n) {
        double total = 0;
        for (int b = 0; b < n; b += BLOCK) total += blockSum(x, xOffset + b, Math.min(BLOCK, n - b));
        return total;
    }

    /** Sum of at most BLOCK floats: float vector chains, one double at the end. */
    private static double blockSum(MemorySegment x, long off, int len) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        int bound4 = len & -(4 * L); // 4L is a power of two
        for (; i < bound4; i += 4 * L) { // body
            a0 = a0.add(load(x, off + i));
            a1 = a1.add(load(x, off + i + L));
            a2 = a2.add(load(x, off + i + 2 * L));
            a3 = a3.add(load(x, off + i + 3 * L));
        }
        int bound = S.loopBound(len);
        for (; i < bound; i += L) a0 = a0.add(load(x, off + i)); // vector tail
        double acc = KernelSpecies.sumLanes(a0.add(a1).add(a2.add(a3))); // reduce
        for (; i < len; i++) acc += x.getAtIndex(F, off + i); // scalar tail
        return acc;
    }

    @Override
    public double sumOfSquares(MemorySegment x, long xOffset, int n) {
        double total = 0;
        for (int b = 0; b < n; b += BLOCK) total += blockCentered(x, xOffset + b, Math.min(BLOCK, n - b), 0f);
        return total;
    }

    /** Sum of (x - m)^2 over at most BLOCK floats. */
    private static double blockCentered(MemorySegment x, long off, int len, float m) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        FloatVector mv = FloatVector.broadcast(S, m);
        int i = 0, bound4 = len & -(4 * L);
        for (; i < bound4; i += 4 * L) {
            FloatVector d0 = load(x, off + i).sub(mv), d1 = load(x, off + i + L).sub(mv);
            FloatVector d2 = load(x, off + i + 2 * L).sub(mv), d3 = load(x, off + i + 3 * L).sub(mv);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        int bound = S.loopBound(len);
        for (; i < bound; i += L) {
            FloatVector d = load(x, off + i).sub(mv);
            a0 = d.fma(d, a0);
        }
        double acc = KernelSpecies.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < len; i++) {
            double d = x.getAtIndex(F, off + i) - m;
            acc += d * d;
        }
        return acc;
    }

    /** Sum of a * (b - m) over at most BLOCK floats. */
    private static double blockCenteredDot(MemorySegment a, long ao, MemorySegment b, long bo, int len, float m) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        FloatVector mv = FloatVector.broadcast(S, m);
        int i = 0, bound4 = len & -(4 * L);
        for (; i < bound4; i += 4 * L) {
            a0 = load(a, ao + i).fma(load(b, bo + i).sub(mv), a0);
            a1 = load(a, ao + i + L).fma(load(b, bo + i + L).sub(mv), a1);
            a2 = load(a, ao + i + 2 * L).fma(load(b, bo + i + 2 * L).sub(mv), a2);
            a3 = load(a, ao + i + 3 * L).fma(load(b, bo + i + 3 * L).sub(mv), a3);
        }
        int bound = S.loopBound(len);
        for (; i < bound; i += L) a0 = load(a, ao + i).fma(load(b, bo + i).sub(mv), a0);
        double acc = KernelSpecies.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < len; i++) acc += (double) a.getAtIndex(F, ao + i) * (b.getAtIndex(F, bo + i) - m);
        return acc;
    }

    @Override
    public float max(MemorySegment x, long xOffset, int n) {
        if (n < 4 * L) return SCALAR.max(x, xOffset, n); // guard
        // lanewise MAX has Math.max semantics (NaN wins, +0.0 beats -0.0), so the order of the
        // comparisons does not change the result and the twins agree exactly
        FloatVector m0 = load(x, xOffset), m1 = m0, m2 = m0, m3 = m0;
        int i = 0, bound4 = n & -(4 * L);
        for (; i < bound4; i += 4 * L) { // body: 4 chains of max
            m0 = m0.max(load(x, xOffset + i));
            m1 = m1.max(load(x, xOffset + i + L));
            m2 = m2.max(load(x, xOffset + i + 2 * L));
            m3 = m3.max(load(x, xOffset + i + 3 * L));
        }
        int bound = S.loopBound(n);
        for (; i < bound; i += L) m0 = m0.max(load(x, xOffset + i)); // vector tail
        float best = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX); // reduce
        for (; i < n; i++) best = Math.max(best, x.getAtIndex(F, xOffset + i)); // scalar tail
        return best;
    }

    @Override
    public int argmax(MemorySegment x, long xOffset, int n) {
        if (n < 4 * L) return SCALAR.argmax(x, xOffset, n);
        float best = max(x, xOffset, n);
        if (Float.isNaN(best)) { // the first NaN wins
            for (int i = 0; i < n; i++) if (Float.isNaN(x.getAtIndex(F, xOffset + i))) return i;
        }
        // second pass: the first lane equal to the maximum (-0.0 == +0.0, as the spec's ">" has it)
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += L) {
            VectorMask<Float> hit = load(x, xOffset + i).compare(VectorOperators.EQ, best);
            if (hit.anyTrue()) return i + hit.firstTrue();
        }
        for (; i < n; i++) if (x.getAtIndex(F, xOffset + i) == best) return i;
        throw new AssertionError("maximum " + best + " not found");
    }

    @Override
    public void rowArgmax(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset) {
        for (int r = 0; r < rows; r++) out.setAtIndex(ValueLayout.JAVA_INT, outOffset + r, argmax(x, xOffset + (long) r * cols, cols));
    }

    @Override
    public void columnSumsAdd(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset) {
        // body: 4 column blocks at once, each its own chain down the rows (4 chains hide the add latency)
        int c = 0, bound4 = cols & -(4 * L);
        for (; c < bound4; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int r = 0; r < rows; r++) {
                long row = xOffset + (long) r * cols + c;
                a0 = a0.add(load(x, row));
                a1 = a1.add(load(x, row + L));
                a2 = a2.add(load(x, row + 2 * L));
                a3 = a3.add(load(x, row + 3 * L));
            }
            addInto(out, outOffset + c, a0);
            addInto(out, outOffset + c + L, a1);
            addInto(out, outOffset + c + 2 * L, a2);
            addInto(out, outOffset + c + 3 * L, a3);
        }
        // vector tail: one block at a time, the last one masked (no reduce: columns stay in lanes)
        for (; c < cols; c += L) {
            VectorMask<Float> m = S.indexInRange(c, cols);
            FloatVector a = FloatVector.zero(S);
            for (int r = 0; r < rows; r++) a = a.add(FloatVector.fromMemorySegment(S, x, (xOffset + (long) r * cols + c) * 4, ORDER, m));
            FloatVector o = FloatVector.fromMemorySegment(S, out, (outOffset + c) * 4, ORDER, m);
            o.add(a).intoMemorySegment(out, (outOffset + c) * 4, ORDER, m);
        }
    }

    private static void addInto(MemorySegment out, long index, FloatVector a) {
        load(out, index).add(a).intoMemorySegment(out, index * 4, ORDER);
    }

    @Override
    public void channelSum(MemorySegment x, long xOffset, int images, long imageStride, int channels, int hw, double[] out, int outOffset) {
        for (int c = 0; c < channels; c++) {
            double acc = 0;
            for (int i = 0; i < images; i++) acc += sum(x, xOffset + i * imageStride + (long) c * hw, hw);
            out[outOffset + c] = acc;
        }
    }

    @Override
    public void channelSumOfSquares(MemorySegment x, long xOffset, int images, long imageStride, int channels, int hw, double[] out, int outOffset) {
        for (int c = 0; c < channels; c++) {
            double acc = 0;
            for (int i = 0; i < images; i++) acc += sumOfSquares(x, xOffset + i * imageStride + (long) c * hw, hw);
            out[outOffset + c] = acc;
        }
    }

    @Override
    public void channelCenteredSumOfSquares(MemorySegment x, long xOffset, int images, long imageStride, int channels, int hw,
                                            double[] mean, double[] out, int outOffset) {
        for (int c = 0; c < channels; c++) {
            float m = (float) mean[outOffset + c];
            double acc = 0;
            for (int i = 0; i < images; i++) {
                long base = xOffset + i * imageStride + (long) c * hw;
                for (int b = 0; b < hw; b += BLOCK) acc += blockCentered(x, base + b, Math.min(BLOCK, hw - b), m);
            }
            out[outOffset + c] = acc;
        }
    }

    @Override
    public void channelCenteredDot(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int images, long imageStride, int channels, int hw,
                                   double[] mean, double[] out, int outOffset) {
        for (int c = 0; c < channels; c++) {
            float m = (float) mean[outOffset + c];
            double acc = 0;
            for (int i = 0; i < images; i++) {
                long ai = aOffset + i * imageStride + (long) c * hw, bi = bOffset + i * imageStride + (long) c * hw;
                for (int k = 0; k < hw; k += BLOCK) acc += blockCenteredDot(a, ai + k, b, bi + k, Math.min(BLOCK, hw - k), m);
            }
            out[outOffset + c] = acc;
        }
    }
}
