package dev.shears.nn.optim;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Adam (and AdamW when decoupled), PyTorch's {@code torch.optim.Adam} formulas in float32:
 * {@code g = grad + wd*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 * w -= (lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)}; AdamW instead scales {@code w *= 1-lr*wd}
 * first. Pruned weights are set to exactly zero after the update. No amsgrad.
 * Pinned by OptimizerTest (against a double-precision reference of the same formulas).
 */
final class Adam implements Optimizer {
    private static final int GRAIN = 1 << 14;

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
        double bc1 = 1 - Math.pow(config.beta1(), t), bc2 = 1 - Math.pow(config.beta2(), t);
        final float stepSize = (float) (lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2);
        final float b1 = (float) config.beta1(), b2 = (float) config.beta2(), eps = (float) config.eps();
        final float oneMinusB1 = (float) (1 - config.beta1()), oneMinusB2 = (float) (1 - config.beta2());
        final boolean decoupled = config.decoupled(), maskGrad = config.maskGradients();
        final float shrink = (float) (1 - lr * config.weightDecay());
        for (int pi = 0; pi < params.size(); pi++) {
            Parameter p = params.get(pi);
            MemorySegment w = p.value().segment(), g = p.grad().segment();
            MemorySegment m1 = expAvg[pi].segment(), m2 = expAvgSq[pi].segment();
            MemorySegment mask = p.mask() == null ? null : p.mask().segment();
            final float wd = decay[pi] ? (float) config.weightDecay() : 0f;
            final boolean shrinkP = decoupled && decay[pi];
            Parallel.forRange(Math.toIntExact(p.size()), GRAIN, (from, to) -> {
                for (int i = from; i < to; i++) {
                    boolean pruned = mask != null && mask.getAtIndex(JAVA_FLOAT, i) == 0f;
                    float gi = g.getAtIndex(JAVA_FLOAT, i);
                    if (pruned && maskGrad) {
                        gi = 0f;
                        g.setAtIndex(JAVA_FLOAT, i, 0f);
                    }
                    float wi = w.getAtIndex(JAVA_FLOAT, i);
                    if (shrinkP) wi = wi * shrink;
                    else if (wd != 0f) gi = gi + wd * wi;
                    float a = b1 * m1.getAtIndex(JAVA_FLOAT, i) + oneMinusB1 * gi;
                    float s = b2 * m2.getAtIndex(JAVA_FLOAT, i) + oneMinusB2 * gi * gi;
                    if (pruned && maskGrad) {
                        a = 0f;
                        s = 0f;
                    }
                    m1.setAtIndex(JAVA_FLOAT, i, a);
                    m2.setAtIndex(JAVA_FLOAT, i, s);
                    float denom = (float) Math.sqrt(s) / bc2Sqrt + eps;
                    wi = wi - stepSize * (a / denom);
                    w.setAtIndex(JAVA_FLOAT, i, pruned ? 0f : wi);
                }
            });
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
