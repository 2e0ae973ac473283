package dev.shears.engine.kernels;

/**
 * The shape of one 2-D convolution over NCHW images, batch left out: input (in, height, width),
 * out channels, a square kernel, stride, zero padding, groups, dilation 1. A value, not a layer:
 * no weights. Derived sizes (output, patch, kind of convolution) live here so every kernel and
 * the layer agree on them. Pinned by ConvTest and GradientCheckTest.
 */
public record ConvShape(int in, int height, int width, int out, int kernel, int stride, int pad, int groups) {
    public ConvShape {
        if (in < 1 || height < 1 || width < 1 || out < 1 || kernel < 1 || stride < 1 || pad < 0 || groups < 1) {
            throw new IllegalArgumentException("conv shape needs positive sizes, kernel, stride and groups and non-negative padding, got " + describe(
                    in, height, width, out, kernel, stride, pad, groups));
        }
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("conv shape: groups=" + groups + " must divide in channels " + in + " and out channels " + out);
        }
        if (height + 2L * pad < kernel || width + 2L * pad < kernel) {
            throw new IllegalArgumentException("conv shape has no output pixels: " + describe(in, height, width, out, kernel, stride, pad, groups));
        }
    }

    public int outH() { return (height + 2 * pad - kernel) / stride + 1; }
    public int outW() { return (width + 2 * pad - kernel) / stride + 1; }
    /** Output pixels of one image. */
    public int pixels() { return outH() * outW(); }
    /** Input channels of one group. */
    public int groupIn() { return in / groups; }
    /** Output channels of one group. */
    public int groupOut() { return out / groups; }
    /** {@code in/groups * k * k}: one output channel's weights, the rows of one group's columns. */
    public int patch() { return groupIn() * kernel * kernel; }
    /** Floats of one input image {@code (in, H, W)}. */
    public long inputSize() { return (long) in * height * width; }
    /** Floats of one output image {@code (out, OH, OW)}. */
    public long outputSize() { return (long) out * pixels(); }
    /** Floats of the weight {@code (out, in/groups, k, k)}. */
    public long weightSize() { return (long) out * patch(); }
    /** One k x k filter per channel (groups == in == out > 1): a direct kernel, no GEMM. */
    public boolean depthwise() { return groups == in && groups == out && groups > 1; }
    /** 1x1, stride 1, no padding: the input already is its column matrix. */
    public boolean pointwise() { return kernel == 1 && stride == 1 && pad == 0; }
    /** The im2col geometry of the whole input (all channels). */
    public ConvGeometry geometry() { return ConvGeometry.square(in, height, width, kernel, stride, pad); }

    @Override
    public String toString() { return describe(in, height, width, out, kernel, stride, pad, groups); }

    private static String describe(int in, int h, int w, int out, int k, int s, int p, int g) {
        return "input (" + in + ", " + h + ", " + w + ") -> " + out + " channels, kernel " + k + " stride " + s + " pad " + p + " groups " + g;
    }
}
