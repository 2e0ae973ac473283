package dev.shears.cli.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The demo behind {@code shears demo}: a small sweep on the embedded Fashion-MNIST subset sized
 * for a few minutes on two cores: LeNet-5 trained densely, pruned one-shot with Global MP, Global
 * MP + MT, uniform and LAMP at sparsities up to 99.9%, each fine-tuned briefly. It prints the
 * table and the paper's two effects as sentences computed from the results (or says they did not
 * show), and leaves report.md, results and plots in the output folder. Starts over unless asked
 * to resume. Pinned by DemoTest.
 */
public final class Demo {
    public static final int DENSE_EPOCHS = 3;
    public static final int FINETUNE_EPOCHS = 1;
    public static final String SPARSITIES = "0.5,0.9,0.97,0.99,0.995,0.999";
    public static final String MT = "100";
    public static final int FINETUNE_SAMPLES = 2000;
    static final List<String> METHODS = List.of("global", "global-mt", "uniform", "lamp");

    private final Path out;
    private final int epochs, finetuneEpochs, finetuneSamples;
    private final List<Double> sparsities;
    private final String mt;
    private final Integer trainSize, testSize;
    private final boolean resume;
    private final String progress;
    private final Integer threads;

    public Demo(Path out, int epochs, int finetuneEpochs, int finetuneSamples, List<Double> sparsities, String mt, Integer trainSize, Integer testSize,
                boolean resume, String progress, Integer threads) {
        this.out = out;
        this.epochs = epochs;
        this.finetuneEpochs = finetuneEpochs;
        this.finetuneSamples = finetuneSamples;
        this.sparsities = sparsities != null ? sparsities : Stream.of(SPARSITIES.split(",")).map(Double::parseDouble).toList();
        this.mt = mt;
        this.trainSize = trainSize;
        this.testSize = testSize;
        this.resume = resume;
        this.progress = progress;
        this.threads = threads;
    }

    Plan plan() {
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
        if (finetuneEpochs < 0) throw new IllegalArgumentException("--finetune-epochs must be >= 0, got " + finetuneEpochs);
        if (finetuneSamples < 0) throw new IllegalArgumentException("--finetune-samples must be >= 0, got " + finetuneSamples);
        Stage dense = Stage.sgd(epochs, 64, 0.05, 0.9, false, 5e-4);
        Stage ft = Stage.sgd(finetuneEpochs, 64, 0.01, 0.9, false, 5e-4).withSamplesPerEpoch(finetuneSamples);
        return new Plan("demo", "lenet5", Map.of(), "fashion-mnist", null, trainSize, testSize, "none", dense, ft, List.of(), METHODS, sparsities,
                List.of(0L), mt, "paper", null,
                List.of("The demo: LeNet-5 (430,500 prunable weights) on the embedded Fashion-MNIST subset, one seed, brief fine-tuning "
                        + "(a fresh random subset of the training images per epoch); a sketch of the paper's effects, not its numbers."));
    }

    /** Runs the demo; the table and findings go to {@code out}, progress to {@code err}. */
    public void run(PrintStream stdout, PrintStream err) {
        long t0 = System.nanoTime();
        ExperimentCommand.applyThreads(threads);
        Plan plan = plan();
        if (!resume) clear();
        stdout.printf(Locale.ROOT, "shears demo: LeNet-5 on the embedded Fashion-MNIST subset; %d dense epochs, then %s at %s, each fine-tuned for %s%n",
                epochs, String.join(", ", METHODS), String.join(", ", plan.sparsities().stream().map(SweepProgress::percent).toList()),
                plan.finetune().describe().replaceAll(", batch.*", ""));
        stdout.println("(global-mt = Global MP with a Minimum Threshold of " + mt + " weights per layer; output in " + out.toAbsolutePath() + ")");
        stdout.flush();
        String command = "shears demo" + (resume ? " --resume" : "");
        Sweep.Outcome o = new Sweep(plan, out, err).progress(ExperimentCommand.progressMode(progress))
                .context(Report.Context.of(List.of()).withCommand(command)).run();
        List<Summary> sums = Summary.of(plan, o.cells());
        stdout.println();
        stdout.print(ConsoleTable.table(plan, sums));
        stdout.println();
        stdout.println("What the numbers show:");
        for (String f : Findings.of(plan, sums, o.cells())) stdout.println("- " + f);
        stdout.println();
        stdout.printf(Locale.ROOT, "Report: %s%n", out.resolve(Report.MD).toAbsolutePath());
        stdout.printf(Locale.ROOT, "Results: %s, %s%n", out.resolve(Report.CSV).toAbsolutePath(), out.resolve(Report.JSON).toAbsolutePath());
        for (String p : Report.PLOTS) if (Files.exists(out.resolve(p))) stdout.printf(Locale.ROOT, "Plot: %s%n", out.resolve(p).toAbsolutePath());
        stdout.printf(Locale.ROOT, "Done in %s.%n", SweepProgress.clock((System.nanoTime() - t0) / 1e9));
    }

    /** Starting over: the journal and the dense runs of an earlier demo go (nothing else in the folder is touched). */
    private void clear() {
        try {
            Files.deleteIfExists(out.resolve(CellStore.FILE));
            Path dense = out.resolve(Sweep.DENSE_DIR);
            if (Files.isDirectory(dense)) {
                try (Stream<Path> walk = Files.walk(dense)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear the earlier demo in " + out + ": " + e.getMessage(), e);
        }
    }
}
