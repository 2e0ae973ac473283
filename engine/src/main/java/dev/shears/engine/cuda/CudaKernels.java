package dev.shears.engine.cuda;

import dev.shears.engine.nativelib.CudaDriver;
import dev.shears.engine.nativelib.Nvrtc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Our kernels, loaded into one device context: each family's CUDA C source is compiled by NVRTC for
 * the device's own architecture, or, where NVRTC is absent (or {@code -Dshears.cuda.kernels=ptx}),
 * the PTX shipped in the jar is JIT-compiled by the driver. Then launches by kernel name, with the
 * arguments packed as cuLaunchKernel wants them (a pointer to each value). Not the ops' argument
 * checks (CudaOps) and not thread safe. Pinned on a GPU by CudaKernelsGpuTest (both load paths).
 */
public final class CudaKernels {
    /** How the modules were made. */
    public enum Path { NVRTC, SHIPPED_PTX }

    /** Threads per block for elementwise launches; reductions pick their own (a power of two). */
    public static final int BLOCK = 256;

    private final CudaDriver driver;
    private final Path path;
    private final String description;
    private final Map<String, Long> functions = new HashMap<>();
    private final Map<String, String> signatures = new HashMap<>(); // kernel -> one letter per parameter (see signatures())
    private final int maxBlocks;

    /**
     * Loads every family. {@code mode}: "auto" (NVRTC when found, else the shipped PTX), "nvrtc" (an
     * error without it) or "ptx"; from {@code -Dshears.cuda.kernels}.
     */
    CudaKernels(CudaDriver driver, int ccMajor, int ccMinor, int multiprocessors, String mode) {
        this.driver = driver;
        this.maxBlocks = Math.max(1, multiprocessors) * 32;
        Nvrtc nvrtc = switch (mode) {
            case "ptx" -> null;
            case "auto", "nvrtc" -> Nvrtc.find();
            default -> throw new IllegalArgumentException("-Dshears.cuda.kernels=" + mode + ": expected auto, nvrtc or ptx");
        };
        if (nvrtc == null && mode.equals("nvrtc")) {
            throw new IllegalStateException("-Dshears.cuda.kernels=nvrtc but no NVRTC was found (looked for " + String.join(", ", Nvrtc.NAMES)
                    + " in the CUDA folders and the system library path); use -Dshears.cuda.kernels=ptx or install the CUDA toolkit's NVRTC");
        }
        this.path = nvrtc != null ? Path.NVRTC : Path.SHIPPED_PTX;
        String arch = "compute_" + ccMajor + ccMinor;
        for (String family : KernelSources.FAMILIES) {
            byte[] image;
            String what;
            if (nvrtc != null) {
                List<String> options = new ArrayList<>(KernelSources.OPTIONS);
                options.add("--gpu-architecture=" + arch);
                image = nvrtc.compileToPtx(new String(KernelSources.source(family), java.nio.charset.StandardCharsets.UTF_8), family + ".cu", options);
                what = family + ".cu (NVRTC " + nvrtc.version() + ", " + arch + ")";
            } else {
                image = KernelSources.shippedPtx(family);
                String stale = KernelSources.stalePtx(family);
                if (stale != null) throw new IllegalStateException(stale);
                what = family + ".ptx (shipped in the jar)";
            }
            long module;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment text = a.allocate(image.length + 1L);
                text.copyFrom(MemorySegment.ofArray(image));
                text.set(ValueLayout.JAVA_BYTE, image.length, (byte) 0);
                module = driver.loadModule(text, what);
            }
            for (String kernel : entries(image)) functions.put(kernel, driver.function(module, kernel));
            signatures.putAll(signatures(image));
        }
        this.description = path == Path.NVRTC ? "kernels compiled by NVRTC " + nvrtc.version() + " (" + nvrtc.source() + ") for " + arch
                : "kernels from the PTX in the jar (compute_80), JIT-compiled by the driver";
    }

    /** The kernel names a PTX text defines ({@code .visible .entry NAME(}). */
    static List<String> entries(byte[] ptx) {
        List<String> out = new ArrayList<>();
        for (String line : new String(ptx, java.nio.charset.StandardCharsets.US_ASCII).split("\n")) {
            String t = line.strip();
            if (t.startsWith(".visible .entry ") || t.startsWith(".entry ")) {
                String rest = t.substring(t.indexOf(".entry ") + 7);
                int paren = rest.indexOf('(');
                out.add((paren < 0 ? rest : rest.substring(0, paren)).strip());
            }
        }
        return out;
    }

    /**
     * Each kernel's parameters as letters, from its PTX: L a 64-bit integer or pointer (.u64/.s64/.b64),
     * I a 32-bit integer, F a float, D a double. {@link #launch} checks its arguments against them, so
     * an argument of the wrong type or count is an error naming the kernel, not a corrupted launch.
     */
    static Map<String, String> signatures(byte[] ptx) {
        Map<String, String> out = new HashMap<>();
        String name = null;
        StringBuilder sig = null;
        for (String line : new String(ptx, java.nio.charset.StandardCharsets.US_ASCII).split("\n")) {
            String t = line.strip();
            if (t.startsWith(".visible .entry ") || t.startsWith(".entry ")) {
                String rest = t.substring(t.indexOf(".entry ") + 7);
                int paren = rest.indexOf('(');
                name = (paren < 0 ? rest : rest.substring(0, paren)).strip();
                sig = new StringBuilder();
                if (rest.endsWith(")")) { out.put(name, ""); name = null; }
            } else if (name != null && t.startsWith(".param ")) {
                String type = t.split("\\s+")[1];
                sig.append(switch (type) {
                    case ".u64", ".s64", ".b64" -> 'L';
                    case ".u32", ".s32", ".b32" -> 'I';
                    case ".f32" -> 'F';
                    case ".f64" -> 'D';
                    default -> throw new IllegalStateException("kernel " + name + ": parameter type " + type + " not supported by CudaKernels.launch");
                });
            } else if (name != null && t.startsWith(")")) {
                out.put(name, sig.toString());
                name = null;
            }
        }
        return out;
    }

    private static char letter(Object arg) {
        return switch (arg) {
            case null -> 'L';
            case Long v -> 'L';
            case DeviceBuffer b -> 'L';
            case Integer v -> 'I';
            case Float v -> 'F';
            case Double v -> 'D';
            default -> '?';
        };
    }

    public Path path() {
        return path;
    }

    public String describe() {
        return description;
    }

    /** Blocks for a grid-stride launch over {@code n} elements. */
    public int blocksFor(long n) {
        return (int) Math.max(1, Math.min(maxBlocks, (n + BLOCK - 1) / BLOCK));
    }

    /** A grid-stride launch over {@code n} elements on {@code stream}. */
    public void launch1d(String kernel, long n, long stream, Object... args) {
        if (n == 0) return;
        launch(kernel, blocksFor(n), BLOCK, stream, args);
    }

    /**
     * Launches {@code kernel} with {@code grid} x {@code block} threads. Arguments in order, each
     * matching the kernel's C type: Long (a device pointer, long long or unsigned long long), Integer
     * (int), Float, Double, a {@link DeviceBuffer} (its address), or null (a null pointer).
     */
    public void launch(String kernel, int grid, int block, long stream, Object... args) {
        Long f = functions.get(kernel);
        if (f == null) throw new IllegalArgumentException("no CUDA kernel named '" + kernel + "' (loaded: " + String.join(", ", functions.keySet().stream().sorted().toList()) + ")");
        String want = signatures.get(kernel);
        StringBuilder got = new StringBuilder();
        for (Object arg : args) got.append(letter(arg));
        if (want != null && !want.contentEquals(got)) {
            throw new IllegalArgumentException("kernel " + kernel + " takes (" + want + ") but was given (" + got
                    + ") [L: pointer or 64-bit integer, I: int, F: float, D: double]");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(ValueLayout.ADDRESS, Math.max(1, args.length));
            for (int i = 0; i < args.length; i++) params.setAtIndex(ValueLayout.ADDRESS, i, value(a, args[i], kernel, i));
            driver.launch(f, kernel, grid, 1, 1, block, 1, 1, 0, stream, params);
        }
    }

    private static MemorySegment value(Arena a, Object arg, String kernel, int index) {
        return switch (arg) {
            case null -> a.allocateFrom(ValueLayout.JAVA_LONG, 0L);
            case Long v -> a.allocateFrom(ValueLayout.JAVA_LONG, v);
            case Integer v -> a.allocateFrom(ValueLayout.JAVA_INT, v);
            case Float v -> a.allocateFrom(ValueLayout.JAVA_FLOAT, v);
            case Double v -> a.allocateFrom(ValueLayout.JAVA_DOUBLE, v);
            case DeviceBuffer b -> a.allocateFrom(ValueLayout.JAVA_LONG, b.address());
            default -> throw new IllegalArgumentException("kernel " + kernel + " argument " + index + ": unsupported type "
                    + arg.getClass().getSimpleName().toLowerCase(Locale.ROOT) + " (expected Long, Integer, Float, Double or DeviceBuffer)");
        };
    }

    /** True when {@code kernel} was loaded. */
    public boolean has(String kernel) {
        return functions.containsKey(kernel);
    }
}
