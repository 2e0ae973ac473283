package dev.shears.nn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The dense fused path (FusedInference.compileDense through SparseInference.fuseDense: batch norm
 * folded, ReLU and residual fused, DirectConv kernels) gives the layer-by-layer eval forward's
 * output for every zoo family it accepts, with non-trivial batch-norm statistics, conv biases,
 * odd sizes and stride 2, at batch 1 and 3; the families it does not cover (LeNet-5's max pool,
 * the WRNs' batch norm before the convolution, ResNet-50's 7x7 stem) keep the layer path, and
 * their output is unchanged too.
 */
class DenseFusedInferenceTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @ParameterizedTest
    @CsvSource({
        "resnet20, shortcut=A, 3, 32, 32, 1, true", "resnet20, shortcut=B, 3, 9, 11, 3, true", "resnet32, shortcut=A, 3, 8, 8, 3, true",
        "resnet32, shortcut=A, 3, 12, 12, 1, true",
        "mobilenet-v1, multiplier=0.25, 3, 32, 32, 1, true", "mobilenet-v1, multiplier=0.25, 3, 19, 23, 3, true",
        "mobilenet-v2-cifar, -, 3, 8, 8, 1, true", "mobilenet-v2-cifar, -, 3, 11, 9, 3, true",
        "lenet5, -, 1, 28, 28, 3, false", "wrn-10-2, dropout=0, 3, 8, 8, 1, false", "resnet50, -, 3, 32, 32, 1, false",
    })
    void denseFusedForwardEqualsLayerForward(String name, String option, int c, int h, int w, int batch, boolean covered) {
        Map<String, String> options = option.equals("-") ? Map.of() : Map.of(option.split("=")[0], option.split("=")[1]);
        try (Network m = ModelZoo.create(name, new ModelConfig(c, h, w, 10, 17, options))) {
            SplittableRandom r = new SplittableRandom(29);
            for (Parameter p : m.parameters()) {
                if (p.prunable()) continue; // conv / linear weights keep their initialisation
                if (p.name().endsWith(".weight")) fill(p.value(), r, 0.5, 1.5); // batch-norm gamma
                else fill(p.value(), r, -0.5, 0.5); // batch-norm beta, biases
            }
            for (var e : m.buffers().entrySet()) {
                if (e.getKey().endsWith("running_mean")) fill(e.getValue(), r, -0.3, 0.3);
                if (e.getKey().endsWith("running_var")) fill(e.getValue(), r, 0.5, 2.0);
            }
            try (Tensor x = Tensor.allocate(DType.F32, batch, c, h, w)) {
                fill(x, r, -1, 1);
                float[] layers = m.forward(x, false).toFloatArray();
                String status = SparseInference.fuseDense(m, batch, false);
                assertEquals(covered, SparseInference.fused(m), status);
                if (covered) assertTrue(status.contains("dense convolutions"), status);
                float[] fused = m.forward(x, false).toFloatArray();
                assertClose(layers, fused, name + " " + option + " " + c + "x" + h + "x" + w + " batch " + batch + " (" + status + ")");
                float[] again = m.forward(x, false).toFloatArray();
                for (int i = 0; i < fused.length; i++) assertEquals(fused[i], again[i], "a second fused forward gives the same bits");
                // measured: whichever path wins, the output agrees
                SparseInference.fuseDense(m, batch, true);
                assertClose(layers, m.forward(x, false).toFloatArray(), name + " measured choice (" + SparseInference.fusedStatus(m) + ")");
                SparseInference.densify(m);
                assertFalse(SparseInference.fused(m));
            }
        }
    }

    private static void fill(Tensor t, SplittableRandom r, double lo, double hi) {
        MemorySegment s = t.segment();
        for (long i = 0; i < t.size(); i++) s.setAtIndex(F, i, (float) (lo + (hi - lo) * r.nextDouble()));
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 1;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= 1e-4 * scale, what + ": output " + i + " layers " + want[i] + " fused " + got[i]);
        }
    }
}
