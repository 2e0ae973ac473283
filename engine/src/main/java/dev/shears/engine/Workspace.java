package dev.shears.engine;

import java.lang.foreign.Arena;

/**
 * An owner of tensors: a shared arena (so the thread pool may touch the memory) that frees all of
 * them at once on {@link #close()}. Models own one for parameters, trainers one for activations;
 * a training step allocates from it only on its first run. Pinned by TensorTest.
 */
public final class Workspace implements AutoCloseable {
    private final String name;
    private final Arena arena = Arena.ofShared();
    private long bytes;

    public Workspace(String name) {
        this.name = name;
    }

    /** A zeroed tensor owned by this workspace. */
    public Tensor allocate(String tensorName, DType dtype, int... shape) {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("workspace '" + name + "' is closed; cannot allocate '" + tensorName + "'");
        }
        Tensor t = Tensor.allocate(arena, dtype, shape).named(tensorName);
        bytes += Math.max(1, t.size() * dtype.bytes);
        return t;
    }

    public Tensor floats(String tensorName, int... shape) {
        return allocate(tensorName, DType.F32, shape);
    }

    /** Bytes allocated so far. */
    public long bytes() {
        return bytes;
    }

    public Arena arena() {
        return arena;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
