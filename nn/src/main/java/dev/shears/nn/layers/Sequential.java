package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Layers run one after another; backward runs them in reverse. Checks at construction that each
 * layer's input shape is the previous one's output shape (the error names both layers). Runs a
 * batch norm or a residual join together with the ReLU after it (see {@link #planFusion}) and,
 * inside a network that shares input gradients, gives each layer's dx a shared buffer (see
 * {@link ActivationMemory}). Pinned by NetworkTest, BatchNormReluTest and the golden tests.
 */
public final class Sequential implements Layer {
    private final String name;
    private final List<Layer> layers;
    /** Per position: how forward runs the layer (a batch norm or a residual join may take the ReLU after it). */
    private final Step[] forwardSteps;
    /** Per position: backward skips this ReLU because its mask runs inside the batch norm before it or the join after it. */
    private final boolean[] backwardInNeighbour;

    private enum Step { ALONE, WITH_RELU, ABSORBED }

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
        this.forwardSteps = new Step[layers.size()];
        this.backwardInNeighbour = new boolean[layers.size()];
        if (!"off".equals(System.getProperty("shears.fuse"))) planFusion();
        else java.util.Arrays.fill(forwardSteps, Step.ALONE);
        markPrivateGradients(false);
    }

    /**
     * Fusion leaves the layer list (names, parameters, export, reports) as described and only
     * changes how the pairs run: BatchNorm2d then ReLU runs as one normalise-ReLU pass forward
     * and one masked backward; a Residual then ReLU adds and rectifies in one pass; the backward
     * of a ReLU not after a batch norm runs inside the gradient add of a Residual right after it.
     * {@code -Dshears.fuse=off} (read when a Sequential is built) runs every layer alone: a
     * diagnostic and benchmark switch, same results within float rounding.
     */
    private void planFusion() {
        java.util.Arrays.fill(forwardSteps, Step.ALONE);
        for (int i = 0; i + 1 < layers.size(); i++) {
            if (!(layers.get(i + 1) instanceof ReLU)) continue;
            Layer l = layers.get(i);
            if (l instanceof BatchNorm2d || l instanceof Residual) {
                forwardSteps[i] = Step.WITH_RELU;
                forwardSteps[i + 1] = Step.ABSORBED;
                backwardInNeighbour[i + 1] = l instanceof BatchNorm2d;
            }
            if (!backwardInNeighbour[i + 1] && i + 2 < layers.size() && layers.get(i + 2) instanceof Residual join) {
                join.maskInputGradient();
                backwardInNeighbour[i + 1] = true;
            }
            i++; // a ReLU pairs once
        }
        if (layers.getFirst() instanceof ReLU && layers.size() > 1 && layers.get(1) instanceof Residual join) {
            join.maskInputGradient();
            backwardInNeighbour[0] = true;
        }
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
        ActivationMemory.Scope scope = acts.scope(this);
        if (scope == null) {
            for (Layer l : layers) l.allocate(acts, batch);
            return;
        }
        // shared input gradients: in backward order, each dx avoids the dy it is computed from
        int colour = scope.incoming();
        for (int i = layers.size() - 1; i >= 0; i--) colour = acts.allocateChild(layers.get(i), batch, colour, scope.held());
        scope.returns(colour);
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            switch (forwardSteps[i]) {
                case ALONE -> x = l.forward(x, training);
                case WITH_RELU -> {
                    x = l instanceof BatchNorm2d bn ? bn.forwardRelu(x, training) : ((Residual) l).forwardRelu(x, training);
                    ((ReLU) layers.get(i + 1)).rememberOutput(x);
                }
                case ABSORBED -> { } // ran inside the layer before
            }
        }
        return x;
    }

    @Override
    public Tensor backward(Tensor dy) {
        for (int i = layers.size() - 1; i >= 0 && dy != null; i--) {
            if (backwardInNeighbour[i]) continue; // this ReLU's mask runs in the layer before or after
            Layer l = layers.get(i);
            dy = forwardSteps[i] == Step.WITH_RELU && l instanceof BatchNorm2d bn ? bn.backwardRelu(dy) : l.backward(dy);
        }
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
