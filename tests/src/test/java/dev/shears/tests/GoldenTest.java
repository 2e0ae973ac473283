package dev.shears.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonObject;
import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The zoo against PyTorch: loads a golden fixture (weights, buffers and one batch written by
 * scripts/golden/make_golden.py), builds the same model from the zoo, copies the weights in by
 * state_dict name (the name sets must match exactly), runs forward in training mode, the
 * label-smoothed loss and backward, and compares logits, loss, every gradient and the updated
 * running statistics. Tolerance per tensor: |java - torch| <= 2e-5 max|torch| + 2e-4 |torch|
 * (float32 on both sides, different summation orders; observed errors pass at a tenth of it).
 */
class GoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "resnet20"})
    void oneTrainingStepMatchesPyTorch(String fixtureName) throws Exception {
        GoldenFixture g = GoldenFixture.load(fixtureName);
        JsonObject meta = g.meta;
        ModelConfig cfg = ModelConfig.of(meta.get("channels").getAsInt(), meta.get("height").getAsInt(), meta.get("width").getAsInt(),
                meta.get("classes").getAsInt());
        for (Map.Entry<String, com.google.gson.JsonElement> o : meta.getAsJsonObject("options").entrySet()) cfg = cfg.with(o.getKey(), o.getValue().getAsString());
        double smoothing = meta.get("smoothing").getAsDouble();
        try (Network m = ModelZoo.create(meta.get("model").getAsString(), cfg)) {
            TreeSet<String> fixtureParams = new TreeSet<>(), modelParams = new TreeSet<>();
            g.tensors.keySet().stream().filter(k -> k.startsWith("param:")).forEach(k -> fixtureParams.add(k.substring(6)));
            m.parameters().forEach(p -> modelParams.add(p.name()));
            assertEquals(fixtureParams, modelParams, "parameter names differ from the PyTorch state_dict; " + GoldenFixture.REGENERATE);
            TreeSet<String> fixtureBuffers = new TreeSet<>();
            g.tensors.keySet().stream().filter(k -> k.startsWith("buffer:")).forEach(k -> fixtureBuffers.add(k.substring(7)));
            assertEquals(fixtureBuffers, new TreeSet<>(m.buffers().keySet()), "buffer names differ from the PyTorch state_dict");

            for (Parameter p : m.parameters()) load(g.get("param:" + p.name()), p.value());
            for (Map.Entry<String, Tensor> b : m.buffers().entrySet()) load(g.get("buffer:" + b.getKey()), b.getValue());
            GoldenFixture.Entry input = g.get("input");
            try (Tensor x = Tensor.of(input.values(), input.shape())) {
                m.zeroGrad();
                Tensor logits = m.forward(x, true);
                compare(fixtureName + " logits", logits.toFloatArray(), g.get("logits").values());
                try (Tensor d = Tensor.allocate(DType.F32, logits.shape())) {
                    double value = SoftmaxCrossEntropy.compute(logits, g.get("labels").ints(), smoothing, d).meanLoss();
                    compare(fixtureName + " loss", new float[] {(float) value}, g.get("loss").values());
                    m.backward(d);
                }
                for (Parameter p : m.parameters()) {
                    compare(fixtureName + " grad of " + p.name(), p.grad().toFloatArray(), g.get("grad:" + p.name()).values());
                }
                for (Map.Entry<String, Tensor> b : m.buffers().entrySet()) {
                    compare(fixtureName + " " + b.getKey() + " after the step", b.getValue().toFloatArray(), g.get("buffer_after:" + b.getKey()).values());
                }
            }
        }
    }

    private static void load(GoldenFixture.Entry e, Tensor t) {
        assertArrayEquals(t.shape(), e.shape(), "shape of " + t.name() + " in the fixture; " + GoldenFixture.REGENERATE);
        t.copyFrom(e.values());
    }

    private static void compare(String what, float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        double atol = 2e-5 * max;
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= atol + 2e-4 * Math.abs(expected[i]))) {
                fail(what + " differs from PyTorch at " + i + ": " + actual[i] + " vs " + expected[i] + " (max |torch| " + max
                        + "); if the model definition changed on purpose, " + GoldenFixture.REGENERATE);
            }
        }
    }
}
