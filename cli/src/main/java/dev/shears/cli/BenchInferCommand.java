package dev.shears.cli;

import dev.shears.engine.DType;
import dev.shears.engine.EngineInfo;
import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.models.SparseInference;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears bench infer}: eval-mode forward latency of a zoo model (seeded random init, BN
 * with its running stats) pruned by Global MP, dense against sparse (SparseInference's per-layer
 * choice) in one run, iterations interleaved so machine load hits both alike; checks the outputs
 * agree. Not an accuracy measurement (random weights). Pinned by BenchInferCommandTest.
 */
@Command(name = "infer", mixinStandardHelpOptions = true, description = "Dense vs sparse inference latency of a Global-MP-pruned zoo model (random weights).", sortOptions = false)
final class BenchInferCommand implements Runnable {
    @Option(names = "--model", defaultValue = "resnet32", description = "Zoo model (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--sparsity", defaultValue = "0.95", description = "Global MP sparsity in [0, 1) (default: ${DEFAULT-VALUE}).")
    double sparsity;

    @Option(names = "--batch", defaultValue = "1", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--input", defaultValue = "3x32x32", description = "Input CxHxW (default: ${DEFAULT-VALUE}).")
    String input;

    @Option(names = "--classes", defaultValue = "10", description = "Classes (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--iters", defaultValue = "50", description = "Timed forwards of each kind (default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--warmup", defaultValue = "10", description = "Untimed forwards of each kind first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for weights and input (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--explain", description = "Print the per-layer sparse/dense choice.")
    boolean explain;

    @Override
    public void run() {
        TrainCommand.applyThreads(threads);
        if (batch < 1) throw new UserError("--batch must be >= 1, got " + batch);
        if (iters < 1) throw new UserError("--iters must be >= 1, got " + iters);
        if (warmup < 0) throw new UserError("--warmup must be >= 0, got " + warmup);
        if (!(sparsity >= 0 && sparsity < 1)) throw new UserError("--sparsity must be in [0, 1), got " + sparsity);
        int[] chw = parseInput(input);
        System.out.println("# shears bench infer " + String.join(" ", EngineInfo.lines()).replaceAll("\\s+", " "));
        System.out.println("# threads " + Parallel.threads());
        ModelConfig cfg = new ModelConfig(chw[0], chw[1], chw[2], classes, seed, Map.of());
        String tag = model + "." + chw[0] + "x" + chw[1] + "x" + chw[2] + "_b" + batch + "_s" + sparsity;
        try (Network net = create(cfg); Workspace masks = new Workspace("bench.masks");
             Tensor x = Tensor.allocate(DType.F32, batch, chw[0], chw[1], chw[2])) {
            if (sparsity > 0) Pruning.prune(net, "global", sparsity, PruneOptions.DEFAULT, null, masks);
            SplittableRandom r = new SplittableRandom(seed + 1);
            float[] xs = new float[(int) x.size()];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
            x.copyFrom(xs);
            float[] dense = net.forward(x, false).toFloatArray();
            List<SparseInference.LayerChoice> choices = SparseInference.sparsify(net, batch);
            Map<Layer, SparseMatrix> chosen = new LinkedHashMap<>();
            java.util.Set<Layer> direct = new java.util.HashSet<>();
            for (Layer l : net.layers()) {
                if (l instanceof Conv2d c && c.sparseWeight() != null) {
                    chosen.put(l, c.sparseWeight());
                    if (c.sparseDirect()) direct.add(l);
                }
                if (l instanceof Linear li && li.sparseWeight() != null) chosen.put(l, li.sparseWeight());
            }
            float[] sparse = net.forward(x, false).toFloatArray();
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < dense.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(dense[i] - sparse[i]));
                maxAbs = Math.max(maxAbs, Math.abs(dense[i]));
            }
            long nnz = 0, total = 0;
            for (SparseInference.LayerChoice c : choices) {
                var p = net.parameters().stream().filter(q -> q.name().equals(c.name() + ".weight")).findFirst();
                if (p.isPresent()) {
                    total += p.get().size();
                    nnz += Math.round(c.density() * p.get().size());
                }
            }
            emit(tag + ".conv_linear_density", total == 0 ? 0 : (double) nnz / total, "");
            emit(tag + ".layers_sparse", chosen.size(), "of " + choices.size());
            emit(tag + ".max_abs_diff", maxDiff, "(max |logit| " + String.format(Locale.ROOT, "%.3f", maxAbs) + ")");
            if (explain) System.out.print(SparseInference.explain(choices));
            List<Double> denseMs = new ArrayList<>(), sparseMs = new ArrayList<>();
            for (int i = 0; i < warmup + iters; i++) {
                install(chosen, direct, false);
                double d = timeOnce(net, x);
                install(chosen, direct, true);
                double s = timeOnce(net, x);
                if (i >= warmup) {
                    denseMs.add(d);
                    sparseMs.add(s);
                }
            }
            double dMed = quantile(denseMs, 0.5), sMed = quantile(sparseMs, 0.5);
            emit(tag + ".dense.ms.med", dMed, "ms");
            emit(tag + ".dense.ms.p90", quantile(denseMs, 0.9), "ms");
            emit(tag + ".sparse.ms.med", sMed, "ms");
            emit(tag + ".sparse.ms.p90", quantile(sparseMs, 0.9), "ms");
            System.out.println(tag + ".speedup " + String.format(Locale.ROOT, "%.1fx", dMed / sMed));
            if (maxDiff > 1e-3 * Math.max(1, maxAbs)) {
                throw new UserError("sparse and dense outputs differ: max abs diff " + maxDiff + " (max |logit| " + maxAbs + ")");
            }
        }
    }

    private Network create(ModelConfig cfg) {
        try {
            return ModelZoo.create(model, cfg);
        } catch (IllegalArgumentException e) {
            throw new UserError("--model " + model + ": " + e.getMessage());
        }
    }

    private static void install(Map<Layer, SparseMatrix> chosen, java.util.Set<Layer> direct, boolean sparse) {
        for (var e : chosen.entrySet()) {
            SparseMatrix s = sparse ? e.getValue() : null;
            if (e.getKey() instanceof Conv2d c) c.useSparseWeight(s, direct.contains(c));
            else ((Linear) e.getKey()).useSparseWeight(s);
        }
    }

    private static double timeOnce(Network net, Tensor x) {
        long t0 = System.nanoTime();
        net.forward(x, false);
        return (System.nanoTime() - t0) / 1e6;
    }

    /** The q-quantile by nearest rank of a full sort. */
    static double quantile(List<Double> values, double q) {
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        int rank = (int) Math.ceil(q * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1)));
    }

    private static int[] parseInput(String s) {
        String[] p = s.trim().toLowerCase(Locale.ROOT).split("x");
        try {
            if (p.length != 3) throw new NumberFormatException();
            int[] v = {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
            for (int d : v) if (d < 1) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new UserError("--input must be CxHxW with positive numbers (e.g. 3x32x32), got '" + s + "'");
        }
    }

    private static void emit(String name, double value, String unit) {
        String v = value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : String.format(Locale.ROOT, "%.4f", value);
        System.out.println(name + " " + v + (unit.isEmpty() ? "" : " " + unit));
    }
}
