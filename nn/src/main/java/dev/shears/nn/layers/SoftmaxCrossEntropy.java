package dev.shears.nn.layers;

import dev.shears.engine.DType;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.engine.kernels.Reductions;
import dev.shears.engine.kernels.Softmax;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mean softmax cross-entropy over a batch with label smoothing eps (PyTorch's
 * CrossEntropyLoss(label_smoothing=eps) and the paper's LabelSmoothing: target (1-eps) on the
 * label plus eps/K everywhere), through the fused Softmax kernel. Backward gives dLogits =
 * (softmax - target) / N in a tensor it owns. Also counts top-1 hits. Pinned by
 * GradientCheckTest and the golden tests.
 */
public final class SoftmaxCrossEntropy implements AutoCloseable {
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    private final double smoothing;
    private Workspace workspace;
    private Tensor dLogits;   // (N, K)
    private Tensor labelCopy; // (N) ints, for int[] labels
    private Tensor predicted; // (N) ints: arg-max of each row
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
        return run(logits, labels);
    }

    /** Mean loss of logits (N, K) against labels in [0, K). */
    public float forward(Tensor logits, int[] labels) {
        ensure(logits, labels.length);
        MemorySegment.copy(labels, 0, labelCopy.segment(), I, 0, labels.length);
        return run(logits, labelCopy);
    }

    private void ensure(Tensor logits, int count) {
        if (logits.rank() != 2 || logits.dim(0) != count) {
            throw new IllegalArgumentException("loss: logits " + Shape.str(logits.shape()) + " do not match " + count + " labels (expected (N, K))");
        }
        int n = logits.dim(0), k = logits.dim(1);
        if (dLogits == null || dLogits.dim(0) != n || dLogits.dim(1) != k) {
            if (workspace != null) workspace.close();
            workspace = new Workspace("loss");
            dLogits = workspace.floats("loss.dlogits", n, k);
            labelCopy = workspace.allocate("loss.labels", DType.I32, n);
            predicted = workspace.allocate("loss.predicted", DType.I32, n);
        }
    }

    private float run(Tensor logits, Tensor labels) {
        ensure(logits, labels.dim(0));
        int n = logits.dim(0), k = logits.dim(1);
        MemorySegment ls = labels.segment();
        for (int i = 0; i < n; i++) {
            int label = ls.getAtIndex(I, i);
            if (label < 0 || label >= k) throw new IllegalArgumentException("loss: label " + label + " of sample " + i + " is outside [0, " + k + ")");
        }
        double loss = Softmax.crossEntropy(logits.segment(), 0, ls, 0, n, k, (float) smoothing, dLogits.segment(), 0);
        Reductions.rowArgmax(logits.segment(), 0, n, k, predicted.segment(), 0);
        int hits = 0;
        for (int i = 0; i < n; i++) if (predicted.segment().getAtIndex(I, i) == ls.getAtIndex(I, i)) hits++;
        correct = hits;
        return (float) loss;
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
