package dev.shears.nn.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph description and the graph model as a zoo model: JSON round trip, errors that name the
 * node, the model rebuilt from its checkpoint alone with bit-identical logits, and which weights
 * have a path around them (identity and live).
 */
class GraphTest {
    /** A residual block with an identity shortcut, then a block whose shortcut is a 1x1 convolution, then a head. */
    static GraphSpec twoBlocks() {
        Map<String, String> conv3 = Map.of("out", "4", "kernel", "3", "stride", "1", "padding", "1", "groups", "1", "bias", "false");
        return new GraphSpec(new int[] {4, 6, 6}, List.of(
                new GraphSpec.Node("a1", "conv", List.of("input"), conv3, new int[] {4, 6, 6}),
                new GraphSpec.Node("a1bn", "batchnorm", List.of("a1"), Map.of("eps", "1e-5", "momentum", "0.1"), new int[] {4, 6, 6}),
                new GraphSpec.Node("a1r", "relu", List.of("a1bn"), Map.of(), new int[] {4, 6, 6}),
                new GraphSpec.Node("a2", "conv", List.of("a1r"), conv3, new int[] {4, 6, 6}),
                new GraphSpec.Node("a", "add", List.of("a2", "input"), Map.of(), new int[] {4, 6, 6}),
                new GraphSpec.Node("ar", "relu", List.of("a"), Map.of(), new int[] {4, 6, 6}),
                new GraphSpec.Node("b1", "conv", List.of("ar"), conv3, new int[] {4, 6, 6}),
                new GraphSpec.Node("sc", "conv", List.of("ar"), Map.of("out", "4", "kernel", "1", "stride", "1", "padding", "0", "groups", "1", "bias", "true"),
                        new int[] {4, 6, 6}),
                new GraphSpec.Node("b", "add", List.of("b1", "sc"), Map.of(), new int[] {4, 6, 6}),
                new GraphSpec.Node("gap", "globalavgpool", List.of("b"), Map.of(), new int[] {4}),
                new GraphSpec.Node("fc", "linear", List.of("gap"), Map.of("out", "3", "bias", "true"), new int[] {3})), "fc");
    }

    @Test
    void jsonRoundTrip() {
        GraphSpec g = twoBlocks();
        GraphSpec back = GraphSpec.fromJson(g.toJson(), "test");
        assertEquals(g, back);
        assertEquals(g.toJson(), back.toJson());
        assertArrayEquals(new int[] {3}, back.outputShape());
    }

    @Test
    void errorsNameTheNode() {
        GraphSpec g = twoBlocks();
        List<GraphSpec.Node> nodes = new java.util.ArrayList<>(g.nodes());
        GraphSpec.Node a2 = nodes.get(3);
        Map<String, String> five = new java.util.HashMap<>(a2.attributes());
        five.put("out", "5"); // the conv makes 5 channels but the description says 4 (and the add needs 4)
        nodes.set(3, new GraphSpec.Node("a2", "conv", a2.inputs(), five, a2.shape()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.graph(new GraphSpec(g.input(), nodes, "fc"), 0));
        assertTrue(e.getMessage().contains("'a2' (conv) outputs (5, 6, 6) but the description says (4, 6, 6)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GraphSpec.fromJson(g.toJson().replace("\"op\":\"relu\"", "\"op\":\"gelu\""), "ck.safetensors"));
        assertTrue(e.getMessage().startsWith("ck.safetensors: graph node 'a1r': unknown op 'gelu'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GraphSpec.fromJson(g.toJson().replace("[\"a1bn\"]", "[\"b\"]"), "ck"));
        assertTrue(e.getMessage().contains("'a1r' reads 'b'") && e.getMessage().contains("topological order"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GraphSpec.fromJson("{\"nodes\": 3}", "ck"));
        assertTrue(e.getMessage().startsWith("ck: "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelZoo.create("graph", new ModelConfig(3, 6, 6, 3, 0, Map.of("graph", g.toJson()))));
        assertTrue(e.getMessage().contains("but the run has 3x6x6 inputs"), e.getMessage());
    }

    @Test
    void checkpointAloneRebuildsTheGraph(@TempDir Path dir) {
        Path file = dir.resolve("g.safetensors");
        float[] x = new float[2 * 4 * 36];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        float[] before;
        try (Network net = ModelZoo.graph(twoBlocks(), 7)) {
            for (Parameter p : net.parameters()) for (long i = 0; i < p.size(); i++) p.value().set(i, (float) rng.nextGaussian() * 0.3f);
            before = forward(net, x);
            Checkpoint.save(file, net, null, null);
        }
        try (Checkpoint ck = Checkpoint.read(file); Network back = ModelZoo.create(ck.spec()); Workspace ws = new Workspace("m")) {
            ck.restoreModel(back, ws);
            assertArrayEquals(before, forward(back, x));
        }
    }

    @Test
    void pathsAroundLayers() {
        try (Network net = ModelZoo.graph(twoBlocks(), 7)) {
            Graph g = (Graph) net.root();
            assertEquals(Set.of("a1.weight", "a2.weight"), g.weightsWithIdentityPathAround(), "only the identity block");
            assertEquals(Set.of("a1.weight", "a2.weight", "b1.weight", "sc.weight"), g.weightsWithLivePathAround(l -> false));
            // an empty shortcut conv leaves b1 with no live path around it, and the other way round
            assertEquals(Set.of("a1.weight", "a2.weight"), g.weightsWithLivePathAround(l -> l.name().equals("sc") || l.name().equals("b1")));
        }
    }

    private static float[] forward(Network net, float[] x) {
        try (Tensor t = Tensor.allocate(DType.F32, 2, 4, 6, 6)) {
            t.copyFrom(x);
            return net.forward(t, false).toFloatArray();
        }
    }
}
