package dev.shears.nn.graph;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.shears.engine.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The description of a graph model: the per-sample input shape, nodes in topological order (each
 * a name, one of {@link #OPS}, the names of its inputs, attributes as strings, and its per-sample
 * output shape) and the name of the output node. It travels as JSON in a checkpoint's model spec,
 * so a checkpoint rebuilds its graph without the ONNX file it came from. Only structure: weights
 * live in the checkpoint's tensors. Pinned by GraphTest (JSON round trip, errors).
 */
public record GraphSpec(int[] input, List<Node> nodes, String output) {
    /** The tensor name of the graph's input. */
    public static final String INPUT = "input";
    /** The node kinds a graph is built from (Graph maps each to a layer). */
    public static final List<String> OPS = List.of("conv", "batchnorm", "relu", "clip", "add", "scale", "maxpool", "avgpool",
            "globalavgpool", "flatten", "linear", "pad", "concat", "identity", "dropout");
    static final String FORMAT = "shears-graph";
    static final int VERSION = 1;

    /**
     * One node: its output is the tensor called {@code name}; {@code shape} is its per-sample
     * output shape (checked when the graph is built).
     */
    public record Node(String name, String op, List<String> inputs, Map<String, String> attributes, int[] shape) {
        public Node {
            inputs = List.copyOf(inputs);
            attributes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
            shape = shape.clone();
        }

        @Override
        public int[] shape() { return shape.clone(); }

        /** The attribute as a string; a missing one is an error naming the node. */
        public String attribute(String key) {
            String v = attributes.get(key);
            if (v == null) throw new IllegalArgumentException("graph node '" + name + "' (" + op + ") lacks attribute '" + key + "'; it has " + attributes.keySet());
            return v;
        }

        public int intAttribute(String key) {
            try {
                return Integer.parseInt(attribute(key));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("graph node '" + name + "' (" + op + "): attribute '" + key + "' must be a whole number, got '" + attribute(key) + "'");
            }
        }

        public float floatAttribute(String key) {
            try {
                return Float.parseFloat(attribute(key));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("graph node '" + name + "' (" + op + "): attribute '" + key + "' must be a number, got '" + attribute(key) + "'");
            }
        }

        public boolean booleanAttribute(String key) {
            String v = attribute(key);
            if (!v.equals("true") && !v.equals("false")) {
                throw new IllegalArgumentException("graph node '" + name + "' (" + op + "): attribute '" + key + "' must be true or false, got '" + v + "'");
            }
            return v.equals("true");
        }

        @Override
        public String toString() {
            return name + " = " + op + inputs + attributes + " -> " + Shape.str(shape);
        }
    }

    public GraphSpec {
        input = input.clone();
        nodes = List.copyOf(nodes);
        if (nodes.isEmpty()) throw new IllegalArgumentException("a graph needs at least one node");
        Set<String> known = new HashSet<>(Set.of(INPUT));
        for (Node n : nodes) {
            if (!OPS.contains(n.op())) throw new IllegalArgumentException("graph node '" + n.name() + "': unknown op '" + n.op() + "'; known: " + OPS);
            if (n.name().isEmpty() || !known.add(n.name())) {
                throw new IllegalArgumentException("graph node name '" + n.name() + "' is empty, '" + INPUT + "' or used twice");
            }
            for (String in : n.inputs()) {
                if (!known.contains(in) || in.equals(n.name())) {
                    throw new IllegalArgumentException("graph node '" + n.name() + "' reads '" + in + "', which no earlier node writes (nodes must be in topological order)");
                }
            }
        }
        if (!known.contains(output) || output.equals(INPUT)) throw new IllegalArgumentException("graph output '" + output + "' is not a node");
    }

    @Override
    public int[] input() { return input.clone(); }

    /** The node called {@code name}, or null. */
    public Node node(String name) {
        for (Node n : nodes) if (n.name().equals(name)) return n;
        return null;
    }

    /** Per-sample output shape of the output node. */
    public int[] outputShape() {
        return node(output).shape();
    }

    /** Compact JSON (the form a checkpoint stores). */
    public String toJson() {
        JsonObject root = new JsonObject();
        root.addProperty("format", FORMAT);
        root.addProperty("version", VERSION);
        root.add("input", ints(input));
        root.addProperty("output", output);
        JsonArray list = new JsonArray();
        for (Node n : nodes) {
            JsonObject o = new JsonObject();
            o.addProperty("name", n.name());
            o.addProperty("op", n.op());
            JsonArray ins = new JsonArray();
            n.inputs().forEach(ins::add);
            o.add("inputs", ins);
            JsonObject attrs = new JsonObject();
            n.attributes().forEach(attrs::addProperty);
            o.add("attributes", attrs);
            o.add("shape", ints(n.shape()));
            list.add(o);
        }
        root.add("nodes", list);
        return new GsonBuilder().disableHtmlEscaping().create().toJson(root);
    }

    /** Parses {@link #toJson()}'s form; {@code where} (a file name) leads every error. */
    public static GraphSpec fromJson(String json, String where) {
        try {
            JsonObject root = JsonParser.parseString(json).getAsJsonObject();
            if (!root.has("format") || !FORMAT.equals(root.get("format").getAsString())) {
                throw new IllegalArgumentException(where + ": the graph description has no \"format\": \"" + FORMAT + "\"");
            }
            if (root.get("version").getAsInt() != VERSION) {
                throw new IllegalArgumentException(where + ": graph description version " + root.get("version") + ", this build reads " + VERSION);
            }
            List<Node> nodes = new ArrayList<>();
            for (JsonElement e : root.getAsJsonArray("nodes")) {
                JsonObject o = e.getAsJsonObject();
                List<String> ins = new ArrayList<>();
                for (JsonElement i : o.getAsJsonArray("inputs")) ins.add(i.getAsString());
                Map<String, String> attrs = new LinkedHashMap<>();
                for (Map.Entry<String, JsonElement> a : o.getAsJsonObject("attributes").entrySet()) attrs.put(a.getKey(), a.getValue().getAsString());
                nodes.add(new Node(o.get("name").getAsString(), o.get("op").getAsString(), ins, attrs, ints(o.getAsJsonArray("shape"))));
            }
            return new GraphSpec(ints(root.getAsJsonArray("input")), nodes, root.get("output").getAsString());
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | NullPointerException | ClassCastException e) {
            throw new IllegalArgumentException(where + ": the graph description is not valid JSON of the expected form (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(where + ":")) throw e;
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    private static JsonArray ints(int[] a) {
        JsonArray j = new JsonArray();
        for (int v : a) j.add(v);
        return j;
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsInt();
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GraphSpec g && g.toJson().equals(toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "GraphSpec[input " + Arrays.toString(input) + ", " + nodes.size() + " nodes, output " + output + "]";
    }
}
