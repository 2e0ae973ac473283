package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Pruning nn Parameters: masks installed on prunable ones only, pruned weights zeroed, report agrees. */
class ParameterPruningTest {
    @Test
    void masksGoOntoPrunableParametersOnly() {
        try (Workspace ws = new Workspace("test")) {
            Parameter conv = new Parameter(ws, "conv.weight", true, 64, 4, 2, 3, 3);
            Parameter bias = new Parameter(ws, "conv.bias", false, 0, 4);
            Parameter fc = new Parameter(ws, "fc.weight", true, 1, 10, 8);
            SplittableRandom r = new SplittableRandom(1);
            for (Parameter p : List.of(conv, bias, fc)) for (long i = 0; i < p.size(); i++) p.value().set(i, (float) r.nextGaussian());
            List<Parameter> params = List.of(conv, bias, fc);
            PruningResult res = ParameterPruning.prune(params, PruningMethods.create("global"), 0.75, ws, name -> false);
            assertEquals(Math.round(0.75 * (72 + 80)), res.prunedTotal());
            assertNull(bias.mask());
            assertEquals(72 - res.pruned()[0], conv.kept());
            assertEquals(80 - res.pruned()[1], fc.kept());
            for (Parameter p : List.of(conv, fc)) {
                // zero (its sign is nn's business: Parameter.applyMask, pinned by nn's OptimizerTest)
                for (long i = 0; i < p.size(); i++) if (p.mask().get(i) == 0f) assertTrue(p.value().get(i) == 0f, p.name() + " " + i);
            }
            SparsityReport report = SparsityReport.fromParameters(params, name -> false, 0);
            assertEquals(152 - res.prunedTotal(), report.kept());
            assertEquals(64L * conv.kept() + fc.kept(), report.sparseMacs());
        }
    }
}
