package dev.shears.engine.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory ({@code cuMemAllocHost}) for the per-step input batch and labels and for
 * the losses read back: copies from and to it are truly asynchronous, so they overlap the kernels.
 * One per staging slot, reused every step (no allocation in the steady state). Not thread safe.
 */
public final class PinnedBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment segment;
    private boolean closed;

    PinnedBuffer(CudaDevice device, MemorySegment segment) {
        this.device = device;
        this.segment = segment;
    }

    /** The host memory; valid until {@link #close}. */
    public MemorySegment segment() {
        if (closed) throw new IllegalStateException("pinned buffer used after close");
        return segment;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.freePinned(segment);
    }
}
