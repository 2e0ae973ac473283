package dev.shears.nn.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The ONNX messages Shears reads and writes, as plain records named after the ONNX specification's
 * messages (onnx.proto, IR version 8). Written by us from the spec's field numbers, which live in
 * {@link OnnxReader} and {@link OnnxWriter}; no generated code. Only the fields an exchange of
 * feed-forward networks needs are kept; unknown fields are skipped on read. Not a validator: the
 * graph's meaning is the importer's and exporter's business. Pinned by OnnxProtoTest.
 */
public final class OnnxProto {
    private OnnxProto() {}

    /** IR version 8 (ONNX 1.10+, opset up to 17 and beyond) is what the exporter writes. */
    public static final long IR_VERSION = 8;

    /** TensorProto.DataType values used here (the spec's enum numbers). */
    public static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, BOOL = 9, FLOAT16 = 10, DOUBLE = 11;

    /** TensorProto.DataLocation: EXTERNAL means the data lives in another file (not supported). */
    public static final int DATA_LOCATION_DEFAULT = 0, DATA_LOCATION_EXTERNAL = 1;

    /** The whole file. irVersion 0 and graph null mean the field was absent. */
    public record ModelProto(long irVersion, List<OperatorSetIdProto> opsetImport, String producerName,
                             String producerVersion, String domain, long modelVersion, String docString,
                             GraphProto graph) {
        public ModelProto {
            opsetImport = List.copyOf(opsetImport);
        }

        /** The version imported for {@code domain} ("" and "ai.onnx" are the default domain), or -1. */
        public long opsetVersion(String domain) {
            for (OperatorSetIdProto o : opsetImport) {
                if (sameDomain(o.domain(), domain)) return o.version();
            }
            return -1;
        }

        private static boolean sameDomain(String a, String b) {
            String x = a.equals("ai.onnx") ? "" : a, y = b.equals("ai.onnx") ? "" : b;
            return x.equals(y);
        }
    }

    /** opset_import entry: domain ("" = the default ONNX operator set) and version. */
    public record OperatorSetIdProto(String domain, long version) {}

    /** A graph: nodes in topological order, initializers (the weights), inputs, outputs, value infos. */
    public record GraphProto(String name, List<NodeProto> node, List<TensorProto> initializer,
                             List<ValueInfoProto> input, List<ValueInfoProto> output,
                             List<ValueInfoProto> valueInfo, String docString) {
        public GraphProto {
            node = List.copyOf(node);
            initializer = List.copyOf(initializer);
            input = List.copyOf(input);
            output = List.copyOf(output);
            valueInfo = List.copyOf(valueInfo);
        }

        /** The initializer called {@code name}, or null. */
        public TensorProto initializer(String name) {
            for (TensorProto t : initializer) if (t.name().equals(name)) return t;
            return null;
        }
    }

    /** One operator application: input and output value names, op type, domain, attributes. */
    public record NodeProto(List<String> input, List<String> output, String name, String opType,
                            String domain, List<AttributeProto> attribute, String docString) {
        public NodeProto {
            input = List.copyOf(input);
            output = List.copyOf(output);
            attribute = List.copyOf(attribute);
        }

        public NodeProto(String name, String opType, List<String> input, List<String> output, List<AttributeProto> attribute) {
            this(input, output, name, opType, "", attribute, "");
        }

        /** The attribute called {@code name}, or null. */
        public AttributeProto attribute(String name) {
            for (AttributeProto a : attribute) if (a.name().equals(name)) return a;
            return null;
        }
    }

    /**
     * A named attribute; {@code type} (the spec's AttributeType) says which value field is meant.
     * Absent scalar fields read as 0 / null, absent lists as empty.
     */
    public record AttributeProto(String name, int type, float f, long i, byte[] s, TensorProto t, GraphProto g,
                                 float[] floats, long[] ints, List<byte[]> strings, List<TensorProto> tensors,
                                 List<GraphProto> graphs, String docString) {
        public static final int UNDEFINED = 0, FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5,
                FLOATS = 6, INTS = 7, STRINGS = 8, TENSORS = 9, GRAPHS = 10;

        public AttributeProto {
            floats = floats == null ? new float[0] : floats;
            ints = ints == null ? new long[0] : ints;
            strings = strings == null ? List.of() : List.copyOf(strings);
            tensors = tensors == null ? List.of() : List.copyOf(tensors);
            graphs = graphs == null ? List.of() : List.copyOf(graphs);
            docString = docString == null ? "" : docString;
        }

        public static AttributeProto ofFloat(String name, float f) {
            return new AttributeProto(name, FLOAT, f, 0, null, null, null, null, null, null, null, null, "");
        }

        public static AttributeProto ofInt(String name, long i) {
            return new AttributeProto(name, INT, 0, i, null, null, null, null, null, null, null, null, "");
        }

        public static AttributeProto ofString(String name, String s) {
            return new AttributeProto(name, STRING, 0, 0, s.getBytes(java.nio.charset.StandardCharsets.UTF_8), null, null, null, null, null, null, null, "");
        }

        public static AttributeProto ofTensor(String name, TensorProto t) {
            return new AttributeProto(name, TENSOR, 0, 0, null, t, null, null, null, null, null, null, "");
        }

        public static AttributeProto ofGraph(String name, GraphProto g) {
            return new AttributeProto(name, GRAPH, 0, 0, null, null, g, null, null, null, null, null, "");
        }

        public static AttributeProto ofFloats(String name, float... floats) {
            return new AttributeProto(name, FLOATS, 0, 0, null, null, null, floats.clone(), null, null, null, null, "");
        }

        public static AttributeProto ofInts(String name, long... ints) {
            return new AttributeProto(name, INTS, 0, 0, null, null, null, null, ints.clone(), null, null, null, "");
        }

        /** The string value, decoded as UTF-8 ("" when absent). */
        public String stringValue() {
            return s == null ? "" : new String(s, java.nio.charset.StandardCharsets.UTF_8);
        }

        public static String typeName(int type) {
            return switch (type) {
                case UNDEFINED -> "UNDEFINED";
                case FLOAT -> "FLOAT";
                case INT -> "INT";
                case STRING -> "STRING";
                case TENSOR -> "TENSOR";
                case GRAPH -> "GRAPH";
                case FLOATS -> "FLOATS";
                case INTS -> "INTS";
                case STRINGS -> "STRINGS";
                case TENSORS -> "TENSORS";
                case GRAPHS -> "GRAPHS";
                default -> "type " + type;
            };
        }
    }

    /**
     * A tensor: dims, data_type and its data in one of float_data, int32_data, int64_data or
     * raw_data (little-endian bytes). The writer writes float and int64 tensors made by the
     * factories as raw_data; the reader keeps whichever field the file used.
     */
    public record TensorProto(String name, int dataType, long[] dims, float[] floatData, int[] int32Data,
                              long[] int64Data, byte[] rawData, double[] doubleData, int dataLocation, String docString) {
        public TensorProto {
            dims = dims == null ? new long[0] : dims;
            floatData = floatData == null ? new float[0] : floatData;
            int32Data = int32Data == null ? new int[0] : int32Data;
            int64Data = int64Data == null ? new long[0] : int64Data;
            doubleData = doubleData == null ? new double[0] : doubleData;
            rawData = rawData != null && rawData.length == 0 ? null : rawData; // an empty raw_data is no raw_data
            docString = docString == null ? "" : docString;
        }

        /** A float32 tensor stored as raw_data (the compact form ONNX Runtime and PyTorch write). */
        public static TensorProto ofFloats(String name, long[] dims, float[] values) {
            checkCount(name, dims, values.length);
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new TensorProto(name, FLOAT, dims.clone(), null, null, null, b.array(), null, DATA_LOCATION_DEFAULT, "");
        }

        /** A float32 tensor stored in the float_data field (the other form the spec allows). */
        public static TensorProto ofFloatData(String name, long[] dims, float[] values) {
            checkCount(name, dims, values.length);
            return new TensorProto(name, FLOAT, dims.clone(), values.clone(), null, null, null, null, DATA_LOCATION_DEFAULT, "");
        }

        /** An int64 tensor stored in the int64_data field (shapes, pads, slice bounds). */
        public static TensorProto ofLongs(String name, long[] dims, long[] values) {
            checkCount(name, dims, values.length);
            return new TensorProto(name, INT64, dims.clone(), null, null, values.clone(), null, null, DATA_LOCATION_DEFAULT, "");
        }

        private static void checkCount(String name, long[] dims, int n) {
            long want = 1;
            for (long d : dims) want *= d;
            if (want != n) throw new IllegalArgumentException("tensor '" + name + "' has dims " + Arrays.toString(dims) + " (" + want + " elements) but " + n + " values");
        }

        /** Number of elements the dims say (1 for a scalar). */
        public long elementCount() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }

        /** True when the data lives in an external file (not supported by Shears). */
        public boolean external() { return dataLocation == DATA_LOCATION_EXTERNAL; }

        /**
         * The values as floats (FLOAT from float_data or raw_data, DOUBLE converted);
         * an IllegalArgumentException naming the tensor when the type or the count is wrong.
         */
        public float[] floats() {
            long n = elementCount();
            if (external()) throw new IllegalArgumentException("tensor '" + name + "' keeps its data in an external file, which Shears does not read");
            if (dataType == FLOAT) {
                if (rawData != null && rawData.length > 0 || floatData.length == 0 && n > 0) {
                    byte[] raw = rawData == null ? new byte[0] : rawData;
                    if (raw.length != n * 4) throw new IllegalArgumentException("tensor '" + name + "' has dims " + Arrays.toString(dims) + " (" + n + " floats, " + n * 4 + " bytes) but " + raw.length + " bytes of raw_data");
                    float[] out = new float[(int) n];
                    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
                    return out;
                }
                if (floatData.length != n) throw new IllegalArgumentException("tensor '" + name + "' has dims " + Arrays.toString(dims) + " (" + n + " floats) but " + floatData.length + " float_data values");
                return floatData.clone();
            }
            if (dataType == DOUBLE) {
                double[] d = doubleData;
                if (rawData != null && rawData.length > 0) {
                    if (rawData.length != n * 8) throw new IllegalArgumentException("tensor '" + name + "' has " + n + " doubles but " + rawData.length + " bytes of raw_data");
                    d = new double[(int) n];
                    ByteBuffer.wrap(rawData).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(d);
                }
                if (d.length != n) throw new IllegalArgumentException("tensor '" + name + "' has " + n + " doubles but " + d.length + " double_data values");
                float[] out = new float[(int) n];
                for (int k = 0; k < n; k++) out[k] = (float) d[k];
                return out;
            }
            throw new IllegalArgumentException("tensor '" + name + "' is " + dataTypeName(dataType) + ", expected FLOAT");
        }

        /** The values as longs (INT64 from int64_data or raw_data, INT32 widened). */
        public long[] longs() {
            long n = elementCount();
            if (external()) throw new IllegalArgumentException("tensor '" + name + "' keeps its data in an external file, which Shears does not read");
            if (dataType == INT64) {
                if (rawData != null && rawData.length > 0) {
                    if (rawData.length != n * 8) throw new IllegalArgumentException("tensor '" + name + "' has " + n + " int64 values but " + rawData.length + " bytes of raw_data");
                    long[] out = new long[(int) n];
                    ByteBuffer.wrap(rawData).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
                    return out;
                }
                if (int64Data.length != n) throw new IllegalArgumentException("tensor '" + name + "' has " + n + " int64 values but " + int64Data.length + " in int64_data");
                return int64Data.clone();
            }
            if (dataType == INT32) {
                int[] v = int32Data;
                if (rawData != null && rawData.length > 0) {
                    if (rawData.length != n * 4) throw new IllegalArgumentException("tensor '" + name + "' has " + n + " int32 values but " + rawData.length + " bytes of raw_data");
                    v = new int[(int) n];
                    ByteBuffer.wrap(rawData).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(v);
                }
                if (v.length != n) throw new IllegalArgumentException("tensor '" + name + "' has " + n + " int32 values but " + v.length + " in int32_data");
                long[] out = new long[(int) n];
                for (int k = 0; k < n; k++) out[k] = v[k];
                return out;
            }
            throw new IllegalArgumentException("tensor '" + name + "' is " + dataTypeName(dataType) + ", expected INT64 or INT32");
        }
    }

    /** A graph input, output or intermediate value: its name and type (null when absent). */
    public record ValueInfoProto(String name, TypeProto type, String docString) {
        public ValueInfoProto(String name, TypeProto type) {
            this(name, type, "");
        }

        /** A float tensor value whose dims are given as Dimension values (fixed or symbolic). */
        public static ValueInfoProto floatTensor(String name, Dimension... dims) {
            return new ValueInfoProto(name, new TypeProto(FLOAT, List.of(dims), true), "");
        }
    }

    /**
     * TypeProto restricted to its tensor_type case: element type and shape. {@code hasShape}
     * false means the shape field was absent (unknown rank), as opposed to a scalar's empty shape.
     */
    public record TypeProto(int elemType, List<Dimension> shape, boolean hasShape) {
        public TypeProto {
            shape = List.copyOf(shape);
        }
    }

    /** TensorShapeProto.Dimension: a fixed size (dimValue >= 0, param null), a named symbol, or unknown (both absent). */
    public record Dimension(long dimValue, String dimParam) {
        public static Dimension of(long value) {
            return new Dimension(value, null);
        }

        public static Dimension param(String name) {
            return new Dimension(-1, name);
        }

        public static Dimension unknown() {
            return new Dimension(-1, null);
        }

        public boolean isFixed() { return dimParam == null && dimValue >= 0; }

        @Override
        public String toString() {
            return dimParam != null ? dimParam : dimValue >= 0 ? Long.toString(dimValue) : "?";
        }
    }

    public static String dataTypeName(int t) {
        return switch (t) {
            case 0 -> "UNDEFINED";
            case FLOAT -> "FLOAT";
            case UINT8 -> "UINT8";
            case INT8 -> "INT8";
            case 4 -> "UINT16";
            case 5 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case 8 -> "STRING";
            case BOOL -> "BOOL";
            case FLOAT16 -> "FLOAT16";
            case DOUBLE -> "DOUBLE";
            case 16 -> "BFLOAT16";
            default -> "data type " + t;
        };
    }
}
