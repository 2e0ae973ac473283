package dev.shears.nn;

import dev.shears.engine.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A network as the trainer, the pruner and the exporter see it: parameters in a fixed order
 * (PyTorch state_dict names), buffers (batch-norm running statistics), a forward/backward pair
 * over a batch, and the spec that rebuilds it. Layers are the model's own business.
 */
public interface Model extends AutoCloseable {
    /** The zoo name and options that rebuild this model, e.g. {name=resnet20, classes=10, channels=1, size=28}. */
    Map<String, String> spec();

    /** Every trainable parameter, in a fixed order. */
    List<Parameter> parameters();

    /** Non-trainable state saved in checkpoints (running means and variances), by state_dict name. */
    Map<String, Tensor> buffers();

    /** logits (N, classes) for x (N, C, H, W) or (N, T, F); the result is owned by the model and reused. */
    Tensor forward(Tensor x, boolean training);

    /** Accumulates parameter gradients for dLogits (N, classes) of the last forward; returns nothing. */
    void backward(Tensor dLogits);

    /** Zeroes every parameter's gradient (backward accumulates). */
    default void zeroGrad() {
        for (Parameter p : parameters()) p.grad().zero();
    }

    /** Dense multiply-accumulates of one sample through the prunable (conv and linear) weights. */
    default long macs() {
        long m = 0;
        for (Parameter p : parameters()) m += p.macs();
        return m;
    }

    /** The parameter called {@code name}; the error lists a few valid names. */
    default Parameter parameter(String name) {
        for (Parameter p : parameters()) if (p.name().equals(name)) return p;
        throw new IllegalArgumentException("no parameter '" + name + "'; the model has " + parameters().size() + " parameters, e.g. "
                + parameters().stream().limit(5).map(Parameter::name).toList());
    }

    @Override
    void close();
}
