package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.shears.engine.kernels.GemmBackend;
import dev.shears.engine.kernels.GemmBackends;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code cuda} GEMM backend: row-major BLAS semantics (see GemmKernel) on cuBLAS. Per call it
 * copies op(A) and op(B) up (unless they lie in a segment kept on the device), C up only when
 * beta != 0, runs one cuBLAS GEMM and copies C down. Device buffers are cached per role (A, B, C)
 * and grow geometrically, so steady calls allocate nothing. GEMMs with m*n*k below
 * {@code minFlops} run on the java GEMM. Calls are serialized (one handle, shared buffers).
 * Not a device tensor library: results always come back to the host. Pinned by CudaBackendContract,
 * run on the fake library (CudaGemmFakeTest) and on a GPU (CudaGemmGpuTest).
 *
 * <p>Weights: {@link #keepOnDevice} mirrors a host segment (a layer's weights) on the device once;
 * GEMMs reading any part of it use the mirror. After the host copy changes (an optimizer step),
 * call {@link Resident#hostChanged()}: the next GEMM that reads it uploads it again, once. A GEMM
 * whose C lies in a kept segment marks it changed itself.
 */
public final class CudaGemmBackend implements GemmBackend, AutoCloseable {
    private final CudaRuntime runtime;
    private final Cublas cublas;
    private final CudaGemm.Options options;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha, beta;
    private final DeviceBuffer bufA = new DeviceBuffer(), bufB = new DeviceBuffer(), bufC = new DeviceBuffer();
    private final HostStaging stageA = new HostStaging(), stageB = new HostStaging(), stageC = new HostStaging();
    /** Kept segments by host start address. */
    private final TreeMap<Long, Resident> residents = new TreeMap<>();
    private final int device;
    /** The thread that made the last device call: the runtime's current device is per thread. */
    private Thread lastThread;
    private long uploaded, downloaded, deviceCalls, javaCalls;
    private boolean closed;

    /** Bytes moved and calls made so far: what a caller can check to see transfers were skipped. */
    public record Traffic(long uploadedBytes, long downloadedBytes, long deviceCalls, long javaCalls) {}

    CudaGemmBackend(CudaGemm.Found found, CudaGemm.Options options) {
        this.runtime = found.runtime();
        this.cublas = found.cublas();
        this.options = options;
        this.device = found.device();
        runtime.setDevice(device);
        lastThread = Thread.currentThread();
        this.handle = cublas.create();
        cublas.setMathMode(handle, options.tf32() ? Cublas.TF32_TENSOR_OP_MATH : Cublas.DEFAULT_MATH);
        this.alpha = arena.allocate(JAVA_FLOAT);
        this.beta = arena.allocate(JAVA_FLOAT);
    }

    @Override
    public String name() {
        return "cuda";
    }

    public CudaGemm.Options options() {
        return options;
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alphaValue,
                      MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                      float betaValue, MemorySegment c, long cOffset, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || (long) m * n * k < options.minFlops()) {
            // Outside the lock: small GEMMs from several threads run side by side on the CPU.
            synchronized (this) {
                requireOpen();
                javaCalls++;
            }
            GemmBackends.java().sgemm(transA, transB, m, n, k, alphaValue, a, aOffset, lda, b, bOffset, ldb, betaValue, c, cOffset, ldc);
            return;
        }
        onDevice(transA, transB, m, n, k, alphaValue, a, aOffset, lda, b, bOffset, ldb, betaValue, c, cOffset, ldc);
    }

    private synchronized void onDevice(boolean transA, boolean transB, int m, int n, int k, float alphaValue,
                                       MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                                       float betaValue, MemorySegment c, long cOffset, int ldc) {
        requireOpen();
        // Shapes as stored (row-major): A is (k, m) when transposed, else (m, k); B likewise.
        long dA = operand(bufA, stageA, a, aOffset, lda, transA ? k : m, transA ? m : k);
        long dB = operand(bufB, stageB, b, bOffset, ldb, transB ? n : k, transB ? k : n);
        long cBytes = spanBytes(m, n, ldc);
        long dC = bufC.ensure(cBytes);
        // A heap C is staged with its current contents, so the gaps between rows (ldc > n) survive the copy back.
        MemorySegment hostC = c.isNative() ? c.asSlice(cOffset * 4, cBytes) : stageC.of(c, cOffset, cBytes, true);
        if (betaValue != 0) upload(dC, hostC, ldc, m, n);
        deviceGemm(transA, transB, m, n, k, alphaValue, dA, lda, dB, ldb, betaValue, dC, ldc);
        download(hostC, dC, ldc, m, n);
        if (!c.isNative()) MemorySegment.copy(hostC, 0, c, cOffset * 4, cBytes);
        else markChanged(hostC.address(), cBytes);
    }

    /**
     * Row-major {@code C = alpha op(A) op(B) + beta C} on device pointers (leading dimensions in floats).
     * cuBLAS is column-major: a row-major matrix is its transpose there, so row-major C = op(A) op(B)
     * is column-major C^T = op(B)^T op(A)^T, i.e. the operands swap and m and n swap.
     */
    synchronized void deviceGemm(boolean transA, boolean transB, int m, int n, int k, float alphaValue,
                                 long dA, int lda, long dB, int ldb, float betaValue, long dC, int ldc) {
        requireOpen();
        alpha.set(JAVA_FLOAT, 0, alphaValue);
        beta.set(JAVA_FLOAT, 0, betaValue);
        int opB = transB ? Cublas.OP_T : Cublas.OP_N, opA = transA ? Cublas.OP_T : Cublas.OP_N;
        if (options.tf32()) {
            cublas.gemmEx(handle, opB, opA, n, m, k, alpha, dB, ldb, dA, lda, beta, dC, ldc, Cublas.COMPUTE_32F_FAST_TF32);
        } else {
            cublas.sgemm(handle, opB, opA, n, m, k, alpha, dB, ldb, dA, lda, beta, dC, ldc);
        }
        deviceCalls++;
    }

    /** Queues this backend's cuBLAS calls on {@code stream} (the device layer's stream) instead of the default one. */
    synchronized void useStream(long stream) {
        requireOpen();
        cublas.setStream(handle, stream);
    }

    /**
     * Mirrors a native host segment on the device until {@link Resident#close()}; GEMM operands that
     * lie inside it are read from the mirror. The first GEMM that reads it uploads it.
     */
    public synchronized Resident keepOnDevice(MemorySegment host) {
        requireOpen();
        if (!host.isNative()) throw new IllegalArgumentException("keepOnDevice needs a native (off-heap) segment, got a heap segment");
        if (host.byteSize() == 0) throw new IllegalArgumentException("keepOnDevice: empty segment");
        long start = host.address(), end = start + host.byteSize();
        Map.Entry<Long, Resident> below = residents.floorEntry(end - 1);
        if (below != null && below.getValue().end() > start) {
            throw new IllegalArgumentException("keepOnDevice: segment at 0x" + Long.toHexString(start) + " (" + host.byteSize()
                    + " bytes) overlaps one already kept at 0x" + Long.toHexString(below.getKey()));
        }
        Resident r = new Resident(host, runtime.malloc(host.byteSize()));
        residents.put(start, r);
        return r;
    }

    /** A host segment mirrored on the device, with a version counter for "host copy changed". */
    public final class Resident implements AutoCloseable {
        private final MemorySegment host;
        private final long device;
        private long version = 1, uploadedVersion;
        private boolean released;

        private Resident(MemorySegment host, long device) {
            this.host = host;
            this.device = device;
        }

        /** Says the host copy changed; the next GEMM reading it uploads it again. */
        public void hostChanged() {
            synchronized (CudaGemmBackend.this) {
                version++;
            }
        }

        /** Bumped by {@link #hostChanged()}; the device copy is current when it was uploaded at this version. */
        public long version() {
            synchronized (CudaGemmBackend.this) {
                return version;
            }
        }

        /** Frees the device copy; later GEMMs copy the segment per call again. */
        @Override
        public void close() {
            synchronized (CudaGemmBackend.this) {
                if (released) return;
                released = true;
                residents.remove(host.address());
                if (!closed) runtime.free(device);
            }
        }

        long end() {
            return host.address() + host.byteSize();
        }

        /** The device address of host address {@code at}, uploading first if the host copy moved on. */
        long deviceAddress(long at) {
            if (uploadedVersion != version) {
                runtime.copyToDevice(device, host, host.byteSize());
                uploaded += host.byteSize();
                uploadedVersion = version;
            }
            return device + (at - host.address());
        }
    }

    public synchronized Traffic traffic() {
        return new Traffic(uploaded, downloaded, deviceCalls, javaCalls);
    }

    CudaRuntime runtime() {
        return runtime;
    }

    /** Frees the device buffers, the kept segments and the cuBLAS handle. */
    @Override
    public synchronized void close() {
        if (closed) return;
        for (Resident r : residents.values().toArray(new Resident[0])) r.close();
        bufA.release();
        bufB.release();
        bufC.release();
        cublas.destroy(handle);
        closed = true;
        arena.close();
    }

    /** Fails once closed; makes this backend's device current on a calling thread new to it. */
    private void requireOpen() {
        if (closed) throw new IllegalStateException("cuda GEMM backend is closed");
        if (lastThread != Thread.currentThread()) {
            runtime.setDevice(device);
            lastThread = Thread.currentThread();
        }
    }

    /** The device address of a row-major operand {@code rows x cols} with leading dimension {@code ld}. */
    private long operand(DeviceBuffer buf, HostStaging stage, MemorySegment s, long offset, int ld, int rows, int cols) {
        long bytes = spanBytes(rows, cols, ld);
        if (s.isNative()) {
            long start = s.address() + offset * 4;
            Map.Entry<Long, Resident> e = residents.floorEntry(start);
            if (e != null && start + bytes <= e.getValue().end()) return e.getValue().deviceAddress(start);
        }
        MemorySegment host = s.isNative() ? s.asSlice(offset * 4, bytes) : stage.of(s, offset, bytes, true);
        long d = buf.ensure(bytes);
        upload(d, host, ld, rows, cols);
        return d;
    }

    /** Rows of {@code cols} floats, {@code ld} apart, from host to the same layout on the device. */
    private void upload(long device, MemorySegment host, int ld, int rows, int cols) {
        if (ld == cols || rows == 1) runtime.copyToDevice(device, host, (long) rows * cols * 4);
        else runtime.copy2DToDevice(device, ld * 4L, host, ld * 4L, cols * 4L, rows);
        uploaded += (long) rows * cols * 4;
    }

    private void download(MemorySegment host, long device, int ld, int rows, int cols) {
        if (ld == cols || rows == 1) runtime.copyToHost(host, device, (long) rows * cols * 4);
        else runtime.copy2DToHost(host, ld * 4L, device, ld * 4L, cols * 4L, rows);
        downloaded += (long) rows * cols * 4;
    }

    private void markChanged(long start, long bytes) {
        Map.Entry<Long, Resident> e = residents.floorEntry(start + bytes - 1);
        while (e != null && e.getValue().end() > start) {
            e.getValue().version++;
            e = residents.lowerEntry(e.getKey());
        }
    }

    /** Bytes from the first element of a row-major (rows, cols) block with leading dimension ld to its last. */
    static long spanBytes(int rows, int cols, int ld) {
        return ((long) (rows - 1) * ld + cols) * 4;
    }

    /** A device allocation reused across calls; grows to at least double so steady shapes never reallocate. */
    private final class DeviceBuffer {
        private long pointer, capacity;

        long ensure(long bytes) {
            if (bytes > capacity) {
                release();
                long want = Math.max(bytes, capacity * 2);
                want = (want + (1 << 16) - 1) & -(1L << 16);
                pointer = runtime.malloc(want);
                capacity = want;
            }
            return pointer;
        }

        void release() {
            if (pointer != 0) {
                long p = pointer;
                pointer = 0;
                capacity = 0;
                runtime.free(p);
            }
        }
    }

    /** A native copy of a heap (float[]-backed) operand: the runtime can only read native memory. */
    private final class HostStaging {
        private MemorySegment segment = MemorySegment.NULL;

        MemorySegment of(MemorySegment heap, long offsetFloats, long bytes, boolean copyIn) {
            if (segment.byteSize() < bytes) segment = arena.allocate(Math.max(bytes, segment.byteSize() * 2), 64);
            MemorySegment s = segment.asSlice(0, bytes);
            if (copyIn) MemorySegment.copy(heap, offsetFloats * 4, s, 0, bytes);
            return s;
        }
    }
}
