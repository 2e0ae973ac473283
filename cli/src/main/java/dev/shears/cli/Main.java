package dev.shears.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code shears} command: one picocli root whose subcommands are the user's verbs. Errors a
 * user can act on ({@link IllegalArgumentException}, {@link UserError}) print one line, not a
 * stack trace. Pinned by CliTest.
 */
@Command(name = "shears", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "Train, prune (Global Magnitude Pruning) and run sparse neural networks on the JVM.",
        subcommands = {InfoCommand.class, DemoCommand.class, dev.shears.cli.experiment.ExperimentCommand.class, TrainCommand.class, EvalCommand.class, BenchCommand.class, PruneCommand.class, ExportCommand.class, ImportCommand.class, InferCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, bad) -> { // a mistyped option: one line, not the whole usage
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("shears " + cmd.getCommandName() + ": " + ex.getMessage() + " (see: " + cmd.getCommandSpec().qualifiedName() + " --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof UserError || ex instanceof java.io.UncheckedIOException) {
                cmd.getErr().println("shears " + cmd.getCommandName() + ": " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }
}
