package dev.shears.nn.rnn;

import dev.shears.engine.Tensor;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.ActivationMemory;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A copy of some parameters' values, to tell whether they changed since the matrices derived from
 * them (transposes, products of low-rank factors) were last built: batch-1 inference then skips
 * rebuilding them on every call (transposing a 128 x 384 matrix costs more than a 128-step GRU
 * pass needs). The comparison is {@link MemorySegment#mismatch} (bytes, so a NaN compares equal to
 * itself). Lives in the layer's activation memory; a fresh one says "changed" once.
 */
final class WeightSnapshot {
    private final List<Parameter> sources;
    private final Tensor copy; // the sources' values back to back
    private boolean valid;

    WeightSnapshot(ActivationMemory acts, String name, List<Parameter> sources) {
        this.sources = List.copyOf(sources);
        long n = 0;
        for (Parameter p : sources) n += p.size();
        this.copy = acts.floats(name, Math.toIntExact(n));
    }

    /** True (and the copy refreshed) when any source differs from the copy, or on the first call. */
    boolean changed() {
        MemorySegment c = copy.segment();
        boolean same = valid;
        long off = 0;
        for (Parameter p : sources) {
            long bytes = p.size() * 4;
            if (same && p.value().segment().asSlice(0, bytes).mismatch(c.asSlice(off, bytes)) != -1) same = false;
            off += bytes;
        }
        if (!same) {
            off = 0;
            for (Parameter p : sources) {
                long bytes = p.size() * 4;
                c.asSlice(off, bytes).copyFrom(p.value().segment().asSlice(0, bytes));
                off += bytes;
            }
        }
        valid = true;
        return !same;
    }
}
