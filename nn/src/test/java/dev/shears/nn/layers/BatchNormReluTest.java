package dev.shears.nn.layers;

import static dev.shears.nn.layers.GradCheck.check;
import static dev.shears.nn.layers.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused steps a Sequential runs: BatchNorm2d + ReLU (training and evaluation), Residual + ReLU,
 * and a ReLU whose backward runs in the next Residual's gradient add (after a join and after a
 * convolution) against finite differences of double references; and the fused BN + ReLU against the
 * same two layers run one by one (forward bit for bit, since both normalise with one fma).
 */
class BatchNormReluTest {

    @ParameterizedTest(name = "bn+relu training={0}")
    @CsvSource({"true", "false"})
    void batchNormReluPairMatchesFiniteDifferences(boolean training) {
        int n = 3, c = 3, h = 3, w = 2;
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            int[] shape = {c, h, w};
            BatchNorm2d bn = new BatchNorm2d(params, "bn", shape);
            SplittableRandom rng = new SplittableRandom(17);
            bn.weight().value().copyFrom(uniform(rng, c, 0.5, 1.5));
            bn.bias().value().copyFrom(uniform(rng, c, -0.5, 0.5));
            float[] rm = uniform(rng, c, -0.3, 0.3), rv = uniform(rng, c, 0.5, 2);
            bn.runningMean().copyFrom(rm);
            bn.runningVar().copyFrom(rv);
            Sequential pair = new Sequential("pair", List.of(bn, new ReLU("relu", shape)));
            check("bn+relu", pair, params.parameters(), n, (x, pr) -> Reference.relu(training
                            ? Reference.batchNormTrain(x, pr[0], pr[1], n, c, h * w, 1e-5)
                            : Reference.batchNormEval(x, pr[0], pr[1], GradCheck.toDouble(rm), GradCheck.toDouble(rv), n, c, h * w, 1e-5)),
                    training, uniform(rng, n * c * h * w, -2, 3), 19);
        }
    }

    /** conv-relu-[block]-relu-[block]-relu: the middle ReLU's mask runs in the second join, the first ReLU's in the first join. */
    @ParameterizedTest(name = "residual chain, first ReLU after {0}")
    @CsvSource({"conv", "bn"})
    void reluMasksRunInsideTheJoins(String first) {
        int n = 2, c = 2, h = 4, w = 3;
        int[] shape = {c, h, w};
        try (Workspace ws = new Workspace("t")) {
            Params params = GradCheck.params(ws);
            List<Layer> layers = new ArrayList<>();
            layers.add(new Conv2d(params, "stem", shape, c, 3, 1, 1, 1, false));
            if (first.equals("bn")) layers.add(new BatchNorm2d(params, "stem.bn", shape));
            layers.add(new ReLU("stem.relu", shape));
            layers.add(block(params, "b1", shape));
            layers.add(new ReLU("b1.relu", shape));
            layers.add(block(params, "b2", shape));
            layers.add(new ReLU("b2.relu", shape));
            Sequential net = new Sequential("net", layers);
            SplittableRandom rng = new SplittableRandom(first.hashCode());
            List<Parameter> ps = new ArrayList<>(params.parameters());
            for (Parameter p : ps) {
                if (p.name().contains("bn")) p.value().copyFrom(uniform(rng, (int) p.size(), p.name().endsWith("weight") ? 0.5 : -0.5, p.name().endsWith("weight") ? 1.5 : 0.5));
            }
            boolean bn = first.equals("bn");
            check("residual chain " + first, net, ps, n, (x, pr) -> {
                int k = 0;
                double[] a = Reference.conv2d(x, pr[k++], null, n, c, h, w, c, 3, 1, 1, 1);
                if (bn) a = Reference.batchNormTrain(a, pr[k++], pr[k++], n, c, h * w, 1e-5);
                a = Reference.relu(a);
                for (int b = 0; b < 2; b++) {
                    double[] m = Reference.conv2d(a, pr[k++], null, n, c, h, w, c, 3, 1, 1, 1);
                    m = Reference.batchNormTrain(m, pr[k++], pr[k++], n, c, h * w, 1e-5);
                    a = Reference.relu(Reference.add(m, a));
                }
                return a;
            }, true, uniform(rng, n * c * h * w, -1, 1), 53);
        }
    }

    private static Layer block(Params params, String name, int[] shape) {
        var main = new Sequential.Builder(name + ".main", shape);
        main.add(s -> new Conv2d(params, name + ".conv", s, shape[0], 3, 1, 1, 1, false));
        main.add(s -> new BatchNorm2d(params, name + ".bn", s));
        return new Residual(name, main.build(), null);
    }

    @ParameterizedTest(name = "fused equals layer by layer, training={0}")
    @CsvSource({"true", "false"})
    void fusedForwardEqualsTheTwoLayersOneByOne(boolean training) {
        int n = 5, c = 4, h = 7, w = 9; // planes of 63: a vector body and a tail
        int[] shape = {c, h, w};
        try (Workspace ws = new Workspace("t"); ActivationMemory acts = new ActivationMemory("t");
             Tensor x = Tensor.allocate(DType.F32, n, c, h, w)) {
            Params params = GradCheck.params(ws);
            BatchNorm2d bn = new BatchNorm2d(params, "bn", shape);
            ReLU relu = new ReLU("relu", shape);
            SplittableRandom rng = new SplittableRandom(23);
            bn.weight().value().copyFrom(uniform(rng, c, -1.5, 1.5)); // negative gammas flip the mask
            bn.bias().value().copyFrom(uniform(rng, c, -0.5, 0.5));
            x.copyFrom(uniform(rng, n * c * h * w, -2, 3));
            Sequential pair = new Sequential("pair", List.of(bn, relu));
            pair.allocate(acts, n);
            acts.finish();
            float[] rm = bn.runningMean().toFloatArray(), rv = bn.runningVar().toFloatArray();
            float[] fused = pair.forward(x, training).toFloatArray();
            bn.runningMean().copyFrom(rm);
            bn.runningVar().copyFrom(rv);
            float[] alone = relu.forward(bn.forward(x, training), training).toFloatArray();
            assertArrayEquals(alone, fused, "relu(bn(x)) one pass vs two");
        }
    }
}
