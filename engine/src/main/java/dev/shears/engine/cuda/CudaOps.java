package dev.shears.engine.cuda;

import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.ElementwiseKernel;

/**
 * The device ops the layers and the optimizers will call on a CUDA device, one method per kernel in
 * our .cu files, queued on the device's stream (nothing here waits). Arguments are device addresses
 * (DeviceBuffer.address() or .at(i)) and the sizes, in the order and layout of the engine's CPU
 * kernels (NCHW; shapes in the comments). Checks the sizes it can; it cannot check that an address
 * holds enough floats, so the layers must (as they do for the CPU kernels).
 * Pinned on a GPU by CudaKernelsGpuTest, op by op against the CPU scalar twin.
 */
public final class CudaOps {
    /** Threads per block of the per-channel reductions (a power of two, at most the kernels' MAX_BLOCK of 1024). */
    static final int REDUCE_BLOCK = 256;

    private final CudaDevice device;
    private final CudaKernels k;
    private final long stream;

    CudaOps(CudaDevice device) {
        this.device = device;
        this.k = device.kernels();
        this.stream = device.stream();
    }

    public CudaDevice device() {
        return device;
    }

    private void ew(String kernel, long n, Object... args) {
        if (n < 0 || n > Integer.MAX_VALUE) throw new IllegalArgumentException(kernel + ": element count " + n + " outside 0.." + Integer.MAX_VALUE);
        device.makeCurrent();
        k.launch1d(kernel, n, stream, args);
    }

    private static void positive(String op, int... sizes) {
        for (int s : sizes) if (s < 1) throw new IllegalArgumentException(op + ": sizes must be >= 1, got " + java.util.Arrays.toString(sizes));
    }

    // ---- elementwise ---------------------------------------------------------------------------

    public void relu(long x, long y, int n) { ew("relu_fwd", n, x, y, n); }
    public void reluBackward(long x, long dy, long dx, int n) { ew("relu_bwd", n, x, dy, dx, n); }
    public void relu6(long x, long y, int n) { ew("relu6_fwd", n, x, y, n); }
    public void relu6Backward(long x, long dy, long dx, int n) { ew("relu6_bwd", n, x, dy, dx, n); }
    /** out = a + b (the residual add; out may be a or b). */
    public void add(long a, long b, long out, int n) { ew("add", n, a, b, out, n); }
    /** out = relu(a + b). */
    public void addRelu(long a, long b, long out, int n) { ew("add_relu", n, a, b, out, n); }
    public void scale(long a, float s, int n) { ew("scale", n, a, s, n); }
    /** y = fma(alpha, x, y). */
    public void axpy(float alpha, long x, long y, int n) { ew("axpy", n, alpha, x, y, n); }
    public void mul(long a, long b, long out, int n) { ew("mul", n, a, b, out, n); }
    public void fill(long a, float value, int n) { ew("fill", n, a, value, n); }

    // x: (n, c, p) -> y = fma(scale[c], x, shift[c])
    public void channelAffine(long x, long y, long scale, long shift, int n, int c, int p) {
        positive("channelAffine", n, c, p);
        ew("channel_affine", (long) n * c * p, x, y, scale, shift, n, c, p);
    }

    // out = fma(b[c], v, fma(a[c], u, k[c]))
    public void channelAffine2(long a, long u, long b, long v, long kk, long out, int n, int c, int p) {
        positive("channelAffine2", n, c, p);
        ew("channel_affine2", (long) n * c * p, a, u, b, v, kk, out, n, c, p);
    }

    // x: (n, c, h, w) -> y: (n, oc, oh, ow), oh = ceil(h / stride)
    public void zeroPadShortcut(long x, long y, int n, int c, int h, int w, int oc, int stride) {
        positive("zeroPadShortcut", n, c, h, w, oc, stride);
        if (oc < c) throw new IllegalArgumentException("zeroPadShortcut: cannot map " + c + " to " + oc + " channels");
        int oh = (h - 1) / stride + 1, ow = (w - 1) / stride + 1;
        ew("zero_pad_shortcut_fwd", (long) n * oc * oh * ow, x, y, n, c, h, w, oc, oh, ow, stride, (oc - c) / 2);
    }

    // dy: (n, oc, oh, ow) -> dx: (n, c, h, w)
    public void zeroPadShortcutBackward(long dy, long dx, int n, int c, int h, int w, int oc, int stride) {
        positive("zeroPadShortcutBackward", n, c, h, w, oc, stride);
        int oh = (h - 1) / stride + 1, ow = (w - 1) / stride + 1;
        ew("zero_pad_shortcut_bwd", (long) n * c * h * w, dy, dx, n, c, h, w, oc, oh, ow, stride, (oc - c) / 2);
    }

    // ---- GEMM (cuBLAS) ----------------------------------------------------------------------------

    /** Row-major {@code C(m,n) = alpha op(A) op(B) + beta C} on device pointers, on this device's stream (GemmKernel's contract). */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        device.gemm().sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    // ---- batch norm ----------------------------------------------------------------------------

    /**
     * x: (n, c, p). Per-channel statistics (training: of the batch, updating the running ones;
     * evaluation: the running ones) into mean, invstd (c doubles each) and the forward map scale,
     * shift (c floats); then y = channelAffine(x, scale, shift).
     */
    public void batchNormForward(long x, long y, int n, int c, int p, long gamma, long beta, long runningMean, long runningVar,
                                 double momentum, double eps, boolean training, long mean, long invstd, long scale, long shift) {
        positive("batchNormForward", n, c, p);
        if (training && (long) n * p < 2) throw new IllegalArgumentException("batch norm in training needs more than one value per channel, got n=" + n + " p=" + p);
        device.makeCurrent();
        k.launch("bn_forward_stats", c, REDUCE_BLOCK, stream, x, n, c, p, gamma, beta, runningMean, runningVar, momentum, eps, training ? 1 : 0,
                mean, invstd, scale, shift);
        channelAffine(x, y, scale, shift, n, c, p);
    }

    /** dy, x: (n, c, p) -> dx (may be dy); dgamma, dbeta += their sums; a, b, kk: c floats of scratch. */
    public void batchNormBackward(long dy, long x, long dx, int n, int c, int p, long mean, long invstd, long gamma, long dgamma, long dbeta,
                                  boolean training, long a, long b, long kk) {
        positive("batchNormBackward", n, c, p);
        device.makeCurrent();
        k.launch("bn_backward_stats", c, REDUCE_BLOCK, stream, dy, x, n, c, p, mean, invstd, gamma, dgamma, dbeta, training ? 1 : 0, a, b, kk);
        channelAffine2(a, dy, b, x, kk, dx, n, c, p);
    }

    /** out[c] += sum over n and p of x (n, c, p): bias gradients. */
    public void channelSumAccumulate(long x, int n, int c, int p, long out) {
        positive("channelSumAccumulate", n, c, p);
        device.makeCurrent();
        k.launch("channel_sum_acc", c, REDUCE_BLOCK, stream, x, n, c, p, out);
    }

    // ---- im2col --------------------------------------------------------------------------------

    /** As Im2colScalar.im2col: images of g's (C, H, W) at imageStride floats apart -> cols (C*kh*kw, ldCols). */
    public void im2col(ConvGeometry g, int images, long x, long imageStride, long cols, long ldCols) {
        positive("im2col", images);
        ew("im2col", (long) g.channels() * g.kernelH() * g.kernelW() * images * g.pixels(), x, imageStride, cols, ldCols, images, g.channels(),
                g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.outH(), g.outW());
    }

    /** As Im2colScalar.col2im: x += the column taps of each input element (a gather; no atomics). */
    public void col2im(ConvGeometry g, int images, long cols, long ldCols, long x, long imageStride) {
        positive("col2im", images);
        ew("col2im", (long) images * g.channels() * g.height() * g.width(), cols, ldCols, x, imageStride, images, g.channels(),
                g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.outH(), g.outW());
    }

    // ---- depthwise convolution (square kernel, same stride and padding on both axes) ------------

    // x: (n, c, h, w), w: (c, 1, kh, kw), bias: (c) or 0 -> y: (n, c, oh, ow)
    public void depthwiseForward(ConvGeometry g, int n, long x, long weight, long bias, long y) {
        positive("depthwiseForward", n);
        ew("dw_fwd", (long) n * g.channels() * g.pixels(), x, weight, bias == 0 ? null : bias, y, n, g.channels(), g.height(), g.width(),
                g.kernelH(), g.kernelW(), square(g), g.padH(), g.outH(), g.outW());
    }

    // dy: (n, c, oh, ow) -> dx: (n, c, h, w), overwritten
    public void depthwiseBackwardData(ConvGeometry g, int n, long dy, long weight, long dx) {
        positive("depthwiseBackwardData", n);
        ew("dw_bwd_data", (long) n * g.channels() * g.height() * g.width(), dy, weight, dx, n, g.channels(), g.height(), g.width(),
                g.kernelH(), g.kernelW(), square(g), g.padH(), g.outH(), g.outW());
    }

    // dweight (c, 1, kh, kw) += sum over n, oh, ow of dy * x at the tap
    public void depthwiseBackwardWeight(ConvGeometry g, int n, long dy, long x, long dweight) {
        positive("depthwiseBackwardWeight", n);
        device.makeCurrent();
        k.launch("dw_bwd_weight", g.channels() * g.kernelH() * g.kernelW(), REDUCE_BLOCK, stream, dy, x, dweight, n, g.channels(), g.height(),
                g.width(), g.kernelH(), g.kernelW(), square(g), g.padH(), g.outH(), g.outW());
    }

    private static int square(ConvGeometry g) {
        if (g.strideH() != g.strideW() || g.padH() != g.padW()) {
            throw new IllegalArgumentException("depthwise on the device needs the same stride and padding on both axes, got " + g);
        }
        return g.strideH();
    }

    // ---- pooling (planes = n * c) ----------------------------------------------------------------

    public void maxPool(long x, long y, long argmax, int planes, int h, int w, int kernel, int stride, int pad) {
        int oh = poolOut("maxPool", h, kernel, stride, pad), ow = poolOut("maxPool", w, kernel, stride, pad);
        ew("maxpool_fwd", (long) planes * oh * ow, x, y, argmax, planes, h, w, kernel, stride, pad, oh, ow);
    }

    public void maxPoolBackward(long dy, long argmax, long dx, int planes, int h, int w, int kernel, int stride, int pad) {
        int oh = poolOut("maxPoolBackward", h, kernel, stride, pad), ow = poolOut("maxPoolBackward", w, kernel, stride, pad);
        ew("maxpool_bwd", (long) planes * h * w, dy, argmax, dx, planes, h, w, kernel, stride, pad, oh, ow);
    }

    public void avgPool(long x, long y, int planes, int h, int w, int kernel, int stride, int pad) {
        int oh = poolOut("avgPool", h, kernel, stride, pad), ow = poolOut("avgPool", w, kernel, stride, pad);
        ew("avgpool_fwd", (long) planes * oh * ow, x, y, planes, h, w, kernel, stride, pad, oh, ow);
    }

    public void avgPoolBackward(long dy, long dx, int planes, int h, int w, int kernel, int stride, int pad) {
        int oh = poolOut("avgPoolBackward", h, kernel, stride, pad), ow = poolOut("avgPoolBackward", w, kernel, stride, pad);
        ew("avgpool_bwd", (long) planes * h * w, dy, dx, planes, h, w, kernel, stride, pad, oh, ow);
    }

    // x: (planes, p) -> y: (planes)
    public void globalAvgPool(long x, long y, int planes, int p) {
        positive("globalAvgPool", planes, p);
        ew("global_avgpool_fwd", planes, x, y, planes, p);
    }

    public void globalAvgPoolBackward(long dy, long dx, int planes, int p) {
        positive("globalAvgPoolBackward", planes, p);
        ew("global_avgpool_bwd", (long) planes * p, dy, dx, planes, p);
    }

    static int poolOut(String op, int size, int kernel, int stride, int pad) {
        if (size < 1 || kernel < 1 || stride < 1 || pad < 0 || 2 * pad > kernel || size + 2 * pad < kernel) {
            throw new IllegalArgumentException(op + ": bad pool settings size=" + size + " kernel=" + kernel + " stride=" + stride + " padding=" + pad);
        }
        return (size + 2 * pad - kernel) / stride + 1;
    }

    // ---- dropout -------------------------------------------------------------------------------

    /** nn's Dropout mask stream (see dropout.cu): mask = keep or 0, y = x * mask. */
    public void dropout(long x, long mask, long y, long n, double p, long seed, long call) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        device.makeCurrent();
        k.launch1d("dropout_fwd", n, stream, x, mask, y, n, p, (float) (1.0 / (1.0 - p)), seed, call);
    }

    // ---- softmax cross-entropy -----------------------------------------------------------------

    /**
     * logits: (rows, cols), labels: rows ints -> dlogits (or 0), and on the device: lossTotal (one
     * double) += the batch's mean loss, correctTotal (one long) += its correct count. rowLoss (rows
     * doubles) and rowCorrect (rows ints) are scratch.
     */
    public void crossEntropy(long logits, long labels, long dlogits, int rows, int cols, float labelSmoothing, long rowLoss, long rowCorrect,
                             long lossTotal, long correctTotal) {
        positive("crossEntropy", rows, cols);
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
        device.makeCurrent();
        k.launch("xent_rows", (rows + 127) / 128, 128, stream, logits, labels, dlogits == 0 ? null : dlogits, rowLoss, rowCorrect, rows, cols,
                labelSmoothing);
        k.launch("xent_reduce", 1, REDUCE_BLOCK, stream, rowLoss, rowCorrect, rows, lossTotal, correctTotal);
    }

    // ---- optimizers ----------------------------------------------------------------------------

    /** One SGD step over n weights, nn's Sgd with ElementwiseScalar.sgdMomentum's arithmetic; mask and v may be 0. */
    public void sgdStep(long w, long g, long v, long mask, int n, float lr, float momentum, float weightDecay, boolean nesterov, float dampening,
                        boolean firstStep, boolean maskGradients) {
        if (momentum != 0f && v == 0) throw new IllegalArgumentException("sgdStep: momentum " + momentum + " needs a momentum buffer");
        ew("sgd_step", n, w, g, v == 0 ? null : v, mask == 0 ? null : mask, n, lr, momentum, weightDecay, nesterov ? 1 : 0, dampening,
                firstStep ? 1 : 0, maskGradients ? 1 : 0);
    }

    /**
     * One Adam step (step counting from 1), nn's Adam with ElementwiseScalar.adam's arithmetic:
     * {@code shrink} = 1 - lr*wd for AdamW's decoupled decay (1 otherwise), {@code l2} the coupled decay.
     */
    public void adamStep(long w, long g, long m, long v, long mask, int n, float lr, float beta1, float beta2, float eps, float l2, float shrink,
                         long step, boolean maskGradients) {
        if (step < 1) throw new IllegalArgumentException("adamStep: step counts from 1, got " + step);
        ElementwiseKernel.AdamConstants c = ElementwiseKernel.AdamConstants.of(lr, beta1, beta2, step);
        ew("adam_step", n, w, g, m, v, mask == 0 ? null : mask, n, shrink, l2, beta1, beta2, eps, c.stepSize(), c.biasCorrection2Sqrt(),
                maskGradients ? 1 : 0);
    }
}
