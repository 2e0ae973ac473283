package dev.shears.nn.optim;

import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with momentum, dampening, Nesterov and L2 weight decay, PyTorch's {@code torch.optim.SGD}
 * formulas in float32: {@code g = grad + wd*w; b = g} on the first step, else
 * {@code b = mu*b + (1-dampening)*g}; {@code g = nesterov ? g + mu*b : b; w -= lr*g}; then pruned
 * weights are set to exactly zero. The arithmetic is the engine's fused kernel
 * ({@link Elementwise#sgdMomentum}); elementwise, so splitting over threads never changes a bit.
 * Pinned by OptimizerTest (against a double-precision reference of the same formulas).
 */
final class Sgd implements Optimizer {
    private final List<Parameter> params;
    private final OptimizerConfig config;
    private final Tensor[] buffers; // momentum_buffer per parameter, same shape; null when momentum == 0
    private final boolean[] decay;  // weight decay applies to parameter i
    private long steps;

    Sgd(List<Parameter> params, OptimizerConfig config, Workspace ws) {
        this.params = List.copyOf(params);
        this.config = config;
        this.buffers = new Tensor[this.params.size()];
        this.decay = new boolean[this.params.size()];
        for (int i = 0; i < buffers.length; i++) {
            Parameter p = this.params.get(i);
            if (config.momentum() != 0) buffers[i] = ws.floats("optim." + p.name() + ".momentum_buffer", p.shape());
            decay[i] = config.weightDecay() != 0 && (config.decayNormAndBias() || !Decay.isNormOrBias(p));
        }
    }

    @Override
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        final float lrF = (float) lr, wd = (float) config.weightDecay(), mu = (float) config.momentum();
        final float damp = (float) config.dampening();
        final boolean first = steps == 0, maskGrad = config.maskGradients();
        for (int pi = 0; pi < params.size(); pi++) {
            Parameter p = params.get(pi);
            int n = Math.toIntExact(p.size());
            MemorySegment w = p.value().segment(), g = p.grad().segment();
            MemorySegment b = buffers[pi] == null ? MemorySegment.NULL : buffers[pi].segment();
            MemorySegment m = p.mask() == null ? null : p.mask().segment();
            if (m != null && maskGrad) Elementwise.maskMultiply(g, 0, m, 0, n);
            Elementwise.sgdMomentum(w, 0, g, 0, b, 0, n, lrF, mu, decay[pi] ? wd : 0f, config.nesterov(), damp, first);
            if (m != null) {
                if (maskGrad && buffers[pi] != null) Elementwise.maskMultiply(b, 0, m, 0, n);
                p.applyMask(); // pruned weights back to exactly +0 (a multiply would leave -0 for negative weights)
            }
        }
        steps++;
    }

    @Override
    public void zeroGrad() {
        for (Parameter p : params) p.grad().zero();
    }

    @Override
    public List<Parameter> parameters() { return params; }

    @Override
    public long steps() { return steps; }

    @Override
    public void setSteps(long steps) {
        if (steps < 0) throw new IllegalArgumentException("optimizer step count must be >= 0, got " + steps);
        this.steps = steps;
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            if (buffers[i] != null) s.put(params.get(i).name() + ".momentum_buffer", buffers[i]);
        }
        return s;
    }

    @Override
    public OptimizerConfig config() { return config; }
}
