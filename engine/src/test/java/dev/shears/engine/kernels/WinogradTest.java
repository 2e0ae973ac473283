package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Winograd F(2x2, 3x3): the SIMD twin's transforms bit for bit against the scalar spec, and
 * forward, dx and dW of both twins against a double-precision convolution on awkward shapes
 * (odd planes, 1x1 planes, 1/3/17 channels, batch 1 and 5, padding 0-2), within a stated
 * rounding-error bound. The facade's forced-on path is checked in ConvTest.
 */
class WinogradTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final WinogradKernel SCALAR = new WinogradScalar();
    private static final WinogradKernel SIMD = Twins.loadSimd(WinogradKernel.class, "WinogradSimd");
    private static final double EPS = Math.ulp(1f); // 2^-23: unit roundoff 2^-24, kept at twice for round-to-nearest slack

    /** (h, w, pad) of the planes the twins are compared on. */
    private static final int[][] PLANES = {{1, 1, 1}, {2, 2, 1}, {7, 9, 1}, {9, 7, 1}, {8, 8, 1}, {16, 16, 1}, {32, 32, 1},
        {5, 6, 0}, {3, 3, 0}, {4, 3, 2}, {33, 17, 1}, {1, 5, 1}, {6, 1, 2}};

    @Test
    void twinsTransformBitForBit() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int[] t : PLANES) {
            int h = t[0], w = t[1], pad = t[2], oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
            int tiles = Winograd.tiles(oh, ow), ld = tiles + 3, t0 = 2; // tiles at an offset inside longer rows
            for (int channels : new int[] {1, 3, 17}) {
                String where = h + "x" + w + " pad " + pad + ", " + channels + " channels";
                float[] x = TestData.uniform(rng, channels * h * w, -1, 1);
                float[] m = TestData.uniform(rng, 16 * channels * ld, -1, 1);
                float[] dy = TestData.uniform(rng, channels * oh * ow, -1, 1);
                float[] bias = TestData.uniform(rng, channels, -1, 1);
                float[][] results = new float[2][];
                for (int k = 0; k < 2; k++) {
                    WinogradKernel kernel = k == 0 ? SCALAR : SIMD;
                    float[] work = new float[WinogradKernel.workFloats(oh, ow)];
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment v = arena.allocate(4L * 16 * channels * ld), z = arena.allocate(4L * 16 * channels * ld);
                        MemorySegment y = arena.allocate(4L * channels * oh * ow);
                        kernel.inputTransform(seg(arena, x), 0, channels, h, w, pad, oh, ow, v, 0, ld, t0, work);
                        kernel.outputTransform(seg(arena, m), 0, channels, ld, t0, oh, ow, seg(arena, bias), y, 0, work);
                        kernel.gradientTransform(seg(arena, dy), 0, channels, oh, ow, z, 0, ld, t0, work);
                        results[k] = concat(v, z, y);
                    }
                }
                for (int i = 0; i < results[0].length; i++) {
                    assertEquals(Float.floatToRawIntBits(results[0][i]), Float.floatToRawIntBits(results[1][i]),
                            where + ": SIMD " + results[1][i] + " scalar " + results[0][i] + " at " + i);
                }
            }
        }
    }

    /** (n, in, h, w, out, pad) */
    private static final int[][] SHAPES = {{1, 1, 1, 1, 1, 1}, {5, 3, 7, 9, 4, 1}, {1, 17, 7, 9, 3, 1}, {2, 3, 8, 8, 17, 1},
        {5, 1, 5, 6, 1, 0}, {1, 2, 4, 3, 2, 2}, {2, 16, 16, 16, 16, 1}, {1, 3, 1, 1, 17, 1}, {2, 4, 9, 1, 3, 1}};

    /**
     * The error bound, per output pixel. Within one 2x2 output tile every value is
     * y = sum_c A^T [(G g_c G^T) (.) (B^T d_c B)] A + b, d_c the tile's 4x4 input. Every entry of
     * B^T d B is a +-1 sum of distinct d entries and every |G| entry is at most 1, so
     * |(B^T d B)_e| <= sum |d| and |(G g G^T)_e| <= sum |g|; each output adds at most the 16
     * elements with coefficients of magnitude at most 1. Rounding happens at most
     * 2 (input transform) + 4 (filter transform) + 1 (product) + in - 1 (the GEMM's sum, any
     * order) + 2 (output transform) + 1 (bias) = in + 9 times along any path, so to first order
     * |y - y_exact| <= (in + 9) eps (16 sum_c (sum |g_c|)(sum_tile |d_c|) + |b|).
     * The bound is c = 16 times the direct convolution's per-channel magnitude sum taken over the
     * tile: Winograd's price for mixing the tile's 16 inputs (its condition), not a fudge factor.
     */
    @Test
    void forwardWithinTheRoundingBoundOfBothTwins() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int[] t : SHAPES) {
            int n = t[0];
            ConvShape s = new ConvShape(t[1], t[2], t[3], t[4], 3, 1, t[5], 1);
            float[] x = TestData.uniform(rng, (int) (n * s.inputSize()), -1, 1), w = TestData.uniform(rng, (int) s.weightSize(), -1, 1);
            float[] b = TestData.uniform(rng, s.out(), -1, 1);
            double[] ref = forwardReference(s, n, x, w, b);
            double[] bound = forwardBound(s, n, x, w, b);
            for (WinogradKernel kernel : new WinogradKernel[] {SCALAR, SIMD}) {
                String where = kernel.getClass().getSimpleName() + " " + s + " n=" + n;
                try (Arena arena = Arena.ofShared()) {
                    Winograd.State st = state(s, n, kernel);
                    MemorySegment scratch = arena.allocate(4L * 2 * st.region, 64), y = arena.allocate(4L * n * s.outputSize());
                    Winograd.transformWeight(st, seg(arena, w));
                    for (int n0 = 0; n0 < n; n0 += st.chunk) {
                        Winograd.forwardChunk(st, 0, n0, Math.min(st.chunk, n - n0), seg(arena, x), seg(arena, b), y, scratch, 0);
                    }
                    double worst = 0;
                    for (int i = 0; i < ref.length; i++) {
                        double err = Math.abs(y.getAtIndex(F, i) - ref[i]);
                        assertTrue(err <= bound[i], where + " y at " + i + ": error " + err + " above the bound " + bound[i]);
                        worst = Math.max(worst, err / bound[i]);
                    }
                    assertTrue(worst > 0 || ref.length < 4, where + ": no rounding at all is implausible"); // the comparison ran
                }
            }
        }
    }

    @Test
    void gradientsOfBothTwinsMatchDoubleReference() {
        SplittableRandom rng = new SplittableRandom(13);
        for (int[] t : SHAPES) {
            int n = t[0];
            ConvShape s = new ConvShape(t[1], t[2], t[3], t[4], 3, 1, t[5], 1);
            float[] x = TestData.uniform(rng, (int) (n * s.inputSize()), -1, 1), w = TestData.uniform(rng, (int) s.weightSize(), -1, 1);
            float[] dy = TestData.uniform(rng, (int) (n * s.outputSize()), -1, 1);
            double[][] ref = gradientReference(s, n, x, w, dy);
            for (WinogradKernel kernel : new WinogradKernel[] {SCALAR, SIMD}) {
                String where = kernel.getClass().getSimpleName() + " " + s + " n=" + n;
                try (Arena arena = Arena.ofShared()) {
                    Winograd.State st = state(s, n, kernel);
                    MemorySegment scratch = arena.allocate(4L * 2 * st.region, 64), dx = arena.allocate(4L * n * s.inputSize());
                    MemorySegment partials = arena.allocate(4L * st.partialFloats(), 64), dw = arena.allocate(4L * s.weightSize());
                    Winograd.transformWeight(st, seg(arena, w));
                    for (int n0 = 0; n0 < n; n0 += st.chunk) {
                        int nb = Math.min(st.chunk, n - n0);
                        Winograd.weightGradientChunk(st, 0, n0, nb, seg(arena, x), seg(arena, dy), partials, 0, scratch, 0);
                        Winograd.inputGradientChunk(st, 0, n0, nb, seg(arena, dy), dx, scratch, 0);
                    }
                    Winograd.finishWeightGradient(st, partials, 1, dw);
                    // dx is a forward convolution (out channels reduced), dW a sum over n * tiles of 16-element products
                    for (int i = 0; i < ref[1].length; i++) {
                        assertEquals(ref[1][i], dx.getAtIndex(F, i), 16 * TestData.sumTolerance(9 * s.out()), where + " dx at " + i);
                    }
                    for (int i = 0; i < ref[0].length; i++) {
                        assertEquals(ref[0][i], dw.getAtIndex(F, i), 16 * TestData.sumTolerance(n * s.pixels()), where + " dW at " + i);
                    }
                }
            }
        }
    }

    /** The plan keeps the transformed weight while the weight's values stay; one changed value must refresh both transforms. */
    @Test
    void transformedWeightFollowsTheWeight() {
        SplittableRandom rng = new SplittableRandom(5);
        ConvShape s = new ConvShape(3, 5, 4, 2, 3, 1, 1, 1);
        int n = 2;
        float[] x = TestData.uniform(rng, (int) (n * s.inputSize()), -1, 1), w = TestData.uniform(rng, (int) s.weightSize(), -1, 1);
        float[] dy = TestData.uniform(rng, (int) (n * s.outputSize()), -1, 1);
        try (Arena arena = Arena.ofShared()) {
            Conv.Plan plan = Conv.plan(s, n, 1 << 18, true, Winograd.Mode.ON);
            Conv.Scratch scratch = new Conv.Scratch(arena.allocate(4 * plan.columnFloats(), 64), null, arena.allocate(4 * plan.partialFloats(), 64));
            MemorySegment xs = seg(arena, x), ws = seg(arena, w), dys = seg(arena, dy), y = arena.allocate(4L * n * s.outputSize());
            MemorySegment dx = arena.allocate(4L * n * s.inputSize()), dw = arena.allocate(4L * s.weightSize());
            for (int step = 0; step < 3; step++) {
                if (step > 0) { // one weight changes between steps, as an optimizer step would change it
                    w[step * 7] += 0.5f;
                    ws.setAtIndex(F, step * 7, w[step * 7]);
                }
                Conv.forward(plan, scratch, n, xs, ws, null, y);
                Conv.backward(plan, scratch, n, xs, ws, dys, dw, null, dx);
                double[] ref = forwardReference(s, n, x, w, new float[s.out()]);
                double[] refDx = gradientReference(s, n, x, w, dy)[1];
                for (int i = 0; i < ref.length; i++) assertEquals(ref[i], y.getAtIndex(F, i), 1e-4, "step " + step + " y at " + i);
                for (int i = 0; i < refDx.length; i++) assertEquals(refDx[i], dx.getAtIndex(F, i), 1e-4, "step " + step + " dx at " + i);
            }
        }
    }

    @Test
    void modeAndEligibility() {
        ConvShape resnet = new ConvShape(16, 32, 32, 16, 3, 1, 1, 1);
        assertTrue(Winograd.eligible(resnet));
        assertTrue(Winograd.eligible(new ConvShape(3, 7, 9, 4, 3, 1, 0, 1)), "padding 0");
        assertFalse(Winograd.eligible(new ConvShape(16, 32, 32, 32, 3, 2, 1, 1)), "stride 2");
        assertFalse(Winograd.eligible(new ConvShape(16, 8, 8, 16, 3, 1, 1, 16)), "depthwise");
        assertFalse(Winograd.eligible(new ConvShape(16, 8, 8, 16, 5, 1, 2, 1)), "5x5");
        assertFalse(Winograd.eligible(new ConvShape(4, 9, 9, 4, 3, 1, 3, 1)), "padding 3");
        assertTrue(Winograd.chosen(resnet, 128, Winograd.Mode.AUTO));
        assertFalse(Winograd.chosen(resnet, 1, Winograd.Mode.AUTO), "batch 1");
        assertFalse(Winograd.chosen(new ConvShape(3, 32, 32, 16, 3, 1, 1, 1), 128, Winograd.Mode.AUTO), "3 input channels");
        assertTrue(Winograd.chosen(new ConvShape(3, 32, 32, 16, 3, 1, 1, 1), 1, Winograd.Mode.ON));
        assertFalse(Winograd.chosen(resnet, 128, Winograd.Mode.OFF));
        assertTrue(Conv.plan(resnet, 4, 1 << 18, true, Winograd.Mode.ON).winograd());
        assertFalse(Conv.plan(resnet, 4, 1 << 18, true, Winograd.Mode.OFF).winograd());
        String old = System.getProperty("shears.conv.winograd");
        try {
            System.setProperty("shears.conv.winograd", "sometimes");
            var e = assertThrows(IllegalArgumentException.class, Winograd::mode);
            assertTrue(e.getMessage().contains("shears.conv.winograd=sometimes") && e.getMessage().contains("auto, on or off"), e.getMessage());
        } finally {
            if (old == null) System.clearProperty("shears.conv.winograd");
            else System.setProperty("shears.conv.winograd", old);
        }
    }

    /** A state with chunks of 2 samples, so batches of 5 run chunks of 2, 2, 1. */
    private static Winograd.State state(ConvShape s, int n, WinogradKernel kernel) {
        return new Winograd.State(s, Math.min(2, n), 1, kernel);
    }

    private static double[] forwardReference(ConvShape s, int n, float[] x, float[] w, float[] b) {
        int h = s.height(), wd = s.width(), oh = s.outH(), ow = s.outW(), in = s.in();
        double[] y = new double[(int) (n * s.outputSize())];
        for (int bi = 0; bi < n; bi++) for (int o = 0; o < s.out(); o++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
            double acc = b[o];
            for (int c = 0; c < in; c++) for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) {
                int iy = oy - s.pad() + i, ix = ox - s.pad() + j;
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd) acc += (double) w[((o * in + c) * 3 + i) * 3 + j] * x[((bi * in + c) * h + iy) * wd + ix];
            }
            y[((bi * s.out() + o) * oh + oy) * ow + ox] = acc;
        }
        return y;
    }

    /** The bound of {@link #forwardWithinTheRoundingBoundOfBothTwins} for every output pixel. */
    private static double[] forwardBound(ConvShape s, int n, float[] x, float[] w, float[] b) {
        int h = s.height(), wd = s.width(), oh = s.outH(), ow = s.outW(), in = s.in();
        double[] bound = new double[(int) (n * s.outputSize())];
        for (int bi = 0; bi < n; bi++) for (int o = 0; o < s.out(); o++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
            int ty = oy / 2, tx = ox / 2;
            double sum = 0;
            for (int c = 0; c < in; c++) {
                double gs = 0, ds = 0;
                for (int k = 0; k < 9; k++) gs += Math.abs(w[(o * in + c) * 9 + k]);
                for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
                    int iy = 2 * ty - s.pad() + i, ix = 2 * tx - s.pad() + j;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) ds += Math.abs(x[((bi * in + c) * h + iy) * wd + ix]);
                }
                sum += gs * ds;
            }
            bound[((bi * s.out() + o) * oh + oy) * ow + ox] = (in + 9) * EPS * (16 * sum + Math.abs(b[o]));
        }
        return bound;
    }

    /** {dW, dx} in double. */
    private static double[][] gradientReference(ConvShape s, int n, float[] x, float[] w, float[] dy) {
        int h = s.height(), wd = s.width(), oh = s.outH(), ow = s.outW(), in = s.in();
        double[] dw = new double[w.length], dx = new double[x.length];
        for (int bi = 0; bi < n; bi++) for (int o = 0; o < s.out(); o++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
            double g = dy[((bi * s.out() + o) * oh + oy) * ow + ox];
            for (int c = 0; c < in; c++) for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) {
                int iy = oy - s.pad() + i, ix = ox - s.pad() + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                int xi = ((bi * in + c) * h + iy) * wd + ix, wi = ((o * in + c) * 3 + i) * 3 + j;
                dw[wi] += g * x[xi];
                dx[xi] += g * w[wi];
            }
        }
        return new double[][] {dw, dx};
    }

    private static float[] concat(MemorySegment... parts) {
        int total = 0;
        for (MemorySegment p : parts) total += (int) (p.byteSize() / 4);
        float[] all = new float[total];
        int at = 0;
        for (MemorySegment p : parts) {
            int len = (int) (p.byteSize() / 4);
            MemorySegment.copy(p, F, 0, all, at, len);
            at += len;
        }
        return all;
    }

    private static MemorySegment seg(Arena arena, float[] v) {
        MemorySegment s = arena.allocate(Math.max(4, 4L * v.length), 64);
        MemorySegment.copy(v, 0, s, F, 0, v.length);
        return s;
    }
}
