package dev.shears.engine.cuda;

import dev.shears.engine.nativelib.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper for the kernel tests: a device (real, or the host emulation), and moving
 * arrays to and from the device (each buffer freed at {@link #reset}). Copies wait for the stream.
 */
final class Gpu implements AutoCloseable {
    final CudaDevice device;
    final CudaOps ops;
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    private Gpu(CudaDevice device) {
        this.device = device;
        this.ops = device.ops();
    }

    static Gpu of(CudaDevice device) {
        return new Gpu(device);
    }

    /** cuda:0, or null when this machine has none. */
    static Gpu openIfPresent() {
        CudaDriver.Probe p = CudaDriver.probe();
        if (!p.available()) return null;
        try {
            return new Gpu(CudaDevice.open(Device.cuda(0)));
        } catch (CudaDevice.Unavailable e) {
            return null;
        }
    }


    long floats(long n) {
        DeviceBuffer b = device.allocate(Math.max(1, n));
        buffers.add(b);
        return b.address();
    }

    long put(float[] a) {
        long d = floats(a.length);
        upload(MemorySegment.ofArray(a), d, 4L * a.length);
        return d;
    }

    long put(int[] a) {
        long d = floats(a.length);
        upload(MemorySegment.ofArray(a), d, 4L * a.length);
        return d;
    }

    long put(double[] a) {
        long d = floats(2L * a.length);
        upload(MemorySegment.ofArray(a), d, 8L * a.length);
        return d;
    }

    /** {@code n} doubles (or longs) of zeros. */
    long zeros8(int n) {
        long d = floats(2L * n);
        device.zero(d, 2L * n);
        return d;
    }

    private void upload(MemorySegment heap, long dst, long bytes) {
        if (bytes == 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(bytes, 8);
            host.copyFrom(heap);
            device.upload(host, 0, dst, bytes);
            device.synchronize();
        }
    }

    private MemorySegment download(long src, long bytes, Arena a) {
        MemorySegment host = a.allocate(Math.max(8, bytes), 8);
        if (bytes > 0) device.download(src, host, 0, bytes);
        device.synchronize();
        return host;
    }

    float[] get(long src, int n) {
        try (Arena a = Arena.ofConfined()) {
            return download(src, 4L * n, a).asSlice(0, 4L * n).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    int[] getInts(long src, int n) {
        try (Arena a = Arena.ofConfined()) {
            return download(src, 4L * n, a).asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
        }
    }

    double[] getDoubles(long src, int n) {
        try (Arena a = Arena.ofConfined()) {
            return download(src, 8L * n, a).asSlice(0, 8L * n).toArray(ValueLayout.JAVA_DOUBLE);
        }
    }

    long[] getLongs(long src, int n) {
        try (Arena a = Arena.ofConfined()) {
            return download(src, 8L * n, a).asSlice(0, 8L * n).toArray(ValueLayout.JAVA_LONG);
        }
    }

    /** Synchronizes (a kernel fault surfaces here) and returns every buffer to the allocator. */
    void reset() {
        device.synchronize();
        for (DeviceBuffer b : buffers) b.close();
        buffers.clear();
    }

    @Override
    public void close() {
        reset();
        device.close();
    }
}
