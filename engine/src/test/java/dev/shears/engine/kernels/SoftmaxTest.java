package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Softmax: both twins against double formulas on awkward row lengths, rows summing to 1
 * (a property), stability with huge logits, cross-entropy loss against a double reference with
 * and without label smoothing, its gradient against finite differences of that reference,
 * aliasing, facade errors.
 */
class SoftmaxTest {
    private static final SoftmaxKernel SCALAR = new SoftmaxScalar();
    private static final SoftmaxKernel SIMD = Twins.loadSimd(SoftmaxKernel.class, "SoftmaxSimd");
    private static final SoftmaxKernel[] BOTH = {SCALAR, SIMD};

    private static Tensor logits(long seed, int rows, int cols, float scale) {
        Tensor t = TestData.randomTensor(seed, rows, cols);
        for (long i = 0; i < t.size(); i++) t.set(i, t.get(i) * scale);
        return t;
    }

    @Test
    void softmaxAndLogSoftmaxMatchDoubleFormulas() {
        for (int cols : TestData.AWKWARD) {
            int rows = cols > 300 ? 2 : 3;
            try (Tensor x = logits(cols, rows, cols, 8f); Tensor y = Tensor.allocate(DType.F32, rows, cols); Tensor ly = Tensor.allocate(DType.F32, rows, cols)) {
                for (SoftmaxKernel k : BOTH) {
                    k.softmaxRows(x.segment(), 0, y.segment(), 0, rows, cols);
                    k.logSoftmaxRows(x.segment(), 0, ly.segment(), 0, rows, cols);
                    for (int r = 0; r < rows; r++) {
                        double m = Double.NEGATIVE_INFINITY, s = 0;
                        for (int c = 0; c < cols; c++) m = Math.max(m, x.get((long) r * cols + c));
                        for (int c = 0; c < cols; c++) s += Math.exp(x.get((long) r * cols + c) - m);
                        for (int c = 0; c < cols; c++) {
                            long i = (long) r * cols + c;
                            double p = Math.exp(x.get(i) - m) / s;
                            String what = k.getClass().getSimpleName() + " cols=" + cols + " at " + r + "," + c;
                            assertEquals(p, y.get(i), 1e-6 * p + 1e-9, what);
                            assertEquals(x.get(i) - m - Math.log(s), ly.get(i), 1e-5, what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowsSumToOneProperty() {
        qt().withExamples(120).forAll(integers().between(1, 6), integers().between(1, 300), integers().between(0, 1000))
                .checkAssert((rows, cols, seed) -> {
                    try (Tensor x = logits(seed, rows, cols, 1 + seed % 50); Tensor y = Tensor.allocate(DType.F32, rows, cols)) {
                        for (SoftmaxKernel k : BOTH) {
                            k.softmaxRows(x.segment(), 0, y.segment(), 0, rows, cols);
                            for (int r = 0; r < rows; r++) {
                                double s = 0;
                                for (int c = 0; c < cols; c++) {
                                    float p = y.get((long) r * cols + c);
                                    assertTrue(p >= 0 && p <= 1, "probability " + p);
                                    s += p;
                                }
                                assertEquals(1.0, s, 1e-6 * Math.sqrt(cols) + 1e-6, k.getClass().getSimpleName() + " " + rows + "x" + cols);
                            }
                        }
                    }
                });
    }

    @Test
    void hugeLogitsStayFinite() {
        float[] v = {1000f, -1000f, 999f, 0f, 88f, -88f, 1000f, 3e38f, -3e38f, 89f, 90f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f};
        int cols = v.length;
        try (Tensor x = Tensor.of(v, 1, cols); Tensor y = Tensor.allocate(DType.F32, 1, cols); Tensor labels = Tensor.allocate(DType.I32, 1);
             Tensor d = Tensor.allocate(DType.F32, 1, cols)) {
            for (SoftmaxKernel k : BOTH) {
                k.softmaxRows(x.segment(), 0, y.segment(), 0, 1, cols);
                assertEquals(1f, y.get(7), 0f, "the dominant logit takes all the mass");
                for (int c = 0; c < cols; c++) assertTrue(Float.isFinite(y.get(c)), "finite at " + c);
                labels.setInt(0, 1);
                double loss = k.crossEntropy(x.segment(), 0, labels.segment(), 0, 1, cols, 0.1f, d.segment(), 0);
                assertTrue(Double.isFinite(loss) && loss > 0, "loss " + loss);
            }
        }
    }

    /** Mean smoothed cross-entropy in double: the reference for the loss and its finite differences. */
    private static double referenceLoss(double[] x, int[] labels, int rows, int cols, double ls) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
            for (int c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
            double lse = m + Math.log(s);
            for (int c = 0; c < cols; c++) {
                double target = (c == labels[r] ? 1 - ls : 0) + ls / cols;
                total -= target * (x[r * cols + c] - lse);
            }
        }
        return total / rows;
    }

    @Test
    void crossEntropyLossAndGradientAgainstFiniteDifferences() {
        int[][] shapes = {{1, 1}, {1, 2}, {4, 10}, {7, 13}, {3, 17}, {2, 100}, {5, 33}};
        for (int[] sh : shapes) {
            int rows = sh[0], cols = sh[1];
            for (float ls : new float[] {0f, 0.1f, 1f}) {
                try (Tensor x = logits(rows * 31 + cols, rows, cols, 3f); Tensor labels = Tensor.allocate(DType.I32, rows);
                     Tensor d = Tensor.allocate(DType.F32, rows, cols)) {
                    int[] lab = new int[rows];
                    for (int r = 0; r < rows; r++) {
                        lab[r] = (r * 7 + cols) % cols;
                        labels.setInt(r, lab[r]);
                    }
                    double[] xd = new double[rows * cols];
                    for (int i = 0; i < xd.length; i++) xd[i] = x.get(i);
                    double want = referenceLoss(xd, lab, rows, cols, ls);
                    for (SoftmaxKernel k : BOTH) {
                        String what = k.getClass().getSimpleName() + " " + rows + "x" + cols + " ls=" + ls;
                        double loss = k.crossEntropy(x.segment(), 0, labels.segment(), 0, rows, cols, ls, d.segment(), 0);
                        assertEquals(want, loss, 1e-6 * Math.max(1, Math.abs(want)), what + " loss");
                        assertEquals(want, k.crossEntropy(x.segment(), 0, labels.segment(), 0, rows, cols, ls, null, 0), 1e-6 * Math.max(1, want), what);
                        for (int r = 0; r < rows; r++) {
                            double rowSum = 0;
                            for (int c = 0; c < cols; c++) rowSum += d.get((long) r * cols + c);
                            assertEquals(0, rowSum, 1e-7 * cols, what + " gradient row " + r + " sums to 0");
                        }
                        for (int i = 0; i < xd.length; i++) {
                            double h = 1e-5, keep = xd[i];
                            xd[i] = keep + h;
                            double up = referenceLoss(xd, lab, rows, cols, ls);
                            xd[i] = keep - h;
                            double down = referenceLoss(xd, lab, rows, cols, ls);
                            xd[i] = keep;
                            assertEquals((up - down) / (2 * h), d.get(i), 2e-7 + 1e-6 / rows, what + " dLogits[" + i + "]");
                        }
                    }
                }
            }
        }
    }

    @Test
    void twinsAgreeOnAwkwardRowLengths() {
        for (int cols : TestData.AWKWARD) {
            int rows = 2;
            try (Tensor x = logits(cols * 5L, rows, cols, 4f); Tensor labels = Tensor.allocate(DType.I32, rows);
                 Tensor d1 = Tensor.allocate(DType.F32, rows, cols); Tensor d2 = Tensor.allocate(DType.F32, rows, cols)) {
                labels.setInt(0, cols - 1);
                labels.setInt(1, cols / 2);
                double l1 = SCALAR.crossEntropy(x.segment(), 0, labels.segment(), 0, rows, cols, 0.05f, d1.segment(), 0);
                double l2 = SIMD.crossEntropy(x.segment(), 0, labels.segment(), 0, rows, cols, 0.05f, d2.segment(), 0);
                assertEquals(l1, l2, 1e-6 * Math.max(1, l1), "loss cols=" + cols);
                for (long i = 0; i < d1.size(); i++) assertEquals(d1.get(i), d2.get(i), 1e-7 + 1e-6 * Math.abs(d1.get(i)), "dLogits cols=" + cols + " at " + i);
            }
        }
    }

    @Test
    void outputsMayAliasInputs() {
        int rows = 3, cols = 37;
        try (Tensor x = logits(1, rows, cols, 5f); Tensor y = Tensor.allocate(DType.F32, rows, cols); Tensor labels = Tensor.allocate(DType.I32, rows);
             Tensor d = Tensor.allocate(DType.F32, rows, cols)) {
            labels.setInt(1, 36);
            float[] orig = x.toFloatArray();
            for (SoftmaxKernel k : BOTH) {
                x.copyFrom(orig);
                k.softmaxRows(x.segment(), 0, y.segment(), 0, rows, cols);
                k.softmaxRows(x.segment(), 0, x.segment(), 0, rows, cols);
                Im2colTest.assertBitsEqual(y, x, "in-place softmax");
                x.copyFrom(orig);
                double want = k.crossEntropy(x.segment(), 0, labels.segment(), 0, rows, cols, 0.2f, d.segment(), 0);
                double got = k.crossEntropy(x.segment(), 0, labels.segment(), 0, rows, cols, 0.2f, x.segment(), 0);
                assertEquals(want, got, 0.0, "loss with dLogits aliasing logits");
                Im2colTest.assertBitsEqual(d, x, "in-place dLogits");
            }
        }
    }

    @Test
    void facadeErrorsNameKernelOperandAndLabel() {
        try (Tensor x = Tensor.allocate(DType.F32, 4, 10); Tensor labels = Tensor.allocate(DType.I32, 4)) {
            labels.setInt(2, 10);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Softmax.crossEntropy(x.segment(), 0, labels.segment(), 0, 4, 10, 0f, null, 0));
            assertTrue(e.getMessage().contains("label 10 of row 2 is outside [0, 10)"), e.getMessage());
            labels.setInt(2, 1);
            e = assertThrows(IllegalArgumentException.class, () -> Softmax.crossEntropy(x.segment(), 0, labels.segment(), 0, 4, 10, 1.5f, null, 0));
            assertTrue(e.getMessage().contains("label smoothing"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Softmax.crossEntropy(x.segment(), 0, labels.segment(), 0, 5, 10, 0f, null, 0));
            assertTrue(e.getMessage().startsWith("softmaxCrossEntropy: logits (5, 10)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Softmax.softmaxRows(x.segment(), 0, MemorySegment.NULL, 0, 4, 10));
            assertTrue(e.getMessage().startsWith("softmaxRows: y (4, 10)"), e.getMessage());
            assertTrue(Double.isFinite(Softmax.crossEntropy(x.segment(), 0, labels.segment(), 0, 4, 10, 0.1f, x.segment(), 0)));
        }
    }
}
