package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Zoo models seen by pruning: identity bypasses found, counts and MACs as PAPER.md gives them. */
class ModelTopologyTest {
    @Test
    void resnet20OptionABypassesEveryBlockConv() {
        try (Network net = ModelZoo.create("resnet20", ModelConfig.cifar10())) {
            Predicate<String> bypassed = ModelTopology.identityBypassed(net);
            List<PrunableLayer> layers = PrunableLayer.of(net.parameters(), bypassed);
            assertEquals(20, layers.size(), "19 convolutions and the classifier");
            assertFalse(layers.get(0).hasIdentityBypass(), "the stem conv is on the only path");
            assertFalse(layers.get(layers.size() - 1).hasIdentityBypass(), "so is the classifier");
            for (PrunableLayer l : layers.subList(1, layers.size() - 1)) assertTrue(l.hasIdentityBypass(), l.name());
            // a collapsed block conv is survivable, a collapsed classifier is not
            long[] kept = new long[layers.size()];
            for (int i = 0; i < kept.length; i++) kept[i] = layers.get(i).count();
            kept[3] = 0;
            assertFalse(SparsityReport.of(layers, kept, 0).fatalCollapse());
            kept[kept.length - 1] = 0;
            assertEquals(List.of(layers.get(kept.length - 1).name()), SparsityReport.of(layers, kept, 0).fatalLayers());
        }
    }

    @Test
    void resnet50CountsAndMacsMatchThePaper() {
        try (Network net = ModelZoo.create("resnet50", ModelConfig.imagenet())) {
            Predicate<String> bypassed = ModelTopology.identityBypassed(net);
            List<PrunableLayer> layers = PrunableLayer.of(net.parameters(), bypassed);
            long[] kept = new long[layers.size()];
            for (int i = 0; i < kept.length; i++) kept[i] = layers.get(i).count();
            SparsityReport r = SparsityReport.of(layers, kept, net.poolMacs());
            assertEquals(54, layers.size());
            assertEquals(25_502_912L, r.weights(), "PAPER.md 2: STR's conv+FC weight count");
            assertEquals(4_089_284_608L, r.denseMacs(), "PAPER.md 2: STR's dense ResNet-50 FLOPs, pool included");
            // blocks with a 1x1 downsample conv shortcut (the first of each stage) have no identity path
            long bypassedCount = layers.stream().filter(PrunableLayer::hasIdentityBypass).count();
            assertEquals(3 * (16 - 4), bypassedCount, "the convs of the 12 identity-shortcut bottlenecks");
        }
    }
}
