package dev.shears.engine.nativelib;

import dev.shears.engine.kernels.GemmBackend;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * OpenBLAS {@code cblas_sgemm} through an FFM downcall on our own segments (no copies, no JNI).
 * Looks for the library once: {@code -Dshears.blas=PATH} first, then the usual sonames and Debian
 * paths; absent means {@link #load()} is null and one log line says the java GEMM is used. Not a
 * BLAS binding beyond sgemm and the thread-count calls. Pinned by NativeBlasTest.
 */
public final class OpenBlasGemm implements GemmBackend {
    private static final Logger LOG = Logger.getLogger("shears");
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    /** Where the library is looked for after {@code -Dshears.blas}, in order. */
    static final List<String> USUAL = List.of(
            "libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "libopenblas.so",
            "/usr/lib64/libopenblas.so.0",
            "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
            "/usr/local/opt/openblas/lib/libopenblas.dylib");

    private static final FunctionDescriptor SGEMM = FunctionDescriptor.ofVoid(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);

    private final String path;
    private final String config;
    private final MethodHandle sgemm;        // native segments: an ordinary downcall, the GC may run meanwhile
    private final MethodHandle sgemmHeap;    // heap segments: critical, the only way to hand native code a Java array
    private final MethodHandle setThreads;   // null when the library lacks it
    private final MethodHandle getThreads;

    private OpenBlasGemm(String path, String config, MethodHandle sgemm, MethodHandle sgemmHeap, MethodHandle setThreads, MethodHandle getThreads) {
        this.path = path;
        this.config = config;
        this.sgemm = sgemm;
        this.sgemmHeap = sgemmHeap;
        this.setThreads = setThreads;
        this.getThreads = getThreads;
    }

    /** The outcome of the one lookup this JVM does. */
    private record Lookup(OpenBlasGemm found, List<String> tried) {}

    private static final class Holder {
        static final Lookup LOOKUP = lookupOnce();
    }

    private static Lookup lookupOnce() {
        List<String> candidates = new ArrayList<>();
        String override = System.getProperty("shears.blas");
        if (override != null && !override.isBlank()) candidates.add(override.trim());
        candidates.addAll(USUAL);
        List<String> tried = new ArrayList<>();
        OpenBlasGemm found = find(candidates, tried);
        boolean overrideFailed = override != null && !override.isBlank() && tried.size() > 1;
        if (found == null) {
            LOG.info("OpenBLAS not found (looked for " + String.join(", ", tried) + "); the java GEMM is used."
                    + " Install libopenblas0 or point -Dshears.blas=PATH at libopenblas.so");
        } else if (overrideFailed) {
            LOG.warning("-Dshears.blas=" + override + " cannot be loaded as OpenBLAS (no such file, or no cblas_sgemm); using " + found.path);
        } else {
            LOG.fine(() -> "OpenBLAS: " + found.path + " (" + found.config + ")");
        }
        return new Lookup(found, tried);
    }

    /** The backend, or null when the library is absent (looked up once per JVM). */
    public static OpenBlasGemm load() {
        return Holder.LOOKUP.found();
    }

    /** One line for {@code shears info}: where it was found and its threads, or where it was looked for. */
    public static String describe() {
        Lookup l = Holder.LOOKUP;
        if (l.found() == null) {
            return "openblas: not found (looked for " + String.join(", ", l.tried()) + "); GEMM uses the java path";
        }
        OpenBlasGemm b = l.found();
        int t = b.threads();
        return "openblas: " + b.path + " (" + b.config + (t > 0 ? ", " + t + " threads" : "") + ")";
    }

    /** The first candidate that loads and has {@code cblas_sgemm}; each one tried is added to {@code tried}. */
    static OpenBlasGemm find(List<String> candidates, List<String> tried) {
        for (String c : candidates) {
            tried.add(c);
            OpenBlasGemm b = open(c);
            if (b != null) return b;
        }
        return null;
    }

    /** Opens one library name or path; null (never an exception) when it cannot be used. */
    static OpenBlasGemm open(String nameOrPath) {
        Arena arena = Arena.ofShared();
        try {
            SymbolLookup lib = nameOrPath.contains("/")
                    ? SymbolLookup.libraryLookup(Path.of(nameOrPath), arena)
                    : SymbolLookup.libraryLookup(nameOrPath, arena);
            Optional<MemorySegment> fn = lib.find("cblas_sgemm");
            if (fn.isEmpty()) {
                arena.close();
                return null;
            }
            Linker linker = Linker.nativeLinker();
            MethodHandle sgemm = linker.downcallHandle(fn.get(), SGEMM);
            MethodHandle sgemmHeap = linker.downcallHandle(fn.get(), SGEMM, Linker.Option.critical(true));
            MethodHandle set = lib.find("openblas_set_num_threads")
                    .map(s -> linker.downcallHandle(s, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT))).orElse(null);
            MethodHandle get = lib.find("openblas_get_num_threads")
                    .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.JAVA_INT))).orElse(null);
            String config = lib.find("openblas_get_config")
                    .map(s -> configString(linker, s)).orElse("OpenBLAS");
            // the library stays loaded for the life of the JVM: its arena is never closed once it is in use
            return new OpenBlasGemm(resolvedPath(nameOrPath), config, sgemm, sgemmHeap, set, get);
        } catch (RuntimeException | LinkageError e) {
            arena.close();
            return null;
        }
    }

    private static String configString(Linker linker, MemorySegment symbol) {
        try {
            MethodHandle h = linker.downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.ADDRESS));
            MemorySegment s = (MemorySegment) h.invokeExact();
            return s.reinterpret(256).getString(0).trim();
        } catch (Throwable t) {
            return "OpenBLAS";
        }
    }

    /** A soname resolved to the file the dynamic loader mapped (Linux), else the name as given. */
    private static String resolvedPath(String nameOrPath) {
        if (nameOrPath.contains("/")) return nameOrPath;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.contains("openblas")) return line.substring(slash).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no procfs: the name is all we know
        }
        return nameOrPath;
    }

    /** The library file, as found. */
    public String path() {
        return path;
    }

    @Override
    public String name() {
        return "openblas";
    }

    /**
     * Sets OpenBLAS's thread count. With the OpenMP build this holds for the calling thread, so
     * call it from the thread that then calls {@link #sgemm}. No-op when the library lacks it.
     */
    public void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("openblas threads must be >= 1, got " + n);
        if (setThreads == null) return;
        try {
            setThreads.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads(" + n + ") failed in " + path, t);
        }
    }

    /** OpenBLAS's thread count as the calling thread sees it, or -1 when the library cannot say. */
    public int threads() {
        if (getThreads == null) return -1;
        try {
            return (int) getThreads.invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        if (m <= 0 || n <= 0) return;
        // native code cannot check bounds: do it here, as the facade does
        need("A", a, aOffset, lda, transA ? k : m, transA ? m : k);
        need("B", b, bOffset, ldb, transB ? n : k, transB ? k : n);
        need("C", c, cOffset, ldc, m, n);
        MemorySegment as = a.asSlice(4 * aOffset), bs = b.asSlice(4 * bOffset), cs = c.asSlice(4 * cOffset);
        boolean heap = !a.isNative() || !b.isNative() || !c.isNative();
        try {
            (heap ? sgemmHeap : sgemm).invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                    alpha, as, Math.max(1, lda), bs, Math.max(1, ldb), beta, cs, Math.max(1, ldc));
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm in " + path + " failed for m=" + m + " n=" + n + " k=" + k, t);
        }
    }

    private static void need(String what, MemorySegment s, long offset, int ld, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new IllegalArgumentException("openblas sgemm: leading dimension of " + what + " is " + ld + " but rows hold " + cols + " floats");
        long last = offset + (long) (rows - 1) * ld + cols;
        if (offset < 0 || last * 4 > s.byteSize()) {
            throw new IllegalArgumentException("openblas sgemm: " + what + " (" + rows + ", " + cols + ") at offset " + offset + " with ld " + ld
                    + " needs " + last * 4 + " bytes but its segment has " + s.byteSize());
        }
    }
}
