package dev.shears.nn.onnx;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.nn.Parameter;
import dev.shears.nn.graph.GraphSpec;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxProto.AttributeProto;
import dev.shears.nn.onnx.OnnxProto.Dimension;
import dev.shears.nn.onnx.OnnxProto.GraphProto;
import dev.shears.nn.onnx.OnnxProto.ModelProto;
import dev.shears.nn.onnx.OnnxProto.NodeProto;
import dev.shears.nn.onnx.OnnxProto.TensorProto;
import dev.shears.nn.onnx.OnnxProto.ValueInfoProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * ONNX in: turns the graph of an ONNX file (a CNN as torch.onnx.export writes it) into a graph
 * model ({@link GraphSpec} -> {@link dev.shears.nn.graph.Graph} inside a zoo {@link Network})
 * with the file's weights, inferring every tensor's shape on the way. Operators: {@link #SUPPORTED},
 * plus constant subgraphs folded at import ({@link Constants#FOLDABLE}). Parameters keep the
 * initializers' names where they follow PyTorch's {@code <module>.weight}/{@code .bias}. Errors are
 * one line naming the file and the node or tensor. Not an ONNX runtime: no broadcasting, no
 * dynamic shapes beyond the batch, float32 only. Pinned by OnnxImportTest and OnnxFixturesTest.
 *
 * <pre>{@code
 * try (Network model = OnnxImport.read(Path.of("model.onnx"))) { ... train, prune, evaluate ... }
 * }</pre>
 */
public final class OnnxImport {
    /** The operators that become graph nodes. */
    public static final List<String> SUPPORTED = List.of("Conv", "BatchNormalization", "Relu", "Clip", "Add", "Mul", "MaxPool", "AveragePool",
            "GlobalAveragePool", "Flatten", "Reshape", "Gemm", "MatMul", "Pad", "Concat", "Identity", "Dropout", "Constant");

    private OnnxImport() {}

    /** Reads {@code file} and builds its model (weights loaded, no masks). */
    public static Network read(Path file) {
        ModelProto m = OnnxReader.read(file);
        return fromModel(m, file.toString());
    }

    /** Builds the model of an already parsed file; {@code source} names it in errors. */
    public static Network fromModel(ModelProto model, String source) {
        Importer im = new Importer(model, source);
        GraphSpec spec = im.convert();
        Network net;
        try {
            net = ModelZoo.graph(spec, 0);
        } catch (IllegalArgumentException e) {
            throw new OnnxFormatException(source + ": " + e.getMessage(), e);
        }
        try {
            im.load(net);
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    /** One conversion: ONNX values to graph tensors, nodes to graph nodes, initializers to weights. */
    private static final class Importer {
        private final ModelProto model;
        private final GraphProto g;
        private final String source;
        private final long opset;
        private final Map<String, Constants.Value> constants = new HashMap<>();
        private final Map<String, Act> acts = new HashMap<>();      // ONNX value -> graph tensor
        private final Map<String, Integer> readers = new HashMap<>(); // ONNX value -> how many node inputs read it
        private final Map<String, NodeProto> producer = new HashMap<>();
        private final Set<String> consumed = new HashSet<>();        // nodes already folded into an earlier one (MatMul's Add)
        private final List<GraphSpec.Node> nodes = new ArrayList<>();
        private final Set<String> names = new HashSet<>(Set.of(GraphSpec.INPUT, "graph"));
        private final Map<String, float[]> weights = new HashMap<>(); // parameter or buffer name -> values
        private int[] inputShape;
        private NodeProto node; // the node being converted, for errors

        /** A graph tensor: the node writing it and its per-sample shape; {@code squeezed} marks a global pool's (C) that ONNX sees as (C, 1, 1). */
        private record Act(String tensor, int[] shape, boolean squeezed) {}

        Importer(ModelProto model, String source) {
            this.model = model;
            this.g = model.graph();
            this.source = source;
            if (g == null) throw new OnnxFormatException(source + ": the model has no graph");
            long v = model.opsetVersion("");
            this.opset = v < 0 ? 17 : v;
        }

        private OnnxFormatException error(String message) {
            if (node == null) return new OnnxFormatException(oneLine(source + ": " + message));
            return new OnnxFormatException(oneLine(source + ": node '" + node.name() + "' (" + node.opType() + "): " + message));
        }

        /** Control characters (a damaged name) shown as '?', so the message stays one line. */
        private static String oneLine(String s) {
            return s.replaceAll("\\p{Cntrl}", "?");
        }

        GraphSpec convert() {
            for (TensorProto t : g.initializer()) {
                try {
                    constants.put(t.name(), Constants.of(t));
                } catch (IllegalArgumentException e) {
                    throw new OnnxFormatException(source + ": initializer " + e.getMessage());
                }
            }
            input();
            for (NodeProto n : g.node()) {
                for (String in : n.input()) if (!in.isEmpty()) readers.merge(in, 1, Integer::sum);
                for (String out : n.output()) producer.put(out, n);
            }
            for (NodeProto n : g.node()) {
                node = n;
                if (consumed.contains(key(n))) continue;
                try {
                    convert(n);
                } catch (OnnxFormatException e) {
                    throw e;
                } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException e) {
                    throw error(e.getMessage());
                } catch (NullPointerException | NegativeArraySizeException | java.util.NoSuchElementException e) { // a field the node needs is absent: a damaged or hand-made file
                    throw error("is malformed (" + e.getMessage() + ")");
                }
            }
            node = null;
            if (g.output().size() != 1) throw error("the graph has " + g.output().size() + " outputs; Shears imports classifiers with one output (the logits)");
            String outName = g.output().getFirst().name();
            Act out = acts.get(outName);
            if (out == null) throw error("the graph output '" + outName + "' is not computed from the input");
            if (out.shape().length != 1) {
                throw error("the graph output '" + outName + "' is per sample " + Shape.str(out.shape()) + ", expected (classes): add a Flatten and a Gemm head");
            }
            if (out.tensor().equals(GraphSpec.INPUT)) throw error("the graph output is its input");
            try {
                return new GraphSpec(inputShape, nodes, out.tensor());
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
        }

        /** The one graph input that is not an initializer: (N, C, H, W) with C, H, W fixed. */
        private void input() {
            List<ValueInfoProto> real = g.input().stream().filter(v -> !constants.containsKey(v.name())).toList();
            if (real.size() != 1) {
                throw error("the graph has " + real.size() + " inputs besides its initializers " + real.stream().map(ValueInfoProto::name).toList()
                        + "; Shears imports models with one image input");
            }
            ValueInfoProto in = real.getFirst();
            if (in.type() == null || !in.type().hasShape() || in.type().shape().size() != 4) {
                throw error("input '" + in.name() + "' must be a float tensor (N, C, H, W), got "
                        + (in.type() == null || !in.type().hasShape() ? "no shape" : in.type().shape()));
            }
            if (in.type().elemType() != OnnxProto.FLOAT) throw error("input '" + in.name() + "' is " + OnnxProto.dataTypeName(in.type().elemType()) + ", expected FLOAT");
            List<Dimension> d = in.type().shape();
            int[] s = new int[3];
            for (int i = 1; i < 4; i++) {
                if (!d.get(i).isFixed() || d.get(i).dimValue() < 1) throw error("input '" + in.name() + "' has shape " + d + "; C, H and W must be fixed sizes");
                s[i - 1] = Math.toIntExact(d.get(i).dimValue());
            }
            inputShape = s;
            acts.put(in.name(), new Act(GraphSpec.INPUT, s, false));
        }

        private static String key(NodeProto n) {
            return n.name() + "\u0000" + String.join(",", n.output());
        }

        private void convert(NodeProto n) {
            if (n.output().isEmpty() || n.output().getFirst().isEmpty()) throw error("has no output");
            String domain = n.domain() == null ? "" : n.domain();
            if (!domain.isEmpty() && !domain.equals("ai.onnx")) throw unsupported(n);
            String op = n.opType();
            boolean allConstant = true;
            for (String in : n.input()) if (!in.isEmpty() && !constants.containsKey(in)) allConstant = false;
            if (Constants.FOLDABLE.contains(op) && allConstant) {
                List<Constants.Value> in = new ArrayList<>();
                for (String i : n.input()) in.add(i.isEmpty() ? null : constants.get(i));
                constants.put(n.output().getFirst(), Constants.fold(n, in, opset));
                return;
            }
            for (String in : n.input()) {
                if (!in.isEmpty() && !constants.containsKey(in) && !acts.containsKey(in)) throw error("reads '" + in + "', which no earlier node or initializer defines");
            }
            switch (op) {
                case "Conv" -> conv(n);
                case "BatchNormalization" -> batchNorm(n);
                case "Relu" -> unary(n, "relu", Map.of());
                case "Clip" -> clip(n);
                case "Add" -> add(n);
                case "Mul" -> mul(n);
                case "MaxPool", "AveragePool" -> pool(n);
                case "GlobalAveragePool" -> globalPool(n);
                case "Flatten" -> flatten(n);
                case "Reshape" -> reshape(n);
                case "Gemm" -> gemm(n);
                case "MatMul" -> matMul(n);
                case "Pad" -> pad(n);
                case "Concat" -> concat(n);
                case "Identity" -> acts.put(n.output().getFirst(), act(n, 0));
                case "Dropout" -> dropout(n);
                default -> throw unsupported(n);
            }
        }

        private OnnxFormatException unsupported(NodeProto n) {
            String domain = n.domain() == null || n.domain().isEmpty() ? "" : n.domain() + ".";
            return new OnnxFormatException(oneLine(source + ": node '" + n.name() + "' has op type '" + domain + n.opType() + "', which Shears does not import; supported: "
                    + String.join(", ", SUPPORTED)));
        }

        // ------------------------------------------------------------ values

        private Act act(NodeProto n, int i) {
            String name = n.input().size() > i ? n.input().get(i) : "";
            Act a = acts.get(name);
            if (a == null) throw error("input " + i + " '" + name + "' must be computed from the graph input, not a constant");
            return a;
        }

        private Constants.Value constant(NodeProto n, int i, String what) {
            String name = n.input().size() > i ? n.input().get(i) : "";
            if (name.isEmpty()) return null;
            Constants.Value v = constants.get(name);
            if (v == null) throw error(what + " '" + name + "' must be a constant (an initializer or a Constant node)");
            return v;
        }

        private String tensorName(NodeProto n, int i) {
            return n.input().size() > i ? n.input().get(i) : "";
        }

        /** An image activation (C, H, W): a global pool's (C) is not one. */
        private Act image(NodeProto n) {
            Act a = act(n, 0);
            if (a.shape().length != 3 || a.squeezed()) throw error("expects an image (N, C, H, W), got per sample " + describe(a));
            return a;
        }

        private static String describe(Act a) {
            return a.squeezed() ? "(" + a.shape()[0] + ", 1, 1)" : Shape.str(a.shape());
        }

        /**
         * A unique graph node name: {@code preferred} when free, else the module path in torch's
         * node name ({@code /layer1/layer1.0/conv1/Conv} -> {@code layer1.0.conv1}), else the node's
         * name with odd characters replaced, made unique.
         */
        private String name(NodeProto n, String preferred) {
            if (preferred != null && !preferred.isEmpty() && names.add(preferred)) return preferred;
            String raw = n.name() == null ? "" : n.name();
            String base = raw.isEmpty() ? n.opType().toLowerCase(Locale.ROOT) + "_" + nodes.size() : raw;
            String[] parts = raw.split("/");
            if (raw.startsWith("/") && parts.length > 2) { // "", scopes..., op
                String q = parts[1], last = parts[1];
                for (int i = 2; i < parts.length - 1; i++) {
                    q = parts[i].startsWith(last + ".") ? q.substring(0, q.length() - last.length()) + parts[i] : q + "." + parts[i];
                    last = parts[i];
                }
                base = q;
            }
            base = base.replaceAll("^/+", "").replace('/', '.').replaceAll("[^A-Za-z0-9._-]", "_");
            if (base.isEmpty()) base = n.opType().toLowerCase(Locale.ROOT);
            String s = base;
            for (int k = 1; !names.add(s); k++) s = base + "_" + k;
            return s;
        }

        /** The module name PyTorch gave a parameter ({@code layer1.0.conv1} of {@code layer1.0.conv1.weight}), or null. */
        private static String module(String weightName, String suffix) {
            return weightName != null && weightName.endsWith(suffix) && weightName.length() > suffix.length()
                    ? weightName.substring(0, weightName.length() - suffix.length()) : null;
        }

        private Act emit(NodeProto n, String name, String op, List<Act> in, Map<String, String> attrs, int[] shape, boolean squeezed) {
            List<String> ins = in.stream().map(Act::tensor).toList();
            nodes.add(new GraphSpec.Node(name, op, ins, attrs, shape));
            Act a = new Act(name, shape, squeezed);
            acts.put(n.output().getFirst(), a);
            return a;
        }

        private void unary(NodeProto n, String op, Map<String, String> attrs) {
            Act x = act(n, 0);
            emit(n, name(n, null), op, List.of(x), attrs, x.shape(), x.squeezed());
        }

        // ------------------------------------------------------------ operators

        private void conv(NodeProto n) {
            Act x = image(n);
            Constants.Value w = constant(n, 1, "weight");
            Constants.Value b = constant(n, 2, "bias");
            String wName = tensorName(n, 1), bName = tensorName(n, 2);
            long[] wd = w.dims();
            if (wd.length != 4) throw error("weight '" + wName + "' has dims " + Arrays.toString(wd) + "; Shears imports 2-D convolutions (O, C/groups, kH, kW)");
            int groups = Constants.intAttr(n, "group", 1);
            int out = Math.toIntExact(wd[0]), k = Math.toIntExact(wd[2]);
            if (wd[2] != wd[3]) throw error("kernel " + wd[2] + "x" + wd[3] + " is not square; Shears' convolutions are square");
            if (wd[1] * groups != x.shape()[0]) {
                throw error("weight '" + wName + "' has dims " + Arrays.toString(wd) + " with group " + groups + ", but the input has " + x.shape()[0] + " channels");
            }
            long[] kernel = Constants.longsAttr(n, "kernel_shape");
            if (kernel != null && (kernel.length != 2 || kernel[0] != k || kernel[1] != k)) throw error("kernel_shape " + Arrays.toString(kernel) + " does not match the weight " + Arrays.toString(wd));
            requireOnes(n, "dilations", "dilation");
            int stride = stride(n);
            int[] pads = pads(n, x.shape(), k, stride);
            if (b != null && b.size() != out) throw error("bias '" + bName + "' has " + b.size() + " values for " + out + " output channels");
            String module = module(wName, ".weight");
            if (module != null && b != null && !bName.equals(module + ".bias")) module = null;
            String name = name(n, module);
            Act in = x;
            int padding = pads[0];
            if (!(pads[0] == pads[1] && pads[1] == pads[2] && pads[2] == pads[3])) { // asymmetric: an explicit pad, then an unpadded convolution
                in = padNode(n, name + ".pad", x, pads);
                padding = 0;
            }
            int oh = outSize(in.shape()[1], k, stride, padding), ow = outSize(in.shape()[2], k, stride, padding);
            Map<String, String> a = new LinkedHashMap<>();
            a.put("out", Integer.toString(out));
            a.put("kernel", Integer.toString(k));
            a.put("stride", Integer.toString(stride));
            a.put("padding", Integer.toString(padding));
            a.put("groups", Integer.toString(groups));
            a.put("bias", Boolean.toString(b != null));
            weights.put(name + ".weight", w.asFloats());
            if (b != null) weights.put(name + ".bias", b.asFloats());
            emit(n, name, "conv", List.of(in), a, new int[] {out, oh, ow}, false);
        }

        private int outSize(int in, int k, int stride, int pad) {
            if (in + 2 * pad < k) throw error("input size " + in + " with padding " + pad + " is smaller than the kernel " + k);
            return (in + 2 * pad - k) / stride + 1;
        }

        private void requireOnes(NodeProto n, String attr, String what) {
            long[] v = Constants.longsAttr(n, attr);
            if (v != null) for (long d : v) if (d != 1) throw error(attr + " " + Arrays.toString(v) + "; Shears supports " + what + " 1 only");
        }

        private int stride(NodeProto n) {
            long[] s = Constants.longsAttr(n, "strides");
            if (s == null || s.length == 0) return 1;
            if (s.length != 2 || s[0] != s[1] || s[0] < 1) throw error("strides " + Arrays.toString(s) + "; Shears needs one stride for both axes");
            return Math.toIntExact(s[0]);
        }

        /** Padding as {top, bottom, left, right} from pads or auto_pad. */
        private int[] pads(NodeProto n, int[] x, int k, int stride) {
            AttributeProto auto = n.attribute("auto_pad");
            String mode = auto == null ? "NOTSET" : auto.stringValue();
            if (mode.equals("SAME_UPPER") || mode.equals("SAME_LOWER")) {
                int[] out = new int[4];
                for (int axis = 0; axis < 2; axis++) {
                    int in = x[1 + axis], o = (in + stride - 1) / stride;
                    int total = Math.max(0, (o - 1) * stride + k - in);
                    int small = total / 2, large = total - small;
                    out[axis * 2] = mode.equals("SAME_UPPER") ? small : large;
                    out[axis * 2 + 1] = mode.equals("SAME_UPPER") ? large : small;
                }
                return out;
            }
            if (!mode.equals("NOTSET") && !mode.equals("VALID") && !mode.isEmpty()) throw error("auto_pad " + mode + " is not supported");
            long[] p = Constants.longsAttr(n, "pads");
            if (mode.equals("VALID") || p == null || p.length == 0) return new int[4];
            if (p.length != 4) throw error("pads " + Arrays.toString(p) + "; expected 4 values (2-D)");
            for (long v : p) if (v < 0) throw error("negative pads " + Arrays.toString(p));
            return new int[] {(int) p[0], (int) p[2], (int) p[1], (int) p[3]};
        }

        private Act padNode(NodeProto n, String name, Act x, int[] tblr) {
            String unique = name(n, name);
            Map<String, String> a = new LinkedHashMap<>();
            a.put("top", Integer.toString(tblr[0]));
            a.put("bottom", Integer.toString(tblr[1]));
            a.put("left", Integer.toString(tblr[2]));
            a.put("right", Integer.toString(tblr[3]));
            int[] shape = {x.shape()[0], x.shape()[1] + tblr[0] + tblr[1], x.shape()[2] + tblr[2] + tblr[3]};
            nodes.add(new GraphSpec.Node(unique, "pad", List.of(x.tensor()), a, shape));
            return new Act(unique, shape, false);
        }

        private void batchNorm(NodeProto n) {
            Act x = image(n);
            int c = x.shape()[0];
            Constants.Value[] v = new Constants.Value[4];
            String[] what = {"scale", "bias", "mean", "variance"};
            for (int i = 0; i < 4; i++) {
                v[i] = constant(n, i + 1, what[i]);
                if (v[i] == null || v[i].size() != c) {
                    throw error(what[i] + " '" + tensorName(n, i + 1) + "' has " + (v[i] == null ? 0 : v[i].size()) + " values for " + c + " channels");
                }
            }
            AttributeProto training = n.attribute("training_mode");
            if (training != null && training.i() != 0) throw error("training_mode 1 (batch statistics at inference) is not supported; export in eval mode");
            for (int o = 1; o < n.output().size(); o++) {
                if (!n.output().get(o).isEmpty() && readers.containsKey(n.output().get(o))) throw error("reads its running-statistics outputs; only the first output is supported");
            }
            AttributeProto eps = n.attribute("epsilon"), momentum = n.attribute("momentum");
            String module = module(tensorName(n, 1), ".weight");
            if (module != null && !(tensorName(n, 2).equals(module + ".bias") && tensorName(n, 3).equals(module + ".running_mean")
                    && tensorName(n, 4).equals(module + ".running_var"))) module = null;
            String name = name(n, module);
            Map<String, String> a = new LinkedHashMap<>();
            a.put("eps", Float.toString(eps == null ? 1e-5f : eps.f()));
            a.put("momentum", Float.toString(momentum == null ? 0.1f : 1 - momentum.f())); // ONNX weighs the old value, PyTorch the new one
            weights.put(name + ".weight", v[0].asFloats());
            weights.put(name + ".bias", v[1].asFloats());
            weights.put(name + ".running_mean", v[2].asFloats());
            weights.put(name + ".running_var", v[3].asFloats());
            emit(n, name, "batchnorm", List.of(x), a, x.shape(), false);
        }

        private void clip(NodeProto n) {
            float min = Float.NEGATIVE_INFINITY, max = Float.POSITIVE_INFINITY;
            if (opset < 11) {
                AttributeProto lo = n.attribute("min"), hi = n.attribute("max");
                if (lo != null) min = lo.f();
                if (hi != null) max = hi.f();
            } else {
                Constants.Value lo = constant(n, 1, "min"), hi = constant(n, 2, "max");
                if (lo != null) min = (float) lo.scalar("min '" + tensorName(n, 1) + "'");
                if (hi != null) max = (float) hi.scalar("max '" + tensorName(n, 2) + "'");
            }
            if (min > max) throw error("min " + min + " > max " + max);
            unary(n, "clip", Map.of("min", Float.toString(min), "max", Float.toString(max)));
        }

        private void add(NodeProto n) {
            if (n.input().size() != 2) throw error("has " + n.input().size() + " inputs, expected 2");
            Act a = acts.get(n.input().get(0)), b = acts.get(n.input().get(1));
            if (a == null || b == null) {
                throw error("adds the constant '" + (a == null ? n.input().get(0) : n.input().get(1))
                        + "'; Shears imports Add of two activations, or a bias right after a MatMul");
            }
            if (!Arrays.equals(a.shape(), b.shape()) || a.squeezed() != b.squeezed()) {
                throw error("adds per-sample shapes " + describe(a) + " and " + describe(b) + "; broadcasting is not supported");
            }
            emit(n, name(n, null), "add", List.of(a, b), Map.of(), a.shape(), a.squeezed());
        }

        private void mul(NodeProto n) {
            if (n.input().size() != 2) throw error("has " + n.input().size() + " inputs, expected 2");
            int ai = acts.containsKey(n.input().get(0)) ? 0 : 1;
            Act x = act(n, ai);
            Constants.Value c = constant(n, 1 - ai, "factor");
            if (c == null || c.size() != 1) {
                throw error("multiplies by '" + tensorName(n, 1 - ai) + "'" + (c == null ? "" : " with dims " + Arrays.toString(c.dims()))
                        + "; Shears imports Mul by one constant number");
            }
            emit(n, name(n, null), "scale", List.of(x), Map.of("factor", Float.toString((float) c.scalar("factor"))), x.shape(), x.squeezed());
        }

        private void pool(NodeProto n) {
            Act x = image(n);
            long[] k = Constants.longsAttr(n, "kernel_shape");
            if (k == null || k.length != 2 || k[0] != k[1]) throw error("kernel_shape " + Arrays.toString(k) + "; Shears pools over square windows");
            int kernel = Math.toIntExact(k[0]);
            requireOnes(n, "dilations", "dilation");
            if (Constants.intAttr(n, "ceil_mode", 0) != 0) throw error("ceil_mode 1 is not supported");
            if (Constants.intAttr(n, "storage_order", 0) != 0) throw error("storage_order 1 is not supported");
            for (int o = 1; o < n.output().size(); o++) if (readers.containsKey(n.output().get(o))) throw error("reads the pooling indices; only the first output is supported");
            int stride = stride(n);
            int[] p = pads(n, x.shape(), kernel, stride);
            if (!(p[0] == p[1] && p[1] == p[2] && p[2] == p[3])) throw error("pads " + Arrays.toString(Constants.longsAttr(n, "pads")) + "; pooling needs equal padding on every side");
            boolean avg = n.opType().equals("AveragePool");
            if (avg && p[0] > 0 && Constants.intAttr(n, "count_include_pad", 0) == 0) {
                throw error("count_include_pad 0 with padding is not supported (Shears' average pool counts the padding, as PyTorch's default)");
            }
            if (2 * p[0] > kernel) throw error("padding " + p[0] + " is more than half the kernel " + kernel);
            int oh = outSize(x.shape()[1], kernel, stride, p[0]), ow = outSize(x.shape()[2], kernel, stride, p[0]);
            Map<String, String> a = new LinkedHashMap<>();
            a.put("kernel", Integer.toString(kernel));
            a.put("stride", Integer.toString(stride));
            a.put("padding", Integer.toString(p[0]));
            emit(n, name(n, null), avg ? "avgpool" : "maxpool", List.of(x), a, new int[] {x.shape()[0], oh, ow}, false);
        }

        private void globalPool(NodeProto n) {
            Act x = image(n);
            emit(n, name(n, null), "globalavgpool", List.of(x), Map.of(), new int[] {x.shape()[0]}, true);
        }

        private void flatten(NodeProto n) {
            Act x = act(n, 0);
            int axis = Constants.intAttr(n, "axis", 1);
            int rank = (x.squeezed() ? 3 : x.shape().length) + 1;
            if (axis < 0) axis += rank;
            if (axis != 1) throw error("axis " + Constants.intAttr(n, "axis", 1) + "; Shears flattens everything but the batch (axis 1)");
            toFeatures(n, x);
        }

        /** (N, ...) -> (N, features): a view node, or nothing when x already is (features). */
        private void toFeatures(NodeProto n, Act x) {
            if (x.shape().length == 1) {
                acts.put(n.output().getFirst(), new Act(x.tensor(), x.shape(), false));
                return;
            }
            emit(n, name(n, null), "flatten", List.of(x), Map.of(), new int[] {Math.toIntExact(Shape.size(x.shape()))}, false);
        }

        private void reshape(NodeProto n) {
            Act x = act(n, 0);
            Constants.Value shape = constant(n, 1, "shape");
            if (shape == null) throw error("has no shape input");
            long[] s = shape.asLongs();
            long features = Shape.size(x.shape());
            boolean ok = s.length == 2 && (s[1] == -1 || s[1] == features) && (s[0] == -1 ? s[1] == features : s[0] == 0 || s[0] >= 1);
            if (!ok) {
                throw error("reshape of per-sample " + describe(x) + " to " + Arrays.toString(s) + "; Shears imports Reshape to 2-D (batch, " + features + ") only");
            }
            toFeatures(n, x);
        }

        /** The one reader of {@code value}, or null. */
        private NodeProto soleReader(String value) {
            if (readers.getOrDefault(value, 0) != 1) return null;
            for (NodeProto r : g.node()) if (r.input().contains(value)) return r;
            return null;
        }

        private void gemm(NodeProto n) {
            Act x = features(n);
            Constants.Value b = constant(n, 1, "B");
            if (b == null || b.dims().length != 2) throw error("B '" + tensorName(n, 1) + "' must be a constant matrix");
            if (Constants.intAttr(n, "transA", 0) != 0) throw error("transA 1 is not supported");
            boolean transB = Constants.intAttr(n, "transB", 0) != 0;
            AttributeProto alpha = n.attribute("alpha"), beta = n.attribute("beta");
            int in = Math.toIntExact(transB ? b.dims()[1] : b.dims()[0]), out = Math.toIntExact(transB ? b.dims()[0] : b.dims()[1]);
            float[] w = transB ? b.asFloats() : transpose(b.asFloats(), in, out);
            if (alpha != null && alpha.f() != 1f) for (int i = 0; i < w.length; i++) w[i] *= alpha.f();
            Constants.Value c = constant(n, 2, "C");
            float[] bias = c == null ? null : biasOf(c, out, tensorName(n, 2));
            if (bias != null && beta != null && beta.f() != 1f) for (int i = 0; i < bias.length; i++) bias[i] *= beta.f();
            String module = module(tensorName(n, 1), ".weight");
            if (module != null && c != null && !tensorName(n, 2).equals(module + ".bias")) module = null;
            linear(n, x, in, out, w, bias, module, n.output().getFirst());
        }

        private void matMul(NodeProto n) {
            Act x = features(n);
            Constants.Value b = constant(n, 1, "B");
            if (b == null || b.dims().length != 2) throw error("B '" + tensorName(n, 1) + "' must be a constant (in, out) matrix");
            int in = Math.toIntExact(b.dims()[0]), out = Math.toIntExact(b.dims()[1]);
            float[] w = transpose(b.asFloats(), in, out);
            float[] bias = null;
            String result = n.output().getFirst();
            NodeProto next = soleReader(result);
            if (next != null && next.opType().equals("Add") && next.input().size() == 2) { // MatMul followed by Add of a bias: one linear layer
                String other = next.input().get(0).equals(result) ? next.input().get(1) : next.input().get(0);
                Constants.Value c = constants.get(other);
                if (c != null) {
                    bias = biasOf(c, out, other);
                    consumed.add(key(next));
                    result = next.output().getFirst();
                }
            }
            linear(n, x, in, out, w, bias, null, result);
        }

        private Act features(NodeProto n) {
            Act x = act(n, 0);
            if (x.shape().length != 1) throw error("expects (N, features), got per sample " + describe(x) + " (flatten first)");
            return x;
        }

        private float[] biasOf(Constants.Value c, int out, String name) {
            float[] v = c.asFloats();
            if (v.length == out) return v.clone();
            if (v.length == 1) {
                float[] full = new float[out];
                Arrays.fill(full, v[0]);
                return full;
            }
            throw error("bias '" + name + "' has dims " + Arrays.toString(c.dims()) + " for " + out + " outputs");
        }

        private void linear(NodeProto n, Act x, int in, int out, float[] w, float[] bias, String module, String result) {
            if (x.shape()[0] != in) throw error("the input has " + x.shape()[0] + " features but the weight '" + tensorName(n, 1) + "' expects " + in);
            String name = name(n, module);
            weights.put(name + ".weight", w);
            if (bias != null) weights.put(name + ".bias", bias);
            nodes.add(new GraphSpec.Node(name, "linear", List.of(x.tensor()), Map.of("out", Integer.toString(out), "bias", Boolean.toString(bias != null)), new int[] {out}));
            acts.put(result, new Act(name, new int[] {out}, false));
        }

        private static float[] transpose(float[] a, int rows, int cols) {
            float[] t = new float[a.length];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
            return t;
        }

        private void pad(NodeProto n) {
            Act x = image(n);
            AttributeProto mode = n.attribute("mode");
            if (mode != null && !mode.stringValue().equals("constant")) throw error("mode " + mode.stringValue() + "; Shears pads with zeros (mode constant)");
            long[] p;
            double value = 0;
            if (opset < 11) {
                p = Constants.longsAttr(n, "pads");
                AttributeProto v = n.attribute("value");
                if (v != null) value = v.f();
            } else {
                Constants.Value pv = constant(n, 1, "pads");
                if (pv == null) throw error("has no pads input");
                p = pv.asLongs();
                Constants.Value v = constant(n, 2, "constant_value");
                if (v != null) value = v.scalar("constant_value");
                if (n.input().size() > 3 && !n.input().get(3).isEmpty()) throw error("the axes input is not supported");
            }
            if (value != 0) throw error("pads with " + value + "; Shears pads with zeros");
            if (p == null || p.length != 8) throw error("pads " + Arrays.toString(p) + "; expected 8 values for (N, C, H, W)");
            if (p[0] != 0 || p[4] != 0) throw error("pads " + Arrays.toString(p) + " pad the batch; Shears pads channels, H and W");
            for (long v : p) if (v < 0) throw error("negative pads " + Arrays.toString(p) + " (cropping) are not supported");
            Map<String, String> a = new LinkedHashMap<>();
            if (p[1] != 0 || p[5] != 0) {
                a.put("front", Long.toString(p[1]));
                a.put("back", Long.toString(p[5]));
            }
            a.put("top", Long.toString(p[2]));
            a.put("bottom", Long.toString(p[6]));
            a.put("left", Long.toString(p[3]));
            a.put("right", Long.toString(p[7]));
            int[] s = x.shape();
            emit(n, name(n, null), "pad", List.of(x), a, new int[] {Math.toIntExact(s[0] + p[1] + p[5]), Math.toIntExact(s[1] + p[2] + p[6]), Math.toIntExact(s[2] + p[3] + p[7])}, false);
        }

        private void concat(NodeProto n) {
            List<Act> in = new ArrayList<>();
            for (int i = 0; i < n.input().size(); i++) in.add(act(n, i));
            int rank = in.getFirst().shape().length + 1;
            int axis = Constants.intAttr(n, "axis", 1);
            if (axis < 0) axis += rank;
            if (axis != 1) throw error("axis " + Constants.intAttr(n, "axis", 1) + "; Shears concatenates channels (axis 1)");
            int[] shape = in.getFirst().shape().clone();
            shape[0] = 0;
            for (Act a : in) {
                int[] s = a.shape();
                if (s.length != shape.length || a.squeezed()) throw error("joins per-sample shapes " + in.stream().map(Importer::describe).toList());
                for (int d = 1; d < s.length; d++) if (s[d] != in.getFirst().shape()[d]) throw error("joins per-sample shapes " + in.stream().map(Importer::describe).toList());
                shape[0] += s[0];
            }
            emit(n, name(n, null), "concat", in, Map.of(), shape, false);
        }

        private void dropout(NodeProto n) {
            Act x = act(n, 0);
            for (int o = 1; o < n.output().size(); o++) if (readers.containsKey(n.output().get(o))) throw error("reads the dropout mask; only the first output is supported");
            double p = 0.5;
            if (opset < 12) {
                AttributeProto r = n.attribute("ratio");
                if (r != null) p = r.f();
            } else {
                Constants.Value r = constant(n, 1, "ratio");
                if (r != null) p = r.scalar("ratio");
            }
            if (!(p >= 0 && p < 1)) throw error("ratio " + p + " is not in [0, 1)");
            unary(n, "dropout", Map.of("p", Double.toString(p)));
        }

        // ------------------------------------------------------------ weights

        /** Copies the imported weights into {@code net}; every parameter and buffer must have one. */
        void load(Network net) {
            for (Parameter p : net.parameters()) copy(p.name(), p.value());
            for (Map.Entry<String, Tensor> b : net.buffers().entrySet()) copy(b.getKey(), b.getValue());
        }

        private void copy(String name, Tensor t) {
            float[] v = weights.get(name);
            if (v == null) throw new OnnxFormatException(source + ": no weights for '" + name + "' (an importer bug: please report it with the file)");
            if (v.length != t.size()) throw new OnnxFormatException(source + ": tensor for '" + name + "' has " + v.length + " values, the layer needs " + Shape.str(t.shape()));
            t.copyFrom(v);
        }
    }
}
