package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The CUDA driver API ({@code libcuda.so.1}) calls the device layer needs, as FFM downcalls: init,
 * devices and their attributes, the primary context, modules and kernel launches, device and pinned
 * host memory, asynchronous copies, streams, events, and (optional) stream capture into graphs. Handles
 * (contexts, modules, functions, streams, events, graphs) and device pointers are plain {@code long}s.
 * Every non-zero {@code CUresult} becomes a {@link CudaException} naming the call, the code and the
 * driver's name for it. Not the runtime API (CudaRuntime) and not a general binding.
 * Pinned on the CPU by CudaDriverTest (absent library, error mapping); on a GPU by CudaKernelsGpuTest.
 */
public final class CudaDriver {
    /** {@code CUdevice_attribute} values used here. */
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16, ATTR_CC_MAJOR = 75, ATTR_CC_MINOR = 76;
    /** {@code CUjit_option}: the JIT's error log buffer and its size. */
    static final int JIT_ERROR_LOG_BUFFER = 5, JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    /** {@code CUstreamCaptureMode}: capture only this thread's work. */
    public static final int CAPTURE_MODE_THREAD_LOCAL = 1;
    /** {@code CU_STREAM_NON_BLOCKING}: no implicit synchronisation with the legacy default stream. */
    public static final int STREAM_NON_BLOCKING = 1;

    private static final FunctionDescriptor INT_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS);

    private final String source;
    private final MethodHandle init, driverVersion, deviceCount, deviceGet, deviceName, deviceAttribute, deviceTotalMem;
    private final MethodHandle primaryCtxRetain, ctxSetCurrent, ctxSynchronize, moduleLoadData, moduleLoadDataEx, moduleGetFunction, moduleUnload;
    private final MethodHandle launchKernel, memAlloc, memFree, memAllocHost, memFreeHost, copyHtoD, copyDtoH, copyDtoD, memsetD32;
    private final MethodHandle memGetInfo, streamCreate, streamSynchronize, streamDestroy;
    private final MethodHandle eventCreate, eventRecord, eventSynchronize, eventElapsed, eventDestroy, errorName, errorString;
    private final MethodHandle beginCapture, endCapture, graphInstantiate, graphLaunch; // null when the driver lacks them

    private CudaDriver(SymbolLookup lib, String source) {
        this.source = source;
        init = CudaRuntime.bind(lib, "cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        driverVersion = CudaRuntime.bind(lib, "cuDriverGetVersion", INT_PTR);
        deviceCount = CudaRuntime.bind(lib, "cuDeviceGetCount", INT_PTR);
        deviceGet = CudaRuntime.bind(lib, "cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        deviceName = CudaRuntime.bind(lib, "cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        deviceAttribute = CudaRuntime.bind(lib, "cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        deviceTotalMem = either(lib, "cuDeviceTotalMem_v2", "cuDeviceTotalMem", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        primaryCtxRetain = CudaRuntime.bind(lib, "cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        ctxSetCurrent = CudaRuntime.bind(lib, "cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ctxSynchronize = CudaRuntime.bind(lib, "cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT));
        moduleLoadData = CudaRuntime.bind(lib, "cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // module*, image, numOptions, CUjit_option*, void** values: used for the JIT's error log
        moduleLoadDataEx = CudaRuntime.optional(lib, "cuModuleLoadDataEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        moduleGetFunction = CudaRuntime.bind(lib, "cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        moduleUnload = CudaRuntime.bind(lib, "cuModuleUnload", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // f, grid x y z, block x y z, shared bytes, stream, void** params, void** extra
        launchKernel = CudaRuntime.bind(lib, "cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        memAlloc = CudaRuntime.bind(lib, "cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        memFree = CudaRuntime.bind(lib, "cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        memAllocHost = CudaRuntime.bind(lib, "cuMemAllocHost_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        memFreeHost = CudaRuntime.bind(lib, "cuMemFreeHost", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        copyHtoD = CudaRuntime.bind(lib, "cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        copyDtoH = CudaRuntime.bind(lib, "cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        copyDtoD = CudaRuntime.bind(lib, "cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        memsetD32 = CudaRuntime.bind(lib, "cuMemsetD32Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        memGetInfo = CudaRuntime.bind(lib, "cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        streamCreate = CudaRuntime.bind(lib, "cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        streamSynchronize = CudaRuntime.bind(lib, "cuStreamSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        streamDestroy = either(lib, "cuStreamDestroy_v2", "cuStreamDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        eventCreate = CudaRuntime.bind(lib, "cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        eventRecord = CudaRuntime.bind(lib, "cuEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        eventSynchronize = CudaRuntime.bind(lib, "cuEventSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // CUDA 12.8 added _v2 (same signature); CUDA 13's cuda.h maps the plain name to it
        eventElapsed = either(lib, "cuEventElapsedTime_v2", "cuEventElapsedTime", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        eventDestroy = either(lib, "cuEventDestroy_v2", "cuEventDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        errorName = CudaRuntime.bind(lib, "cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        errorString = CudaRuntime.bind(lib, "cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        beginCapture = CudaRuntime.optional(lib, "cuStreamBeginCapture_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        endCapture = CudaRuntime.optional(lib, "cuStreamEndCapture", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        graphInstantiate = CudaRuntime.optional(lib, "cuGraphInstantiateWithFlags", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        graphLaunch = CudaRuntime.optional(lib, "cuGraphLaunch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /**
     * Binds the driver at {@code source} (a path or a soname).
     * @throws IllegalArgumentException when it cannot be loaded or lacks a symbol (the message says which)
     */
    public static CudaDriver load(String source) {
        return new CudaDriver(CudaRuntime.open(source), source);
    }

    private static MethodHandle either(SymbolLookup lib, String name, String fallback, FunctionDescriptor fd) {
        MethodHandle h = CudaRuntime.optional(lib, name, fd);
        return h != null ? h : CudaRuntime.bind(lib, fallback, fd);
    }

    /** Where the driver was loaded from. */
    public String source() {
        return source;
    }

    // ---- init, devices -------------------------------------------------------------------------

    public void init() {
        check("cuInit", CudaRuntime.call(() -> (int) init.invokeExact(0)));
    }

    /** {@code major*1000 + minor*10}: the newest CUDA version this driver supports. */
    public int driverVersion() {
        return intOut("cuDriverGetVersion", driverVersion);
    }

    public int deviceCount() {
        return intOut("cuDeviceGetCount", deviceCount);
    }

    /** The {@code CUdevice} of ordinal {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(JAVA_INT);
            check("cuDeviceGet(" + ordinal + ")", CudaRuntime.call(() -> (int) deviceGet.invokeExact(d, ordinal)));
            return d.get(JAVA_INT, 0);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(256);
            check("cuDeviceGetName(" + device + ")", CudaRuntime.call(() -> (int) deviceName.invokeExact(s, 256, device)));
            return s.getString(0);
        }
    }

    public int attribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check("cuDeviceGetAttribute(" + attribute + ", " + device + ")",
                    CudaRuntime.call(() -> (int) deviceAttribute.invokeExact(v, attribute, device)));
            return v.get(JAVA_INT, 0);
        }
    }

    public long totalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            check("cuDeviceTotalMem(" + device + ")", CudaRuntime.call(() -> (int) deviceTotalMem.invokeExact(v, device)));
            return v.get(JAVA_LONG, 0);
        }
    }

    // ---- context, modules, launches ------------------------------------------------------------

    /** The device's primary context (retained; it lives as long as the process here). */
    public long primaryContext(int device) {
        return handleOut("cuDevicePrimaryCtxRetain(" + device + ")", p -> (int) primaryCtxRetain.invokeExact(p, device));
    }

    /** Makes {@code context} current on the calling thread. */
    public void setCurrent(long context) {
        MemorySegment c = MemorySegment.ofAddress(context);
        check("cuCtxSetCurrent", CudaRuntime.call(() -> (int) ctxSetCurrent.invokeExact(c)));
    }

    public void synchronizeContext() {
        check("cuCtxSynchronize", CudaRuntime.call(() -> (int) ctxSynchronize.invokeExact()));
    }

    /**
     * Loads a module from a NUL-terminated PTX text (or a cubin) in native memory; {@code what} names
     * it in errors (e.g. "elementwise.cu (PTX from the jar)").
     */
    public long loadModule(MemorySegment image, String what) {
        if (moduleLoadDataEx == null) return handleOut("cuModuleLoadData(" + what + ")", p -> (int) moduleLoadData.invokeExact(p, image));
        try (Arena a = Arena.ofConfined()) {
            int logBytes = 16384;
            MemorySegment log = a.allocate(logBytes);
            MemorySegment options = a.allocate(JAVA_INT, 2), values = a.allocate(ADDRESS, 2);
            options.setAtIndex(JAVA_INT, 0, JIT_ERROR_LOG_BUFFER);
            options.setAtIndex(JAVA_INT, 1, JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(logBytes)); // a size passed in the pointer slot, as cuda.h says
            MemorySegment out = a.allocate(ADDRESS);
            int rc = CudaRuntime.call(() -> (int) moduleLoadDataEx.invokeExact(out, image, 2, options, values));
            if (rc != 0) {
                String jit = log.getString(0).strip();
                String described = errorString(rc);
                String detail = described == null ? "" : described;
                if (!jit.isEmpty()) detail = detail.isEmpty() ? "JIT log: " + jit : detail + "; JIT log: " + jit;
                throw CudaException.driver("cuModuleLoadDataEx(" + what + ")", rc, errorName(rc), detail);
            }
            return out.get(ADDRESS, 0).address();
        }
    }

    public long function(long module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocateFrom(name);
            MemorySegment m = MemorySegment.ofAddress(module);
            return handleOut("cuModuleGetFunction(" + name + ")", p -> (int) moduleGetFunction.invokeExact(p, m, n));
        }
    }

    public void unloadModule(long module) {
        MemorySegment m = MemorySegment.ofAddress(module);
        check("cuModuleUnload", CudaRuntime.call(() -> (int) moduleUnload.invokeExact(m)));
    }

    /** Launches {@code function}; {@code params} is a native {@code void*[]}, one pointer to each argument's value. */
    public void launch(long function, String name, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, long stream, MemorySegment params) {
        MemorySegment f = MemorySegment.ofAddress(function), s = MemorySegment.ofAddress(stream);
        int rc = CudaRuntime.call(() -> (int) launchKernel.invokeExact(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, s,
                params, MemorySegment.NULL));
        if (rc != 0) {
            check("cuLaunchKernel(" + name + ", grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX + "x" + blockY + "x" + blockZ
                    + ", " + sharedBytes + " B shared)", rc);
        }
    }

    // ---- memory --------------------------------------------------------------------------------

    /** Device memory of {@code bytes}; its address. */
    public long malloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuMemAlloc(" + bytes + " bytes)", CudaRuntime.call(() -> (int) memAlloc.invokeExact(p, bytes)));
            return p.get(JAVA_LONG, 0);
        }
    }

    public void free(long devicePointer) {
        check("cuMemFree", CudaRuntime.call(() -> (int) memFree.invokeExact(devicePointer)));
    }

    /** Page-locked host memory of {@code bytes} (asynchronous copies from and to it overlap compute). */
    public MemorySegment mallocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuMemAllocHost(" + bytes + " bytes)", CudaRuntime.call(() -> (int) memAllocHost.invokeExact(p, bytes)));
            return p.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    public void freeHost(MemorySegment pinned) {
        check("cuMemFreeHost", CudaRuntime.call(() -> (int) memFreeHost.invokeExact(pinned)));
    }

    public void copyToDeviceAsync(long device, MemorySegment host, long bytes, long stream) {
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cuMemcpyHtoDAsync(" + bytes + " bytes)", CudaRuntime.call(() -> (int) copyHtoD.invokeExact(device, host, bytes, s)));
    }

    public void copyToHostAsync(MemorySegment host, long device, long bytes, long stream) {
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cuMemcpyDtoHAsync(" + bytes + " bytes)", CudaRuntime.call(() -> (int) copyDtoH.invokeExact(host, device, bytes, s)));
    }

    public void copyOnDeviceAsync(long dst, long src, long bytes, long stream) {
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cuMemcpyDtoDAsync(" + bytes + " bytes)", CudaRuntime.call(() -> (int) copyDtoD.invokeExact(dst, src, bytes, s)));
    }

    /** Sets {@code count} 32-bit words at {@code device} to {@code bits} (0: float zeros). */
    public void fill32Async(long device, int bits, long count, long stream) {
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cuMemsetD32Async(" + count + " words)", CudaRuntime.call(() -> (int) memsetD32.invokeExact(device, bits, count, s)));
    }

    /** {free, total} bytes of the current context's device. */
    public long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            check("cuMemGetInfo", CudaRuntime.call(() -> (int) memGetInfo.invokeExact(f, t)));
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        }
    }

    // ---- streams, events, graphs ---------------------------------------------------------------

    public long createStream(int flags) {
        return handleOut("cuStreamCreate", p -> (int) streamCreate.invokeExact(p, flags));
    }

    public void synchronize(long stream) {
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cuStreamSynchronize", CudaRuntime.call(() -> (int) streamSynchronize.invokeExact(s)));
    }

    public void destroyStream(long stream) {
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cuStreamDestroy", CudaRuntime.call(() -> (int) streamDestroy.invokeExact(s)));
    }

    public long createEvent() {
        return handleOut("cuEventCreate", p -> (int) eventCreate.invokeExact(p, 0));
    }

    public void record(long event, long stream) {
        MemorySegment e = MemorySegment.ofAddress(event), s = MemorySegment.ofAddress(stream);
        check("cuEventRecord", CudaRuntime.call(() -> (int) eventRecord.invokeExact(e, s)));
    }

    public void synchronizeEvent(long event) {
        MemorySegment e = MemorySegment.ofAddress(event);
        check("cuEventSynchronize", CudaRuntime.call(() -> (int) eventSynchronize.invokeExact(e)));
    }

    /** Milliseconds between two recorded (and completed) events. */
    public float elapsedMillis(long start, long end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            MemorySegment s = MemorySegment.ofAddress(start), e = MemorySegment.ofAddress(end);
            check("cuEventElapsedTime", CudaRuntime.call(() -> (int) eventElapsed.invokeExact(ms, s, e)));
            return ms.get(JAVA_FLOAT, 0);
        }
    }

    public void destroyEvent(long event) {
        MemorySegment e = MemorySegment.ofAddress(event);
        check("cuEventDestroy", CudaRuntime.call(() -> (int) eventDestroy.invokeExact(e)));
    }

    /** True when this driver can capture a stream into a graph and replay it (CUDA 12+). */
    public boolean hasGraphs() {
        return beginCapture != null && endCapture != null && graphInstantiate != null && graphLaunch != null;
    }

    public void beginCapture(long stream) {
        requireGraphs();
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cuStreamBeginCapture", CudaRuntime.call(() -> (int) beginCapture.invokeExact(s, CAPTURE_MODE_THREAD_LOCAL)));
    }

    /** Ends a capture; the instantiated, launchable graph. */
    public long endCaptureAndInstantiate(long stream) {
        requireGraphs();
        MemorySegment s = MemorySegment.ofAddress(stream);
        long graph = handleOut("cuStreamEndCapture", p -> (int) endCapture.invokeExact(s, p));
        MemorySegment g = MemorySegment.ofAddress(graph);
        return handleOut("cuGraphInstantiateWithFlags", p -> (int) graphInstantiate.invokeExact(p, g, 0L));
    }

    public void launchGraph(long graphExec, long stream) {
        requireGraphs();
        MemorySegment g = MemorySegment.ofAddress(graphExec), s = MemorySegment.ofAddress(stream);
        check("cuGraphLaunch", CudaRuntime.call(() -> (int) graphLaunch.invokeExact(g, s)));
    }

    private void requireGraphs() {
        if (!hasGraphs()) throw new UnsupportedOperationException(source + " lacks the CUDA graph calls (cuStreamBeginCapture_v2 and friends; driver for CUDA 12+ needed)");
    }

    // ---- errors --------------------------------------------------------------------------------

    /** The driver's name for a {@code CUresult} (e.g. CUDA_ERROR_OUT_OF_MEMORY), or null. */
    public String errorName(int result) {
        return cString(errorName, result);
    }

    /** The driver's one-line description of a {@code CUresult}, or null. */
    public String errorString(int result) {
        return cString(errorString, result);
    }

    /** Throws a {@link CudaException} naming {@code call} when {@code result} is not CUDA_SUCCESS. */
    public void check(String call, int result) {
        if (result != 0) throw CudaException.driver(call, result, errorName(result), errorString(result));
    }

    private String cString(MethodHandle h, int result) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) h.invokeExact(result, out);
            MemorySegment s = out.get(ADDRESS, 0);
            return rc != 0 || s.equals(MemorySegment.NULL) ? null : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }

    private int intOut(String call, MethodHandle h) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check(call, CudaRuntime.call(() -> (int) h.invokeExact(v)));
            return v.get(JAVA_INT, 0);
        }
    }

    @FunctionalInterface
    private interface HandleCall {
        int run(MemorySegment out) throws Throwable;
    }

    private long handleOut(String call, HandleCall c) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(call, CudaRuntime.call(() -> c.run(p)));
            return p.get(ADDRESS, 0).address();
        }
    }

    // ---- finding the driver --------------------------------------------------------------------

    /** The driver library names tried, in order. */
    public static final List<String> NAMES = List.of("libcuda.so.1", "libcuda.so");

    /** The outcome of looking for the driver: {@code driver} (initialised) or, when null, {@code line} says why not. */
    public record Probe(CudaDriver driver, String line) {
        public boolean available() {
            return driver != null;
        }
    }

    private static final class ProbeHolder {
        static final Probe PROBE = probe(CudaLocator.search());
    }

    /** This JVM's probe of the driver (made once). */
    public static Probe probe() {
        return ProbeHolder.PROBE;
    }

    /**
     * Loads and initialises the first driver candidate that works: the folders of {@code search}
     * (the same search as the runtime's; -Dshears.cuda.path overrides it), then the loader's own.
     * When none loads, the line names what was looked for and where; when one loads but cuInit fails
     * (no device, a driver too old), it gives the call, the code and its name.
     */
    static Probe probe(CudaLocator.Search search) {
        return probe(CudaLocator.library(search.folders(), NAMES, true),
                search.foldersBrief() + (search.overridden() ? " (-Dshears.cuda.path)" : "") + " and the system library path");
    }

    /** As {@link #probe()}, over exactly these folders (no loader search, no caching): for tests and checks. */
    public static Probe probeFolders(List<java.nio.file.Path> folders) {
        return probe(CudaLocator.library(folders, NAMES, false), folders.isEmpty() ? "no folder" : folders.toString());
    }

    private static Probe probe(List<String> candidates, String where) {
        List<String> failures = new ArrayList<>();
        for (String candidate : candidates) {
            CudaDriver d;
            try {
                d = load(candidate);
            } catch (IllegalArgumentException e) {
                if (e instanceof CudaRuntime.NotLoadable && !candidate.contains("/")) continue; // soname not on the loader's path
                failures.add(e.getMessage().contains(candidate) ? e.getMessage() : e.getMessage() + " in " + candidate);
                continue;
            }
            try {
                d.init();
                return new Probe(d, candidate);
            } catch (CudaException e) {
                failures.add(candidate + " loaded, but " + e.getMessage());
            }
        }
        if (failures.isEmpty()) {
            return new Probe(null, "no CUDA driver: looked for " + String.join(", ", NAMES) + " in " + where
                    + " (it comes with the NVIDIA display driver)");
        }
        String more = failures.size() > 1 ? " (" + (failures.size() - 1) + " other candidate" + (failures.size() > 2 ? "s" : "") + " failed too)" : "";
        return new Probe(null, failures.getFirst() + more);
    }
}
