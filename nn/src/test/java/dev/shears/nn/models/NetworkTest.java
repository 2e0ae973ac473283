package dev.shears.nn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import dev.shears.nn.Parameter;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A zoo model runs forward, loss and backward on a small batch with gradients that predict the
 * loss change (every model, tiny inputs), reuses its activation memory across steps, reallocates
 * only when the batch size changes, and rejects wrong shapes clearly.
 */
class NetworkTest {

    /**
     * Whole-model gradient check along the gradient: the central difference
     * L(theta + t g) - L(theta - t g) must be 2 t |g|^2 (BN in training mode, so the same batch
     * gives the same function), within 3 %. The step length t |g| = max(1e-5, 1e-3 / max(1, |g|)) keeps
     * these untrained, sharply curved nets in their linear range (the ratio was checked to tend
     * to 1 as the step shrinks) while the loss change stays far above float noise and the
     * per-weight steps stay well above a float ulp of the weights.
     */
    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "resnet20", "wrn-10-2", "mobilenet-v1", "mobilenet-v2-cifar", "resnet50"})
    void lossChangesAlongTheGradientAsTheGradientSays(String name) {
        ModelConfig cfg = name.equals("lenet5") ? ModelConfig.of(1, 16, 16, 3)
                : name.startsWith("mobilenet-v1") ? ModelConfig.of(3, 64, 64, 3).withWidthMultiplier(0.25)
                : name.equals("resnet50") ? ModelConfig.of(3, 48, 48, 3) // layer4 at 2x2: BN statistics over more than one pixel
                : ModelConfig.of(3, 16, 16, 3);
        if (name.startsWith("wrn")) cfg = cfg.withDropout(0);
        int n = name.equals("resnet50") ? 4 : 6;
        int[] labels = java.util.stream.IntStream.range(0, n).map(i -> i % 3).toArray();
        try (Network m = ModelZoo.create(name, cfg); Tensor d = Tensor.allocate(DType.F32, n, cfg.classes());
             Tensor x = TestData.randomTensor(1, n, cfg.channels(), cfg.height(), cfg.width())) {
            m.zeroGrad();
            Tensor logits = m.forward(x, true);
            long bytes = m.activationBytes();
            double l0 = SoftmaxCrossEntropy.compute(logits, labels, 0.1, d).meanLoss();
            m.backward(d);
            double g2 = 0;
            for (Parameter p : m.parameters()) {
                MemorySegment g = p.grad().segment();
                for (long i = 0; i < p.size(); i++) g2 += Math.pow(g.getAtIndex(ValueLayout.JAVA_FLOAT, i), 2);
            }
            double t = Math.max(1e-5, 1e-3 / Math.max(1, Math.sqrt(g2))) / Math.sqrt(g2);
            step(m, -t);
            double minus = SoftmaxCrossEntropy.compute(m.forward(x, true), labels, 0.1, null).meanLoss();
            step(m, 2 * t);
            double plus = SoftmaxCrossEntropy.compute(m.forward(x, true), labels, 0.1, null).meanLoss();
            assertSame(logits, m.forward(x, true), "logits tensor reused");
            assertEquals(bytes, m.activationBytes(), "no new activation memory after the first step");
            double expected = 2 * t * g2, actual = plus - minus;
            assertEquals(expected, actual, 0.03 * expected, name + ": loss " + l0 + ", |g| " + Math.sqrt(g2));
        }
    }

    private static void step(Network m, double t) {
        for (Parameter p : m.parameters()) {
            MemorySegment v = p.value().segment(), g = p.grad().segment();
            for (long i = 0; i < p.size(); i++) {
                v.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (v.getAtIndex(ValueLayout.JAVA_FLOAT, i) + t * g.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
            }
        }
    }

    @Test
    void batchSizeChangeReallocatesAndEvalUsesRunningStatistics() {
        try (Network m = ModelZoo.create("resnet20", ModelConfig.of(1, 8, 8, 4));
             Tensor a = TestData.randomTensor(2, 3, 1, 8, 8); Tensor b = TestData.randomTensor(3, 5, 1, 8, 8)) {
            Tensor first = m.forward(a, true);
            long small = m.activationBytes();
            Tensor second = m.forward(b, true);
            assertTrue(m.activationBytes() > small);
            assertSame(first, m.forward(a, true), "batch size 3 memory kept and re-bound");
            assertSame(second, m.forward(b, true), "batch size 5 memory kept and re-bound");
            try (Tensor c = TestData.randomTensor(4, 2, 1, 8, 8)) {
                m.forward(c, true); // a third size evicts the least recently used (3)
                assertNotSame(first, m.forward(a, true));
            }
            float[] e1 = m.forward(b, false).toFloatArray();
            float[] e2 = m.forward(b, false).toFloatArray();
            assertEquals(java.util.Arrays.toString(e1), java.util.Arrays.toString(e2), "evaluation is deterministic and does not update statistics");
            float[] t = m.forward(b, true).toFloatArray();
            assertNotEquals(java.util.Arrays.toString(e1), java.util.Arrays.toString(t));
        }
    }

    @Test
    void reseedingRepeatsTheDropoutMasks() {
        try (Network m = ModelZoo.create("wrn-10-1", ModelConfig.of(3, 8, 8, 3)); Tensor x = TestData.randomTensor(5, 4, 3, 8, 8)) {
            m.reseed(1, 3);
            float[] a = m.forward(x, true).toFloatArray();
            float[] b = m.forward(x, true).toFloatArray();
            m.reseed(1, 3);
            float[] c = m.forward(x, true).toFloatArray();
            m.reseed(1, 4);
            float[] d = m.forward(x, true).toFloatArray();
            assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b), "a new mask every step");
            assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c), "same (seed, epoch), same masks");
            assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(d), "another epoch, other masks");
        }
    }

    @Test
    void wrongShapesAreClearErrors() {
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist()); Tensor x = TestData.randomTensor(1, 2, 1, 32, 32);
             Tensor ok = TestData.randomTensor(1, 2, 1, 28, 28); Tensor d = TestData.randomTensor(1, 3, 10)) {
            var e = assertThrows(IllegalArgumentException.class, () -> m.forward(x, true));
            assertTrue(e.getMessage().contains("(N, 1, 28, 28)") && e.getMessage().contains("(2, 1, 32, 32)"), e.getMessage());
            m.forward(ok, true);
            e = assertThrows(IllegalArgumentException.class, () -> m.backward(d));
            assertTrue(e.getMessage().contains("(2, 10)"), e.getMessage());
        }
    }
}
