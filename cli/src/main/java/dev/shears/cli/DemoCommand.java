package dev.shears.cli;

import dev.shears.engine.EngineInfo;
import picocli.CommandLine.Command;

/**
 * {@code shears demo}: the README's first command. Until training and pruning land it prints the
 * engine information, so the README's command is true at every commit.
 */
@Command(name = "demo", description = "Run the Global MP demo on the embedded Fashion-MNIST subset.")
final class DemoCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("shears demo: the pruning demo is not built yet; engine information:");
        EngineInfo.lines().forEach(System.out::println);
    }
}
