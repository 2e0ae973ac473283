package dev.shears.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A masked model written sparse loads back with equal weights, masks and outputs; the file is smaller; foreign files are clear errors. */
class SparseExportTest {
    @TempDir
    Path dir;

    @Test
    void roundTripGivesEqualOutputs() throws Exception {
        Path file = dir.resolve("m.sparse.safetensors");
        try (Network m = ModelZoo.create("resnet20", ModelConfig.of(3, 12, 12, 10).withSeed(4));
             Workspace masks = new Workspace("masks"); Workspace masks2 = new Workspace("masks2");
             Tensor x = Tensor.allocate(DType.F32, 2, 3, 12, 12)) {
            SplittableRandom r = new SplittableRandom(9);
            long prunable = maskRandomly(m, masks, r, 0.1);
            float[] xs = new float[(int) x.size()];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
            x.copyFrom(xs);
            float[] want = m.forward(x, false).toFloatArray();
            SparseExport.Stats stats = SparseExport.write(file, m);
            assertEquals(prunable, stats.denseWeights());
            assertTrue(stats.bytesPerNonzero() >= 8 && stats.bytesPerNonzero() < 12, "bytes per nonzero " + stats.bytesPerNonzero());
            try (Network back = SparseExport.load(file, masks2)) {
                for (Parameter p : m.parameters()) {
                    Parameter q = back.parameters().stream().filter(o -> o.name().equals(p.name())).findFirst().orElseThrow();
                    assertArrayEquals(p.value().toFloatArray(), q.value().toFloatArray(), p.name());
                    if (p.mask() != null) assertEquals(p.kept(), q.kept(), p.name() + " kept");
                }
                assertArrayEquals(want, back.forward(x, false).toFloatArray(), "outputs after the round trip");
            }
            Path dense = dir.resolve("dense.safetensors");
            Checkpoint.save(dense, m, null, null);
            assertTrue(Files.size(file) < Files.size(dense) / 3, Files.size(file) + " vs dense " + Files.size(dense));
        }
    }

    /**
     * Every model family of the zoo: masked at 90% (random masks), exported sparse, loaded back,
     * sparsified for inference (CSR kernels or the fused path, as measured), gives the masked
     * dense model's outputs. Small inputs keep it quick; resnet50 runs at 32x32.
     */
    @ParameterizedTest
    @CsvSource({
        "lenet5, '', 1, 28, 28, 10", "resnet20, '', 3, 12, 12, 10", "resnet32, shortcut=B, 3, 9, 9, 10", "wrn-10-2, dropout=0.3, 3, 12, 12, 10",
        "mobilenet-v1, multiplier=0.25, 3, 32, 32, 10", "mobilenet-v2-cifar, '', 3, 8, 8, 10", "resnet50, '', 3, 32, 32, 10",
        "fastgrnn, '', 1, 16, 9, 2", "gru, '', 1, 16, 9, 6",
    })
    void everyZooModelExportsLoadsAndInfersLikeTheMaskedDenseModel(String name, String option, int c, int h, int w, int classes) throws Exception {
        Path file = dir.resolve(name + ".sparse.safetensors");
        ModelConfig cfg = ModelConfig.of(c, h, w, classes).withSeed(5);
        if (!option.isEmpty()) cfg = cfg.with(option.substring(0, option.indexOf('=')), option.substring(option.indexOf('=') + 1));
        try (Network m = ModelZoo.create(name, cfg); Workspace masks = new Workspace("masks"); Workspace masks2 = new Workspace("masks2")) {
            SplittableRandom r = new SplittableRandom(13);
            maskRandomly(m, masks, r, 0.1);
            int[] in = m.inputShape();
            int[] shape = new int[in.length + 1];
            shape[0] = 2;
            System.arraycopy(in, 0, shape, 1, in.length);
            try (Tensor x = Tensor.allocate(DType.F32, shape)) {
                float[] xs = new float[(int) x.size()];
                for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
                x.copyFrom(xs);
                float[] want = m.forward(x, false).toFloatArray();
                SparseExport.write(file, m);
                try (Network back = SparseExport.load(file, masks2)) {
                    assertArrayEquals(want, back.forward(x, false).toFloatArray(), name + ": outputs after the round trip");
                    dev.shears.nn.models.SparseInference.sparsify(back, 2, true);
                    float[] got = back.forward(x, false).toFloatArray();
                    double scale = 0;
                    for (float v : want) scale = Math.max(scale, Math.abs(v));
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-4 * Math.max(1, scale), name + " sparse inference output " + i + " ("
                                + dev.shears.nn.models.SparseInference.fusedStatus(back) + ")");
                    }
                }
            }
        }
    }

    /** Masks every prunable parameter, keeping each weight with probability {@code density}, and zeroes the rest; returns the prunable count. */
    private static long maskRandomly(Network m, Workspace masks, SplittableRandom r, double density) {
        long prunable = 0;
        for (Parameter p : m.parameters()) {
            if (!p.prunable()) continue;
            float[] keep = new float[(int) p.size()];
            for (int i = 0; i < keep.length; i++) keep[i] = r.nextDouble() < density ? 1f : 0f;
            p.setMask(masks, keep);
            p.applyMask();
            prunable += p.size();
        }
        return prunable;
    }

    @Test
    void aPlainCheckpointIsAClearError() {
        Path file = dir.resolve("plain.safetensors");
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist()); Workspace ws = new Workspace("w")) {
            Checkpoint.save(file, m, null, null);
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SparseExport.load(file, ws));
            assertTrue(e.getMessage().contains("shears export"), e.getMessage());
        }
    }
}
