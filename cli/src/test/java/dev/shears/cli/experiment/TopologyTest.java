package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Bypass and connectivity from the layer tree and the masks: ResNet identity paths, MobileNet-V2's conv shortcut, LeNet-5's chain. */
class TopologyTest {
    static void empty(Network n, Workspace ws, String name) {
        Parameter p = n.parameter(name);
        p.setMask(ws, new float[Math.toIntExact(p.size())]);
    }

    @Test
    void anEmptyConvInsideAResNetBlockIsBypassedByTheIdentity() {
        try (Network n = ModelZoo.create("resnet20", ModelConfig.cifar10()); Workspace ws = new Workspace("t")) {
            String conv = n.parameters().stream().map(Parameter::name).filter(s -> s.startsWith("layer2.1.conv2")).findFirst().orElseThrow();
            empty(n, ws, conv);
            Predicate<String> around = Topology.bypassed(n);
            assertTrue(around.test(conv), conv + " sits in a block with an identity shortcut");
            assertFalse(around.test("conv1.weight"), "the stem has no path around it");
            assertTrue(Topology.connected(n));
            empty(n, ws, "conv1.weight");
            assertFalse(Topology.connected(n), "an empty stem cuts the network");
        }
    }

    @Test
    void mobileNetV2sConvShortcutOnlyHelpsWhileItIsAlive() {
        try (Network n = ModelZoo.create("mobilenet-v2-cifar", ModelConfig.cifar10()); Workspace ws = new Workspace("t")) {
            String shortcut = n.parameters().stream().map(Parameter::name).filter(s -> s.contains("shortcut.0")).reduce((a, b) -> b).orElseThrow();
            String block = shortcut.substring(0, shortcut.indexOf(".shortcut"));
            String project = block + ".conv3.weight";
            empty(n, ws, project);
            assertTrue(Topology.bypassed(n).test(project), "the live 1x1 shortcut goes around " + project);
            assertTrue(Topology.connected(n));
            empty(n, ws, shortcut);
            assertFalse(Topology.bypassed(n).test(project), "with its shortcut empty too nothing goes around " + project);
            assertFalse(Topology.connected(n), "the paper's collapse: block and shortcut both empty cut the network");
        }
    }

    @Test
    void anyEmptyLayerCutsLeNet5() {
        try (Network n = ModelZoo.create("lenet5", ModelConfig.mnist()); Workspace ws = new Workspace("t")) {
            assertTrue(Topology.connected(n));
            empty(n, ws, "fc3.weight");
            assertFalse(Topology.bypassed(n).test("fc3.weight"));
            assertFalse(Topology.connected(n));
        }
    }
}
