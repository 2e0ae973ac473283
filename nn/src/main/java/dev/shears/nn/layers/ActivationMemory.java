package dev.shears.nn.layers;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * The batch-sized memory of one network: each layer's outputs and input gradients (allocated in
 * {@link Layer#allocate}) plus scratch slots shared by all layers (im2col columns, transposed
 * outputs), sized to the largest request once every layer has allocated. Layers run one at a
 * time, so sharing a slot is safe. Tensors are cached by name, so a network can re-bind its
 * layers to a memory it used before (another batch size) without allocating.
 * Not thread-safe during allocation. Pinned by the layer tests and NetworkTest.
 */
public final class ActivationMemory implements AutoCloseable {
    /** Scratch slots: im2col columns (and their gradient), outputs in (C, N*H*W) order, per-thread weight-gradient partial sums. */
    public enum Slot { COLUMNS, ROWS, WEIGHT_GRADIENTS }

    private final Workspace workspace;
    private final long[] need = new long[Slot.values().length];
    private final MemorySegment[] scratch = new MemorySegment[Slot.values().length];
    private final java.util.Map<String, Tensor> tensors = new java.util.HashMap<>();
    private boolean finished;

    public ActivationMemory(String name) {
        this.workspace = new Workspace(name);
    }

    /** A zeroed float tensor; asking again for the same name and shape returns the same tensor (no new memory). */
    public Tensor floats(String name, int... shape) {
        return cached(name, DType.F32, shape);
    }

    public Tensor ints(String name, int... shape) {
        return cached(name, DType.I32, shape);
    }

    private Tensor cached(String name, DType dtype, int[] shape) {
        Tensor t = tensors.get(name);
        if (t != null) {
            if (t.dtype() != dtype || !java.util.Arrays.equals(t.shape(), shape)) {
                throw new IllegalStateException("activation '" + name + "' was " + t.dtype() + " " + dev.shears.engine.Shape.str(t.shape())
                        + ", now asked as " + dtype + " " + dev.shears.engine.Shape.str(shape) + " (two layers with one name?)");
            }
            return t;
        }
        t = workspace.allocate(name, dtype, shape);
        tensors.put(name, t);
        return t;
    }

    /** Declares that a layer needs {@code floats} of scratch in {@code slot}; after {@link #finish} only what is already there. */
    public void reserve(Slot slot, long floats) {
        if (finished && floats > need[slot.ordinal()]) {
            throw new IllegalStateException("scratch " + slot + " of " + floats + " floats reserved after the activations were finished with "
                    + need[slot.ordinal()]);
        }
        need[slot.ordinal()] = Math.max(need[slot.ordinal()], floats);
    }

    /** Allocates the scratch slots at their largest requested size (once; later calls keep them). */
    public void finish() {
        if (finished) return;
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
