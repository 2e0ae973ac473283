package dev.shears.nn.optim;

/**
 * Hyper-parameters of SGD and Adam, PyTorch's meanings and defaults. Weight decay is L2 added to
 * the gradient and, like PyTorch, applies to every parameter unless {@code decayNormAndBias} is
 * false, which exempts 1-D parameters (biases, batch-norm scales and shifts). {@code decoupled}
 * turns Adam into AdamW. {@code maskGradients}: besides re-zeroing pruned weights after each step
 * (always done), also zero their gradients and optimizer state. Pinned by OptimizerTest.
 *
 * @param kind          SGD or ADAM
 * @param momentum      SGD momentum (0 = plain SGD)
 * @param dampening     SGD dampening (PyTorch default 0)
 * @param nesterov      SGD Nesterov momentum (needs momentum > 0 and dampening 0)
 * @param weightDecay   L2 coefficient (0 = none)
 * @param decayNormAndBias whether weight decay applies to 1-D parameters too (PyTorch default: true)
 * @param beta1         Adam first-moment decay (0.9)
 * @param beta2         Adam second-moment decay (0.999)
 * @param eps           Adam denominator term (1e-8)
 * @param decoupled     Adam only: decoupled weight decay (AdamW) instead of L2 in the gradient
 * @param maskGradients also mask gradients and optimizer state of pruned weights
 */
public record OptimizerConfig(Kind kind, double momentum, double dampening, boolean nesterov, double weightDecay,
                              boolean decayNormAndBias, double beta1, double beta2, double eps, boolean decoupled,
                              boolean maskGradients) {
    public enum Kind { SGD, ADAM }

    public OptimizerConfig {
        if (kind == null) throw new IllegalArgumentException("optimizer kind is required (sgd or adam)");
        check(momentum >= 0, "momentum must be >= 0, got " + momentum);
        check(dampening >= 0 && dampening <= 1, "dampening must be in [0, 1], got " + dampening);
        check(weightDecay >= 0 && Double.isFinite(weightDecay), "weight decay must be >= 0, got " + weightDecay);
        check(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and dampening 0 (got momentum " + momentum + ", dampening " + dampening + ")");
        check(beta1 >= 0 && beta1 < 1, "Adam beta1 must be in [0, 1), got " + beta1);
        check(beta2 >= 0 && beta2 < 1, "Adam beta2 must be in [0, 1), got " + beta2);
        check(eps > 0, "Adam eps must be > 0, got " + eps);
        check(!nesterov || kind == Kind.SGD, "Nesterov applies to SGD only");
        check(!decoupled || kind == Kind.ADAM, "decoupled weight decay (AdamW) applies to Adam only");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** SGD with momentum; no dampening, L2 on every parameter, masks re-applied only to weights. */
    public static OptimizerConfig sgd(double momentum, boolean nesterov, double weightDecay) {
        return new OptimizerConfig(Kind.SGD, momentum, 0, nesterov, weightDecay, true, 0.9, 0.999, 1e-8, false, false);
    }

    /** Adam with PyTorch's defaults (betas 0.9, 0.999; eps 1e-8) and L2 weight decay. */
    public static OptimizerConfig adam(double weightDecay) {
        return new OptimizerConfig(Kind.ADAM, 0, 0, false, weightDecay, true, 0.9, 0.999, 1e-8, false, false);
    }

    public OptimizerConfig withDampening(double d) {
        return new OptimizerConfig(kind, momentum, d, nesterov, weightDecay, decayNormAndBias, beta1, beta2, eps, decoupled, maskGradients);
    }

    public OptimizerConfig withDecayNormAndBias(boolean b) {
        return new OptimizerConfig(kind, momentum, dampening, nesterov, weightDecay, b, beta1, beta2, eps, decoupled, maskGradients);
    }

    public OptimizerConfig withBetas(double b1, double b2, double e) {
        return new OptimizerConfig(kind, momentum, dampening, nesterov, weightDecay, decayNormAndBias, b1, b2, e, decoupled, maskGradients);
    }

    public OptimizerConfig withDecoupled(boolean b) {
        return new OptimizerConfig(kind, momentum, dampening, nesterov, weightDecay, decayNormAndBias, beta1, beta2, eps, b, maskGradients);
    }

    public OptimizerConfig withMaskGradients(boolean b) {
        return new OptimizerConfig(kind, momentum, dampening, nesterov, weightDecay, decayNormAndBias, beta1, beta2, eps, decoupled, b);
    }

    /** A new optimizer of this kind over {@code params}, its state tensors owned by {@code ws}. */
    public Optimizer create(java.util.List<dev.shears.nn.Parameter> params, dev.shears.engine.Workspace ws) {
        return switch (kind) {
            case SGD -> new Sgd(params, this, ws);
            case ADAM -> new Adam(params, this, ws);
        };
    }
}
