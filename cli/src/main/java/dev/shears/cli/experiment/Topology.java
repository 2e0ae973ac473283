package dev.shears.cli.experiment;

import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;
import dev.shears.nn.models.Network;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Which prunable layers have a live path around them, from a zoo network's layer tree and its
 * current masks: a layer is bypassed when some residual block that holds it has another branch
 * that still carries signal (the identity, or a shortcut/main branch none of whose convolutions
 * is empty). So a collapsed layer in a ResNet block is harmless, while MobileNet-V2's collapsed
 * 1x1 shortcut together with its block's projection cuts the network (the paper's 4.3). The
 * pruning module's report takes this as its bypass predicate. Not a graph library: sequential and
 * residual containers only. Pinned by TopologyTest.
 */
final class Topology {
    private Topology() {}

    /** The bypass predicate for {@code model}'s current masks (none for a model that is not a zoo network). */
    static Predicate<String> bypassed(Model model) {
        if (!(model instanceof Network n)) return name -> false;
        Map<String, Boolean> out = new HashMap<>();
        visit(n.root(), false, out);
        return name -> out.getOrDefault(name, false);
    }

    /** Whether the network's output still depends on its input (no cut through empty layers). */
    static boolean connected(Model model) {
        return !(model instanceof Network n) || conducts(n.root());
    }

    private static void visit(Layer l, boolean around, Map<String, Boolean> out) {
        switch (l) {
            case Sequential s -> s.layers().forEach(c -> visit(c, around, out));
            case Residual r -> {
                boolean shortcutLive = r.shortcut() == null || conducts(r.shortcut());
                visit(r.main(), around || shortcutLive, out);
                if (r.shortcut() != null) visit(r.shortcut(), around || conducts(r.main()), out);
            }
            case Conv2d c -> out.put(c.weight().name(), around);
            case Linear f -> out.put(f.weight().name(), around);
            default -> { }
        }
    }

    private static boolean conducts(Layer l) {
        return switch (l) {
            case Sequential s -> s.layers().stream().allMatch(Topology::conducts);
            case Residual r -> conducts(r.main()) || r.shortcut() == null || conducts(r.shortcut());
            case Conv2d c -> alive(c.weight());
            case Linear f -> alive(f.weight());
            default -> true;
        };
    }

    private static boolean alive(Parameter p) {
        return p.kept() > 0;
    }
}
