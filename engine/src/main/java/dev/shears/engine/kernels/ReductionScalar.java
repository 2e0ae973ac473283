package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The reduction spec, written plainly: index order, double accumulators for sums (so it is also
 * the accuracy reference the SIMD twin is held to). Pinned by ReductionsTest.
 */
public final class ReductionScalar implements ReductionKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public double sum(MemorySegment x, long xOffset, int n) {
        double acc = 0;
        for (int i = 0; i < n; i++) acc += x.getAtIndex(F, xOffset + i);
        return acc;
    }

    @Override
    public double sumOfSquares(MemorySegment x, long xOffset, int n) {
        double acc = 0;
        for (int i = 0; i < n; i++) {
            double v = x.getAtIndex(F, xOffset + i);
            acc += v * v;
        }
        return acc;
    }

    @Override
    public float max(MemorySegment x, long xOffset, int n) {
        float best = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) best = Math.max(best, x.getAtIndex(F, xOffset + i));
        return best;
    }

    @Override
    public int argmax(MemorySegment x, long xOffset, int n) {
        int best = 0;
        float bestValue = x.getAtIndex(F, xOffset);
        for (int i = 0; i < n; i++) {
            float v = x.getAtIndex(F, xOffset + i);
            if (Float.isNaN(v)) return i;
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return best;
    }

    @Override
    public void rowArgmax(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset) {
        for (int r = 0; r < rows; r++) out.setAtIndex(ValueLayout.JAVA_INT, outOffset + r, argmax(x, xOffset + (long) r * cols, cols));
    }

    @Override
    public void columnSumsAdd(MemorySegment x, long xOffset, int rows, int cols, MemorySegment out, long outOffset) {
        for (int c = 0; c < cols; c++) {
            float acc = 0f;
            for (int r = 0; r < rows; r++) acc += x.getAtIndex(F, xOffset + (long) r * cols + c);
            out.setAtIndex(F, outOffset + c, out.getAtIndex(F, outOffset + c) + acc);
        }
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
            double m = mean[outOffset + c], acc = 0;
            for (int i = 0; i < images; i++) {
                long base = xOffset + i * imageStride + (long) c * hw;
                for (int p = 0; p < hw; p++) {
                    double d = x.getAtIndex(F, base + p) - m;
                    acc += d * d;
                }
            }
            out[outOffset + c] = acc;
        }
    }

    @Override
    public void channelCenteredDot(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int images, long imageStride, int channels, int hw,
                                   double[] mean, double[] out, int outOffset) {
        for (int c = 0; c < channels; c++) {
            double m = mean[outOffset + c], acc = 0;
            for (int i = 0; i < images; i++) {
                long ai = aOffset + i * imageStride + (long) c * hw, bi = bOffset + i * imageStride + (long) c * hw;
                for (int p = 0; p < hw; p++) acc += (double) a.getAtIndex(F, ai + p) * (b.getAtIndex(F, bi + p) - m);
            }
            out[outOffset + c] = acc;
        }
    }
}
