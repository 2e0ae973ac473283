package dev.shears.engine.nativelib;

import java.util.List;

/** One line per native library Shears can use, saying where it was found or why not. */
public final class NativeLibraries {
    private NativeLibraries() {}

    public static List<String> describe() {
        return List.of(OpenBlasGemm.describe(), CudaGemm.describe());
    }
}
