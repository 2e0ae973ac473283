package dev.shears.nn.models;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.graph.Graph;
import dev.shears.nn.layers.ActivationMemory;
import dev.shears.nn.layers.Dropout;
import dev.shears.nn.layers.GlobalAvgPool;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Params;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;
import dev.shears.nn.train.Seeded;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A zoo model: a layer tree, the workspace of its parameters, and activation memory sized at the
 * first forward for the batch size, kept for the two most recent batch sizes (training and
 * evaluation batches alternate without reallocating), so a training step allocates nothing
 * after its first run. Pinned by NetworkTest,
 * ModelZooTest and the golden tests.
 */
public final class Network implements Model, Seeded {
    private final Map<String, String> spec;
    private final Workspace parameterMemory;
    private final Params params;
    private final Layer root;
    private final int[] inputShape; // (C, H, W)
    private final int classes;
    /** Activation memories by batch size, least recently used first; at most {@link #KEPT_BATCH_SIZES}. */
    private final java.util.LinkedHashMap<Integer, ActivationMemory> memories = new java.util.LinkedHashMap<>(4, 0.75f, true);
    private static final int KEPT_BATCH_SIZES = 2;
    private ActivationMemory activations;
    private int batch = -1;
    private FusedInference fused;  // eval forward at its batch, or null (set by SparseInference)
    private boolean fusedOn = true;
    /** Input gradients share a few buffers (ActivationMemory); {@code -Dshears.sharedGradients=off} (read at construction) keeps one per layer. */
    private boolean sharedGradients = !"off".equals(System.getProperty("shears.sharedGradients"));
    private String fusedNote = "fused inference: not compiled";

    Network(Map<String, String> spec, Workspace parameterMemory, Params params, Layer root) {
        this.spec = Map.copyOf(spec);
        this.parameterMemory = parameterMemory;
        this.params = params;
        this.root = root;
        this.inputShape = root.inputShape();
        int[] out = root.outputShape();
        if (out.length != 1) throw new IllegalArgumentException("model '" + spec.get("model") + "' ends in " + Shape.str(out) + ", not (classes)");
        this.classes = out[0];
        java.util.Set<String> names = new java.util.HashSet<>();
        walk(root, l -> {
            if (!names.add(l.name())) throw new IllegalArgumentException("model '" + spec.get("model") + "' has two layers named '" + l.name() + "'");
        });
        root.skipInputGradient();
    }

    @Override public Map<String, String> spec() { return spec; }
    @Override public List<Parameter> parameters() { return params.parameters(); }
    @Override public Map<String, Tensor> buffers() { return params.buffers(); }

    /** Per-sample input shape (C, H, W). */
    public int[] inputShape() { return inputShape.clone(); }

    public int classes() { return classes; }

    /** The layer tree (for inspection: pruning reports, tests). */
    public Layer root() { return root; }

    /** Every layer in forward order, containers included, depth first. */
    public List<Layer> layers() {
        List<Layer> all = new ArrayList<>();
        walk(root, all::add);
        return all;
    }

    /** Visits a layer and everything inside it (Sequential children, Residual branches, a graph's nodes). */
    public static void walk(Layer layer, Consumer<Layer> visit) {
        visit.accept(layer);
        if (layer instanceof Sequential s) for (Layer l : s.layers()) walk(l, visit);
        if (layer instanceof Graph g) for (Layer l : g.layers()) walk(l, visit);
        if (layer instanceof Residual r) {
            walk(r.main(), visit);
            if (r.shortcut() != null) walk(r.shortcut(), visit);
        }
    }

    /** Restarts every dropout layer's mask stream as a function of (seed, epoch, layer position). */
    @Override
    public void reseed(long seed, int epoch) {
        long[] index = {0};
        walk(root, l -> {
            if (l instanceof Dropout d) d.reseed(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + index[0]++);
        });
    }

    /** Dense MACs of the global average pools per sample (counted by STR, never pruned). */
    public long poolMacs() {
        long[] m = {0};
        walk(root, l -> {
            if (l instanceof GlobalAvgPool g) m[0] += g.macs();
        });
        return m[0];
    }

    /** Bytes of activation memory for the current batch size (0 before the first forward). */
    public long activationBytes() {
        return activations == null ? 0 : activations.bytes();
    }

    /** Bytes of parameter memory (values, gradients, masks, buffers). */
    public long parameterBytes() {
        return parameterMemory.bytes();
    }

    // x: (N, C, H, W) -> logits (N, classes)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int[] s = x.shape();
        boolean ok = s.length == inputShape.length + 1 && s[0] > 0;
        for (int i = 0; ok && i < inputShape.length; i++) ok = s[i + 1] == inputShape[i];
        if (!ok) {
            throw new IllegalArgumentException("model '" + spec.get("model") + "' expects input (N, " + Shape.str(inputShape).substring(1)
                    + " but got " + Shape.str(s));
        }
        if (!training && fused != null && fusedOn && s[0] == fused.batch()) return fused.forward(x);
        if (s[0] != batch) bind(s[0]);
        return root.forward(x, training);
    }

    /**
     * Points every layer at the activation memory of batch size n: the one kept from before (no
     * allocation) or a new one; keeps the two most recent sizes (say training and evaluation).
     */
    private void bind(int n) {
        ActivationMemory mem = memories.get(n);
        if (mem == null) {
            mem = new ActivationMemory(spec.get("model") + ".activations." + n);
            memories.put(n, mem);
            while (memories.size() > KEPT_BATCH_SIZES) {
                var eldest = memories.entrySet().iterator().next();
                eldest.getValue().close();
                memories.remove(eldest.getKey());
            }
        }
        if (sharedGradients) {
            long[] largest = {0}; // the largest per-sample input of any layer: no dx is bigger
            walk(root, l -> largest[0] = Math.max(largest[0], dev.shears.engine.Shape.size(l.inputShape())));
            mem.shareInputGradients(root, largest[0] * n);
        }
        root.allocate(mem, n);
        mem.finish();
        activations = mem;
        batch = n;
    }

    // dLogits: (N, classes) -> parameter gradients accumulated
    @Override
    public void backward(Tensor dLogits) {
        if (dLogits.rank() != 2 || dLogits.dim(0) != batch || dLogits.dim(1) != classes) {
            throw new IllegalArgumentException("model '" + spec.get("model") + "': backward expects dLogits (" + batch + ", " + classes
                    + ") of the last forward, got " + Shape.str(dLogits.shape()));
        }
        root.backward(dLogits);
    }

    /** Installs (or with null removes) the fused eval path; the old one is closed. */
    void useFused(FusedInference f, String note) {
        if (fused != null && fused != f) fused.close();
        fused = f;
        fusedNote = note;
    }

    /** Private input-gradient buffers per layer instead of shared ones (tests compare both); before the first forward. */
    void privateGradients() {
        if (batch != -1) throw new IllegalStateException("model '" + spec.get("model") + "': gradient buffers are chosen before the first forward");
        sharedGradients = false;
    }

    /** Switches an installed fused path off and on (benchmarks time both paths of one model). */
    void fusedOn(boolean on) { fusedOn = on; }

    boolean hasFused() { return fused != null; }

    String fusedNote() { return fusedNote; }

    String fusedProfile(Tensor x, int reps) { return fused == null ? "  (no fused path)\n" : fused.profile(x, reps); }

    @Override
    public void close() {
        if (fused != null) fused.close();
        fused = null;
        memories.values().forEach(ActivationMemory::close);
        memories.clear();
        parameterMemory.close();
    }
}
