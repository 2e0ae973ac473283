package dev.shears.cli;

import dev.shears.datasets.Dataset;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.io.SparseExport;
import dev.shears.nn.models.Network;
import dev.shears.nn.models.SparseInference;
import dev.shears.nn.train.BatchSource;
import dev.shears.nn.train.LoaderSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears infer}: runs a sparse model file (shears export) over a dataset's test split with
 * the per-layer sparse/dense choice, printing accuracy, per-batch latency median/p90 and images/s.
 * Not an evaluator of checkpoints (that is shears eval). Pinned by InferCliTest.
 */
@Command(name = "infer", mixinStandardHelpOptions = true, description = "Sparse inference of an exported model over a dataset: accuracy, latency, throughput.", sortOptions = false)
final class InferCommand implements Runnable {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "A .sparse.safetensors file written by shears export.")
    Path model;

    @Option(names = "--dataset", required = true, description = "Dataset name (e.g. fashion-mnist).")
    String dataset;

    @Option(names = "--data", description = "Data folder (default: the dataset's built-in source).")
    Path data;

    @Option(names = "--batch", defaultValue = "1", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--limit", description = "Stop after this many test images.")
    Integer limit;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--explain", description = "Print the per-layer sparse/dense choice.")
    boolean explain;

    @Override
    public void run() {
        TrainCommand.applyThreads(threads);
        if (batch < 1) throw new UserError("--batch must be >= 1, got " + batch);
        if (!Files.isRegularFile(model)) throw new UserError("--model " + model + ": no such file");
        Dataset d = TrainCommand.openData(dataset, data).test();
        try (Workspace masks = new Workspace("infer-masks"); Network net = SparseExport.load(model, masks)) {
            int[] in = net.inputShape();
            int[] s = d.sampleShape();
            if (s.length == 2) s = new int[] {1, s[0], s[1]};
            if (!java.util.Arrays.equals(in, s) || net.classes() != d.classes()) {
                throw new UserError(model + " takes " + java.util.Arrays.toString(in) + " inputs and " + net.classes() + " classes, but " + d.name()
                        + " has samples " + java.util.Arrays.toString(s) + " and " + d.classes() + " classes");
            }
            List<SparseInference.LayerChoice> choices = SparseInference.sparsify(net, batch);
            if (explain) System.out.print(SparseInference.explain(choices));
            List<Double> ms = new ArrayList<>();
            long images = 0, correct = 0;
            double totalS = 0;
            try (LoaderSource src = LoaderSource.evaluation(d, batch); BatchSource.Epoch it = src.epoch(0)) {
                while (it.hasNext() && (limit == null || images < limit)) {
                    BatchSource.Batch b = it.next();
                    long t0 = System.nanoTime();
                    Tensor logits = net.forward(b.images(), false);
                    double t = (System.nanoTime() - t0) / 1e6;
                    totalS += t / 1e3;
                    if (b.size() == batch) ms.add(t);
                    int k = logits.dim(1);
                    for (int i = 0; i < b.size(); i++) {
                        int best = 0;
                        for (int j = 1; j < k; j++) if (logits.get((long) i * k + j) > logits.get((long) i * k + best)) best = j;
                        if (best == b.labels().getInt(i)) correct++;
                    }
                    images += b.size();
                }
            }
            if (images == 0) throw new UserError(d.name() + " test split is empty");
            System.out.printf(Locale.ROOT, "accuracy %.4f (%d of %d)%n", (double) correct / images, correct, images);
            if (!ms.isEmpty()) {
                System.out.printf(Locale.ROOT, "latency.ms.med %.4f ms per batch of %d%n", BenchInferCommand.quantile(ms, 0.5), batch);
                System.out.printf(Locale.ROOT, "latency.ms.p90 %.4f ms%n", BenchInferCommand.quantile(ms, 0.9));
            }
            System.out.printf(Locale.ROOT, "throughput %.1f img/s%n", images / totalS);
        }
    }
}
