package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.SoftmaxKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of SoftmaxScalar. Per row: a max pass, an exp-and-sum pass (exponentials stored in
 * the output), a scaling pass. Exponentials go through KernelSpecies.exp (StrictMath per lane:
 * the same bits in every JIT tier, which lanewise(EXP) is not; within 1 ulp of the spec's Math.exp
 * before narrowing to float), so results are reproducible but not bit-identical to the spec; sums
 * accumulate in float lanes (rows are short: 10 to 1000 classes) and finish in double. Anatomy of
 * each pass: guard (a row shorter than a vector is handled by the masked tail alone), bound, body
 * with one accumulator (rows are short and EXP dominates the cost, so more chains buy nothing),
 * masked vector tail, reduce; no scalar tail. Pinned by SoftmaxTest.
 */
public final class SoftmaxSimd implements SoftmaxKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER);
    }

    private static FloatVector load(MemorySegment s, long index, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER, m);
    }

    private static float rowMax(MemorySegment x, long row, int cols) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int bound = S.loopBound(cols), k = 0;
        for (; k < bound; k += L) acc = acc.max(load(x, row + k)); // body
        if (k < cols) { // tail: masked-off lanes read as -Infinity
            VectorMask<Float> m = S.indexInRange(k, cols);
            acc = acc.max(FloatVector.broadcast(S, Float.NEGATIVE_INFINITY).blend(load(x, row + k, m), m));
        }
        return acc.reduceLanes(VectorOperators.MAX); // reduce
    }

    /** Stores exp(x - max) into y (when y is not null) and returns the sum of the exponentials. */
    private static double expSum(MemorySegment x, long xr, MemorySegment y, long yr, int cols, float max) {
        FloatVector acc = FloatVector.zero(S);
        int bound = S.loopBound(cols), k = 0;
        for (; k < bound; k += L) {
            FloatVector e = KernelSpecies.exp(load(x, xr + k).sub(max));
            if (y != null) e.intoMemorySegment(y, (yr + k) * 4, ORDER);
            acc = acc.add(e);
        }
        if (k < cols) {
            VectorMask<Float> m = S.indexInRange(k, cols);
            FloatVector e = KernelSpecies.exp(load(x, xr + k, m).sub(max));
            if (y != null) e.intoMemorySegment(y, (yr + k) * 4, ORDER, m);
            acc = acc.add(e, m);
        }
        return KernelSpecies.sumLanes(acc);
    }

    /** {@code y = y * a + b} over one row. */
    private static void affine(MemorySegment y, long yr, int cols, float a, float b) {
        int bound = S.loopBound(cols), k = 0;
        for (; k < bound; k += L) load(y, yr + k).mul(a).add(b).intoMemorySegment(y, (yr + k) * 4, ORDER);
        if (k < cols) {
            VectorMask<Float> m = S.indexInRange(k, cols);
            load(y, yr + k, m).mul(a).add(b).intoMemorySegment(y, (yr + k) * 4, ORDER, m);
        }
    }

    @Override
    public void softmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            long xr = xOffset + (long) r * cols, yr = yOffset + (long) r * cols;
            float max = rowMax(x, xr, cols);
            double sum = expSum(x, xr, y, yr, cols, max);
            affine(y, yr, cols, (float) (1 / sum), 0f);
        }
    }

    @Override
    public void logSoftmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            long xr = xOffset + (long) r * cols, yr = yOffset + (long) r * cols;
            float max = rowMax(x, xr, cols);
            float lse = (float) (max + Math.log(expSum(x, xr, null, 0, cols, max)));
            int bound = S.loopBound(cols), k = 0;
            for (; k < bound; k += L) load(x, xr + k).sub(lse).intoMemorySegment(y, (yr + k) * 4, ORDER);
            if (k < cols) {
                VectorMask<Float> m = S.indexInRange(k, cols);
                load(x, xr + k, m).sub(lse).intoMemorySegment(y, (yr + k) * 4, ORDER, m);
            }
        }
    }

    private static double rowSum(MemorySegment x, long row, int cols) {
        FloatVector acc = FloatVector.zero(S);
        int bound = S.loopBound(cols), k = 0;
        for (; k < bound; k += L) acc = acc.add(load(x, row + k));
        if (k < cols) {
            VectorMask<Float> m = S.indexInRange(k, cols);
            acc = acc.add(load(x, row + k, m), m);
        }
        return KernelSpecies.sumLanes(acc);
    }

    @Override
    public double crossEntropy(MemorySegment logits, long logitsOffset, MemorySegment labels, long labelsOffset, int rows, int cols,
                               float labelSmoothing, MemorySegment dLogits, long dLogitsOffset) {
        double ls = labelSmoothing, total = 0, invRows = 1.0 / rows;
        float offTarget = (float) (ls / cols * invRows);
        for (int r = 0; r < rows; r++) {
            long xr = logitsOffset + (long) r * cols, dr = dLogitsOffset + (long) r * cols;
            int label = labels.getAtIndex(ValueLayout.JAVA_INT, labelsOffset + r);
            double xLabel = logits.getAtIndex(F, xr + label); // read before dLogits (which may alias) is written
            float max = rowMax(logits, xr, cols);
            double sumX = ls == 0 ? 0 : rowSum(logits, xr, cols);
            double sum = expSum(logits, xr, dLogits, dr, cols, max);
            total += max + Math.log(sum) - (1 - ls) * xLabel - ls / cols * sumX;
            if (dLogits != null) {
                affine(dLogits, dr, cols, (float) (invRows / sum), -offTarget); // softmax / N - ls / (K N)
                dLogits.setAtIndex(F, dr + label, dLogits.getAtIndex(F, dr + label) - (float) ((1 - ls) * invRows));
            }
        }
        return total * invRows;
    }
}
