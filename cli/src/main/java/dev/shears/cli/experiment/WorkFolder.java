package dev.shears.cli.experiment;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The shared side of a sweep folder that several workers use: {@code work/plan.json}, written once
 * by the first worker (or by {@code submit}); every later worker compares its own plan with it and
 * stops with the differences named (as options where one maps to them). Also merges what is
 * finished (the single-process journal {@code cells.jsonl} and the workers' {@code work/done/}
 * files) for the report. Not the claims ({@link Claims}). Pinned by WorkerTest.
 */
final class WorkFolder {
    static final String PLAN = "plan.json";

    private WorkFolder() {}

    static Path planFile(Path out) {
        return out.resolve(Claims.WORK).resolve(PLAN);
    }

    /** Writes the plan to {@code work/plan.json} unless a plan is there; a different plan there is an error naming the differences. */
    static void writeOrCheck(Plan plan, Path out) {
        Path f = planFile(out);
        if (Claims.createExclusive(f, Report.pretty(plan.json()))) {
            Report.readable(f);
            return;
        }
        JsonObject there = readJson(f);
        List<String> diff = differences(there, plan.json());
        if (!diff.isEmpty()) {
            throw new IllegalArgumentException("the sweep in " + out + " was started with another plan (" + f + "); this worker's options differ: "
                    + String.join("; ", diff) + ". Start every worker with the same options, or use another --out");
        }
    }

    /** The plan of a sweep folder: work/plan.json, else plan.json of a single-process run. */
    static Plan read(Path out) {
        Path f = planFile(out);
        if (!Files.isRegularFile(f)) f = out.resolve("plan.json");
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException(out + " holds no sweep (neither " + planFile(out) + " nor " + out.resolve("plan.json") + "); give the --out of a sweep");
        }
        try {
            return Plan.fromJson(readJson(f));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(f + " is not a plan this version of shears reads (" + e.getMessage() + ")", e);
        }
    }

    private static JsonObject readJson(Path f) {
        try {
            return JsonParser.parseString(Files.readString(f, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(f + " is not JSON (" + e.getMessage() + "); delete it if no worker uses this folder", e);
        }
    }

    /** The JSON paths whose values differ, e.g. "--dense-epochs (dense.epochs): 10 in the folder, 5 here". Notes are ignored (they follow the options). */
    static List<String> differences(JsonObject folder, JsonObject mine) {
        List<String> out = new ArrayList<>();
        diff("", folder, mine, out);
        return out;
    }

    private static void diff(String path, JsonElement a, JsonElement b, List<String> out) {
        if (path.equals("notes")) return;
        if (a != null && b != null && a.isJsonObject() && b.isJsonObject()) {
            TreeSet<String> keys = new TreeSet<>(a.getAsJsonObject().keySet());
            keys.addAll(b.getAsJsonObject().keySet());
            for (String k : keys) diff(path.isEmpty() ? k : path + "." + k, a.getAsJsonObject().get(k), b.getAsJsonObject().get(k), out);
            return;
        }
        String x = a == null || a.isJsonNull() ? "none" : a.toString(), y = b == null || b.isJsonNull() ? "none" : b.toString();
        if (!x.equals(y)) {
            String option = option(path);
            out.add((option == null ? path : option + " (" + path + ")") + ": " + x + " in the folder, " + y + " here");
        }
    }

    /** The experiment option behind a plan key, where there is one. */
    private static String option(String path) {
        return switch (path) {
            case "model" -> "--model";
            case "dataset" -> "--dataset";
            case "data_dir" -> "--data";
            case "train_size" -> "--train-size";
            case "test_size" -> "--test-size";
            case "augment" -> "--augment";
            case "methods" -> "--methods";
            case "sparsities" -> "--sparsities";
            case "seeds" -> "--seeds";
            case "mt" -> "--mt";
            case "mt_mode" -> "--mt-mode";
            case "dense_checkpoint" -> "--dense";
            case "name" -> "--recipe";
            case "dense.epochs" -> "--dense-epochs";
            case "finetune.epochs" -> "--finetune-epochs";
            case "dense.lr" -> "--lr";
            case "finetune.lr" -> "--finetune-lr";
            case "finetune.samples_per_epoch" -> "--finetune-samples";
            default -> {
                if (path.startsWith("model_options")) yield "--model-option";
                String leaf = path.substring(path.lastIndexOf('.') + 1);
                yield switch (leaf) {
                    case "batch" -> "--batch";
                    case "optimizer" -> "--optimizer";
                    case "momentum" -> "--momentum";
                    case "nesterov" -> "--nesterov";
                    case "weight_decay" -> "--weight-decay";
                    case "schedule" -> "--schedule";
                    case "warmup_epochs" -> "--warmup-epochs";
                    case "label_smoothing" -> "--label-smoothing";
                    default -> null;
                };
            }
        };
    }

    /** Cells that workers finished in {@code out/work/done} under this plan's fingerprint, by key. */
    static Map<String, CellResult> workerCells(Plan plan, Path out) {
        Map<String, CellResult> m = new LinkedHashMap<>();
        Path done = out.resolve(Claims.WORK).resolve(Claims.DONE);
        if (!Files.isDirectory(done)) return m;
        List<Path> files;
        try (Stream<Path> s = Files.list(done)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("cell-") && p.getFileName().toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + done + ": " + e.getMessage(), e);
        }
        for (Path p : files) {
            CellResult c;
            try {
                c = CellResult.parse(JsonParser.parseString(Files.readString(p, StandardCharsets.UTF_8)).getAsJsonObject());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(p + " is not a cell record (" + e.getMessage() + "); delete it to run that cell again", e);
            }
            if (c.fingerprint().equals(plan.fingerprint())) m.put(c.key(), c);
        }
        return m;
    }

    /** Every finished cell of the plan, in plan order: the journal's, then the workers' for the cells the journal lacks. */
    static List<CellResult> finished(Plan plan, Path out) {
        Map<String, CellResult> all = new LinkedHashMap<>(new CellStore(out).load(plan.fingerprint()).cells());
        workerCells(plan, out).forEach(all::putIfAbsent);
        return Sweep.ordered(all, plan.cells());
    }

    /**
     * Writes results.csv, results.json, report.md (and the plots) from what is finished; returns the
     * cells. Workers ending together each write it; a writer whose files may have landed after a
     * fuller report (more cells finished meanwhile) writes again, so the last files are complete.
     */
    static List<CellResult> report(Plan plan, Path out, Report.Context ctx, boolean plots, PrintStream log) {
        List<CellResult> cells = finished(plan, out);
        for (int round = 0; round < 10; round++) {
            Report.write(out, plan, cells, plan.cells().size(), ctx, plots, log);
            List<CellResult> now = finished(plan, out);
            if (now.size() == cells.size()) break;
            cells = now;
        }
        return cells;
    }
}
