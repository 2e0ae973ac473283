package dev.shears.engine.cuda;

import dev.shears.engine.testing.NativeCompiler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helper: builds a fake libcuda.so.1 whose "kernels" are our .cu sources compiled as C++ for the
 * host (hostcuda.h), so the GPU tests' arithmetic, indexing and expectations run on a CPU machine. Each
 * launch runs every block, and every thread of a block one after another; kernels that use shared
 * memory (a block_sum or __syncthreads) run one thread per block. Same sources, other compiler: the
 * GPU run still has to confirm the PTX, the parallel reductions and the launch shapes.
 * Null from {@link #build} without a C and a C++ compiler.
 */
final class HostKernels {
    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");

    private HostKernels() {}

    /** A folder holding the emulating libcuda.so.1, or null when there is no compiler. */
    static Path build(Path root) throws IOException, InterruptedException {
        String cc = NativeCompiler.compiler(), cxx = cxx();
        if (cc == null || cxx == null) return null;
        Files.createDirectories(root);
        copyResource("fakecudadriver.c", root);
        copyResource("hostcuda.h", root);
        StringBuilder tu = new StringBuilder("#include \"hostcuda.h\"\n");
        List<String> entries = new ArrayList<>();
        for (String family : KernelSources.FAMILIES) {
            String src = new String(KernelSources.source(family), StandardCharsets.UTF_8);
            Files.writeString(root.resolve(family + ".cu"), src);
            tu.append("#include \"").append(family).append(".cu\"\n");
            Matcher m = KERNEL.matcher(src);
            List<int[]> spans = new ArrayList<>();
            List<String> names = new ArrayList<>();
            while (m.find()) {
                names.add(m.group(1));
                spans.add(new int[] {m.start(), 0});
            }
            for (int i = 0; i < names.size(); i++) {
                String body = src.substring(spans.get(i)[0], i + 1 < names.size() ? spans.get(i + 1)[0] : src.length());
                boolean cooperative = body.contains("__syncthreads") || body.contains("block_sum(");
                entries.add("{\"" + names.get(i) + "\", [](void **p) { invoke(" + names.get(i) + ", p); }, " + (cooperative ? 1 : 0) + "}");
            }
        }
        tu.append("""
                #include <utility>
                #include <stddef.h>
                template <typename... A, size_t... I> static void invoke_(void (*f)(A...), void **p, std::index_sequence<I...>) {
                    f(*static_cast<A *>(p[I])...);
                }
                template <typename... A> static void invoke(void (*f)(A...), void **p) { invoke_(f, p, std::index_sequence_for<A...>{}); }
                struct hostcuda_entry { const char *name; void (*run)(void **); int cooperative; };
                static hostcuda_entry hostcuda_entries[] = {
                """);
        tu.append(String.join(",\n", entries)).append("""

                };
                extern "C" void *hostcuda_kernel(const char *name) {
                    for (auto &e : hostcuda_entries) if (strcmp(e.name, name) == 0) return &e;
                    return nullptr;
                }
                extern "C" void hostcuda_run(void *kernel, unsigned grid, unsigned block, void **params) {
                    hostcuda_entry *e = static_cast<hostcuda_entry *>(kernel);
                    gridDim = {grid, 1, 1};
                    blockDim = {e->cooperative ? 1u : block, 1, 1};
                    for (unsigned b = 0; b < grid; b++) {
                        blockIdx = {b, 0, 0};
                        for (unsigned t = 0; t < blockDim.x; t++) {
                            threadIdx = {t, 0, 0};
                            e->run(params);
                        }
                    }
                }
                """);
        Files.writeString(root.resolve("hostkernels.cpp"), tu.toString());
        Path out = Files.createDirectories(root.resolve("emulated"));
        run(root, cc, "-c", "-fPIC", "-O1", "-DFAKE_EMULATE", "-o", "fakecudadriver.o", "fakecudadriver.c");
        run(root, cxx, "-std=c++17", "-O1", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared", "-w", "-o",
                out.resolve("libcuda.so.1").toString(), "hostkernels.cpp", "fakecudadriver.o", "-Wl,-soname,libshearsfakecuda-emulated.so.1", "-lm");
        return out;
    }

    private static void copyResource(String name, Path dir) throws IOException {
        try (InputStream in = HostKernels.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("test resource " + name + " missing next to " + HostKernels.class.getName());
            Files.copy(in, dir.resolve(name));
        }
    }

    private static String cxx() {
        for (String c : List.of("c++", "g++", "clang++")) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, c))) return Path.of(dir, c).toString();
            }
        }
        return null;
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("building the host kernels failed: " + String.join(" ", cmd) + "\n" + log);
        }
    }
}
