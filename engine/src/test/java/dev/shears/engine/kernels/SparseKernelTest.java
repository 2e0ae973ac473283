package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import dev.shears.engine.DType;
import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every sparse kernel against a double-precision dense product on the masked dense weights
 * (densities 0, one nonzero, 1%, 10%, 50%, 100%; awkward sizes; alpha, beta, offsets, ld > n),
 * the SIMD twin against the scalar twin, the thread split, and the facade's errors.
 */
class SparseKernelTest {
    static final int[] ROWS = {1, 2, 3, 5, 8, 13, 17, 33, 65};
    static final int[] COLS = {1, 2, 3, 7, 9, 16, 31, 64, 127};
    static final int[] NS = {1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 31, 33, 64, 65, 127};
    static final float[] ALPHAS = {1f, 0.75f, -2f};
    static final float[] BETAS = {0f, 1f, -0.5f};

    /** alpha * W X + beta * Y0 in double; W (rows, cols) ld ldw, X (cols, n) ld ldx, Y0 (rows, n) ld ldy. */
    static double[] reference(float[] w, int ldw, int rows, int cols, float[] x, int xOff, int ldx, int n,
                              float alpha, float beta, float[] y0, int yOff, int ldy) {
        double[] out = new double[rows * n];
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int c = 0; c < cols; c++) acc += (double) w[r * ldw + c] * x[xOff + c * ldx + j];
            out[r * n + j] = alpha * acc + (beta == 0f ? 0 : beta * (double) y0[yOff + r * ldy + j]);
        }
        return out;
    }

    static float[] random(long seed, int n) {
        return TestData.uniform(new SplittableRandom(seed), n, -1f, 1f);
    }

    @Test
    void spmmMatchesDenseOnMaskedWeights() {
        int i = 0;
        for (double d : SparseMatrixTest.DENSITIES) for (int rows : ROWS) for (int cols : COLS) for (int n : NS) {
            if ((++i + rows + cols + n) % 3 != 0) continue; // a third of the grid: every size still meets every other
            float alpha = ALPHAS[i % 3], beta = BETAS[(i / 3) % 3];
            int ldx = n + (i % 2) * 3, ldy = n + (i % 4 == 1 ? 5 : 0), xOff = i % 3, yOff = i % 5;
            float[] w = SparseMatrixTest.masked(i, rows, cols, cols, d);
            SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, rows, cols, cols);
            float[] x = random(i * 7L, xOff + (cols - 1) * ldx + n);
            float[] y = random(i * 13L, yOff + (rows - 1) * ldy + n);
            float[] y0 = y.clone();
            if (beta == 0f) y[yOff] = Float.NaN; // beta 0 overwrites: a NaN in Y must not survive
            double[] want = reference(w, cols, rows, cols, x, xOff, ldx, n, alpha, beta, y0, yOff, ldy);
            Sparse.spmm(s, n, alpha, MemorySegment.ofArray(x), xOff, ldx, beta, MemorySegment.ofArray(y), yOff, ldy);
            String where = "rows=" + rows + " cols=" + cols + " n=" + n + " density=" + d + " alpha=" + alpha + " beta=" + beta;
            assertMatches(want, y, yOff, ldy, rows, n, TestData.sumTolerance(cols) * Math.abs(alpha) + 1e-6, where);
            for (int r = 0; r < rows - 1; r++) for (int j = n; j < ldy; j++) {
                assertEquals(y0[yOff + r * ldy + j], y[yOff + r * ldy + j], "padding of Y touched at row " + r + ", " + where);
            }
        }
    }

    @Test
    void simdTwinMatchesScalarTwin() {
        SparseKernel simd = Twins.loadSimd(SparseKernel.class, "SparseSimd");
        SparseKernel scalar = new SparseScalar();
        int i = 0;
        for (double d : SparseMatrixTest.DENSITIES) for (int rows : new int[] {1, 3, 8, 17}) for (int cols : COLS) for (int n : NS) {
            if ((++i + cols + n) % 2 != 0) continue;
            float alpha = ALPHAS[i % 3], beta = BETAS[(i / 3) % 3];
            int ldx = n + (i % 3), ldy = n + (i % 2) * 4;
            float[] w = SparseMatrixTest.masked(i + 99, rows, cols, cols, d);
            SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, rows, cols, cols);
            float[] x = random(i * 3L, (cols - 1) * ldx + n);
            float[] y1 = random(i * 5L, (rows - 1) * ldy + n), y2 = y1.clone();
            // a row range that skips the first row when there are several: the kernels honour [rowFrom, rowTo)
            int from = rows > 2 ? 1 : 0;
            simd.spmm(s.rowStart, s.col, s.value, from, rows, n, alpha, MemorySegment.ofArray(x), 0, ldx, beta, MemorySegment.ofArray(y1), 0, ldy);
            scalar.spmm(s.rowStart, s.col, s.value, from, rows, n, alpha, MemorySegment.ofArray(x), 0, ldx, beta, MemorySegment.ofArray(y2), 0, ldy);
            double tol = TestData.sumTolerance(cols) * Math.abs(alpha) + 1e-6;
            for (int k = 0; k < y1.length; k++) {
                assertEquals(y2[k], y1[k], tol, "index " + k + " rows=" + rows + " cols=" + cols + " n=" + n + " density=" + d);
            }
            float[] xv = random(i * 11L, cols + 2);
            float[] bias = random(i * 17L, rows);
            float[] v1 = new float[rows], v2 = new float[rows];
            simd.spmv(s.rowStart, s.col, s.value, 0, rows, xv, 2, MemorySegment.ofArray(bias), 0, MemorySegment.ofArray(v1), 0);
            scalar.spmv(s.rowStart, s.col, s.value, 0, rows, xv, 2, MemorySegment.ofArray(bias), 0, MemorySegment.ofArray(v2), 0);
            for (int r = 0; r < rows; r++) assertEquals(v2[r], v1[r], TestData.sumTolerance(cols), "spmv row " + r);
        }
    }

    @Test
    void spmvMatchesDenseWithAndWithoutBias() {
        int i = 0;
        for (double d : SparseMatrixTest.DENSITIES) for (int rows : new int[] {1, 2, 5, 16, 33, 127, 300}) for (int cols : new int[] {1, 3, 8, 17, 65, 256}) {
            i++;
            float[] w = SparseMatrixTest.masked(i * 31L, rows, cols, cols, d);
            SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, rows, cols, cols);
            float[] x = random(i, cols + 1);
            float[] bias = random(i + 1000, rows + 2);
            boolean withBias = i % 2 == 0;
            float[] y = new float[rows + 1];
            y[0] = Float.NaN;
            Sparse.spmv(s, MemorySegment.ofArray(x), 1, withBias ? MemorySegment.ofArray(bias) : null, 2, MemorySegment.ofArray(y), 1);
            double[] want = reference(w, cols, rows, cols, x, 1, 1, 1, 1f, 0f, null, 0, 0);
            for (int r = 0; r < rows; r++) {
                double expect = want[r] + (withBias ? bias[2 + r] : 0);
                assertEquals(expect, y[1 + r], TestData.sumTolerance(cols), "row " + r + " of " + rows + "x" + cols + " density " + d);
            }
            assertTrue(Float.isNaN(y[0]), "spmv wrote before its output offset");
        }
    }

    @Test
    void batchedLinearMatchesDenseInBothRegimes() {
        int i = 0;
        // batches below and above LINEAR_TRANSPOSE_BATCH (a vector: 4, 8 or 16 rows; never when scalar)
        for (int batch : new int[] {1, 2, 3, 4, 5, 8, 9, 16, 17, 64}) for (double d : SparseMatrixTest.DENSITIES) for (int[] shape : new int[][] {{1, 1}, {7, 13}, {33, 16}, {130, 70}}) {
            i++;
            int out = shape[0], in = shape[1], ldx = in + i % 3, ldy = out + (i % 2) * 2;
            float[] w = SparseMatrixTest.masked(i * 5L, out, in, in, d);
            SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, out, in, in);
            float[] x = random(i, (batch - 1) * ldx + in);
            float[] bias = random(i + 7, out);
            float[] y = new float[(batch - 1) * ldy + out];
            java.util.Arrays.fill(y, Float.NaN);
            boolean withBias = i % 3 != 0;
            Sparse.linear(s, batch, MemorySegment.ofArray(x), 0, ldx, withBias ? MemorySegment.ofArray(bias) : null, 0, MemorySegment.ofArray(y), 0, ldy);
            for (int b = 0; b < batch; b++) for (int r = 0; r < out; r++) {
                double acc = withBias ? bias[r] : 0;
                for (int c = 0; c < in; c++) acc += (double) w[r * in + c] * x[b * ldx + c];
                assertEquals(acc, y[b * ldy + r], TestData.sumTolerance(in), "batch " + batch + " row " + b + " out " + r + " of " + out + "x" + in + " density " + d);
            }
        }
    }

    @Test
    void batchedLinearWithCallerScratch() {
        int out = 40, in = 23, batch = 33;
        float[] w = SparseMatrixTest.masked(8, out, in, in, 0.3);
        SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, out, in, in);
        try (Tensor x = TestData.randomTensor(9, batch, in); Tensor bias = TestData.randomTensor(10, out);
             Tensor y1 = Tensor.allocate(DType.F32, batch, out); Tensor y2 = Tensor.allocate(DType.F32, batch, out);
             Tensor scratch = Tensor.allocate(DType.F32, (int) Sparse.linearScratchFloats(s, batch))) {
            Sparse.linear(s, x, bias, y1);
            Sparse.linear(s, batch, x.segment(), 0, in, bias.segment(), 0, y2.segment(), 0, out, scratch.segment());
            assertArrayEquals(y1.toFloatArray(), y2.toFloatArray());
            float[] xs = x.toFloatArray();
            for (int b = 0; b < batch; b++) for (int r = 0; r < out; r++) {
                double acc = bias.get(r);
                for (int c = 0; c < in; c++) acc += (double) w[r * in + c] * xs[b * in + c];
                assertEquals(acc, y2.get((long) b * out + r), TestData.sumTolerance(in));
            }
            if (Sparse.LINEAR_TRANSPOSE_BATCH <= batch) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sparse.linear(s, batch, x.segment(), 0, in, null, 0,
                        y2.segment(), 0, out, scratch.segment().asSlice(0, 40)));
                assertTrue(e.getMessage().contains("scratch") && e.getMessage().contains("40 bytes"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> Sparse.linear(s, batch, x.segment(), 0, in, null, 0,
                        y2.segment(), 0, out, MemorySegment.ofArray(new float[5000])));
                assertTrue(e.getMessage().contains("heap segment"), e.getMessage());
            }
        }
    }

    @Test
    void threadSplitsGiveTheSameAnswer() {
        // large enough to cross PARALLEL_WORK: many rows (row split) and few rows with long runs (column split)
        for (int[] shape : new int[][] {{200, 100, 129}, {3, 300, 700}, {5, 64, 2053}}) {
            int rows = shape[0], cols = shape[1], n = shape[2];
            assertTrue(((long) rows * cols / 2 + rows) * n >= Sparse.PARALLEL_WORK);
            float[] w = SparseMatrixTest.masked(rows, rows, cols, cols, 0.5);
            // skew the rows: the first rows dense, so an even row split would be unbalanced
            for (int c = 0; c < cols; c++) w[c] = 0.25f;
            SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, rows, cols, cols);
            float[] x = random(cols, cols * n);
            float[] y = new float[rows * n];
            Sparse.spmm(s, n, 1f, MemorySegment.ofArray(x), 0, n, 0f, MemorySegment.ofArray(y), 0, n);
            float[] y1 = new float[rows * n];
            new SparseScalar().spmm(s.rowStart, s.col, s.value, 0, rows, n, 1f, MemorySegment.ofArray(x), 0, n, 0f, MemorySegment.ofArray(y1), 0, n);
            for (int k = 0; k < y.length; k++) assertEquals(y1[k], y[k], TestData.sumTolerance(cols), "index " + k + " of " + rows + "x" + cols + " n=" + n);
        }
    }

    @Test
    void rowSplitCoversEveryRowOnceAndBalancesNonzeros() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int rows : new int[] {1, 2, 3, 7, 100, 1000}) for (int parts : new int[] {1, 2, 3, 8}) {
            int[] rowStart = new int[rows + 1];
            int maxRow = 0;
            for (int r = 0; r < rows; r++) {
                int len = rng.nextInt(10) == 0 ? rng.nextInt(500) : rng.nextInt(5);
                maxRow = Math.max(maxRow, len);
                rowStart[r + 1] = rowStart[r] + len;
            }
            int[] b = Sparse.balancedRows(rowStart, rows, Math.min(parts, rows));
            assertEquals(0, b[0]);
            assertEquals(rows, b[b.length - 1]);
            long total = (long) rowStart[rows] + rows;
            for (int t = 0; t + 1 < b.length; t++) {
                assertTrue(b[t] <= b[t + 1], "boundaries ascend");
                long cost = (long) rowStart[b[t + 1]] + b[t + 1] - rowStart[b[t]] - b[t];
                assertTrue(cost <= total / (b.length - 1) + maxRow + 2, "part " + t + " costs " + cost + " of " + total);
            }
        }
        int[] runs = Sparse.columnRuns(1000, 3);
        assertArrayEquals(new int[] {0, 320, 640, 1000}, runs);
    }

    @Test
    void propertySpmmEqualsDenseOnMaskedWeights() {
        qt().withExamples(150).forAll(integers().between(1, 70), integers().between(1, 70), integers().between(1, 90), integers().between(0, 1000))
                .checkAssert((rows, cols, n, permille) -> {
                    long seed = ((rows * 131L + cols) * 137 + n) * 1009 + permille;
                    float[] w = SparseMatrixTest.masked(seed, rows, cols, cols, permille / 1000.0);
                    SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, rows, cols, cols);
                    float[] x = random(seed + 1, cols * n);
                    float[] y = random(seed + 2, rows * n);
                    double[] want = reference(w, cols, rows, cols, x, 0, n, n, 0.5f, 2f, y, 0, n);
                    Sparse.spmm(s, n, 0.5f, MemorySegment.ofArray(x), 0, n, 2f, MemorySegment.ofArray(y), 0, n);
                    assertMatches(want, y, 0, n, rows, n, TestData.sumTolerance(cols), rows + "x" + cols + " n=" + n + " density " + permille / 1000.0);
                });
    }

    @Test
    void tensorFormsMatchTheRawForms() {
        try (Tensor wt = TestData.randomTensor(1, 6, 2, 3, 3); Tensor x = TestData.randomTensor(2, 18, 10);
             Tensor y = Tensor.allocate(DType.F32, 6, 10); Tensor xv = TestData.randomTensor(3, 18); Tensor b = TestData.randomTensor(4, 6);
             Tensor yv = Tensor.allocate(DType.F32, 6); Tensor xb = TestData.randomTensor(5, 9, 18); Tensor yb = Tensor.allocate(DType.F32, 9, 6)) {
            for (long i = 0; i < wt.size(); i += 3) wt.set(i, 0f);
            SparseMatrix s = SparseMatrix.fromDense(wt);
            float[] w = wt.toFloatArray();
            Sparse.spmm(1f, s, x, 0f, y);
            double[] want = reference(w, 18, 6, 18, x.toFloatArray(), 0, 10, 10, 1f, 0f, null, 0, 0);
            assertMatches(want, y.toFloatArray(), 0, 10, 6, 10, TestData.sumTolerance(18), "tensor spmm");
            Sparse.spmv(s, xv, b, yv);
            want = reference(w, 18, 6, 18, xv.toFloatArray(), 0, 1, 1, 1f, 0f, null, 0, 0);
            for (int r = 0; r < 6; r++) assertEquals(want[r] + b.get(r), yv.get(r), TestData.sumTolerance(18));
            Sparse.linear(s, xb, null, yb);
            float[] xs = xb.toFloatArray();
            for (int bi = 0; bi < 9; bi++) for (int r = 0; r < 6; r++) {
                double acc = 0;
                for (int c = 0; c < 18; c++) acc += (double) w[r * 18 + c] * xs[bi * 18 + c];
                assertEquals(acc, yb.get(bi * 6L + r), TestData.sumTolerance(18));
            }
        }
    }

    @Test
    void mismatchedShapesNameBothShapes() {
        SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(new float[] {1, 0, 2, 0, 3, 0}), 0, 2, 3, 3);
        try (Tensor x = Tensor.allocate(DType.F32, 4, 5); Tensor y = Tensor.allocate(DType.F32, 2, 5);
             Tensor xv = Tensor.allocate(DType.F32, 4); Tensor yv = Tensor.allocate(DType.F32, 2); Tensor xi = Tensor.allocate(DType.I32, 3, 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sparse.spmm(1f, s, x, 0f, y));
            assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(4, 5)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Sparse.spmv(s, xv, null, yv));
            assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(4,)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Sparse.linear(s, x, null, y));
            assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(4, 5)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Sparse.spmm(1f, s, xi, 0f, y));
            assertTrue(e.getMessage().contains("I32"), e.getMessage());
        }
        MemorySegment small = MemorySegment.ofArray(new float[10]);
        MemorySegment big = MemorySegment.ofArray(new float[100]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sparse.spmm(s, 5, 1f, small, 0, 5, 0f, big, 0, 5));
        assertTrue(e.getMessage().contains("X (3, 5)") && e.getMessage().contains("60 bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sparse.spmm(s, 5, 1f, big, 0, 4, 0f, big, 0, 5));
        assertTrue(e.getMessage().contains("leading dimension of X is 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sparse.spmm(s, -1, 1f, big, 0, 4, 0f, big, 0, 5));
        assertTrue(e.getMessage().contains("n=-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sparse.spmv(s, big, 0, small, 9, big, 0));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sparse.linear(s, 4, big, 0, 3, null, 0, small, 0, 3));
        assertTrue(e.getMessage().contains("Y (4, 2)"), e.getMessage());
    }

    @Test
    void zeroWeightsAreSkippedNotMultiplied() {
        // the documented difference from the dense product: 0 * Inf in X contributes nothing
        SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(new float[] {0, 2}), 0, 1, 2, 2);
        float[] y = new float[1];
        Sparse.spmm(s, 1, 1f, MemorySegment.ofArray(new float[] {Float.POSITIVE_INFINITY, 3}), 0, 1, 0f, MemorySegment.ofArray(y), 0, 1);
        assertEquals(6f, y[0]);
    }

    static void assertMatches(double[] want, float[] y, int yOff, int ldy, int rows, int n, double tol, String where) {
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) {
            assertEquals(want[r * n + j], y[yOff + r * ldy + j], tol, "(" + r + ", " + j + ") " + where);
        }
    }

    @Test
    void poolIsUsedWhenThereIsOne() {
        assertTrue(Parallel.threads() >= 1);
        assertTrue(Sparse.kernelName().startsWith("Sparse"));
    }
}
