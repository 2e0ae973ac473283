package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every method prunes exactly k = round(s * N) of a zoo model's prunable weights (MT paper mode:
 * exactly what its result says), the masks and the report agree, and pruned weights are zero.
 */
class ZooPruningTest {
    private static final PruneOptions OPTS = PruneOptions.DEFAULT.withSynflowRounds(5).withScoreBatches(2)
            .withMt(null).withSeed(3);

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "lenet5, global", "lenet5, global-mt", "lenet5, uniform", "lenet5, erk", "lenet5, random", "lenet5, lamp",
        "lenet5, snip", "lenet5, grasp", "lenet5, synflow",
        "resnet20, global", "resnet20, global-mt", "resnet20, uniform", "resnet20, erk", "resnet20, random", "resnet20, lamp",
        "resnet20, snip", "resnet20, grasp", "resnet20, synflow",
    })
    void everyMethodPrunesExactlyToTarget(String model, String method) {
        ModelConfig cfg = model.equals("lenet5") ? ModelConfig.mnist() : ModelConfig.of(1, 8, 8, 10).withShortcut("B");
        boolean gradient = Pruning.DATA_METHODS.contains(method) || method.equals("synflow");
        double[] levels = !gradient ? new double[] {0.0, 0.5, 0.9, 0.987} : model.equals("lenet5") ? new double[] {0.95} : new double[] {0.5, 0.95};
        for (double s : levels) {
            try (Network net = ModelZoo.create(model, cfg.withSeed(11)); Workspace masks = new Workspace("masks");
                 RandomSource data = new RandomSource(5, 8, 4, 10, net.inputShape())) {
                PruneOptions o = method.equals("global-mt") ? OPTS.withMt(MinimumThreshold.parse(s > 0.95 ? "20" : "0.05%",
                        s > 0.95 ? MinimumThreshold.Mode.PAPER : MinimumThreshold.Mode.EXACT)) : OPTS;
                Pruning.Outcome out = Pruning.pruneWithResult(net, method, s, o, data, masks);
                long n = 0, zeros = 0;
                for (Parameter p : net.parameters()) {
                    if (!p.prunable()) continue;
                    n += p.size();
                    for (long i = 0; i < p.size(); i++) {
                        if (p.mask().get(i) == 0f) {
                            zeros++;
                            assertEquals(0, Float.floatToRawIntBits(p.value().get(i)), p.name() + " " + i + " must be exactly +0");
                        }
                    }
                }
                long k = Math.round(s * n);
                boolean paper = out.result().method().contains("paper");
                assertEquals(paper ? out.result().prunedTotal() : k, zeros, method + " at " + s + ": " + out.note());
                assertEquals(n - zeros, out.report().kept());
                assertEquals(n, out.report().weights());
                if (paper) assertTrue(Math.abs(zeros - k) <= 0.001 * n, out.note());
            }
        }
    }
}
