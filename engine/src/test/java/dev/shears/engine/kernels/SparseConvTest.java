package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The direct sparse convolution: SparseConv (whichever twin the probe picked) against a dense
 * convolution in double on the masked weights, at densities 0, one nonzero, 1%, 10%, 50%, 100%,
 * over awkward sizes, kernels 1 and 3, strides 1 and 2, padding 0 and 1, with and without bias,
 * residual and ReLU (borders of the padded output must stay zero); the SIMD twin against the
 * scalar spec on random offsets and lengths; errors for bad geometry and short buffers.
 */
class SparseConvTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final SparseConvKernel SCALAR = new SparseConvScalar();
    private static final SparseConvKernel SIMD = Twins.loadSimd(SparseConvKernel.class, "SparseConvSimd");

    @Test
    void matchesDenseConvolutionOnMaskedWeights() {
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {2, 8, 8}, {4, 9, 13}, {5, 16, 16}, {3, 17, 31}, {2, 32, 32}, {7, 3, 2}};
        int[] outs = {1, 3, 8, 13};
        int[][] geometries = {{3, 1, 1}, {3, 2, 1}, {1, 1, 0}, {1, 2, 0}, {3, 1, 0}, {3, 2, 0}, {1, 1, 1}, {5, 1, 1}, {5, 2, 0}, {2, 2, 1}};
        int i = 0, runs = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (double d : SparseMatrixTest.DENSITIES) for (int[] s : shapes) for (int oc : outs) for (int[] g : geometries) {
                int c = s[0], h = s[1], w = s[2], k = g[0], stride = g[1], pad = g[2];
                if (h + 2 * pad < k || w + 2 * pad < k) continue;
                if ((++i + c + oc) % 3 != 0) continue; // a third of the grid: every size still meets every geometry
                runs++;
                boolean withBias = i % 2 == 0, withRes = i % 3 == 0, relu = i % 4 < 2;
                float[] wt = SparseMatrixTest.masked(i, oc, c * k * k, c * k * k, d);
                SparseMatrix sm = SparseMatrix.fromDense(MemorySegment.ofArray(wt), 0, oc, c * k * k, c * k * k);
                SparseConv conv = new SparseConv(sm, withBias ? random(i * 3L, oc) : null, c, h, w, k, stride, pad);
                int oh = conv.outHeight(), ow = conv.outWidth();
                float[] x = random(i * 7L, c * h * w), res = withRes ? random(i * 11L, oc * oh * ow) : null;
                float[] bias = withBias ? random(i * 3L, oc) : null;
                double[] want = PaddedConvFixtures.reference(x, c, h, w, wt, oc, k, stride, pad, 1, bias, res, relu);
                MemorySegment xs = PaddedConvFixtures.padded(arena, x, c, h, w, 3), ys = arena.allocate(4 * (SparseConv.paddedFloats(oc, oh, ow) + 5), 64);
                ys.fill((byte) 0);
                MemorySegment rs = res == null ? null : PaddedConvFixtures.padded(arena, res, oc, oh, ow, 5);
                MemorySegment scratch = conv.scratchFloats() == 0 ? null : arena.allocate(4 * (conv.scratchFloats() + 7), 64);
                if (scratch != null) scratch.fill((byte) 0xFF); // NaN everywhere: scratch may hold anything between calls
                conv.forward(xs, 3, ys, 5, rs, rs == null ? 0 : 5, relu, scratch, 7);
                String where = "x " + c + "x" + h + "x" + w + " oc=" + oc + " k=" + k + " stride=" + stride + " pad=" + pad + " density=" + d
                        + " bias=" + withBias + " res=" + withRes + " relu=" + relu;
                int wpo = ow + 2, hpo = oh + 2;
                double tol = TestData.sumTolerance(c * k * k + 2);
                for (int o = 0; o < oc; o++) for (int yy = 0; yy < hpo; yy++) for (int xx = 0; xx < wpo; xx++) {
                    float got = ys.getAtIndex(F, 5 + ((long) o * hpo + yy) * wpo + xx);
                    boolean border = yy == 0 || xx == 0 || yy == hpo - 1 || xx == wpo - 1;
                    if (border) {
                        assertEquals(0f, got, where + ": border (" + o + "," + yy + "," + xx + ") must stay zero");
                    } else {
                        double e = want[(o * oh + yy - 1) * ow + xx - 1];
                        assertEquals(e, got, tol, where + " at (" + o + "," + (yy - 1) + "," + (xx - 1) + ")");
                    }
                }
            }
        }
        assertTrue(runs > 200, "the grid ran " + runs + " cases");
    }

    @Test
    void residualMayBeTheOutputItself() {
        try (Arena arena = Arena.ofConfined()) {
            int c = 4, h = 6, w = 5, oc = 4;
            float[] wt = SparseMatrixTest.masked(5, oc, c * 9, c * 9, 0.3);
            SparseConv conv = new SparseConv(SparseMatrix.fromDense(MemorySegment.ofArray(wt), 0, oc, c * 9, c * 9), null, c, h, w, 3, 1, 1);
            float[] x = random(1, c * h * w), res = random(2, oc * h * w);
            double[] want = PaddedConvFixtures.reference(x, c, h, w, wt, oc, 3, 1, 1, 1, null, res, true);
            MemorySegment xs = PaddedConvFixtures.padded(arena, x, c, h, w, 0), ys = PaddedConvFixtures.padded(arena, res, oc, h, w, 0);
            conv.forward(xs, 0, ys, 0, ys, 0, true, null, 0);
            float[] got = new float[oc * h * w];
            SparseConv.unpad(ys, 0, oc, h, w, MemorySegment.ofArray(got), 0);
            for (int j = 0; j < got.length; j++) assertEquals(want[j], got[j], TestData.sumTolerance(c * 9 + 1), "at " + j);
        }
    }

    @Test
    void simdTwinMatchesScalarSpec() {
        SplittableRandom rng = new SplittableRandom(42);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : TestData.AWKWARD) {
                if (n > 600) continue;
                for (int rows : new int[] {1, 2, 5}) {
                    int span = 50;
                    int[] rowStart = new int[rows + 1];
                    for (int r = 0; r < rows; r++) rowStart[r + 1] = rowStart[r] + rng.nextInt(0, 20);
                    int nnz = rowStart[rows];
                    int[] offset = new int[nnz];
                    float[] value = TestData.uniform(rng, nnz, -1f, 1f);
                    for (int p = 0; p < nnz; p++) offset[p] = rng.nextInt(span);
                    float[] bias = n % 2 == 0 ? TestData.uniform(rng, rows, -1f, 1f) : null;
                    boolean[] valid = n % 3 == 0 ? null : new boolean[n];
                    if (valid != null) for (int q = 0; q < n; q++) valid[q] = rng.nextInt(4) != 0;
                    boolean relu = n % 5 < 3;
                    int ld = n + 3;
                    MemorySegment x = PaddedConvFixtures.native1(arena, TestData.uniform(rng, span + n + 2, -1f, 1f));
                    MemorySegment res = n % 4 == 1 ? null : PaddedConvFixtures.native1(arena, TestData.uniform(rng, rows * ld + 1, -1f, 1f));
                    MemorySegment y1 = arena.allocate(4L * (rows * ld + 1), 64), y2 = arena.allocate(4L * (rows * ld + 1), 64);
                    SCALAR.rows(rowStart, offset, value, bias, 0, rows, n, x, 2, y1, 1, ld, res, 1, ld, relu, valid);
                    SIMD.rows(rowStart, offset, value, bias, 0, rows, n, x, 2, y2, 1, ld, res, 1, ld, relu, valid);
                    for (int r = 0; r < rows; r++) for (int q = 0; q < n; q++) {
                        long at = 1 + (long) r * ld + q;
                        assertEquals(y1.getAtIndex(F, at), y2.getAtIndex(F, at), TestData.sumTolerance(rowStart[r + 1] - rowStart[r] + 2),
                                "n=" + n + " rows=" + rows + " r=" + r + " q=" + q);
                    }
                }
            }
        }
    }

    @Test
    void layoutMovesOfTheTwinsMatchTheSpec() {
        SplittableRandom rng = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : TestData.AWKWARD) {
                if (n > 300) continue;
                // deinterleave: n pairs from an odd offset into two outputs
                MemorySegment x = PaddedConvFixtures.native1(arena, TestData.uniform(rng, 2 * n + 3, -1f, 1f));
                float[][] got = new float[2][];
                for (SparseConvKernel k : new SparseConvKernel[] {SCALAR, SIMD}) {
                    MemorySegment e = arena.allocate(4L * (n + 2), 64), o = arena.allocate(4L * (n + 2), 64);
                    k.deinterleave(x, 3, e, 1, o, 2, n);
                    float[] out = new float[2 * n];
                    for (int j = 0; j < n; j++) {
                        out[2 * j] = e.getAtIndex(F, 1 + j);
                        out[2 * j + 1] = o.getAtIndex(F, 2 + j);
                    }
                    got[k == SCALAR ? 0 : 1] = out;
                }
                for (int j = 0; j < 2 * n; j++) {
                    assertEquals(x.getAtIndex(F, 3 + j), got[0][j], "scalar deinterleave n=" + n + " at " + j);
                    assertEquals(got[0][j], got[1][j], "SIMD deinterleave n=" + n + " at " + j);
                }
                // copyRows: 3 rows of n between strides n + 5 and n + 2, offsets 4 and 1; the gaps stay as they were
                int rows = 3, ss = n + 5, ds = n + 2;
                MemorySegment src = PaddedConvFixtures.native1(arena, TestData.uniform(rng, 4 + rows * ss, -1f, 1f));
                for (SparseConvKernel k : new SparseConvKernel[] {SCALAR, SIMD}) {
                    MemorySegment dst = arena.allocate(4L * (1 + rows * ds + 1), 64);
                    dst.fill((byte) 0xFF);
                    k.copyRows(src, 4, ss, dst, 1, ds, rows, n);
                    for (int i = 0; i < rows; i++) for (int j = 0; j < ds; j++) {
                        float v = dst.getAtIndex(F, 1 + (long) i * ds + j);
                        if (j < n) assertEquals(src.getAtIndex(F, 4 + (long) i * ss + j), v, k + " copyRows n=" + n + " (" + i + "," + j + ")");
                        else assertTrue(Float.isNaN(v), k + " copyRows n=" + n + " wrote the gap at (" + i + "," + j + ")");
                    }
                }
            }
        }
    }

    @Test
    void rowRangesOnTwoThreadsEqualOneForward() throws Exception {
        // prepare in parts + forwardRows over disjoint row ranges, from two threads, equals forward bit for bit
        try (Arena arena = Arena.ofShared()) {
            for (int stride : new int[] {1, 2}) {
                int c = 5, h = 11, w = 9, oc = 7;
                float[] wt = SparseMatrixTest.masked(3 + stride, oc, c * 9, c * 9, 0.3);
                SparseConv conv = new SparseConv(SparseMatrix.fromDense(MemorySegment.ofArray(wt), 0, oc, c * 9, c * 9), random(9, oc), c, h, w, 3, stride, 1);
                MemorySegment xs = PaddedConvFixtures.padded(arena, random(4, c * h * w), c, h, w, 0);
                long out = SparseConv.paddedFloats(oc, conv.outHeight(), conv.outWidth());
                MemorySegment res = PaddedConvFixtures.padded(arena, random(5, oc * conv.outHeight() * conv.outWidth()), oc, conv.outHeight(), conv.outWidth(), 0);
                MemorySegment y1 = arena.allocate(4 * out, 64), y2 = arena.allocate(4 * out, 64);
                MemorySegment s1 = arena.allocate(4 * (conv.scratchFloats() + 1), 64), s2 = arena.allocate(4 * (conv.scratchFloats() + 1), 64);
                conv.forward(xs, 0, y1, 0, res, 0, true, s1, 0);
                Thread t = new Thread(() -> conv.prepare(xs, 0, s2, 0, 1, 2));
                t.start();
                conv.prepare(xs, 0, s2, 0, 0, 2);
                t.join();
                t = new Thread(() -> conv.forwardRows(xs, 0, y2, 0, res, 0, true, s2, 0, 3, oc));
                t.start();
                conv.forwardRows(xs, 0, y2, 0, res, 0, true, s2, 0, 0, 3);
                t.join();
                for (long i = 0; i < out; i++) assertEquals(y1.getAtIndex(F, i), y2.getAtIndex(F, i), "stride " + stride + " at " + i);
            }
        }
    }

    @Test
    void badGeometryAndShortBuffersAreClearErrors() {
        SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(new float[2 * 9]), 0, 2, 9, 9);
        var e = assertThrows(IllegalArgumentException.class, () -> new SparseConv(s, null, 1, 8, 8, 3, 3, 1));
        assertTrue(e.getMessage().contains("stride 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SparseConv(s, null, 2, 8, 8, 3, 1, 1));
        assertTrue(e.getMessage().contains("(oc, 18)"), e.getMessage());
        SparseConv conv = new SparseConv(s, null, 1, 8, 8, 3, 1, 1);
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
