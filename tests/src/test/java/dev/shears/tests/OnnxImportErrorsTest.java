package dev.shears.tests;

import static dev.shears.tests.OnnxFixturesTest.resource;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxImport;
import dev.shears.nn.onnx.OnnxProto;
import dev.shears.nn.onnx.OnnxProto.GraphProto;
import dev.shears.nn.onnx.OnnxProto.ModelProto;
import dev.shears.nn.onnx.OnnxProto.NodeProto;
import dev.shears.nn.onnx.OnnxProto.TensorProto;
import dev.shears.nn.onnx.OnnxReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the importer says about files it cannot take: one line (no stack trace, no line break)
 * naming the file and the node or tensor: an operator outside the set (with the supported set),
 * a weight of the wrong size, shapes that do not fit, a truncated or non-ONNX file; and, as a
 * property over seeded truncations and flipped bytes of a real file, never anything but such a
 * one-line error or a model.
 */
class OnnxImportErrorsTest {
    @TempDir
    Path dir;

    private static ModelProto fixture(String name) {
        return OnnxReader.read(resource(name + ".onnx"));
    }

    private static ModelProto withGraph(ModelProto m, UnaryOperator<List<NodeProto>> nodes, UnaryOperator<List<TensorProto>> inits) {
        GraphProto g = m.graph();
        GraphProto g2 = new GraphProto(g.name(), nodes.apply(new ArrayList<>(g.node())), inits.apply(new ArrayList<>(g.initializer())), g.input(), g.output(),
                g.valueInfo(), g.docString());
        return new ModelProto(m.irVersion(), m.opsetImport(), m.producerName(), m.producerVersion(), m.domain(), m.modelVersion(), m.docString(), g2);
    }

    private static String oneLine(Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void unsupportedOperatorNamesTheNodeItsTypeAndTheSupportedSet() {
        ModelProto m = withGraph(fixture("ops_opset17"), nodes -> {
            for (int i = 0; i < nodes.size(); i++) {
                NodeProto n = nodes.get(i);
                if (n.opType().equals("Relu")) {
                    nodes.set(i, new NodeProto(n.input(), n.output(), n.name(), "Sigmoid", n.domain(), n.attribute(), n.docString()));
                    break;
                }
            }
            return nodes;
        }, inits -> inits);
        String msg = oneLine(() -> OnnxImport.fromModel(m, "ops.onnx"));
        assertTrue(msg.startsWith("ops.onnx: node '/Relu'"), msg);
        assertTrue(msg.contains("'Sigmoid'") && msg.contains("supported: Conv, BatchNormalization"), msg);
    }

    @Test
    void initializerOfTheWrongSizeNamesTheTensor() {
        ModelProto m = withGraph(fixture("ops_opset17"), nodes -> nodes, inits -> {
            for (int i = 0; i < inits.size(); i++) {
                TensorProto t = inits.get(i);
                if (t.name().equals("conv1.weight")) inits.set(i, new TensorProto(t.name(), t.dataType(), t.dims(), null, null, null, new byte[12], null, 0, ""));
            }
            return inits;
        });
        String msg = oneLine(() -> OnnxImport.fromModel(m, "ops.onnx"));
        assertTrue(msg.startsWith("ops.onnx: initializer tensor 'conv1.weight'") && msg.contains("12 bytes"), msg);
    }

    @Test
    void shapesThatDoNotFitNameTheNode() {
        ModelProto m = withGraph(fixture("resnet_small"), nodes -> nodes, inits -> {
            for (int i = 0; i < inits.size(); i++) {
                TensorProto t = inits.get(i);
                if (t.name().equals("fc.weight")) inits.set(i, TensorProto.ofFloats(t.name(), new long[] {10, 63}, new float[630]));
            }
            return inits;
        });
        String msg = oneLine(() -> OnnxImport.fromModel(m, "resnet.onnx"));
        assertTrue(msg.startsWith("resnet.onnx: node '/fc/Gemm' (Gemm): the input has 64 features but the weight 'fc.weight' expects 63"), msg);
    }

    @Test
    void convolutionWeightForOtherChannelsNamesTheNode() {
        ModelProto m = withGraph(fixture("ops_opset17"), nodes -> nodes, inits -> {
            for (int i = 0; i < inits.size(); i++) {
                TensorProto t = inits.get(i);
                if (t.name().equals("branch_a.weight")) inits.set(i, TensorProto.ofFloats(t.name(), new long[] {4, 5, 1, 1}, new float[20]));
            }
            return inits;
        });
        String msg = oneLine(() -> OnnxImport.fromModel(m, "ops.onnx"));
        assertTrue(msg.startsWith("ops.onnx: node '/branch_a/Conv' (Conv): weight 'branch_a.weight'") && msg.contains("6 channels"), msg);
    }

    @Test
    void truncatedAndForeignFilesAreOneLine() throws Exception {
        byte[] bytes = Files.readAllBytes(resource("resnet_small.onnx"));
        Path cut = dir.resolve("cut.onnx");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertTrue(oneLine(() -> OnnxImport.read(cut)).contains(cut.toString()));
        Path text = dir.resolve("notes.onnx");
        Files.writeString(text, "this is not a model\n");
        assertTrue(oneLine(() -> OnnxImport.read(text)).contains(text.toString()));
    }

    /** Property: any truncation or byte flip of a real file gives a model or a one-line error naming the file, never another exception. */
    @Test
    void damagedFilesNeverCrashTheImporter() throws Exception {
        byte[] bytes = Files.readAllBytes(resource("ops_opset10.onnx"));
        SplittableRandom rng = new SplittableRandom(Long.getLong("seed", 99));
        Path f = dir.resolve("damaged.onnx");
        int models = 0;
        for (int trial = 0; trial < Integer.getInteger("trials", 150); trial++) {
            byte[] b;
            if (trial % 3 == 0) {
                b = java.util.Arrays.copyOf(bytes, rng.nextInt(bytes.length));
            } else {
                b = bytes.clone();
                for (int k = 0; k < 1 + trial % 4; k++) b[rng.nextInt(b.length)] ^= (byte) (1 << rng.nextInt(8));
            }
            Files.write(f, b);
            try (Network net = OnnxImport.read(f)) {
                models++;
            } catch (IllegalArgumentException e) {
                if (e.getMessage() == null || e.getMessage().contains("\n") || !e.getMessage().contains(f.toString())) {
                    fail("trial " + trial + ": not a one-line error naming the file: " + e.getMessage(), e);
                }
            } catch (RuntimeException e) {
                fail("trial " + trial + ": " + e, e);
            }
        }
        assertTrue(models > 0, "some flips land in weight data and still import");
    }
}
