package dev.shears.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The loss against PyTorch's formula computed here in double, its gradient against central finite
 * differences of the loss itself, stability on huge logits, and clear errors for bad labels.
 */
class SoftmaxCrossEntropyTest {
    private static double referenceRowLoss(float[] x, int row, int k, int label, double eps) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) max = Math.max(max, x[row * k + j]);
        double sum = 0;
        for (int j = 0; j < k; j++) sum += Math.exp(x[row * k + j] - max);
        double loss = 0;
        for (int j = 0; j < k; j++) {
            double logp = x[row * k + j] - max - Math.log(sum);
            double target = eps / k + (j == label ? 1 - eps : 0);
            loss -= target * logp;
        }
        return loss;
    }

    @Test
    void lossMatchesTheFormulaAndGradientMatchesFiniteDifferences() {
        for (double eps : new double[] {0, 0.1, 0.3}) {
            for (int[] nk : new int[][] {{1, 2}, {5, 10}, {13, 7}, {33, 3}}) {
                int n = nk[0], k = nk[1];
                SplittableRandom r = new SplittableRandom(n * 31L + k);
                float[] x = new float[n * k];
                for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 3);
                try (Tensor logits = Tensor.of(x, n, k); Tensor labels = Tensor.allocate(DType.I32, n); Tensor d = Tensor.allocate(DType.F32, n, k)) {
                    int[] y = new int[n];
                    for (int i = 0; i < n; i++) labels.setInt(i, y[i] = r.nextInt(k));
                    SoftmaxCrossEntropy.Result res = SoftmaxCrossEntropy.compute(logits, labels, eps, d);
                    double ref = 0;
                    for (int i = 0; i < n; i++) ref += referenceRowLoss(x, i, k, y[i], eps);
                    assertEquals(ref, res.lossSum(), 1e-6 * (1 + Math.abs(ref)), "loss n=" + n + " k=" + k + " eps=" + eps);
                    for (int i = 0; i < x.length; i++) {
                        float orig = x[i];
                        float hi = orig + 1e-2f, lo = orig - 1e-2f;
                        logits.set(i, hi);
                        double lhi = SoftmaxCrossEntropy.compute(logits, labels, eps, null).meanLoss();
                        logits.set(i, lo);
                        double llo = SoftmaxCrossEntropy.compute(logits, labels, eps, null).meanLoss();
                        logits.set(i, orig);
                        double fd = (lhi - llo) / ((double) hi - lo);
                        assertEquals(fd, d.get(i), 2e-5, "dLogits[" + i + "] n=" + n + " k=" + k + " eps=" + eps);
                    }
                }
            }
        }
    }

    @Test
    void hugeLogitsStayFiniteAndAccuracyCountsArgmax() {
        try (Tensor logits = Tensor.of(new float[] {1e30f, -1e30f, 0f, 3e4f, 3e4f + 8, -2f}, 2, 3); Tensor labels = Tensor.allocate(DType.I32, 2);
             Tensor d = Tensor.allocate(DType.F32, 2, 3)) {
            labels.setInt(0, 0);
            labels.setInt(1, 0);
            SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.compute(logits, labels, 0.1, d);
            assertTrue(Double.isFinite(r.lossSum()), "loss " + r.lossSum());
            assertEquals(1, r.correct()); // row 0 predicts 0 (right), row 1 predicts 1 (wrong)
            for (float v : d.toFloatArray()) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void badLabelsAndShapesAreClearErrors() {
        try (Tensor logits = Tensor.allocate(DType.F32, 2, 3); Tensor labels = Tensor.allocate(DType.I32, 2)) {
            labels.setInt(1, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropy.compute(logits, labels, 0, null));
            assertEquals("label 3 in row 1 is outside [0, 3)", e.getMessage());
            try (Tensor wrong = Tensor.allocate(DType.I32, 3)) {
                e = assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropy.compute(logits, wrong, 0, null));
                assertTrue(e.getMessage().contains("labels must be I32 (2,)"), e.getMessage());
            }
        }
    }
}
