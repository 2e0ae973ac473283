package dev.shears.cli.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One finished cell of a sweep: what was asked (method, sparsity, seed), what the pruning did
 * (sparsity reached, kept weights per layer, FLOPs, collapse), and the accuracies (dense, right
 * after pruning, after fine-tuning: last and best epoch). One JSON line in {@code cells.jsonl};
 * {@link #json()} and {@link #parse} round-trip. Accuracies are percents. Pinned by CellStoreTest.
 *
 * @param fingerprint     the plan fingerprint the cell was run under
 * @param method          experiment method name
 * @param sparsity        target sparsity
 * @param seed            seed of the dense model, fine-tuning order and random scores
 * @param achieved        sparsity reached over all prunable weights
 * @param weights         prunable weights of the model
 * @param kept            prunable weights left
 * @param denseMacs       dense multiply-accumulates per sample (prunable layers + global pools)
 * @param sparseMacs      multiply-accumulates per sample after pruning (STR convention)
 * @param denseAccuracy   test accuracy of the dense model the cell started from (NaN for gradual-global)
 * @param prunedAccuracy  test accuracy right after pruning, before fine-tuning
 * @param accuracy        test accuracy after the last fine-tuning epoch
 * @param bestAccuracy    best test accuracy over the fine-tuning epochs (= accuracy with no fine-tuning)
 * @param epochs          fine-tuning (or, for gradual-global, training) epochs run
 * @param connected       whether the output still depends on the input (no cut through empty layers)
 * @param layers          per prunable layer: name, weights, kept, collapsed, fatal
 * @param note            what the pruning module said (for example MT paper mode's total)
 * @param seconds         wall time of the cell
 * @param host            the machine the cell ran on (CPU, cores, threads), since a sweep may be resumed elsewhere
 * @param classes         classes of the dataset (chance accuracy is 100 / classes percent); 0 = not recorded (older cells)
 */
public record CellResult(String fingerprint, String method, double sparsity, long seed, double achieved, long weights, long kept,
                         long denseMacs, long sparseMacs, double denseAccuracy, double prunedAccuracy, double accuracy, double bestAccuracy,
                         int epochs, boolean connected, List<Layer> layers, String note, double seconds, String host, int classes) {
    public record Layer(String name, long weights, long kept, boolean collapsed, boolean fatal) {}

    public CellResult {
        layers = List.copyOf(layers);
    }

    public Plan.Cell cell() {
        return new Plan.Cell(method, sparsity, seed);
    }

    public String key() {
        return cell().key();
    }

    /** Whether the accuracy after fine-tuning is at chance (within one point of 100 / classes); false when classes are unknown. */
    public boolean atChance() {
        return classes > 1 && accuracy <= 100.0 / classes + 1.0;
    }

    /** 1 - sparse / dense MACs. */
    public double flopsPruned() {
        return denseMacs == 0 ? 0 : 1 - (double) sparseMacs / denseMacs;
    }

    public List<String> collapsedLayers() {
        return layers.stream().filter(Layer::collapsed).map(Layer::name).toList();
    }

    public List<String> fatalLayers() {
        return layers.stream().filter(Layer::fatal).map(Layer::name).toList();
    }

    public JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("fingerprint", fingerprint);
        o.addProperty("key", key());
        o.addProperty("method", method);
        o.addProperty("sparsity", sparsity);
        o.addProperty("seed", seed);
        o.addProperty("achieved_sparsity", achieved);
        o.addProperty("weights", weights);
        o.addProperty("kept", kept);
        o.addProperty("dense_macs", denseMacs);
        o.addProperty("sparse_macs", sparseMacs);
        o.addProperty("flops_pruned", flopsPruned());
        number(o, "dense_accuracy", denseAccuracy);
        number(o, "pruned_accuracy", prunedAccuracy);
        number(o, "accuracy", accuracy);
        number(o, "best_accuracy", bestAccuracy);
        o.addProperty("epochs", epochs);
        o.addProperty("connected", connected);
        JsonArray c = new JsonArray(), f = new JsonArray();
        collapsedLayers().forEach(c::add);
        fatalLayers().forEach(f::add);
        o.add("collapsed", c);
        o.add("fatal", f);
        JsonArray ls = new JsonArray();
        for (Layer l : layers) {
            JsonObject j = new JsonObject();
            j.addProperty("name", l.name());
            j.addProperty("weights", l.weights());
            j.addProperty("kept", l.kept());
            j.addProperty("collapsed", l.collapsed());
            j.addProperty("fatal", l.fatal());
            ls.add(j);
        }
        o.add("layers", ls);
        o.addProperty("note", note);
        o.addProperty("seconds", seconds);
        o.addProperty("host", host);
        if (classes > 0) o.addProperty("classes", classes);
        return o;
    }

    private static void number(JsonObject o, String key, double v) {
        if (Double.isFinite(v)) o.addProperty(key, v);
        else o.add(key, com.google.gson.JsonNull.INSTANCE);
    }

    /** Reads a cell back; a missing or mistyped field is an {@link IllegalArgumentException} naming it. */
    public static CellResult parse(JsonObject o) {
        List<Layer> layers = new ArrayList<>();
        for (JsonElement e : array(o, "layers")) {
            JsonObject j = e.getAsJsonObject();
            layers.add(new Layer(str(j, "name"), lng(j, "weights"), lng(j, "kept"), bool(j, "collapsed"), bool(j, "fatal")));
        }
        return new CellResult(str(o, "fingerprint"), str(o, "method"), dbl(o, "sparsity"), lng(o, "seed"), dbl(o, "achieved_sparsity"),
                lng(o, "weights"), lng(o, "kept"), lng(o, "dense_macs"), lng(o, "sparse_macs"), dbl(o, "dense_accuracy"),
                dbl(o, "pruned_accuracy"), dbl(o, "accuracy"), dbl(o, "best_accuracy"), (int) lng(o, "epochs"), bool(o, "connected"), layers,
                optional(o, "note"), dbl(o, "seconds"), optional(o, "host"),
                o.has("classes") ? (int) lng(o, "classes") : 0);
    }

    private static String optional(JsonObject o, String k) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : null;
    }

    private static JsonElement field(JsonObject o, String k) {
        JsonElement e = o.get(k);
        if (e == null) throw new IllegalArgumentException("cell record lacks '" + k + "'");
        return e;
    }

    private static String str(JsonObject o, String k) {
        return field(o, k).getAsString();
    }

    private static long lng(JsonObject o, String k) {
        try {
            return field(o, k).getAsLong();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cell record: '" + k + "' is not a whole number");
        }
    }

    private static double dbl(JsonObject o, String k) {
        JsonElement e = field(o, k);
        if (e.isJsonNull()) return Double.NaN;
        try {
            return e.getAsDouble();
        } catch (RuntimeException ex) {
            throw new IllegalArgumentException("cell record: '" + k + "' is not a number");
        }
    }

    private static boolean bool(JsonObject o, String k) {
        return field(o, k).getAsBoolean();
    }

    private static JsonArray array(JsonObject o, String k) {
        JsonElement e = field(o, k);
        if (!e.isJsonArray()) throw new IllegalArgumentException("cell record: '" + k + "' is not a list");
        return e.getAsJsonArray();
    }
}
