package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The dense direct convolution: DirectConv with each twin against a double-precision convolution
 * over awkward sizes, output channels not a multiple of the block, kernels 1, 2, 3 and 5, strides
 * 1 and 2, padding 0 and 1, dense and depthwise, with and without bias, residual and ReLU, run
 * whole and in 2 or 3 parts (the borders of the padded output must stay zero); the SIMD twin
 * against the scalar spec on random offsets and ranges (the epilogue too); the GEMM route of 1x1 layers; errors for bad geometry and short buffers.
 */
class DirectConvTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final DirectConvKernel SCALAR = new DirectConvScalar();
    private static final DirectConvKernel SIMD = Twins.loadSimd(DirectConvKernel.class, "DirectConvSimd");

    @Test
    void bothTwinsMatchDoubleConvolution() {
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {2, 8, 8}, {4, 9, 13}, {5, 16, 16}, {3, 17, 31}, {16, 14, 14}, {7, 3, 2}, {6, 7, 7}};
        int[] outs = {1, 3, 4, 13, 17};
        int[][] geometries = {{3, 1, 1}, {3, 2, 1}, {1, 1, 0}, {1, 2, 0}, {3, 1, 0}, {3, 2, 0}, {1, 1, 1}, {5, 2, 0}, {2, 2, 1}};
        int i = 0, runs = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (DirectConvKernel twin : new DirectConvKernel[] {SCALAR, SIMD}) for (int[] s : shapes) for (int oc : outs) for (int[] g : geometries) {
                for (boolean depthwise : new boolean[] {false, true}) {
                    int c = s[0], h = s[1], w = s[2], k = g[0], stride = g[1], pad = g[2];
                    if (h + 2 * pad < k || w + 2 * pad < k) continue;
                    if (depthwise && oc != outs[0]) continue; // depthwise: oc = c, once per shape and geometry
                    if (!depthwise && (++i + c + oc) % 2 != 0) continue; // half the dense grid: every size still meets every geometry
                    int groups = depthwise ? c : 1, o = depthwise ? c : oc;
                    runs++;
                    int seed = runs * 31 + (twin == SIMD ? 1 : 0);
                    boolean withBias = runs % 2 == 0, withRes = runs % 3 == 0, relu = runs % 4 < 2;
                    float[] wt = random(seed, o * (c / groups) * k * k), bias = withBias ? random(seed * 3L, o) : null;
                    DirectConv conv = new DirectConv(wt, bias, c, h, w, o, k, stride, pad, groups, twin);
                    if (conv.gemmCapable() && runs % 2 == 0) conv.useGemm(true); // the GEMM route + the twin's epilogue
                    int oh = conv.outHeight(), ow = conv.outWidth();
                    float[] x = random(seed * 7L, c * h * w), res = withRes ? random(seed * 11L, o * oh * ow) : null;
                    double[] want = PaddedConvFixtures.reference(x, c, h, w, wt, o, k, stride, pad, groups, bias, res, relu);
                    int parts = 1 + runs % 3;
                    String where = "x " + c + "x" + h + "x" + w + " oc=" + o + " k=" + k + " stride=" + stride + " pad=" + pad + " depthwise=" + depthwise
                            + " bias=" + withBias + " res=" + withRes + " relu=" + relu + " parts=" + parts + " twin=" + twin.getClass().getSimpleName() + " gemm=" + conv.usesGemm();
                    MemorySegment ys = run(arena, conv, x, c, h, w, res, relu, parts);
                    check(ys, want, o, oh, ow, TestData.sumTolerance((c / groups) * k * k + 2), where);
                }
            }
        }
        assertTrue(runs > 300, "the grid ran " + runs + " cases");
    }

    /** Runs conv on x (padded at float offset 3), the output at offset 5, the residual at 5, scratch (NaN-filled) at 7, in parts. */
    private static MemorySegment run(Arena arena, DirectConv conv, float[] x, int c, int h, int w, float[] res, boolean relu, int parts) {
        int oc = conv.outChannels(), oh = conv.outHeight(), ow = conv.outWidth();
        MemorySegment xs = PaddedConvFixtures.padded(arena, x, c, h, w, 3), ys = arena.allocate(4 * (SparseConv.paddedFloats(oc, oh, ow) + 5), 64);
        ys.fill((byte) 0);
        MemorySegment rs = res == null ? null : PaddedConvFixtures.padded(arena, res, oc, oh, ow, 5);
        MemorySegment scratch = conv.scratchFloats() == 0 ? null : arena.allocate(4 * (conv.scratchFloats() + 7), 64);
        if (scratch != null) scratch.fill((byte) 0xFF); // NaN everywhere: scratch may hold anything between calls
        if (parts == 1) {
            conv.forward(xs, 3, ys, 5, rs, rs == null ? 0 : 5, relu, scratch, 7);
        } else {
            conv.check(xs, 3, ys, 5, rs, 5, scratch, 7);
            if (conv.needsSplit()) for (int p = parts - 1; p >= 0; p--) conv.split(xs, 3, scratch, 7, p, parts);
            for (int p = parts - 1; p >= 0; p--) conv.compute(xs, 3, ys, 5, rs, rs == null ? 0 : 5, relu, scratch, 7, p, parts);
        }
        return ys;
    }

    private static void check(MemorySegment ys, double[] want, int oc, int oh, int ow, double tol, String where) {
        int wpo = ow + 2, hpo = oh + 2;
        for (int o = 0; o < oc; o++) for (int yy = 0; yy < hpo; yy++) for (int xx = 0; xx < wpo; xx++) {
            float got = ys.getAtIndex(F, 5 + ((long) o * hpo + yy) * wpo + xx);
            boolean border = yy == 0 || xx == 0 || yy == hpo - 1 || xx == wpo - 1;
            if (border) {
                assertEquals(0f, got, where + ": border (" + o + "," + yy + "," + xx + ") must stay zero");
            } else {
                assertEquals(want[(o * oh + yy - 1) * ow + xx - 1], got, tol, where + " at (" + o + "," + (yy - 1) + "," + (xx - 1) + ")");
            }
        }
    }

    @Test
    void largerLayersSplitByPositionsAndChannels() {
        // a 1x1 layer whose input outweighs its weight (parts split positions) and a 3x3 one (parts split channel blocks)
        int[][] cases = {{8, 40, 40, 6, 1, 1, 0}, {24, 12, 10, 30, 3, 1, 1}, {9, 33, 35, 10, 3, 2, 1}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] t : cases) {
                int c = t[0], h = t[1], w = t[2], oc = t[3], k = t[4], stride = t[5], pad = t[6];
                float[] wt = random(c + h, oc * c * k * k), bias = random(oc, oc);
                float[] x = random(h * w, c * h * w);
                DirectConv conv = new DirectConv(wt, bias, c, h, w, oc, k, stride, pad, 1);
                double[] want = PaddedConvFixtures.reference(x, c, h, w, wt, oc, k, stride, pad, 1, bias, null, true);
                for (boolean gemm : conv.gemmCapable() ? new boolean[] {false, true} : new boolean[] {false}) {
                    conv.useGemm(gemm);
                    for (int parts : new int[] {1, 2, 5}) {
                        MemorySegment ys = run(arena, conv, x, c, h, w, null, true, parts);
                        check(ys, want, oc, conv.outHeight(), conv.outWidth(), TestData.sumTolerance(c * k * k + 2),
                                "case " + java.util.Arrays.toString(t) + " parts " + parts + " gemm " + gemm);
                    }
                }
            }
        }
    }

    @Test
    void simdTwinMatchesScalarSpec() {
        SplittableRandom rng = new SplittableRandom(42);
        try (Arena arena = Arena.ofConfined()) {
            int[] lengths = java.util.stream.IntStream.concat(java.util.Arrays.stream(TestData.AWKWARD), java.util.stream.IntStream.of(80, 160, 85, 64, 128, 69)).toArray();
            for (int n : lengths) { // whole blocks of 5 vectors (80, 160, 85 - 5) and of 4 (64, 128, 69 - 5): the AVX-512 bodies for 8x8 and 32x32 planes
                if (n > 600) continue;
                for (int rows : new int[] {1, 3, 4, 9}) {
                    int span = 60, kn = 1 + rng.nextInt(20), q0 = n == 85 || n == 69 ? 5 : n % 80 == 0 || n % 64 == 0 ? 0 : n % 7;
                    int[] offset = new int[kn];
                    for (int j = 0; j < kn; j++) offset[j] = rng.nextInt(span);
                    float[] packed = TestData.uniform(rng, (rows + 3) / 4 * 4 * kn, -1f, 1f), taps = TestData.uniform(rng, rows * kn, -1f, 1f);
                    float[] bias = n % 2 == 0 ? TestData.uniform(rng, rows, -1f, 1f) : null;
                    boolean[] valid = n % 3 == 0 ? null : new boolean[n];
                    if (valid != null) for (int q = 0; q < n; q++) valid[q] = rng.nextInt(4) != 0;
                    boolean relu = n % 5 < 3;
                    int ld = n + 3, ldx = span + n + 1;
                    MemorySegment x = PaddedConvFixtures.native1(arena, TestData.uniform(rng, rows * ldx + span + n + 2 + 64, -1f, 1f)); // + the read-ahead room
                    MemorySegment res = n % 4 == 1 ? null : PaddedConvFixtures.native1(arena, TestData.uniform(rng, rows * ld + 1, -1f, 1f));
                    { // the epilogue alone, in place
                        float[] start = TestData.uniform(rng, rows * ld + 1, -1f, 1f);
                        MemorySegment e1 = PaddedConvFixtures.native1(arena, start), e2 = PaddedConvFixtures.native1(arena, start);
                        SCALAR.epilogue(bias, 0, rows, q0, n, e1, 1, ld, res, 1, ld, relu, valid);
                        SIMD.epilogue(bias, 0, rows, q0, n, e2, 1, ld, res, 1, ld, relu, valid);
                        for (int i = 0; i < start.length; i++) assertEquals(e1.getAtIndex(F, i), e2.getAtIndex(F, i), "epilogue n=" + n + " at " + i);
                    }
                    for (boolean depthwise : new boolean[] {false, true}) {
                        MemorySegment y1 = arena.allocate(4L * (rows * ld + 1 + 64), 64), y2 = arena.allocate(4L * (rows * ld + 1 + 64), 64);
                        for (DirectConvKernel twin : new DirectConvKernel[] {SCALAR, SIMD}) {
                            MemorySegment y = twin == SCALAR ? y1 : y2;
                            if (depthwise) twin.depthwise(taps, kn, offset, bias, 0, rows, q0, n, x, 2, ldx, y, 1, ld, res, 1, ld, relu, valid);
                            else twin.dense(packed, kn, offset, bias, 0, rows, q0, n, x, 2, y, 1, ld, res, 1, ld, relu, valid);
                        }
                        for (int r = 0; r < rows; r++) for (int q = q0; q < n; q++) {
                            long at = 1 + (long) r * ld + q;
                            assertEquals(y1.getAtIndex(F, at), y2.getAtIndex(F, at), TestData.sumTolerance(kn + 2),
                                    "n=" + n + " rows=" + rows + " depthwise=" + depthwise + " r=" + r + " q=" + q);
                        }
                    }
                }
            }
        }
    }

    @Test
    void badGeometryAndShortBuffersAreClearErrors() {
        float[] wt = new float[2 * 9];
        var e = assertThrows(IllegalArgumentException.class, () -> new DirectConv(wt, null, 1, 8, 8, 2, 3, 3, 1, 1));
        assertTrue(e.getMessage().contains("stride 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DirectConv(wt, null, 2, 8, 8, 2, 3, 1, 1, 1));
        assertTrue(e.getMessage().contains("(2, 2, 3, 3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DirectConv(wt, null, 2, 8, 8, 4, 3, 1, 1, 2));
        assertTrue(e.getMessage().contains("depthwise"), e.getMessage());
        DirectConv conv = new DirectConv(wt, null, 1, 8, 8, 2, 3, 1, 1, 1);
        e = assertThrows(IllegalArgumentException.class, () -> conv.useGemm(true));
        assertTrue(e.getMessage().contains("1x1"), e.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(4 * SparseConv.paddedFloats(1, 8, 8)), y = arena.allocate(4 * (SparseConv.paddedFloats(2, 8, 8) - 1));
            e = assertThrows(IllegalArgumentException.class, () -> conv.forward(x, 0, y, 0, null, 0, false, null, 0));
            assertTrue(e.getMessage().contains("y needs"), e.getMessage());
        }
    }

    private static float[] random(long seed, int n) {
        return TestData.uniform(new SplittableRandom(seed), n, -1f, 1f);
    }
}
