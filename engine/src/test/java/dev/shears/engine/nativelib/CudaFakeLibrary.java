package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.shears.engine.testing.NativeCompiler;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Test helper: compiles fakecuda.c (a CPU stand-in for libcudart + libcublas, see its header) with
 * the system C compiler into folders laid out as a CUDA install would be, one per variant. Null
 * from {@link #build} when there is no compiler (tests then skip and say so).
 */
final class CudaFakeLibrary {
    /** Folders, each with libcudart.so.13 and libcublas.so.13 (or what the variant lacks). */
    record Folders(Path working, Path noDevice, Path needsLt, Path notALibrary, Path noSymbols, Path cudartOnly) {}

    private CudaFakeLibrary() {}

    static Folders build(Path root) throws IOException, InterruptedException {
        String cc = compiler();
        if (cc == null) return null;
        Files.createDirectories(root);
        Path src = root.resolve("fakecuda.c");
        try (InputStream in = CudaFakeLibrary.class.getResourceAsStream("fakecuda.c")) {
            if (in == null) throw new IOException("test resource fakecuda.c missing next to " + CudaFakeLibrary.class.getName());
            Files.copy(in, src);
        }
        Path lib = root.resolve("fakecuda.so");
        compile(cc, src, lib);

        Path working = Files.createDirectories(root.resolve("working"));
        // Both names link to one file, so the loader maps it once and cuBLAS sees the runtime's allocations.
        Files.createSymbolicLink(working.resolve("libcudart.so.13"), lib);
        Files.createSymbolicLink(working.resolve("libcublas.so.13"), lib);

        Path noDevice = Files.createDirectories(root.resolve("nodevice"));
        compile(cc, src, noDevice.resolve("libcudart.so.13"), "-DFAKE_NO_DEVICE");
        Files.createSymbolicLink(noDevice.resolve("libcublas.so.13"), lib);

        Path needsLt = Files.createDirectories(root.resolve("needslt"));
        Path ltSrc = root.resolve("lt.c");
        Files.writeString(ltSrc, "int fake_lt_present(void) { return 1; }\n");
        // Named like the real one (that is what Cublas.load looks for) but with its own soname, so a real
        // libcublas loaded later in this JVM never binds to it.
        compile(cc, ltSrc, needsLt.resolve("libcublasLt.so.13"), "-Wl,-soname,libshearsfakecublaslt.so.13");
        compile(cc, src, needsLt.resolve("libcublas.so.13"), "-DFAKE_NEEDS_LT", "-L" + needsLt, "-l:libcublasLt.so.13");
        Files.createSymbolicLink(needsLt.resolve("libcudart.so.13"), lib);

        Path notALibrary = Files.createDirectories(root.resolve("notalibrary"));
        Files.writeString(notALibrary.resolve("libcudart.so.13"), "not an ELF file\n");
        Files.writeString(notALibrary.resolve("libcublas.so.13"), "not an ELF file\n");

        Path noSymbols = Files.createDirectories(root.resolve("nosymbols"));
        Path empty = root.resolve("empty.c");
        Files.writeString(empty, "int shears_unrelated(void) { return 0; }\n");
        compile(cc, empty, noSymbols.resolve("libcudart.so.13"));
        Files.createSymbolicLink(noSymbols.resolve("libcublas.so.13"), noSymbols.resolve("libcudart.so.13"));

        Path cudartOnly = Files.createDirectories(root.resolve("cudartonly"));
        Files.createSymbolicLink(cudartOnly.resolve("libcudart.so.13"), lib);
        return new Folders(working, noDevice, needsLt, notALibrary, noSymbols, cudartOnly);
    }

    /** A search over exactly one folder, without the loader's soname fallback (so no system library interferes). */
    static CudaLocator.Search only(Path folder) {
        return new CudaLocator.Search(List.of(folder), true, CudaLocator.candidates(List.of(folder), false));
    }

    /** The fake's counters: 0 device mallocs, 1 frees, 2 bytes up, 3 bytes down. */
    static long stat(Path folder, int which) {
        SymbolLookup lib = SymbolLookup.libraryLookup(folder.resolve("libcudart.so.13"), Arena.global());
        MethodHandle h = Linker.nativeLinker().downcallHandle(lib.find("fakecuda_stat").orElseThrow(), FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        try {
            return (long) h.invokeExact(which);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static String compiler() {
        return NativeCompiler.compiler();
    }

    private static void compile(String cc, Path src, Path out, String... extra) throws IOException, InterruptedException {
        NativeCompiler.compile(cc, src, out, extra);
    }
}
