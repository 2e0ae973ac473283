package dev.shears.nn.graph;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.nn.layers.ActivationMemory;
import dev.shears.nn.layers.Add;
import dev.shears.nn.layers.AvgPool2d;
import dev.shears.nn.layers.BatchNorm2d;
import dev.shears.nn.layers.Clip;
import dev.shears.nn.layers.Concat;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Dropout;
import dev.shears.nn.layers.Flatten;
import dev.shears.nn.layers.GlobalAvgPool;
import dev.shears.nn.layers.Identity;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.MaxPool2d;
import dev.shears.nn.layers.MergeLayer;
import dev.shears.nn.layers.Pad2d;
import dev.shears.nn.layers.Params;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Scale;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A directed acyclic graph of our layers, built from a {@link GraphSpec}: forward runs the nodes in
 * topological order, backward in reverse, summing the gradients of a tensor read by several
 * nodes in a buffer of its own. A layer like any other, so a zoo {@link dev.shears.nn.models.Network}
 * wraps it and the trainer, pruner, checkpoints and sparse inference see an ordinary model.
 * A ReLU works in place only where no one else reads its input or its gradient (else it is an
 * out-of-place clip to [0, inf)). It also answers which prunable weights have a path around them
 * (collapse detection). Not an autograd tape: the node kinds are {@link GraphSpec#OPS}.
 * Pinned by GraphTest (gradient check over fan-out and joins, bypass analysis) and the ONNX import tests.
 */
public final class Graph implements Layer {
    private final String name;
    private final GraphSpec spec;
    private final int[][] shapes;     // per tensor: 0 is the input, 1 + i is node i's output
    private final int[][] reads;      // per node: the tensors it reads
    private final Layer[] layers;     // per node: the layer, or null for a join
    private final MergeLayer[] joins; // per node: the join, or null
    private final int[] uses;         // per tensor: how many node inputs read it
    private final int output;         // the output tensor
    private final boolean[] needsGradient; // per tensor
    private final List<List<Tensor>> joinInputs = new ArrayList<>();
    private final Tensor[] values, gradients, sums;
    private final int[] arrived;      // per tensor: gradient contributions so far in this backward
    private boolean inputGradient = true;
    private int batch = -1;

    public Graph(Params params, String name, GraphSpec spec) {
        this.name = name;
        this.spec = spec;
        List<GraphSpec.Node> nodes = spec.nodes();
        int count = nodes.size();
        java.util.Map<String, Integer> index = new java.util.HashMap<>();
        index.put(GraphSpec.INPUT, 0);
        for (int i = 0; i < count; i++) index.put(nodes.get(i).name(), i + 1);
        shapes = new int[count + 1][];
        shapes[0] = spec.input();
        reads = new int[count][];
        uses = new int[count + 1];
        for (int i = 0; i < count; i++) {
            List<String> in = nodes.get(i).inputs();
            reads[i] = new int[in.size()];
            for (int j = 0; j < in.size(); j++) {
                reads[i][j] = index.get(in.get(j));
                uses[reads[i][j]]++;
            }
        }
        output = index.get(spec.output());
        if (uses[output] != 0) throw new IllegalArgumentException("graph '" + name + "': the output '" + spec.output() + "' is read by other nodes");
        layers = new Layer[count];
        joins = new MergeLayer[count];
        for (int i = 0; i < count; i++) {
            GraphSpec.Node n = nodes.get(i);
            build(params, i, n);
            if (!Arrays.equals(shapes[i + 1], n.shape())) {
                throw new IllegalArgumentException("graph '" + name + "': node '" + n.name() + "' (" + n.op() + ") outputs " + Shape.str(shapes[i + 1])
                        + " but the description says " + Shape.str(n.shape()));
            }
        }
        needsGradient = new boolean[count + 1];
        markGradients();
        values = new Tensor[count + 1];
        gradients = new Tensor[count + 1];
        sums = new Tensor[count + 1];
        arrived = new int[count + 1];
        for (int i = 0; i < count; i++) {
            List<Tensor> slots = joins[i] == null ? null : new ArrayList<>(Collections.nCopies(reads[i].length, (Tensor) null));
            joinInputs.add(slots);
        }
    }

    private void build(Params p, int i, GraphSpec.Node n) {
        String op = n.op();
        int[][] in = new int[reads[i].length][];
        for (int j = 0; j < in.length; j++) in[j] = shapes[reads[i][j]];
        int arity = switch (op) {
            case "add", "concat" -> -2;
            default -> 1;
        };
        if (arity == 1 && in.length != 1 || arity == -2 && in.length < 2) {
            throw new IllegalArgumentException("graph node '" + n.name() + "' (" + op + ") has " + in.length + " inputs, expected " + (arity == 1 ? "1" : "2 or more"));
        }
        int[] x = in[0];
        try {
            switch (op) {
                case "conv" -> layers[i] = new Conv2d(p, n.name(), x, n.intAttribute("out"), n.intAttribute("kernel"), n.intAttribute("stride"),
                        n.intAttribute("padding"), n.intAttribute("groups"), n.booleanAttribute("bias"));
                case "batchnorm" -> layers[i] = new BatchNorm2d(p, n.name(), x, n.floatAttribute("eps"), n.floatAttribute("momentum"));
                case "relu" -> layers[i] = reluInPlace(i) ? new ReLU(n.name(), x) : new Clip(n.name(), x, 0f, Float.POSITIVE_INFINITY);
                case "clip" -> layers[i] = new Clip(n.name(), x, n.floatAttribute("min"), n.floatAttribute("max"));
                case "scale" -> layers[i] = new Scale(n.name(), x, n.floatAttribute("factor"));
                case "maxpool" -> layers[i] = new MaxPool2d(n.name(), x, n.intAttribute("kernel"), n.intAttribute("stride"), n.intAttribute("padding"));
                case "avgpool" -> layers[i] = new AvgPool2d(n.name(), x, n.intAttribute("kernel"), n.intAttribute("stride"), n.intAttribute("padding"));
                case "globalavgpool" -> layers[i] = new GlobalAvgPool(n.name(), x);
                case "flatten" -> layers[i] = new Flatten(n.name(), x);
                case "linear" -> {
                    if (x.length != 1) throw new IllegalArgumentException("graph node '" + n.name() + "' (linear) reads " + Shape.str(x) + ", not (features)");
                    layers[i] = new Linear(p, n.name(), x[0], n.intAttribute("out"), n.booleanAttribute("bias"));
                }
                case "pad" -> layers[i] = new Pad2d(n.name(), x, optional(n, "front"), optional(n, "back"), n.intAttribute("top"), n.intAttribute("bottom"),
                        n.intAttribute("left"), n.intAttribute("right"));
                case "identity" -> layers[i] = new Identity(n.name(), x);
                case "dropout" -> layers[i] = new Dropout(n.name(), x, n.floatAttribute("p"), 0);
                case "add" -> joins[i] = new Add(n.name(), Arrays.asList(in));
                case "concat" -> joins[i] = new Concat(n.name(), Arrays.asList(in));
                default -> throw new IllegalArgumentException("graph node '" + n.name() + "': unknown op '" + op + "'");
            }
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            throw new IllegalArgumentException(m != null && m.contains("'" + n.name() + "'") ? m : "graph node '" + n.name() + "' (" + op + "): " + m, e);
        }
        shapes[i + 1] = layers[i] != null ? layers[i].outputShape() : joins[i].outputShape();
    }

    /** Ops whose layer returns a fresh buffer that its backward never reads (Layer.ownsOutput, and the joins). */
    private static final Set<String> FRESH_OUTPUT = Set.of("conv", "batchnorm", "linear", "clip", "scale", "pad", "add", "concat");
    /**
     * Ops whose backward returns a dx no one else reads (Layer.ownsInputGradient; concat's slices;
     * a relu reading a relu, which is never in place and so is a clip).
     */
    private static final Set<String> PRIVATE_INPUT_GRADIENT = Set.of("conv", "batchnorm", "linear", "clip", "scale", "pad", "concat", "relu");

    private static int optional(GraphSpec.Node n, String key) {
        return n.attributes().containsKey(key) ? n.intAttribute(key) : 0;
    }

    /**
     * A ReLU may overwrite its input and its incoming gradient only when nobody else reads either:
     * its input is a fresh buffer of the node before it (no other reader, not the graph input),
     * and its output's gradient is private (summed by the graph, or a buffer its single reader owns).
     */
    private boolean reluInPlace(int i) {
        List<GraphSpec.Node> nodes = spec.nodes();
        int t = reads[i][0];
        if (t == 0 || uses[t] != 1 || !FRESH_OUTPUT.contains(nodes.get(t - 1).op())) return false;
        int u = i + 1;
        if (u == output) return false;
        if (uses[u] > 1) return true;
        for (int c = i + 1; c < reads.length; c++) {
            for (int r : reads[c]) if (r == u) return PRIVATE_INPUT_GRADIENT.contains(nodes.get(c).op());
        }
        return false;
    }

    /** Which tensors a gradient flows into: those downstream of a parameter or of an input that needs one. */
    private void markGradients() {
        needsGradient[0] = inputGradient;
        for (int i = 0; i < reads.length; i++) {
            boolean any = hasParameters(i);
            for (int r : reads[i]) any |= needsGradient[r];
            needsGradient[i + 1] = any;
        }
    }

    private boolean hasParameters(int i) {
        Layer l = layers[i];
        return l instanceof Conv2d || l instanceof Linear || l instanceof BatchNorm2d;
    }

    /** The description this graph was built from. */
    public GraphSpec spec() { return spec; }

    /** The layers of the single-input nodes, in topological order (joins hold no parameters). */
    public List<Layer> layers() {
        List<Layer> out = new ArrayList<>();
        for (Layer l : layers) if (l != null) out.add(l);
        return out;
    }

    /** The joins (add, concat), in topological order. */
    public List<MergeLayer> joins() {
        List<MergeLayer> out = new ArrayList<>();
        for (MergeLayer m : joins) if (m != null) out.add(m);
        return out;
    }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return shapes[0].clone(); }
    @Override public int[] outputShape() { return shapes[output].clone(); }

    @Override
    public void skipInputGradient() {
        inputGradient = false;
        markGradients();
        for (int i = 0; i < reads.length; i++) {
            if (layers[i] != null && !needsGradient[reads[i][0]]) layers[i].skipInputGradient();
        }
    }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        for (int i = 0; i < reads.length; i++) {
            if (layers[i] != null) layers[i].allocate(acts, batch);
            else joins[i].allocate(acts, batch);
        }
        for (int t = 0; t < shapes.length; t++) {
            sums[t] = uses[t] > 1 && needsGradient[t] ? acts.floats(name + ".gradient_sum." + t, prepend(batch, shapes[t])) : null;
        }
    }

    // x: (N, input...) -> (N, output...), the nodes in topological order
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int[] s = x.shape();
        if (s.length != shapes[0].length + 1 || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), shapes[0])) {
            throw new IllegalArgumentException("graph '" + name + "' expects (N, " + Shape.str(shapes[0]).substring(1) + " but got " + Shape.str(s));
        }
        if (s[0] != batch) throw new IllegalStateException("graph '" + name + "' was allocated for batch " + batch + " but got batch " + s[0]);
        values[0] = x;
        for (int i = 0; i < reads.length; i++) {
            if (layers[i] != null) {
                values[i + 1] = layers[i].forward(values[reads[i][0]], training);
            } else {
                List<Tensor> in = joinInputs.get(i);
                for (int j = 0; j < reads[i].length; j++) in.set(j, values[reads[i][j]]);
                values[i + 1] = joins[i].forward(in, training);
            }
        }
        Tensor y = values[output];
        Arrays.fill(values, null); // no references kept past the call
        return y;
    }

    // dy: (N, output...) -> dx (N, input...) or null; each node's dx summed into the tensors it read
    @Override
    public Tensor backward(Tensor dy) {
        Arrays.fill(gradients, null);
        Arrays.fill(arrived, 0);
        gradients[output] = dy;
        for (int i = reads.length - 1; i >= 0; i--) {
            Tensor g = gradients[i + 1];
            if (g == null || !needsGradient[i + 1]) continue; // nothing downstream of this node reached the output
            if (layers[i] != null) {
                Tensor dx = layers[i].backward(g);
                if (dx != null) arrive(reads[i][0], dx);
            } else {
                List<Tensor> dxs = joins[i].backward(g);
                for (int j = 0; j < reads[i].length; j++) arrive(reads[i][j], dxs.get(j));
            }
        }
        Tensor dx = inputGradient ? gradients[0] : null;
        Arrays.fill(gradients, null);
        return dx;
    }

    /** One reader's gradient for tensor t: kept as is when t has one reader, else summed in t's own buffer. */
    private void arrive(int t, Tensor g) {
        if (!needsGradient[t]) return;
        if (uses[t] == 1) {
            gradients[t] = g;
            return;
        }
        Tensor sum = sums[t];
        int n = Math.toIntExact(sum.size());
        if (arrived[t]++ == 0) Elementwise.copy(g.segment(), 0, sum.segment(), 0, n);
        else Elementwise.addInPlace(sum.segment(), 0, g.segment(), 0, n);
        gradients[t] = sum;
    }

    // ---------------------------------------------------------------- paths around prunable layers

    /**
     * Names of the prunable weights (conv and linear) with a live path around them: a join one of
     * whose inputs comes through the layer while another comes from upstream of the layer without
     * crossing it or any layer {@code dead} accepts (empty conv/linear layers). Local, as a residual
     * block's verdict: a dead layer further up does not make every layer below fatal.
     */
    public Set<String> weightsWithLivePathAround(Predicate<Layer> dead) {
        return weightsWithPathAround(l -> l != null && dead.test(l));
    }

    /**
     * Names of the prunable weights with an identity path around them: as
     * {@link #weightsWithLivePathAround} where every layer holding a prunable weight cuts the path
     * (a residual block whose shortcut is the identity, a zero pad or a pool; not a shortcut
     * convolution).
     */
    public Set<String> weightsWithIdentityPathAround() {
        return weightsWithPathAround(l -> prunableWeight(l) != null);
    }

    private Set<String> weightsWithPathAround(Predicate<Layer> cut) {
        int count = reads.length;
        Set<String> out = new LinkedHashSet<>();
        for (int skip = 0; skip < count; skip++) {
            String w = prunableWeight(layers[skip]);
            if (w == null) continue;
            boolean[] around = ancestors(reads[skip][0]); // upstream of the layer: where a path around it may start
            for (int i = 0; i < count; i++) {
                if (i == skip || (layers[i] != null && cut.test(layers[i]))) continue;
                for (int r : reads[i]) around[i + 1] |= around[r];
            }
            boolean[] through = new boolean[count + 1]; // downstream of the layer
            through[skip + 1] = true;
            for (int i = skip + 1; i < count; i++) for (int r : reads[i]) through[i + 1] |= through[r];
            search:
            for (int j = 0; j < count; j++) {
                if (joins[j] == null) continue;
                for (int a = 0; a < reads[j].length; a++) {
                    for (int b = 0; b < reads[j].length; b++) {
                        if (a != b && through[reads[j][a]] && around[reads[j][b]]) {
                            out.add(w);
                            break search;
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Tensors from which t is reached (t included). */
    private boolean[] ancestors(int t) {
        boolean[] mark = new boolean[shapes.length];
        mark[t] = true;
        for (int i = reads.length - 1; i >= 0; i--) {
            if (!mark[i + 1]) continue;
            for (int r : reads[i]) mark[r] = true;
        }
        return mark;
    }

    private static String prunableWeight(Layer l) {
        if (l instanceof Conv2d c) return c.weight().name();
        if (l instanceof Linear li) return li.weight().name();
        return null;
    }

    private static int[] prepend(int n, int[] s) {
        int[] out = new int[s.length + 1];
        out[0] = n;
        System.arraycopy(s, 0, out, 1, s.length);
        return out;
    }
}
