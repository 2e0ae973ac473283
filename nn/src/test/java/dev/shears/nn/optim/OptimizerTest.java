package dev.shears.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SGD and Adam against a double-precision reference written from PyTorch's documented update
 * rules (torch.optim.SGD / Adam / AdamW), over several steps with changing learning rates, on
 * parameters of awkward sizes (one above the parallel grain); and the mask semantics.
 */
class OptimizerTest {
    private static final int[][] SHAPES = {{4, 3, 3, 3}, {4}, {4099}};
    private static final String[] NAMES = {"conv.weight", "conv.bias", "fc.weight"};
    private static final double[] LRS = {0.1, 0.05, 0.2, 0.01, 0.07};

    /** Float parameters with random values, plus a double copy for the reference. */
    private static List<Parameter> params(Workspace ws, long seed, double[][] ref) {
        SplittableRandom r = new SplittableRandom(seed);
        Parameter[] ps = new Parameter[SHAPES.length];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = new Parameter(ws, NAMES[i], SHAPES[i].length > 1, 1, SHAPES[i]);
            ref[i] = new double[(int) ps[i].size()];
            for (int k = 0; k < ref[i].length; k++) {
                float v = (float) (r.nextDouble() * 2 - 1);
                ps[i].value().set(k, v);
                ref[i][k] = v;
            }
        }
        return List.of(ps);
    }

    private static double[][] randomGrads(List<Parameter> ps, SplittableRandom r) {
        double[][] g = new double[ps.size()][];
        for (int i = 0; i < ps.size(); i++) {
            g[i] = new double[(int) ps.get(i).size()];
            float[] f = new float[g[i].length];
            for (int k = 0; k < g[i].length; k++) {
                f[k] = (float) (r.nextDouble() * 2 - 1);
                g[i][k] = f[k];
            }
            ps.get(i).grad().copyFrom(f);
        }
        return g;
    }

    private static void assertClose(List<Parameter> ps, double[][] ref, double tol, String what) {
        for (int i = 0; i < ps.size(); i++) {
            float[] vals = ps.get(i).value().toFloatArray();
            for (int k = 0; k < ref[i].length; k++) {
                double got = vals[k];
                if (Math.abs(got - ref[i][k]) > tol * (1 + Math.abs(ref[i][k]))) {
                    throw new AssertionError(what + ": " + NAMES[i] + "[" + k + "] = " + got + ", reference " + ref[i][k]);
                }
            }
        }
    }

    /** PyTorch SGD: d_p = g + wd*p; buf = d_p (first) or mu*buf + (1-damp)*d_p; d_p = nesterov ? d_p + mu*buf : buf; p -= lr*d_p. */
    private void checkSgd(OptimizerConfig cfg) {
        try (Workspace ws = new Workspace("t")) {
            double[][] ref = new double[SHAPES.length][];
            List<Parameter> ps = params(ws, 11, ref);
            Optimizer opt = cfg.create(ps, ws);
            double[][] buf = new double[ps.size()][];
            SplittableRandom r = new SplittableRandom(5);
            for (int t = 0; t < LRS.length; t++) {
                double[][] g = randomGrads(ps, r);
                opt.step(LRS[t]);
                for (int i = 0; i < ps.size(); i++) {
                    boolean decay = cfg.decayNormAndBias() || SHAPES[i].length > 1;
                    double[] p = ref[i], d = g[i].clone();
                    if (decay) for (int k = 0; k < d.length; k++) d[k] += cfg.weightDecay() * p[k];
                    if (cfg.momentum() != 0) {
                        if (t == 0) buf[i] = d.clone();
                        else for (int k = 0; k < d.length; k++) buf[i][k] = cfg.momentum() * buf[i][k] + (1 - cfg.dampening()) * d[k];
                        if (cfg.nesterov()) for (int k = 0; k < d.length; k++) d[k] += cfg.momentum() * buf[i][k];
                        else d = buf[i].clone();
                    }
                    for (int k = 0; k < d.length; k++) p[k] -= LRS[t] * d[k];
                }
                assertClose(ps, ref, 2e-6 * (t + 1), cfg + " step " + (t + 1));
            }
            assertEquals(LRS.length, opt.steps());
        }
    }

    @Test
    void sgdMatchesPyTorchFormulas() {
        checkSgd(OptimizerConfig.sgd(0, false, 0));
        checkSgd(OptimizerConfig.sgd(0.9, false, 0));
        checkSgd(OptimizerConfig.sgd(0.9, true, 5e-4));
        checkSgd(OptimizerConfig.sgd(0.8, false, 1e-2).withDampening(0.3));
        checkSgd(OptimizerConfig.sgd(0.9, true, 1e-2).withDecayNormAndBias(false));
    }

    /** PyTorch Adam: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). */
    private void checkAdam(OptimizerConfig cfg) {
        try (Workspace ws = new Workspace("t")) {
            double[][] ref = new double[SHAPES.length][];
            List<Parameter> ps = params(ws, 13, ref);
            Optimizer opt = cfg.create(ps, ws);
            double[][] m = new double[ps.size()][], v = new double[ps.size()][];
            SplittableRandom r = new SplittableRandom(9);
            for (int t = 0; t < LRS.length; t++) {
                double[][] g = randomGrads(ps, r);
                double lr = LRS[t] / 10;
                opt.step(lr);
                int step = t + 1;
                for (int i = 0; i < ps.size(); i++) {
                    if (m[i] == null) {
                        m[i] = new double[g[i].length];
                        v[i] = new double[g[i].length];
                    }
                    boolean decay = cfg.decayNormAndBias() || SHAPES[i].length > 1;
                    double[] p = ref[i];
                    for (int k = 0; k < p.length; k++) {
                        double gk = g[i][k];
                        if (decay && cfg.decoupled()) p[k] *= 1 - lr * cfg.weightDecay();
                        else if (decay) gk += cfg.weightDecay() * p[k];
                        m[i][k] = cfg.beta1() * m[i][k] + (1 - cfg.beta1()) * gk;
                        v[i][k] = cfg.beta2() * v[i][k] + (1 - cfg.beta2()) * gk * gk;
                        double bc1 = 1 - Math.pow(cfg.beta1(), step), bc2 = 1 - Math.pow(cfg.beta2(), step);
                        p[k] -= lr / bc1 * m[i][k] / (Math.sqrt(v[i][k]) / Math.sqrt(bc2) + cfg.eps());
                    }
                }
                assertClose(ps, ref, 3e-6 * (t + 1), cfg + " step " + step);
            }
        }
    }

    @Test
    void adamAndAdamWMatchPyTorchFormulas() {
        checkAdam(OptimizerConfig.adam(0));
        checkAdam(OptimizerConfig.adam(1e-2));
        checkAdam(OptimizerConfig.adam(5e-2).withDecoupled(true));
        checkAdam(OptimizerConfig.adam(1e-2).withBetas(0.8, 0.99, 1e-6).withDecayNormAndBias(false));
    }

    /** Masked weights are exactly zero after every step; gradients and state too only with the option. */
    private void checkMask(OptimizerConfig cfg, String stateSlot) {
        try (Workspace ws = new Workspace("t")) {
            List<Parameter> ps = params(ws, 3, new double[SHAPES.length][]);
            Parameter w = ps.get(2);
            float[] keep = new float[(int) w.size()];
            for (int k = 0; k < keep.length; k++) keep[k] = k % 3 == 0 ? 0f : 1f;
            w.setMask(ws, keep);
            Optimizer opt = cfg.create(ps, ws);
            SplittableRandom r = new SplittableRandom(1);
            for (int t = 0; t < 3; t++) {
                randomGrads(ps, r); // gradients are non-zero at pruned positions too
                opt.step(0.1);
                boolean stateNonZeroAtPruned = false;
                float[] vals = w.value().toFloatArray(), grads = w.grad().toFloatArray();
                float[] state = opt.state().get("fc.weight." + stateSlot).toFloatArray();
                for (int k = 0; k < keep.length; k++) {
                    float v = vals[k];
                    if (keep[k] == 0f) {
                        assertEquals(0, Float.floatToRawIntBits(v), "pruned weight " + k + " is " + v + " after step " + (t + 1));
                        float s = state[k];
                        if (cfg.maskGradients()) {
                            assertTrue(s == 0f, "state at pruned " + k + " is " + s);
                            assertTrue(grads[k] == 0f, "gradient at pruned " + k + " is " + grads[k]);
                        }
                        stateNonZeroAtPruned |= s != 0f;
                    }
                }
                assertEquals(!cfg.maskGradients(), stateNonZeroAtPruned, "optimizer state at pruned weights, maskGradients=" + cfg.maskGradients());
            }
            assertEquals(keep.length - (keep.length + 2) / 3, w.kept());
            assertNotEquals(0f, w.value().get(1));
        }
    }

    @Test
    void masksAreReappliedAfterEveryStep() {
        checkMask(OptimizerConfig.sgd(0.9, true, 5e-4), "momentum_buffer");
        checkMask(OptimizerConfig.sgd(0.9, false, 5e-4).withMaskGradients(true), "momentum_buffer");
        checkMask(OptimizerConfig.adam(1e-3), "exp_avg");
        checkMask(OptimizerConfig.adam(1e-3).withMaskGradients(true), "exp_avg_sq");
    }

    @Test
    void badConfigurationsAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.sgd(0, true, 0));
        assertTrue(e.getMessage().contains("Nesterov"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.sgd(-0.5, false, 0));
        assertTrue(e.getMessage().contains("momentum"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.adam(0).withBetas(1.0, 0.9, 1e-8));
        assertTrue(e.getMessage().contains("beta1"), e.getMessage());
        try (Workspace ws = new Workspace("t")) {
            Optimizer opt = OptimizerConfig.sgd(0.9, false, 0).create(params(ws, 1, new double[3][]), ws);
            e = assertThrows(IllegalArgumentException.class, () -> opt.step(Double.NaN));
            assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
        }
    }
}
