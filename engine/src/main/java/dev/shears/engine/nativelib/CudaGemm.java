package dev.shears.engine.nativelib;

import dev.shears.engine.kernels.GemmBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds the CUDA runtime, cuBLAS and a device once per JVM and hands out the {@code cuda} GEMM
 * backend ({@link CudaGemmBackend}); with no library or no device, {@link #load()} is null and
 * {@link #describe()} says why (the java GEMM is used). Options: {@code -Dshears.cuda.path=DIR[:DIR]},
 * {@code -Dshears.cuda.tf32=true}, {@code -Dshears.cuda.minFlops=M*N*K} (smaller GEMMs stay on the
 * CPU), {@code -Dshears.cuda.device=N}. Pinned by CudaGemmTest (CPU) and CudaGemmGpuTest (GPU).
 */
public final class CudaGemm {
    /** Default size rule: GEMMs with m*n*k below 64^3 run on the CPU (launch and copies cost more). */
    public static final long DEFAULT_MIN_FLOPS = 64L * 64 * 64;

    /**
     * @param tf32     allow TF32 tensor cores (10-bit mantissa inputs, FP32 accumulate)
     * @param minFlops GEMMs with m*n*k below this run on the java GEMM
     * @param device   the CUDA device ordinal
     */
    public record Options(boolean tf32, long minFlops, int device) {
        public Options {
            if (minFlops < 0) throw new IllegalArgumentException("-Dshears.cuda.minFlops must be >= 0, got " + minFlops);
            if (device < 0) throw new IllegalArgumentException("-Dshears.cuda.device must be >= 0, got " + device);
        }

        /** From {@code -Dshears.cuda.tf32}, {@code -Dshears.cuda.minFlops}, {@code -Dshears.cuda.device}. */
        public static Options fromSystemProperties() {
            String tf32 = System.getProperty("shears.cuda.tf32", "false").trim().toLowerCase(Locale.ROOT);
            if (!tf32.equals("true") && !tf32.equals("false")) {
                throw new IllegalArgumentException("-Dshears.cuda.tf32=" + tf32 + ": expected true or false");
            }
            return new Options(tf32.equals("true"), longProperty("shears.cuda.minFlops", DEFAULT_MIN_FLOPS),
                    (int) longProperty("shears.cuda.device", 0));
        }

        private static long longProperty(String name, long fallback) {
            String v = System.getProperty(name);
            if (v == null || v.isBlank()) return fallback;
            try {
                return Long.parseLong(v.trim().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + name + "=" + v + ": expected a whole number", e);
            }
        }

        public Options withTf32(boolean on) {
            return new Options(on, minFlops, device);
        }

        public Options withMinFlops(long value) {
            return new Options(tf32, value, device);
        }
    }

    /** Loaded libraries and the chosen device, shared by every backend made from them. */
    record Found(CudaRuntime runtime, Cublas cublas, int device, String line) {}

    /** The probe's outcome: {@code found} or, when null, {@code line} says why not. */
    record Probe(Found found, String line) {
        boolean available() {
            return found != null;
        }
    }

    private CudaGemm() {}

    private static final class ProbeHolder {
        static final Probe PROBE = probe(CudaLocator.search(), Options.fromSystemProperties().device());
    }

    private static final class BackendHolder {
        static final CudaGemmBackend BACKEND = create();

        private static CudaGemmBackend create() {
            if (!ProbeHolder.PROBE.available()) return null;
            try {
                return new CudaGemmBackend(ProbeHolder.PROBE.found(), Options.fromSystemProperties());
            } catch (CudaException e) { // e.g. cublasCreate on a device without free memory: not a crash
                java.util.logging.Logger.getLogger("shears").warning("cuda: " + e.getMessage() + "; java GEMM used");
                return null;
            }
        }
    }

    /**
     * The backend, or null when the library or a device is absent. Silent: the caller (GemmBackends)
     * logs the one fallback line, and {@link #describe()} says why.
     */
    public static GemmBackend load() {
        Options.fromSystemProperties(); // a bad option fails here, with its name, not inside a class initializer
        return BackendHolder.BACKEND;
    }

    /** One line for {@code shears info}. */
    public static String describe() {
        return "cuda:     " + probe().line();
    }

    /** This JVM's probe (made once). */
    static Probe probe() {
        Options.fromSystemProperties();
        return ProbeHolder.PROBE;
    }

    /**
     * A new backend with its own cuBLAS handle and buffers over this JVM's libraries, or null when
     * absent. For checks and benchmarks that compare options; the caller closes it.
     */
    static CudaGemmBackend open(Options options) {
        Probe p = probe();
        return p.available() ? new CudaGemmBackend(p.found(), options) : null;
    }

    /**
     * Tries each candidate pair in order; the first with a device wins. When no runtime could even be
     * loaded the line says where it looked, else it gives the first failure (e.g. no device).
     */
    static Probe probe(CudaLocator.Search search, int device) {
        List<String> failures = new ArrayList<>();
        boolean anyRuntime = false;
        for (CudaLocator.Candidate c : search.candidates()) {
            CudaRuntime rt;
            try {
                rt = CudaRuntime.load(c.cudart());
            } catch (IllegalArgumentException e) {
                // A soname the loader did not find is simply absent; a file that is there but does not load is worth saying.
                if (e instanceof CudaRuntime.NotLoadable && !c.cudart().contains("/")) continue;
                failures.add(e.getMessage().contains(c.cudart()) ? e.getMessage() : e.getMessage() + " in " + c.cudart());
                anyRuntime = true;
                continue;
            }
            anyRuntime = true;
            try {
                return withLineOf(bind(rt, c, device));
            } catch (IllegalArgumentException | CudaException e) {
                failures.add(e.getMessage());
            }
        }
        if (!anyRuntime) {
            return new Probe(null, "not found (looked for libcudart.so." + String.join("/.", CudaLocator.MAJORS)
                    + " in " + search.foldersBrief() + (search.overridden() ? " (-Dshears.cuda.path)" : "") + " and the system library path"
                    + "); java GEMM used" + (search.overridden() ? "" : "; -Dshears.cuda.path=DIR points at it"));
        }
        String more = failures.size() > 1 ? " (" + (failures.size() - 1) + " other candidate" + (failures.size() > 2 ? "s" : "") + " failed too)" : "";
        return new Probe(null, failures.getFirst() + more + "; java GEMM used");
    }

    private static Found bind(CudaRuntime rt, CudaLocator.Candidate c, int device) {
        int count;
        try {
            count = rt.deviceCount();
        } catch (CudaException e) {
            throw new IllegalArgumentException(where(c.cudart()) + " loaded, but no usable device: " + e.getMessage(), e);
        }
        if (count == 0) throw new IllegalArgumentException(where(c.cudart()) + " loaded, but it sees no CUDA device");
        if (device >= count) {
            throw new IllegalArgumentException("-Dshears.cuda.device=" + device + " but " + where(c.cudart()) + " sees " + count + " device(s)");
        }
        Cublas cublas = Cublas.load(c.cublas());
        rt.setDevice(device);
        int cc = rt.attribute(CudaRuntime.ATTR_CC_MAJOR, device) * 10 + rt.attribute(CudaRuntime.ATTR_CC_MINOR, device);
        long totalGiB = Math.round(rt.memoryInfo()[1] / (double) (1L << 30));
        String line = where(c.cudart()) + ", " + count + " device" + (count > 1 ? "s" : "") + ": " + rt.deviceName(device)
                + " (#" + device + ", sm_" + cc + ", " + totalGiB + " GiB), runtime " + CudaRuntime.version(rt.runtimeVersion())
                + ", driver " + CudaRuntime.version(rt.driverVersion()) + ", cuBLAS " + cublas.version() + " (" + where(c.cublas()) + ")";
        return new Found(rt, cublas, device, line);
    }

    private static String where(String source) {
        int slash = source.lastIndexOf('/');
        return slash < 0 ? source + " (system search)" : source.substring(slash + 1) + " (" + source.substring(0, slash) + ")";
    }

    private static Probe withLineOf(Found f) {
        Options o = Options.fromSystemProperties();
        return new Probe(f, f.line() + "; -Dshears.gemm=cuda runs GEMMs with m*n*k >= " + o.minFlops() + " there, tf32 " + (o.tf32() ? "on" : "off"));
    }
}
