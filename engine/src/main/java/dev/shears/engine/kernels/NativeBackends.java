package dev.shears.engine.kernels;

import java.util.Locale;

/**
 * Native GEMM backends by name. Each is looked up lazily and returns null when its library is
 * absent. The bindings themselves live in {@code dev.shears.engine.nativelib}.
 */
final class NativeBackends {
    private NativeBackends() {}

    static GemmBackend byName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            default -> null;
        };
    }
}
