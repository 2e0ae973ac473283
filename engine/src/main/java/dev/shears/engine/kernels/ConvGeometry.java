package dev.shears.engine.kernels;

/**
 * The geometry of one 2-D convolution over an NCHW image, as im2col and col2im see it: input
 * (channels, height, width), a kernelH x kernelW window, stride, zero padding, dilation 1. Not a
 * layer: it holds no weights. Groups are the caller's business (pass the group's channel count
 * and slice offsets). Pinned by Im2colTest.
 */
public record ConvGeometry(int channels, int height, int width, int kernelH, int kernelW,
                           int strideH, int strideW, int padH, int padW) {
    public ConvGeometry {
        if (channels < 1 || height < 1 || width < 1 || kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("conv geometry needs positive channels, sizes, kernel and stride and non-negative padding, got " + describe(
                    channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW));
        }
        if (height + 2L * padH < kernelH || width + 2L * padW < kernelW) {
            throw new IllegalArgumentException("conv geometry has no output pixels: " + describe(
                    channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW));
        }
        if ((long) channels * kernelH * kernelW > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv geometry patch too large: " + describe(
                    channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW));
        }
    }

    /** A square kernel with the same stride and padding on both axes. */
    public static ConvGeometry square(int channels, int height, int width, int kernel, int stride, int pad) {
        return new ConvGeometry(channels, height, width, kernel, kernel, stride, stride, pad, pad);
    }

    /** Output rows: {@code (H + 2 padH - kH) / strideH + 1}. */
    public int outH() {
        return (height + 2 * padH - kernelH) / strideH + 1;
    }

    /** Output columns: {@code (W + 2 padW - kW) / strideW + 1}. */
    public int outW() {
        return (width + 2 * padW - kernelW) / strideW + 1;
    }

    /** Output pixels of one image: the column count of its im2col matrix. */
    public long pixels() {
        return (long) outH() * outW();
    }

    /** {@code C * kH * kW}: the row count of the im2col matrix (and the weight row length). */
    public int patch() {
        return channels * kernelH * kernelW;
    }

    /** {@code C * H * W}: floats of one input image. */
    public long imageSize() {
        return (long) channels * height * width;
    }

    /** The same window over a different channel count (a group, or a chunk of channels). */
    public ConvGeometry withChannels(int c) {
        return new ConvGeometry(c, height, width, kernelH, kernelW, strideH, strideW, padH, padW);
    }

    @Override
    public String toString() {
        return describe(channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW);
    }

    private static String describe(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
        return "input (" + c + ", " + h + ", " + w + ") kernel " + kh + "x" + kw + " stride " + sh + (sh == sw ? "" : "x" + sw)
                + " pad " + ph + (ph == pw ? "" : "x" + pw);
    }
}
