package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * NVRTC ({@code libnvrtc.so.13/.12}) through FFM downcalls: compiles one CUDA C source to PTX at run
 * time. A failed compile is a {@link CudaException} whose message carries the call, the code's name and
 * NVRTC's log (file, line, error). Found like the runtime (CudaLocator's folders, then the loader's own
 * search); where it is absent, the device layer loads the PTX shipped in the jar instead.
 * Pinned on the CPU by CudaDriverTest (absent library, names); on a GPU host with NVRTC by CudaKernelsGpuTest.
 */
public final class Nvrtc {
    private final String source;
    private final MethodHandle create, compile, logSize, log, ptxSize, ptx, destroy, errorString, version;

    private Nvrtc(SymbolLookup lib, String source) {
        this.source = source;
        // prog*, src, name, numHeaders, headers, includeNames
        create = CudaRuntime.bind(lib, "nvrtcCreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        compile = CudaRuntime.bind(lib, "nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        logSize = CudaRuntime.bind(lib, "nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        log = CudaRuntime.bind(lib, "nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        ptxSize = CudaRuntime.bind(lib, "nvrtcGetPTXSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        ptx = CudaRuntime.bind(lib, "nvrtcGetPTX", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        destroy = CudaRuntime.bind(lib, "nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        errorString = CudaRuntime.bind(lib, "nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        version = CudaRuntime.bind(lib, "nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /** The library names tried, newest first. */
    public static final List<String> NAMES = List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so");

    public static Nvrtc load(String source) {
        return new Nvrtc(CudaRuntime.open(source), source);
    }

    /** The first NVRTC that loads (folders of the CUDA search, then sonames), or null; never throws. */
    public static Nvrtc find() {
        return Holder.NVRTC;
    }

    private static final class Holder {
        static final Nvrtc NVRTC = find(CudaLocator.search());
    }

    static Nvrtc find(CudaLocator.Search search) {
        return find(CudaLocator.library(search.folders(), NAMES, true));
    }

    /** The first NVRTC that loads from exactly these folders (no loader search), or null. */
    public static Nvrtc findIn(List<java.nio.file.Path> folders) {
        return find(CudaLocator.library(folders, NAMES, false));
    }

    private static Nvrtc find(List<String> candidates) {
        for (String candidate : candidates) {
            try {
                return load(candidate);
            } catch (IllegalArgumentException e) {
                // absent or not usable: try the next; the device layer says which path it took
            }
        }
        return null;
    }

    public String source() {
        return source;
    }

    /** "major.minor" of this NVRTC. */
    public String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(JAVA_INT), minor = a.allocate(JAVA_INT);
            check("nvrtcVersion", CudaRuntime.call(() -> (int) version.invokeExact(major, minor)), null);
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /**
     * Compiles {@code code} (named {@code name} in the log) with {@code options}; the PTX, NUL-terminated.
     * @throws CudaException on failure, with NVRTC's log in the message
     */
    public byte[] compileToPtx(String code, String name, List<String> options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progOut = a.allocate(ADDRESS);
            MemorySegment src = a.allocateFrom(code), nm = a.allocateFrom(name);
            check("nvrtcCreateProgram(" + name + ")", CudaRuntime.call(() -> (int) create.invokeExact(progOut, src, nm, 0,
                    MemorySegment.NULL, MemorySegment.NULL)), null);
            MemorySegment prog = progOut.get(ADDRESS, 0);
            try {
                MemorySegment opts = a.allocate(ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) opts.setAtIndex(ADDRESS, i, a.allocateFrom(options.get(i)));
                int n = options.size();
                int rc = CudaRuntime.call(() -> (int) compile.invokeExact(prog, n, opts));
                if (rc != 0) check("nvrtcCompileProgram(" + name + ", " + String.join(" ", options) + ")", rc, programLog(a, prog));
                MemorySegment size = a.allocate(JAVA_LONG);
                check("nvrtcGetPTXSize(" + name + ")", CudaRuntime.call(() -> (int) ptxSize.invokeExact(prog, size)), null);
                MemorySegment out = a.allocate(size.get(JAVA_LONG, 0));
                check("nvrtcGetPTX(" + name + ")", CudaRuntime.call(() -> (int) ptx.invokeExact(prog, out)), null);
                return out.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            } finally {
                CudaRuntime.call(() -> (int) destroy.invokeExact(progOut));
            }
        }
    }

    private String programLog(Arena a, MemorySegment prog) {
        try {
            MemorySegment size = a.allocate(JAVA_LONG);
            if ((int) logSize.invokeExact(prog, size) != 0) return null;
            MemorySegment text = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            if ((int) log.invokeExact(prog, text) != 0) return null;
            return text.getString(0).strip();
        } catch (Throwable t) {
            return null;
        }
    }

    private void check(String call, int rc, String detail) {
        if (rc == 0) return;
        String described = detail;
        if (described == null) {
            try {
                MemorySegment s = (MemorySegment) errorString.invokeExact(rc);
                described = s.equals(MemorySegment.NULL) ? null : s.reinterpret(256).getString(0);
            } catch (Throwable t) {
                described = null;
            }
        }
        throw CudaException.nvrtc(call, rc, described);
    }
}
