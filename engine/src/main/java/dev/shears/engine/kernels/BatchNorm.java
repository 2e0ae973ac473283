package dev.shears.engine.kernels;

import dev.shears.engine.Parallel;
import java.lang.foreign.MemorySegment;

/**
 * The batch-norm facade (forward statistics, normalise-affine with an optional fused ReLU, and
 * the backward's reductions and input gradient over contiguous NCHW floats): checks operands and
 * per-channel arrays (errors name the kernel, the operand and the shape), then runs the selected
 * twin with channels split over the pool (each channel is reduced by one thread in one order, so
 * a run is reproducible at any thread count). Semantics in {@link BatchNormKernel}; the layers
 * BatchNorm2d (and its fused ReLU) call it. Pinned by BatchNormTest.
 */
public final class BatchNorm {
    private static final BatchNormKernel KERNEL = Twins.pick(BatchNormKernel.class, "BatchNormSimd", BatchNormScalar::new);

    /** Planes smaller than this run the training forward pass by pass (see trainingForward). */
    static final int BY_CHANNEL_MIN_HW = 256;

    private BatchNorm() {}

    /** mean[c] and m2[c] = sum of (x[:, c] - mean[c])^2 for x (images, channels, hw), one read of x. */
    public static void moments(MemorySegment x, int images, int channels, int hw, double[] mean, double[] m2) {
        check("moments", images, channels, hw, new Object[] {"x", x, "y", x}, mean, m2);
        split(images, channels, hw, (c0, c1) -> KERNEL.moments(x, images, channels, hw, c0, c1, mean, m2));
    }

    /** y = scale[c] x + shift[c] (one fma), then max(y, 0) when {@code relu}; y may be x. */
    public static void normalize(MemorySegment x, MemorySegment y, int images, int channels, int hw, float[] scale, float[] shift, boolean relu) {
        check("normalize", images, channels, hw, new Object[] {"x", x, "y", y}, scale, shift);
        split(images, channels, hw, (c0, c1) -> KERNEL.normalize(x, y, images, channels, hw, c0, c1, scale, shift, relu));
    }

    /**
     * sumG[c] = sum g and sumGX[c] = sum g (x - mean[c]), g = dy, or with a fused ReLU (maskScale,
     * maskShift: the forward's scale and shift) dy where the forward's pre-activation was positive.
     */
    public static void backwardSums(MemorySegment dy, MemorySegment x, int images, int channels, int hw, float[] maskScale, float[] maskShift,
                                    double[] mean, double[] sumG, double[] sumGX) {
        check("backwardSums", images, channels, hw, new Object[] {"dy", dy, "x", x}, mean, sumG, sumGX);
        mask("backwardSums", channels, maskScale, maskShift);
        split(images, channels, hw, (c0, c1) -> KERNEL.backwardSums(dy, x, images, channels, hw, c0, c1, maskScale, maskShift, mean, sumG, sumGX));
    }

    /** dx = b[c] x + (a[c] g + k[c]) (two fmas), g as in {@link #backwardSums}; dx may be dy. */
    public static void backwardInput(MemorySegment dy, MemorySegment x, MemorySegment dx, int images, int channels, int hw,
                                     float[] maskScale, float[] maskShift, float[] a, float[] b, float[] k) {
        check("backwardInput", images, channels, hw, new Object[] {"dy", dy, "x", x, "dx", dx}, a, b, k);
        mask("backwardInput", channels, maskScale, maskShift);
        split(images, channels, hw, (c0, c1) -> KERNEL.backwardInput(dy, x, dx, images, channels, hw, c0, c1, maskScale, maskShift, a, b, k));
    }

    /** Work between the two passes over channel c (the layer turns c's sums into c's coefficients); called once per channel, from the thread that owns c. */
    public interface ChannelStep {
        void run(int c);
    }

    /**
     * Training forward channel by channel, so the second read of a channel comes from cache
     * (a channel of ResNet-32's stage 1 at batch 128 is 512 KiB): {@link #moments} of c into
     * mean[c], m2[c]; then {@code coefficients.run(c)}, which must set scale[c] and shift[c];
     * then {@link #normalize} of c. Planes under {@link #BY_CHANNEL_MIN_HW} floats run all
     * statistics, then every step, then the normalise (same results).
     */
    public static void trainingForward(MemorySegment x, MemorySegment y, int images, int channels, int hw, double[] mean, double[] m2,
                                       ChannelStep coefficients, float[] scale, float[] shift, boolean relu) {
        check("trainingForward", images, channels, hw, new Object[] {"x", x, "y", y}, mean, m2, scale, shift);
        if (hw < BY_CHANNEL_MIN_HW) { // small planes: a channel is a strided walk of short runs, the in-order sweep wins (BatchNormCpuTime: 0.91x at 8x8)
            split(images, channels, hw, (c0, c1) -> {
                KERNEL.moments(x, images, channels, hw, c0, c1, mean, m2);
                for (int c = c0; c < c1; c++) coefficients.run(c);
            });
            split(images, channels, hw, (c0, c1) -> KERNEL.normalize(x, y, images, channels, hw, c0, c1, scale, shift, relu));
            return;
        }
        split(images, channels, hw, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                KERNEL.moments(x, images, channels, hw, c, c + 1, mean, m2);
                coefficients.run(c);
                KERNEL.normalize(x, y, images, channels, hw, c, c + 1, scale, shift, relu);
            }
        });
    }

    /**
     * Backward channel by channel (the dx pass re-reads c's x and dy from cache):
     * {@link #backwardSums} of c; then {@code coefficients.run(c)}, which must set a[c], b[c],
     * k[c]; then {@link #backwardInput} of c. dx may be dy.
     */
    public static void backward(MemorySegment dy, MemorySegment x, MemorySegment dx, int images, int channels, int hw, float[] maskScale,
                                float[] maskShift, double[] mean, double[] sumG, double[] sumGX, ChannelStep coefficients, float[] a, float[] b, float[] k) {
        check("backward", images, channels, hw, new Object[] {"dy", dy, "x", x, "dx", dx}, mean, sumG, sumGX, a, b, k);
        mask("backward", channels, maskScale, maskShift);
        split(images, channels, hw, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                KERNEL.backwardSums(dy, x, images, channels, hw, c, c + 1, maskScale, maskShift, mean, sumG, sumGX);
                coefficients.run(c);
                KERNEL.backwardInput(dy, x, dx, images, channels, hw, c, c + 1, maskScale, maskShift, a, b, k);
            }
        });
    }

    private interface ChannelRange {
        void run(int c0, int c1);
    }

    private static void split(int images, int channels, int hw, ChannelRange body) {
        if (channels == 0) return;
        if ((long) images * channels * hw < 2L * Split.GRAIN || channels == 1) {
            body.run(0, channels);
        } else {
            Parallel.forRange(channels, 1, body::run);
        }
    }

    private static void check(String kernel, int images, int channels, int hw, Object[] operands, Object... perChannel) {
        long n = (long) images * channels * hw;
        boolean ok = images >= 0 && channels >= 0 && hw >= 0;
        for (int i = 0; ok && i < operands.length; i += 2) ok = KernelChecks.fits((MemorySegment) operands[i + 1], 0, n);
        for (Object a : perChannel) ok &= length(a) >= channels;
        if (ok) return; // no message strings on the hot path
        String shape = "(" + images + ", " + channels + ", " + hw + ")";
        if (images < 0 || channels < 0 || hw < 0) throw new IllegalArgumentException("BatchNorm." + kernel + ": negative shape " + shape);
        for (int i = 0; i < operands.length; i += 2) KernelChecks.floats("BatchNorm." + kernel, (String) operands[i], shape, (MemorySegment) operands[i + 1], 0, n);
        for (Object a : perChannel) {
            if (length(a) < channels) {
                throw new IllegalArgumentException("BatchNorm." + kernel + ": a per-channel array needs " + channels + " entries (one per channel of "
                        + shape + "), got " + (a == null ? "null" : length(a)));
            }
        }
    }

    private static void mask(String kernel, int channels, float[] maskScale, float[] maskShift) {
        if ((maskScale == null) != (maskShift == null)) {
            throw new IllegalArgumentException("BatchNorm." + kernel + ": the ReLU mask needs both the forward's scale and shift, or neither");
        }
        if (maskScale != null && (maskScale.length < channels || maskShift.length < channels)) {
            throw new IllegalArgumentException("BatchNorm." + kernel + ": the ReLU mask's scale and shift need " + channels + " entries, got "
                    + maskScale.length + " and " + maskShift.length);
        }
    }

    private static int length(Object a) {
        if (a instanceof double[] d) return d.length;
        if (a instanceof float[] f) return f.length;
        return -1;
    }
}
