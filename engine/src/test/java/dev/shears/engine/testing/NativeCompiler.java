package dev.shears.engine.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test helper: builds a shared library from a C file with the system compiler (cc, gcc or clang on
 * PATH), for the fake CUDA libraries that let the FFM bindings run on machines without a GPU.
 * {@link #compiler()} is null when there is none (the tests then skip and say so).
 */
public final class NativeCompiler {
    private NativeCompiler() {}

    public static String compiler() {
        for (String cc : List.of("cc", "gcc", "clang")) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, cc))) return Path.of(dir, cc).toString();
            }
        }
        return null;
    }

    /** {@code cc -shared -fPIC -O1 -o out src extra...}; the compiler's output in the exception when it fails. */
    public static void compile(String cc, Path src, Path out, String... extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(cc, "-shared", "-fPIC", "-O1", "-o", out.toString(), src.toString()));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("compiling a fake CUDA library failed: " + String.join(" ", cmd) + "\n" + log);
        }
    }
}
