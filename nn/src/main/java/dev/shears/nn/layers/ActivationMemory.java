package dev.shears.nn.layers;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * The batch-sized memory of one network: each layer's outputs and input gradients (allocated in
 * {@link Layer#allocate}) plus scratch slots shared by all layers (im2col columns, transposed
 * outputs), sized to the largest request once every layer has allocated. Layers run one at a
 * time, so sharing a slot is safe; nothing is allocated again until the batch size changes.
 * Not thread-safe during allocation. Pinned by the layer tests and NetworkTest.
 */
public final class ActivationMemory implements AutoCloseable {
    /** Scratch slots: im2col columns (and their gradient), outputs in (C, N*H*W) order. */
    public enum Slot { COLUMNS, ROWS }

    private final Workspace workspace;
    private final long[] need = new long[Slot.values().length];
    private final MemorySegment[] scratch = new MemorySegment[Slot.values().length];
    private boolean finished;

    public ActivationMemory(String name) {
        this.workspace = new Workspace(name);
    }

    public Tensor floats(String name, int... shape) {
        return workspace.floats(name, shape);
    }

    public Tensor ints(String name, int... shape) {
        return workspace.allocate(name, DType.I32, shape);
    }

    /** Declares that a layer needs {@code floats} of scratch in {@code slot} (before {@link #finish}). */
    public void reserve(Slot slot, long floats) {
        if (finished) throw new IllegalStateException("scratch reserved after the activations were finished");
        need[slot.ordinal()] = Math.max(need[slot.ordinal()], floats);
    }

    /** Allocates the scratch slots at their largest requested size. */
    public void finish() {
        for (Slot s : Slot.values()) {
            if (need[s.ordinal()] > 0) scratch[s.ordinal()] = workspace.floats("scratch." + s, Math.toIntExact(need[s.ordinal()])).segment();
        }
        finished = true;
    }

    /** The scratch segment of a slot (at least what was reserved). */
    public MemorySegment scratch(Slot slot) {
        MemorySegment s = scratch[slot.ordinal()];
        if (s == null) throw new IllegalStateException("scratch slot " + slot + " was not reserved or the activations are not finished");
        return s;
    }

    /** Bytes held. */
    public long bytes() {
        return workspace.bytes();
    }

    @Override
    public void close() {
        workspace.close();
    }
}
