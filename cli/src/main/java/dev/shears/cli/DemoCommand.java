package dev.shears.cli;

import dev.shears.cli.experiment.Demo;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears demo}: the README's first command. On the embedded Fashion-MNIST subset it trains
 * LeNet-5, prunes it with Global MP, Global MP + MT, uniform and LAMP up to 99.5% sparsity,
 * fine-tunes each briefly, prints the table and the two effects the paper is about (computed from
 * the results), and writes the report and plots to ./shears-demo/. The work is
 * {@link Demo}; this only parses options. Pinned by DemoTest.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Global MP demo on the embedded Fashion-MNIST subset (a few minutes on 2 cores):",
        "train LeNet-5, prune with Global MP, Global MP + MT, uniform and LAMP up to 99.5%, fine-tune, report."})
final class DemoCommand implements Runnable {
    @Option(names = "--out", defaultValue = "shears-demo", description = "Output folder (default: ./${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--epochs", defaultValue = "" + Demo.DENSE_EPOCHS, description = "Dense training epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--finetune-epochs", defaultValue = "" + Demo.FINETUNE_EPOCHS, description = "Fine-tuning epochs per pruned model (default: ${DEFAULT-VALUE}).")
    int finetuneEpochs;

    @Option(names = "--finetune-samples", defaultValue = "" + Demo.FINETUNE_SAMPLES, description = "Training images each fine-tuning epoch sees, a fresh random subset (default: ${DEFAULT-VALUE}; 0 = all).")
    int finetuneSamples;

    @Option(names = "--sparsities", split = ",", description = "Target sparsities (default: " + Demo.SPARSITIES + ").")
    List<Double> sparsities;

    @Option(names = "--mt", defaultValue = Demo.MT, description = "Minimum Threshold of global-mt: weights kept per layer (default: ${DEFAULT-VALUE}).")
    String mt;

    @Option(names = "--train-size", description = "Use a fixed subset of the 10,000 training images (quicker).")
    Integer trainSize;

    @Option(names = "--test-size", description = "Use a fixed subset of the 2,000 test images (quicker).")
    Integer testSize;

    @Option(names = "--resume", description = "Keep the finished cells of an earlier demo in --out instead of starting over.")
    boolean resume;

    @Option(names = "--progress", defaultValue = "auto", description = "auto, bar, lines or off: the display of each training run (default: ${DEFAULT-VALUE}).")
    String progress;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Override
    public void run() {
        new Demo(out, epochs, finetuneEpochs, finetuneSamples, sparsities, mt, trainSize, testSize, resume, progress, threads).run(System.out, System.err);
    }
}
