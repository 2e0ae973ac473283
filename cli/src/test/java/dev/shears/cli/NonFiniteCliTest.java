package dev.shears.cli;

import static dev.shears.cli.Run.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NaN and infinity from the command line: eval and export refuse a checkpoint with a non-finite
 * weight, naming the file, tensor and index (as prune does), and write nothing; a training loss
 * that becomes NaN stops the run with a hint, or, with --keep-going-on-nan, is one warning.
 */
class NonFiniteCliTest {
    @TempDir
    Path dir;

    @Test
    void evalAndExportRefuseANaNWeight() throws Exception {
        Path ck = dir.resolve("nan.safetensors"), sparse = dir.resolve("nan.sparse.safetensors");
        String tensor;
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist().withSeed(1))) {
            Parameter p = m.parameters().get(2);
            tensor = p.name();
            p.value().set(7, Float.NaN);
            Checkpoint.save(ck, m, null, null);
        }
        String expected = ck + ": tensor '" + tensor + "' has a non-finite value (NaN) at index 7";
        Run e = shears("eval", "--checkpoint", ck.toString(), "--dataset", "fashion-mnist");
        assertEquals(2, e.code(), e.out() + e.err());
        assertTrue(e.err().contains(expected + "; evaluation needs finite values"), e.err());
        assertFalse(e.out().contains("accuracy"), e.out());
        Run x = shears("export", "--checkpoint", ck.toString(), "--out", sparse.toString());
        assertEquals(2, x.code(), x.out() + x.err());
        assertTrue(x.err().contains(expected + "; export needs finite values"), x.err());
        assertFalse(Files.exists(sparse), "export wrote a file");
        Path onnx = dir.resolve("nan.onnx");
        Run o = shears("export", "--checkpoint", ck.toString(), "--format", "onnx", "--out", onnx.toString());
        assertEquals(2, o.code(), o.out() + o.err());
        assertTrue(o.err().contains(expected + "; export needs finite values"), o.err());
        assertFalse(Files.exists(onnx), "export --format onnx wrote a file");
    }

    @Test
    void aNaNLossStopsTrainingUnlessToldToGoOn() {
        String[] recipe = {"train", "--model", "lenet5", "--train-size", "64", "--test-size", "32", "--batch", "32", "--lr", "1e30",
                "--epochs", "1", "--schedule", "constant", "--progress", "off"};
        Run stop = shears(concat(recipe, "--out", dir.resolve("stop").toString()));
        assertEquals(2, stop.code(), stop.out() + stop.err());
        assertTrue(stop.err().contains("training diverged: loss ") && stop.err().contains("--keep-going-on-nan"), stop.err());
        Run go = shears(concat(recipe, "--out", dir.resolve("go").toString(), "--keep-going-on-nan"));
        assertEquals(0, go.code(), go.out() + go.err());
        assertEquals(1, go.err().lines().filter(l -> l.startsWith("warning: loss ")).count(), go.err());
        assertTrue(go.out().contains("done: 1 epochs"), go.out());
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
