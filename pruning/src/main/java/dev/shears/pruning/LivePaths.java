package dev.shears.pruning;

import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.graph.Graph;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;
import dev.shears.nn.models.Network;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which prunable weights have a live path around them, for the report's collapse verdict: a
 * weight inside one branch of a residual block whose other branch is alive (the identity, a
 * parameter-free shortcut, or a branch none of whose conv/linear layers is empty). A layer-level
 * check on the current masks, not a graph reachability proof: a branch whose layers all keep
 * something counts as alive. In a graph model the graph answers: a path from the input to the
 * output around the layer that crosses no empty conv/linear. Models other than zoo
 * {@link Network}s have no known bypasses.
 * Pinned by PruningApiTest.
 */
final class LivePaths {
    private LivePaths() {}

    /** Names of the prunable weights with a live path around them, as the report's predicate. */
    static Predicate<String> bypassed(Model model) {
        if (!(model instanceof Network n)) return name -> false;
        Set<String> names = new HashSet<>();
        visit(n.root(), names);
        return names::contains;
    }

    private static void visit(Layer layer, Set<String> out) {
        if (layer instanceof Graph g) {
            out.addAll(g.weightsWithLivePathAround(l -> !alive(l)));
        } else if (layer instanceof Sequential s) {
            for (Layer l : s.layers()) visit(l, out);
        } else if (layer instanceof Residual r) {
            boolean mainAlive = alive(r.main());
            boolean shortcutAlive = r.shortcut() == null || alive(r.shortcut());
            if (shortcutAlive) weights(r.main(), out);
            if (mainAlive && r.shortcut() != null) weights(r.shortcut(), out);
            visit(r.main(), out);
            if (r.shortcut() != null) visit(r.shortcut(), out);
        }
    }

    /** True when signal still flows through {@code layer}: no empty conv/linear on its only path. */
    static boolean alive(Layer layer) {
        if (layer instanceof Conv2d c) return kept(c.weight());
        if (layer instanceof Linear l) return kept(l.weight());
        if (layer instanceof Sequential s) {
            for (Layer l : s.layers()) if (!alive(l)) return false;
            return true;
        }
        if (layer instanceof Residual r) return alive(r.main()) || r.shortcut() == null || alive(r.shortcut());
        return true;
    }

    private static boolean kept(Parameter p) {
        return p.size() == 0 || p.kept() > 0;
    }

    private static void weights(Layer layer, Set<String> out) {
        Network.walk(layer, l -> {
            if (l instanceof Conv2d c) out.add(c.weight().name());
            if (l instanceof Linear li) out.add(li.weight().name());
        });
    }
}
