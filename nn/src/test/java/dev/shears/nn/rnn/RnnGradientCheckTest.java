package dev.shears.nn.rnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.ActivationMemory;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Params;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference gradient checks in double precision for both cells and both classifiers:
 * the float forward is compared with {@link RnnReference}, and the analytic gradients (dx and
 * every parameter: W, U or the four factors, both biases, zeta, nu, the GRU's four tensors, the
 * classifier) with central differences (h = 1e-6) of L = sum(r * reference) in double, r being
 * the random dy fed to backward. Tolerance |analytic - numeric| <= 1e-4 + 1e-3 |numeric|.
 * Batches of 9 rows split into two blocks on a 2-thread pool (4-row tiles and leftover rows);
 * hidden sizes below, at and above a vector.
 */
class RnnGradientCheckTest {
    private static final double H = 1e-6;

    interface Ref {
        double[] apply(double[] x, Map<String, double[]> params);
    }

    private static float[] uniform(SplittableRandom rng, long n, double lo, double hi) {
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return a;
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    private static double dot(double[] a, float[] r) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * r[i];
        return s;
    }

    /** Random parameter values: weights in +-0.5, zeta and nu in +-2 (away from the init, so every term matters). */
    private static void randomize(List<Parameter> params, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Parameter p : params) {
            boolean scalar = p.name().endsWith("zeta") || p.name().endsWith("nu");
            p.value().copyFrom(uniform(rng, p.size(), scalar ? -2 : -0.5, scalar ? 2 : 0.5));
        }
    }

    /** Forward and backward through {@code run}, then every gradient against central differences of {@code ref}. */
    private static void check(String what, Runner run, List<Parameter> params, float[] x0, Ref ref, int outSize, boolean withDx, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, double[]> pd = new LinkedHashMap<>();
        for (Parameter p : params) pd.put(p.name(), toDouble(p.value().toFloatArray()));
        double[] xd = toDouble(x0);

        float[] r = uniform(rng, outSize, -1, 1);
        for (Parameter p : params) p.grad().zero();
        Result res = run.run(x0, r);
        double[] want = ref.apply(xd, pd);
        assertEquals(want.length, res.y.length, what + ": output size");
        for (int i = 0; i < want.length; i++) assertEquals(want[i], res.y[i], 1e-4, what + " forward at " + i);

        for (Parameter p : params) {
            double[] v = pd.get(p.name());
            float[] g = p.grad().toFloatArray();
            for (int i = 0; i < v.length; i++) {
                double keep = v[i];
                v[i] = keep + H;
                double up = dot(ref.apply(xd, pd), r);
                v[i] = keep - H;
                double down = dot(ref.apply(xd, pd), r);
                v[i] = keep;
                double num = (up - down) / (2 * H);
                assertEquals(num, g[i], 1e-4 + 1e-3 * Math.abs(num), what + ": d" + p.name() + "[" + i + "]");
            }
        }
        if (withDx) {
            for (int i = 0; i < xd.length; i++) {
                double keep = xd[i];
                xd[i] = keep + H;
                double up = dot(ref.apply(xd, pd), r);
                xd[i] = keep - H;
                double down = dot(ref.apply(xd, pd), r);
                xd[i] = keep;
                double num = (up - down) / (2 * H);
                assertEquals(num, res.dx[i], 1e-4 + 1e-3 * Math.abs(num), what + ": dx[" + i + "]");
            }
        }
    }

    record Result(float[] y, float[] dx) {}

    interface Runner {
        Result run(float[] x, float[] dy);
    }

    /** A layer on its own: forward, backward with dy, dx returned. */
    private static Runner layerRunner(Layer layer, int n, int t, int f, int h) {
        return (x0, r) -> {
            try (ActivationMemory acts = new ActivationMemory("test"); Tensor x = Tensor.allocate(DType.F32, n, t, f); Tensor dy = Tensor.allocate(DType.F32, n, h)) {
                layer.allocate(acts, n);
                acts.finish();
                x.copyFrom(x0);
                float[] y = layer.forward(x, true).toFloatArray();
                dy.copyFrom(r);
                Tensor dx = layer.backward(dy);
                return new Result(y, dx == null ? null : dx.toFloatArray());
            }
        };
    }

    private static void fastgrnnLayer(int n, int t, int f, int h, int rankW, int rankU, long seed) {
        try (Workspace ws = new Workspace("params")) {
            Params params = new Params(ws, seed);
            FastGrnn cell = new FastGrnn(params, "rnn", t, f, h, rankW, rankU);
            randomize(params.parameters(), seed);
            float[] x = uniform(new SplittableRandom(seed + 1), (long) n * t * f, -1, 1);
            String what = "fastgrnn n=" + n + " t=" + t + " f=" + f + " h=" + h + " rankW=" + rankW + " rankU=" + rankU;
            check(what, layerRunner(cell, n, t, f, h), params.parameters(), x,
                    (xd, pd) -> RnnReference.fastgrnn(xd, pd, n, t, f, h, rankW, rankU), n * h, true, seed + 2);
        }
    }

    private static void gruLayer(int n, int t, int f, int h, long seed) {
        try (Workspace ws = new Workspace("params")) {
            Params params = new Params(ws, seed);
            Gru cell = new Gru(params, "rnn", t, f, h);
            randomize(params.parameters(), seed);
            float[] x = uniform(new SplittableRandom(seed + 1), (long) n * t * f, -1, 1);
            check("gru n=" + n + " t=" + t + " f=" + f + " h=" + h, layerRunner(cell, n, t, f, h), params.parameters(), x,
                    (xd, pd) -> RnnReference.gru(xd, pd, n, t, f, h), n * h, true, seed + 2);
        }
    }

    @Test
    void fastgrnnFullRank() {
        fastgrnnLayer(9, 4, 3, 9, 0, 0, 1);
        fastgrnnLayer(1, 5, 2, 5, 0, 0, 2);
    }

    @Test
    void fastgrnnLowRank() {
        fastgrnnLayer(9, 4, 5, 10, 2, 3, 3);
        fastgrnnLayer(2, 3, 4, 17, 4, 17, 4); // rank W = F (the paper's "full-rank" factored start), rank U = H
    }

    @Test
    void fastgrnnWideHidden() {
        fastgrnnLayer(5, 3, 9, 17, 0, 0, 5);
    }

    @Test
    void gruCell() {
        gruLayer(9, 4, 3, 9, 6);
        gruLayer(1, 5, 2, 5, 7);
        gruLayer(5, 3, 9, 17, 8);
    }

    /** The zoo classifiers end to end (the first layer's dx is skipped there): every parameter, the head included. */
    @Test
    void classifiersFromTheZoo() {
        int n = 6, t = 4, f = 3, h = 8, classes = 3;
        for (String model : List.of("fastgrnn", "gru")) {
            ModelConfig cfg = new ModelConfig(1, t, f, classes, 11, Map.of("hidden", Integer.toString(h)));
            if (model.equals("fastgrnn")) cfg = cfg.with("rank-w", "2").with("rank-u", "5");
            try (Network net = ModelZoo.create(model, cfg)) {
                randomize(net.parameters(), 12);
                Runner run = (x0, r) -> {
                    try (Tensor x = Tensor.allocate(DType.F32, n, t, f); Tensor dy = Tensor.allocate(DType.F32, n, classes)) {
                        x.copyFrom(x0);
                        float[] y = net.forward(x, true).toFloatArray();
                        dy.copyFrom(r);
                        net.backward(dy);
                        return new Result(y, null);
                    }
                };
                Ref ref = model.equals("fastgrnn")
                        ? (xd, pd) -> RnnReference.head(RnnReference.fastgrnn(xd, pd, n, t, f, h, 2, 5), pd, n, h, classes)
                        : (xd, pd) -> RnnReference.head(RnnReference.gru(xd, pd, n, t, f, h), pd, n, h, classes);
                float[] x = uniform(new SplittableRandom(13), (long) n * t * f, -1, 1);
                check(model + " classifier", run, net.parameters(), x, ref, n * classes, false, 14);
                assertTrue(net.parameters().stream().anyMatch(p -> p.name().equals("fc.weight")), "the head is a parameter of " + model);
            }
        }
    }

    /** backward adds to the gradients (the trainer zeroes them): two passes give twice one. */
    @Test
    void backwardAccumulates() {
        int n = 5, t = 3, f = 2, h = 9;
        try (Workspace ws = new Workspace("params")) {
            Params params = new Params(ws, 3);
            FastGrnn cell = new FastGrnn(params, "rnn", t, f, h, 0, 0);
            Runner run = layerRunner(cell, n, t, f, h);
            float[] x = uniform(new SplittableRandom(1), (long) n * t * f, -1, 1), r = uniform(new SplittableRandom(2), (long) n * h, -1, 1);
            for (Parameter p : params.parameters()) p.grad().zero();
            run.run(x, r);
            Map<String, float[]> once = new LinkedHashMap<>();
            for (Parameter p : params.parameters()) once.put(p.name(), p.grad().toFloatArray());
            run.run(x, r);
            for (Parameter p : params.parameters()) {
                float[] g1 = once.get(p.name()), g2 = p.grad().toFloatArray();
                for (int i = 0; i < g1.length; i++) assertEquals(2 * g1[i], g2[i], 1e-6 + 1e-5 * Math.abs(g1[i]), p.name() + "[" + i + "]");
            }
        }
    }

    @Test
    void badShapesAreClearErrors() {
        try (Workspace ws = new Workspace("params"); ActivationMemory acts = new ActivationMemory("test"); Tensor x = Tensor.allocate(DType.F32, 2, 5, 3)) {
            Params params = new Params(ws, 1);
            FastGrnn cell = new FastGrnn(params, "rnn", 4, 3, 8, 0, 0);
            cell.allocate(acts, 2);
            acts.finish();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cell.forward(x, true));
            assertTrue(e.getMessage().contains("'rnn'") && e.getMessage().contains("(N, 4, 3)") && e.getMessage().contains("(2, 5, 3)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new FastGrnn(params, "cell2", 4, 3, 8, 4, 0));
            assertTrue(e.getMessage().contains("rank of W must be 0 (full) or 1..3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create("fastgrnn", ModelConfig.of(1, 28, 28, 10).with("rank-u", "x")));
            assertTrue(e.getMessage().contains("rank-u must be 'full' or a positive rank"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create("gru", ModelConfig.of(1, 28, 28, 10).with("rank-u", "4")));
            assertTrue(e.getMessage().contains("has no option 'rank-u'"), e.getMessage());
        }
    }
}
