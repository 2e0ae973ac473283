package dev.shears.nn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import com.google.protobuf.CodedOutputStream;
import dev.shears.nn.onnx.OnnxProto.AttributeProto;
import dev.shears.nn.onnx.OnnxProto.Dimension;
import dev.shears.nn.onnx.OnnxProto.GraphProto;
import dev.shears.nn.onnx.OnnxProto.ModelProto;
import dev.shears.nn.onnx.OnnxProto.NodeProto;
import dev.shears.nn.onnx.OnnxProto.OperatorSetIdProto;
import dev.shears.nn.onnx.OnnxProto.TensorProto;
import dev.shears.nn.onnx.OnnxProto.TypeProto;
import dev.shears.nn.onnx.OnnxProto.ValueInfoProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ONNX protobuf layer: a model using every message kind and every attribute and tensor data
 * field round-trips write -> read field for field (compared through a canonical rendering of the
 * records, arrays included); unknown fields are skipped at every level; every truncation, random
 * garbage and byte flips give either a valid read or one OnnxFormatException line naming the file.
 */
class OnnxProtoTest {
    @TempDir
    Path dir;

    /** A model that uses every record and every value field the reader and writer know. */
    static ModelProto everyKind() {
        TensorProto rawFloats = TensorProto.ofFloats("conv.weight", new long[] {2, 1, 2, 2},
                new float[] {1.5f, -0f, Float.MIN_VALUE, -3.25e7f, Float.MAX_VALUE, 0f, 1e-30f, -1f});
        TensorProto floatData = TensorProto.ofFloatData("bn.scale", new long[] {3}, new float[] {0.5f, Float.NaN, Float.NEGATIVE_INFINITY});
        TensorProto longs = TensorProto.ofLongs("shape", new long[] {2}, new long[] {-1, Long.MAX_VALUE});
        TensorProto int32 = new TensorProto("ints32", OnnxProto.INT32, new long[] {3}, null, new int[] {-7, 0, Integer.MAX_VALUE}, null, null, null, 0, "int32 doc");
        TensorProto doubles = new TensorProto("d", OnnxProto.DOUBLE, new long[] {2}, null, null, null, null, new double[] {Math.PI, -0.0}, 0, "");
        TensorProto scalar = TensorProto.ofLongs("axis", new long[0], new long[] {1});
        TensorProto external = new TensorProto("ext", OnnxProto.FLOAT, new long[] {4}, null, null, null, null, null, OnnxProto.DATA_LOCATION_EXTERNAL, "");

        GraphProto body = new GraphProto("body", List.of(new NodeProto("id", "Identity", List.of("x"), List.of("y"), List.of())),
                List.of(), List.of(ValueInfoProto.floatTensor("x", Dimension.of(1))), List.of(ValueInfoProto.floatTensor("y", Dimension.of(1))), List.of(), "");
        List<AttributeProto> attrs = List.of(
                AttributeProto.ofFloat("epsilon", 1e-5f),
                AttributeProto.ofInt("group", -3),
                AttributeProto.ofString("auto_pad", "NOTSET ✂"),
                AttributeProto.ofTensor("value", longs),
                AttributeProto.ofGraph("then_branch", body),
                AttributeProto.ofFloats("scales", 1f, -2.5f, 0f),
                AttributeProto.ofInts("pads", 0, 1, -1, Long.MIN_VALUE),
                new AttributeProto("names", AttributeProto.STRINGS, 0, 0, null, null, null, null, null,
                        List.of("a".getBytes(StandardCharsets.UTF_8), new byte[0], new byte[] {(byte) 0xff}), null, null, "strings doc"),
                new AttributeProto("ts", AttributeProto.TENSORS, 0, 0, null, null, null, null, null, null, List.of(scalar, floatData), null, ""),
                new AttributeProto("gs", AttributeProto.GRAPHS, 0, 0, null, null, null, null, null, null, null, List.of(body, body), ""));
        List<NodeProto> nodes = List.of(
                new NodeProto(List.of("input", "conv.weight", ""), List.of("conv_out"), "conv", "Conv", "", attrs, "node doc"),
                new NodeProto(List.of("conv_out"), List.of("logits"), "", "Relu", "ai.onnx", List.of(), ""));
        List<ValueInfoProto> inputs = List.of(
                ValueInfoProto.floatTensor("input", Dimension.param("batch"), Dimension.of(3), Dimension.of(0), Dimension.unknown()),
                new ValueInfoProto("no_shape", new TypeProto(OnnxProto.INT64, List.of(), false), "doc"),
                new ValueInfoProto("scalar", new TypeProto(OnnxProto.FLOAT, List.of(), true), ""),
                new ValueInfoProto("untyped", null, ""));
        GraphProto graph = new GraphProto("main", nodes, List.of(rawFloats, floatData, longs, int32, doubles, scalar, external), inputs,
                List.of(ValueInfoProto.floatTensor("logits", Dimension.param("batch"), Dimension.of(10))),
                List.of(ValueInfoProto.floatTensor("conv_out", Dimension.param("batch"), Dimension.of(2))), "graph doc");
        return new ModelProto(OnnxProto.IR_VERSION, List.of(new OperatorSetIdProto("", 17), new OperatorSetIdProto("com.microsoft", 1)),
                "shears", "0.1.0", "dev.shears", 3, "model doc", graph);
    }

    /** Every field of every record, arrays by content: two models are the same iff their renderings are. */
    static String canon(Object o) {
        if (o == null) return "null";
        if (o instanceof Record r) {
            StringBuilder b = new StringBuilder(r.getClass().getSimpleName()).append('(');
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    b.append(c.getName()).append('=').append(canon(c.getAccessor().invoke(r))).append(", ");
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
            return b.append(')').toString();
        }
        if (o instanceof List<?> l) return l.stream().map(OnnxProtoTest::canon).collect(Collectors.joining(", ", "[", "]"));
        if (o instanceof float[] a) {
            StringBuilder b = new StringBuilder("f[");
            for (float f : a) b.append(Integer.toHexString(Float.floatToRawIntBits(f))).append(' ');
            return b.append(']').toString();
        }
        if (o instanceof double[] a) {
            StringBuilder b = new StringBuilder("d[");
            for (double d : a) b.append(Long.toHexString(Double.doubleToRawLongBits(d))).append(' ');
            return b.append(']').toString();
        }
        if (o instanceof long[] a) return Arrays.toString(a);
        if (o instanceof int[] a) return Arrays.toString(a);
        if (o instanceof byte[] a) return "b" + Arrays.toString(a);
        return o.toString();
    }

    @Test
    void everyMessageKindRoundTripsThroughAFile() {
        ModelProto m = everyKind();
        Path file = dir.resolve("every.onnx");
        OnnxWriter.write(m, file);
        ModelProto back = OnnxReader.read(file);
        assertEquals(canon(m), canon(back));
        // spot checks through the accessors, so a rendering bug cannot hide a lost field
        assertEquals(17, back.opsetVersion("ai.onnx"));
        assertEquals(1, back.opsetVersion("com.microsoft"));
        assertEquals(-1, back.opsetVersion("org.other"));
        assertArrayEquals(new float[] {1.5f, -0f, Float.MIN_VALUE, -3.25e7f, Float.MAX_VALUE, 0f, 1e-30f, -1f}, back.graph().initializer("conv.weight").floats());
        assertArrayEquals(new long[] {-1, Long.MAX_VALUE}, back.graph().initializer("shape").longs());
        assertArrayEquals(new long[] {-7, 0, Integer.MAX_VALUE}, back.graph().initializer("ints32").longs());
        assertArrayEquals(new float[] {(float) Math.PI, -0f}, back.graph().initializer("d").floats());
        assertTrue(back.graph().initializer("ext").external());
        NodeProto conv = back.graph().node().get(0);
        assertEquals(List.of("input", "conv.weight", ""), conv.input());
        assertArrayEquals(new long[] {0, 1, -1, Long.MIN_VALUE}, conv.attribute("pads").ints());
        assertEquals("NOTSET ✂", conv.attribute("auto_pad").stringValue());
        assertEquals(-3, conv.attribute("group").i());
        assertEquals("Identity", conv.attribute("then_branch").g().node().get(0).opType());
        assertEquals("batch", back.graph().input().get(0).type().shape().get(0).dimParam());
        assertEquals(0, back.graph().input().get(0).type().shape().get(2).dimValue());
        assertTrue(back.graph().input().get(0).type().shape().get(2).isFixed());
        assertEquals("?", back.graph().input().get(0).type().shape().get(3).toString());
        assertTrue(!back.graph().input().get(1).type().hasShape());
        assertTrue(back.graph().input().get(2).type().hasShape());
        assertNull(back.graph().input().get(3).type());
        // bytes and file agree, and writing what was read gives the same bytes
        assertArrayEquals(OnnxWriter.toBytes(m), OnnxWriter.toBytes(back));
    }

    @Test
    void eachMessageKindAloneRoundTrips() {
        ModelProto full = everyKind();
        GraphProto g = full.graph();
        // one model per message kind, so a field that only goes wrong when alone (proto defaults) shows
        List<GraphProto> graphs = List.of(
                new GraphProto("", List.of(), List.of(), List.of(), List.of(), List.of(), ""),
                new GraphProto("n", g.node(), List.of(), List.of(), List.of(), List.of(), ""),
                new GraphProto("", List.of(), g.initializer(), List.of(), List.of(), List.of(), ""),
                new GraphProto("", List.of(), List.of(), g.input(), List.of(), List.of(), ""),
                new GraphProto("", List.of(), List.of(), List.of(), g.output(), g.valueInfo(), ""));
        for (GraphProto one : graphs) {
            ModelProto m = new ModelProto(8, List.of(new OperatorSetIdProto("", 17)), "", "", "", 0, "", one);
            assertEquals(canon(m), canon(OnnxReader.parse(OnnxWriter.toBytes(m), "one.onnx")));
        }
        for (AttributeProto a : g.node().get(0).attribute()) {
            NodeProto n = new NodeProto("n", "Op", List.of("x"), List.of("y"), List.of(a));
            ModelProto m = new ModelProto(8, List.of(), "", "", "", 0, "",
                    new GraphProto("", List.of(n), List.of(), List.of(), List.of(), List.of(), ""));
            assertEquals(canon(m), canon(OnnxReader.parse(OnnxWriter.toBytes(m), "attr.onnx")), a.name());
        }
    }

    @Test
    void packedAndUnpackedRepeatedFieldsBothRead() throws IOException {
        // dims unpacked (one varint per tag), float_data unpacked (one fixed32 per tag): legal in proto2 files
        ByteArrayOutputStream tensor = new ByteArrayOutputStream();
        CodedOutputStream t = CodedOutputStream.newInstance(tensor);
        t.writeInt64(1, 2);
        t.writeInt64(1, 3);
        t.writeInt32(2, OnnxProto.FLOAT);
        for (int i = 0; i < 6; i++) t.writeFloat(4, i * 0.5f);
        t.writeString(8, "w");
        t.flush();
        byte[] model = modelWithGraphBody(graph -> graph.writeByteArray(5, tensor.toByteArray()));
        TensorProto w = OnnxReader.parse(model, "unpacked.onnx").graph().initializer("w");
        assertArrayEquals(new long[] {2, 3}, w.dims());
        assertArrayEquals(new float[] {0f, 0.5f, 1f, 1.5f, 2f, 2.5f}, w.floats());
    }

    @Test
    void unknownFieldsAreSkippedAtEveryLevel() throws IOException {
        byte[] model = modelWithGraphBody(graph -> {
            graph.writeUInt64(99, 12345);                 // unknown varint
            graph.writeFixed64(98, 7);                    // unknown fixed64
            graph.writeFixed32(97, 7);                    // unknown fixed32
            graph.writeByteArray(15, new byte[] {1, 2, 3}); // sparse_initializer: known to ONNX, not read here
            graph.writeString(2, "g");
            graph.writeUInt64(14, 0);
        });
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(model);
        CodedOutputStream tail = CodedOutputStream.newInstance(bytes);
        tail.writeByteArray(14, new byte[] {10, 1, 'k', 18, 1, 'v'}); // metadata_props
        tail.writeInt64(20, 1);                                    // unknown varint at the top level
        tail.flush();
        ModelProto m = OnnxReader.parse(bytes.toByteArray(), "unknown.onnx");
        assertEquals("g", m.graph().name());
        assertEquals(8, m.irVersion());
    }

    interface GraphBody {
        void write(CodedOutputStream graph) throws IOException;
    }

    private static byte[] modelWithGraphBody(GraphBody body) throws IOException {
        ByteArrayOutputStream graphBytes = new ByteArrayOutputStream();
        CodedOutputStream g = CodedOutputStream.newInstance(graphBytes);
        body.write(g);
        g.flush();
        ByteArrayOutputStream modelBytes = new ByteArrayOutputStream();
        CodedOutputStream m = CodedOutputStream.newInstance(modelBytes);
        m.writeInt64(1, 8);
        m.writeByteArray(7, graphBytes.toByteArray());
        m.flush();
        return modelBytes.toByteArray();
    }

    @Test
    void aTruncatedFileNamesTheFileAndTheField() throws IOException {
        byte[] bytes = OnnxWriter.toBytes(everyKind());
        Path file = dir.resolve("cut.onnx");
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxReader.read(file));
        assertTrue(e.getMessage().startsWith(file + ": truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("graph"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void everyTruncationIsAValidPrefixOrOneLineError() {
        byte[] bytes = OnnxWriter.toBytes(everyKind());
        int errors = 0;
        for (int len = 1; len < bytes.length; len++) {
            try {
                OnnxReader.parse(Arrays.copyOf(bytes, len), "t.onnx");
            } catch (OnnxFormatException e) {
                errors++;
                assertOneLine(e, "t.onnx");
            } catch (RuntimeException e) {
                fail("truncation to " + len + " bytes gave " + e);
            }
        }
        // the graph comes before the opsets, so only cuts after the whole graph can read as a (smaller) model
        assertTrue(errors > bytes.length * 9 / 10, errors + " errors of " + bytes.length);
    }

    @Test
    void garbageAndNonOnnxFilesGiveOneLineErrors() throws IOException {
        Path text = dir.resolve("notes.onnx");
        Files.writeString(text, "this is a text file, not a model\n");
        assertOneLine(assertThrows(OnnxFormatException.class, () -> OnnxReader.read(text)), text.toString());
        Path empty = dir.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        assertOneLine(assertThrows(OnnxFormatException.class, () -> OnnxReader.read(empty)), empty.toString());
        Path missing = dir.resolve("missing.onnx");
        assertOneLine(assertThrows(OnnxFormatException.class, () -> OnnxReader.read(missing)), missing.toString());
        // valid protobuf that is not a ModelProto: a TensorProto holding only raw_data (field 9, not a ModelProto field)
        ByteArrayOutputStream tensor = new ByteArrayOutputStream();
        CodedOutputStream t = CodedOutputStream.newInstance(tensor);
        t.writeByteArray(9, new byte[] {0, 0, -128, 63});
        t.flush();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxReader.parse(tensor.toByteArray(), "tensor.pb"));
        assertTrue(e.getMessage().contains("not an ONNX model"), e.getMessage());
        qt().withExamples(300).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            byte[] junk = new byte[1 + r.nextInt(2000)];
            for (int i = 0; i < junk.length; i++) junk[i] = (byte) r.nextInt(256);
            try {
                OnnxReader.parse(junk, "junk.onnx");
                fail("random bytes (seed " + seed + ") read as an ONNX model");
            } catch (OnnxFormatException ex) {
                assertOneLine(ex, "junk.onnx");
            }
        });
    }

    @Test
    void flippedBytesGiveAValidReadOrOneLineError() {
        byte[] bytes = OnnxWriter.toBytes(everyKind());
        qt().withExamples(500).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            byte[] b = bytes.clone();
            int flips = 1 + r.nextInt(4);
            for (int k = 0; k < flips; k++) b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
            try {
                OnnxReader.parse(b, "flip.onnx");
            } catch (OnnxFormatException e) {
                assertOneLine(e, "flip.onnx");
            } catch (RuntimeException e) {
                fail("seed " + seed + " gave " + e);
            }
        });
    }

    @Test
    void randomModelsRoundTrip() {
        qt().withExamples(200).forAll(longs().all()).checkAssert(seed -> {
            ModelProto m = randomModel(new SplittableRandom(seed), 0);
            assertEquals(canon(m), canon(OnnxReader.parse(OnnxWriter.toBytes(m), "random.onnx")), "seed " + seed);
        });
    }

    private static final String[] NAMES = {"", "x", "conv1.weight", "layer1.0.bn1", "ünï ✂", "a\"b", "0"};

    private static String name(SplittableRandom r) {
        return NAMES[r.nextInt(NAMES.length)] + (r.nextBoolean() ? "" : Integer.toString(r.nextInt(1000)));
    }

    private static ModelProto randomModel(SplittableRandom r, int depth) {
        List<OperatorSetIdProto> opsets = new java.util.ArrayList<>();
        for (int i = r.nextInt(3); i > 0; i--) opsets.add(new OperatorSetIdProto(name(r), r.nextLong(-5, 100)));
        return new ModelProto(1 + r.nextInt(10), opsets, name(r), name(r), name(r), r.nextLong(), name(r), randomGraph(r, depth));
    }

    private static GraphProto randomGraph(SplittableRandom r, int depth) {
        List<NodeProto> nodes = new java.util.ArrayList<>();
        for (int n = r.nextInt(4); n > 0; n--) {
            List<AttributeProto> attrs = new java.util.ArrayList<>();
            for (int a = r.nextInt(4); a > 0; a--) {
                attrs.add(switch (r.nextInt(depth < 2 ? 7 : 6)) {
                    case 0 -> AttributeProto.ofFloat(name(r), (float) r.nextGaussian());
                    case 1 -> AttributeProto.ofInt(name(r), r.nextLong());
                    case 2 -> AttributeProto.ofString(name(r), name(r));
                    case 3 -> AttributeProto.ofInts(name(r), r.longs(r.nextInt(5)).toArray());
                    case 4 -> AttributeProto.ofFloats(name(r), randomFloats(r, r.nextInt(5)));
                    case 5 -> AttributeProto.ofTensor(name(r), randomTensor(r));
                    default -> AttributeProto.ofGraph(name(r), randomGraph(r, depth + 1));
                });
            }
            nodes.add(new NodeProto(List.of(name(r), name(r)), List.of(name(r)), name(r), name(r), name(r), attrs, name(r)));
        }
        List<TensorProto> inits = new java.util.ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) inits.add(randomTensor(r));
        List<ValueInfoProto> infos = new java.util.ArrayList<>();
        for (int i = r.nextInt(3); i > 0; i--) {
            List<Dimension> dims = new java.util.ArrayList<>();
            for (int d = r.nextInt(5); d > 0; d--) dims.add(switch (r.nextInt(3)) {
                case 0 -> Dimension.of(r.nextLong(0, Long.MAX_VALUE));
                case 1 -> Dimension.param(name(r));
                default -> Dimension.unknown();
            });
            infos.add(new ValueInfoProto(name(r), new TypeProto(r.nextInt(17), dims, r.nextBoolean() || !dims.isEmpty()), name(r)));
        }
        return new GraphProto(name(r), nodes, inits, infos, infos.reversed(), infos, name(r));
    }

    private static TensorProto randomTensor(SplittableRandom r) {
        long[] dims = new long[r.nextInt(4)];
        int n = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = r.nextInt(4);
            n *= (int) dims[i];
        }
        return switch (r.nextInt(3)) {
            case 0 -> TensorProto.ofFloats(name(r), dims, randomFloats(r, n));
            case 1 -> TensorProto.ofFloatData(name(r), dims, randomFloats(r, n));
            default -> TensorProto.ofLongs(name(r), dims, r.longs(n).toArray());
        };
    }

    /** Floats with every bit pattern, NaN payloads and negative zero included. */
    private static float[] randomFloats(SplittableRandom r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = Float.intBitsToFloat(r.nextInt());
        return f;
    }

    @Test
    void tensorDataOfTheWrongSizeNamesTheTensor() {
        TensorProto bad = new TensorProto("fc.weight", OnnxProto.FLOAT, new long[] {2, 3}, null, null, null, new byte[20], null, 0, "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::floats);
        assertTrue(e.getMessage().contains("fc.weight") && e.getMessage().contains("24 bytes"), e.getMessage());
        IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
                () -> TensorProto.ofFloats("x", new long[] {4}, new float[3]));
        assertTrue(f.getMessage().contains("'x'"), f.getMessage());
        IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
                () -> TensorProto.ofLongs("s", new long[] {2}, new long[] {1, 2}).floats());
        assertTrue(g.getMessage().contains("INT64"), g.getMessage());
    }

    @Test
    void onnxRuntimeRunsWhatTheWriterWrites() throws Exception {
        // an independent reader of the same field numbers: y = relu(x W^T + b) with a dynamic batch
        float[] w = {1, -2, 0.5f, 3, 0, -1};
        float[] bias = {0.25f, -10f};
        GraphProto g = new GraphProto("tiny",
                List.of(new NodeProto("fc", "Gemm", List.of("x", "w", "b"), List.of("h"), List.of(AttributeProto.ofInt("transB", 1))),
                        new NodeProto("relu", "Relu", List.of("h"), List.of("y"), List.of())),
                List.of(TensorProto.ofFloats("w", new long[] {2, 3}, w), TensorProto.ofFloatData("b", new long[] {2}, bias)),
                List.of(ValueInfoProto.floatTensor("x", Dimension.param("batch"), Dimension.of(3))),
                List.of(ValueInfoProto.floatTensor("y", Dimension.param("batch"), Dimension.of(2))), List.of(), "");
        byte[] bytes = OnnxWriter.toBytes(new ModelProto(OnnxProto.IR_VERSION, List.of(new OperatorSetIdProto("", 17)), "shears", "", "", 0, "", g));
        ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        float[][] x = {{1, 2, 3}, {-1, 0, 4}};
        try (ai.onnxruntime.OrtSession s = env.createSession(bytes, new ai.onnxruntime.OrtSession.SessionOptions());
             ai.onnxruntime.OnnxTensor in = ai.onnxruntime.OnnxTensor.createTensor(env, x);
             ai.onnxruntime.OrtSession.Result r = s.run(java.util.Map.of("x", in))) {
            float[][] y = (float[][]) r.get(0).getValue();
            for (int n = 0; n < 2; n++) {
                for (int o = 0; o < 2; o++) {
                    float want = bias[o];
                    for (int i = 0; i < 3; i++) want += x[n][i] * w[o * 3 + i];
                    assertEquals(Math.max(0f, want), y[n][o], 1e-6f);
                }
            }
        }
    }

    private static void assertOneLine(OnnxFormatException e, String file) {
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
