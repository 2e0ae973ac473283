package dev.shears.nn.train;

import dev.shears.nn.Model;

/**
 * Accuracy and mean loss (plain cross-entropy, no label smoothing) of a model in evaluation mode
 * over every batch of a source. Deterministic: per-batch sums added in batch order.
 * Pinned by TrainerTest.
 */
public final class Evaluator {
    /** @param loss mean cross-entropy; @param accuracy percent correct; @param count examples seen */
    public record Result(double loss, double accuracy, long count) {}

    private Evaluator() {}

    public static Result evaluate(Model model, BatchSource source) {
        double lossSum = 0;
        long correct = 0, count = 0;
        try (BatchSource.Epoch it = source.epoch(0)) {
            while (it.hasNext()) {
                BatchSource.Batch b = it.next();
                SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.compute(model.forward(b.images(), false), b.labels(), 0, null);
                lossSum += r.lossSum();
                correct += r.correct();
                count += r.rows();
            }
        }
        if (count == 0) throw new IllegalArgumentException("evaluation source yielded no examples");
        return new Result(lossSum / count, 100.0 * correct / count, count);
    }
}
