package dev.shears.cli.experiment;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears experiment report --out DIR}: merges whatever is finished in a sweep folder (the
 * workers' work/done files and a single process's cells.jsonl) into results.csv, results.json,
 * report.md and the plots, from the plan stored in the folder. Runs nothing. Pinned by WorkerTest.
 */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merge the finished cells of a sweep folder into results.csv, results.json, report.md and the plots.")
final class ReportCommand implements Runnable {
    @Option(names = "--out", required = true, description = "The sweep folder (the --out of the workers).")
    Path out;

    @Option(names = "--no-plots", description = "Skip the PNG plots.")
    boolean noPlots;

    @Override
    public void run() {
        Plan plan = WorkFolder.read(out);
        Report.Context ctx = Report.Context.of(List.of("Merged by shears experiment report from the results of the sweep's workers."))
                .withCommand("shears experiment report --out " + out);
        List<CellResult> cells = WorkFolder.report(plan, out, ctx, !noPlots, System.err);
        System.out.print(ConsoleTable.table(plan, Summary.of(plan, cells)));
        for (String f : Findings.of(plan, Summary.of(plan, cells), cells)) System.out.println("- " + f);
        int missing = plan.cells().size() - cells.size();
        System.out.printf(Locale.ROOT, "%n%d of %d cells finished%s. Results: %s (results.csv, results.json, report.md, plots)%n", cells.size(), plan.cells().size(),
                missing == 0 ? "" : "; " + missing + " missing (shears experiment status --out " + out + " says why; submitting again runs them)", out.toAbsolutePath());
    }
}
