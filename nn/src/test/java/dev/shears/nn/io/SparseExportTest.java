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
            long prunable = 0;
            for (Parameter p : m.parameters()) {
                if (!p.prunable()) continue;
                float[] keep = new float[(int) p.size()];
                for (int i = 0; i < keep.length; i++) keep[i] = r.nextDouble() < 0.1 ? 1f : 0f;
                p.setMask(masks, keep);
                p.applyMask();
                prunable += p.size();
            }
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
