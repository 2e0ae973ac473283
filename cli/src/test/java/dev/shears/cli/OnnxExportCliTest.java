package dev.shears.cli;

import static dev.shears.cli.Run.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxProto;
import dev.shears.nn.onnx.OnnxReader;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shears export --format onnx} end to end: a pruned ResNet-20 (option A) checkpoint becomes
 * an ONNX file that ONNX Runtime runs to our logits, BN kept and folded; and its errors (unknown
 * format, missing checkpoint, --fold-bn without onnx, a file that is not a checkpoint) are one line, exit code 2.
 */
class OnnxExportCliTest {
    @TempDir
    Path dir;

    @Test
    void prunedCheckpointToOnnxRunsInOnnxRuntime() throws Exception {
        Path ck = dir.resolve("pruned.safetensors");
        float[] x = new float[2 * 3 * 8 * 8];
        float[] ours;
        try (Network m = ModelZoo.create("resnet20", ModelConfig.of(3, 8, 8, 10).withSeed(4)); Workspace masks = new Workspace("m")) {
            SplittableRandom r = new SplittableRandom(5);
            for (Parameter p : m.parameters()) {
                if (!p.prunable()) continue;
                float[] keep = new float[(int) p.size()];
                for (int i = 0; i < keep.length; i++) keep[i] = r.nextDouble() < 0.2 ? 1f : 0f;
                p.setMask(masks, keep);
            }
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            try (Tensor t = Tensor.of(x, 2, 3, 8, 8)) {
                ours = m.forward(t, false).toFloatArray();
            }
            Checkpoint.save(ck, m, null, null);
        }
        for (boolean fold : new boolean[] {false, true}) {
            Path onnx = dir.resolve(fold ? "folded.onnx" : "model.onnx");
            Run e = fold ? shears("export", "--format", "onnx", "--fold-bn", "--checkpoint", ck.toString(), "--out", onnx.toString())
                    : shears("export", "--format", "onnx", "--checkpoint", ck.toString(), "--out", onnx.toString());
            assertEquals(0, e.code(), e.err());
            // ResNet-20 has 19 batch norms (stem + 2 per block), each right after a convolution
            assertTrue(e.out().contains("ONNX opset 17") && e.out().contains(fold ? "batch norm: 0 nodes, 19 folded" : "batch norm: 19 nodes, 0 folded"), e.out());
            OnnxProto.ModelProto back = OnnxReader.read(onnx);
            assertTrue(e.out().contains(back.graph().node().size() + " nodes, " + back.graph().initializer().size() + " initializers"), e.out());
            assertEquals(fold, back.graph().node().stream().noneMatch(n -> n.opType().equals("BatchNormalization")), e.out());
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
                 OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {2, 3, 8, 8});
                 OrtSession.Result r = s.run(Map.of("input", in))) {
                float[][] y = (float[][]) r.get("logits").orElseThrow().getValue();
                double scale = 0, err = 0;
                for (int n = 0; n < 2; n++) {
                    for (int c = 0; c < 10; c++) {
                        scale = Math.max(scale, Math.abs(ours[n * 10 + c]));
                        err = Math.max(err, Math.abs(ours[n * 10 + c] - y[n][c]));
                    }
                }
                assertTrue(scale > 0 && err <= 2e-5 * scale, "max error " + err + " over max logit " + scale);
            }
        }
    }

    @Test
    void aRecurrentModelExportsWithItsSequenceInput() throws Exception {
        Path ck = dir.resolve("gru.safetensors"), onnx = dir.resolve("gru.onnx");
        try (Network m = ModelZoo.create("gru", ModelConfig.of(1, 6, 5, 3).withSeed(2).with("hidden", "4"))) {
            Checkpoint.save(ck, m, null, null);
        }
        Run e = shears("export", "--format", "onnx", "--checkpoint", ck.toString(), "--out", onnx.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("input 'input' (batch, 6, 5), output 'logits' (batch, 3)"), e.out());
        assertTrue(OnnxReader.read(onnx).graph().node().stream().anyMatch(n -> n.opType().equals("GRU")), e.out());
    }

    @Test
    void errorsAreOneLine() throws Exception {
        Path ck = dir.resolve("bad.safetensors"), out = dir.resolve("x.onnx");
        Run format = shears("export", "--format", "tflite", "--checkpoint", ck.toString(), "--out", out.toString());
        assertEquals(2, format.code(), format.out() + format.err());
        assertTrue(format.err().contains("--format tflite: unknown format; expected sparse or onnx"), format.err());
        Run missing = shears("export", "--format", "onnx", "--checkpoint", dir.resolve("nope.safetensors").toString(), "--out", out.toString());
        assertEquals(2, missing.code(), missing.out() + missing.err());
        assertTrue(missing.err().contains("nope.safetensors: no such file"), missing.err());
        Run fold = shears("export", "--fold-bn", "--checkpoint", ck.toString(), "--out", out.toString());
        assertEquals(2, fold.code(), fold.out() + fold.err());
        assertTrue(fold.err().contains("--fold-bn applies to --format onnx only"), fold.err());
        Files.writeString(ck, "not a checkpoint");
        Run corrupt = shears("export", "--format", "onnx", "--checkpoint", ck.toString(), "--out", out.toString());
        assertEquals(2, corrupt.code(), corrupt.out() + corrupt.err());
        assertTrue(corrupt.err().contains(ck.toString()), corrupt.err());
        assertFalse(Files.exists(out), "nothing is written on error");
        for (Run r : new Run[] {format, missing, fold, corrupt}) assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
