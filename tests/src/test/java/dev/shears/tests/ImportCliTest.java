package dev.shears.tests;

import static dev.shears.tests.OnnxFixturesTest.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.shears.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shears import} and then the usual verbs on the checkpoint alone (the ONNX file is gone):
 * a torchvision-style ResNet for Fashion-MNIST is pruned with Global MP and fine-tuned for an epoch
 * on a small subset, evaluated, exported sparse and run by {@code shears infer}; a file with an
 * operator outside the set is one line and exit code 2.
 */
class ImportCliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static synchronized Run shears(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void importThenEvalPruneFineTuneExportInfer() throws Exception {
        Path onnx = dir.resolve("resnet.onnx"), ck = dir.resolve("imported.safetensors");
        Files.copy(resource("resnet_fmnist.onnx"), onnx);
        Run im = shears("import", "--onnx", onnx.toString(), "--out", ck.toString());
        assertEquals(0, im.code(), im.err());
        assertTrue(im.out().contains("input [1, 28, 28], 10 classes"), im.out());
        Files.delete(onnx); // everything below reads the checkpoint only

        Path run = dir.resolve("pruned");
        Run prune = shears("prune", "--checkpoint", ck.toString(), "--method", "global", "--sparsity", "0.9", "--finetune-epochs", "1",
                "--lr", "0.01", "--train-size", "64", "--test-size", "32", "--batch", "32", "--progress", "off", "--out", run.toString());
        assertEquals(0, prune.code(), prune.err());
        JsonObject report = JsonParser.parseString(Files.readString(run.resolve("report.json"))).getAsJsonObject().getAsJsonObject("totals");
        long n = report.get("weights").getAsLong();
        assertEquals(Math.round(0.9 * n), n - report.get("kept").getAsLong(), "exactly k pruned");

        Run eval = shears("eval", "--checkpoint", run.resolve("pruned.safetensors").toString(), "--batch", "32"); // the run's 32 test images
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().startsWith("accuracy ") && eval.out().contains("on 32 test images"), eval.out());

        Path sparse = dir.resolve("model.sparse.safetensors");
        Run export = shears("export", "--checkpoint", run.resolve("pruned.safetensors").toString(), "--out", sparse.toString());
        assertEquals(0, export.code(), export.err());
        Run infer = shears("infer", "--model", sparse.toString(), "--dataset", "fashion-mnist", "--batch", "4", "--limit", "16");
        assertEquals(0, infer.code(), infer.err());
        assertTrue(infer.out().contains("accuracy "), infer.out());
    }

    @Test
    void unsupportedOperatorIsOneLine() throws Exception {
        byte[] bytes = Files.readAllBytes(resource("ops_opset10.onnx"));
        String text = new String(bytes, StandardCharsets.ISO_8859_1).replaceFirst("\u0004Relu", "\u0004Tanh"); // op_type field, same length
        Path onnx = dir.resolve("tanh.onnx");
        Files.write(onnx, text.getBytes(StandardCharsets.ISO_8859_1));
        Run r = shears("import", "--onnx", onnx.toString(), "--out", dir.resolve("x.safetensors").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.getFirst().startsWith("shears import: " + onnx + ": node '/Relu' has op type 'Tanh'"), lines.getFirst());
        assertTrue(!Files.exists(dir.resolve("x.safetensors")), "nothing written");
    }
}
