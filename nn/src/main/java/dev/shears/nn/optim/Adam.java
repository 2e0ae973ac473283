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
 * Adam (and AdamW when decoupled), PyTorch's {@code torch.optim.Adam} formulas in float32:
 * {@code g = grad + wd*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 * w -= (lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)}; AdamW instead scales {@code w *= 1-lr*wd}
 * first. Pruned weights are set to exactly zero after the update. No amsgrad. The arithmetic is
 * the engine's fused kernel ({@link Elementwise#adam}).
 * Pinned by OptimizerTest (against a double-precision reference of the same formulas).
 */
final class Adam implements Optimizer {
    private final List<Parameter> params;
    private final OptimizerConfig config;
    private final Tensor[] expAvg, expAvgSq; // per parameter, same shape as the parameter
    private final boolean[] decay;
    private long steps;

    Adam(List<Parameter> params, OptimizerConfig config, Workspace ws) {
        this.params = List.copyOf(params);
        this.config = config;
        int n = this.params.size();
        this.expAvg = new Tensor[n];
        this.expAvgSq = new Tensor[n];
        this.decay = new boolean[n];
        for (int i = 0; i < n; i++) {
            Parameter p = this.params.get(i);
            expAvg[i] = ws.floats("optim." + p.name() + ".exp_avg", p.shape());
            expAvgSq[i] = ws.floats("optim." + p.name() + ".exp_avg_sq", p.shape());
            decay[i] = config.weightDecay() != 0 && (config.decayNormAndBias() || !Decay.isNormOrBias(p));
        }
    }

    @Override
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        long t = steps + 1;
        final float b1 = (float) config.beta1(), b2 = (float) config.beta2(), eps = (float) config.eps(), wd = (float) config.weightDecay();
        final float shrink = (float) (1 - lr * config.weightDecay());
        final boolean decoupled = config.decoupled(), maskGrad = config.maskGradients();
        for (int pi = 0; pi < params.size(); pi++) {
            Parameter p = params.get(pi);
            int n = Math.toIntExact(p.size());
            MemorySegment w = p.value().segment(), g = p.grad().segment();
            MemorySegment m1 = expAvg[pi].segment(), m2 = expAvgSq[pi].segment();
            MemorySegment mask = p.mask() == null ? null : p.mask().segment();
            if (mask != null && maskGrad) Elementwise.maskMultiply(g, 0, mask, 0, n);
            float l2 = decay[pi] && !decoupled ? wd : 0f;
            if (decay[pi] && decoupled) Elementwise.scale(w, 0, shrink, n); // AdamW: w *= 1 - lr*wd, then plain Adam
            Elementwise.adam(w, 0, g, 0, m1, 0, m2, 0, n, (float) lr, b1, b2, eps, l2, t);
            if (mask != null) {
                if (maskGrad) {
                    Elementwise.maskMultiply(m1, 0, mask, 0, n);
                    Elementwise.maskMultiply(m2, 0, mask, 0, n);
                }
                p.applyMask();
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
            s.put(params.get(i).name() + ".exp_avg", expAvg[i]);
            s.put(params.get(i).name() + ".exp_avg_sq", expAvgSq[i]);
        }
        return s;
    }

    @Override
    public OptimizerConfig config() { return config; }
}
