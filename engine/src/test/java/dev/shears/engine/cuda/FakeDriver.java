package dev.shears.engine.cuda;

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

/**
 * Test helper: builds fakecudadriver.c (a CPU stand-in for libcuda.so.1, see its header) into folders
 * named like a driver install, one per variant. Null from {@link #build} without a C compiler.
 */
final class FakeDriver {
    /** Each folder holds a libcuda.so.1: working (4 GiB), no device, 1 MiB of memory, not a library, no symbols. */
    record Folders(Path working, Path noDevice, Path small, Path notALibrary, Path noSymbols) {}

    private FakeDriver() {}

    static Folders build(Path root) throws IOException, InterruptedException {
        String cc = NativeCompiler.compiler();
        if (cc == null) return null;
        Files.createDirectories(root);
        Path src = root.resolve("fakecudadriver.c");
        try (InputStream in = FakeDriver.class.getResourceAsStream("fakecudadriver.c")) {
            if (in == null) throw new IOException("test resource fakecudadriver.c missing next to " + FakeDriver.class.getName());
            Files.copy(in, src);
        }
        // Each variant gets its own soname, so the loader keeps them apart within one JVM.
        Path working = Files.createDirectories(root.resolve("working"));
        NativeCompiler.compile(cc, src, working.resolve("libcuda.so.1"), "-Wl,-soname,libshearsfakecuda-working.so.1");
        Path noDevice = Files.createDirectories(root.resolve("nodevice"));
        NativeCompiler.compile(cc, src, noDevice.resolve("libcuda.so.1"), "-DFAKE_NO_DEVICE", "-Wl,-soname,libshearsfakecuda-nodevice.so.1");
        Path small = Files.createDirectories(root.resolve("small"));
        NativeCompiler.compile(cc, src, small.resolve("libcuda.so.1"), "-DFAKE_CAPACITY=1048576", "-Wl,-soname,libshearsfakecuda-small.so.1");
        Path notALibrary = Files.createDirectories(root.resolve("notalibrary"));
        Files.writeString(notALibrary.resolve("libcuda.so.1"), "not an ELF file\n");
        Path noSymbols = Files.createDirectories(root.resolve("nosymbols"));
        Path empty = root.resolve("empty.c");
        Files.writeString(empty, "int shears_unrelated(void) { return 0; }\n");
        NativeCompiler.compile(cc, empty, noSymbols.resolve("libcuda.so.1"), "-Wl,-soname,libshearsfakecuda-nosymbols.so.1");
        return new Folders(working, noDevice, small, notALibrary, noSymbols);
    }

    /** The fake's counters: 0 device mallocs, 1 frees, 2 bytes in use, 3 launches. */
    static long stat(Path folder, int which) {
        SymbolLookup lib = SymbolLookup.libraryLookup(folder.resolve("libcuda.so.1"), Arena.global());
        MethodHandle h = Linker.nativeLinker().downcallHandle(lib.find("fakedriver_stat").orElseThrow(), FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        try {
            return (long) h.invokeExact(which);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
