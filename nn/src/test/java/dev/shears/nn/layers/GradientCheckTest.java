package dev.shears.nn.layers;

import static dev.shears.nn.layers.GradCheck.awayFromZero;
import static dev.shears.nn.layers.GradCheck.check;
import static dev.shears.nn.layers.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every layer's forward against a double reference and its gradients (input and parameters)
 * against central differences in double precision (see {@link GradCheck}).
 */
class GradientCheckTest {

    @ParameterizedTest(name = "conv n={0} c={1} hw={2}x{3} oc={4} k={5} s={6} p={7} g={8} bias={9} chunk={10}")
    @CsvSource({
        "2, 3, 5, 6, 4, 3, 1, 1, 1, true, 0",
        "3, 2, 7, 7, 3, 3, 2, 1, 1, false, 0",
        "1, 3, 4, 5, 5, 1, 1, 0, 1, false, 0",   // pointwise, one sample: direct GEMM on x
        "2, 3, 4, 5, 5, 1, 1, 0, 1, true, 0",    // pointwise, batched columns
        "2, 4, 5, 5, 6, 3, 1, 1, 2, false, 0",   // grouped
        "2, 3, 6, 5, 3, 3, 1, 1, 3, false, 0",   // depthwise
        "2, 4, 7, 6, 4, 3, 2, 1, 4, true, 0",    // depthwise, stride 2, bias
        "2, 2, 8, 8, 3, 5, 1, 0, 1, true, 0",    // LeNet-like 5x5, no padding
        "3, 2, 5, 5, 3, 3, 1, 1, 1, false, 1",   // one sample per column chunk
        "5, 2, 5, 4, 3, 3, 2, 1, 1, true, 2",    // chunks of 2, 2, 1
        "3, 2, 5, 5, 4, 1, 2, 0, 1, false, 0",   // 1x1 stride 2 (option-B shortcut)
    })
    void conv2d(int n, int c, int h, int w, int oc, int k, int s, int p, int g, boolean bias, int chunk) {
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            Conv2d conv = new Conv2d(params, "conv", new int[] {c, h, w}, oc, k, s, p, g, bias);
            if (chunk > 0) conv.limitColumns((long) chunk * c * k * k * conv.outputShape()[1] * conv.outputShape()[2]);
            SplittableRandom rng = new SplittableRandom(n * 31L + c * 7 + k);
            if (bias) conv.bias().value().copyFrom(uniform(rng, oc, -0.5, 0.5));
            check("conv", conv, params.parameters(), n,
                    (x, pr) -> Reference.conv2d(x, pr[0], bias ? pr[1] : null, n, c, h, w, oc, k, s, p, g), true,
                    uniform(rng, n * c * h * w, -1, 1), 7);
        }
    }

    @Test
    void convFirstLayerSkipsInputGradientButKeepsWeightGradient() {
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            Conv2d conv = new Conv2d(params, "conv", new int[] {2, 5, 5}, 3, 3, 1, 1, 1, true);
            conv.skipInputGradient();
            SplittableRandom rng = new SplittableRandom(3);
            check("conv first", conv, params.parameters(), 2, (x, pr) -> Reference.conv2d(x, pr[0], pr[1], 2, 2, 5, 5, 3, 3, 1, 1, 1), true,
                    uniform(rng, 2 * 2 * 25, -1, 1), 9, false);
            try (ActivationMemory acts = new ActivationMemory("t"); Tensor dy = Tensor.allocate(DType.F32, 2, 3, 5, 5); Tensor x = Tensor.allocate(DType.F32, 2, 2, 5, 5)) {
                conv.allocate(acts, 2);
                acts.finish();
                conv.forward(x, true);
                assertNull(conv.backward(dy));
            }
        }
    }

    @ParameterizedTest(name = "batchnorm training={0}")
    @CsvSource({"true", "false"})
    void batchNorm(boolean training) {
        int n = 3, c = 2, h = 3, w = 2;
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            BatchNorm2d bn = new BatchNorm2d(params, "bn", new int[] {c, h, w});
            SplittableRandom rng = new SplittableRandom(5);
            bn.weight().value().copyFrom(uniform(rng, c, 0.5, 1.5));
            bn.bias().value().copyFrom(uniform(rng, c, -0.5, 0.5));
            float[] rm = uniform(rng, c, -0.3, 0.3), rv = uniform(rng, c, 0.5, 2);
            bn.runningMean().copyFrom(rm);
            bn.runningVar().copyFrom(rv);
            float[] x = uniform(rng, n * c * h * w, -2, 3);
            check("batchnorm", bn, params.parameters(), n, (xd, pr) -> training
                            ? Reference.batchNormTrain(xd, pr[0], pr[1], n, c, h * w, 1e-5)
                            : Reference.batchNormEval(xd, pr[0], pr[1], GradCheck.toDouble(rm), GradCheck.toDouble(rv), n, c, h * w, 1e-5),
                    training, x, 11);
            if (!training) return;
            // running statistics: momentum 0.1, unbiased variance
            int m = n * h * w;
            for (int ch = 0; ch < c; ch++) {
                double mean = 0, ss = 0;
                for (int i = 0; i < n; i++) for (int j = 0; j < h * w; j++) mean += x[(i * c + ch) * h * w + j];
                mean /= m;
                for (int i = 0; i < n; i++) for (int j = 0; j < h * w; j++) ss += Math.pow(x[(i * c + ch) * h * w + j] - mean, 2);
                assertEquals(0.9 * rm[ch] + 0.1 * mean, bn.runningMean().get(ch), 1e-6);
                assertEquals(0.9 * rv[ch] + 0.1 * ss / (m - 1), bn.runningVar().get(ch), 1e-6);
            }
        }
    }

    @ParameterizedTest(name = "linear bias={0}")
    @CsvSource({"true", "false"})
    void linear(boolean bias) {
        int n = 3, in = 7, out = 4;
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            Linear fc = new Linear(params, "fc", in, out, bias);
            check("linear", fc, params.parameters(), n, (x, pr) -> Reference.linear(x, pr[0], bias ? pr[1] : null, n, in, out), true,
                    uniform(new SplittableRandom(2), n * in, -1, 1), 13);
        }
    }

    @Test
    void relu() {
        int[] shape = {3, 4, 2};
        check("relu", new ReLU("relu", shape), List.of(), 2, (x, pr) -> Reference.relu(x), true,
                awayFromZero(new SplittableRandom(4), 48, 0.01), 17);
    }

    @ParameterizedTest(name = "maxpool k={0} s={1} p={2}")
    @CsvSource({"2, 2, 0", "3, 2, 1", "3, 1, 1"})
    void maxPool(int k, int s, int p) {
        int n = 2, c = 3, h = 7, w = 6;
        check("maxpool", new MaxPool2d("pool", new int[] {c, h, w}, k, s, p), List.of(), n,
                (x, pr) -> Reference.maxPool(x, n, c, h, w, k, s, p), true, uniform(new SplittableRandom(k * 10 + s), n * c * h * w, -1, 1), 19);
    }

    @ParameterizedTest(name = "avgpool k={0} s={1} p={2}")
    @CsvSource({"2, 2, 0", "3, 1, 1", "3, 2, 1"})
    void avgPool(int k, int s, int p) {
        int n = 2, c = 2, h = 6, w = 7;
        check("avgpool", new AvgPool2d("pool", new int[] {c, h, w}, k, s, p), List.of(), n,
                (x, pr) -> Reference.avgPool(x, n, c, h, w, k, s, p), true, uniform(new SplittableRandom(k * 10 + s + 1), n * c * h * w, -1, 1), 23);
    }

    @Test
    void globalAvgPoolAndFlatten() {
        int n = 3, c = 4, h = 3, w = 5;
        check("gap", new GlobalAvgPool("gap", new int[] {c, h, w}), List.of(), n, (x, pr) -> Reference.globalAvgPool(x, n, c, h * w), true,
                uniform(new SplittableRandom(6), n * c * h * w, -1, 1), 29);
        check("flatten", new Flatten("flat", new int[] {c, h, w}), List.of(), n, (x, pr) -> x.clone(), true,
                uniform(new SplittableRandom(7), n * c * h * w, -1, 1), 31);
    }

    @ParameterizedTest(name = "zero-pad shortcut {0}->{3} stride {4}")
    @CsvSource({"2, 5, 5, 4, 2", "2, 4, 6, 4, 1", "3, 6, 6, 8, 2"})
    void zeroPadShortcut(int c, int h, int w, int oc, int s) {
        int n = 2;
        check("zeropad", new ZeroPadShortcut("sc", new int[] {c, h, w}, oc, s), List.of(), n,
                (x, pr) -> Reference.zeroPadShortcut(x, n, c, h, w, oc, s), true, uniform(new SplittableRandom(c + h), n * c * h * w, -1, 1), 37);
    }

    @Test
    void dropoutMasksAndScales() {
        int n = 2;
        int[] shape = {3, 4};
        Dropout d = new Dropout("drop", shape, 0.25, 5);
        float[] x0 = awayFromZero(new SplittableRandom(8), 24, 0.1);
        // the reference multiplies by the mask the layer drew (read back from y / x)
        float[][] mask = new float[1][];
        try (ActivationMemory acts = new ActivationMemory("t"); Tensor x = Tensor.allocate(DType.F32, n, 3, 4)) {
            d.allocate(acts, n);
            acts.finish();
            x.copyFrom(x0);
            float[] y = d.forward(x, true).toFloatArray();
            mask[0] = new float[y.length];
            for (int i = 0; i < y.length; i++) {
                mask[0][i] = y[i] / x0[i];
                assertEquals(true, mask[0][i] == 0f || Math.abs(mask[0][i] - 1 / 0.75f) < 1e-6, "mask value " + mask[0][i]);
            }
        }
        Dropout replay = new Dropout("drop", shape, 0.25, 5); // same seed, first call: same mask
        check("dropout", replay, List.of(), n, (x, pr) -> {
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) y[i] = x[i] * mask[0][i];
            return y;
        }, true, x0, 41);
        check("dropout eval", new Dropout("drop", shape, 0.25, 5), List.of(), n, (x, pr) -> x.clone(), false, x0, 43);
    }

    @ParameterizedTest(name = "residual shortcut={0}")
    @CsvSource({"identity", "zeropad", "conv"})
    void residualBlock(String kind) {
        int n = 2, c = 2, h = 6, w = 5;
        boolean down = !kind.equals("identity");
        int oc = down ? 4 : c, s = down ? 2 : 1;
        int oh = (h + 2 - 3) / s + 1, ow = (w + 2 - 3) / s + 1;
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            int[] in = {c, h, w};
            var main = new Sequential.Builder("main", in);
            main.add(sh -> new Conv2d(params, "conv1", sh, oc, 3, s, 1, 1, false));
            main.add(sh -> new BatchNorm2d(params, "bn1", sh));
            main.add(sh -> new ReLU("relu1", sh));
            main.add(sh -> new Conv2d(params, "conv2", sh, oc, 3, 1, 1, 1, false));
            main.add(sh -> new BatchNorm2d(params, "bn2", sh));
            Layer shortcut = switch (kind) {
                case "zeropad" -> new ZeroPadShortcut("sc", in, oc, s);
                case "conv" -> new Sequential("sc", List.of(new Conv2d(params, "sc.0", in, oc, 1, s, 0, 1, false),
                        new BatchNorm2d(params, "sc.1", new int[] {oc, oh, ow})));
                default -> null;
            };
            Residual block = new Residual("block", main.build(), shortcut);
            Sequential net = new Sequential("net", List.of(block, new ReLU("relu", block.outputShape())));
            SplittableRandom rng = new SplittableRandom(kind.hashCode());
            List<Parameter> ps = new ArrayList<>(params.parameters());
            for (Parameter p : ps) {
                if (p.name().contains("bn") || p.name().equals("sc.1.weight") || p.name().equals("sc.1.bias")) {
                    p.value().copyFrom(uniform(rng, (int) p.size(), p.name().endsWith("weight") ? 0.5 : -0.5, p.name().endsWith("weight") ? 1.5 : 0.5));
                }
            }
            check("residual " + kind, net, ps, n, (x, pr) -> {
                double[] a = Reference.conv2d(x, pr[0], null, n, c, h, w, oc, 3, s, 1, 1);
                a = Reference.relu(Reference.batchNormTrain(a, pr[1], pr[2], n, oc, oh * ow, 1e-5));
                a = Reference.conv2d(a, pr[3], null, n, oc, oh, ow, oc, 3, 1, 1, 1);
                a = Reference.batchNormTrain(a, pr[4], pr[5], n, oc, oh * ow, 1e-5);
                double[] b = switch (kind) {
                    case "zeropad" -> Reference.zeroPadShortcut(x, n, c, h, w, oc, s);
                    case "conv" -> Reference.batchNormTrain(Reference.conv2d(x, pr[6], null, n, c, h, w, oc, 1, s, 0, 1), pr[7], pr[8], n, oc, oh * ow, 1e-5);
                    default -> x;
                };
                return Reference.relu(Reference.add(a, b));
            }, true, uniform(rng, n * c * h * w, -1, 1), 47);
        }
    }

    /** Residual sums in its own buffers (main's output or dx not owned by main) as well as in place. */
    @ParameterizedTest(name = "residual with pool first={0}")
    @CsvSource({"true", "false"})
    void residualWithOwnBuffers(boolean poolFirst) {
        int n = 2, c = 3, h = 5, w = 4;
        int[] in = {c, h, w};
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            Conv2d conv = new Conv2d(params, "conv", in, c, 3, 1, 1, 1, false);
            AvgPool2d pool = new AvgPool2d("pool", in, 3, 1, 1);
            Residual block = new Residual("block", new Sequential("main", poolFirst ? List.of(pool, conv) : List.of(conv, pool)), null);
            assertEquals(!poolFirst, block.main().ownsInputGradient());
            assertEquals(poolFirst, block.main().ownsOutput());
            check("residual own buffers", block, params.parameters(), n, (x, pr) -> {
                double[] a = poolFirst ? Reference.conv2d(Reference.avgPool(x, n, c, h, w, 3, 1, 1), pr[0], null, n, c, h, w, c, 3, 1, 1, 1)
                        : Reference.avgPool(Reference.conv2d(x, pr[0], null, n, c, h, w, c, 3, 1, 1, 1), n, c, h, w, 3, 1, 1);
                return Reference.add(a, x);
            }, true, uniform(new SplittableRandom(poolFirst ? 1 : 2), n * c * h * w, -1, 1), 53);
        }
    }

    @ParameterizedTest(name = "cross-entropy smoothing={0}")
    @CsvSource({"0.0", "0.1"})
    void softmaxCrossEntropy(double eps) {
        int n = 4, k = 5;
        int[] labels = {0, 3, 4, 3};
        float[] z0 = uniform(new SplittableRandom(9), n * k, -3, 3);
        try (Tensor z = Tensor.of(z0, n, k); Tensor d = Tensor.allocate(DType.F32, n, k)) {
            double[] zd = GradCheck.toDouble(z0);
            double value = SoftmaxCrossEntropy.compute(z, labels, eps, d).meanLoss();
            assertEquals(Reference.crossEntropy(zd, labels, k, eps), value, 1e-5);
            GradCheck.compare("dlogits", GradCheck.toDouble(d.toFloatArray()),
                    GradCheck.numeric(zd, () -> Reference.crossEntropy(zd, labels, k, eps)), 1e-6, 1e-3);
        }
    }
}
