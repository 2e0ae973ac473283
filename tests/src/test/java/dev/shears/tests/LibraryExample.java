package dev.shears.tests;

import dev.shears.datasets.Augment;
import dev.shears.datasets.Dataset;
import dev.shears.datasets.Datasets;
import dev.shears.datasets.Splits;
import dev.shears.engine.Workspace;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.models.SparseInference;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.Evaluator;
import dev.shears.nn.train.LoaderSource;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import dev.shears.nn.train.Trainer;
import dev.shears.pruning.FineTune;
import dev.shears.pruning.MinimumThreshold;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import dev.shears.pruning.SparsityReport;
import java.util.stream.IntStream;

/**
 * Shears as a library, end to end: train LeNet-5 on the embedded Fashion-MNIST subset, prune it
 * to 90% with Global MP + Minimum Threshold, fine-tune, report, and run it sparse. This file is
 * the example of docs/library.md, word for word: LibraryExampleTest checks that and runs it.
 */
public final class LibraryExample {
    /** Test accuracies (percent) of the dense, the pruned and fine-tuned, and the sparse model. */
    public record Outcome(double dense, double pruned, double sparse, SparsityReport report) {}

    public static Outcome run(int trainImages, int testImages, int epochs) {
        Splits data = Datasets.open("fashion-mnist", null); // null folder: the embedded subset
        Dataset train = everyNth(data.train(), trainImages), test = everyNth(data.test(), testImages);
        TrainConfig recipe = new TrainConfig(epochs, 64, OptimizerConfig.sgd(0.9, false, 0),
                Schedule.constant(0.05, epochs, 0), 0, 0, null, Progress.Mode.OFF); // null: no run folder
        try (Network model = ModelZoo.create("lenet5", ModelConfig.mnist().withSeed(0));
             LoaderSource trainBatches = LoaderSource.training(train, 64, 0, Augment.none());
             LoaderSource testBatches = LoaderSource.evaluation(test, 100);
             Workspace masks = new Workspace("masks")) {            // owns the masks
            Trainer.train(model, trainBatches, testBatches, recipe);
            double dense = Evaluator.evaluate(model, testBatches).accuracy();

            PruneOptions mt = PruneOptions.DEFAULT.withMt(MinimumThreshold.parse("100", MinimumThreshold.Mode.EXACT));
            SparsityReport report = Pruning.prune(model, "global", 0.9, mt, null, masks);
            FineTune.run(model, trainBatches, testBatches, recipe); // masks re-applied every step
            double pruned = Evaluator.evaluate(model, testBatches).accuracy();

            SparseInference.sparsify(model, 100);                   // CSR weights where faster
            double sparse = Evaluator.evaluate(model, testBatches).accuracy();
            return new Outcome(dense, pruned, sparse, report);
        }
    }

    /** {@code n} images spread over the whole set (the subset's files are not sorted by class). */
    static Dataset everyNth(Dataset d, int n) {
        int stride = d.size() / n;
        return d.subset(d.name() + "-" + n, IntStream.range(0, n).map(i -> i * stride).toArray());
    }

    public static void main(String[] args) {
        Outcome o = run(10_000, 2_000, 2);
        System.out.print(o.report().table());
        System.out.printf("dense %.2f%%, pruned %.2f%%, sparse %.2f%%%n", o.dense(), o.pruned(), o.sparse());
    }
}
