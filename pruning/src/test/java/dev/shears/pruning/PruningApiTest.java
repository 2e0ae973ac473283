package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The facade: the report's FLOPs on the zoo agree with published figures, its collapse verdict
 * knows residual paths, and every impossible request is one clear line.
 */
class PruningApiTest {
    @Test
    void denseFlopsOfTheZooAgreeWithPublishedFigures() {
        try (Network r50 = ModelZoo.create("resnet50", ModelConfig.imagenet())) { // built, never run
            SparsityReport r = Pruning.report(r50);
            assertEquals(25_502_912, r.weights());
            assertEquals(4_089_284_608L, r.denseMacs());  // STR: 4.09G, "about 4.1 GMACs"
            assertEquals(4.1e9, r.denseMacs(), 0.02e9);
            assertEquals(r.denseMacs(), r.sparseMacs());
            assertEquals(2048L * 7 * 7, r.unprunableMacs());
        }
        try (Network mb = ModelZoo.create("mobilenet-v1", ModelConfig.imagenet())) {
            SparsityReport r = Pruning.report(mb);
            assertEquals(4_209_088, r.weights());
            assertEquals(569e6, r.denseMacs(), 1e6);      // "569M"; 568.7M convs and FC + 50,176 pool
        }
    }

    @Test
    void sparseFlopsScaleEachLayerByItsDensity() {
        try (Network net = ModelZoo.create("resnet20", ModelConfig.of(1, 8, 8, 10)); Workspace masks = new Workspace("m")) {
            SparsityReport r = Pruning.prune(net, "uniform", 0.5, PruneOptions.DEFAULT, null, masks);
            long expected = r.unprunableMacs();
            for (Parameter p : net.parameters()) if (p.prunable()) expected += p.macsPerWeight() * p.kept();
            assertEquals(expected, r.sparseMacs());
            assertEquals(0.5, r.flopsPruned(), 0.01); // uniform: FLOPs pruned ~ sparsity
        }
    }

    private static void cut(Model m, String name, Workspace ws) {
        Parameter p = m.parameter(name);
        p.setMask(ws, new float[Math.toIntExact(p.size())]);
    }

    @Test
    void collapseIsFatalOnlyWithoutALivePathAround() {
        try (Network a = ModelZoo.create("resnet20", ModelConfig.of(1, 8, 8, 10)); Workspace ws = new Workspace("m")) {
            cut(a, "layer1.0.conv1.weight", ws); // identity shortcut around it
            SparsityReport r = Pruning.report(a);
            assertEquals(List.of("layer1.0.conv1.weight"), r.collapsedLayers());
            assertFalse(r.fatalCollapse(), r.table());
            cut(a, "linear.weight", ws);       // nothing goes around the classifier
            r = Pruning.report(a);
            assertEquals(List.of("linear.weight"), r.fatalLayers());
            assertTrue(r.table().contains("LAYER COLLAPSE (fatal)"));
        }
        try (Network b = ModelZoo.create("resnet20", ModelConfig.of(1, 8, 8, 10).withShortcut("B")); Workspace ws = new Workspace("m")) {
            cut(b, "layer2.0.shortcut.0.weight", ws); // the main branch still carries the signal
            assertFalse(Pruning.report(b).fatalCollapse());
            cut(b, "layer2.0.conv2.weight", ws);      // now both branches of the block are dead
            SparsityReport r = Pruning.report(b);
            assertEquals(List.of("layer2.0.conv2.weight", "layer2.0.shortcut.0.weight"), r.fatalLayers());
        }
    }

    private static String error(Runnable r) {
        String m = assertThrows(IllegalArgumentException.class, r::run).getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    @Test
    void impossibleRequestsAreOneClearLine() {
        try (TinyModel m = TinyModel.mlp(1, 6, 10, 3); Workspace ws = new Workspace("m")) {
            PruneOptions o = PruneOptions.DEFAULT;
            assertTrue(error(() -> Pruning.prune(m, "magnitude", 0.5, o, null, ws)).contains("unknown pruning method 'magnitude'"));
            assertTrue(error(() -> Pruning.prune(m, "global", 1.0, o, null, ws)).contains("outside [0, 1)"));
            assertTrue(error(() -> Pruning.prune(m, "global", -0.1, o, null, ws)).contains("outside [0, 1)"));
            assertTrue(error(() -> Pruning.prune(m, "global", Double.NaN, o, null, ws)).contains("outside [0, 1)"));
            assertTrue(error(() -> Pruning.prune(m, "global-mt", 0.5, o, null, ws)).contains("needs --mt"));
            MinimumThreshold big = MinimumThreshold.parse("40%", MinimumThreshold.Mode.EXACT);
            assertTrue(error(() -> Pruning.prune(m, "global", 0.9, o.withMt(big), null, ws)).contains("impossible MT"));
            assertTrue(error(() -> Pruning.prune(m, "erk", 0.5, o.withMt(big), null, ws)).contains("--mt applies to method global"));
            assertTrue(error(() -> Pruning.prune(m, "global", 0.5, o.withKeepFirstDense(true), null, ws)).contains("applies to method uniform"));
            assertTrue(error(() -> Pruning.prune(m, "snip", 0.5, o, null, ws)).contains("needs training data"));
            assertTrue(error(() -> Pruning.prune(m, "global", 0.5, o, null, null)).contains("workspace to own the masks"));
            assertTrue(error(() -> o.withSynflowRounds(0)).contains("--synflow-rounds"));
            for (Parameter p : m.parameters()) assertEquals(null, p.mask(), "a failed request installs nothing");
        }
    }
}
