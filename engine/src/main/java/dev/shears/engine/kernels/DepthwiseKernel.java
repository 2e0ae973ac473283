package dev.shears.engine.kernels;

/**
 * Depthwise convolution of one channel plane, the twin family behind {@link Conv}'s depthwise
 * path. Planes are heap arrays in "wide" rows: {@code in} and {@code din} are the input with a
 * zero border, (h+2p) rows of {@code wp = w+2p}; {@code out} and {@code dy} are (oh, ow) stored
 * with row stride wp (columns ow..wp-1 of dy, and every float past its last row, are zero).
 * Every array holds {@link #SLACK} floats past its rows, zero where it is read, so a twin may
 * run one contiguous vector loop over a whole plane and discard the extra columns.
 * forward: out = bias + sum over taps of tap * the tap's (strided) window of in.
 * weightGradient: sums[t] += sum over pixels of dy * the tap's window (a dot product per tap).
 * inputGradient: din += tap * dy scattered onto each tap's window (the caller zeroes din).
 * Implementations: DepthwiseScalar (the spec) and the SIMD twin. Pinned by ConvTest.
 */
public interface DepthwiseKernel {
    /** Floats each plane array holds past its last row. */
    int SLACK = 64;

    void forward(float[] in, int wp, float[] taps, int k, int stride, float bias, float[] out, int oh, int ow);

    void weightGradient(float[] in, int wp, float[] dy, int k, int stride, int oh, int ow, double[] sums);

    void inputGradient(float[] dy, float[] taps, int k, int stride, int oh, int ow, float[] din, int wp);
}
