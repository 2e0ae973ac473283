package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Chooses the GEMM backend once: {@code -Dshears.gemm=java} (our kernels: the SIMD twin or the
 * scalar spec, as the probe decided), {@code openblas} or {@code cuda} (native, through FFM), or
 * {@code auto} (the default: java). A native backend that is asked for but absent falls back to
 * java with one log line, never a crash. Pinned by GemmTest and NativeBlasTest.
 */
public final class GemmBackends {
    private static final Logger LOG = Logger.getLogger("shears");
    private static volatile GemmBackend selected;

    private GemmBackends() {}

    /** Our own GEMM: the SIMD twin when the probe allows it, else the scalar spec. */
    public static GemmBackend java() {
        return JavaHolder.JAVA;
    }

    private static final class JavaHolder {
        static final GemmKernel KERNEL = Twins.pick(GemmKernel.class, "GemmSimd", GemmScalar::new);
        static final GemmBackend JAVA = new GemmBackend() {
            @Override
            public String name() {
                return "java";
            }

            @Override
            public void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, MemorySegment a, long ao, int lda,
                              MemorySegment b, long bo, int ldb, float beta, MemorySegment c, long co, int ldc) {
                KERNEL.sgemm(ta, tb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
            }
        };
    }

    /** The backend the facade uses. */
    public static GemmBackend selected() {
        GemmBackend s = selected;
        if (s == null) {
            synchronized (GemmBackends.class) {
                if (selected == null) selected = choose(System.getProperty("shears.gemm", "auto"));
                s = selected;
            }
        }
        return s;
    }

    /** Overrides the selection (benchmarks and tests); null restores the property's choice. */
    public static synchronized void select(GemmBackend backend) {
        selected = backend;
    }

    static GemmBackend choose(String setting) {
        String s = setting.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "auto", "java", "" -> {
                return java();
            }
            default -> {
                GemmBackend b = NativeBackends.byName(s);
                if (b == null) {
                    LOG.info("-Dshears.gemm=" + setting + ": backend not available here; using the java GEMM");
                    return java();
                }
                return b;
            }
        }
    }
}
