package dev.shears.nn.onnx;

import dev.shears.engine.Shape;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.AvgPool2d;
import dev.shears.nn.layers.BatchNorm2d;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Dropout;
import dev.shears.nn.layers.Flatten;
import dev.shears.nn.layers.GlobalAvgPool;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.MaxPool2d;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;
import dev.shears.nn.layers.ZeroPadShortcut;
import dev.shears.nn.models.BatchNormFolding;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxProto.AttributeProto;
import dev.shears.nn.onnx.OnnxProto.Dimension;
import dev.shears.nn.onnx.OnnxProto.GraphProto;
import dev.shears.nn.onnx.OnnxProto.ModelProto;
import dev.shears.nn.onnx.OnnxProto.NodeProto;
import dev.shears.nn.onnx.OnnxProto.OperatorSetIdProto;
import dev.shears.nn.onnx.OnnxProto.TensorProto;
import dev.shears.nn.onnx.OnnxProto.ValueInfoProto;
import dev.shears.nn.rnn.FastGrnn;
import dev.shears.nn.rnn.Gru;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Exports a zoo {@link Network} as an ONNX model (opset 17, IR 8) for evaluation-mode inference:
 * a dynamic batch dimension, named input and output, weights as float initializers named as the
 * checkpoint (pruned weights are zeros: any runtime runs it; masks and optimizer state are not
 * exported), batch norm as BatchNormalization nodes or folded into the convolution before it
 * (BatchNormFolding, the fused path's arithmetic). Dropout is left out (an inference no-op); GRU
 * is ONNX's GRU operator, FastGRNN a graph unrolled over its fixed number of steps. Not an
 * importer. Pinned by OnnxExportTest (ONNX Runtime's logits equal ours for every zoo family,
 * dense and 90% sparse, batch 1 and 8).
 */
public final class OnnxExport {
    /** The operator set version the graph is written for. */
    public static final int OPSET = 17;

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private OnnxExport() {}

    /**
     * @param foldBatchNorm fold each batch norm that directly follows a convolution into it (the
     *                      others, such as WRN's pre-activation ones, stay BatchNormalization nodes)
     * @param inputName     the graph input, (batch, C, H, W)
     * @param outputName    the graph output, logits (batch, classes)
     */
    public record Options(boolean foldBatchNorm, String inputName, String outputName) {
        public Options {
            if (inputName == null || inputName.isBlank() || outputName == null || outputName.isBlank() || inputName.equals(outputName)) {
                throw new IllegalArgumentException("ONNX export: input and output names must be non-empty and different, got '" + inputName + "' and '" + outputName + "'");
            }
        }

        /** Batch norm kept as nodes; input "input", output "logits". */
        public static Options defaults() {
            return new Options(false, "input", "logits");
        }

        public Options withFoldBatchNorm(boolean fold) {
            return new Options(fold, inputName, outputName);
        }
    }

    /**
     * What was written: the input and output (names, per-sample shapes; the batch dimension is
     * dynamic), node and initializer counts, batch norms kept as nodes and folded, prunable
     * weights and how many of them are zero.
     */
    public record Summary(String inputName, int[] inputShape, String outputName, int[] outputShape, int nodes, int initializers,
                          int batchNormNodes, int foldedBatchNorms, long prunableWeights, long zeroWeights) {
        /** e.g. "input 'input' (batch, 3, 32, 32), output 'logits' (batch, 10)". */
        public String signature() {
            return "input '" + inputName + "' " + batched(inputShape) + ", output '" + outputName + "' " + batched(outputShape);
        }

        private static String batched(int[] shape) {
            StringBuilder b = new StringBuilder("(batch");
            for (int d : shape) b.append(", ").append(d);
            return b.append(')').toString();
        }
    }

    /** Exports {@code model} to {@code file} (temp file, then rename). */
    public static Summary write(Model model, Path file, Options options) {
        Exporter e = new Exporter(network(model), options);
        ModelProto m = e.build();
        OnnxWriter.write(m, file);
        return e.summary(m);
    }

    /** The ONNX model of {@code model}, in memory. */
    public static ModelProto toModel(Model model, Options options) {
        return new Exporter(network(model), options).build();
    }

    private static Network network(Model model) {
        if (!(model instanceof Network n)) {
            throw new IllegalArgumentException("ONNX export: model '" + model.spec().getOrDefault("model", "?") + "' (" + model.getClass().getSimpleName() + ") is not a zoo network");
        }
        return n;
    }

    /** Walks the layer tree once, emitting nodes in topological order. */
    private static final class Exporter {
        private final Network network;
        private final Options options;
        private final List<NodeProto> nodes = new ArrayList<>();
        private final List<TensorProto> initializers = new ArrayList<>();
        private final Set<String> names = new HashSet<>();
        private int batchNormNodes, folded;
        private long prunable, zeros;

        Exporter(Network network, Options options) {
            this.network = network;
            this.options = options;
            names.add(options.inputName());
        }

        ModelProto build() {
            String out = sequence(flatten(network.root()), options.inputName());
            if (!nodes.isEmpty() && nodes.getLast().output().equals(List.of(out)) && !out.equals(options.inputName())) {
                NodeProto last = nodes.removeLast();
                nodes.add(new NodeProto(last.input(), List.of(options.outputName()), last.name(), last.opType(), last.domain(), last.attribute(), last.docString()));
            } else {
                nodes.add(new NodeProto("output", "Identity", List.of(out), List.of(options.outputName()), List.of()));
            }
            int[] in = network.inputShape();
            List<Dimension> inDims = new ArrayList<>(List.of(Dimension.param("batch")));
            for (int d : in) inDims.add(Dimension.of(d));
            GraphProto graph = new GraphProto(network.spec().getOrDefault("model", "shears"), nodes, initializers,
                    List.of(ValueInfoProto.floatTensor(options.inputName(), inDims.toArray(Dimension[]::new))),
                    List.of(ValueInfoProto.floatTensor(options.outputName(), Dimension.param("batch"), Dimension.of(network.classes()))),
                    List.of(), "");
            String version = OnnxExport.class.getPackage().getImplementationVersion();
            return new ModelProto(OnnxProto.IR_VERSION, List.of(new OperatorSetIdProto("", OPSET)), "shears", version == null ? "dev" : version,
                    "dev.shears", 1, "Shears model " + new TreeMap<>(network.spec()) + (options.foldBatchNorm() ? ", batch norm folded" : ""), graph);
        }

        Summary summary(ModelProto m) {
            return new Summary(options.inputName(), network.inputShape(), options.outputName(), new int[] {network.classes()},
                    m.graph().node().size(), m.graph().initializer().size(), batchNormNodes, folded, prunable, zeros);
        }

        /** Nested sequences are one chain: flattening lets a convolution meet the batch norm after it. */
        private static List<Layer> flatten(Layer l) {
            if (!(l instanceof Sequential s)) return List.of(l);
            List<Layer> all = new ArrayList<>();
            for (Layer c : s.layers()) all.addAll(flatten(c));
            return all;
        }

        private String sequence(List<Layer> layers, String x) {
            for (int i = 0; i < layers.size(); i++) {
                Layer l = layers.get(i);
                if (options.foldBatchNorm() && l instanceof Conv2d c && i + 1 < layers.size() && layers.get(i + 1) instanceof BatchNorm2d bn) {
                    x = conv(c, bn, x);
                    i++;
                } else {
                    x = layer(l, x);
                }
            }
            return x;
        }

        // x: the name of the layer's input value; returns the name of its output value
        private String layer(Layer l, String x) {
            return switch (l) {
                case Conv2d c -> conv(c, null, x);
                case BatchNorm2d bn -> batchNorm(bn, x);
                case ReLU r -> node(r.name(), "Relu", List.of(x));
                case Dropout d -> x; // evaluation mode: the identity
                case Linear fc -> linear(fc, x);
                case MaxPool2d p -> node(p.name(), "MaxPool", List.of(x), pool(p.kernel(), p.stride(), p.padding()));
                case AvgPool2d p -> {
                    List<AttributeProto> a = new ArrayList<>(pool(p.kernel(), p.stride(), p.padding()));
                    a.add(AttributeProto.ofInt("count_include_pad", 1)); // zero padding counts in the divisor, as ours
                    yield node(p.name(), "AveragePool", List.of(x), a);
                }
                case GlobalAvgPool g -> node(g.name(), "Flatten", List.of(node(g.name() + ".pool", "GlobalAveragePool", List.of(x))),
                        List.of(AttributeProto.ofInt("axis", 1)));
                case Flatten f -> node(f.name(), "Flatten", List.of(x), List.of(AttributeProto.ofInt("axis", 1)));
                case Residual r -> {
                    String a = sequence(flatten(r.main()), x);
                    String b = r.shortcut() == null ? x : sequence(flatten(r.shortcut()), x);
                    yield node(r.name(), "Add", List.of(a, b));
                }
                case ZeroPadShortcut z -> zeroPad(z, x);
                case Sequential s -> sequence(flatten(s), x);
                case Gru g -> gru(g, x);
                case FastGrnn g -> fastGrnn(g, x);
                default -> throw new IllegalArgumentException("ONNX export: layer '" + l.name() + "' (" + l.getClass().getSimpleName() + ") has no ONNX form; exported "
                        + "layers are Conv2d, BatchNorm2d, ReLU, Dropout, Linear, MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten, Residual, ZeroPadShortcut, "
                        + "Sequential, Gru, FastGrnn");
            };
        }

        /** Conv (weights masked), with the batch norm after it folded in when {@code bn} is not null. */
        private String conv(Conv2d c, BatchNorm2d bn, String x) {
            Parameter wp = c.weight();
            float[] w = masked(wp);
            float[] bias = c.bias() == null ? null : c.bias().value().toFloatArray();
            if (bn != null) {
                bias = BatchNormFolding.fold(w, bias, bn);
                folded++;
            }
            List<String> inputs = new ArrayList<>(List.of(x, initializer(wp.name(), wp.shape(), w)));
            if (bias != null) inputs.add(initializer(c.bias() != null ? c.bias().name() : c.name() + ".bias", new int[] {bias.length}, bias));
            int k = c.kernel(), s = c.stride(), p = c.padding();
            return node(c.name(), "Conv", inputs, List.of(
                    AttributeProto.ofInts("kernel_shape", k, k),
                    AttributeProto.ofInts("strides", s, s),
                    AttributeProto.ofInts("pads", p, p, p, p),
                    AttributeProto.ofInts("dilations", 1, 1),
                    AttributeProto.ofInt("group", c.groups())));
        }

        private String batchNorm(BatchNorm2d bn, String x) {
            batchNormNodes++;
            List<String> inputs = List.of(x,
                    initializer(bn.weight().name(), bn.weight().shape(), bn.weight().value().toFloatArray()),
                    initializer(bn.bias().name(), bn.bias().shape(), bn.bias().value().toFloatArray()),
                    initializer(bn.name() + ".running_mean", bn.runningMean().shape(), bn.runningMean().toFloatArray()),
                    initializer(bn.name() + ".running_var", bn.runningVar().shape(), bn.runningVar().toFloatArray()));
            // ONNX's momentum weighs the running value (PyTorch's weighs the batch): 1 - ours
            return node(bn.name(), "BatchNormalization", inputs, List.of(
                    AttributeProto.ofFloat("epsilon", (float) bn.eps()),
                    AttributeProto.ofFloat("momentum", (float) (1 - bn.momentum()))));
        }

        private String linear(Linear fc, String x) {
            Parameter wp = fc.weight();
            List<String> inputs = new ArrayList<>(List.of(x, initializer(wp.name(), wp.shape(), masked(wp))));
            if (fc.bias() != null) inputs.add(initializer(fc.bias().name(), fc.bias().shape(), fc.bias().value().toFloatArray()));
            return node(fc.name(), "Gemm", inputs, List.of(AttributeProto.ofInt("transB", 1))); // y = x W^T + b, W (out, in)
        }

        /**
         * Option A: x[:, :, ::s, ::s] as a 1x1 MaxPool of stride s (exact, no weights, nothing a
         * pruner would count), then a constant-zero Pad of the channel axis, front and back.
         */
        private String zeroPad(ZeroPadShortcut z, String x) {
            int c = z.inputShape()[0], oc = z.outputShape()[0], s = z.stride();
            int front = (oc - c) / 2, back = oc - c - front;
            if (s > 1) {
                x = node(oc == c ? z.name() : z.name() + ".subsample", "MaxPool", List.of(x), pool(1, s, 0));
            }
            if (oc == c) return x;
            String pads = longs(z.name() + ".pads", new long[] {0, front, 0, 0, 0, back, 0, 0});
            return node(z.name(), "Pad", List.of(x, pads), List.of(AttributeProto.ofString("mode", "constant")));
        }

        /**
         * ONNX's GRU with linear_before_reset = 1 (PyTorch's n = tanh(W_in x + b_in + r (W_hn h + b_hn))).
         * ONNX orders the gates (z, r, h), PyTorch (r, z, n): the weight rows are regrouped.
         * x (N, T, F) is made time-major for the operator (ONNX Runtime runs layout 0 only); Y_h (1, N, H) loses its first axis.
         */
        private String gru(Gru g, String x) {
            int h = g.hidden();
            Parameter wih = network.parameter(g.name() + ".weight_ih_l0"), whh = network.parameter(g.name() + ".weight_hh_l0");
            Parameter bih = network.parameter(g.name() + ".bias_ih_l0"), bhh = network.parameter(g.name() + ".bias_hh_l0");
            float[] w = zrh(masked(wih), h), r = zrh(masked(whh), h);
            float[] bi = zrh(bih.value().toFloatArray(), h), bh = zrh(bhh.value().toFloatArray(), h);
            float[] b = new float[6 * h];
            System.arraycopy(bi, 0, b, 0, 3 * h);
            System.arraycopy(bh, 0, b, 3 * h, 3 * h);
            String timeMajor = node(g.name() + ".time_major", "Transpose", List.of(x), List.of(AttributeProto.ofInts("perm", 1, 0, 2)));
            String wName = initializer(g.name() + ".W", new int[] {1, 3 * h, g.inputs()}, w);
            String rName = initializer(g.name() + ".R", new int[] {1, 3 * h, h}, r);
            String bName = initializer(g.name() + ".B", new int[] {1, 6 * h}, b);
            String last = unique(g.name() + ".h_last");
            nodes.add(new NodeProto(unique(g.name()), "GRU", List.of(timeMajor, wName, rName, bName), List.of("", last), List.of(
                    AttributeProto.ofInt("hidden_size", h),
                    AttributeProto.ofInt("linear_before_reset", 1))));
            return node(g.name() + ".h", "Squeeze", List.of(last, longs(g.name() + ".squeeze_axes", new long[] {0})));
        }

        /** Rows in PyTorch's gate blocks (r, z, n) to ONNX's (z, r, h); each block h rows of equal length. */
        private static float[] zrh(float[] v, int h) {
            int block = v.length / 3;
            float[] out = new float[v.length];
            System.arraycopy(v, block, out, 0, block);     // z
            System.arraycopy(v, 0, out, block, block);     // r
            System.arraycopy(v, 2 * block, out, 2 * block, block); // n (h)
            return out;
        }

        /**
         * FastGRNN unrolled over its T steps (the same equations as FastGrnn): pre = x_t W^T + h U^T,
         * z = sigmoid(pre + b_z), c = tanh(pre + b_h), h = z h + (sigmoid(zeta)(1 - z) + sigmoid(nu)) c, h_0 = 0.
         * Low-rank W = W2 W1 and U = U2 U1 are multiplied out once in the graph, so the factors stay the initializers.
         */
        private String fastGrnn(FastGrnn g, String x) {
            String p = g.name() + ".";
            String w = g.rankW() == 0 ? weight(p + "W") : node(p + "W_product", "MatMul", List.of(weight(p + "W2"), weight(p + "W1")));
            String u = g.rankU() == 0 ? weight(p + "U") : node(p + "U_product", "MatMul", List.of(weight(p + "U2"), weight(p + "U1")));
            String bz = weight(p + "bias_gate"), bh = weight(p + "bias_update");
            String sZeta = node(p + "sigmoid_zeta", "Sigmoid", List.of(weight(p + "zeta")));
            String sNu = node(p + "sigmoid_nu", "Sigmoid", List.of(weight(p + "nu")));
            String one = initializer(p + "one", new int[] {1, 1}, new float[] {1f});
            String h = null;
            for (int t = 0; t < g.steps(); t++) {
                String s = p + "t" + t + ".";
                String xt = node(s + "x", "Gather", List.of(x, scalar(s + "index", t)), List.of(AttributeProto.ofInt("axis", 1)));
                String pre = node(s + "wx", "Gemm", List.of(xt, w), List.of(AttributeProto.ofInt("transB", 1)));
                if (h != null) pre = node(s + "pre", "Gemm", List.of(h, u, pre), List.of(AttributeProto.ofInt("transB", 1))); // h U^T + W x_t
                String z = node(s + "z", "Sigmoid", List.of(node(s + "z_in", "Add", List.of(pre, bz))));
                String c = node(s + "c", "Tanh", List.of(node(s + "c_in", "Add", List.of(pre, bh))));
                String coefficient = node(s + "coefficient", "Add", List.of(node(s + "zeta_term", "Mul", List.of(sZeta, node(s + "one_minus_z", "Sub", List.of(one, z)))), sNu));
                String update = node(s + "update", "Mul", List.of(coefficient, c));
                h = h == null ? update : node(s + "h", "Add", List.of(node(s + "keep", "Mul", List.of(z, h)), update));
            }
            return h;
        }

        /** The named parameter as an initializer, masked when prunable. */
        private String weight(String name) {
            Parameter q = network.parameter(name);
            return initializer(name, q.shape(), q.prunable() ? masked(q) : q.value().toFloatArray());
        }

        private String scalar(String name, long value) {
            String n = unique(name);
            initializers.add(TensorProto.ofLongs(n, new long[0], new long[] {value}));
            return n;
        }

        private static List<AttributeProto> pool(int k, int s, int p) {
            return List.of(AttributeProto.ofInts("kernel_shape", k, k), AttributeProto.ofInts("strides", s, s), AttributeProto.ofInts("pads", p, p, p, p));
        }

        private String node(String name, String op, List<String> inputs) {
            return node(name, op, inputs, List.of());
        }

        private String node(String name, String op, List<String> inputs, List<AttributeProto> attrs) {
            String out = unique(name);
            nodes.add(new NodeProto(out, op, inputs, List.of(out), attrs));
            return out;
        }

        private String initializer(String name, int[] shape, float[] values) {
            String n = unique(name);
            long[] dims = new long[shape.length];
            for (int i = 0; i < shape.length; i++) dims[i] = shape[i];
            initializers.add(TensorProto.ofFloats(n, dims, values));
            return n;
        }

        private String longs(String name, long[] values) {
            String n = unique(name);
            initializers.add(TensorProto.ofLongs(n, new long[] {values.length}, values));
            return n;
        }

        /** Value names are layer and parameter names; a clash (never in the zoo) gets a suffix rather than a broken graph. */
        private String unique(String name) {
            String n = name;
            for (int i = 1; !names.add(n); i++) n = name + "_" + i;
            return n;
        }

        /** The weight with pruned entries (mask 0) as exact zeros; counts them. */
        private float[] masked(Parameter p) {
            float[] v = p.value().toFloatArray();
            if (p.mask() != null) {
                MemorySegment m = p.mask().segment();
                for (int i = 0; i < v.length; i++) if (m.getAtIndex(F, i) == 0f) v[i] = 0f;
            }
            if (p.prunable()) {
                prunable += v.length;
                for (float f : v) if (f == 0f) zeros++;
            }
            if (v.length != p.size()) throw new IllegalStateException("parameter '" + p.name() + "' " + Shape.str(p.shape()) + " read " + v.length + " values");
            return v;
        }
    }
}
