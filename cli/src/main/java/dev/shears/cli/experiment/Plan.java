package dev.shears.cli.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A resolved experiment: model and data, the dense stage, the fine-tuning stage (with per-method
 * or per-sparsity overrides, as the paper's appendix has them), and the grid methods x sparsities
 * x seeds. Its {@link #fingerprint()} covers everything that changes a cell's result, so a rerun
 * in the same folder reuses exactly the cells that would come out the same. A value, not a runner
 * ({@link Sweep} runs it). Pinned by PlanTest.
 *
 * @param name             recipe name, or "custom" / "demo"
 * @param model            zoo model name
 * @param modelOptions     zoo model options (shortcut, dropout, multiplier...)
 * @param dataset          dataset name for {@code Datasets.open}
 * @param dataDir          data folder (null = the dataset's built-in source)
 * @param trainSize        fixed random subset of the training split (null = all)
 * @param testSize         fixed random subset of the test split (null = all)
 * @param augment          none, flip, crop-flip or auto (crop-flip on CIFAR)
 * @param dense            dense training stage (ignored with {@code denseCheckpoint})
 * @param finetune         default fine-tuning stage after pruning
 * @param rules            fine-tuning overrides by method and/or sparsity (the first match wins)
 * @param methods          method names ({@link Methods#NAMES})
 * @param sparsities       target sparsities in (0, 1)
 * @param seeds            seeds; each seed trains its own dense model (the paper starts each run from a different pre-trained model)
 * @param mt               Minimum Threshold for global-mt: a count ("500") or a percent ("0.02%"); null = none
 * @param mtMode           "paper" or "exact"
 * @param denseCheckpoint  a trained dense checkpoint to prune instead of training one (shared by all seeds)
 * @param notes            what a reader of the report should know about the recipe
 */
public record Plan(String name, String model, Map<String, String> modelOptions, String dataset, Path dataDir, Integer trainSize,
                   Integer testSize, String augment, Stage dense, Stage finetune, List<Rule> rules, List<String> methods,
                   List<Double> sparsities, List<Long> seeds, String mt, String mtMode, Path denseCheckpoint, List<String> notes) {

    /** A fine-tuning override: for {@code method} (null = any) at {@code sparsity} (NaN = any). */
    public record Rule(String method, double sparsity, Stage stage) {
        boolean matches(String m, double s) {
            return (method == null || method.equals(m)) && (Double.isNaN(sparsity) || Math.abs(sparsity - s) < 1e-9);
        }
    }

    /** One run of the grid. */
    public record Cell(String method, double sparsity, long seed) {
        /** e.g. "global@0.99#0": the key cells are stored under. */
        public String key() {
            return method + "@" + sparsityKey(sparsity) + "#" + seed;
        }
    }

    public Plan {
        modelOptions = Map.copyOf(new TreeMap<>(modelOptions));
        rules = List.copyOf(rules);
        methods = List.copyOf(methods);
        sparsities = List.copyOf(sparsities);
        seeds = List.copyOf(seeds);
        notes = List.copyOf(notes);
        if (methods.isEmpty()) throw new IllegalArgumentException("no pruning methods given; expected some of " + Methods.NAMES);
        for (String m : methods) Methods.check(m);
        if (methods.stream().distinct().count() != methods.size()) throw new IllegalArgumentException("methods " + methods + " repeat a name");
        if (sparsities.isEmpty()) throw new IllegalArgumentException("no sparsities given (e.g. --sparsities 0.5,0.9,0.99)");
        for (double s : sparsities) {
            if (!(s > 0 && s < 1)) throw new IllegalArgumentException("sparsity " + s + " outside (0, 1): give the fraction of prunable weights to remove, e.g. 0.9");
        }
        if (seeds.isEmpty()) throw new IllegalArgumentException("no seeds given (e.g. --seeds 0,1,2)");
        if (methods.contains("global-mt") && mt == null) {
            throw new IllegalArgumentException("method global-mt needs --mt (a count like 500 or a percent of all prunable weights like 0.02%)");
        }
        mtMode = mtMode == null ? "paper" : mtMode.trim().toLowerCase(Locale.ROOT);
        if (!mtMode.equals("paper") && !mtMode.equals("exact")) throw new IllegalArgumentException("--mt-mode must be paper or exact, got '" + mtMode + "'");
        if (methods.contains("gradual-global") && denseCheckpoint != null) {
            throw new IllegalArgumentException("gradual-global trains from scratch with the dense recipe; it cannot start from --dense " + denseCheckpoint);
        }
        if (dense.epochs() < 1 && denseCheckpoint == null) throw new IllegalArgumentException("the dense stage needs at least 1 epoch (or give --dense CHECKPOINT)");
        if (trainSize != null && trainSize < 1) throw new IllegalArgumentException("--train-size must be >= 1, got " + trainSize);
        if (testSize != null && testSize < 1) throw new IllegalArgumentException("--test-size must be >= 1, got " + testSize);
    }

    /** The grid in run order: seed, then method, then sparsity (so one seed's dense model serves a block). */
    public List<Cell> cells() {
        List<Cell> out = new ArrayList<>();
        for (long seed : seeds) for (String m : methods) for (double s : sparsities) out.add(new Cell(m, s, seed));
        return out;
    }

    /** The fine-tuning stage of a cell (the first matching rule, else the default). */
    public Stage finetuneFor(String method, double sparsity) {
        for (Rule r : rules) if (r.matches(method, sparsity)) return r.stage();
        return finetune;
    }

    /** The stage a cell trains with: the dense recipe for gradual-global (it prunes while training), else fine-tuning. */
    public Stage stageFor(Cell c) {
        return c.method().equals("gradual-global") ? dense : finetuneFor(c.method(), c.sparsity());
    }

    /** Everything the dense model depends on. */
    public JsonObject denseJson() {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        JsonObject opts = new JsonObject();
        modelOptions.forEach(opts::addProperty);
        o.add("model_options", opts);
        o.addProperty("dataset", dataset);
        o.addProperty("data_dir", dataDir == null ? null : dataDir.normalize().toString()); // as given: a sweep may resume on another machine
        o.addProperty("train_size", trainSize);
        o.addProperty("test_size", testSize);
        o.addProperty("augment", augment);
        if (denseCheckpoint != null) o.addProperty("dense_checkpoint", denseCheckpoint.toAbsolutePath().normalize().toString());
        else o.add("dense", dense.json());
        return o;
    }

    /** Everything a cell's result depends on besides (method, sparsity, seed). */
    public JsonObject cellJson() {
        JsonObject o = denseJson();
        o.add("finetune", finetune.json());
        JsonArray rs = new JsonArray();
        for (Rule r : rules) {
            JsonObject j = new JsonObject();
            j.addProperty("method", r.method());
            j.addProperty("sparsity", Double.isNaN(r.sparsity()) ? null : r.sparsity());
            j.add("stage", r.stage().json());
            rs.add(j);
        }
        o.add("finetune_rules", rs);
        o.addProperty("mt", mt);
        o.addProperty("mt_mode", mtMode);
        if (methods.contains("gradual-global")) o.add("dense_for_gradual", dense.json());
        return o;
    }

    public String fingerprint() {
        return hash(cellJson().toString());
    }

    public String denseFingerprint() {
        return hash(denseJson().toString());
    }

    /** The whole plan as JSON (plan.json, results.json). */
    public JsonObject json() {
        JsonObject o = cellJson();
        o.addProperty("name", name);
        JsonArray a = new JsonArray();
        methods.forEach(a::add);
        o.add("methods", a);
        JsonArray s = new JsonArray();
        sparsities.forEach(s::add);
        o.add("sparsities", s);
        JsonArray sd = new JsonArray();
        seeds.forEach(sd::add);
        o.add("seeds", sd);
        if (!o.has("dense")) o.add("dense", dense.json());
        JsonArray n = new JsonArray();
        notes.forEach(n::add);
        o.add("notes", n);
        o.addProperty("fingerprint", fingerprint());
        return o;
    }

    /**
     * The inverse of {@link #json()}: the plan a sweep folder's plan.json holds, for the commands
     * that work on a folder (status, report) without the options that made it.
     */
    public static Plan fromJson(JsonObject o) {
        Map<String, String> opts = new TreeMap<>();
        o.getAsJsonObject("model_options").entrySet().forEach(e -> opts.put(e.getKey(), e.getValue().getAsString()));
        List<Rule> rules = new ArrayList<>();
        for (var e : o.getAsJsonArray("finetune_rules")) {
            JsonObject r = e.getAsJsonObject();
            rules.add(new Rule(string(r, "method"), r.get("sparsity").isJsonNull() ? Double.NaN : r.get("sparsity").getAsDouble(),
                    Stage.fromJson(r.getAsJsonObject("stage"))));
        }
        List<String> methods = new ArrayList<>();
        o.getAsJsonArray("methods").forEach(e -> methods.add(e.getAsString()));
        List<Double> sparsities = new ArrayList<>();
        o.getAsJsonArray("sparsities").forEach(e -> sparsities.add(e.getAsDouble()));
        List<Long> seeds = new ArrayList<>();
        o.getAsJsonArray("seeds").forEach(e -> seeds.add(e.getAsLong()));
        List<String> notes = new ArrayList<>();
        if (o.has("notes")) o.getAsJsonArray("notes").forEach(e -> notes.add(e.getAsString()));
        String dataDir = string(o, "data_dir"), denseCk = string(o, "dense_checkpoint");
        return new Plan(string(o, "name"), string(o, "model"), opts, string(o, "dataset"), dataDir == null ? null : Path.of(dataDir),
                o.has("train_size") && !o.get("train_size").isJsonNull() ? o.get("train_size").getAsInt() : null,
                o.has("test_size") && !o.get("test_size").isJsonNull() ? o.get("test_size").getAsInt() : null, string(o, "augment"),
                Stage.fromJson(o.getAsJsonObject("dense")), Stage.fromJson(o.getAsJsonObject("finetune")), rules, methods, sparsities, seeds,
                string(o, "mt"), string(o, "mt_mode"), denseCk == null ? null : Path.of(denseCk), notes);
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : null;
    }

    public Plan withMethods(List<String> m) {
        return new Plan(name, model, modelOptions, dataset, dataDir, trainSize, testSize, augment, dense, finetune, rules, m, sparsities, seeds, mt, mtMode, denseCheckpoint, notes);
    }

    public Plan withSparsities(List<Double> s) {
        return new Plan(name, model, modelOptions, dataset, dataDir, trainSize, testSize, augment, dense, finetune, rules, methods, s, seeds, mt, mtMode, denseCheckpoint, notes);
    }

    public Plan withSeeds(List<Long> s) {
        return new Plan(name, model, modelOptions, dataset, dataDir, trainSize, testSize, augment, dense, finetune, rules, methods, sparsities, s, mt, mtMode, denseCheckpoint, notes);
    }

    static String sparsityKey(double s) {
        String t = String.format(Locale.ROOT, "%.6f", s).replaceAll("0+$", "");
        return t.endsWith(".") ? t + "0" : t;
    }

    static String hash(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
