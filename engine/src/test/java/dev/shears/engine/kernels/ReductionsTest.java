package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Reductions: sums against a double loop with tolerance growing with n (and a long, offset-heavy
 * array for the SIMD twin's blocked float accumulation), max/argmax exactly against a brute
 * force with NaN, ties and signed zeros, column sums bit for bit, per-channel NCHW sums against
 * double references through the threaded facade, facade errors.
 */
class ReductionsTest {
    private static final ReductionKernel SCALAR = new ReductionScalar();
    private static final ReductionKernel SIMD = Twins.loadSimd(ReductionKernel.class, "ReductionSimd");
    private static final ReductionKernel[] BOTH = {SCALAR, SIMD};

    @Test
    void sumsMatchDoubleLoop() {
        for (int n : TestData.AWKWARD) {
            int off = n % 4;
            try (Tensor x = TestData.randomTensor(n, n + off)) {
                double s = 0, q = 0;
                for (int i = off; i < n + off; i++) {
                    s += x.get(i);
                    q += (double) x.get(i) * x.get(i);
                }
                for (ReductionKernel k : BOTH) {
                    assertEquals(s, k.sum(x.segment(), off, n), TestData.sumTolerance(n), name(k) + " sum n=" + n);
                    assertEquals(q, k.sumOfSquares(x.segment(), off, n), TestData.sumTolerance(n), name(k) + " sumOfSquares n=" + n);
                }
                assertEquals(s, SCALAR.sum(x.segment(), off, n), 1e-9 * n, "the spec accumulates in double");
            }
        }
    }

    @Test
    void longSumsWithALargeMeanStayAccurate() {
        // one float accumulator loses ~3 digits here (relative error ~1e-3); blocks into double keep ~1e-8
        int n = 300_007;
        try (Tensor x = TestData.randomTensor(5, n)) {
            double s = 0, q = 0, abs = 0;
            for (int i = 0; i < n; i++) {
                float v = 1000f + x.get(i);
                x.set(i, v);
                s += v;
                q += (double) v * v;
                abs += Math.abs(v);
            }
            for (ReductionKernel k : BOTH) {
                assertEquals(s, k.sum(x.segment(), 0, n), 1e-7 * abs, name(k));
                assertEquals(q, k.sumOfSquares(x.segment(), 0, n), 1e-7 * q, name(k));
            }
        }
    }

    @Test
    void maxAndArgmaxAreExactWithNaNTiesAndSignedZeros() {
        for (int n : TestData.AWKWARD) {
            for (int pattern = 0; pattern < 6; pattern++) {
                float[] v = TestData.uniform(new java.util.SplittableRandom(n * 7L + pattern), n, -3, 3);
                switch (pattern) {
                    case 1 -> { v[n / 2] = 9f; v[n - 1] = 9f; } // tie: the first wins
                    case 2 -> { v[(n * 2) / 3] = Float.NaN; v[n - 1] = Float.NaN; v[0] = Float.POSITIVE_INFINITY; } // first NaN wins
                    case 3 -> { for (int i = 0; i < n; i++) v[i] = i % 2 == 0 ? -0f : 0f; v[n - 1] = n % 3 == 0 ? -0f : v[n - 1]; }
                    case 4 -> java.util.Arrays.fill(v, Float.NEGATIVE_INFINITY);
                    case 5 -> { for (int i = 0; i < n; i++) v[i] = -Math.abs(v[i]) - 1; v[n - 1] = -0.5f; }
                    default -> { }
                }
                int wantIndex = 0;
                for (int i = 0; i < n; i++) {
                    if (Float.isNaN(v[i])) { wantIndex = i; break; }
                    if (v[i] > v[wantIndex]) wantIndex = i;
                }
                float wantMax = Float.NEGATIVE_INFINITY;
                for (float f : v) wantMax = Math.max(wantMax, f);
                try (Tensor x = Tensor.allocate(DType.F32, n + 3)) {
                    for (int i = 0; i < n; i++) x.set(3 + i, v[i]);
                    for (ReductionKernel k : BOTH) {
                        String what = name(k) + " n=" + n + " pattern " + pattern;
                        assertEquals(wantIndex, k.argmax(x.segment(), 3, n), what);
                        float got = k.max(x.segment(), 3, n);
                        if (Float.isNaN(wantMax)) assertTrue(Float.isNaN(got), what);
                        else assertEquals(Float.floatToIntBits(wantMax), Float.floatToIntBits(got), what + ": " + got);
                    }
                }
            }
        }
        try (Tensor empty = Tensor.allocate(DType.F32, 1)) {
            for (ReductionKernel k : BOTH) assertEquals(Float.NEGATIVE_INFINITY, k.max(empty.segment(), 0, 0));
        }
    }

    @Test
    void argmaxIsTheFirstIndexOfTheMaximumProperty() {
        qt().withExamples(300).forAll(lists().of(integers().between(-5, 5)).ofSizeBetween(1, 200)).checkAssert(vals -> {
            try (Tensor x = Tensor.allocate(DType.F32, vals.size())) {
                for (int i = 0; i < vals.size(); i++) x.set(i, vals.get(i));
                for (ReductionKernel k : BOTH) {
                    int a = k.argmax(x.segment(), 0, vals.size());
                    int m = java.util.Collections.max(vals);
                    assertEquals(m, (int) vals.get(a), name(k) + " " + vals);
                    assertEquals(vals.indexOf(m), a, name(k) + " " + vals);
                }
            }
        });
    }

    @Test
    void rowArgmaxAndColumnSums() {
        for (int rows : new int[] {1, 3, 17, 128}) for (int cols : TestData.AWKWARD_SMALL) {
            try (Tensor x = TestData.randomTensor(rows * 100 + cols, rows, cols); Tensor out = Tensor.allocate(DType.I32, rows);
                 Tensor c1 = TestData.randomTensor(9, cols + 1); Tensor c2 = TestData.randomTensor(9, cols + 1)) {
                for (ReductionKernel k : BOTH) {
                    k.rowArgmax(x.segment(), 0, rows, cols, out.segment(), 0);
                    for (int r = 0; r < rows; r++) assertEquals(SCALAR.argmax(x.segment(), (long) r * cols, cols), out.getInt(r));
                }
                float[] before = c1.toFloatArray();
                SCALAR.columnSumsAdd(x.segment(), 0, rows, cols, c1.segment(), 1);
                SIMD.columnSumsAdd(x.segment(), 0, rows, cols, c2.segment(), 1);
                Im2colTest.assertBitsEqual(c1, c2, "columnSumsAdd " + rows + "x" + cols);
                assertEquals(before[0], c1.get(0), 0f, "the float before the offset is untouched");
                for (int c = 0; c < cols; c++) {
                    double s = before[c + 1];
                    for (int r = 0; r < rows; r++) s += x.get((long) r * cols + c);
                    assertEquals(s, c1.get(c + 1), TestData.sumTolerance(rows));
                }
            }
        }
    }

    @Test
    void channelReductionsMatchDoubleReference() {
        int[][] shapes = {{1, 1, 1}, {2, 3, 5}, {3, 16, 17}, {4, 5, 1024}, {2, 3, 4099}, {64, 16, 64}}; // last two take the threaded facade path
        for (int[] sh : shapes) {
            int n = sh[0], c = sh[1], hw = sh[2];
            try (Tensor x = TestData.randomTensor(hw + c, n, c, hw); Tensor dy = TestData.randomTensor(hw * 3 + c, n, c, hw)) {
                for (long i = 0; i < x.size(); i++) x.set(i, 2f + x.get(i)); // a non-zero mean, as activations have
                double[] s = new double[c], q = new double[c], mean = new double[c], cq = new double[c], cd = new double[c];
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < n; i++) for (int p = 0; p < hw; p++) {
                        double v = x.get(((long) i * c + ch) * hw + p);
                        s[ch] += v;
                        q[ch] += v * v;
                    }
                    mean[ch] = s[ch] / ((double) n * hw);
                    for (int i = 0; i < n; i++) for (int p = 0; p < hw; p++) {
                        long idx = ((long) i * c + ch) * hw + p;
                        double d = x.get(idx) - mean[ch];
                        cq[ch] += d * d;
                        cd[ch] += dy.get(idx) * d;
                    }
                }
                double tol = TestData.sumTolerance(n * hw);
                for (ReductionKernel k : BOTH) {
                    double[] o = new double[c + 2];
                    k.channelSum(x.segment(), 0, n, (long) c * hw, c, hw, o, 2);
                    for (int ch = 0; ch < c; ch++) assertEquals(s[ch], o[ch + 2], tol * 3, name(k) + " channelSum " + java.util.Arrays.toString(sh));
                }
                double[] o = new double[c];
                Reductions.channelSum(x.segment(), 0, n, c, hw, o);
                for (int ch = 0; ch < c; ch++) assertEquals(s[ch], o[ch], tol * 3, "facade channelSum");
                Reductions.channelSumOfSquares(x.segment(), 0, n, c, hw, o);
                for (int ch = 0; ch < c; ch++) assertEquals(q[ch], o[ch], tol * 9, "facade channelSumOfSquares");
                Reductions.channelCenteredSumOfSquares(x.segment(), 0, n, c, hw, mean, o);
                for (int ch = 0; ch < c; ch++) assertEquals(cq[ch], o[ch], tol, "facade channelCenteredSumOfSquares");
                Reductions.channelCenteredDot(dy.segment(), 0, x.segment(), 0, n, c, hw, mean, o);
                for (int ch = 0; ch < c; ch++) assertEquals(cd[ch], o[ch], tol, "facade channelCenteredDot");
                for (ReductionKernel k : BOTH) {
                    double[] o2 = new double[c];
                    k.channelCenteredDot(dy.segment(), 0, x.segment(), 0, n, (long) c * hw, c, hw, mean, o2, 0);
                    for (int ch = 0; ch < c; ch++) assertEquals(cd[ch], o2[ch], tol, name(k) + " channelCenteredDot");
                }
            }
        }
    }

    @Test
    void facadeErrorsNameKernelAndShape() {
        try (Tensor x = Tensor.allocate(DType.F32, 2, 3, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reductions.channelSum(x.segment(), 0, 3, 3, 4, new double[3]));
            assertTrue(e.getMessage().startsWith("channelSum: x (3, 3, 4)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Reductions.channelSum(x.segment(), 0, 2, 3, 4, new double[2]));
            assertTrue(e.getMessage().contains("out needs 3 entries"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Reductions.channelCenteredSumOfSquares(x.segment(), 0, 2, 3, 4, null, new double[3]));
            assertTrue(e.getMessage().contains("mean needs 3 entries"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Reductions.argmax(x.segment(), 0, 0));
            assertTrue(e.getMessage().contains("at least one"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Reductions.rowArgmax(x.segment(), 0, 4, 6, MemorySegment.NULL, 0));
            assertTrue(e.getMessage().startsWith("rowArgmax: out (ints) (4)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Reductions.sum(x.segment(), 20, 5));
            assertTrue(e.getMessage().startsWith("sum: x (5) at offset 20"), e.getMessage());
        }
    }

    private static String name(ReductionKernel k) {
        return k.getClass().getSimpleName();
    }

}
