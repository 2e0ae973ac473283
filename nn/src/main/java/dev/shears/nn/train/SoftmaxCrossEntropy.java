package dev.shears.nn.train;

import dev.shears.engine.DType;
import dev.shears.engine.Parallel;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Softmax cross-entropy with label smoothing, PyTorch's {@code F.cross_entropy(label_smoothing=e)}
 * with mean reduction: per row {@code (1-e)*(-log p_y) + e*mean_k(-log p_k)}; the gradient
 * {@code dLogits = (softmax - target)/N} with {@code target = (1-e)*onehot + e/K}. Each row is
 * computed alone (log-sum-exp in double) and the row losses summed in order, so the result does
 * not depend on the thread count. Not a layer: no state. Pinned by SoftmaxCrossEntropyTest.
 */
public final class SoftmaxCrossEntropy {
    /** Sum of the row losses (not the mean) and the number of rows whose argmax is the label. */
    public record Result(double lossSum, int correct, int rows) {
        public double meanLoss() {
            return rows == 0 ? 0 : lossSum / rows;
        }
    }

    private SoftmaxCrossEntropy() {}

    /**
     * Loss of {@code logits} (N, K) against {@code labels} I32 (N,); when {@code dLogits} (N, K) is
     * not null it receives the gradient of the mean loss. {@code rowLoss} is scratch of N doubles.
     */
    public static Result compute(Tensor logits, Tensor labels, double labelSmoothing, Tensor dLogits, double[] rowLoss) {
        if (logits.rank() != 2) throw new IllegalArgumentException("logits must be (N, classes), got " + Shape.str(logits.shape()));
        int n = logits.dim(0), k = logits.dim(1);
        if (labels.dtype() != DType.I32 || labels.size() != n) {
            throw new IllegalArgumentException("labels must be I32 (" + n + ",), got " + labels.dtype() + " " + Shape.str(labels.shape()));
        }
        if (dLogits != null) Shape.requireSame("loss gradient", logits.shape(), dLogits.shape());
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1], got " + labelSmoothing);
        if (rowLoss.length < n) throw new IllegalArgumentException("row-loss scratch has " + rowLoss.length + " entries, need " + n);
        MemorySegment x = logits.segment(), y = labels.segment();
        MemorySegment d = dLogits == null ? null : dLogits.segment();
        int[] correct = new int[n];
        double eps = labelSmoothing;
        double invN = 1.0 / n;
        for (int r = 0; r < n; r++) {
            int label = y.getAtIndex(JAVA_INT, r);
            if (label < 0 || label >= k) throw new IllegalArgumentException("label " + label + " in row " + r + " is outside [0, " + k + ")");
        }
        Parallel.forRange(n, Math.max(1, 4096 / Math.max(1, k)), (from, to) -> {
            for (int r = from; r < to; r++) {
                long base = (long) r * k;
                int label = y.getAtIndex(JAVA_INT, r);
                float max = Float.NEGATIVE_INFINITY;
                int arg = 0;
                for (int j = 0; j < k; j++) {
                    float v = x.getAtIndex(JAVA_FLOAT, base + j);
                    if (v > max || Float.isNaN(v) && !Float.isNaN(max)) {
                        max = v;
                        arg = j;
                    }
                }
                double sum = 0, sumLogits = 0;
                for (int j = 0; j < k; j++) {
                    double v = x.getAtIndex(JAVA_FLOAT, base + j);
                    sum += Math.exp(v - max);
                    sumLogits += v;
                }
                double lse = max + Math.log(sum);
                double nll = lse - x.getAtIndex(JAVA_FLOAT, base + label);
                double smooth = lse - sumLogits / k; // mean over classes of -log p_j
                rowLoss[r] = (1 - eps) * nll + eps * smooth;
                correct[r] = arg == label ? 1 : 0;
                if (d != null) {
                    double off = eps / k;
                    for (int j = 0; j < k; j++) {
                        double p = Math.exp(x.getAtIndex(JAVA_FLOAT, base + j) - lse);
                        double target = off + (j == label ? 1 - eps : 0);
                        d.setAtIndex(JAVA_FLOAT, base + j, (float) ((p - target) * invN));
                    }
                }
            }
        });
        double total = 0;
        int right = 0;
        for (int r = 0; r < n; r++) {
            total += rowLoss[r];
            right += correct[r];
        }
        return new Result(total, right, n);
    }
}
