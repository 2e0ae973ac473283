package dev.shears.nn.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.shears.nn.onnx.OnnxProto.AttributeProto;
import dev.shears.nn.onnx.OnnxProto.Dimension;
import dev.shears.nn.onnx.OnnxProto.GraphProto;
import dev.shears.nn.onnx.OnnxProto.ModelProto;
import dev.shears.nn.onnx.OnnxProto.NodeProto;
import dev.shears.nn.onnx.OnnxProto.OperatorSetIdProto;
import dev.shears.nn.onnx.OnnxProto.TensorProto;
import dev.shears.nn.onnx.OnnxProto.TypeProto;
import dev.shears.nn.onnx.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Reads an ONNX file (a serialized ModelProto) into {@link OnnxProto} records with protobuf-java's
 * CodedInputStream and the field numbers of the ONNX specification. Unknown fields are skipped;
 * a truncated file, a wrong wire type, a length past the end or a file without ir_version and
 * graph is one {@link OnnxFormatException} line naming the file, the field path and the byte
 * offset. Not a graph validator. Pinned by OnnxProtoTest.
 */
public final class OnnxReader {
    private static final int MAX_DEPTH = 32; // graphs nest through attributes (If/Loop bodies)

    private final CodedInputStream in;
    private final long total;
    private final String source;
    private final Deque<String> where = new ArrayDeque<>();
    private int depth;

    private OnnxReader(byte[] bytes, String source) {
        this.in = CodedInputStream.newInstance(bytes);
        this.in.setSizeLimit(Integer.MAX_VALUE);
        this.total = bytes.length;
        this.source = source;
    }

    /** Reads {@code file}; errors name it. */
    public static ModelProto read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new OnnxFormatException(file + ": no such file");
        } catch (IOException e) {
            throw new OnnxFormatException(file + ": cannot read: " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new OnnxFormatException(file + ": too large to read into memory", e);
        }
        return parse(bytes, file.toString());
    }

    /** Parses a serialized ModelProto; {@code source} names it in errors (a file name). */
    public static ModelProto parse(byte[] bytes, String source) {
        if (bytes.length == 0) throw new OnnxFormatException(source + ": empty file, not an ONNX model");
        OnnxReader r = new OnnxReader(bytes, source);
        ModelProto m;
        try {
            m = r.model();
        } catch (OnnxFormatException e) {
            throw e;
        } catch (IOException e) {
            throw r.error(describe(e));
        }
        if (m.irVersion() <= 0) throw new OnnxFormatException(source + ": not an ONNX model (no ir_version field; read " + bytes.length + " bytes)");
        if (m.graph() == null) throw new OnnxFormatException(source + ": not an ONNX model (no graph field; read " + bytes.length + " bytes)");
        return m;
    }

    private static String describe(IOException e) {
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("ended unexpectedly") || msg.contains("truncated")) return "truncated: the file ends inside a field";
        if (msg.contains("invalid UTF-8")) return "a string field is not valid UTF-8 (not an ONNX file?)";
        if (msg.contains("invalid tag") || msg.contains("invalid wire type")) return "not protobuf data (" + firstLine(msg) + ")";
        return firstLine(msg);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private OnnxFormatException error(String what) {
        String path = where.isEmpty() ? "ModelProto" : String.join(".", where.reversed());
        return new OnnxFormatException(source + ": " + what + " (at byte " + in.getTotalBytesRead() + ", in " + path + ")");
    }

    // ---- messages, in file order: ModelProto > GraphProto > NodeProto/TensorProto/ValueInfoProto ----

    private ModelProto model() throws IOException {
        long ir = 0, modelVersion = 0;
        List<OperatorSetIdProto> opsets = new ArrayList<>();
        String producer = "", producerVersion = "", domain = "", doc = "";
        GraphProto graph = null;
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> { expect(tag, WireFormat.WIRETYPE_VARINT, "ir_version"); ir = in.readInt64(); }
                case 2 -> producer = string(tag, "producer_name");
                case 3 -> producerVersion = string(tag, "producer_version");
                case 4 -> domain = string(tag, "domain");
                case 5 -> { expect(tag, WireFormat.WIRETYPE_VARINT, "model_version"); modelVersion = in.readInt64(); }
                case 6 -> doc = string(tag, "doc_string");
                case 7 -> {
                    int old = begin(tag, "graph");
                    graph = graph();
                    end(old);
                }
                case 8 -> {
                    int old = begin(tag, "opset_import[" + opsets.size() + "]");
                    opsets.add(opset());
                    end(old);
                }
                default -> skip(tag);
            }
        }
        return new ModelProto(ir, opsets, producer, producerVersion, domain, modelVersion, doc, graph);
    }

    private OperatorSetIdProto opset() throws IOException {
        String domain = "";
        long version = 0;
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> domain = string(tag, "domain");
                case 2 -> { expect(tag, WireFormat.WIRETYPE_VARINT, "version"); version = in.readInt64(); }
                default -> skip(tag);
            }
        }
        return new OperatorSetIdProto(domain, version);
    }

    private GraphProto graph() throws IOException {
        if (++depth > MAX_DEPTH) throw error("graphs nested deeper than " + MAX_DEPTH);
        List<NodeProto> nodes = new ArrayList<>();
        List<TensorProto> inits = new ArrayList<>();
        List<ValueInfoProto> inputs = new ArrayList<>(), outputs = new ArrayList<>(), infos = new ArrayList<>();
        String name = "", doc = "";
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> { int old = begin(tag, "node[" + nodes.size() + "]"); nodes.add(node()); end(old); }
                case 2 -> name = string(tag, "name");
                case 5 -> { int old = begin(tag, "initializer[" + inits.size() + "]"); inits.add(tensor()); end(old); }
                case 10 -> doc = string(tag, "doc_string");
                case 11 -> { int old = begin(tag, "input[" + inputs.size() + "]"); inputs.add(valueInfo()); end(old); }
                case 12 -> { int old = begin(tag, "output[" + outputs.size() + "]"); outputs.add(valueInfo()); end(old); }
                case 13 -> { int old = begin(tag, "value_info[" + infos.size() + "]"); infos.add(valueInfo()); end(old); }
                default -> skip(tag);
            }
        }
        depth--;
        return new GraphProto(name, nodes, inits, inputs, outputs, infos, doc);
    }

    private NodeProto node() throws IOException {
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        List<AttributeProto> attrs = new ArrayList<>();
        String name = "", op = "", domain = "", doc = "";
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> inputs.add(string(tag, "input"));
                case 2 -> outputs.add(string(tag, "output"));
                case 3 -> name = string(tag, "name");
                case 4 -> op = string(tag, "op_type");
                case 5 -> { int old = begin(tag, "attribute[" + attrs.size() + "]"); attrs.add(attribute()); end(old); }
                case 6 -> doc = string(tag, "doc_string");
                case 7 -> domain = string(tag, "domain");
                default -> skip(tag);
            }
        }
        return new NodeProto(inputs, outputs, name, op, domain, attrs, doc);
    }

    private AttributeProto attribute() throws IOException {
        String name = "", doc = "";
        int type = 0;
        float f = 0;
        long i = 0;
        byte[] s = null;
        TensorProto t = null;
        GraphProto g = null;
        FloatList floats = new FloatList();
        LongList ints = new LongList();
        List<byte[]> strings = new ArrayList<>();
        List<TensorProto> tensors = new ArrayList<>();
        List<GraphProto> graphs = new ArrayList<>();
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> name = string(tag, "name");
                case 2 -> { expect(tag, WireFormat.WIRETYPE_FIXED32, "f"); f = in.readFloat(); }
                case 3 -> { expect(tag, WireFormat.WIRETYPE_VARINT, "i"); i = in.readInt64(); }
                case 4 -> s = bytes(tag, "s");
                case 5 -> { int old = begin(tag, "t"); t = tensor(); end(old); }
                case 6 -> { int old = begin(tag, "g"); g = graph(); end(old); }
                case 7 -> floats(tag, "floats", floats);
                case 8 -> longs(tag, "ints", ints);
                case 9 -> strings.add(bytes(tag, "strings"));
                case 10 -> { int old = begin(tag, "tensors[" + tensors.size() + "]"); tensors.add(tensor()); end(old); }
                case 11 -> { int old = begin(tag, "graphs[" + graphs.size() + "]"); graphs.add(graph()); end(old); }
                case 13 -> doc = string(tag, "doc_string");
                case 20 -> { expect(tag, WireFormat.WIRETYPE_VARINT, "type"); type = in.readInt32(); }
                default -> skip(tag);
            }
        }
        return new AttributeProto(name, type, f, i, s, t, g, floats.toArray(), ints.toArray(), strings, tensors, graphs, doc);
    }

    private TensorProto tensor() throws IOException {
        LongList dims = new LongList(), int64 = new LongList();
        FloatList floats = new FloatList();
        IntList int32 = new IntList();
        DoubleList doubles = new DoubleList();
        int dataType = 0, location = 0;
        String name = "", doc = "";
        byte[] raw = null;
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> longs(tag, "dims", dims);
                case 2 -> { expect(tag, WireFormat.WIRETYPE_VARINT, "data_type"); dataType = in.readInt32(); }
                case 4 -> floats(tag, "float_data", floats);
                case 5 -> ints(tag, "int32_data", int32);
                case 7 -> longs(tag, "int64_data", int64);
                case 8 -> name = string(tag, "name");
                case 9 -> raw = bytes(tag, "raw_data");
                case 10 -> doubles(tag, "double_data", doubles);
                case 12 -> doc = string(tag, "doc_string");
                case 14 -> { expect(tag, WireFormat.WIRETYPE_VARINT, "data_location"); location = in.readInt32(); }
                default -> skip(tag);
            }
        }
        return new TensorProto(name, dataType, dims.toArray(), floats.toArray(), int32.toArray(), int64.toArray(), raw,
                doubles.toArray(), location, doc);
    }

    private ValueInfoProto valueInfo() throws IOException {
        String name = "", doc = "";
        TypeProto type = null;
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> name = string(tag, "name");
                case 2 -> { int old = begin(tag, "type"); type = type(); end(old); }
                case 3 -> doc = string(tag, "doc_string");
                default -> skip(tag);
            }
        }
        return new ValueInfoProto(name, type, doc);
    }

    /** TypeProto: only tensor_type (1) is kept; sequence, map and optional types read as elemType 0. */
    private TypeProto type() throws IOException {
        int elem = 0;
        List<Dimension> shape = new ArrayList<>();
        boolean hasShape = false;
        int tag;
        while ((tag = in.readTag()) != 0) {
            if (WireFormat.getTagFieldNumber(tag) != 1) { skip(tag); continue; }
            int old = begin(tag, "tensor_type");
            int t;
            while ((t = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(t)) {
                    case 1 -> { expect(t, WireFormat.WIRETYPE_VARINT, "elem_type"); elem = in.readInt32(); }
                    case 2 -> { int o = begin(t, "shape"); hasShape = true; shape(shape); end(o); }
                    default -> skip(t);
                }
            }
            end(old);
        }
        return new TypeProto(elem, shape, hasShape);
    }

    private void shape(List<Dimension> dims) throws IOException {
        int tag;
        while ((tag = in.readTag()) != 0) {
            if (WireFormat.getTagFieldNumber(tag) != 1) { skip(tag); continue; }
            int old = begin(tag, "dim[" + dims.size() + "]");
            long value = -1;
            String param = null;
            int t;
            while ((t = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(t)) {
                    case 1 -> { expect(t, WireFormat.WIRETYPE_VARINT, "dim_value"); value = in.readInt64(); }
                    case 2 -> param = string(t, "dim_param");
                    default -> skip(t);
                }
            }
            end(old);
            dims.add(new Dimension(value, param));
        }
    }

    // ---- wire-level helpers ----

    /** Enters a length-delimited sub-message: checks the wire type and that its length fits in the file. */
    private int begin(int tag, String field) throws IOException {
        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
        int len = length(field);
        where.push(field);
        return in.pushLimit(len);
    }

    private void end(int oldLimit) {
        in.popLimit(oldLimit);
        where.pop();
    }

    private int length(String field) throws IOException {
        int len = in.readRawVarint32();
        long left = total - in.getTotalBytesRead();
        if (len < 0) throw error("field '" + field + "' has a negative length " + len + " (not an ONNX file?)");
        if (len > left) throw error("truncated: field '" + field + "' declares " + len + " bytes but only " + left + " remain");
        return len;
    }

    private void expect(int tag, int wireType, String field) {
        int got = WireFormat.getTagWireType(tag);
        if (got != wireType) {
            throw error("field '" + field + "' (number " + WireFormat.getTagFieldNumber(tag) + ") has wire type " + got
                    + ", expected " + wireType + " (not an ONNX file?)");
        }
    }

    private void skip(int tag) throws IOException {
        int wt = WireFormat.getTagWireType(tag);
        if (wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            int len = length("unknown field " + WireFormat.getTagFieldNumber(tag));
            in.skipRawBytes(len);
            return;
        }
        if (wt == WireFormat.WIRETYPE_END_GROUP || !in.skipField(tag)) {
            throw error("unexpected end-group tag for field " + WireFormat.getTagFieldNumber(tag) + " (not an ONNX file?)");
        }
    }

    private String string(int tag, String field) throws IOException {
        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
        int len = length(field);
        if (len == 0) return "";
        int old = in.pushLimit(len);
        try {
            return new String(in.readRawBytes(len), java.nio.charset.StandardCharsets.UTF_8);
        } finally {
            in.popLimit(old);
        }
    }

    private byte[] bytes(int tag, String field) throws IOException {
        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
        return in.readRawBytes(length(field));
    }

    /** repeated int64: packed (one length-delimited run) or one varint per tag; both are legal. */
    private void longs(int tag, String field, LongList out) throws IOException {
        if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
            out.add(in.readInt64());
            return;
        }
        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
        int old = in.pushLimit(length(field));
        while (!in.isAtEnd()) out.add(in.readInt64());
        in.popLimit(old);
    }

    private void ints(int tag, String field, IntList out) throws IOException {
        if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
            out.add(in.readInt32());
            return;
        }
        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
        int old = in.pushLimit(length(field));
        while (!in.isAtEnd()) out.add(in.readInt32());
        in.popLimit(old);
    }

    private void floats(int tag, String field, FloatList out) throws IOException {
        if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_FIXED32) {
            out.add(in.readFloat());
            return;
        }
        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
        int len = length(field);
        if (len % 4 != 0) throw error("packed field '" + field + "' has " + len + " bytes, not a multiple of 4");
        out.reserve(len / 4);
        for (int k = 0; k < len / 4; k++) out.add(in.readFloat());
    }

    private void doubles(int tag, String field, DoubleList out) throws IOException {
        if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_FIXED64) {
            out.add(in.readDouble());
            return;
        }
        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
        int len = length(field);
        if (len % 8 != 0) throw error("packed field '" + field + "' has " + len + " bytes, not a multiple of 8");
        for (int k = 0; k < len / 8; k++) out.add(in.readDouble());
    }

    // ---- growable primitive lists (no boxing for weight-sized arrays) ----

    private static final class FloatList {
        float[] a = new float[8];
        int n;

        void reserve(int more) { if (n + more > a.length) a = Arrays.copyOf(a, n + more); }
        void add(float v) { if (n == a.length) a = Arrays.copyOf(a, 2 * n); a[n++] = v; }
        float[] toArray() { return Arrays.copyOf(a, n); }
    }

    private static final class LongList {
        long[] a = new long[8];
        int n;

        void add(long v) { if (n == a.length) a = Arrays.copyOf(a, 2 * n); a[n++] = v; }
        long[] toArray() { return Arrays.copyOf(a, n); }
    }

    private static final class IntList {
        int[] a = new int[8];
        int n;

        void add(int v) { if (n == a.length) a = Arrays.copyOf(a, 2 * n); a[n++] = v; }
        int[] toArray() { return Arrays.copyOf(a, n); }
    }

    private static final class DoubleList {
        double[] a = new double[8];
        int n;

        void add(double v) { if (n == a.length) a = Arrays.copyOf(a, 2 * n); a[n++] = v; }
        double[] toArray() { return Arrays.copyOf(a, n); }
    }
}
