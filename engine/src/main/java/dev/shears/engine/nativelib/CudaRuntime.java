package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The few CUDA runtime ({@code libcudart}) calls Shears needs, as FFM downcalls: device count and
 * properties, malloc/free, synchronous host<->device copies (plain and pitched), synchronize,
 * versions, and error names. Every non-zero {@code cudaError_t} becomes a {@link CudaException}.
 * Device pointers are plain {@code long} addresses. Not a general binding: no streams, no events.
 * Pinned on the CPU by CudaGemmTest (load and error paths), on a GPU by CudaGemmGpuTest.
 */
final class CudaRuntime {
    /** {@code cudaMemcpyKind}. */
    static final int HOST_TO_DEVICE = 1, DEVICE_TO_HOST = 2;
    /** {@code cudaDeviceAttr} values for the compute capability. */
    static final int ATTR_CC_MAJOR = 75, ATTR_CC_MINOR = 76;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor INT_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS);

    private final String source;
    private final MethodHandle getDeviceCount, setDevice, malloc, free, memcpy, memcpy2D, synchronize;
    private final MethodHandle errorName, errorString, runtimeVersion, driverVersion, deviceProperties, memGetInfo, deviceAttribute;

    private CudaRuntime(SymbolLookup lib, String source) {
        this.source = source;
        getDeviceCount = bind(lib, "cudaGetDeviceCount", INT_PTR);
        setDevice = bind(lib, "cudaSetDevice", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        malloc = bind(lib, "cudaMalloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        free = bind(lib, "cudaFree", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        memcpy = bind(lib, "cudaMemcpy", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        memcpy2D = bind(lib, "cudaMemcpy2D",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT));
        synchronize = bind(lib, "cudaDeviceSynchronize", FunctionDescriptor.of(JAVA_INT));
        errorName = bind(lib, "cudaGetErrorName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        errorString = bind(lib, "cudaGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        runtimeVersion = bind(lib, "cudaRuntimeGetVersion", INT_PTR);
        driverVersion = bind(lib, "cudaDriverGetVersion", INT_PTR);
        // CUDA 12 exports the current struct as _v2 (the plain name keeps an older layout); CUDA 13 has
        // only the plain name. The name is the struct's first field in every layout, so either will do.
        MethodHandle props = optional(lib, "cudaGetDeviceProperties_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        deviceProperties = props != null ? props : bind(lib, "cudaGetDeviceProperties", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        memGetInfo = bind(lib, "cudaMemGetInfo", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        deviceAttribute = bind(lib, "cudaDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    }

    /**
     * Binds the runtime found at {@code source} (a path, or a soname for the loader's search).
     * @throws IllegalArgumentException when it cannot be loaded or lacks a symbol (the message says which)
     */
    static CudaRuntime load(String source) {
        return new CudaRuntime(open(source), source);
    }

    /** Opens a shared library for the life of the JVM; the message names the library when it fails. */
    static SymbolLookup open(String source) {
        try {
            return source.contains("/") ? SymbolLookup.libraryLookup(java.nio.file.Path.of(source), Arena.global())
                    : SymbolLookup.libraryLookup(source, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new NotLoadable(source, e);
        }
    }

    /** A library that the loader could not open (absent, not a library, or a dependency missing). */
    static final class NotLoadable extends IllegalArgumentException {
        NotLoadable(String source, IllegalArgumentException cause) {
            super("cannot load " + source + " (" + cause.getMessage() + ")", cause);
        }
    }

    static MethodHandle bind(SymbolLookup lib, String name, FunctionDescriptor fd) {
        MethodHandle h = optional(lib, name, fd);
        if (h == null) throw new IllegalArgumentException("symbol " + name + " not found in the library");
        return h;
    }

    static MethodHandle optional(SymbolLookup lib, String name, FunctionDescriptor fd) {
        return lib.find(name).map(s -> LINKER.downcallHandle(s, fd)).orElse(null);
    }

    String source() {
        return source;
    }

    int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(JAVA_INT);
            check("cudaGetDeviceCount", call(() -> (int) getDeviceCount.invokeExact(n)));
            return n.get(JAVA_INT, 0);
        }
    }

    void setDevice(int device) {
        check("cudaSetDevice(" + device + ")", call(() -> (int) setDevice.invokeExact(device)));
    }

    /** Device memory of {@code bytes}; its address. */
    long malloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cudaMalloc(" + bytes + " bytes)", call(() -> (int) malloc.invokeExact(p, bytes)));
            return p.get(ADDRESS, 0).address();
        }
    }

    void free(long devicePointer) {
        MemorySegment p = MemorySegment.ofAddress(devicePointer);
        check("cudaFree", call(() -> (int) free.invokeExact(p)));
    }

    /** {@code bytes} from a native host segment to device memory. */
    void copyToDevice(long device, MemorySegment host, long bytes) {
        MemorySegment d = MemorySegment.ofAddress(device);
        check("cudaMemcpy(host to device, " + bytes + " bytes)", call(() -> (int) memcpy.invokeExact(d, host, bytes, HOST_TO_DEVICE)));
    }

    /** {@code bytes} from device memory to a native host segment. */
    void copyToHost(MemorySegment host, long device, long bytes) {
        MemorySegment d = MemorySegment.ofAddress(device);
        check("cudaMemcpy(device to host, " + bytes + " bytes)", call(() -> (int) memcpy.invokeExact(host, d, bytes, DEVICE_TO_HOST)));
    }

    /** {@code rows} rows of {@code widthBytes} each, with the given pitches (bytes between row starts). */
    void copy2DToDevice(long device, long devicePitch, MemorySegment host, long hostPitch, long widthBytes, long rows) {
        MemorySegment d = MemorySegment.ofAddress(device);
        check("cudaMemcpy2D(host to device, " + rows + " rows of " + widthBytes + " bytes)",
                call(() -> (int) memcpy2D.invokeExact(d, devicePitch, host, hostPitch, widthBytes, rows, HOST_TO_DEVICE)));
    }

    void copy2DToHost(MemorySegment host, long hostPitch, long device, long devicePitch, long widthBytes, long rows) {
        MemorySegment d = MemorySegment.ofAddress(device);
        check("cudaMemcpy2D(device to host, " + rows + " rows of " + widthBytes + " bytes)",
                call(() -> (int) memcpy2D.invokeExact(host, hostPitch, d, devicePitch, widthBytes, rows, DEVICE_TO_HOST)));
    }

    void synchronize() {
        check("cudaDeviceSynchronize", call(() -> (int) synchronize.invokeExact()));
    }

    /** {@code major*1000 + minor*10}, as the runtime reports it. */
    int runtimeVersion() {
        return intOut("cudaRuntimeGetVersion", runtimeVersion);
    }

    /** The newest CUDA version the installed driver supports, same encoding; 0 without a driver. */
    int driverVersion() {
        return intOut("cudaDriverGetVersion", driverVersion);
    }

    String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            // cudaDeviceProp is ~1 KiB and grows between versions; 16 KiB leaves room for any of them.
            MemorySegment prop = a.allocate(16384, 8);
            check("cudaGetDeviceProperties(" + device + ")", call(() -> (int) deviceProperties.invokeExact(prop, device)));
            return prop.getString(0);
        }
    }

    int attribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check("cudaDeviceGetAttribute(" + attribute + ", " + device + ")", call(() -> (int) deviceAttribute.invokeExact(v, attribute, device)));
            return v.get(JAVA_INT, 0);
        }
    }

    /** {free, total} bytes of the current device. */
    long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            check("cudaMemGetInfo", call(() -> (int) memGetInfo.invokeExact(f, t)));
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        }
    }

    /** The runtime's name for an error code, e.g. {@code cudaErrorNoDevice}. */
    String errorName(int error) {
        return cString(errorName, error);
    }

    /** The runtime's one-line description of an error code. */
    String errorString(int error) {
        return cString(errorString, error);
    }

    /** Throws a {@link CudaException} naming {@code what} when {@code error} is not cudaSuccess. */
    void check(String what, int error) {
        if (error != 0) throw CudaException.runtime(what, error, errorName(error), errorString(error));
    }

    static String version(int encoded) {
        return encoded / 1000 + "." + (encoded % 1000) / 10;
    }

    private int intOut(String name, MethodHandle h) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check(name, call(() -> (int) h.invokeExact(v)));
            return v.get(JAVA_INT, 0);
        }
    }

    private static String cString(MethodHandle h, int error) {
        try {
            MemorySegment s = (MemorySegment) h.invokeExact(error);
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }

    @FunctionalInterface
    interface IntCall {
        int run() throws Throwable;
    }

    /** Runs a downcall; a Throwable from the handle itself (never expected) is rethrown unchecked. */
    static int call(IntCall c) {
        try {
            return c.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed: " + t, t);
        }
    }
}
