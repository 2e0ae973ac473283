package dev.shears.pruning;

import dev.shears.nn.Parameter;
import dev.shears.nn.graph.Graph;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.models.Network;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which prunable weights of a zoo {@link Network} have an identity path around them: those inside
 * the main branch of a residual block whose shortcut holds no prunable weight (an identity or a
 * zero-padding shortcut), so emptying them does not cut the input from the output. A weight is
 * matched to its layer by name (layer {@code a.b} owns {@code a.b.weight}). A graph model answers
 * for itself (a join fed through the layer and, around it, through nodes without prunable
 * weights: {@link Graph#weightsWithIdentityPathAround()}). Pinned by ModelTopologyTest and GraphTest.
 */
public final class ModelTopology {
    private ModelTopology() {}

    /** The names of the bypassed prunable parameters, as a predicate for {@link PrunableLayer#of}. */
    public static Predicate<String> identityBypassed(Network net) {
        Set<String> prunable = new HashSet<>();
        for (Parameter p : net.parameters()) if (p.prunable()) prunable.add(p.name());
        Set<String> bypassed = new HashSet<>();
        Network.walk(net.root(), layer -> {
            if (layer instanceof Graph g) bypassed.addAll(g.weightsWithIdentityPathAround());
            if (!(layer instanceof Residual r)) return;
            if (r.shortcut() != null && !owned(r.shortcut(), prunable).isEmpty()) return;
            bypassed.addAll(owned(r.main(), prunable));
        });
        return bypassed::contains;
    }

    /** The prunable parameters of this layer and everything inside it. */
    private static List<String> owned(Layer layer, Set<String> prunable) {
        List<String> out = new ArrayList<>();
        Network.walk(layer, l -> {
            String w = l.name() + ".weight";
            if (prunable.contains(w)) out.add(w);
        });
        return out;
    }
}
