package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The plain spec of {@link BatchNormKernel}: one element at a time, sums in double. The SIMD
 * twin must match normalize and backwardInput bit for bit (the same fma) and the sums within a
 * tolerance growing with their length. Not tuned. Pinned by BatchNormTest.
 */
public final class BatchNormScalar implements BatchNormKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private static long plane(int image, int channels, int c, int hw) {
        return ((long) image * channels + c) * hw;
    }

    @Override
    public void moments(MemorySegment x, int images, int channels, int hw, int c0, int c1, double[] mean, double[] m2) {
        for (int c = c0; c < c1; c++) {
            double first = 0;
            for (int j = 0; j < hw; j++) first += x.getAtIndex(F, plane(0, channels, c, hw) + j);
            float shift = hw == 0 ? 0f : (float) (first / hw); // K
            double s = 0, q = 0;
            for (int i = 0; i < images; i++) {
                long at = plane(i, channels, c, hw);
                for (int j = 0; j < hw; j++) {
                    double d = x.getAtIndex(F, at + j) - shift;
                    s += d;
                    q += d * d;
                }
            }
            long count = (long) images * hw;
            mean[c] = count == 0 ? 0 : shift + s / count;
            m2[c] = count == 0 ? 0 : Math.max(0, q - s * s / count);
        }
    }

    @Override
    public void normalize(MemorySegment x, MemorySegment y, int images, int channels, int hw, int c0, int c1, float[] scale, float[] shift, boolean relu) {
        for (int i = 0; i < images; i++) {
            for (int c = c0; c < c1; c++) {
                long at = plane(i, channels, c, hw);
                for (int j = 0; j < hw; j++) {
                    float z = Math.fma(scale[c], x.getAtIndex(F, at + j), shift[c]);
                    y.setAtIndex(F, at + j, relu && z < 0f ? 0f : z);
                }
            }
        }
    }

    @Override
    public void backwardSums(MemorySegment dy, MemorySegment x, int images, int channels, int hw, int c0, int c1,
                             float[] maskScale, float[] maskShift, double[] mean, double[] sumG, double[] sumGX) {
        for (int c = c0; c < c1; c++) {
            float m = (float) mean[c];
            double s = 0, t = 0;
            for (int i = 0; i < images; i++) {
                long at = plane(i, channels, c, hw);
                for (int j = 0; j < hw; j++) {
                    float v = x.getAtIndex(F, at + j);
                    float g = gradient(dy.getAtIndex(F, at + j), v, maskScale, maskShift, c);
                    s += g;
                    t += (double) g * (v - m);
                }
            }
            sumG[c] = s;
            sumGX[c] = t;
        }
    }

    @Override
    public void backwardInput(MemorySegment dy, MemorySegment x, MemorySegment dx, int images, int channels, int hw, int c0, int c1,
                              float[] maskScale, float[] maskShift, float[] a, float[] b, float[] k) {
        for (int i = 0; i < images; i++) {
            for (int c = c0; c < c1; c++) {
                long at = plane(i, channels, c, hw);
                for (int j = 0; j < hw; j++) {
                    float v = x.getAtIndex(F, at + j);
                    float g = gradient(dy.getAtIndex(F, at + j), v, maskScale, maskShift, c);
                    dx.setAtIndex(F, at + j, Math.fma(b[c], v, Math.fma(a[c], g, k[c])));
                }
            }
        }
    }

    /** dy, or (fused ReLU) dy where the forward's pre-activation was positive, else 0. */
    private static float gradient(float dy, float x, float[] maskScale, float[] maskShift, int c) {
        if (maskScale == null) return dy;
        return Math.fma(maskScale[c], x, maskShift[c]) > 0f ? dy : 0f;
    }
}
