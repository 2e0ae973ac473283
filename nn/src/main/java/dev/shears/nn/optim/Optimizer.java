package dev.shears.nn.optim;

import dev.shears.engine.Tensor;
import dev.shears.nn.Parameter;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients, PyTorch's formulas, then re-applies each
 * parameter's mask so pruned weights are exactly zero after every step (the paper's semantics).
 * State (momentum, Adam moments) lives in tensors exposed by {@link #state()} so a checkpoint can
 * save and restore it by name. Not thread-safe; one optimizer per model. Pinned by OptimizerTest.
 */
public interface Optimizer {
    /** One update of every parameter with learning rate {@code lr}; masks re-applied afterwards. */
    void step(double lr);

    /** Sets every gradient to zero (layers accumulate into them). */
    void zeroGrad();

    List<Parameter> parameters();

    /** Steps taken so far (Adam's bias correction and SGD's first-step buffer depend on it). */
    long steps();

    /** Restores the step count (with {@link #state()} tensors filled from a checkpoint). */
    void setSteps(long steps);

    /**
     * The live state tensors by key {@code <param name>.<slot>} with PyTorch's slot names
     * ({@code momentum_buffer}, {@code exp_avg}, {@code exp_avg_sq}); a checkpoint copies into them.
     */
    Map<String, Tensor> state();

    /** The configuration this optimizer runs with. */
    OptimizerConfig config();
}
