package dev.shears.engine.nativelib;

import dev.shears.engine.kernels.GemmBackend;

/** OpenBLAS {@code cblas_sgemm} through FFM (binding not written yet: always absent). */
public final class OpenBlasGemm {
    private OpenBlasGemm() {}

    /** The backend, or null when the library is absent. */
    public static GemmBackend load() {
        return null;
    }

    /** One line for {@code shears info}. */
    public static String describe() {
        return "openblas: not bound yet";
    }
}
