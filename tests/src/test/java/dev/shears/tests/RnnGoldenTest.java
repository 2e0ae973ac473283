package dev.shears.tests;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.DType;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Safetensors;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The zoo's fastgrnn (full and low rank) and gru classifiers against PyTorch: the golden files
 * hold random parameters, an input batch and labels, and what PyTorch computed from them in
 * double (logits, mean cross-entropy, every parameter's gradient), written by
 * {@code scripts/golden/make_rnn_golden.py} (a reference FastGRNN from EdgeML's equations, and
 * torch.nn.GRU). Tolerance: 2e-5 + 1e-3 |expected| (float against double).
 */
class RnnGoldenTest {
    static final String FORMAT = "shears-rnn-golden", VERSION = "1";
    static final String REGENERATE = "regenerate with: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 scripts/golden/make_rnn_golden.py";

    private static Path resource(String file) {
        URL url = RnnGoldenTest.class.getResource("/golden/" + file);
        assertNotNull(url, "golden file golden/" + file + " is missing from tests/src/test/resources; " + REGENERATE);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static float[] floats(Safetensors.Entry e) {
        assertEquals(Safetensors.DType.F32, e.dtype(), e.name() + " should be F32; " + REGENERATE);
        return e.data().toArray(ValueLayout.JAVA_FLOAT);
    }

    private static void assertClose(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": sizes differ");
        for (int i = 0; i < want.length; i++) {
            double tol = 2e-5 + 1e-3 * Math.abs(want[i]);
            if (!(Math.abs(want[i] - got[i]) <= tol)) {
                fail(what + "[" + i + "]: PyTorch " + want[i] + ", Shears " + got[i] + " (tolerance " + tol + "); if the generator changed, " + REGENERATE);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rnn_fastgrnn.safetensors", "rnn_fastgrnn_lowrank.safetensors", "rnn_gru.safetensors"})
    void matchesPyTorch(String file) {
        try (Safetensors.Contents golden = Safetensors.read(resource(file))) {
            Map<String, String> meta = golden.metadata();
            assertEquals(FORMAT, meta.get("format"), file + ": not a " + FORMAT + " file; " + REGENERATE);
            assertEquals(VERSION, meta.get("version"), file + ": golden version " + meta.get("version") + ", this test reads " + VERSION + "; " + REGENERATE);
            String model = meta.get("model");
            int n = Integer.parseInt(meta.get("batch")), t = Integer.parseInt(meta.get("steps")), f = Integer.parseInt(meta.get("features"));
            int classes = Integer.parseInt(meta.get("classes"));
            Map<String, String> options = new LinkedHashMap<>();
            options.put("hidden", meta.get("hidden"));
            if (model.equals("fastgrnn")) {
                options.put("rank-w", meta.get("rank-w"));
                options.put("rank-u", meta.get("rank-u"));
            }
            try (Network net = ModelZoo.create(model, new ModelConfig(1, t, f, classes, 0, options));
                 Workspace ws = new Workspace("golden");
                 Tensor x = Tensor.allocate(DType.F32, n, t, f); Tensor labels = Tensor.allocate(DType.I32, n)) {
                for (Parameter p : net.parameters()) {
                    Safetensors.Entry e = golden.require(p.name());
                    assertArrayEquals(p.shape(), e.intShape(), file + ": " + p.name() + " is " + Arrays.toString(e.intShape()) + " in the file, "
                            + Shape.str(p.shape()) + " in Shears; " + REGENERATE);
                    p.value().copyFrom(floats(e));
                }
                long weights = golden.entries().keySet().stream().filter(k -> k.startsWith("rnn.") || k.startsWith("fc.")).count();
                assertEquals(weights, net.parameters().size(), file + ": the file has parameters Shears does not: " + golden.entries().keySet());
                x.copyFrom(floats(golden.require("input")));
                Safetensors.Entry le = golden.require("labels");
                int[] ls = le.data().toArray(ValueLayout.JAVA_INT);
                for (int i = 0; i < n; i++) labels.setInt(i, ls[i]);

                Tensor logits = net.forward(x, true);
                assertClose(file + " logits", floats(golden.require("logits")), logits.toFloatArray());
                Tensor d = ws.floats("dLogits", n, classes);
                SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.compute(logits, labels, 0, d);
                assertEquals(floats(golden.require("loss"))[0], r.meanLoss(), 2e-5, file + " loss; " + REGENERATE);
                net.zeroGrad();
                net.backward(d);
                for (Parameter p : net.parameters()) assertClose(file + " grad of " + p.name(), floats(golden.require("grad." + p.name())), p.grad().toFloatArray());
            }
        }
    }

    /** Zoo init matches EdgeML's: biases ones, zeta 1.0, nu -4.0 (before the sigmoid), factors 0.1 N(0, 1). */
    @org.junit.jupiter.api.Test
    void fastgrnnInitIsEdgeMls() {
        try (Network net = ModelZoo.create("fastgrnn", new ModelConfig(1, 128, 9, 2, 7, Map.of("rank-w", "9", "rank-u", "80")))) {
            assertEquals(1f, net.parameter("rnn.zeta").value().get(0));
            assertEquals(-4f, net.parameter("rnn.nu").value().get(0));
            for (String b : new String[] {"rnn.bias_gate", "rnn.bias_update"}) {
                for (float v : net.parameter(b).value().toFloatArray()) assertEquals(1f, v, b);
            }
            float[] u1 = net.parameter("rnn.U1").value().toFloatArray();
            double s = 0, s2 = 0;
            for (float v : u1) {
                s += v;
                s2 += v * v;
            }
            double mean = s / u1.length, std = Math.sqrt(s2 / u1.length - mean * mean);
            assertEquals(0, mean, 0.01, "U1 mean");
            assertEquals(0.1, std, 0.01, "U1 std (0.1 N(0, 1))");
            assertArrayEquals(new int[] {80, 80}, net.parameter("rnn.U2").shape());
            assertArrayEquals(new int[] {9, 9}, net.parameter("rnn.W1").shape());
            assertArrayEquals(new int[] {80, 9}, net.parameter("rnn.W2").shape());
        }
    }
}
