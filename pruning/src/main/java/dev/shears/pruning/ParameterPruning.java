package dev.shears.pruning;

import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The bridge to nn: prunes a model's prunable {@link Parameter}s with a method and installs the
 * masks on them ({@link Parameter#setMask}, which also zeroes the pruned weights). The masks are
 * built in a scratch arena, then copied into the parameters' own mask tensors in {@code ws}.
 */
public final class ParameterPruning {
    private ParameterPruning() {}

    public static PruningResult prune(List<Parameter> parameters, PruningMethod method, double sparsity, Workspace ws,
                                      Predicate<String> bypassed) {
        List<PrunableLayer> layers = PrunableLayer.of(parameters, bypassed);
        try (Arena arena = Arena.ofShared()) {
            List<MemorySegment> masks = new ArrayList<>();
            for (PrunableLayer l : layers) masks.add(arena.allocate(Math.max(1, l.count()) * Float.BYTES, 64));
            PruningResult r = method.prune(layers, sparsity, masks);
            int l = 0;
            for (Parameter p : parameters) {
                if (!p.prunable()) continue;
                p.setMask(ws, masks.get(l).asSlice(0, p.size() * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT));
                l++;
            }
            return r;
        }
    }
}
