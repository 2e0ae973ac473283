package dev.shears.nn.models;

import dev.shears.engine.Workspace;
import dev.shears.nn.graph.Graph;
import dev.shears.nn.graph.GraphSpec;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Params;
import dev.shears.nn.rnn.RnnModels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The model zoo: builds a {@link Network} by name for a {@link ModelConfig}, and rebuilds one from
 * its spec (what checkpoints store). Names: lenet5, resnet20/32/44/56/110 (CIFAR, option
 * shortcut=A|B), wrn-D-K (D = 6n+4, option dropout, default 0.3), mobilenet-v1 (option
 * multiplier, default 1.0), mobilenet-v2-cifar, resnet50, and the recurrent fastgrnn and gru
 * ({@link RnnModels}: a sequence (T, F) is channels 1, height T, width F), and {@code graph}: a DAG of our
 * layers ({@link Graph}) whose description ({@link GraphSpec} JSON) is its option {@code graph}
 * (what {@code shears import} writes). Unknown names or options are errors listing what is valid.
 * Pinned by ModelZooTest and GraphTest.
 */
public final class ModelZoo {
    private static final List<String> NAMES = List.of("lenet5", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
            "wrn-D-K (e.g. wrn-28-8, wrn-16-4)", "mobilenet-v1", "mobilenet-v2-cifar", "resnet50", "fastgrnn", "gru",
            "graph (option graph: a graph description, as shears import writes)");
    private static final Pattern WRN = Pattern.compile("wrn-(\\d+)-(\\d+)");
    private static final Pattern CIFAR_RESNET = Pattern.compile("resnet(20|32|44|56|110)");
    /** The zoo name of graph models (and the name of their one option). */
    public static final String GRAPH = "graph";
    private static final List<String> SPEC_KEYS = List.of("model", "channels", "height", "width", "classes", "seed");

    private ModelZoo() {}

    /** The names the zoo knows (wrn is a pattern). */
    public static List<String> names() {
        return NAMES;
    }

    /** Builds model {@code name} for {@code cfg}; its weights depend only on the config's seed. */
    public static Network create(String name, ModelConfig cfg) {
        String key = name == null ? "" : name.trim().toLowerCase(java.util.Locale.ROOT);
        Map<String, String> defaults = defaults(key);
        for (String option : cfg.options().keySet()) {
            if (!defaults.containsKey(option)) {
                throw new IllegalArgumentException("model '" + key + "' has no option '" + option + "'; its options are "
                        + (defaults.isEmpty() ? "none" : defaults.keySet()));
            }
        }
        Map<String, String> options = new TreeMap<>(defaults);
        options.putAll(cfg.options());
        ModelConfig full = new ModelConfig(cfg.channels(), cfg.height(), cfg.width(), cfg.classes(), cfg.seed(), options);
        Workspace memory = new Workspace(key + ".parameters");
        try {
            Params params = new Params(memory, cfg.seed());
            Layer root = build(key, params, full);
            return new Network(full.spec(key), memory, params, root);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /** Rebuilds a model from its {@link Network#spec()}. */
    public static Network create(Map<String, String> spec) {
        for (String k : SPEC_KEYS) {
            if (!spec.containsKey(k)) throw new IllegalArgumentException("model spec " + spec + " lacks '" + k + "'; a spec needs " + SPEC_KEYS);
        }
        Map<String, String> options = new LinkedHashMap<>(spec);
        SPEC_KEYS.forEach(options::remove);
        ModelConfig cfg = new ModelConfig(integer(spec, "channels"), integer(spec, "height"), integer(spec, "width"),
                integer(spec, "classes"), longValue(spec, "seed"), options);
        return create(spec.get("model"), cfg);
    }

    private static Map<String, String> defaults(String key) {
        if (key.equals("lenet5") || key.equals("mobilenet-v2-cifar") || key.equals("resnet50")) return Map.of();
        if (CIFAR_RESNET.matcher(key).matches()) return Map.of("shortcut", "A");
        if (WRN.matcher(key).matches()) return Map.of("dropout", "0.3");
        if (key.equals("mobilenet-v1")) return Map.of("multiplier", "1.0");
        if (RnnModels.knows(key)) return RnnModels.defaults(key);
        if (key.equals(GRAPH)) return Map.of(GRAPH, "");
        throw new IllegalArgumentException("unknown model '" + key + "'; valid names: " + String.join(", ", NAMES));
    }

    private static Layer build(String key, Params p, ModelConfig cfg) {
        Matcher m;
        if (key.equals("lenet5")) return LeNet5.build(p, cfg);
        if (key.equals("resnet50")) return ImageNetResNet.resnet50(p, cfg);
        if (key.equals("mobilenet-v2-cifar")) return MobileNets.v2Cifar(p, cfg);
        if (key.equals(GRAPH)) return graph(p, cfg);
        if (RnnModels.knows(key)) return RnnModels.build(key, p, cfg.channels(), cfg.height(), cfg.width(), cfg.classes(), cfg.options());
        if (key.equals("mobilenet-v1")) {
            double alpha = number(key, "multiplier", cfg.option("multiplier", "1.0"));
            if (!(alpha > 0 && alpha <= 4)) throw new IllegalArgumentException("model 'mobilenet-v1': multiplier must be in (0, 4], got " + alpha);
            return MobileNets.v1(p, cfg, alpha);
        }
        if ((m = CIFAR_RESNET.matcher(key)).matches()) {
            String sc = cfg.option("shortcut", "A").trim().toUpperCase(java.util.Locale.ROOT);
            if (!sc.equals("A") && !sc.equals("B")) {
                throw new IllegalArgumentException("model '" + key + "': option shortcut must be A (zero-pad) or B (1x1 conv), got '" + sc + "'");
            }
            return CifarResNet.build(p, cfg, Integer.parseInt(m.group(1)), sc.equals("B"));
        }
        if ((m = WRN.matcher(key)).matches()) {
            int depth = Integer.parseInt(m.group(1)), widen = Integer.parseInt(m.group(2));
            if (depth < 10 || (depth - 4) % 6 != 0 || widen < 1 || widen > 64) {
                throw new IllegalArgumentException("model '" + key + "': WRN depth must be 6n+4 (10, 16, 22, 28, 40, ...) and width 1..64");
            }
            double dropout = number(key, "dropout", cfg.option("dropout", "0.3"));
            if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("model '" + key + "': dropout must be in [0, 1), got " + dropout);
            return WideResNet.build(p, cfg, depth, widen, dropout);
        }
        throw new IllegalArgumentException("unknown model '" + key + "'; valid names: " + String.join(", ", NAMES));
    }

    /** A graph model for {@code spec} with weights initialised from {@code seed} (as a zoo model: Kaiming convolutions, unit batch norms). */
    public static Network graph(GraphSpec spec, long seed) {
        int[] in = spec.input(), out = spec.outputShape();
        if (in.length != 3 || out.length != 1) {
            throw new IllegalArgumentException("a graph model maps (C, H, W) to (classes); this graph maps " + dev.shears.engine.Shape.str(in)
                    + " to " + dev.shears.engine.Shape.str(out));
        }
        return create(GRAPH, new ModelConfig(in[0], in[1], in[2], out[0], seed, Map.of(GRAPH, spec.toJson())));
    }

    private static Layer graph(Params p, ModelConfig cfg) {
        String json = cfg.option(GRAPH, "");
        if (json.isBlank()) throw new IllegalArgumentException("model 'graph' needs option graph (a graph description, as shears import writes)");
        GraphSpec spec = GraphSpec.fromJson(json, "model 'graph'");
        int[] in = spec.input(), out = spec.outputShape();
        if (!java.util.Arrays.equals(in, new int[] {cfg.channels(), cfg.height(), cfg.width()}) || out.length != 1 || out[0] != cfg.classes()) {
            throw new IllegalArgumentException("model 'graph' maps " + dev.shears.engine.Shape.str(in) + " to " + dev.shears.engine.Shape.str(out) + ", but the run has "
                    + cfg.channels() + "x" + cfg.height() + "x" + cfg.width() + " inputs and " + cfg.classes() + " classes");
        }
        return new Graph(p, "graph", spec);
    }

    private static double number(String model, String option, String value) {
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model '" + model + "': option " + option + " must be a number, got '" + value + "'");
        }
    }

    private static int integer(Map<String, String> spec, String key) {
        try {
            return Integer.parseInt(spec.get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model spec: '" + key + "' must be a whole number, got '" + spec.get(key) + "'");
        }
    }

    private static long longValue(Map<String, String> spec, String key) {
        try {
            return Long.parseLong(spec.get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model spec: '" + key + "' must be a whole number, got '" + spec.get(key) + "'");
        }
    }
}
