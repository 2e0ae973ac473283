package dev.shears.nn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.BatchNorm2d;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxProto.ModelProto;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ONNX export against ONNX Runtime (an independent implementation of every operator): for every
 * family of the zoo, with random batch-norm statistics, the logits ORT computes from our file
 * equal our eval-mode forward within a relative tolerance of {@link #TOLERANCE} (max |ours - ort|
 * over max |ours|), at batch 1 and 8, dense and with a random 90% mask, batch norm kept and folded.
 * The recurrent models (GRU as ONNX's GRU operator, FastGRNN unrolled, full and low rank) are
 * compared the same way. Also: the file holds the masked weights bit for bit (CNNs), the batch
 * is dynamic, the names are as asked.
 */
class OnnxExportTest {
    /** Relative tolerance on the logits: float32 sums in another order, over up to 50 layers. */
    static final double TOLERANCE = 2e-5;

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        // name, options, channels, height, width, batch norms left as nodes when folding
        "lenet5,             ,                 1, 28, 28, 0",
        "resnet20,           shortcut=A,       3, 32, 32, 0",
        "resnet20,           shortcut=B,       3, 32, 32, 0",
        "wrn-10-1,           ,                 3, 32, 32, 4",   // pre-activation BNs follow no convolution
        "mobilenet-v1,       multiplier=0.25,  3, 32, 32, 0",
        "mobilenet-v2-cifar, ,                 3, 16, 16, 0",
        "resnet50,           ,                 3, 32, 32, 0",
        // recurrent: a sequence of T = height steps of F = width features
        "gru,                hidden=8,                  1, 6, 5, 0",
        "fastgrnn,           hidden=8,                  1, 6, 5, 0",
        "fastgrnn,           hidden=8;rank-w=2;rank-u=3, 1, 6, 5, 0",
    })
    void onnxRuntimeLogitsMatchOurs(String name, String option, int channels, int height, int width, int unfoldable) throws Exception {
        ModelConfig cfg = ModelConfig.of(channels, height, width, 10).withSeed(3);
        if (option != null) for (String o : option.split(";")) cfg = cfg.with(o.split("=")[0], o.split("=")[1]);
        try (Network m = ModelZoo.create(name, cfg); Workspace masks = new Workspace("masks")) {
            SplittableRandom r = new SplittableRandom(name.hashCode());
            int batchNorms = randomizeBatchNorms(m, r);
            int[] sample = m.inputShape(); // (C, H, W), or (T, F) for the recurrent models
            boolean recurrent = sample.length == 2;
            float[] x = new float[8 * Arrays.stream(sample).reduce(1, (a, b) -> a * b)];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (double sparsity : new double[] {0, 0.9}) {
                if (sparsity > 0) prune(m, masks, sparsity, r);
                float[] ours8 = forward(m, x, 8), ours1 = forward(m, Arrays.copyOf(x, x.length / 8), 1);
                for (boolean fold : new boolean[] {false, true}) {
                    String what = name + " " + (option == null ? "" : option + " ") + "sparsity " + sparsity + (fold ? " bn folded" : " bn kept");
                    ModelProto model = OnnxExport.toModel(m, OnnxExport.Options.defaults().withFoldBatchNorm(fold));
                    long bnNodes = model.graph().node().stream().filter(n -> n.opType().equals("BatchNormalization")).count();
                    assertEquals(fold ? unfoldable : batchNorms, bnNodes, what + ": BatchNormalization nodes");
                    assertEquals(17, model.opsetVersion(""), what);
                    if (!fold && !recurrent) assertWeightsAreTheMaskedParameters(m, model, what);
                    if (recurrent) assertEquals(sparsity > 0, zeroFraction(m, model) > 0.85, what + ": zeros in the weights");
                    try (OrtSession s = session(OnnxWriter.toBytes(model))) {
                        assertClose(ours8, ort(s, x, 8, sample), what + " batch 8");
                        assertClose(ours1, ort(s, Arrays.copyOf(x, x.length / 8), 1, sample), what + " batch 1");
                    }
                }
            }
        }
    }

    @Test
    void fileHasDynamicBatchNamedInputAndOutputAndNoMasks() throws Exception {
        try (Network m = ModelZoo.create("resnet20", ModelConfig.of(3, 8, 8, 10).withSeed(1)); Workspace masks = new Workspace("m")) {
            prune(m, masks, 0.5, new SplittableRandom(2));
            Path file = dir.resolve("sub/model.onnx");
            OnnxExport.Summary sum = OnnxExport.write(m, file, new OnnxExport.Options(false, "images", "scores"));
            ModelProto back = OnnxReader.read(file);
            assertEquals("images", back.graph().input().getFirst().name());
            assertEquals("scores", back.graph().output().getFirst().name());
            assertEquals("batch", back.graph().input().getFirst().type().shape().getFirst().dimParam());
            assertEquals("batch", back.graph().output().getFirst().type().shape().getFirst().dimParam());
            assertEquals(List.of(3L, 8L, 8L), back.graph().input().getFirst().type().shape().stream().skip(1).map(OnnxProto.Dimension::dimValue).toList());
            assertTrue(back.graph().initializer().stream().noneMatch(t -> t.name().endsWith(".mask") || t.name().startsWith("optim.")));
            long prunable = m.parameters().stream().filter(Parameter::prunable).mapToLong(Parameter::size).sum();
            assertEquals(prunable, sum.prunableWeights());
            assertEquals(prunable - m.parameters().stream().filter(Parameter::prunable).mapToLong(Parameter::kept).sum(), sum.zeroWeights());
            assertEquals(back.graph().node().size(), sum.nodes());
            assertEquals("input 'images' (batch, 3, 8, 8), output 'scores' (batch, 10)", sum.signature());
            // no temp file left behind
            try (var files = Files.list(file.getParent())) {
                assertEquals(List.of(file), files.toList());
            }
        }
    }

    /** BN statistics and affine parameters away from the identity, so that keeping and folding them is really tested. */
    private static int randomizeBatchNorms(Network m, SplittableRandom r) {
        int n = 0;
        for (Layer l : m.layers()) {
            if (!(l instanceof BatchNorm2d bn)) continue;
            n++;
            fill(bn.weight().value(), r, 0.6, 1.4);
            fill(bn.bias().value(), r, -0.2, 0.2);
            fill(bn.runningMean(), r, -0.2, 0.2);
            fill(bn.runningVar(), r, 0.5, 2.0);
        }
        return n;
    }

    private static void fill(Tensor t, SplittableRandom r, double lo, double hi) {
        for (long i = 0; i < t.size(); i++) t.set(i, (float) r.nextDouble(lo, hi));
    }

    /** A random mask on every prunable weight, removing exactly round(sparsity * n) of each layer. */
    private static void prune(Network m, Workspace masks, double sparsity, SplittableRandom r) {
        for (Parameter p : m.parameters()) {
            if (!p.prunable()) continue;
            int n = (int) p.size();
            int[] order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            float[] keep = new float[n];
            Arrays.fill(keep, 1f);
            for (int i = 0; i < Math.round(sparsity * n); i++) keep[order[i]] = 0f;
            p.setMask(masks, keep);
        }
    }

    private static void assertWeightsAreTheMaskedParameters(Network m, ModelProto model, String what) {
        for (Parameter p : m.parameters()) {
            OnnxProto.TensorProto t = model.graph().initializer(p.name());
            assertTrue(t != null, what + ": no initializer " + p.name());
            assertArrayEquals(Arrays.stream(p.shape()).asLongStream().toArray(), t.dims(), what + " " + p.name());
            float[] want = p.value().toFloatArray();
            if (p.mask() != null) {
                MemorySegment mask = p.mask().segment();
                for (int i = 0; i < want.length; i++) if (mask.getAtIndex(F, i) == 0f) want[i] = 0f;
            }
            assertArrayEquals(want, t.floats(), what + " " + p.name());
        }
    }

    /** Fraction of exact zeros in the initializers of the prunable weights (GRU's regrouped ones are rnn.W and rnn.R). */
    private static double zeroFraction(Network m, ModelProto model) {
        java.util.Set<String> weights = new java.util.HashSet<>(List.of("rnn.W", "rnn.R"));
        m.parameters().stream().filter(Parameter::prunable).forEach(p -> weights.add(p.name()));
        long n = 0, zeros = 0;
        for (OnnxProto.TensorProto t : model.graph().initializer()) {
            if (!weights.contains(t.name())) continue;
            for (float v : t.floats()) {
                n++;
                if (v == 0f) zeros++;
            }
        }
        return (double) zeros / n;
    }

    private static float[] forward(Network m, float[] x, int batch) {
        try (Tensor t = Tensor.of(x, batched(batch, m.inputShape()))) {
            return m.forward(t, false).toFloatArray();
        }
    }

    private static OrtSession session(byte[] model) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(2);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT); // run our nodes as written (no fusion by ORT), and load faster
        return OrtEnvironment.getEnvironment().createSession(model, o);
    }

    private static int[] batched(int batch, int[] sample) {
        int[] shape = new int[sample.length + 1];
        shape[0] = batch;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        return shape;
    }

    private static float[] ort(OrtSession s, float[] x, int batch, int[] sample) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), Arrays.stream(batched(batch, sample)).asLongStream().toArray());
             OrtSession.Result r = s.run(Map.of("input", in))) {
            OnnxTensor out = (OnnxTensor) r.get("logits").orElseThrow();
            assertArrayEquals(new long[] {batch, 10}, out.getInfo().getShape());
            FloatBuffer b = out.getFloatBuffer();
            float[] y = new float[b.remaining()];
            b.get(y);
            return y;
        }
    }

    private static void assertClose(float[] ours, float[] theirs, String what) {
        assertEquals(ours.length, theirs.length, what);
        double scale = 0, err = 0;
        for (int i = 0; i < ours.length; i++) {
            assertTrue(Float.isFinite(ours[i]), what + ": our logit " + i + " is " + ours[i]);
            scale = Math.max(scale, Math.abs(ours[i]));
            err = Math.max(err, Math.abs(ours[i] - theirs[i]));
        }
        assertTrue(scale > 0, what + ": all logits are zero, nothing is compared");
        System.out.printf(java.util.Locale.ROOT, "onnx-export %-50s max|logit| %.3e relative error %.2e%n", what, scale, err / scale);
        assertTrue(err <= TOLERANCE * scale, what + ": max |ours - ort| = " + err + " over max |logit| " + scale + " exceeds relative " + TOLERANCE);
    }
}
