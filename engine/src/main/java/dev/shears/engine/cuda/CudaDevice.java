package dev.shears.engine.cuda;

import dev.shears.engine.nativelib.CudaDriver;
import dev.shears.engine.nativelib.CudaException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One opened CUDA device: its primary context, one non-blocking stream that every op is queued on,
 * the caching allocator over cuMemAlloc, pinned host staging, and our kernels (loaded on first use).
 * {@link #open} fails with one line naming what was looked for when there is no driver or no such
 * device: asking for cuda never silently runs on the CPU. Not thread safe: one training loop per device.
 * Pinned on the CPU by DeviceTest (the no-driver path); on a GPU by CudaKernelsGpuTest.
 */
public final class CudaDevice implements AutoCloseable {
    /** Raised when {@code --device cuda[:N]} cannot be honoured; the message says why and what to do. */
    public static final class Unavailable extends IllegalStateException {
        Unavailable(String message) {
            super(message);
        }
    }

    private final CudaDriver driver;
    private final Device device;
    private final int handle, ccMajor, ccMinor, multiprocessors;
    private final long context, stream, totalBytes;
    private final String name;
    private final DeviceAllocator allocator;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private CudaKernels kernels;
    private dev.shears.engine.nativelib.DeviceGemm gemm;
    private boolean closed;

    private CudaDevice(CudaDriver driver, Device device) {
        this.driver = driver;
        this.device = device;
        this.handle = driver.device(device.ordinal());
        this.name = driver.deviceName(handle);
        this.ccMajor = driver.attribute(CudaDriver.ATTR_CC_MAJOR, handle);
        this.ccMinor = driver.attribute(CudaDriver.ATTR_CC_MINOR, handle);
        this.multiprocessors = driver.attribute(CudaDriver.ATTR_MULTIPROCESSOR_COUNT, handle);
        this.totalBytes = driver.totalMemory(handle);
        this.context = driver.primaryContext(handle);
        makeCurrent();
        this.stream = driver.createStream(CudaDriver.STREAM_NON_BLOCKING);
        this.allocator = new DeviceAllocator(new DeviceAllocator.Backend() {
            @Override
            public long malloc(long bytes) {
                try {
                    return driver.malloc(bytes);
                } catch (CudaException e) {
                    if (e.code() == 2) throw new DeviceAllocator.OutOfDeviceMemory(CudaDevice.this.device + " (" + name + "): " + e.getMessage(), e);
                    throw e;
                }
            }

            @Override
            public void free(long address) {
                driver.free(address);
            }
        });
    }

    /**
     * Opens {@code device} (a cuda one).
     * @throws Unavailable when no driver loads, it sees no device, or the ordinal is out of range
     */
    public static CudaDevice open(Device device) {
        return open(device, CudaDriver.probe());
    }

    /** As {@link #open(Device)} with the given probe's driver (tests pass a fake one). */
    static CudaDevice open(Device device, CudaDriver.Probe probe) {
        if (!device.isCuda()) throw new IllegalArgumentException("CudaDevice.open needs a cuda device, got " + device);
        if (!probe.available()) throw new Unavailable("--device " + device + ": " + probe.line() + "; use --device cpu to run on the CPU");
        CudaDriver d = probe.driver();
        int count = d.deviceCount();
        if (count == 0) throw new Unavailable("--device " + device + ": the CUDA driver (" + d.source() + ") sees no device; use --device cpu");
        if (device.ordinal() >= count) {
            throw new Unavailable("--device " + device + ": the CUDA driver (" + d.source() + ") sees " + count + " device" + (count > 1 ? "s" : "")
                    + " (cuda:0" + (count > 1 ? " to cuda:" + (count - 1) : "") + ")");
        }
        return new CudaDevice(d, device);
    }

    /**
     * One line per CUDA device this machine has, or one saying why there is none; starts no context.
     * For {@code shears info}.
     */
    public static List<String> describeAll() {
        CudaDriver.Probe probe = CudaDriver.probe();
        if (!probe.available()) return List.of(probe.line());
        CudaDriver d = probe.driver();
        List<String> out = new ArrayList<>();
        try {
            int count = d.deviceCount();
            String version = d.driverVersion() / 1000 + "." + (d.driverVersion() % 1000) / 10;
            if (count == 0) return List.of("the CUDA driver " + version + " (" + d.source() + ") sees no device");
            for (int i = 0; i < count; i++) {
                int h = d.device(i);
                out.add("cuda:" + i + " " + d.deviceName(h) + " (sm_" + d.attribute(CudaDriver.ATTR_CC_MAJOR, h) + d.attribute(CudaDriver.ATTR_CC_MINOR, h)
                        + ", " + Math.round(d.totalMemory(h) / (double) (1L << 30)) + " GiB, " + d.attribute(CudaDriver.ATTR_MULTIPROCESSOR_COUNT, h)
                        + " SMs), driver " + version + " (" + d.source() + ")");
            }
        } catch (CudaException e) {
            return List.of("the CUDA driver (" + d.source() + ") failed: " + e.getMessage());
        }
        return out;
    }

    /** Makes this device's context current on the calling thread (once per thread). */
    public void makeCurrent() {
        if (!current.get()) {
            driver.setCurrent(context);
            current.set(true);
        }
    }

    public Device device() {
        return device;
    }

    public String name() {
        return name;
    }

    /** "sm_90" and the like. */
    public String architecture() {
        return "sm_" + ccMajor + ccMinor;
    }

    public long totalBytes() {
        return totalBytes;
    }

    public long stream() {
        return stream;
    }

    public CudaDriver driver() {
        return driver;
    }

    /** Our kernels, loaded on first use ({@code -Dshears.cuda.kernels=auto|nvrtc|ptx}). */
    public CudaKernels kernels() {
        if (kernels == null) {
            makeCurrent();
            kernels = new CudaKernels(driver, ccMajor, ccMinor, multiprocessors, System.getProperty("shears.cuda.kernels", "auto").strip());
        }
        return kernels;
    }

    /** cuBLAS on this device's stream, opened on first use (needs libcudart and libcublas besides the driver). */
    public dev.shears.engine.nativelib.DeviceGemm gemm() {
        if (gemm == null) {
            makeCurrent();
            gemm = dev.shears.engine.nativelib.DeviceGemm.open(stream);
        }
        return gemm;
    }

    /** The ops on this device. */
    public CudaOps ops() {
        return new CudaOps(this);
    }

    // ---- memory --------------------------------------------------------------------------------

    /** {@code floats} floats of device memory from the caching allocator (contents undefined). */
    public DeviceBuffer allocate(long floats) {
        if (floats < 0) throw new IllegalArgumentException("cannot allocate " + floats + " floats on " + device);
        makeCurrent();
        long bytes = floats * Float.BYTES;
        return new DeviceBuffer(this, allocator.allocate(bytes), bytes);
    }

    void release(long address) {
        allocator.release(address);
    }

    public DeviceAllocator.Stats allocatorStats() {
        return allocator.stats();
    }

    /** Pinned host memory of {@code bytes}, for staging batches in and results out. */
    public PinnedBuffer pinned(long bytes) {
        makeCurrent();
        return new PinnedBuffer(this, driver.mallocHost(bytes));
    }

    void freePinned(MemorySegment segment) {
        driver.freeHost(segment);
    }

    /** Queues a copy of {@code bytes} from host memory (pinned for true asynchrony) to {@code dst}. */
    public void upload(MemorySegment host, long hostOffsetBytes, long dst, long bytes) {
        makeCurrent();
        driver.copyToDeviceAsync(dst, host.asSlice(hostOffsetBytes, bytes), bytes, stream);
    }

    /** Queues a copy of {@code bytes} from {@code src} to host memory; read it after {@link #synchronize}. */
    public void download(long src, MemorySegment host, long hostOffsetBytes, long bytes) {
        makeCurrent();
        driver.copyToHostAsync(host.asSlice(hostOffsetBytes, bytes), src, bytes, stream);
    }

    /** Queues a device-to-device copy. */
    public void copy(long src, long dst, long bytes) {
        makeCurrent();
        driver.copyOnDeviceAsync(dst, src, bytes, stream);
    }

    /** Queues zeroing {@code floats} floats at {@code dst}. */
    public void zero(long dst, long floats) {
        makeCurrent();
        driver.fill32Async(dst, 0, floats, stream);
    }

    /** Waits for everything queued on this device's stream; a kernel fault surfaces here. */
    public void synchronize() {
        makeCurrent();
        driver.synchronize(stream);
    }

    /** One line: the device, its architecture and memory, and how the kernels were loaded (when they were). */
    public String describe() {
        return device + " " + name + " (" + architecture() + ", " + Math.round(totalBytes / (double) (1L << 30)) + " GiB, " + multiprocessors + " SMs)"
                + (kernels == null ? "" : "; " + kernels.describe());
    }

    /** Synchronizes and hands the allocator's cached blocks back to the driver (blocks still in use stay). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        synchronize();
        if (gemm != null) gemm.close();
        allocator.emptyCache();
    }
}
