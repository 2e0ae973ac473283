package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Batch normalisation over contiguous NCHW floats (images, channels, hw), optionally fused with a
 * following ReLU: the forward statistics, the normalise-affine(-ReLU) pass, the backward's two
 * per-channel reductions and its input-gradient pass. Each method works on the channels
 * {@code [c0, c1)} and indexes the per-channel arrays by absolute channel. The ReLU mask is never
 * stored: where {@code maskScale} is non-null, backward recomputes z = fma(maskScale[c], x,
 * maskShift[c]) exactly as forward did and passes dy only where z > 0 (relu: y = z < 0 ? 0 : z).
 * Implementations: BatchNormScalar (the spec, double sums) and the SIMD twin; callers go through
 * {@link BatchNorm}.
 */
public interface BatchNormKernel {
    /**
     * Per-channel mean and M2 = sum (x - mean)^2 over images and hw, in one read of x: sums of
     * x - K and (x - K)^2 with K the mean of the channel's first plane, so the cancellation in
     * M2 = Q - S^2 / count stays as small as a two-pass variance's.
     */
    void moments(MemorySegment x, int images, int channels, int hw, int c0, int c1, double[] mean, double[] m2);

    /** y = fma(scale[c], x, shift[c]), then (relu) y = y < 0 ? 0 : y; y may be x. */
    void normalize(MemorySegment x, MemorySegment y, int images, int channels, int hw, int c0, int c1, float[] scale, float[] shift, boolean relu);

    /**
     * g = dy, or (maskScale non-null) dy where fma(maskScale[c], x, maskShift[c]) > 0 and 0
     * elsewhere; sumG[c] = sum g, sumGX[c] = sum g (x - mean[c]) with mean[c] rounded to float.
     */
    void backwardSums(MemorySegment dy, MemorySegment x, int images, int channels, int hw, int c0, int c1,
                      float[] maskScale, float[] maskShift, double[] mean, double[] sumG, double[] sumGX);

    /** dx = fma(b[c], x, fma(a[c], g, k[c])) with g as in backwardSums; dx may be dy. */
    void backwardInput(MemorySegment dy, MemorySegment x, MemorySegment dx, int images, int channels, int hw, int c0, int c1,
                       float[] maskScale, float[] maskShift, float[] a, float[] b, float[] k);
}
