package dev.shears.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Safetensors;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxImport;
import dev.shears.nn.onnx.OnnxProto;
import dev.shears.nn.onnx.OnnxReader;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The graphs torch.onnx.export writes, imported: each small fixture's logits against the logits
 * PyTorch computed for the same input (tolerance 1e-4 + 1e-3 |expected|: float32 both sides, sums
 * in another order), and the full-size torchvision ResNet-18/34/50 and MobileNet-V2 graphs, whose
 * initializers were stripped to keep the repository small, filled with seeded random values of
 * their declared shapes (so the weights are synthetic: the test checks that the graph imports with
 * torchvision's weight counts and runs, one forward at batch 1 giving (1, 1000) finite logits, not
 * what it predicts).
 * Fixtures: scripts/onnx/make_fixtures.py.
 */
class OnnxFixturesTest {
    static final String REGENERATE = "regenerate with: /usr/bin/python3 scripts/onnx/make_fixtures.py";

    static Path resource(String file) {
        URL url = OnnxFixturesTest.class.getResource("/onnx/" + file);
        assertNotNull(url, "fixture onnx/" + file + " is missing from tests/src/test/resources; " + REGENERATE);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {input, logits} as PyTorch recorded them; the shapes of both. */
    record Recorded(float[] input, int[] inputShape, float[] logits, int[] logitsShape) {}

    static Recorded recorded(String name) {
        try (Safetensors.Contents c = Safetensors.read(resource(name + ".io.safetensors"))) {
            Safetensors.Entry in = c.require("input"), out = c.require("logits");
            return new Recorded(in.data().toArray(ValueLayout.JAVA_FLOAT), ints(in.shape()), out.data().toArray(ValueLayout.JAVA_FLOAT), ints(out.shape()));
        }
    }

    private static int[] ints(long[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Math.toIntExact(a[i]);
        return out;
    }

    static float[] forward(Network net, float[] input, int[] shape) {
        try (Tensor x = Tensor.allocate(DType.F32, shape)) {
            x.copyFrom(input);
            return net.forward(x, false).toFloatArray();
        }
    }

    static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": logit count");
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-4 + 1e-3 * Math.abs(expected[i]);
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) fail(what + ": logit " + i + " is " + actual[i] + ", PyTorch gave " + expected[i] + " (tolerance " + tol + "); " + REGENERATE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "resnet_small_bn", "resnet_fmnist", "mobilenet_v2_small", "ops_opset10", "ops_opset17"})
    void importedLogitsMatchPyTorch(String name) {
        Recorded r = recorded(name);
        try (Network net = OnnxImport.read(resource(name + ".onnx"))) {
            assertArrayEquals(new int[] {r.inputShape()[1], r.inputShape()[2], r.inputShape()[3]}, net.inputShape());
            assertEquals(r.logitsShape()[1], net.classes());
            assertClose(name, r.logits(), forward(net, r.input(), r.inputShape()));
        }
    }

    /**
     * Each graph imports at its declared 3x224x224 with exactly torchvision's prunable weights (the
     * sum of its Conv2d and Linear weight sizes), and runs one forward at batch 1: at 224x224 for
     * ResNet-18 and MobileNet-V2; ResNet-34 and -50 (3.6 and 4.1 GMACs, slow in the forced-scalar
     * test pass) at 64x64, the graph's input re-declared (every other shape is inferred from it).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"resnet18, 11678912, 224", "resnet34, 21779648, 64", "resnet50, 25502912, 64", "mobilenet_v2, 3469760, 224"})
    void fullSizeTorchvisionGraphsImportAndRun(String name, long prunable, int size) throws Exception {
        Path file = resource(name + "_stripped.onnx");
        assertTrue(Files.size(file) < 100_000, name + ": the stripped graph should be small, is " + Files.size(file) + " bytes");
        OnnxProto.ModelProto m = filled(OnnxReader.read(file), name.hashCode());
        try (Network net = OnnxImport.fromModel(m, file.toString())) {
            assertArrayEquals(new int[] {3, 224, 224}, net.inputShape());
            assertEquals(1000, net.classes());
            assertEquals(prunable, net.parameters().stream().filter(Parameter::prunable).mapToLong(Parameter::size).sum(), "prunable weights");
        }
        try (Network net = OnnxImport.fromModel(size == 224 ? m : withInput(m, size), file.toString())) {
            SplittableRandom rng = new SplittableRandom(5);
            float[] x = new float[3 * size * size];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            float[] logits = forward(net, x, new int[] {1, 3, size, size});
            assertEquals(1000, logits.length);
            for (float v : logits) assertTrue(Float.isFinite(v), name + ": logits must be finite");
        }
    }

    /** The model with its graph input declared (N, 3, size, size). */
    static OnnxProto.ModelProto withInput(OnnxProto.ModelProto m, int size) {
        OnnxProto.GraphProto g = m.graph();
        List<OnnxProto.ValueInfoProto> inputs = new ArrayList<>();
        for (OnnxProto.ValueInfoProto v : g.input()) {
            boolean image = v.type() != null && v.type().shape().size() == 4;
            inputs.add(!image ? v : OnnxProto.ValueInfoProto.floatTensor(v.name(), v.type().shape().get(0), OnnxProto.Dimension.of(3),
                    OnnxProto.Dimension.of(size), OnnxProto.Dimension.of(size)));
        }
        OnnxProto.GraphProto g2 = new OnnxProto.GraphProto(g.name(), g.node(), g.initializer(), inputs, g.output(), g.valueInfo(), g.docString());
        return new OnnxProto.ModelProto(m.irVersion(), m.opsetImport(), m.producerName(), m.producerVersion(), m.domain(), m.modelVersion(), m.docString(), g2);
    }

    /** The model with every float initializer given seeded values of its declared shape (He-like scale, so activations stay finite). */
    static OnnxProto.ModelProto filled(OnnxProto.ModelProto m, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<OnnxProto.TensorProto> inits = new ArrayList<>();
        for (OnnxProto.TensorProto t : m.graph().initializer()) {
            if (t.dataType() != OnnxProto.FLOAT) {
                inits.add(t);
                continue;
            }
            int n = Math.toIntExact(t.elementCount());
            long fan = t.dims().length > 1 ? n / t.dims()[0] : 1;
            double std = t.dims().length > 1 ? Math.sqrt(1.0 / fan) : 0.1;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (rng.nextGaussian() * std);
            inits.add(OnnxProto.TensorProto.ofFloats(t.name(), t.dims(), v));
        }
        OnnxProto.GraphProto g = m.graph();
        OnnxProto.GraphProto g2 = new OnnxProto.GraphProto(g.name(), g.node(), inits, g.input(), g.output(), g.valueInfo(), g.docString());
        return new OnnxProto.ModelProto(m.irVersion(), m.opsetImport(), m.producerName(), m.producerVersion(), m.domain(), m.modelVersion(), m.docString(), g2);
    }
}
