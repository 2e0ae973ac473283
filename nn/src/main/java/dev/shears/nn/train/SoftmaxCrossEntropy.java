package dev.shears.nn.train;

import dev.shears.engine.DType;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Reductions;
import dev.shears.engine.kernels.Softmax;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Softmax cross-entropy with label smoothing, PyTorch's {@code F.cross_entropy(label_smoothing=e)}
 * with mean reduction: per row {@code (1-e)*(-log p_y) + e*mean_k(-log p_k)}; the gradient
 * {@code dLogits = (softmax - target)/N} with {@code target = (1-e)*onehot + e/K}. The arithmetic
 * is the engine's fused kernel ({@link Softmax#crossEntropy}, log-sum-exp in double, rows in
 * order, so independent of the thread count); this adds the shape checks and the accuracy count
 * (first argmax, NaN rule of {@link Reductions#argmax}). Pinned by SoftmaxCrossEntropyTest.
 */
public final class SoftmaxCrossEntropy {
    /** Sum of the row losses (mean x rows) and the number of rows whose argmax is the label. */
    public record Result(double lossSum, int correct, int rows) {
        public double meanLoss() {
            return rows == 0 ? 0 : lossSum / rows;
        }
    }

    private SoftmaxCrossEntropy() {}

    /** {@link #compute(Tensor, Tensor, double, Tensor)} with the labels as an int array (copied off-heap for the call). */
    public static Result compute(Tensor logits, int[] labels, double labelSmoothing, Tensor dLogits) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor y = Tensor.allocate(arena, DType.I32, labels.length);
            MemorySegment.copy(labels, 0, y.segment(), JAVA_INT, 0, labels.length);
            return compute(logits, y, labelSmoothing, dLogits);
        }
    }

    /**
     * Loss of {@code logits} (N, K) against {@code labels} I32 (N,); when {@code dLogits} (N, K) is
     * not null it receives the gradient of the mean loss.
     */
    public static Result compute(Tensor logits, Tensor labels, double labelSmoothing, Tensor dLogits) {
        if (logits.rank() != 2) throw new IllegalArgumentException("logits must be (N, classes), got " + Shape.str(logits.shape()));
        int n = logits.dim(0), k = logits.dim(1);
        if (labels.dtype() != DType.I32 || labels.size() != n) {
            throw new IllegalArgumentException("labels must be I32 (" + n + ",), got " + labels.dtype() + " " + Shape.str(labels.shape()));
        }
        if (dLogits != null) Shape.requireSame("loss gradient", logits.shape(), dLogits.shape());
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1], got " + labelSmoothing);
        MemorySegment x = logits.segment(), y = labels.segment();
        for (int r = 0; r < n; r++) {
            int label = y.getAtIndex(JAVA_INT, r);
            if (label < 0 || label >= k) throw new IllegalArgumentException("label " + label + " in row " + r + " is outside [0, " + k + ")");
        }
        double mean = Softmax.crossEntropy(x, 0, y, 0, n, k, (float) labelSmoothing, dLogits == null ? null : dLogits.segment(), 0);
        int correct = 0;
        for (int r = 0; r < n; r++) {
            if (Reductions.argmax(x, (long) r * k, k) == y.getAtIndex(JAVA_INT, r)) correct++;
        }
        return new Result(mean * n, correct, n);
    }
}
