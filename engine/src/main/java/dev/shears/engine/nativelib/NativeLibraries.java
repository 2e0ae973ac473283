package dev.shears.engine.nativelib;

import java.util.ArrayList;
import java.util.List;

/** One line per native library Shears can use, saying where it was found or why not. */
public final class NativeLibraries {
    private NativeLibraries() {}

    public static List<String> describe() {
        List<String> out = new ArrayList<>();
        out.add("openblas: not bound yet");
        out.add("cuda:     not bound yet");
        return out;
    }
}
