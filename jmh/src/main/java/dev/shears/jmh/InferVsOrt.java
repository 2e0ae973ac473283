package dev.shears.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.shears.engine.DType;
import dev.shears.engine.EngineInfo;
import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.models.SparseInference;
import dev.shears.nn.onnx.OnnxExport;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Batch-1 eval forward of a zoo model against ONNX Runtime (Java API, same JVM) on the same
 * architecture exported to ONNX, iterations interleaved (ORT, Shears dense: its best dense path,
 * the fused DirectConv one where SparseInference.fuseDense's timing keeps it, then the
 * layer-by-layer eval forward it replaces, and Shears sparse) so load on a shared machine hits all alike; medians of wall time and, with one thread, of thread
 * CPU time (ORT with one intra-op thread runs on the caller). ORT gets as many intra-op threads as
 * the Shears pool. Sparse: Global MP at the given sparsity, SparseInference's per-layer choice.
 * Not a JMH benchmark (a plain main, for CPU time); weights are random (timing does not depend on
 * them for dense kernels). ONNX_FILE "shears" exports the zoo model itself (OnnxExport, batch norm
 * folded) so ORT runs the same weights, and prints the logits' max difference. How to run (ONNX
 * files from scripts/peers/export_onnx.py, or "shears"):
 *   java -Dshears.threads=1 --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp jmh/target/benchmarks.jar dev.shears.jmh.InferVsOrt resnet32 3x32x32 10 onnx/resnet32.onnx 0.95 [iters]
 */
public final class InferVsOrt {
    private InferVsOrt() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: InferVsOrt MODEL CxHxW CLASSES ONNX_FILE SPARSITY [ITERS [WARMUP]]");
            System.exit(2);
        }
        String model = args[0];
        String[] d = args[1].split("x");
        int c = Integer.parseInt(d[0]), h = Integer.parseInt(d[1]), w = Integer.parseInt(d[2]), classes = Integer.parseInt(args[2]);
        boolean own = args[3].equals("shears"); // ORT runs Shears' own ONNX export of this very model (same weights)
        Path onnx = own ? Files.createTempFile("infer-vs-ort", ".onnx") : Path.of(args[3]);
        if (!own && !Files.isRegularFile(onnx)) {
            throw new IllegalArgumentException("ONNX file " + onnx + " not found; write it with scripts/peers/export_onnx.py, or pass 'shears' to export the zoo model");
        }
        double sparsity = Double.parseDouble(args[4]);
        int iters = args.length > 5 ? Integer.parseInt(args[5]) : 100, warmup = args.length > 6 ? Integer.parseInt(args[6]) : 20;
        int threads = Parallel.threads();
        System.out.println("# InferVsOrt " + String.join(" ", EngineInfo.lines()).replaceAll("\\s+", " "));
        System.out.println("# threads " + threads + " (ORT intra-op " + threads + ", inter-op 1, sequential, all graph optimizations)");
        String tag = model + "." + c + "x" + h + "x" + w + "_b1";
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // With two or more threads, ORT's idle pool threads spin by default after each run; in
            // this interleaved loop they then hold the core that the Shears pool's second lane needs
            // next (Shears' two-thread dense forward measured 10-25 ms here instead of 2.7 ms).
            if (threads > 1) so.addConfigEntry("session.intra_op.allow_spinning", "0");
            try (Network net = ModelZoo.create(model, new ModelConfig(c, h, w, classes, 0, Map.of()));
                 OrtSession ort = env.createSession(exportIfOwn(own, net, onnx), so);
                 Workspace masks = new Workspace("infer.masks");
                 Tensor x = Tensor.allocate(DType.F32, 1, c, h, w)) {
                SplittableRandom r = new SplittableRandom(1);
                float[] xs = new float[c * h * w];
                for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
                x.copyFrom(xs);
                String input = ort.getInputNames().iterator().next();
                try (OnnxTensor xo = OnnxTensor.createTensor(env, FloatBuffer.wrap(xs), new long[] {1, c, h, w})) {
                    Map<String, OnnxTensor> feed = Map.of(input, xo);
                    // Shears dense = its best dense eval path: the fused DirectConv path where whole-forward timing says it wins
                    float[] layerLogits = net.forward(x, false).toFloatArray();
                    System.out.println("# dense: " + SparseInference.fuseDense(net, 1, true));
                    float[] fusedLogits = net.forward(x, false).toFloatArray();
                    double fl = 0;
                    for (int i = 0; i < fusedLogits.length; i++) fl = Math.max(fl, Math.abs(fusedLogits[i] - layerLogits[i]));
                    System.out.println(tag + ".max_abs_diff_dense_vs_layers " + String.format(Locale.ROOT, "%.3e", fl));
                    if (own) { // the same weights on both sides: the logits must agree
                        float[] ours = net.forward(x, false).toFloatArray();
                        try (OrtSession.Result out = ort.run(feed)) {
                            float[] theirs = ((float[][]) out.get(0).getValue())[0];
                            double diff = 0;
                            for (int i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
                            System.out.println(tag + ".max_abs_diff_vs_ort " + String.format(Locale.ROOT, "%.3e", diff) + " (same weights, Shears' ONNX export)");
                        }
                    }
                    // dense first (its own timings), then the pruned model's sparse path
                    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
                    List<Double> ortMs = new ArrayList<>(), denseMs = new ArrayList<>(), ortCpu = new ArrayList<>(), denseCpu = new ArrayList<>();
                    List<Double> layersMs = new ArrayList<>(), layersCpu = new ArrayList<>();
                    List<Double> sparseMs = new ArrayList<>(), sparseCpu = new ArrayList<>();
                    for (int i = 0; i < warmup + iters; i++) {
                        long c0 = mx.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                        try (OrtSession.Result out = ort.run(feed)) {
                            if (out.size() != 1) throw new IllegalStateException("ONNX model " + onnx + " has " + out.size() + " outputs, expected 1");
                        }
                        long t1 = System.nanoTime(), c1 = mx.getCurrentThreadCpuTime();
                        net.forward(x, false);
                        long t2 = System.nanoTime(), c2 = mx.getCurrentThreadCpuTime();
                        SparseInference.enableFused(net, false); // the layer-by-layer eval forward (before the fused path)
                        net.forward(x, false);
                        long t3 = System.nanoTime(), c3 = mx.getCurrentThreadCpuTime();
                        SparseInference.enableFused(net, true);
                        if (i >= warmup) {
                            ortMs.add((t1 - t0) / 1e6);
                            ortCpu.add((c1 - c0) / 1e6);
                            denseMs.add((t2 - t1) / 1e6);
                            denseCpu.add((c2 - c1) / 1e6);
                            layersMs.add((t3 - t2) / 1e6);
                            layersCpu.add((c3 - c2) / 1e6);
                        }
                    }
                    if (sparsity > 0) {
                        Pruning.prune(net, "global", sparsity, PruneOptions.DEFAULT, null, masks);
                        SparseInference.sparsify(net, 1);
                        System.out.println("# " + SparseInference.fusedStatus(net));
                        for (int i = 0; i < warmup + iters; i++) {
                            long c0 = mx.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                            try (OrtSession.Result out = ort.run(feed)) {
                                if (out.size() != 1) throw new IllegalStateException("unexpected ORT outputs");
                            }
                            long t1 = System.nanoTime(), c1 = mx.getCurrentThreadCpuTime();
                            net.forward(x, false);
                            long t2 = System.nanoTime(), c2 = mx.getCurrentThreadCpuTime();
                            if (i >= warmup) {
                                ortMs.add((t1 - t0) / 1e6);
                                ortCpu.add((c1 - c0) / 1e6);
                                sparseMs.add((t2 - t1) / 1e6);
                                sparseCpu.add((c2 - c1) / 1e6);
                            }
                        }
                    }
                    double o = Stats.median(ortMs), dn = Stats.median(denseMs);
                    emit(tag + ".ort_dense.ms.med", o, "ms");
                    emit(tag + ".shears_dense.ms.med", dn, "ms");
                    emit(tag + ".shears_dense_vs_ort", o / dn, "x (ORT time / Shears time; > 1: Shears faster)");
                    emit(tag + ".shears_layers.ms.med", Stats.median(layersMs), "ms (layer-by-layer eval forward)");
                    emit(tag + ".shears_layers_vs_ort", o / Stats.median(layersMs), "x");
                    if (threads == 1) {
                        emit(tag + ".ort_dense.cpu_ms.med", Stats.median(ortCpu), "ms (thread CPU time)");
                        emit(tag + ".shears_dense.cpu_ms.med", Stats.median(denseCpu), "ms (thread CPU time)");
                        emit(tag + ".shears_dense_vs_ort.cpu", Stats.median(ortCpu) / Stats.median(denseCpu), "x");
                        emit(tag + ".shears_layers.cpu_ms.med", Stats.median(layersCpu), "ms (thread CPU time)");
                        emit(tag + ".shears_layers_vs_ort.cpu", Stats.median(ortCpu) / Stats.median(layersCpu), "x");
                    }
                    if (sparsity > 0) {
                        String s = tag + "_s" + sparsity;
                        double sp = Stats.median(sparseMs);
                        emit(s + ".shears_sparse.ms.med", sp, "ms");
                        emit(s + ".sparse_vs_shears_dense", dn / sp, "x");
                        emit(s + ".sparse_vs_ort_dense", o / sp, "x");
                        if (threads == 1) {
                            double sc = Stats.median(sparseCpu);
                            emit(s + ".shears_sparse.cpu_ms.med", sc, "ms (thread CPU time)");
                            emit(s + ".sparse_vs_shears_dense.cpu", Stats.median(denseCpu) / sc, "x");
                            emit(s + ".sparse_vs_ort_dense.cpu", Stats.median(ortCpu) / sc, "x");
                        }
                    }
                }
            }
        }
    }

    /** With {@code own}, writes the model's ONNX export (batch norm folded, as ORT would fold it) to {@code file}; returns the path. */
    private static String exportIfOwn(boolean own, Network net, Path file) {
        if (own) {
            OnnxExport.write(net, file, OnnxExport.Options.defaults().withFoldBatchNorm(true));
            file.toFile().deleteOnExit();
        }
        return file.toString();
    }

    private static void emit(String name, double value, String unit) {
        System.out.println(name + " " + String.format(Locale.ROOT, "%.3f", value) + " " + unit);
    }
}
