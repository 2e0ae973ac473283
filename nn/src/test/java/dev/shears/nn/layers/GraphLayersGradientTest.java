package dev.shears.nn.layers;

import static dev.shears.nn.layers.GradCheck.awayFromZero;
import static dev.shears.nn.layers.GradCheck.check;
import static dev.shears.nn.layers.GradCheck.compare;
import static dev.shears.nn.layers.GradCheck.dot;
import static dev.shears.nn.layers.GradCheck.numeric;
import static dev.shears.nn.layers.GradCheck.toDouble;
import static dev.shears.nn.layers.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.graph.Graph;
import dev.shears.nn.graph.GraphSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The graph model's layers against double references and central differences (GradCheck): Scale,
 * Pad2d, Clip (ReLU6), Identity, the joins Add and Concat (each input's gradient checked), and a
 * whole Graph with fan-out (one tensor read by three nodes), both joins, an in-place ReLU and one
 * that must not work in place.
 */
class GraphLayersGradientTest {

    @Test
    void scale() {
        int[] shape = {3, 2, 2};
        check("scale", new Scale("s", shape, -0.75f), List.of(), 2, (x, pr) -> scale(x, -0.75), true,
                uniform(new SplittableRandom(1), 24, -1, 1), 3);
    }

    @ParameterizedTest(name = "pad t={0} b={1} l={2} r={3}")
    @CsvSource({"1, 1, 1, 1", "0, 2, 1, 0", "0, 0, 0, 3"})
    void pad(int t, int b, int l, int r) {
        int n = 2, c = 2, h = 3, w = 4;
        check("pad", new Pad2d("p", new int[] {c, h, w}, t, b, l, r), List.of(), n, (x, pr) -> pad(x, n, c, h, w, t, b, l, r), true,
                uniform(new SplittableRandom(t + 2 * b), n * c * h * w, -1, 1), 5);
    }

    @Test
    void padChannels() {
        int n = 2, c = 2, h = 3, w = 2;
        check("pad channels", new Pad2d("p", new int[] {c, h, w}, 1, 2, 0, 1, 1, 0), List.of(), n, (x, pr) -> {
            double[] s = pad(x, n, c, h, w, 0, 1, 1, 0); // (n, c, 4, 3), then one zero channel in front and two behind
            double[] y = new double[n * 5 * 12];
            for (int b = 0; b < n; b++) System.arraycopy(s, b * c * 12, y, (b * 5 + 1) * 12, c * 12);
            return y;
        }, true, uniform(new SplittableRandom(6), n * c * h * w, -1, 1), 19);
    }

    @Test
    void clipAsRelu6AndAsRelu() {
        int n = 2;
        int[] shape = {2, 3, 3};
        SplittableRandom rng = new SplittableRandom(3);
        float[] x0 = new float[n * 18];
        for (int i = 0; i < x0.length; i++) {
            float v = (float) (0.1 + 0.8 * rng.nextDouble());
            x0[i] = switch (i % 3) { case 0 -> -v * 4; case 1 -> v * 5; default -> 6.2f + v * 3; }; // below, inside, above: away from the kinks
        }
        check("relu6", Clip.relu6("c", shape), List.of(), n, (x, pr) -> clip(x, 0, 6), true, x0, 7);
        check("clip [0, inf)", new Clip("c", shape, 0f, Float.POSITIVE_INFINITY), List.of(), n, (x, pr) -> clip(x, 0, Double.POSITIVE_INFINITY), true, x0, 9);
    }

    @Test
    void identity() {
        int[] shape = {4};
        check("identity", new Identity("i", shape), List.of(), 3, (x, pr) -> x.clone(), true, uniform(new SplittableRandom(4), 12, -1, 1), 11);
    }

    @Test
    void addOfThree() {
        int n = 2;
        int[] shape = {2, 3};
        Add add = new Add("add", List.of(shape, shape, shape));
        checkJoin("add", add, n, xs -> {
            double[] y = xs.get(0).clone();
            for (int k = 1; k < xs.size(); k++) for (int i = 0; i < y.length; i++) y[i] += xs.get(k)[i];
            return y;
        }, 13);
    }

    @Test
    void concatChannelsAndFeatures() {
        int n = 3, h = 2, w = 3;
        Concat images = new Concat("cat", List.of(new int[] {2, h, w}, new int[] {1, h, w}, new int[] {3, h, w}));
        assertEquals(6, images.outputShape()[0]);
        checkJoin("concat images", images, n, xs -> concat(xs, n, List.of(2 * h * w, h * w, 3 * h * w)), 15);
        Concat features = new Concat("cat", List.of(new int[] {4}, new int[] {2}));
        checkJoin("concat features", features, n, xs -> concat(xs, n, List.of(4, 2)), 17);
    }

    /** A join's forward against {@code ref} and each input's dx against central differences of sum(r * ref). */
    private static void checkJoin(String what, MergeLayer join, int n, Function<List<double[]>, double[]> ref, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<int[]> shapes = join.inputShapes();
        List<Tensor> xs = new ArrayList<>();
        List<double[]> xd = new ArrayList<>();
        try (ActivationMemory acts = new ActivationMemory("t")) {
            join.allocate(acts, n);
            acts.finish();
            for (int[] s : shapes) {
                Tensor t = Tensor.allocate(DType.F32, Shapes.prepend(n, s));
                float[] v = uniform(rng, Math.toIntExact(t.size()), -1, 1);
                t.copyFrom(v);
                xs.add(t);
                xd.add(toDouble(v));
            }
            float[] y = join.forward(xs, true).toFloatArray();
            compare(what + " forward", toDouble(y), ref.apply(xd), 1e-6, 1e-6);
            float[] r = uniform(rng, y.length, -1, 1);
            double[] rd = toDouble(r);
            try (Tensor dy = Tensor.allocate(DType.F32, Shapes.prepend(n, join.outputShape()))) {
                dy.copyFrom(r);
                List<Tensor> dx = join.backward(dy);
                assertEquals(shapes.size(), dx.size(), what + ": one dx per input");
                for (int k = 0; k < shapes.size(); k++) {
                    compare(what + " dx" + k, toDouble(dx.get(k).toFloatArray()), numeric(xd.get(k), () -> dot(rd, ref.apply(xd))), 1e-4, 1e-3);
                    if (join.passesGradientThrough()) assertSame(dy, dx.get(k), what + ": a pass-through join hands dy itself");
                }
            }
        } finally {
            xs.forEach(Tensor::close);
        }
    }

    /**
     * A whole graph: r1 = relu(conv(x)) is read three times (fan-out: its gradient is summed);
     * add(conv1x1(r1), scale(r1)) + r1 joins three paths; pad, clip and a concat of the clip with
     * its own input feed a global pool and a linear head. r1 works in place (its input is the conv's
     * fresh buffer, its gradient a sum); r2 = relu(maxpool) must not (a pool's output is not fresh).
     */
    @Test
    void graphWithFanOutAndJoins() {
        int n = 2, c = 2, h = 5, w = 5;
        List<GraphSpec.Node> nodes = List.of(
                node("c1", "conv", List.of("input"), Map.of("out", "3", "kernel", "3", "stride", "1", "padding", "1", "groups", "1", "bias", "true"), 3, 5, 5),
                node("r1", "relu", List.of("c1"), Map.of(), 3, 5, 5),
                node("a", "conv", List.of("r1"), Map.of("out", "3", "kernel", "1", "stride", "1", "padding", "0", "groups", "1", "bias", "false"), 3, 5, 5),
                node("b", "scale", List.of("r1"), Map.of("factor", "0.5"), 3, 5, 5),
                node("s", "add", List.of("a", "b", "r1"), Map.of(), 3, 5, 5),
                node("p", "pad", List.of("s"), Map.of("top", "1", "bottom", "0", "left", "0", "right", "1"), 3, 6, 6),
                node("q", "clip", List.of("p"), Map.of("min", "-0.3", "max", "0.4"), 3, 6, 6),
                node("cat", "concat", List.of("q", "p"), Map.of(), 6, 6, 6),
                node("mp", "maxpool", List.of("cat"), Map.of("kernel", "2", "stride", "2", "padding", "0"), 6, 3, 3),
                node("r2", "relu", List.of("mp"), Map.of(), 6, 3, 3),
                node("gap", "globalavgpool", List.of("r2"), Map.of(), 6),
                node("fc", "linear", List.of("gap"), Map.of("out", "4", "bias", "true"), 4));
        GraphSpec spec = new GraphSpec(new int[] {c, h, w}, nodes, "fc");
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            Graph g = new Graph(params, "graph", spec);
            List<Layer> layers = g.layers();
            assertEquals(ReLU.class, layers.stream().filter(l -> l.name().equals("r1")).findFirst().orElseThrow().getClass(), "r1 works in place");
            assertEquals(Clip.class, layers.stream().filter(l -> l.name().equals("r2")).findFirst().orElseThrow().getClass(), "r2 must not");
            SplittableRandom rng = new SplittableRandom(21);
            for (Parameter p : params.parameters()) p.value().copyFrom(uniform(rng, Math.toIntExact(p.size()), -0.6, 0.6));
            check("graph", g, params.parameters(), n, (x, pr) -> {
                double[] c1 = Reference.conv2d(x, pr[0], pr[1], n, c, h, w, 3, 3, 1, 1, 1);
                double[] r1 = Reference.relu(c1);
                double[] a = Reference.conv2d(r1, pr[2], null, n, 3, 5, 5, 3, 1, 1, 0, 1);
                double[] s = Reference.add(Reference.add(a, scale(r1, 0.5)), r1);
                double[] p = pad(s, n, 3, 5, 5, 1, 0, 0, 1);
                double[] q = clip(p, -0.3, 0.4);
                double[] cat = concat(List.of(q, p), n, List.of(3 * 36, 3 * 36));
                double[] mp = Reference.maxPool(cat, n, 6, 6, 6, 2, 2, 0);
                double[] gap = Reference.globalAvgPool(Reference.relu(mp), n, 6, 9);
                return Reference.linear(gap, pr[3], pr[4], n, 6, 4);
            }, true, awayFromZero(new SplittableRandom(22), n * c * h * w, 0.05), 23);
        }
    }

    static GraphSpec.Node node(String name, String op, List<String> in, Map<String, String> attrs, int... shape) {
        return new GraphSpec.Node(name, op, in, attrs, shape);
    }

    static double[] scale(double[] x, double f) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = f * x[i];
        return y;
    }

    static double[] clip(double[] x, double lo, double hi) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.min(Math.max(x[i], lo), hi);
        return y;
    }

    static double[] pad(double[] x, int n, int c, int h, int w, int t, int b, int l, int r) {
        int oh = h + t + b, ow = w + l + r;
        double[] y = new double[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++) {
            for (int i = 0; i < h; i++) for (int j = 0; j < w; j++) y[plane * oh * ow + (i + t) * ow + j + l] = x[plane * h * w + i * w + j];
        }
        return y;
    }

    static double[] concat(List<double[]> xs, int n, List<Integer> blocks) {
        int total = blocks.stream().mapToInt(Integer::intValue).sum();
        double[] y = new double[n * total];
        for (int b = 0; b < n; b++) {
            int at = b * total;
            for (int k = 0; k < xs.size(); k++) {
                System.arraycopy(xs.get(k), b * blocks.get(k), y, at, blocks.get(k));
                at += blocks.get(k);
            }
        }
        return y;
    }
}
