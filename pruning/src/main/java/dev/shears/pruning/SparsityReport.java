package dev.shears.pruning;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.shears.engine.Shape;
import dev.shears.nn.Parameter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Sparsity and FLOPs per prunable layer and in total, in the STR convention (PAPER.md 2): dense
 * MACs = MACs per weight x weights, sparse MACs = MACs per weight x kept (= MACs x density);
 * unprunable MACs (the global pool) count in both totals. A layer with no weight left is
 * collapsed; it is fatal when no identity path goes around it (the output no longer depends on
 * the input). Printed as a table, written as JSON and CSV (temp file, then rename). Not a
 * profiler: nothing is measured. Pinned by SparsityReportTest.
 */
public record SparsityReport(List<Row> rows, long unprunableMacs) {
    /** One prunable layer: shape as declared, counts in weights, MACs per sample. */
    public record Row(String name, int[] shape, long weights, long kept, long denseMacs, long sparseMacs,
                      boolean collapsed, boolean fatal) {
        public Row {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        public double sparsity() {
            return weights == 0 ? 0 : 1 - (double) kept / weights;
        }
    }

    public SparsityReport {
        rows = List.copyOf(rows);
        if (unprunableMacs < 0) throw new IllegalArgumentException("unprunable MACs " + unprunableMacs + " is negative");
    }

    /** From kept counts per layer (layer order). */
    public static SparsityReport of(List<PrunableLayer> layers, long[] kept, long unprunableMacs) {
        if (kept.length != layers.size()) throw new IllegalArgumentException(kept.length + " kept counts for " + layers.size() + " layers");
        List<Row> rows = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            PrunableLayer p = layers.get(l);
            if (kept[l] < 0 || kept[l] > p.count()) {
                throw new IllegalArgumentException("layer '" + p.name() + "': kept " + kept[l] + " of " + p.count() + " weights");
            }
            boolean collapsed = p.count() > 0 && kept[l] == 0;
            rows.add(new Row(p.name(), p.shape(), p.count(), kept[l], p.macs(), Math.multiplyExact(p.macsPerWeight(), kept[l]),
                    collapsed, collapsed && !p.hasIdentityBypass()));
        }
        return new SparsityReport(rows, unprunableMacs);
    }

    /** From a pruning result. */
    public static SparsityReport of(List<PrunableLayer> layers, PruningResult result, long unprunableMacs) {
        return of(layers, result.kept(layers), unprunableMacs);
    }

    /** From 0/1 float masks (nonzero = kept). */
    public static SparsityReport fromMasks(List<PrunableLayer> layers, List<MemorySegment> masks, long unprunableMacs) {
        long[] kept = new long[layers.size()];
        for (int l = 0; l < kept.length; l++) {
            MemorySegment m = masks.get(l);
            for (long i = 0; i < layers.get(l).count(); i++) if (m.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i) != 0f) kept[l]++;
        }
        return of(layers, kept, unprunableMacs);
    }

    /** From a model's parameters and their masks; {@code bypassed} names layers with an identity path around them. */
    public static SparsityReport fromParameters(List<Parameter> parameters, Predicate<String> bypassed, long unprunableMacs) {
        List<PrunableLayer> layers = PrunableLayer.of(parameters, bypassed);
        long[] kept = new long[layers.size()];
        int l = 0;
        for (Parameter p : parameters) if (p.prunable()) kept[l++] = p.kept();
        return of(layers, kept, unprunableMacs);
    }

    public long weights() {
        long t = 0;
        for (Row r : rows) t += r.weights();
        return t;
    }

    public long kept() {
        long t = 0;
        for (Row r : rows) t += r.kept();
        return t;
    }

    public double sparsity() {
        long n = weights();
        return n == 0 ? 0 : 1 - (double) kept() / n;
    }

    /** Dense MACs of the prunable layers plus the unprunable ones. */
    public long denseMacs() {
        long t = unprunableMacs;
        for (Row r : rows) t = Math.addExact(t, r.denseMacs());
        return t;
    }

    public long sparseMacs() {
        long t = unprunableMacs;
        for (Row r : rows) t = Math.addExact(t, r.sparseMacs());
        return t;
    }

    /** 1 - sparse / dense MACs. */
    public double flopsPruned() {
        long d = denseMacs();
        return d == 0 ? 0 : 1 - (double) sparseMacs() / d;
    }

    public List<String> collapsedLayers() {
        return rows.stream().filter(Row::collapsed).map(Row::name).toList();
    }

    public List<String> fatalLayers() {
        return rows.stream().filter(Row::fatal).map(Row::name).toList();
    }

    public boolean collapsed() {
        return !collapsedLayers().isEmpty();
    }

    public boolean fatalCollapse() {
        return !fatalLayers().isEmpty();
    }

    /** A fixed-width text table, totals last, collapse warnings under it. */
    public String table() {
        int nameWidth = 5, shapeWidth = 5;
        for (Row r : rows) {
            nameWidth = Math.max(nameWidth, r.name().length());
            shapeWidth = Math.max(shapeWidth, Shape.str(r.shape()).length());
        }
        String fmt = "%-" + nameWidth + "s  %-" + shapeWidth + "s  %12s  %12s  %9s  %15s  %15s  %s%n";
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, fmt, "layer", "shape", "weights", "kept", "sparsity", "dense MACs", "sparse MACs", ""));
        for (Row r : rows) {
            String flag = r.fatal() ? "COLLAPSED (fatal: no identity path)" : r.collapsed() ? "COLLAPSED (identity path)" : "";
            b.append(String.format(Locale.ROOT, fmt, r.name(), Shape.str(r.shape()), r.weights(), r.kept(),
                    percent(r.sparsity()), r.denseMacs(), r.sparseMacs(), flag));
        }
        if (unprunableMacs > 0) {
            b.append(String.format(Locale.ROOT, fmt, "(unprunable)", "", "", "", "", unprunableMacs, unprunableMacs, ""));
        }
        b.append(String.format(Locale.ROOT, fmt, "TOTAL", "", weights(), kept(), percent(sparsity()), denseMacs(), sparseMacs(),
                "FLOPs pruned " + percent(flopsPruned())));
        if (fatalCollapse()) {
            b.append("LAYER COLLAPSE (fatal): ").append(String.join(", ", fatalLayers()))
                    .append(" kept no weight and no identity path goes around them; the output no longer depends on the input\n");
        }
        List<String> benign = rows.stream().filter(r -> r.collapsed() && !r.fatal()).map(Row::name).toList();
        if (!benign.isEmpty()) {
            b.append("layer collapse: ").append(String.join(", ", benign)).append(" kept no weight (an identity path goes around them)\n");
        }
        return b.toString();
    }

    /** CSV: one row per layer, then TOTAL (and the unprunable MACs as their own row when present). */
    public String csv() {
        StringBuilder b = new StringBuilder("layer,shape,weights,kept,sparsity,dense_macs,sparse_macs,collapsed,fatal\n");
        for (Row r : rows) {
            b.append(csvField(r.name())).append(',').append(csvField(Shape.str(r.shape()))).append(',').append(r.weights()).append(',')
                    .append(r.kept()).append(',').append(number(r.sparsity())).append(',').append(r.denseMacs()).append(',')
                    .append(r.sparseMacs()).append(',').append(r.collapsed()).append(',').append(r.fatal()).append('\n');
        }
        if (unprunableMacs > 0) b.append("(unprunable),,0,0,0,").append(unprunableMacs).append(',').append(unprunableMacs).append(",false,false\n");
        b.append("TOTAL,,").append(weights()).append(',').append(kept()).append(',').append(number(sparsity())).append(',')
                .append(denseMacs()).append(',').append(sparseMacs()).append(',').append(collapsed()).append(',').append(fatalCollapse()).append('\n');
        return b.toString();
    }

    public String json() {
        JsonObject root = new JsonObject();
        JsonArray layers = new JsonArray();
        for (Row r : rows) {
            JsonObject o = new JsonObject();
            o.addProperty("name", r.name());
            JsonArray shape = new JsonArray();
            for (int d : r.shape()) shape.add(d);
            o.add("shape", shape);
            o.addProperty("weights", r.weights());
            o.addProperty("kept", r.kept());
            o.addProperty("sparsity", r.sparsity());
            o.addProperty("dense_macs", r.denseMacs());
            o.addProperty("sparse_macs", r.sparseMacs());
            o.addProperty("collapsed", r.collapsed());
            o.addProperty("fatal", r.fatal());
            layers.add(o);
        }
        root.add("layers", layers);
        JsonObject t = new JsonObject();
        t.addProperty("weights", weights());
        t.addProperty("kept", kept());
        t.addProperty("sparsity", sparsity());
        t.addProperty("unprunable_macs", unprunableMacs);
        t.addProperty("dense_macs", denseMacs());
        t.addProperty("sparse_macs", sparseMacs());
        t.addProperty("flops_pruned", flopsPruned());
        root.add("totals", t);
        JsonObject c = new JsonObject();
        JsonArray all = new JsonArray(), fatal = new JsonArray();
        collapsedLayers().forEach(all::add);
        fatalLayers().forEach(fatal::add);
        c.add("layers", all);
        c.add("fatal", fatal);
        root.add("collapse", c);
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root) + "\n";
    }

    public void writeJson(Path file) throws IOException {
        writeAtomically(file, json());
    }

    public void writeCsv(Path file) throws IOException {
        writeAtomically(file, csv());
    }

    /** Writes a temp file next to {@code file}, then renames it over {@code file}. */
    static void writeAtomically(Path file, String text) {
        dev.shears.nn.io.AtomicFiles.writeString(file, text);
    }

    private static String percent(double f) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * f);
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }

    private static String csvField(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    @Override
    public String toString() {
        return table();
    }
}
