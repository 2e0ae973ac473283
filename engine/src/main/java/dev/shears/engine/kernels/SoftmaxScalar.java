package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The softmax spec, written plainly: per row the maximum, then exponentials and their sum in
 * double (Math.exp), outputs rounded to float once. Pinned by SoftmaxTest (against double
 * formulas and finite differences of the loss).
 */
public final class SoftmaxScalar implements SoftmaxKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private static float rowMax(MemorySegment x, long row, int cols) {
        float m = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < cols; k++) m = Math.max(m, x.getAtIndex(F, row + k));
        return m;
    }

    @Override
    public void softmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            long xr = xOffset + (long) r * cols, yr = yOffset + (long) r * cols;
            double m = rowMax(x, xr, cols), sum = 0;
            for (int k = 0; k < cols; k++) sum += Math.exp(x.getAtIndex(F, xr + k) - m);
            // x[k] is read before y[k] is written, so y may alias x
            for (int k = 0; k < cols; k++) y.setAtIndex(F, yr + k, (float) (Math.exp(x.getAtIndex(F, xr + k) - m) / sum));
        }
    }

    @Override
    public void logSoftmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            long xr = xOffset + (long) r * cols, yr = yOffset + (long) r * cols;
            double m = rowMax(x, xr, cols), sum = 0;
            for (int k = 0; k < cols; k++) sum += Math.exp(x.getAtIndex(F, xr + k) - m);
            double lse = m + Math.log(sum);
            for (int k = 0; k < cols; k++) y.setAtIndex(F, yr + k, (float) (x.getAtIndex(F, xr + k) - lse));
        }
    }

    @Override
    public double crossEntropy(MemorySegment logits, long logitsOffset, MemorySegment labels, long labelsOffset, int rows, int cols,
                               float labelSmoothing, MemorySegment dLogits, long dLogitsOffset) {
        double ls = labelSmoothing, total = 0, invRows = 1.0 / rows;
        for (int r = 0; r < rows; r++) {
            long xr = logitsOffset + (long) r * cols;
            int label = labels.getAtIndex(ValueLayout.JAVA_INT, labelsOffset + r);
            double m = rowMax(logits, xr, cols), sum = 0, sumX = 0;
            double xLabel = logits.getAtIndex(F, xr + label);
            for (int k = 0; k < cols; k++) {
                double v = logits.getAtIndex(F, xr + k);
                sumX += v;
                sum += Math.exp(v - m);
            }
            double lse = m + Math.log(sum);
            total += lse - (1 - ls) * xLabel - ls / cols * sumX;
            if (dLogits != null) {
                long dr = dLogitsOffset + (long) r * cols;
                for (int k = 0; k < cols; k++) {
                    double p = Math.exp(logits.getAtIndex(F, xr + k) - lse);
                    double target = (k == label ? 1 - ls : 0) + ls / cols;
                    dLogits.setAtIndex(F, dr + k, (float) ((p - target) * invRows));
                }
            }
        }
        return total * invRows;
    }
}
