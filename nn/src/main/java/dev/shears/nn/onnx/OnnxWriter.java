package dev.shears.nn.onnx;

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
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@link OnnxProto} records as a serialized ModelProto with protobuf-java's
 * CodedOutputStream and the ONNX specification's field numbers (the same ones OnnxReader reads).
 * Each message's size is computed before it is written, so weights are streamed, not copied per
 * nesting level. Files are written to a temp file in the target folder, synced and renamed over.
 * Empty strings, zero scalars and empty lists are omitted (proto3 defaults), except the fields
 * ONNX requires. Pinned by OnnxProtoTest (round trips) and OnnxExportTest (ONNX Runtime reads it).
 */
public final class OnnxWriter {
    private static final int LEN = 2; // wire type of length-delimited fields

    private OnnxWriter() {}

    /** The serialized model. */
    public static byte[] toBytes(ModelProto m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.toIntExact(Math.min(Integer.MAX_VALUE - 16, size(m))));
        try {
            write(m, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Writes {@code m} to {@code file} atomically (temp file, fsync, rename). */
    public static void write(ModelProto m, Path file) {
        dev.shears.nn.io.AtomicFiles.write(file, os -> write(m, os)); // umask permissions, not 0600
    }

    /** Streams the serialized model to {@code os} (not closed). */
    public static void write(ModelProto m, OutputStream os) throws IOException {
        CodedOutputStream out = CodedOutputStream.newInstance(os, 1 << 16);
        model(out, m);
        out.flush();
    }

    // ---- ModelProto ----

    static long size(ModelProto m) {
        long s = 0;
        if (m.irVersion() != 0) s += CodedOutputStream.computeInt64Size(1, m.irVersion());
        s += str(2, m.producerName()) + str(3, m.producerVersion()) + str(4, m.domain());
        if (m.modelVersion() != 0) s += CodedOutputStream.computeInt64Size(5, m.modelVersion());
        s += str(6, m.docString());
        if (m.graph() != null) s += msg(7, size(m.graph()));
        for (OperatorSetIdProto o : m.opsetImport()) s += msg(8, size(o));
        return s;
    }

    private static void model(CodedOutputStream out, ModelProto m) throws IOException {
        if (m.irVersion() != 0) out.writeInt64(1, m.irVersion());
        str(out, 2, m.producerName());
        str(out, 3, m.producerVersion());
        str(out, 4, m.domain());
        if (m.modelVersion() != 0) out.writeInt64(5, m.modelVersion());
        str(out, 6, m.docString());
        if (m.graph() != null) {
            begin(out, 7, size(m.graph()));
            graph(out, m.graph());
        }
        for (OperatorSetIdProto o : m.opsetImport()) {
            begin(out, 8, size(o));
            str(out, 1, o.domain());
            out.writeInt64(2, o.version());
        }
    }

    private static long size(OperatorSetIdProto o) {
        return str(1, o.domain()) + CodedOutputStream.computeInt64Size(2, o.version());
    }

    // ---- GraphProto ----

    private static long size(GraphProto g) {
        long s = 0;
        for (NodeProto n : g.node()) s += msg(1, size(n));
        s += str(2, g.name());
        for (TensorProto t : g.initializer()) s += msg(5, size(t));
        s += str(10, g.docString());
        for (ValueInfoProto v : g.input()) s += msg(11, size(v));
        for (ValueInfoProto v : g.output()) s += msg(12, size(v));
        for (ValueInfoProto v : g.valueInfo()) s += msg(13, size(v));
        return s;
    }

    private static void graph(CodedOutputStream out, GraphProto g) throws IOException {
        for (NodeProto n : g.node()) {
            begin(out, 1, size(n));
            node(out, n);
        }
        str(out, 2, g.name());
        for (TensorProto t : g.initializer()) {
            begin(out, 5, size(t));
            tensor(out, t);
        }
        str(out, 10, g.docString());
        for (ValueInfoProto v : g.input()) { begin(out, 11, size(v)); valueInfo(out, v); }
        for (ValueInfoProto v : g.output()) { begin(out, 12, size(v)); valueInfo(out, v); }
        for (ValueInfoProto v : g.valueInfo()) { begin(out, 13, size(v)); valueInfo(out, v); }
    }

    // ---- NodeProto ----

    private static long size(NodeProto n) {
        long s = 0;
        for (String i : n.input()) s += CodedOutputStream.computeStringSize(1, i); // empty names are meaningful (absent optional input)
        for (String o : n.output()) s += CodedOutputStream.computeStringSize(2, o);
        s += str(3, n.name()) + str(4, n.opType());
        for (AttributeProto a : n.attribute()) s += msg(5, size(a));
        s += str(6, n.docString()) + str(7, n.domain());
        return s;
    }

    private static void node(CodedOutputStream out, NodeProto n) throws IOException {
        for (String i : n.input()) out.writeString(1, i);
        for (String o : n.output()) out.writeString(2, o);
        str(out, 3, n.name());
        str(out, 4, n.opType());
        for (AttributeProto a : n.attribute()) {
            begin(out, 5, size(a));
            attribute(out, a);
        }
        str(out, 6, n.docString());
        str(out, 7, n.domain());
    }

    // ---- AttributeProto: only the value field its type names is written ----

    private static long size(AttributeProto a) {
        long s = str(1, a.name());
        switch (a.type()) {
            case AttributeProto.FLOAT -> s += CodedOutputStream.computeFloatSize(2, a.f());
            case AttributeProto.INT -> s += CodedOutputStream.computeInt64Size(3, a.i());
            case AttributeProto.STRING -> s += CodedOutputStream.computeByteArraySize(4, a.s() == null ? new byte[0] : a.s());
            case AttributeProto.TENSOR -> s += msg(5, size(a.t()));
            case AttributeProto.GRAPH -> s += msg(6, size(a.g()));
            case AttributeProto.FLOATS -> s += packedFloats(7, a.floats().length);
            case AttributeProto.INTS -> s += packedLongs(8, a.ints());
            case AttributeProto.STRINGS -> { for (byte[] b : a.strings()) s += CodedOutputStream.computeByteArraySize(9, b); }
            case AttributeProto.TENSORS -> { for (TensorProto t : a.tensors()) s += msg(10, size(t)); }
            case AttributeProto.GRAPHS -> { for (GraphProto g : a.graphs()) s += msg(11, size(g)); }
            default -> throw new IllegalArgumentException("attribute '" + a.name() + "' has " + AttributeProto.typeName(a.type()) + ", which the writer does not write");
        }
        s += str(13, a.docString());
        s += CodedOutputStream.computeInt32Size(20, a.type());
        return s;
    }

    private static void attribute(CodedOutputStream out, AttributeProto a) throws IOException {
        str(out, 1, a.name());
        switch (a.type()) {
            case AttributeProto.FLOAT -> out.writeFloat(2, a.f());
            case AttributeProto.INT -> out.writeInt64(3, a.i());
            case AttributeProto.STRING -> out.writeByteArray(4, a.s() == null ? new byte[0] : a.s());
            case AttributeProto.TENSOR -> { begin(out, 5, size(a.t())); tensor(out, a.t()); }
            case AttributeProto.GRAPH -> { begin(out, 6, size(a.g())); graph(out, a.g()); }
            case AttributeProto.FLOATS -> packedFloats(out, 7, a.floats());
            case AttributeProto.INTS -> packedLongs(out, 8, a.ints());
            case AttributeProto.STRINGS -> { for (byte[] b : a.strings()) out.writeByteArray(9, b); }
            case AttributeProto.TENSORS -> { for (TensorProto t : a.tensors()) { begin(out, 10, size(t)); tensor(out, t); } }
            case AttributeProto.GRAPHS -> { for (GraphProto g : a.graphs()) { begin(out, 11, size(g)); graph(out, g); } }
            default -> throw new IllegalArgumentException("attribute '" + a.name() + "' has " + AttributeProto.typeName(a.type()));
        }
        str(out, 13, a.docString());
        out.writeInt32(20, a.type());
    }

    // ---- TensorProto ----

    private static long size(TensorProto t) {
        long s = packedLongs(1, t.dims());
        s += CodedOutputStream.computeInt32Size(2, t.dataType());
        s += packedFloats(4, t.floatData().length);
        if (t.int32Data().length > 0) {
            long body = 0;
            for (int v : t.int32Data()) body += CodedOutputStream.computeInt32SizeNoTag(v);
            s += msg(5, body);
        }
        s += packedLongs(7, t.int64Data());
        s += str(8, t.name());
        if (t.rawData() != null && t.rawData().length > 0) s += CodedOutputStream.computeByteArraySize(9, t.rawData());
        if (t.doubleData().length > 0) s += msg(10, 8L * t.doubleData().length);
        s += str(12, t.docString());
        if (t.dataLocation() != 0) s += CodedOutputStream.computeInt32Size(14, t.dataLocation());
        return s;
    }

    private static void tensor(CodedOutputStream out, TensorProto t) throws IOException {
        packedLongs(out, 1, t.dims());
        out.writeInt32(2, t.dataType());
        packedFloats(out, 4, t.floatData());
        if (t.int32Data().length > 0) {
            long body = 0;
            for (int v : t.int32Data()) body += CodedOutputStream.computeInt32SizeNoTag(v);
            begin(out, 5, body);
            for (int v : t.int32Data()) out.writeInt32NoTag(v);
        }
        packedLongs(out, 7, t.int64Data());
        str(out, 8, t.name());
        if (t.rawData() != null && t.rawData().length > 0) out.writeByteArray(9, t.rawData());
        if (t.doubleData().length > 0) {
            begin(out, 10, 8L * t.doubleData().length);
            for (double v : t.doubleData()) out.writeDoubleNoTag(v);
        }
        str(out, 12, t.docString());
        if (t.dataLocation() != 0) out.writeInt32(14, t.dataLocation());
    }

    // ---- ValueInfoProto > TypeProto > TypeProto.Tensor > TensorShapeProto > Dimension ----

    private static long size(ValueInfoProto v) {
        long s = str(1, v.name());
        if (v.type() != null) s += msg(2, size(v.type()));
        return s + str(3, v.docString());
    }

    private static void valueInfo(CodedOutputStream out, ValueInfoProto v) throws IOException {
        str(out, 1, v.name());
        if (v.type() != null) {
            begin(out, 2, size(v.type()));
            TypeProto t = v.type();
            begin(out, 1, tensorTypeSize(t));
            out.writeInt32(1, t.elemType());
            if (t.hasShape()) {
                begin(out, 2, shapeSize(t));
                for (Dimension d : t.shape()) {
                    begin(out, 1, size(d));
                    if (d.dimParam() != null) out.writeString(2, d.dimParam()); // even "": a named-but-empty symbol is not an unknown dim
                    else if (d.dimValue() >= 0) out.writeInt64(1, d.dimValue());
                }
            }
        }
        str(out, 3, v.docString());
    }

    private static long size(TypeProto t) {
        return msg(1, tensorTypeSize(t));
    }

    private static long tensorTypeSize(TypeProto t) {
        long s = CodedOutputStream.computeInt32Size(1, t.elemType());
        if (t.hasShape()) s += msg(2, shapeSize(t));
        return s;
    }

    private static long shapeSize(TypeProto t) {
        long s = 0;
        for (Dimension d : t.shape()) s += msg(1, size(d));
        return s;
    }

    private static long size(Dimension d) {
        if (d.dimParam() != null) return CodedOutputStream.computeStringSize(2, d.dimParam());
        if (d.dimValue() >= 0) return CodedOutputStream.computeInt64Size(1, d.dimValue());
        return 0;
    }

    // ---- wire helpers ----

    /** Size of a length-delimited field (tag + length varint + body). */
    private static long msg(int field, long body) {
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt64SizeNoTag(body) + body;
    }

    private static void begin(CodedOutputStream out, int field, long body) throws IOException {
        if (body > Integer.MAX_VALUE) throw new IllegalArgumentException("an ONNX message over 2 GiB (" + body + " bytes) cannot be written without external data");
        out.writeTag(field, LEN);
        out.writeUInt32NoTag((int) body);
    }

    private static long str(int field, String s) {
        return s == null || s.isEmpty() ? 0 : CodedOutputStream.computeStringSize(field, s);
    }

    private static void str(CodedOutputStream out, int field, String s) throws IOException {
        if (s != null && !s.isEmpty()) out.writeString(field, s);
    }

    private static long packedFloats(int field, int count) {
        return count == 0 ? 0 : msg(field, 4L * count);
    }

    private static void packedFloats(CodedOutputStream out, int field, float[] v) throws IOException {
        if (v.length == 0) return;
        begin(out, field, 4L * v.length);
        for (float f : v) out.writeFloatNoTag(f);
    }

    private static long packedLongs(int field, long[] v) {
        if (v.length == 0) return 0;
        long body = 0;
        for (long x : v) body += CodedOutputStream.computeInt64SizeNoTag(x);
        return msg(field, body);
    }

    private static void packedLongs(CodedOutputStream out, int field, long[] v) throws IOException {
        if (v.length == 0) return;
        long body = 0;
        for (long x : v) body += CodedOutputStream.computeInt64SizeNoTag(x);
        begin(out, field, body);
        for (long x : v) out.writeInt64NoTag(x);
    }
}
