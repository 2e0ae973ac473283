package dev.shears.pruning;

import java.lang.foreign.MemorySegment;

/**
 * One layer's per-weight scores, as the selection sees them: {@code count} floats at the start of
 * {@code values} (for magnitude pruning, the weights themselves, read in place). {@code name} is
 * the layer's, for error messages. Not a copy and not an owner: the caller keeps the memory alive.
 */
public record ScoreSegment(String name, MemorySegment values, long count) {
    public ScoreSegment {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a score segment needs a layer name");
        if (values == null) throw new IllegalArgumentException("layer '" + name + "': no score memory");
        if (count < 0) throw new IllegalArgumentException("layer '" + name + "': negative count " + count);
        if (values.byteSize() < count * Float.BYTES) {
            throw new IllegalArgumentException("layer '" + name + "': " + count + " floats need " + count * Float.BYTES
                    + " bytes, its segment has " + values.byteSize());
        }
    }
}
