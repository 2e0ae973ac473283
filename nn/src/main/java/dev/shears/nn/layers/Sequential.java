package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Layers run one after another; backward runs them in reverse. Checks at construction that each
 * layer's input shape is the previous one's output shape (the error names both layers).
 * Pinned by NetworkTest and the golden tests.
 */
public final class Sequential implements Layer {
    private final String name;
    private final List<Layer> layers;

    public Sequential(String name, List<Layer> layers) {
        if (layers.isEmpty()) throw new IllegalArgumentException("sequential '" + name + "' has no layers");
        for (int i = 1; i < layers.size(); i++) {
            Layer a = layers.get(i - 1), b = layers.get(i);
            if (!Arrays.equals(a.outputShape(), b.inputShape())) {
                throw new IllegalArgumentException("in '" + name + "', layer '" + a.name() + "' outputs " + Shape.str(a.outputShape())
                        + " but the next layer '" + b.name() + "' expects " + Shape.str(b.inputShape()));
            }
            if (b.overwritesInput() && a.overwritesInput()) {
                throw new IllegalArgumentException("in '" + name + "', in-place layer '" + b.name() + "' follows in-place layer '" + a.name() + "'");
            }
        }
        this.name = name;
        this.layers = List.copyOf(layers);
        markPrivateGradients(false);
    }

    /**
     * Tells each layer whether the dy it receives is private: the next layer returns a private dx,
     * or passes through a dy that is itself private; the last layer's dy comes from outside and
     * is private only when this sequence was told so.
     */
    private void markPrivateGradients(boolean incomingPrivate) {
        boolean priv = incomingPrivate;
        for (int i = layers.size() - 1; i >= 0; i--) {
            if (priv) layers.get(i).receivesPrivateGradient();
            Layer l = layers.get(i);
            priv = l.ownsInputGradient() || (l.passesGradientThrough() && priv);
        }
    }

    @Override
    public void receivesPrivateGradient() {
        markPrivateGradients(true);
    }

    public List<Layer> layers() { return Collections.unmodifiableList(layers); }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return layers.getFirst().inputShape(); }
    @Override public int[] outputShape() { return layers.getLast().outputShape(); }
    @Override public void skipInputGradient() { layers.getFirst().skipInputGradient(); }
    @Override public boolean overwritesGradient() { return layers.getLast().overwritesGradient(); }
    @Override public boolean overwritesInput() { return layers.getFirst().overwritesInput(); }
    @Override public boolean ownsOutput() { return layers.getLast().ownsOutput(); }
    @Override public boolean ownsInputGradient() { return layers.getFirst().ownsInputGradient(); }
    @Override public boolean passesGradientThrough() { return layers.stream().allMatch(Layer::passesGradientThrough); }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        for (Layer l : layers) l.allocate(acts, batch);
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        for (Layer l : layers) x = l.forward(x, training);
        return x;
    }

    @Override
    public Tensor backward(Tensor dy) {
        for (int i = layers.size() - 1; i >= 0 && dy != null; i--) dy = layers.get(i).backward(dy);
        return dy;
    }

    /** A builder that chains shapes: each added layer is made from the current output shape. */
    public static final class Builder {
        private final String name;
        private final List<Layer> layers = new ArrayList<>();
        private int[] shape;

        public Builder(String name, int[] inputShape) {
            this.name = name;
            this.shape = inputShape.clone();
        }

        /** The current output shape (what the next layer receives). */
        public int[] shape() { return shape.clone(); }

        public Builder add(Layer layer) {
            if (!Arrays.equals(layer.inputShape(), shape)) {
                throw new IllegalArgumentException("in '" + name + "', layer '" + layer.name() + "' expects " + Shape.str(layer.inputShape())
                        + " but receives " + Shape.str(shape));
            }
            layers.add(layer);
            shape = layer.outputShape();
            return this;
        }

        public Builder add(java.util.function.Function<int[], Layer> make) {
            return add(make.apply(shape.clone()));
        }

        public Sequential build() { return new Sequential(name, layers); }
    }
}
