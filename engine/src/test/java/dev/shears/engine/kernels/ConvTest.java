package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The convolution facade and its depthwise twins against a double-precision reference
 * convolution (forward, dW, db, dx) on awkward shapes: odd and non-square sizes, stride 2,
 * padding 0..2, groups, depthwise, pointwise, batches split into chunks over lanes; the
 * im2col path forced (Winograd off), and the Winograd path forced on for 3x3 stride-1 shapes.
 */
class ConvTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final DepthwiseKernel SCALAR = new DepthwiseScalar();
    private static final DepthwiseKernel SIMD = Twins.loadSimd(DepthwiseKernel.class, "DepthwiseSimd");

    /** (n, in, h, w, out, k, stride, pad, groups, columnFloats) */
    private static final int[][] SHAPES = {
        {2, 3, 7, 5, 4, 3, 1, 1, 1, 1 << 18},
        {3, 2, 9, 9, 5, 3, 2, 1, 1, 1},        // one sample per chunk, stride 2
        {5, 2, 5, 4, 3, 3, 2, 1, 1, 2 * 18 * 6}, // chunks of 2, 2, 1
        {2, 4, 6, 7, 6, 3, 1, 2, 2, 1 << 18},  // groups, padding 2
        {2, 3, 5, 5, 4, 1, 1, 0, 1, 1 << 18},  // pointwise, batched
        {1, 3, 5, 5, 4, 1, 1, 0, 1, 1 << 18},  // pointwise, one sample: x is the column matrix
        {3, 3, 5, 6, 4, 1, 2, 0, 1, 1 << 18},  // 1x1 stride 2
        {2, 2, 8, 8, 3, 5, 1, 0, 1, 1 << 18},  // 5x5, no padding
        {3, 4, 6, 5, 6, 5, 1, 2, 1, 2 * 100 * 30}, // 5x5 "same": dx as the flipped convolution, chunks of 2 and 1
        {2, 17, 5, 7, 17, 3, 1, 1, 1, 1 << 18}, // 17 out channels: dx back on W^T x dy + col2im
        {2, 5, 9, 7, 5, 3, 1, 1, 5, 1 << 18},  // depthwise
        {2, 4, 7, 6, 4, 3, 2, 1, 4, 1 << 18},  // depthwise stride 2
        {3, 6, 4, 4, 6, 3, 1, 1, 6, 1 << 18},  // depthwise 4x4 planes (the wide loop's small case)
        {2, 3, 17, 13, 3, 5, 1, 2, 3, 1 << 18}, // depthwise 5x5
        {2, 3, 33, 31, 3, 3, 1, 1, 3, 1 << 18}, // depthwise, planes of several vectors
    };

    @Test
    void facadeMatchesDoubleReference() {
        SplittableRandom rng = new SplittableRandom(16);
        for (int[] t : SHAPES) checkFacade(t, Winograd.Mode.OFF, rng);
    }

    /** (n, in, h, w, out, k, stride, pad, groups, columnFloats): 3x3 stride-1 shapes for the Winograd path. */
    private static final int[][] WINOGRAD_SHAPES = {
        {2, 3, 7, 5, 4, 3, 1, 1, 1, 1 << 18},
        {2, 17, 5, 7, 17, 3, 1, 1, 1, 1 << 18},
        {5, 16, 8, 8, 16, 3, 1, 1, 1, 1},      // one sample per chunk, chunks over both lanes
        {5, 4, 9, 7, 6, 3, 1, 1, 1, 2 * 2 * 16 * 6 * 20}, // chunks of 2, 2, 1
        {1, 3, 1, 1, 5, 3, 1, 1, 1, 1 << 18},  // 1x1 plane
        {3, 5, 9, 7, 6, 3, 1, 0, 1, 1 << 18},  // padding 0: dx pads dy by 2
        {2, 4, 6, 5, 3, 3, 1, 2, 1, 1 << 18},  // padding 2
        {1, 1, 2, 3, 1, 3, 1, 1, 1, 1 << 18},  // one channel
    };

    @Test
    void facadeWithWinogradOnMatchesDoubleReference() {
        SplittableRandom rng = new SplittableRandom(17);
        for (int[] t : WINOGRAD_SHAPES) checkFacade(t, Winograd.Mode.ON, rng);
    }

    /** Forward and backward of one shape through the facade (plan under {@code mode}) against {@link #reference}. */
    private static void checkFacade(int[] t, Winograd.Mode mode, SplittableRandom rng) {
        int n = t[0];
        ConvShape s = new ConvShape(t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8]);
        float[] x = TestData.uniform(rng, (int) (n * s.inputSize()), -1, 1), w = TestData.uniform(rng, (int) s.weightSize(), -1, 1);
        float[] b = TestData.uniform(rng, s.out(), -1, 1), dy = TestData.uniform(rng, (int) (n * s.outputSize()), -1, 1);
        try (Arena arena = Arena.ofShared()) {
            Conv.Plan plan = Conv.plan(s, n, t[9], true, mode);
            assertEquals(mode == Winograd.Mode.ON, plan.winograd(), "Winograd plan for " + s);
            Conv.Scratch scratch = new Conv.Scratch(floats(arena, plan.columnFloats()), floats(arena, plan.rowFloats()), floats(arena, plan.partialFloats()));
            MemorySegment xs = seg(arena, x), ws = seg(arena, w), bs = seg(arena, b), dys = seg(arena, dy);
            MemorySegment ys = floats(arena, n * s.outputSize()), dxs = floats(arena, n * s.inputSize());
            MemorySegment dws = floats(arena, s.weightSize()), dbs = floats(arena, s.out());
            Conv.forward(plan, scratch, n, xs, ws, bs, ys);
            Conv.backward(plan, scratch, n, xs, ws, dys, dws, dbs, dxs);
            double[][] ref = reference(s, n, x, w, b, dy);
            String where = s + " n=" + n + " winograd " + mode;
            double tol = TestData.sumTolerance(s.patch());
            assertClose(ref[0], ys, tol, "y " + where);
            assertClose(ref[1], dws, TestData.sumTolerance(n * s.pixels()), "dW " + where);
            assertClose(ref[2], dbs, TestData.sumTolerance(n * s.pixels()), "db " + where);
            assertClose(ref[3], dxs, TestData.sumTolerance(s.groupOut() * s.kernel() * s.kernel()), "dx " + where);
        }
    }

    @Test
    void depthwiseTwinsMatchDoubleReference() {
        SplittableRandom rng = new SplittableRandom(3);
        int[][] planes = {{1, 1, 1, 1, 0}, {4, 4, 3, 1, 1}, {5, 3, 3, 1, 1}, {8, 8, 3, 1, 1}, {7, 9, 3, 2, 1}, {13, 11, 5, 1, 2},
            {16, 16, 3, 1, 1}, {17, 15, 3, 2, 0}, {32, 32, 3, 1, 1}, {9, 9, 7, 1, 3}};
        for (int[] t : planes) {
            int h = t[0], w = t[1], k = t[2], stride = t[3], pad = t[4];
            int hp = h + 2 * pad, wp = w + 2 * pad, oh = (hp - k) / stride + 1, ow = (wp - k) / stride + 1;
            float[] in = new float[hp * wp + DepthwiseKernel.SLACK], dy = new float[oh * wp + DepthwiseKernel.SLACK];
            for (int y = 0; y < h; y++) for (int xx = 0; xx < w; xx++) in[(y + pad) * wp + xx + pad] = (float) rng.nextDouble(-1, 1);
            for (int y = 0; y < oh; y++) for (int xx = 0; xx < ow; xx++) dy[y * wp + xx] = (float) rng.nextDouble(-1, 1);
            float[] taps = TestData.uniform(rng, k * k, -1, 1);
            float bias = 0.25f;
            for (DepthwiseKernel kernel : new DepthwiseKernel[] {SCALAR, SIMD}) {
                String where = kernel.getClass().getSimpleName() + " plane " + h + "x" + w + " k" + k + " s" + stride + " p" + pad;
                float[] out = new float[oh * wp + DepthwiseKernel.SLACK];
                kernel.forward(in, wp, taps, k, stride, bias, out, oh, ow);
                double[] sums = new double[k * k];
                kernel.weightGradient(in, wp, dy, k, stride, oh, ow, sums);
                float[] din = new float[hp * wp + DepthwiseKernel.SLACK];
                kernel.inputGradient(dy, taps, k, stride, oh, ow, din, wp);
                double[] refDin = new double[hp * wp];
                for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
                    double acc = bias;
                    for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
                        int at = (oy * stride + i) * wp + ox * stride + j;
                        acc += (double) taps[i * k + j] * in[at];
                        refDin[at] += (double) taps[i * k + j] * dy[oy * wp + ox];
                    }
                    assertEquals(acc, out[oy * wp + ox], TestData.sumTolerance(k * k), where + " out " + oy + "," + ox);
                }
                for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
                    double acc = 0;
                    for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) acc += (double) dy[oy * wp + ox] * in[(oy * stride + i) * wp + ox * stride + j];
                    assertEquals(acc, sums[i * k + j], TestData.sumTolerance(oh * ow), where + " dW tap " + i + "," + j);
                }
                for (int y = 0; y < h; y++) for (int xx = 0; xx < w; xx++) {
                    int at = (y + pad) * wp + xx + pad;
                    assertEquals(refDin[at], din[at], TestData.sumTolerance(k * k), where + " din " + y + "," + xx);
                }
            }
        }
    }

    @Test
    void transposedInputGradientCoversSameStrideOneConvolutionsWithFewOutputs() {
        assertTrue(Conv.transposedInputGradient(new ConvShape(16, 32, 32, 16, 3, 1, 1, 1)));
        assertTrue(Conv.transposedInputGradient(new ConvShape(4, 6, 5, 6, 5, 1, 2, 1)));
        assertFalse(Conv.transposedInputGradient(new ConvShape(16, 32, 32, 32, 3, 2, 1, 1)), "stride 2");
        assertFalse(Conv.transposedInputGradient(new ConvShape(17, 5, 7, 17, 3, 1, 1, 1)), "17 outputs");
        assertFalse(Conv.transposedInputGradient(new ConvShape(8, 5, 5, 8, 3, 1, 1, 2)), "groups");
        assertFalse(Conv.transposedInputGradient(new ConvShape(8, 5, 5, 8, 1, 1, 0, 1)), "1x1");
    }

    @Test
    void planAndFacadeErrorsNameTheShape() {
        ConvShape s = new ConvShape(4, 5, 5, 4, 3, 1, 1, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> Conv.plan(s, 0, 1 << 18, true));
        assertTrue(e.getMessage().contains("input (4, 5, 5)"), e.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> new ConvShape(4, 5, 5, 6, 3, 1, 1, 4));
        assertTrue(g.getMessage().contains("groups=4"), g.getMessage());
        Conv.Plan plan = Conv.plan(s, 2, 1 << 18, true);
        var b = assertThrows(IllegalArgumentException.class, () -> Conv.forward(plan, null, 3, null, null, null, null));
        assertTrue(b.getMessage().contains("batch 3") && b.getMessage().contains("plan's batch 2"), b.getMessage());
    }

    /** {y, dW, db, dx} in double: the definition of a grouped, strided, padded convolution and its gradients. */
    private static double[][] reference(ConvShape s, int n, float[] x, float[] w, float[] b, float[] dy) {
        int cg = s.groupIn(), ocg = s.groupOut(), k = s.kernel(), oh = s.outH(), ow = s.outW(), h = s.height(), wd = s.width();
        double[] y = new double[(int) (n * s.outputSize())], dw = new double[w.length], db = new double[s.out()], dx = new double[x.length];
        for (int bi = 0; bi < n; bi++) for (int o = 0; o < s.out(); o++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
            int yi = ((bi * s.out() + o) * oh + oy) * ow + ox;
            double acc = b[o], g = dy[yi];
            db[o] += g;
            for (int ci = 0; ci < cg; ci++) for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
                int iy = oy * s.stride() - s.pad() + i, ix = ox * s.stride() - s.pad() + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                int xi = ((bi * s.in() + (o / ocg) * cg + ci) * h + iy) * wd + ix, wi = ((o * cg + ci) * k + i) * k + j;
                acc += (double) w[wi] * x[xi];
                dw[wi] += g * x[xi];
                dx[xi] += g * w[wi];
            }
            y[yi] = acc;
        }
        return new double[][] {y, dw, db, dx};
    }

    private static void assertClose(double[] want, MemorySegment got, double tol, String what) {
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got.getAtIndex(F, i), tol, what + " at " + i);
    }

    private static MemorySegment floats(Arena arena, long n) {
        return n == 0 ? null : arena.allocate(4 * n, 64);
    }

    private static MemorySegment seg(Arena arena, float[] v) {
        MemorySegment s = arena.allocate(4L * v.length, 64);
        MemorySegment.copy(v, 0, s, F, 0, v.length);
        return s;
    }
}
