package dev.shears.nn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import dev.shears.nn.Parameter;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Shared input-gradient buffers (ActivationMemory colours) change where a dx lives, never what it
 * holds: two copies of a zoo model, one with private dx buffers, take the same training steps and
 * must agree bit for bit (logits, every gradient, every weight), while the shared one holds less
 * activation memory. Covers identity, zero-pad and conv shortcuts, pre-activation blocks and the
 * inverted residuals.
 */
class SharedGradientsTest {

    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "resnet20-B", "wrn-10-2", "mobilenet-v2-cifar"})
    void sharedBuffersGiveTheSameBitsAsPrivateOnes(String which) {
        String name = which.replace("-B", "");
        ModelConfig cfg = ModelConfig.of(3, 8, 8, 3);
        if (which.endsWith("-B")) cfg = cfg.withShortcut("B");
        if (name.startsWith("wrn")) cfg = cfg.withDropout(0);
        int n = 4;
        int[] labels = {0, 1, 2, 1};
        try (Network shared = ModelZoo.create(name, cfg); Network alone = ModelZoo.create(name, cfg);
             Tensor d = Tensor.allocate(DType.F32, n, cfg.classes());
             Tensor x = TestData.randomTensor(3, n, cfg.channels(), cfg.height(), cfg.width())) {
            alone.privateGradients();
            for (int step = 0; step < 2; step++) {
                float[] a = step(shared, x, labels, d), b = step(alone, x, labels, d);
                assertArrayEquals(b, a, which + " logits, step " + step);
                List<Parameter> ps = shared.parameters(), pa = alone.parameters();
                for (int i = 0; i < ps.size(); i++) {
                    assertArrayEquals(pa.get(i).grad().toFloatArray(), ps.get(i).grad().toFloatArray(), which + " " + ps.get(i).name() + " grad, step " + step);
                    assertArrayEquals(pa.get(i).value().toFloatArray(), ps.get(i).value().toFloatArray(), which + " " + ps.get(i).name() + ", step " + step);
                }
            }
            assertTrue(shared.activationBytes() < alone.activationBytes(),
                    which + ": shared " + shared.activationBytes() + " bytes, private " + alone.activationBytes());
        }
    }

    /** Forward, loss, backward and a plain SGD update; returns the logits. */
    private static float[] step(Network m, Tensor x, int[] labels, Tensor d) {
        m.zeroGrad();
        Tensor out = m.forward(x, true);
        float[] logits = out.toFloatArray();
        SoftmaxCrossEntropy.compute(out, labels, 0, d);
        m.backward(d);
        for (Parameter p : m.parameters()) {
            MemorySegment v = p.value().segment(), g = p.grad().segment();
            for (long i = 0; i < p.size(); i++) {
                v.setAtIndex(ValueLayout.JAVA_FLOAT, i, v.getAtIndex(ValueLayout.JAVA_FLOAT, i) - 0.05f * g.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        }
        return logits;
    }
}
