package dev.shears.engine.kernels;

import dev.shears.engine.nativelib.CudaGemm;
import dev.shears.engine.nativelib.OpenBlasGemm;
import java.util.Locale;

/**
 * Native GEMM backends by name. Each is looked up lazily and is null when its library is absent.
 * The bindings themselves live in {@code dev.shears.engine.nativelib}.
 */
final class NativeBackends {
    private NativeBackends() {}

    static GemmBackend byName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "openblas" -> OpenBlasGemm.load();
            case "cuda" -> CudaGemm.load();
            default -> throw new IllegalArgumentException("-Dshears.gemm=" + name + ": expected java, openblas, cuda or auto");
        };
    }
}
