package dev.shears.nn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Layer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Sparsified eval-mode forward equals the masked dense forward (lenet5, resnet20) at several sparsities and batches. */
class SparseInferenceTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @ParameterizedTest
    @CsvSource({
        "lenet5, 0, 1", "lenet5, 0.5, 3", "lenet5, 0.95, 1", "lenet5, 0.99, 3",
        "resnet20, 0, 3", "resnet20, 0.5, 1", "resnet20, 0.95, 3", "resnet20, 0.99, 1",
    })
    void sparseForwardEqualsMaskedDense(String name, double sparsity, int batch) {
        ModelConfig cfg = name.equals("lenet5") ? ModelConfig.mnist() : ModelConfig.of(3, 12, 12, 10);
        try (Network m = ModelZoo.create(name, cfg.withSeed(7))) {
            List<Parameter> prunable = m.parameters().stream().filter(Parameter::prunable).toList();
            SplittableRandom r = new SplittableRandom(11);
            for (Parameter p : prunable) zeroFraction(p, sparsity, r);
            // edge cases: one layer fully pruned, one with a single nonzero
            if (sparsity > 0.9) {
                zeroFraction(prunable.get(1), 1.0, r);
                zeroFraction(prunable.get(2), 1.0, r);
                prunable.get(2).value().segment().setAtIndex(F, prunable.get(2).size() / 2, 0.75f);
            }
            try (Tensor x = random(batch, m.inputShape(), 5)) {
                float[] dense = m.forward(x, false).toFloatArray();
                List<SparseInference.LayerChoice> choices = SparseInference.sparsify(m, batch, false);
                assertEquals(prunable.size(), choices.size(), "every conv/linear layer of " + name + " gets a choice");
                long sparseLayers = choices.stream().filter(SparseInference.LayerChoice::sparse).count();
                if (sparsity >= 0.9) assertEquals(choices.size(), sparseLayers, "all layers at density <= 0.5 go sparse");
                if (sparsity == 0) assertEquals(0, sparseLayers, "dense layers stay dense");
                assertEquals(name.startsWith("resnet"), SparseInference.fused(m), SparseInference.fusedStatus(m));
                float[] sparse = m.forward(x, false).toFloatArray();
                assertClose(dense, sparse, name + " sparsity " + sparsity + " batch " + batch + " (" + SparseInference.fusedStatus(m) + ")");
                SparseInference.enableFused(m, false);
                assertClose(dense, m.forward(x, false).toFloatArray(), name + " per-layer sparse path");
                // measured choice: whichever form wins, the outputs still agree
                SparseInference.sparsify(m, batch, true);
                assertClose(dense, m.forward(x, false).toFloatArray(), name + " measured choice");
                SparseInference.enableFused(m, false);
                // every conv forced onto the direct (no im2col) sparse path, linears sparse
                for (Layer l : m.layers()) {
                    if (l instanceof Conv2d c && c.groups() == 1) c.useSparseWeight(SparseInference.maskedCsr(c.weight()), true);
                    if (l instanceof dev.shears.nn.layers.Linear li) li.useSparseWeight(SparseInference.maskedCsr(li.weight()));
                }
                assertClose(dense, m.forward(x, false).toFloatArray(), name + " direct sparse convolutions");
                SparseInference.densify(m);
                assertClose(dense, m.forward(x, false).toFloatArray(), name + " densified");
            }
        }
    }

    /**
     * The fused path folds each batch norm into the convolution before it: with non-trivial
     * statistics and affine parameters, conv biases, both shortcut options, stride 2 on odd sizes
     * and a mask that is set but not applied to the values, its output equals the masked dense
     * forward's.
     */
    @ParameterizedTest
    @CsvSource({
        "resnet20, shortcut=A, 3, 12, 12, 0, 1", "resnet20, shortcut=A, 3, 9, 11, 0.9, 3", "resnet20, shortcut=B, 3, 12, 12, 0.95, 1",
        "resnet20, shortcut=B, 2, 7, 10, 0.5, 2", "resnet32, shortcut=A, 3, 8, 8, 0.98, 1",
        "mobilenet-v1, multiplier=0.25, 3, 32, 32, 0.9, 1", "mobilenet-v1, multiplier=0.25, 3, 19, 23, 0.5, 2",
        "mobilenet-v2-cifar, shortcut=A, 3, 8, 8, 0.9, 1",
        "resnet20, shortcut=A, 3, 32, 32, 0.5, 1", // large enough that a pool of several threads shares one image
    })
    void fusedPathFoldsBatchNormAndMatchesMaskedDense(String name, String option, int c, int h, int w, double sparsity, int batch) {
        String[] kv = option.split("=");
        ModelConfig cfg = new ModelConfig(c, h, w, 10, 17, name.startsWith("resnet") || name.startsWith("mobilenet-v1") ? java.util.Map.of(kv[0], kv[1]) : java.util.Map.of());
        try (Network m = ModelZoo.create(name, cfg); dev.shears.engine.Workspace ws = new dev.shears.engine.Workspace("masks")) {
            SplittableRandom r = new SplittableRandom(23);
            for (Parameter p : m.parameters()) {
                if (p.prunable()) {
                    float[] keep = new float[(int) p.size()];
                    for (int i = 0; i < keep.length; i++) keep[i] = r.nextDouble() < sparsity ? 0f : 1f;
                    p.setMask(ws, keep); // not applied to the values: the fused path must honour it
                } else if (p.name().endsWith(".weight")) {
                    fill(p.value(), r, 0.5, 1.5); // batch-norm gamma
                } else {
                    fill(p.value(), r, -0.5, 0.5); // batch-norm beta, biases
                }
            }
            for (var e : m.buffers().entrySet()) {
                if (e.getKey().endsWith("running_mean")) fill(e.getValue(), r, -0.3, 0.3);
                if (e.getKey().endsWith("running_var")) fill(e.getValue(), r, 0.5, 2.0);
            }
            try (Tensor x = random(batch, m.inputShape(), 9)) {
                java.util.Map<Parameter, float[]> unmasked = new java.util.HashMap<>();
                for (Parameter p : m.parameters()) {
                    if (p.mask() == null) continue;
                    unmasked.put(p, p.value().toFloatArray());
                    dev.shears.engine.kernels.Elementwise.maskMultiply(p.value().segment(), 0, p.mask().segment(), 0, (int) p.size());
                }
                float[] dense = m.forward(x, false).toFloatArray(); // the masked dense model
                unmasked.forEach((p, v) -> p.value().copyFrom(v));
                SparseInference.sparsify(m, batch, false);
                assertTrue(SparseInference.fused(m), SparseInference.fusedStatus(m));
                float[] fused = m.forward(x, false).toFloatArray();
                assertClose(dense, fused, name + " " + option + " " + c + "x" + h + "x" + w + " sparsity " + sparsity + " batch " + batch);
                // the next forwards, through the steps' choice of sharing an image over threads or not, give the same bits
                for (int run = 0; run < 30; run++) {
                    float[] again = m.forward(x, false).toFloatArray();
                    for (int i = 0; i < fused.length; i++) assertEquals(fused[i], again[i], "fused forward " + (run + 2) + " gives the same bits");
                }
                SparseInference.densify(m);
                assertFalse(SparseInference.fused(m));
            }
        }
    }

    @Test
    void modelsOutsideTheFusedPatternKeepTheLayerPath() {
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist().withSeed(1))) {
            SparseInference.sparsify(m, 1, false);
            assertFalse(SparseInference.fused(m));
            assertTrue(SparseInference.fusedStatus(m).contains("not covered"), SparseInference.fusedStatus(m));
        }
    }

    private static void fill(Tensor t, SplittableRandom r, double lo, double hi) {
        for (long i = 0; i < t.size(); i++) t.segment().setAtIndex(F, i, (float) (lo + (hi - lo) * r.nextDouble()));
    }

    @Test
    void maskIsHonouredEvenIfNotApplied() {
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist().withSeed(3));
             dev.shears.engine.Workspace ws = new dev.shears.engine.Workspace("masks")) {
            Parameter p = m.parameters().stream().filter(Parameter::prunable).findFirst().orElseThrow();
            float[] keep = new float[(int) p.size()];
            for (int i = 0; i < keep.length; i += 3) keep[i] = 1f;
            p.setMask(ws, keep);
            SparseMatrix s = SparseInference.maskedCsr(p);
            assertEquals((keep.length + 2) / 3, s.nnz(), "nonzeros = kept weights");
        }
    }

    @Test
    void wrongSparseShapeIsRejectedWithLayerName() {
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist())) {
            Conv2d conv = null;
            for (Layer l : m.layers()) if (l instanceof Conv2d c && conv == null) conv = c;
            Conv2d target = conv;
            SparseMatrix bad = SparseMatrix.fromCsr(2, 2, new int[] {0, 0, 0}, new int[0], new float[0]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.useSparseWeight(bad));
            assertTrue(e.getMessage().contains(target.name()), e.getMessage());
            assertFalse(target.sparseWeight() != null);
        }
    }

    private static void zeroFraction(Parameter p, double fraction, SplittableRandom r) {
        MemorySegment v = p.value().segment();
        for (long i = 0; i < p.size(); i++) if (r.nextDouble() < fraction) v.setAtIndex(F, i, 0f);
    }

    private static Tensor random(int batch, int[] shape, long seed) {
        int[] s = new int[shape.length + 1];
        s[0] = batch;
        System.arraycopy(shape, 0, s, 1, shape.length);
        Tensor t = Tensor.allocate(DType.F32, s);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.size(); i++) t.segment().setAtIndex(F, i, (float) r.nextGaussian());
        return t;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 1;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= 1e-4 * scale, what + ": output " + i + " dense " + want[i] + " sparse " + got[i]);
        }
    }
}
