package dev.shears.engine.kernels;

import dev.shears.engine.simd.SimdProbe;
import java.util.function.Supplier;

/**
 * Picks the twin of a kernel family once: the Vector API class (by name, from the quarantined
 * {@code kernels.simd} package, loaded only when the probe said yes) or the scalar spec. Facades
 * keep the result in a static final field. Pinned by SimdProbeTest.
 */
public final class Twins {
    private Twins() {}

    /** The SIMD twin {@code simdClass} (public no-arg constructor) when enabled, else {@code scalar}. */
    public static <T> T pick(Class<T> family, String simdClass, Supplier<? extends T> scalar) {
        if (!SimdProbe.decision().enabled()) return scalar.get();
        return loadSimd(family, simdClass);
    }

    /** Loads the SIMD twin regardless of the probe (tests compare twins in one JVM). */
    public static <T> T loadSimd(Class<T> family, String simdClass) {
        try {
            Class<?> c = Class.forName("dev.shears.engine.kernels.simd." + simdClass);
            return family.cast(c.getConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot load SIMD kernel " + simdClass + " for " + family.getSimpleName()
                    + "; start java with --add-modules jdk.incubator.vector or set -Dshears.simd=off", e);
        }
    }
}
