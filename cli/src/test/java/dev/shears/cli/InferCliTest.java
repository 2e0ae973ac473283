package dev.shears.cli;

import static dev.shears.cli.Run.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code shears export} then {@code shears infer}: a pruned LeNet-5 written sparse (smaller, ~8 bytes per nonzero) and run over test images. */
class InferCliTest {
    @TempDir
    Path dir;

    @Test
    void exportThenInfer() throws Exception {
        Path ck = dir.resolve("pruned.safetensors"), sparse = dir.resolve("model.sparse.safetensors");
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist().withSeed(1)); Workspace masks = new Workspace("m")) {
            SplittableRandom r = new SplittableRandom(3);
            for (Parameter p : m.parameters()) {
                if (!p.prunable()) continue;
                float[] keep = new float[(int) p.size()];
                for (int i = 0; i < keep.length; i++) keep[i] = r.nextDouble() < 0.05 ? 1f : 0f;
                p.setMask(masks, keep);
                p.applyMask();
            }
            Checkpoint.save(ck, m, null, null);
        }
        Run e = shears("export", "--checkpoint", ck.toString(), "--out", sparse.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("bytes per nonzero"), e.out());
        assertTrue(Files.size(sparse) < Files.size(ck) / 3, Files.size(sparse) + " vs " + Files.size(ck));
        Run i = shears("infer", "--model", sparse.toString(), "--dataset", "fashion-mnist", "--batch", "4", "--limit", "16", "--explain");
        assertEquals(0, i.code(), i.err());
        for (String key : new String[] {"accuracy ", "latency.ms.med", "latency.ms.p90", "throughput", "sparse_us"}) {
            assertTrue(i.out().contains(key), "missing " + key + " in:\n" + i.out());
        }
        Run bad = shears("infer", "--model", ck.toString(), "--dataset", "fashion-mnist");
        assertEquals(2, bad.code(), bad.out() + bad.err());
        assertTrue(bad.err().contains("shears export"), bad.err());
    }
}
