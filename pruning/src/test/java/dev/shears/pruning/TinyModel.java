package dev.shears.pruning;

import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.ActivationMemory;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.Params;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Sequential;
import dev.shears.nn.layers.Flatten;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * A test model from any layer tree (not a zoo model, so no bypass knowledge): an MLP or a deep
 * linear chain small enough for brute-force references in double. Input (N, C, H, W).
 */
final class TinyModel implements Model {
    private final Workspace memory = new Workspace("tiny");
    private final Params params;
    private final Layer root;
    private final int[] in;
    private ActivationMemory acts;
    private int batch = -1;

    TinyModel(long seed, int[] inShape, BiFunction<Params, int[], Layer> build) {
        this.params = new Params(memory, seed);
        this.in = inShape.clone();
        this.root = build.apply(params, inShape);
        root.skipInputGradient();
    }

    /** Flatten -> Linear(f, hidden, bias) -> ReLU -> Linear(hidden, classes, bias). */
    static TinyModel mlp(long seed, int features, int hidden, int classes) {
        return new TinyModel(seed, new int[] {features, 1, 1}, (p, s) -> new Sequential("mlp", List.of(
                new Flatten("flat", s), new Linear(p, "fc1", features, hidden, true), new ReLU("relu", new int[] {hidden}),
                new Linear(p, "fc2", hidden, classes, true))));
    }

    /** Flatten -> {@code depth} linear layers of width w (biases), ReLU between. */
    static TinyModel chain(long seed, int width, int depth) {
        return new TinyModel(seed, new int[] {width, 1, 1}, (p, s) -> {
            List<Layer> layers = new ArrayList<>();
            layers.add(new Flatten("flat", s));
            for (int l = 0; l < depth; l++) {
                layers.add(new Linear(p, "fc" + l, width, width, true));
                if (l < depth - 1) layers.add(new ReLU("relu" + l, new int[] {width}));
            }
            return new Sequential("chain", layers);
        });
    }

    @Override
    public Map<String, String> spec() {
        return Map.of("model", "tiny", "channels", Integer.toString(in[0]), "height", Integer.toString(in[1]), "width", Integer.toString(in[2]));
    }

    @Override
    public List<Parameter> parameters() {
        return params.parameters();
    }

    @Override
    public Map<String, Tensor> buffers() {
        return params.buffers();
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (x.dim(0) != batch) {
            if (acts != null) acts.close();
            acts = new ActivationMemory("tiny.acts");
            root.allocate(acts, x.dim(0));
            acts.finish();
            batch = x.dim(0);
        }
        return root.forward(x, training);
    }

    @Override
    public void backward(Tensor dLogits) {
        root.backward(dLogits);
    }

    @Override
    public void close() {
        if (acts != null) acts.close();
        memory.close();
    }
}
