package dev.shears.nn.layers;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Finite-difference gradient check in double precision: the float layer's forward is compared
 * with a double reference, and its analytic gradients (dx and every parameter's grad) with
 * central differences (h = 1e-6) of L = sum(r * reference(x, params)) computed in double, where r
 * is the random dy fed to backward. Tolerance: |analytic - numeric| <= 1e-4 + 1e-3 |numeric|
 * (the analytic side is float).
 */
final class GradCheck {
    interface Ref {
        double[] apply(double[] x, double[][] params);
    }

    static final double H = 1e-6;

    private GradCheck() {}

    /** A parameter registry for building a test layer (closed with the workspace). */
    static Params params(Workspace ws) {
        return new Params(ws, 42);
    }

    static float[] uniform(SplittableRandom rng, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return a;
    }

    /** Values in [-1, -gap] u [gap, 1]: away from ReLU's kink. */
    static float[] awayFromZero(SplittableRandom rng, int n, double gap) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double v = gap + (1 - gap) * rng.nextDouble();
            a[i] = (float) (rng.nextBoolean() ? v : -v);
        }
        return a;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    static void check(String what, Layer layer, List<Parameter> params, int n, Ref ref, boolean training, float[] x0, long seed) {
        check(what, layer, params, n, ref, training, x0, seed, true);
    }

    static void check(String what, Layer layer, List<Parameter> params, int n, Ref ref, boolean training, float[] x0, long seed, boolean inputGradient) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] xs = Shapes.prepend(n, layer.inputShape()), ys = Shapes.prepend(n, layer.outputShape());
        try (ActivationMemory acts = new ActivationMemory("test");
             Tensor x = Tensor.allocate(DType.F32, xs);
             Tensor dy = Tensor.allocate(DType.F32, ys)) {
            layer.allocate(acts, n);
            acts.finish();
            x.copyFrom(x0);
            double[] xd = toDouble(x0);
            double[][] pd = new double[params.size()][];
            for (int j = 0; j < params.size(); j++) pd[j] = toDouble(params.get(j).value().toFloatArray());

            float[] yf = layer.forward(x, training).toFloatArray();
            double[] yd = ref.apply(xd, pd);
            compare(what + " forward", toDouble(yf), yd, 1e-4, 1e-4);

            float[] r = uniform(rng, yf.length, -1, 1);
            dy.copyFrom(r);
            for (Parameter p : params) p.grad().zero();
            Tensor dxT = layer.backward(dy);
            double[] rd = toDouble(r);
            if (inputGradient) {
                assertNotNull(dxT, what + ": backward returned no dx");
                compare(what + " dx", toDouble(dxT.toFloatArray()), numeric(xd, () -> dot(rd, ref.apply(xd, pd))), 1e-4, 1e-3);
            }
            for (int j = 0; j < params.size(); j++) {
                double[] target = pd[j];
                compare(what + " d" + params.get(j).name(), toDouble(params.get(j).grad().toFloatArray()),
                        numeric(target, () -> dot(rd, ref.apply(xd, pd))), 1e-4, 1e-3);
            }
        }
    }

    interface Loss {
        double value();
    }

    /** Central differences of loss() with respect to each entry of v (perturbed in place). */
    static double[] numeric(double[] v, Loss loss) {
        double[] g = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double old = v[i];
            v[i] = old + H;
            double plus = loss.value();
            v[i] = old - H;
            double minus = loss.value();
            v[i] = old;
            g[i] = (plus - minus) / (2 * H);
        }
        return g;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static void compare(String what, double[] actual, double[] expected, double atol, double rtol) {
        if (actual.length != expected.length) fail(what + ": " + actual.length + " values, expected " + expected.length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
            if (!(err <= worst) || Double.isNaN(actual[i])) {
                worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                at = i;
            }
        }
        if (at >= 0) fail(what + ": index " + at + " is " + actual[at] + ", expected " + expected[at] + " (atol " + atol + ", rtol " + rtol + ")");
    }
}
