package dev.shears.cli.experiment;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.shears.engine.EngineInfo;
import dev.shears.nn.io.AtomicFiles;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The output folder of a sweep, regenerated from the finished cells (each file written to a temp
 * file and renamed): {@code results.csv} (one row per cell), {@code results.json} (plan, machine,
 * cells, summaries, findings), {@code report.md} (the command, the machine and versions, the
 * recipe, tables of accuracy and FLOPs as mean ± std over seeds, collapse, findings, plots), and
 * the PNG plots ({@link Plots}). Not a plotting or statistics library. Pinned by ReportTest.
 */
public final class Report {
    static final String CSV = "results.csv", JSON = "results.json", MD = "report.md";
    /** The plots' file names (here, not in {@link Plots}: a runtime without java.desktop must not load that class outside the guard). */
    static final String ACCURACY_SPARSITY = "accuracy_vs_sparsity.png", ACCURACY_FLOPS = "accuracy_vs_flops.png", LAYERS = "remaining_weights_per_layer.png";
    static final List<String> PLOTS = List.of(ACCURACY_SPARSITY, ACCURACY_FLOPS, LAYERS);

    /** The run's command line and free notes for the report; {@code machine} is filled on creation. */
    public record Context(String command, List<String> notes, List<String> machine, String started) {
        public static Context of(List<String> notes) {
            return new Context("shears experiment (API)", notes, Report.machineInfo(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        }

        public Context withCommand(String c) {
            return new Context(c, notes, machine, started);
        }

        public Context withNotes(List<String> n) {
            return new Context(command, n, machine, started);
        }
    }

    private Report() {}

    /** Writes every output file for the cells finished so far; plot failures are reported on {@code log}, not thrown. */
    static void write(Path out, Plan plan, List<CellResult> cells, int total, Context ctx, boolean plots, PrintStream log) {
        List<Summary> summaries = Summary.of(plan, cells);
        List<String> findings = Findings.of(plan, summaries, cells);
        List<String> pngs = new ArrayList<>();
        String plotError = null;
        if (plots && !cells.isEmpty()) {
            try {
                pngs = Plots.write(out, plan, summaries, cells);
            } catch (RuntimeException | LinkageError e) { // e.g. no fonts on a bare machine: the numbers still count
                plotError = e.toString();
                log.println("note: plots skipped: " + plotError);
            }
        } else {
            for (String p : PLOTS) if (Files.exists(out.resolve(p))) pngs.add(p);
        }
        writeText(out.resolve(CSV), csv(cells));
        writeText(out.resolve(JSON), pretty(json(plan, cells, total, summaries, findings, ctx)));
        writeText(out.resolve(MD), markdown(plan, cells, total, summaries, findings, ctx, pngs, plotError));
    }

    /** Atomically (temp file, then rename), with the permissions the umask gives new files. */
    static void writeText(Path file, String text) {
        AtomicFiles.writeString(file, text);
    }

    static String pretty(JsonObject o) {
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().serializeSpecialFloatingPointValues().create().toJson(o) + "\n";
    }

    // ---------------------------------------------------------------- CSV

    static final String CSV_HEADER = "method,sparsity,seed,achieved_sparsity,weights,kept,flops_pruned,remaining_flops,dense_macs,sparse_macs,"
            + "dense_accuracy,pruned_accuracy,accuracy,best_accuracy,epochs,collapsed_layers,fatal_layers,connected,seconds";

    static String csv(List<CellResult> cells) {
        StringBuilder b = new StringBuilder(CSV_HEADER).append('\n');
        for (CellResult c : cells) {
            b.append(c.method()).append(',').append(Plan.sparsityKey(c.sparsity())).append(',').append(c.seed()).append(',')
                    .append(f6(c.achieved())).append(',').append(c.weights()).append(',').append(c.kept()).append(',')
                    .append(f6(c.flopsPruned())).append(',').append(f6(1 - c.flopsPruned())).append(',').append(c.denseMacs()).append(',')
                    .append(c.sparseMacs()).append(',').append(f2(c.denseAccuracy())).append(',').append(f2(c.prunedAccuracy())).append(',')
                    .append(f2(c.accuracy())).append(',').append(f2(c.bestAccuracy())).append(',').append(c.epochs()).append(',')
                    .append(String.join(";", c.collapsedLayers())).append(',').append(String.join(";", c.fatalLayers())).append(',')
                    .append(c.connected()).append(',').append(String.format(Locale.ROOT, "%.1f", c.seconds())).append('\n');
        }
        return b.toString();
    }

    private static String f6(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6f", v) : "";
    }

    private static String f2(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "";
    }

    // ---------------------------------------------------------------- JSON

    private static JsonObject json(Plan plan, List<CellResult> cells, int total, List<Summary> summaries, List<String> findings, Context ctx) {
        JsonObject o = new JsonObject();
        o.addProperty("command", ctx.command());
        o.addProperty("started", ctx.started());
        o.addProperty("finished_cells", cells.size());
        o.addProperty("total_cells", total);
        JsonArray m = new JsonArray();
        ctx.machine().forEach(m::add);
        o.add("machine", m);
        o.add("plan", plan.json());
        JsonArray s = new JsonArray();
        for (Summary x : summaries) {
            JsonObject j = new JsonObject();
            j.addProperty("method", x.method());
            j.addProperty("sparsity", x.sparsity());
            j.addProperty("runs", x.runs());
            stat(j, "accuracy", x.accuracy());
            stat(j, "best_accuracy", x.best());
            stat(j, "pruned_accuracy", x.pruned());
            stat(j, "dense_accuracy", x.dense());
            j.addProperty("achieved_sparsity", x.achieved());
            j.addProperty("flops_pruned", x.flopsPruned());
            j.addProperty("kept", x.kept());
            j.addProperty("collapsed_runs", x.collapsedRuns());
            j.addProperty("cut_runs", x.cutRuns());
            JsonArray cl = new JsonArray();
            x.collapsedLayers().forEach(cl::add);
            j.add("collapsed_layers", cl);
            s.add(j);
        }
        o.add("summary", s);
        JsonArray f = new JsonArray();
        findings.forEach(f::add);
        o.add("findings", f);
        JsonArray c = new JsonArray();
        for (CellResult r : cells) c.add(r.json());
        o.add("cells", c);
        return o;
    }

    private static void stat(JsonObject j, String key, Summary.Stat s) {
        JsonObject o = new JsonObject();
        o.addProperty("mean", s.n() == 0 ? null : s.mean());
        o.addProperty("std", s.n() == 0 ? null : s.std());
        o.addProperty("n", s.n());
        j.add(key, o);
    }

    // ---------------------------------------------------------------- Markdown

    private static String markdown(Plan plan, List<CellResult> cells, int total, List<Summary> summaries, List<String> findings, Context ctx,
                                   List<String> pngs, String plotError) {
        StringBuilder b = new StringBuilder();
        b.append("# Shears experiment: ").append(plan.name()).append("\n\n");
        if (cells.size() < total) b.append("**Partial: ").append(cells.size()).append(" of ").append(total).append(" cells finished.** Rerun the command to continue.\n\n");
        b.append("Command:\n\n    ").append(ctx.command()).append("\n\n");
        b.append("Started ").append(ctx.started()).append("; this report was written ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(".\n\n");
        b.append("## Setup\n\n");
        b.append("- Model: `").append(plan.model()).append('`').append(plan.modelOptions().isEmpty() ? "" : " " + plan.modelOptions()).append('\n');
        b.append("- Data: `").append(plan.dataset()).append('`').append(plan.dataDir() == null ? " (built-in source)" : " from " + plan.dataDir())
                .append(plan.trainSize() == null ? "" : ", training subset of " + plan.trainSize())
                .append(plan.testSize() == null ? "" : ", test subset of " + plan.testSize()).append(", augmentation ").append(plan.augment()).append('\n');
        b.append("- Dense model: ").append(plan.denseCheckpoint() != null ? "`" + plan.denseCheckpoint() + "` (all seeds)" : plan.dense().describe()).append('\n');
        b.append("- Fine-tuning: ").append(plan.finetune().describe()).append('\n');
        for (Plan.Rule r : plan.rules()) {
            b.append("  - for ").append(r.method() == null ? "any method" : r.method()).append(Double.isNaN(r.sparsity()) ? "" : " at " + SweepProgress.percent(r.sparsity()))
                    .append(": ").append(r.stage().describe()).append('\n');
        }
        b.append("- Methods: ").append(String.join(", ", plan.methods())).append("; sparsities: ")
                .append(String.join(", ", plan.sparsities().stream().map(SweepProgress::percent).toList())).append("; seeds: ").append(plan.seeds()).append('\n');
        if (plan.mt() != null) b.append("- Minimum Threshold (global-mt): ").append(plan.mt()).append(", ").append(plan.mtMode()).append(" mode\n");
        b.append("- Accuracy = test accuracy after the last fine-tuning epoch (\"best\" = best epoch, as the authors' script tracks it); ")
                .append("FLOPs = multiply-accumulates of conv and linear layers (+ global pools) scaled by each layer's density (STR convention).\n");
        for (String n : plan.notes()) b.append("- ").append(n).append('\n');
        for (String n : ctx.notes()) b.append("- ").append(n).append('\n');
        b.append('\n');
        if (!findings.isEmpty()) {
            b.append("## Findings (computed from the table below)\n\n");
            for (String f : findings) b.append("- ").append(f).append('\n');
            b.append('\n');
        }
        Summary.Stat dense = Summary.Stat.of(cells.stream().filter(c -> !c.method().equals("gradual-global")).map(CellResult::denseAccuracy).distinct().toList());
        if (dense.n() > 0) b.append("Dense accuracy: ").append(dense.format()).append("% (").append(dense.n()).append(dense.n() == 1 ? " model" : " models").append(").\n\n");
        table(b, "Accuracy after fine-tuning (%, mean ± std over seeds)", plan, summaries, s -> s.accuracy().format());
        table(b, "Best accuracy over fine-tuning epochs (%)", plan, summaries, s -> s.best().format());
        table(b, "Accuracy right after pruning, before fine-tuning (%)", plan, summaries, s -> s.pruned().format());
        table(b, "FLOPs pruned (%)", plan, summaries, s -> String.format(Locale.ROOT, "%.2f", 100 * s.flopsPruned()));
        table(b, "Layer collapse (runs with an empty layer / runs)", plan, summaries,
                s -> s.collapsedRuns() == 0 ? "0/" + s.runs() : s.collapsedRuns() + "/" + s.runs() + " (" + String.join(", ", s.collapsedLayers()) + (s.cutRuns() > 0 ? "; cut" : "") + ")");
        if (!pngs.isEmpty()) {
            b.append("## Plots\n\n");
            for (String p : pngs) b.append("![").append(p).append("](").append(p).append(")\n\n");
        } else if (plotError != null) {
            b.append("Plots were not drawn: ").append(plotError).append("\n\n");
        }
        b.append("## Cells\n\n`results.csv` has one row per cell (every seed), `results.json` the same with per-layer kept weights.\n\n");
        b.append("## Machine and versions\n\n");
        for (String m : ctx.machine()) b.append("- ").append(m).append('\n');
        List<String> hosts = cells.stream().map(CellResult::host).filter(java.util.Objects::nonNull).distinct().toList();
        if (!hosts.isEmpty()) b.append("- Cells ran on: ").append(String.join("; ", hosts)).append(" (this report was written on the machine above)\n");
        double secs = cells.stream().mapToDouble(CellResult::seconds).sum();
        b.append(String.format(Locale.ROOT, "- Cell time (pruning, fine-tuning, evaluation; dense training excluded): %s over %d cells%n", SweepProgress.clock(secs), cells.size()));
        b.append("- Plan fingerprint: ").append(plan.fingerprint()).append('\n');
        return b.toString();
    }

    private static void table(StringBuilder b, String title, Plan plan, List<Summary> summaries, java.util.function.Function<Summary, String> cell) {
        List<String> methods = plan.methods().stream().filter(m -> summaries.stream().anyMatch(s -> s.method().equals(m))).toList();
        if (methods.isEmpty()) return;
        b.append("### ").append(title).append("\n\n| sparsity |");
        for (String m : methods) b.append(' ').append(m).append(" |");
        b.append("\n|---|");
        b.append("---|".repeat(methods.size())).append('\n');
        for (double s : plan.sparsities()) {
            b.append("| ").append(SweepProgress.percent(s)).append(" |");
            for (String m : methods) {
                String v = summaries.stream().filter(x -> x.method().equals(m) && Math.abs(x.sparsity() - s) < 1e-9).findFirst().map(cell).orElse("");
                b.append(' ').append(v).append(" |");
            }
            b.append('\n');
        }
        b.append('\n');
    }

    // ---------------------------------------------------------------- machine

    /** Cores, CPU, memory, OS, Java, the engine's kernels/threads/GEMM lines, and the build. */
    static List<String> machineInfo() {
        List<String> out = new ArrayList<>();
        out.add("CPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores visible to the JVM");
        out.add(String.format(Locale.ROOT, "OS: %s %s (%s); JVM max heap %,d MiB", System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("os.arch"), Runtime.getRuntime().maxMemory() >> 20));
        for (String l : EngineInfo.lines()) out.add(l.replaceAll("\\s+", " ").trim());
        out.add("shears 0.1.0" + gitCommit());
        return out;
    }

    static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (Exception e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    private static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroy();
                return "";
            }
            String s = new String(p.getInputStream().readAllBytes()).trim();
            return p.exitValue() == 0 && s.matches("[0-9a-f]{4,40}") ? ", commit " + s : "";
        } catch (Exception e) {
            return "";
        }
    }
}
