package dev.shears.nn.onnx;

import dev.shears.nn.onnx.OnnxProto.AttributeProto;
import dev.shears.nn.onnx.OnnxProto.NodeProto;
import dev.shears.nn.onnx.OnnxProto.TensorProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Constant tensors of an ONNX graph (initializers, Constant nodes) and the folding of the small
 * index computations exporters write around them (torch's F.pad at opset 11+ builds its pads
 * with ConstantOfShape, Concat, Reshape, Slice, Transpose and Cast; Identity copies of weights):
 * each op here runs on constants only, at import time. Floats stay float32, integer types become
 * int64. Not an executor for activations: those become graph nodes. Pinned by OnnxFixturesTest
 * (torch's opset-17 F.pad subgraph) and OnnxImportTest.
 */
final class Constants {
    private Constants() {}

    /** The ops {@link #fold} evaluates when every input is constant. */
    static final List<String> FOLDABLE = List.of("Constant", "Identity", "Cast", "Reshape", "Concat", "ConstantOfShape", "Slice", "Transpose",
            "Unsqueeze", "Squeeze", "Gather", "Shape");

    /** A constant: dims and either float values or integer values. */
    record Value(long[] dims, float[] floats, long[] longs) {
        static Value ofFloats(long[] dims, float[] v) { return new Value(dims, v, null); }
        static Value ofLongs(long[] dims, long[] v) { return new Value(dims, null, v); }

        boolean floating() { return floats != null; }

        int size() { return floats != null ? floats.length : longs.length; }

        long[] asLongs() {
            if (longs != null) return longs;
            long[] out = new long[floats.length];
            for (int i = 0; i < out.length; i++) out[i] = (long) floats[i];
            return out;
        }

        float[] asFloats() {
            if (floats != null) return floats;
            float[] out = new float[longs.length];
            for (int i = 0; i < out.length; i++) out[i] = longs[i];
            return out;
        }

        /** The single value of a scalar or one-element tensor. */
        double scalar(String what) {
            if (size() != 1) throw new IllegalArgumentException(what + " must be one value, got dims " + Arrays.toString(dims));
            return floats != null ? floats[0] : longs[0];
        }

        /** Elements gathered at the given source indices, same type, new dims. */
        Value gather(long[] newDims, int[] from) {
            if (floats != null) {
                float[] out = new float[from.length];
                for (int i = 0; i < from.length; i++) out[i] = floats[from[i]];
                return ofFloats(newDims, out);
            }
            long[] out = new long[from.length];
            for (int i = 0; i < from.length; i++) out[i] = longs[from[i]];
            return ofLongs(newDims, out);
        }
    }

    /** A TensorProto as a constant; a wrong size or an unsupported type is an error naming it. */
    static Value of(TensorProto t) {
        long[] dims = t.dims().clone();
        return switch (t.dataType()) {
            case OnnxProto.FLOAT, OnnxProto.DOUBLE -> Value.ofFloats(dims, t.floats());
            case OnnxProto.INT64, OnnxProto.INT32 -> Value.ofLongs(dims, t.longs());
            default -> throw new IllegalArgumentException("tensor '" + t.name() + "' is " + OnnxProto.dataTypeName(t.dataType())
                    + "; Shears imports FLOAT, DOUBLE, INT64 and INT32 tensors");
        };
    }

    static long count(long[] dims) {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /**
     * Evaluates {@code node} on constant inputs ({@code in}: one per input name, null for an
     * omitted optional input) at opset {@code opset}; the one output.
     */
    static Value fold(NodeProto node, List<Value> in, long opset) {
        return switch (node.opType()) {
            case "Constant" -> constant(node);
            case "Identity" -> in.get(0);
            case "Cast" -> cast(node, in.get(0));
            case "Reshape" -> reshape(in.get(0), in.get(1).asLongs());
            case "Concat" -> concat(in, intAttr(node, "axis", 0));
            case "ConstantOfShape" -> constantOfShape(node, in.get(0).asLongs());
            case "Slice" -> slice(node, in, opset);
            case "Transpose" -> transpose(node, in.get(0));
            case "Unsqueeze" -> unsqueeze(in.get(0), axes(node, in, opset, 13));
            case "Squeeze" -> squeeze(in.get(0), axes(node, in, opset, 13));
            case "Gather" -> gather(in.get(0), in.get(1), intAttr(node, "axis", 0));
            case "Shape" -> Value.ofLongs(new long[] {in.get(0).dims().length}, in.get(0).dims().clone());
            default -> throw new IllegalArgumentException("cannot fold op " + node.opType());
        };
    }

    private static Value constant(NodeProto node) {
        for (AttributeProto a : node.attribute()) {
            switch (a.name()) {
                case "value":
                    if (a.t() == null) throw new IllegalArgumentException("Constant's value attribute holds no tensor");
                    return of(a.t());
                case "value_float": return Value.ofFloats(new long[0], new float[] {a.f()});
                case "value_floats": return Value.ofFloats(new long[] {a.floats().length}, a.floats().clone());
                case "value_int": return Value.ofLongs(new long[0], new long[] {a.i()});
                case "value_ints": return Value.ofLongs(new long[] {a.ints().length}, a.ints().clone());
                default: break;
            }
        }
        throw new IllegalArgumentException("Constant without a value, value_float(s) or value_int(s) attribute");
    }

    private static Value cast(NodeProto node, Value x) {
        int to = intAttr(node, "to", OnnxProto.FLOAT);
        return switch (to) {
            case OnnxProto.FLOAT, OnnxProto.DOUBLE -> Value.ofFloats(x.dims(), x.asFloats());
            case OnnxProto.INT64, OnnxProto.INT32 -> Value.ofLongs(x.dims(), x.asLongs());
            default -> throw new IllegalArgumentException("Cast to " + OnnxProto.dataTypeName(to) + " is not supported");
        };
    }

    /** ONNX Reshape: 0 copies the input's dim, -1 takes what is left. */
    static long[] reshapeDims(long[] from, long[] to) {
        long[] out = to.clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0 && i < from.length) out[i] = from[i];
            if (out[i] == -1) {
                if (unknown >= 0) throw new IllegalArgumentException("reshape to " + Arrays.toString(to) + " has two -1");
                unknown = i;
            } else {
                known *= out[i];
            }
        }
        long total = count(from);
        if (unknown >= 0) {
            if (known == 0 || total % known != 0) throw new IllegalArgumentException("cannot reshape " + Arrays.toString(from) + " to " + Arrays.toString(to));
            out[unknown] = total / known;
        }
        if (count(out) != total) throw new IllegalArgumentException("cannot reshape " + Arrays.toString(from) + " to " + Arrays.toString(to));
        return out;
    }

    private static Value reshape(Value x, long[] shape) {
        long[] dims = reshapeDims(x.dims(), shape);
        return x.floating() ? Value.ofFloats(dims, x.floats()) : Value.ofLongs(dims, x.longs());
    }

    private static Value concat(List<Value> in, int axis) {
        int rank = in.get(0).dims().length;
        int a = axis < 0 ? axis + rank : axis;
        long outer = 1;
        for (int d = 0; d < a; d++) outer *= in.get(0).dims()[d];
        long[] dims = in.get(0).dims().clone();
        dims[a] = 0;
        boolean floating = false;
        for (Value v : in) {
            if (v.dims().length != rank) throw new IllegalArgumentException("Concat of ranks " + rank + " and " + v.dims().length);
            dims[a] += v.dims()[a];
            floating |= v.floating();
        }
        int n = (int) count(dims);
        float[] f = floating ? new float[n] : null;
        long[] l = floating ? null : new long[n];
        int at = 0;
        for (long o = 0; o < outer; o++) {
            for (Value v : in) {
                int block = (int) (v.size() / outer);
                if (floating) System.arraycopy(v.asFloats(), (int) (o * block), f, at, block);
                else System.arraycopy(v.longs(), (int) (o * block), l, at, block);
                at += block;
            }
        }
        return new Value(dims, f, l);
    }

    private static Value constantOfShape(NodeProto node, long[] shape) {
        AttributeProto a = node.attribute("value");
        int n = (int) count(shape);
        if (a == null || a.t() == null) return Value.ofFloats(shape, new float[n]);
        Value v = of(a.t());
        if (v.size() != 1) throw new IllegalArgumentException("ConstantOfShape value must be one number, got dims " + Arrays.toString(v.dims()));
        if (v.floating()) {
            float[] out = new float[n];
            Arrays.fill(out, v.floats()[0]);
            return Value.ofFloats(shape, out);
        }
        long[] out = new long[n];
        Arrays.fill(out, v.longs()[0]);
        return Value.ofLongs(shape, out);
    }

    private static Value slice(NodeProto node, List<Value> in, long opset) {
        Value x = in.get(0);
        int rank = x.dims().length;
        long[] starts, ends, axes, steps;
        if (opset >= 10) {
            starts = in.get(1).asLongs();
            ends = in.get(2).asLongs();
            axes = in.size() > 3 && in.get(3) != null ? in.get(3).asLongs() : null;
            steps = in.size() > 4 && in.get(4) != null ? in.get(4).asLongs() : null;
        } else {
            starts = longsAttr(node, "starts");
            ends = longsAttr(node, "ends");
            axes = node.attribute("axes") == null ? null : longsAttr(node, "axes");
            steps = null;
        }
        long[] from = new long[rank], step = new long[rank], size = x.dims().clone();
        Arrays.fill(step, 1);
        for (int k = 0; k < starts.length; k++) {
            int a = (int) (axes == null ? k : axes[k] < 0 ? axes[k] + rank : axes[k]);
            long dim = x.dims()[a], st = steps == null ? 1 : steps[k];
            if (st == 0) throw new IllegalArgumentException("Slice step 0");
            long s = starts[k] < 0 ? starts[k] + dim : starts[k], e = ends[k] < 0 ? ends[k] + dim : ends[k];
            if (st > 0) {
                s = Math.clamp(s, 0, dim);
                e = Math.clamp(e, 0, dim);
                size[a] = Math.max(0, (e - s + st - 1) / st);
            } else {
                s = Math.clamp(s, 0, dim - 1);
                e = Math.clamp(e, -1, dim - 1);
                size[a] = Math.max(0, (s - e + (-st) - 1) / (-st));
            }
            from[a] = s;
            step[a] = st;
        }
        long[] strides = strides(x.dims());
        int n = (int) count(size);
        int[] src = new int[n];
        long[] idx = new long[rank];
        for (int i = 0; i < n; i++) {
            long off = 0;
            for (int d = 0; d < rank; d++) off += (from[d] + idx[d] * step[d]) * strides[d];
            src[i] = (int) off;
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < size[d]) break;
                idx[d] = 0;
            }
        }
        return x.gather(size, src);
    }

    private static Value transpose(NodeProto node, Value x) {
        int rank = x.dims().length;
        long[] perm = node.attribute("perm") == null ? null : longsAttr(node, "perm");
        if (perm == null) {
            perm = new long[rank];
            for (int d = 0; d < rank; d++) perm[d] = rank - 1 - d;
        }
        long[] dims = new long[rank];
        for (int d = 0; d < rank; d++) dims[d] = x.dims()[(int) perm[d]];
        long[] strides = strides(x.dims());
        int n = x.size();
        int[] src = new int[n];
        long[] idx = new long[rank];
        for (int i = 0; i < n; i++) {
            long off = 0;
            for (int d = 0; d < rank; d++) off += idx[d] * strides[(int) perm[d]];
            src[i] = (int) off;
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < dims[d]) break;
                idx[d] = 0;
            }
        }
        return x.gather(dims, src);
    }

    private static long[] axes(NodeProto node, List<Value> in, long opset, long inputSince) {
        if (opset >= inputSince) return in.size() > 1 && in.get(1) != null ? in.get(1).asLongs() : null;
        return node.attribute("axes") == null ? null : longsAttr(node, "axes");
    }

    private static Value unsqueeze(Value x, long[] axes) {
        if (axes == null) throw new IllegalArgumentException("Unsqueeze without axes");
        int rank = x.dims().length + axes.length;
        boolean[] inserted = new boolean[rank];
        for (long a : axes) inserted[(int) (a < 0 ? a + rank : a)] = true;
        long[] dims = new long[rank];
        for (int d = 0, k = 0; d < rank; d++) dims[d] = inserted[d] ? 1 : x.dims()[k++];
        return x.floating() ? Value.ofFloats(dims, x.floats()) : Value.ofLongs(dims, x.longs());
    }

    private static Value squeeze(Value x, long[] axes) {
        int rank = x.dims().length;
        List<Long> dims = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            boolean drop = false;
            if (axes == null) drop = x.dims()[d] == 1;
            else for (long a : axes) drop |= (a < 0 ? a + rank : a) == d;
            if (!drop) dims.add(x.dims()[d]);
        }
        long[] out = dims.stream().mapToLong(Long::longValue).toArray();
        return x.floating() ? Value.ofFloats(out, x.floats()) : Value.ofLongs(out, x.longs());
    }

    private static Value gather(Value x, Value indices, int axis) {
        int rank = x.dims().length;
        int a = axis < 0 ? axis + rank : axis;
        long[] ix = indices.asLongs();
        long dim = x.dims()[a];
        long outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= x.dims()[d];
        for (int d = a + 1; d < rank; d++) inner *= x.dims()[d];
        long[] dims = new long[rank - 1 + indices.dims().length];
        int k = 0;
        for (int d = 0; d < a; d++) dims[k++] = x.dims()[d];
        for (long d : indices.dims()) dims[k++] = d;
        for (int d = a + 1; d < rank; d++) dims[k++] = x.dims()[d];
        int[] src = new int[(int) (outer * ix.length * inner)];
        int at = 0;
        for (long o = 0; o < outer; o++) {
            for (long i : ix) {
                long j = i < 0 ? i + dim : i;
                if (j < 0 || j >= dim) throw new IllegalArgumentException("Gather index " + i + " outside a dim of " + dim);
                for (long in = 0; in < inner; in++) src[at++] = (int) ((o * dim + j) * inner + in);
            }
        }
        return x.gather(dims, src);
    }

    private static long[] strides(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int d = dims.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= dims[d];
        }
        return s;
    }

    static int intAttr(NodeProto node, String name, long fallback) {
        AttributeProto a = node.attribute(name);
        return Math.toIntExact(a == null ? fallback : a.i());
    }

    static long[] longsAttr(NodeProto node, String name) {
        AttributeProto a = node.attribute(name);
        return a == null ? null : a.ints();
    }
}
