package dev.shears.cli;

import dev.shears.engine.EngineInfo;
import picocli.CommandLine.Command;

/** {@code shears info}: Java, SIMD decision, threads, native libraries, GEMM backend. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Print the Java version, SIMD decision, threads and native libraries.")
final class InfoCommand implements Runnable {
    @Override
    public void run() {
        EngineInfo.lines().forEach(System.out::println);
    }
}
