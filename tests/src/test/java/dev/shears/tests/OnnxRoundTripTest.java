package dev.shears.tests;

import static dev.shears.tests.OnnxFixturesTest.assertClose;
import static dev.shears.tests.OnnxFixturesTest.forward;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.models.SparseInference;
import dev.shears.nn.onnx.OnnxExport;
import dev.shears.nn.onnx.OnnxImport;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * import(export(m)) computes m's logits: zoo models with non-trivial batch-norm statistics,
 * pruned to 90% (so the zeros travel), exported with batch norm as nodes and folded, imported
 * back as graphs, then run again through the sparse path (fused where the graph allows). Tolerance
 * 1e-4 + 1e-3 |expected| (folding reorders the arithmetic).
 */
class OnnxRoundTripTest {
    @ParameterizedTest(name = "{0} {1} fold={2}")
    @CsvSource({
        "lenet5, '', false, false",
        "resnet20, shortcut=A, false, false",
        "resnet20, shortcut=B, true, true",
        "mobilenet-v1, multiplier=0.25, true, true",
        "mobilenet-v2-cifar, '', false, true",
        "wrn-10-1, dropout=0.3, false, false",
    })
    void importOfExportGivesTheSameLogits(String name, String option, boolean fold, boolean fusable) {
        ModelConfig cfg = name.equals("lenet5") ? ModelConfig.mnist() : ModelConfig.of(3, 16, 16, 10);
        if (!option.isEmpty()) cfg = cfg.with(option.split("=")[0], option.split("=")[1]);
        try (Network m = ModelZoo.create(name, cfg.withSeed(3)); Workspace masks = new Workspace("masks")) {
            SplittableRandom rng = new SplittableRandom(name.hashCode());
            for (Map.Entry<String, Tensor> b : m.buffers().entrySet()) {
                Tensor t = b.getValue();
                boolean var = b.getKey().endsWith("running_var");
                for (long i = 0; i < t.size(); i++) t.set(i, (float) (var ? 0.5 + rng.nextDouble() : 0.2 * rng.nextGaussian()));
            }
            for (Parameter p : m.parameters()) {
                if (p.prunable() || p.shape().length != 1) continue;
                for (long i = 0; i < p.size(); i++) p.value().set(i, (float) (p.name().endsWith("weight") ? 0.5 + rng.nextDouble() : 0.2 * rng.nextGaussian()));
            }
            Pruning.prune(m, "global", 0.9, PruneOptions.DEFAULT, null, masks);
            int[] shape = {2, cfg.channels(), cfg.height(), cfg.width()};
            float[] x = new float[2 * cfg.channels() * cfg.height() * cfg.width()];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            float[] expected = forward(m, x, shape);
            var onnx = OnnxExport.toModel(m, OnnxExport.Options.defaults().withFoldBatchNorm(fold));
            try (Network back = OnnxImport.fromModel(onnx, name + ".onnx")) {
                assertEquals(m.classes(), back.classes());
                assertClose(name + " round trip", expected, forward(back, x, shape));
                long prunable = m.parameters().stream().filter(Parameter::prunable).mapToLong(Parameter::size).sum();
                assertEquals(prunable, back.parameters().stream().filter(Parameter::prunable).mapToLong(Parameter::size).sum(), "same prunable weights");
                SparseInference.sparsify(back, 2, false); // the sparse layers, and the fused path where the graph is made of what it covers
                assertEquals(fusable, SparseInference.fused(back), SparseInference.fusedStatus(back));
                assertClose(name + " round trip, sparse", expected, forward(back, x, shape));
            }
        }
    }
}
