package dev.shears.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.kernels.ActivationScalar;
import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.ElementwiseScalar;
import dev.shears.engine.kernels.Im2colScalar;
import dev.shears.engine.kernels.SoftmaxScalar;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every CUDA kernel against its CPU scalar twin on awkward sizes. Tolerances: elementwise ops, the
 * optimizers, im2col/col2im, pooling, the zero-pad shortcut and dropout are compiled with fmad off and
 * sum in the CPU's order, so they must match bit for bit; batch norm, depthwise convolution, global
 * pooling and the cross-entropy reduce in another (fixed) order, so they are held to a relative bound
 * (stated per test) against a double-precision reference. Also: the same bits on a second run, and no
 * device malloc in the steady state. Run on a real GPU by CudaKernelsGpuTest and on the CPU, with the
 * same sources compiled for the host, by CudaKernelsHostTest.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CudaKernelsContract {
    private static final ElementwiseScalar EW = new ElementwiseScalar();
    private static final ActivationScalar ACT = new ActivationScalar();
    private static final Im2colScalar IM = new Im2colScalar();
    private static final SoftmaxScalar SM = new SoftmaxScalar();

    Gpu gpu;

    /** The device to test, or null (then {@link #whyNot} says why in each skipped test). */
    abstract Gpu openDevice() throws Exception;

    abstract String whyNot();

    @BeforeAll
    void open() throws Exception {
        gpu = openDevice();
    }

    @AfterAll
    void close() {
        if (gpu != null) gpu.close();
    }

    @BeforeEach
    void needDevice() {
        Assumptions.assumeTrue(gpu != null, this::whyNot);
    }

    @AfterEach
    void reset() {
        if (gpu != null) gpu.reset();
    }

    /** Uniform [-2, 2) with NaN, infinities, -0, 0 and 6 sprinkled in (when {@code specials}). */
    static float[] values(SplittableRandom rng, int n, boolean specials) {
        float[] a = TestData.uniform(rng, n, -2f, 2f);
        if (specials) {
            float[] s = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 6f, 7f, -6f};
            for (int i = 0; i < n; i += 7) a[i] = s[(i / 7) % s.length];
        }
        return a;
    }

    /** The CPU result: {@code cpu} writes into a copy of {@code init} seen as a segment. */
    static float[] cpu(float[] init, Consumer<MemorySegment> cpu) {
        float[] out = init.clone();
        cpu.accept(MemorySegment.ofArray(out));
        return out;
    }

    static MemorySegment seg(float[] a) {
        return MemorySegment.ofArray(a);
    }

    static void assertClose(double[] want, float[] got, double relative, String what) {
        double scale = 0;
        for (double v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            double tol = relative * Math.max(1, scale);
            assertTrue(Math.abs(want[i] - got[i]) <= tol, what + " [" + i + "]: want " + want[i] + " got " + got[i] + " (tolerance " + tol + ")");
        }
    }

    // ---- elementwise: bit for bit ----------------------------------------------------------------

    @Test
    void elementwiseOpsMatchTheScalarTwinsBitForBit() {
        SplittableRandom rng = new SplittableRandom(1);
        CudaOps ops = gpu.ops;
        for (int n : TestData.AWKWARD) {
            float[] x = values(rng, n, true), y = values(rng, n, true), dy = values(rng, n, false);
            long dX = gpu.put(x), dY = gpu.put(y), dDy = gpu.put(dy), out = gpu.floats(n);
            String at = " n=" + n;

            ops.relu(dX, out, n);
            assertArrayEquals(cpu(new float[n], o -> ACT.reluForward(seg(x), 0, o, 0, n)), gpu.get(out, n), "relu" + at);
            ops.reluBackward(dX, dDy, out, n);
            assertArrayEquals(cpu(new float[n], o -> ACT.reluBackward(seg(x), 0, seg(dy), 0, o, 0, n)), gpu.get(out, n), "relu backward" + at);
            ops.relu6(dX, out, n);
            float[] r6 = new float[n], r6b = new float[n];
            for (int i = 0; i < n; i++) {
                r6[i] = x[i] < 0f ? 0f : (x[i] > 6f ? 6f : x[i]);
                r6b[i] = x[i] > 0f && x[i] < 6f ? dy[i] : 0f;
            }
            assertArrayEquals(r6, gpu.get(out, n), "relu6" + at);
            ops.relu6Backward(dX, dDy, out, n);
            assertArrayEquals(r6b, gpu.get(out, n), "relu6 backward" + at);

            ops.add(dX, dY, out, n);
            float[] sum = cpu(new float[n], o -> EW.add(seg(x), 0, seg(y), 0, o, 0, n));
            assertArrayEquals(sum, gpu.get(out, n), "add" + at);
            ops.addRelu(dX, dY, out, n);
            assertArrayEquals(cpu(new float[n], o -> ACT.reluForward(seg(sum), 0, o, 0, n)), gpu.get(out, n), "add+relu" + at);
            ops.mul(dX, dY, out, n);
            assertArrayEquals(cpu(new float[n], o -> EW.mul(seg(x), 0, seg(y), 0, o, 0, n)), gpu.get(out, n), "mul" + at);
            long inPlace = gpu.put(y);
            ops.axpy(-0.7f, dX, inPlace, n);
            assertArrayEquals(cpu(y, o -> EW.axpy(-0.7f, seg(x), 0, o, 0, n)), gpu.get(inPlace, n), "axpy" + at);
            ops.scale(inPlace, 1.3f, n);
            float[] axpy = cpu(y, o -> EW.axpy(-0.7f, seg(x), 0, o, 0, n));
            assertArrayEquals(cpu(axpy, o -> EW.scale(o, 0, 1.3f, n)), gpu.get(inPlace, n), "scale" + at);
            ops.fill(out, -3.25f, n);
            assertArrayEquals(cpu(new float[n], o -> EW.fill(o, 0, -3.25f, n)), gpu.get(out, n), "fill" + at);
            gpu.reset();
        }
    }

    @Test
    void channelMapsMatchAffineAndAffine2BitForBit() {
        SplittableRandom rng = new SplittableRandom(2);
        int[][] shapes = {{1, 1, 1}, {2, 3, 5}, {3, 17, 33}, {7, 16, 64}, {2, 5, 4098}};
        for (int[] s : shapes) {
            int n = s[0], c = s[1], p = s[2], total = n * c * p;
            float[] x = values(rng, total, false), v = values(rng, total, false);
            float[] a = values(rng, c, false), b = values(rng, c, false), k = values(rng, c, false);
            long dX = gpu.put(x), dV = gpu.put(v), dA = gpu.put(a), dB = gpu.put(b), dK = gpu.put(k), out = gpu.floats(total);
            gpu.ops.channelAffine(dX, out, dA, dB, n, c, p);
            float[] want = new float[total], want2 = new float[total];
            for (int plane = 0; plane < n * c; plane++) {
                int ch = plane % c;
                EW.affine(seg(x), (long) plane * p, a[ch], b[ch], seg(want), (long) plane * p, p);
                EW.affine2(a[ch], seg(x), (long) plane * p, b[ch], seg(v), (long) plane * p, k[ch], seg(want2), (long) plane * p, p);
            }
            assertArrayEquals(want, gpu.get(out, total), "channel affine " + java.util.Arrays.toString(s));
            gpu.ops.channelAffine2(dA, dX, dB, dV, dK, out, n, c, p);
            assertArrayEquals(want2, gpu.get(out, total), "channel affine2 " + java.util.Arrays.toString(s));
            gpu.reset();
        }
    }

    @Test
    void zeroPadShortcutMatchesItsTwinBitForBit() {
        SplittableRandom rng = new SplittableRandom(3);
        int[][] cases = {{2, 3, 8, 8, 6, 2}, {1, 16, 32, 32, 32, 2}, {3, 5, 7, 9, 9, 2}, {2, 4, 5, 5, 4, 1}, {1, 3, 11, 13, 10, 3}};
        for (int[] s : cases) {
            int n = s[0], c = s[1], h = s[2], w = s[3], oc = s[4], st = s[5];
            int oh = (h - 1) / st + 1, ow = (w - 1) / st + 1, front = (oc - c) / 2;
            float[] x = values(rng, n * c * h * w, false), dy = values(rng, n * oc * oh * ow, false);
            float[] y = new float[n * oc * oh * ow], dx = new float[n * c * h * w];
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            int o = ((b * oc + ch + front) * oh + oy) * ow + ox, i = ((b * c + ch) * h + oy * st) * w + ox * st;
                            y[o] = x[i];
                            dx[i] = dy[o];
                        }
                    }
                }
            }
            long dX = gpu.put(x), dY = gpu.floats(y.length), dDy = gpu.put(dy), dDx = gpu.put(values(rng, dx.length, false));
            gpu.ops.zeroPadShortcut(dX, dY, n, c, h, w, oc, st);
            assertArrayEquals(y, gpu.get(dY, y.length), "zero-pad forward " + java.util.Arrays.toString(s));
            gpu.ops.zeroPadShortcutBackward(dDy, dDx, n, c, h, w, oc, st);
            assertArrayEquals(dx, gpu.get(dDx, dx.length), "zero-pad backward " + java.util.Arrays.toString(s));
            gpu.reset();
        }
    }

    // ---- batch norm: against a double reference ---------------------------------------------------

    @Test
    void batchNormTrainingAndEvaluationMatchTheDoubleReference() {
        SplittableRandom rng = new SplittableRandom(4);
        int[][] shapes = {{2, 1, 1}, {3, 5, 7}, {16, 16, 64}, {5, 3, 1031}, {128, 4, 9}};
        double momentum = 0.1, eps = 1e-5;
        for (int[] s : shapes) {
            int n = s[0], c = s[1], p = s[2], total = n * c * p;
            float[] x = values(rng, total, false), dy = values(rng, total, false);
            for (int i = 0; i < total; i++) x[i] = x[i] * 3 + 0.5f; // a mean and spread away from 0 and 1
            float[] gamma = TestData.uniform(rng, c, 0.5f, 1.5f), beta = values(rng, c, false);
            float[] rm = values(rng, c, false), rv = TestData.uniform(rng, c, 0.5f, 2f), dgamma = values(rng, c, false), dbeta = values(rng, c, false);
            for (boolean training : new boolean[] {true, false}) {
                // the reference: nn's BatchNorm2d in double
                double[] mean = new double[c], inv = new double[c], wantRm = new double[c], wantRv = new double[c];
                double[] y = new double[total], dx = new double[total], dg = new double[c], db = new double[c];
                long count = (long) n * p;
                for (int ch = 0; ch < c; ch++) {
                    double sum = 0, ss = 0;
                    for (int b = 0; b < n; b++) for (int j = 0; j < p; j++) sum += x[(b * c + ch) * p + j];
                    double mu = sum / count;
                    for (int b = 0; b < n; b++) for (int j = 0; j < p; j++) { double d = x[(b * c + ch) * p + j] - mu; ss += d * d; }
                    double m = training ? mu : rm[ch], var = training ? ss / count : rv[ch];
                    wantRm[ch] = training ? (1 - momentum) * rm[ch] + momentum * mu : rm[ch];
                    wantRv[ch] = training ? (1 - momentum) * rv[ch] + momentum * ss / (count - 1) : rv[ch];
                    mean[ch] = m;
                    inv[ch] = 1 / Math.sqrt(var + eps);
                    double sdy = 0, sdyx = 0;
                    for (int b = 0; b < n; b++) {
                        for (int j = 0; j < p; j++) {
                            int i = (b * c + ch) * p + j;
                            y[i] = (x[i] - m) * inv[ch] * gamma[ch] + beta[ch];
                            sdy += dy[i];
                            sdyx += dy[i] * (x[i] - m) * inv[ch];
                        }
                    }
                    dg[ch] = dgamma[ch] + sdyx;
                    db[ch] = dbeta[ch] + sdy;
                    for (int b = 0; b < n; b++) {
                        for (int j = 0; j < p; j++) {
                            int i = (b * c + ch) * p + j;
                            double a = gamma[ch] * inv[ch];
                            dx[i] = training ? a * (dy[i] - sdy / count - (x[i] - m) * inv[ch] * sdyx / count) : a * dy[i];
                        }
                    }
                }
                long dX = gpu.put(x), dDy = gpu.put(dy), dG = gpu.put(gamma), dB = gpu.put(beta), dRm = gpu.put(rm), dRv = gpu.put(rv);
                long dMean = gpu.zeros8(c), dInv = gpu.zeros8(c), sc = gpu.floats(c), sh = gpu.floats(c), dYo = gpu.floats(total);
                long dDg = gpu.put(dgamma), dDb = gpu.put(dbeta), dDx = gpu.floats(total), ka = gpu.floats(c), kb = gpu.floats(c), kk = gpu.floats(c);
                gpu.ops.batchNormForward(dX, dYo, n, c, p, dG, dB, dRm, dRv, momentum, eps, training, dMean, dInv, sc, sh);
                gpu.ops.batchNormBackward(dDy, dX, dDx, n, c, p, dMean, dInv, dG, dDg, dDb, training, ka, kb, kk);
                String at = (training ? "training " : "evaluation ") + java.util.Arrays.toString(s);
                double[] gotMean = gpu.getDoubles(dMean, c), gotInv = gpu.getDoubles(dInv, c);
                for (int ch = 0; ch < c; ch++) {
                    assertEquals(mean[ch], gotMean[ch], 1e-10 * Math.max(1, Math.abs(mean[ch])), "mean " + at); // double sums in another order
                    assertEquals(inv[ch], gotInv[ch], 1e-10 * inv[ch], "invstd " + at);
                }
                // float outputs: a few float roundings of values of size ~1..10 (stated bound: 2e-6 relative to the largest value)
                assertClose(wantRm, gpu.get(dRm, c), 1e-6, "running mean " + at);
                assertClose(wantRv, gpu.get(dRv, c), 1e-6, "running var " + at);
                assertClose(y, gpu.get(dYo, total), 2e-6, "y " + at);
                assertClose(dx, gpu.get(dDx, total), 2e-6, "dx " + at);
                assertClose(dg, gpu.get(dDg, c), 1e-6 * Math.sqrt(count), "dgamma " + at);
                assertClose(db, gpu.get(dDb, c), 1e-6 * Math.sqrt(count), "dbeta " + at);
                gpu.reset();
            }
        }
    }

    @Test
    void channelSumAccumulatesLikeADoubleSum() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int[] s : new int[][] {{1, 1, 1}, {3, 7, 5}, {128, 10, 1}, {2, 3, 4098}}) {
            int n = s[0], c = s[1], p = s[2];
            float[] x = values(rng, n * c * p, false), acc = values(rng, c, false);
            double[] want = new double[c];
            for (int ch = 0; ch < c; ch++) {
                want[ch] = acc[ch];
                for (int b = 0; b < n; b++) for (int j = 0; j < p; j++) want[ch] += x[(b * c + ch) * p + j];
            }
            long dAcc = gpu.put(acc);
            gpu.ops.channelSumAccumulate(gpu.put(x), n, c, p, dAcc);
            assertClose(want, gpu.get(dAcc, c), 1e-6, "channel sum " + java.util.Arrays.toString(s));
            gpu.reset();
        }
    }

    // ---- im2col / col2im: bit for bit -------------------------------------------------------------

    static ConvGeometry[] geometries() {
        return new ConvGeometry[] {
            ConvGeometry.square(1, 1, 1, 1, 1, 0), ConvGeometry.square(3, 5, 7, 3, 1, 1), ConvGeometry.square(2, 9, 9, 3, 2, 1),
            new ConvGeometry(3, 7, 11, 2, 3, 1, 2, 0, 1), ConvGeometry.square(4, 13, 13, 5, 3, 2), ConvGeometry.square(16, 32, 32, 3, 1, 1),
            ConvGeometry.square(5, 8, 8, 1, 2, 0), ConvGeometry.square(3, 17, 15, 7, 2, 3)};
    }

    @Test
    void im2colAndCol2imMatchTheScalarSpecBitForBit() {
        SplittableRandom rng = new SplittableRandom(6);
        for (ConvGeometry g : geometries()) {
            for (int images : new int[] {1, 3}) {
                long imageStride = (long) g.channels() * g.height() * g.width() + 5; // a gap between images
                long ld = images * g.pixels() + 3;                                   // and a wider leading dimension
                int xLen = (int) (imageStride * images), colsLen = (int) (ld * g.channels() * g.kernelH() * g.kernelW());
                float[] x = values(rng, xLen, false), colsInit = values(rng, colsLen, false), cols2 = values(rng, colsLen, false);
                float[] wantCols = cpu(colsInit, o -> IM.im2col(g, images, seg(x), 0, imageStride, o, 0, ld));
                long dCols = gpu.put(colsInit);
                gpu.ops.im2col(g, images, gpu.put(x), imageStride, dCols, ld);
                assertArrayEquals(wantCols, gpu.get(dCols, colsLen), "im2col " + g + " images " + images);
                float[] wantX = cpu(x, o -> IM.col2im(g, images, seg(cols2), 0, ld, o, 0, imageStride));
                long dX = gpu.put(x);
                gpu.ops.col2im(g, images, gpu.put(cols2), ld, dX, imageStride);
                assertArrayEquals(wantX, gpu.get(dX, xLen), "col2im " + g + " images " + images);
                gpu.reset();
            }
        }
    }

    // ---- depthwise: against a double reference ----------------------------------------------------

    @Test
    void depthwiseForwardAndBackwardMatchTheDoubleReference() {
        SplittableRandom rng = new SplittableRandom(7);
        ConvGeometry[] gs = {ConvGeometry.square(1, 1, 1, 1, 1, 0), ConvGeometry.square(3, 7, 5, 3, 1, 1), ConvGeometry.square(8, 9, 9, 3, 2, 1),
            ConvGeometry.square(5, 16, 16, 5, 1, 2), ConvGeometry.square(32, 32, 32, 3, 1, 1), ConvGeometry.square(7, 11, 13, 3, 3, 0)};
        for (ConvGeometry g : gs) {
            int n = 3, c = g.channels(), h = g.height(), w = g.width(), k = g.kernelH(), s = g.strideH(), pad = g.padH(), oh = g.outH(), ow = g.outW();
            float[] x = values(rng, n * c * h * w, false), wt = values(rng, c * k * k, false), bias = values(rng, c, false);
            float[] dy = values(rng, n * c * oh * ow, false), dwInit = values(rng, c * k * k, false);
            double[] y = new double[dy.length], dx = new double[x.length], dwt = new double[wt.length];
            for (int i = 0; i < wt.length; i++) dwt[i] = dwInit[i];
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            int o = ((b * c + ch) * oh + oy) * ow + ox;
                            double acc = bias[ch];
                            for (int i = 0; i < k; i++) {
                                for (int j = 0; j < k; j++) {
                                    int iy = oy * s - pad + i, ix = ox * s - pad + j;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    int xi = ((b * c + ch) * h + iy) * w + ix, t = (ch * k + i) * k + j;
                                    acc += (double) wt[t] * x[xi];
                                    dx[xi] += (double) wt[t] * dy[o];
                                    dwt[t] += (double) dy[o] * x[xi];
                                }
                            }
                            y[o] = acc;
                        }
                    }
                }
            }
            long dX = gpu.put(x), dW = gpu.put(wt), dB = gpu.put(bias), dY = gpu.floats(y.length), dDy = gpu.put(dy);
            long dDx = gpu.put(values(rng, x.length, false)), dDw = gpu.put(dwInit);
            gpu.ops.depthwiseForward(g, n, dX, dW, dB, dY);
            gpu.ops.depthwiseBackwardData(g, n, dDy, dW, dDx);
            gpu.ops.depthwiseBackwardWeight(g, n, dDy, dX, dDw);
            // float sums of at most k*k products (forward, data) or n*oh*ow summed in double (weight)
            assertClose(y, gpu.get(dY, y.length), 1e-6 * k * k, "depthwise forward " + g);
            assertClose(dx, gpu.get(dDx, dx.length), 1e-6 * k * k, "depthwise data gradient " + g);
            assertClose(dwt, gpu.get(dDw, dwt.length), 1e-6, "depthwise weight gradient " + g);
            gpu.reset();
        }
    }

    // ---- pooling: bit for bit (global average: one float rounding) ----------------------------------

    @Test
    void poolingMatchesNnsLayersBitForBit() {
        SplittableRandom rng = new SplittableRandom(8);
        int[][] cases = {{1, 1, 1, 1, 1, 0}, {6, 9, 7, 3, 2, 1}, {4, 32, 32, 2, 2, 0}, {3, 8, 8, 3, 1, 1}, {2, 13, 11, 5, 3, 2}, {5, 7, 7, 7, 1, 0}};
        for (int[] s : cases) {
            int planes = s[0], h = s[1], w = s[2], k = s[3], st = s[4], pad = s[5];
            int oh = (h + 2 * pad - k) / st + 1, ow = (w + 2 * pad - k) / st + 1;
            float[] x = values(rng, planes * h * w, true), dy = values(rng, planes * oh * ow, false);
            for (int i = 3; i < x.length; i += 11) x[i] = x[i - 3]; // ties
            float[] maxY = new float[planes * oh * ow], avgY = new float[maxY.length], maxDx = new float[x.length], avgDx = new float[x.length];
            int[] arg = new int[maxY.length];
            float inv = 1f / (k * k);
            for (int pl = 0; pl < planes; pl++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float best = Float.NEGATIVE_INFINITY, sum = 0f;
                        int at = -1;
                        for (int i = 0; i < k; i++) {
                            int iy = oy * st - pad + i;
                            if (iy < 0 || iy >= h) continue;
                            for (int j = 0; j < k; j++) {
                                int ix = ox * st - pad + j;
                                if (ix < 0 || ix >= w) continue;
                                float v = x[pl * h * w + iy * w + ix];
                                if (v > best || at < 0 || Float.isNaN(v)) {
                                    best = v;
                                    at = iy * w + ix;
                                    if (Float.isNaN(v)) break;
                                }
                            }
                        }
                        for (int i = 0; i < k; i++) { // nn's AvgPool2d: the in-bounds sum, in (i, j) order
                            int iy = oy * st - pad + i;
                            if (iy < 0 || iy >= h) continue;
                            for (int j = 0; j < k; j++) {
                                int ix = ox * st - pad + j;
                                if (ix >= 0 && ix < w) sum += x[pl * h * w + iy * w + ix];
                            }
                        }
                        int o = (pl * oh + oy) * ow + ox;
                        maxY[o] = best;
                        arg[o] = at;
                        avgY[o] = sum * inv;
                    }
                }
                for (int o = 0; o < oh * ow; o++) {
                    int base = pl * oh * ow + o, at = pl * h * w + arg[base];
                    maxDx[at] = maxDx[at] + dy[base];
                    int oy = o / ow, ox = o % ow;
                    float gv = dy[base] * inv;
                    for (int i = 0; i < k; i++) {
                        int iy = oy * st - pad + i;
                        if (iy < 0 || iy >= h) continue;
                        for (int j = 0; j < k; j++) {
                            int ix = ox * st - pad + j;
                            if (ix >= 0 && ix < w) avgDx[pl * h * w + iy * w + ix] += gv;
                        }
                    }
                }
            }
            long dX = gpu.put(x), dY = gpu.floats(maxY.length), dArg = gpu.floats(arg.length), dDy = gpu.put(dy), dDx = gpu.floats(x.length);
            String at = java.util.Arrays.toString(s);
            gpu.ops.maxPool(dX, dY, dArg, planes, h, w, k, st, pad);
            assertArrayEquals(maxY, gpu.get(dY, maxY.length), "max pool " + at);
            assertArrayEquals(arg, gpu.getInts(dArg, arg.length), "max pool argmax " + at);
            gpu.ops.maxPoolBackward(dDy, dArg, dDx, planes, h, w, k, st, pad);
            assertArrayEquals(maxDx, gpu.get(dDx, x.length), "max pool backward " + at);
            gpu.ops.avgPool(dX, dY, planes, h, w, k, st, pad);
            assertArrayEquals(avgY, gpu.get(dY, avgY.length), "avg pool " + at);
            gpu.ops.avgPoolBackward(dDy, dDx, planes, h, w, k, st, pad);
            assertArrayEquals(avgDx, gpu.get(dDx, x.length), "avg pool backward " + at);
            gpu.reset();
        }
    }

    @Test
    void globalAveragePoolingMatchesTheDoubleMean() {
        SplittableRandom rng = new SplittableRandom(9);
        for (int[] s : new int[][] {{1, 1}, {7, 64}, {128 * 64, 64}, {3, 4098}, {33, 49}}) {
            int planes = s[0], p = s[1];
            float[] x = values(rng, planes * p, false), dy = values(rng, planes, false);
            float[] want = new float[planes], wantDx = new float[planes * p];
            for (int pl = 0; pl < planes; pl++) {
                double sum = 0;
                for (int j = 0; j < p; j++) sum += x[pl * p + j];
                want[pl] = (float) (sum / p);
                for (int j = 0; j < p; j++) wantDx[pl * p + j] = dy[pl] / p;
            }
            long dY = gpu.floats(planes), dDx = gpu.floats(planes * p);
            gpu.ops.globalAvgPool(gpu.put(x), dY, planes, p);
            float[] got = gpu.get(dY, planes);
            for (int pl = 0; pl < planes; pl++) assertEquals(want[pl], got[pl], Math.ulp(want[pl]), "global avg plane " + pl + " p=" + p); // double sums in another order: one float rounding apart at most
            gpu.ops.globalAvgPoolBackward(gpu.put(dy), dDx, planes, p);
            assertArrayEquals(wantDx, gpu.get(dDx, planes * p), "global avg backward p=" + p);
            gpu.reset();
        }
    }

    // ---- dropout: nn's mask, bit for bit ----------------------------------------------------------

    @Test
    void dropoutDrawsNnsMask() {
        SplittableRandom rng = new SplittableRandom(10);
        for (int n : new int[] {1, 13, 16383, 16384, 16385, 100_003}) {
            for (double p : new double[] {0.0, 0.1, 0.5}) {
                float[] x = values(rng, n, false);
                long seed = rng.nextLong(), call = rng.nextInt(1000);
                long dMask = gpu.floats(n), dY = gpu.floats(n);
                gpu.ops.dropout(gpu.put(x), dMask, dY, n, p, seed, call);
                float[] mask = new float[n], y = new float[n];
                for (int i = 0; i < n; i++) {
                    mask[i] = DropoutStream.mask(seed, call, i, p);
                    y[i] = x[i] * mask[i];
                }
                assertArrayEquals(mask, gpu.get(dMask, n), "dropout mask n=" + n + " p=" + p);
                assertArrayEquals(y, gpu.get(dY, n), "dropout y n=" + n + " p=" + p);
                gpu.reset();
            }
        }
    }

    // ---- cross-entropy: against SoftmaxScalar ------------------------------------------------------

    @Test
    void crossEntropyMatchesTheScalarSpecAndCountsOnTheDevice() {
        SplittableRandom rng = new SplittableRandom(11);
        long dLoss = gpu.zeros8(1), dCorrect = gpu.zeros8(1);
        double lossTotal = 0;
        long correctTotal = 0;
        int[][] cases = {{1, 1}, {1, 10}, {128, 10}, {7, 13}, {64, 1000}, {129, 100}};
        for (int[] s : cases) {
            int rows = s[0], cols = s[1];
            for (float ls : new float[] {0f, 0.1f}) {
                float[] logits = values(rng, rows * cols, false);
                for (int i = 0; i < logits.length; i++) logits[i] *= 4;
                int[] labels = new int[rows];
                for (int r = 0; r < rows; r++) labels[r] = rng.nextInt(cols);
                float[] want = new float[rows * cols];
                double loss = SM.crossEntropy(seg(logits), 0, MemorySegment.ofArray(labels), 0, rows, cols, ls, seg(want), 0);
                int correct = 0;
                for (int r = 0; r < rows; r++) {
                    int arg = 0;
                    for (int k = 1; k < cols; k++) if (logits[r * cols + k] > logits[r * cols + arg]) arg = k;
                    if (arg == labels[r]) correct++;
                }
                lossTotal += loss;
                correctTotal += correct;
                long dD = gpu.floats(rows * cols);
                gpu.ops.crossEntropy(gpu.put(logits), gpu.put(labels), dD, rows, cols, ls, gpu.zeros8(rows), gpu.floats(rows), dLoss, dCorrect);
                float[] got = gpu.get(dD, rows * cols);
                for (int i = 0; i < got.length; i++) {
                    // both in double, then one float rounding; exp/log may differ by a double ulp
                    assertEquals(want[i], got[i], Math.ulp(want[i]) + 1e-12, "dlogits [" + i + "] rows=" + rows + " cols=" + cols + " ls=" + ls);
                }
                assertEquals(lossTotal, gpu.getDoubles(dLoss, 1)[0], 1e-12 * Math.max(1, lossTotal), "running loss total");
                assertEquals(correctTotal, gpu.getLongs(dCorrect, 1)[0], "running correct count");
            }
        }
    }

    // ---- optimizers: nn's steps, bit for bit -------------------------------------------------------

    @Test
    void sgdStepsMatchNnsSgdBitForBit() {
        SplittableRandom rng = new SplittableRandom(12);
        for (int n : TestData.AWKWARD) {
            for (int variant = 0; variant < 4; variant++) {
                boolean nesterov = variant == 1, masked = variant >= 2, maskGrad = variant == 3;
                float mu = variant == 2 ? 0f : 0.9f, wd = 5e-4f, lr = 0.1f, damp = variant == 3 ? 0.1f : 0f;
                float[] w = values(rng, n, false), v = values(rng, n, false), mask = new float[n];
                for (int i = 0; i < n; i++) mask[i] = rng.nextInt(3) == 0 ? 0f : 1f;
                long dW = gpu.put(w), dV = gpu.put(v), dM = gpu.put(mask);
                float[] cw = w.clone(), cv = v.clone();
                for (int step = 0; step < 3; step++) {
                    float[] g = values(rng, n, false), g0 = g.clone(); // the device gets g unmasked: it masks it itself
                    // nn's Sgd.step: mask the gradient, the fused step, mask the buffer, zero the pruned weights
                    if (masked && maskGrad) EW.maskMultiply(seg(g), 0, seg(mask), 0, n);
                    float[] cg = g.clone();
                    EW.sgdMomentum(seg(cw), 0, seg(cg), 0, mu == 0f ? MemorySegment.NULL : seg(cv), 0, n, lr, mu, wd, nesterov, damp, step == 0);
                    if (masked) {
                        if (maskGrad && mu != 0f) EW.maskMultiply(seg(cv), 0, seg(mask), 0, n);
                        for (int i = 0; i < n; i++) if (mask[i] == 0f) cw[i] = 0f;
                    }
                    gpu.ops.sgdStep(dW, gpu.put(g0), mu == 0f ? 0 : dV, masked ? dM : 0, n, lr, mu, wd, nesterov, damp, step == 0, maskGrad);
                    String at = "sgd n=" + n + " variant " + variant + " step " + step;
                    assertArrayEquals(cw, gpu.get(dW, n), at + " weights");
                    if (mu != 0f) assertArrayEquals(cv, gpu.get(dV, n), at + " momentum");
                }
                gpu.reset();
            }
        }
    }

    @Test
    void adamStepsMatchNnsAdamBitForBit() {
        SplittableRandom rng = new SplittableRandom(13);
        for (int n : TestData.AWKWARD) {
            for (int variant = 0; variant < 3; variant++) {
                boolean decoupled = variant >= 1, masked = variant == 2;
                float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f;
                float[] w = values(rng, n, false), m1 = new float[n], m2 = new float[n], mask = new float[n];
                for (int i = 0; i < n; i++) mask[i] = rng.nextInt(4) == 0 ? 0f : 1f;
                long dW = gpu.put(w), dM1 = gpu.put(m1), dM2 = gpu.put(m2), dMask = gpu.put(mask);
                float[] cw = w.clone();
                for (int step = 1; step <= 3; step++) {
                    float[] g = values(rng, n, false), g0 = g.clone(); // the device gets g unmasked
                    float shrink = decoupled ? (float) (1 - (double) lr * wd) : 1f, l2 = decoupled ? 0f : wd;
                    // nn's Adam.step
                    if (masked) EW.maskMultiply(seg(g), 0, seg(mask), 0, n);
                    if (decoupled) EW.scale(seg(cw), 0, shrink, n);
                    EW.adam(seg(cw), 0, seg(g.clone()), 0, seg(m1), 0, seg(m2), 0, n, lr, b1, b2, eps, l2, step);
                    if (masked) {
                        EW.maskMultiply(seg(m1), 0, seg(mask), 0, n);
                        EW.maskMultiply(seg(m2), 0, seg(mask), 0, n);
                        for (int i = 0; i < n; i++) if (mask[i] == 0f) cw[i] = 0f;
                    }
                    gpu.ops.adamStep(dW, gpu.put(g0), dM1, dM2, masked ? dMask : 0, n, lr, b1, b2, eps, l2, shrink, step, masked);
                    String at = "adam n=" + n + " variant " + variant + " step " + step;
                    assertArrayEquals(cw, gpu.get(dW, n), at + " weights");
                    assertArrayEquals(m1, gpu.get(dM1, n), at + " exp_avg");
                    assertArrayEquals(m2, gpu.get(dM2, n), at + " exp_avg_sq");
                }
                gpu.reset();
            }
        }
    }

    // ---- determinism and the allocator on the device ---------------------------------------------

    @Test
    void reductionsGiveTheSameBitsTwice() {
        SplittableRandom rng = new SplittableRandom(14);
        int n = 128, c = 16, p = 1024, total = n * c * p;
        float[] x = values(rng, total, false), dy = values(rng, total, false);
        ConvGeometry g = ConvGeometry.square(c, 32, 32, 3, 1, 1);
        float[][] first = null;
        for (int run = 0; run < 2; run++) {
            long dX = gpu.put(x), dDy = gpu.put(dy), gamma = gpu.put(TestData.uniform(rng, c, 1f, 1f)), beta = gpu.floats(c);
            gpu.device.zero(beta, c);
            long rm = gpu.floats(c), rv = gpu.floats(c), mean = gpu.zeros8(c), inv = gpu.zeros8(c), sc = gpu.floats(c), sh = gpu.floats(c);
            gpu.device.zero(rm, c);
            gpu.device.zero(rv, c);
            long y = gpu.floats(total), dx = gpu.floats(total), dg = gpu.floats(c), db = gpu.floats(c), dw = gpu.floats(c * 9);
            gpu.device.zero(dg, c);
            gpu.device.zero(db, c);
            gpu.device.zero(dw, c * 9);
            gpu.ops.batchNormForward(dX, y, n, c, p, gamma, beta, rm, rv, 0.1, 1e-5, true, mean, inv, sc, sh);
            gpu.ops.batchNormBackward(dDy, dX, dx, n, c, p, mean, inv, gamma, dg, db, true, gpu.floats(c), gpu.floats(c), gpu.floats(c));
            gpu.ops.depthwiseBackwardWeight(g, n, dDy, dX, dw);
            float[][] now = {gpu.get(y, total), gpu.get(dx, total), gpu.get(dg, c), gpu.get(db, c), gpu.get(dw, c * 9), gpu.get(rv, c)};
            if (first == null) first = now;
            else for (int i = 0; i < now.length; i++) assertArrayEquals(first[i], now[i], "output " + i + " differs between two runs");
            gpu.reset();
        }
    }

    @Test
    void theSteadyStateAllocatesNoDeviceMemory() {
        long[] sizes = {128L * 16 * 32 * 32, 128L * 10, 464154, 128L * 64 * 8 * 8, 3};
        long before = -1;
        for (int step = 0; step < 4; step++) {
            for (long s : sizes) gpu.floats(s);
            gpu.reset();
            if (step == 0) before = gpu.device.allocatorStats().backendMallocs();
        }
        assertEquals(before, gpu.device.allocatorStats().backendMallocs(), "cuMemAlloc calls after the first step");
    }

}
