package dev.shears.engine.nativelib;

import dev.shears.engine.kernels.GemmBackend;

/** cuBLAS GEMM through FFM (binding not written yet: always absent). */
public final class CudaGemm {
    private CudaGemm() {}

    /** The backend, or null when the library or a device is absent. */
    public static GemmBackend load() {
        return null;
    }

    /** One line for {@code shears info}. */
    public static String describe() {
        return "cuda:     not bound yet";
    }
}
