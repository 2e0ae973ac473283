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
 * (BatchNormFolding, the fused path's arithmetic). Dropout is left out (an inference no-op); the
 * recurrent models (fastgrnn, gru) are refused by name. Not an importer. Pinned by OnnxExportTest
 * (ONNX Runtime's logits equal ours for every CNN family, dense and 90% sparse, batch 1 and 8).
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
     * What was written: node and initializer counts, batch norms kept as nodes and folded,
     * prunable weights and how many of them are zero.
     */
    public record Summary(int nodes, int initializers, int batchNormNodes, int foldedBatchNorms, long prunableWeights, long zeroWeights) {}

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
        String name = model.spec().getOrDefault("model", model.getClass().getSimpleName());
        if (name.equals("fastgrnn") || name.equals("gru")) {
            throw new IllegalArgumentException("ONNX export: model '" + name + "' is recurrent; the recurrent models fastgrnn and gru are not supported "
                    + "(the CNN zoo is: lenet5, resnet20..110, wrn-D-K, mobilenet-v1, mobilenet-v2-cifar, resnet50)");
        }
        if (!(model instanceof Network n)) {
            throw new IllegalArgumentException("ONNX export: model '" + name + "' (" + model.getClass().getSimpleName() + ") is not a zoo network");
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
            return new Summary(m.graph().node().size(), m.graph().initializer().size(), batchNormNodes, folded, prunable, zeros);
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
                default -> {
                    String kind = l.getClass().getSimpleName();
                    if (kind.equals("FastGrnn") || kind.equals("Gru")) {
                        throw new IllegalArgumentException("ONNX export: layer '" + l.name() + "' (" + kind + ") is recurrent; the recurrent models fastgrnn and gru are not supported");
                    }
                    throw new IllegalArgumentException("ONNX export: layer '" + l.name() + "' (" + kind + ") has no ONNX form; exported layers are Conv2d, "
                            + "BatchNorm2d, ReLU, Dropout, Linear, MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten, Residual, ZeroPadShortcut, Sequential");
                }
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
