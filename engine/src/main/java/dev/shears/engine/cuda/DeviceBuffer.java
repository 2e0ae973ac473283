package dev.shears.engine.cuda;

/**
 * A block of device memory from a {@link CudaDevice}'s caching allocator: its address and the bytes
 * asked for (the block may be larger). Closing it returns the block to the allocator, not to the
 * driver. Addresses of float elements inside it come from {@link #at}. Not thread safe.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final long address, bytes;
    private boolean closed;

    DeviceBuffer(CudaDevice device, long address, long bytes) {
        this.device = device;
        this.address = address;
        this.bytes = bytes;
    }

    public long address() {
        requireOpen();
        return address;
    }

    public long bytes() {
        return bytes;
    }

    public long floats() {
        return bytes / Float.BYTES;
    }

    /** The device address of float element {@code index}. */
    public long at(long index) {
        requireOpen();
        if (index < 0 || index * Float.BYTES > bytes) throw new IndexOutOfBoundsException("float " + index + " of a " + bytes + "-byte device buffer");
        return address + index * Float.BYTES;
    }

    public CudaDevice device() {
        return device;
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("device buffer of " + bytes + " bytes used after close");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.release(address);
    }
}
