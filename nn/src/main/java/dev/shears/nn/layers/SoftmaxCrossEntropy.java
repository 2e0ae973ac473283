package dev.shears.nn.layers;

import dev.shears.engine.DType;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mean softmax cross-entropy over a batch with label smoothing eps (PyTorch's
 * CrossEntropyLoss(label_smoothing=eps) and the paper's LabelSmoothing: target (1-eps) on the
 * label plus eps/K everywhere). Log-softmax in double per row. Backward gives dLogits =
 * (softmax - target) / N in a tensor it owns. Also counts top-1 hits. Pinned by
 * SoftmaxCrossEntropyTest and the golden tests.
 */
public final class SoftmaxCrossEntropy implements AutoCloseable {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final double smoothing;
    private Workspace workspace;
    private Tensor dLogits;   // (N, K)
    private int correct;

    public SoftmaxCrossEntropy(double smoothing) {
        if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        this.smoothing = smoothing;
    }

    public double smoothing() { return smoothing; }

    /** Mean loss of logits (N, K) against labels (N) of type I32 in [0, K). */
    public float forward(Tensor logits, Tensor labels) {
        if (labels.dtype() != DType.I32 || labels.rank() != 1) {
            throw new IllegalArgumentException("labels must be an I32 vector, got " + labels.dtype() + " " + Shape.str(labels.shape()));
        }
        MemorySegment ls = labels.segment();
        return forward(logits, i -> ls.getAtIndex(ValueLayout.JAVA_INT, i), labels.dim(0));
    }

    /** Mean loss of logits (N, K) against labels in [0, K). */
    public float forward(Tensor logits, int[] labels) {
        return forward(logits, i -> labels[i], labels.length);
    }

    private interface Labels {
        int at(int i);
    }

    private float forward(Tensor logits, Labels labels, int count) {
        if (logits.rank() != 2 || logits.dim(0) != count) {
            throw new IllegalArgumentException("loss: logits " + Shape.str(logits.shape()) + " do not match " + count + " labels (expected (N, K))");
        }
        int n = logits.dim(0), k = logits.dim(1);
        if (dLogits == null || dLogits.dim(0) != n || dLogits.dim(1) != k) {
            if (workspace != null) workspace.close();
            workspace = new Workspace("loss");
            dLogits = workspace.floats("loss.dlogits", n, k);
        }
        MemorySegment z = logits.segment(), d = dLogits.segment();
        double total = 0;
        int hits = 0;
        double off = smoothing / k, on = 1 - smoothing + off;
        for (int i = 0; i < n; i++) {
            int label = labels.at(i);
            if (label < 0 || label >= k) throw new IllegalArgumentException("loss: label " + label + " of sample " + i + " is outside [0, " + k + ")");
            long row = (long) i * k;
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            for (int j = 0; j < k; j++) {
                double v = z.getAtIndex(F, row + j);
                if (v > max) {
                    max = v;
                    arg = j;
                }
            }
            if (arg == label) hits++;
            double sum = 0, sumLogits = 0;
            for (int j = 0; j < k; j++) {
                double v = z.getAtIndex(F, row + j);
                sum += Math.exp(v - max);
                sumLogits += v;
            }
            double lse = max + Math.log(sum);
            // -sum_j q_j log p_j with q = off everywhere plus (on - off) at the label
            total += -(on - off) * (z.getAtIndex(F, row + label) - lse) - off * (sumLogits - k * lse);
            for (int j = 0; j < k; j++) {
                double pj = Math.exp(z.getAtIndex(F, row + j) - lse);
                double q = j == label ? on : off;
                d.setAtIndex(F, row + j, (float) ((pj - q) / n));
            }
        }
        correct = hits;
        return (float) (total / n);
    }

    /** dLogits (N, K) of the last forward; owned by this loss. */
    public Tensor backward() {
        if (dLogits == null) throw new IllegalStateException("loss: backward before forward");
        return dLogits;
    }

    /** Samples of the last forward whose arg-max logit was the label. */
    public int correct() { return correct; }

    @Override
    public void close() {
        if (workspace != null) workspace.close();
    }
}
