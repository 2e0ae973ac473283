package dev.shears.nn.rnn;

import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.Params;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The recurrent classifiers of the model zoo: {@code fastgrnn} and {@code gru}, a cell over the
 * sequence and a linear layer ({@code fc}, with bias) on the last hidden state (EdgeML's
 * FastTrainer head). A sequence of T steps of F features is described to the zoo as channels 1,
 * height T, width F (an image (C, H, W) read as rows has T = H, F = C W, so the same numbers
 * work). Options: {@code hidden} (default 80, the paper's HAR-2 setting) for both;
 * {@code rank-w} and {@code rank-u} ({@code full} or a rank) for fastgrnn. Pinned by
 * RnnModelsTest.
 */
public final class RnnModels {
    public static final String FASTGRNN = "fastgrnn", GRU = "gru";
    public static final List<String> NAMES = List.of(FASTGRNN, GRU);
    public static final String HIDDEN = "hidden", RANK_W = "rank-w", RANK_U = "rank-u";
    public static final int DEFAULT_HIDDEN = 80;

    private RnnModels() {}

    /** True for the names this class builds. */
    public static boolean knows(String name) {
        return NAMES.contains(name);
    }

    /** Options and their defaults for model {@code name}. */
    public static Map<String, String> defaults(String name) {
        return switch (name) {
            case FASTGRNN -> Map.of(HIDDEN, Integer.toString(DEFAULT_HIDDEN), RANK_W, "full", RANK_U, "full");
            case GRU -> Map.of(HIDDEN, Integer.toString(DEFAULT_HIDDEN));
            default -> throw new IllegalArgumentException("unknown recurrent model '" + name + "'; expected one of " + NAMES);
        };
    }

    /**
     * The layer tree of {@code name}: input (T = height, F = channels * width), {@code classes}
     * outputs; options already merged with {@link #defaults}.
     */
    public static Layer build(String name, Params params, int channels, int height, int width, int classes, Map<String, String> options) {
        int steps = height, features = Math.multiplyExact(channels, width);
        int hidden = positive(name, HIDDEN, options.getOrDefault(HIDDEN, Integer.toString(DEFAULT_HIDDEN)));
        if (hidden > 8192) throw new IllegalArgumentException("model '" + name + "': option hidden must be at most 8192, got " + hidden);
        Layer cell = switch (name) {
            case FASTGRNN -> {
                int rankW = rank(name, RANK_W, options.getOrDefault(RANK_W, "full"));
                int rankU = rank(name, RANK_U, options.getOrDefault(RANK_U, "full"));
                if (rankW > Math.min(hidden, features)) {
                    throw new IllegalArgumentException("model '" + name + "': option rank-w must be at most min(hidden, features) = " + Math.min(hidden, features) + ", got " + rankW);
                }
                if (rankU > hidden) throw new IllegalArgumentException("model '" + name + "': option rank-u must be at most hidden = " + hidden + ", got " + rankU);
                yield new FastGrnn(params, "rnn", steps, features, hidden, rankW, rankU);
            }
            case GRU -> new Gru(params, "rnn", steps, features, hidden);
            default -> throw new IllegalArgumentException("unknown recurrent model '" + name + "'; expected one of " + NAMES);
        };
        Linear fc = new Linear(params, "fc", hidden, classes, true);
        return new dev.shears.nn.layers.Sequential(name, List.of(cell, fc));
    }

    private static int positive(String model, String option, String value) {
        try {
            int v = Integer.parseInt(value.trim());
            if (v < 1) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model '" + model + "': option " + option + " must be a positive whole number, got '" + value + "'");
        }
    }

    /** "full" is 0; otherwise a positive rank. */
    private static int rank(String model, String option, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("full")) return 0;
        try {
            int r = Integer.parseInt(v);
            if (r < 1) throw new NumberFormatException();
            return r;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model '" + model + "': option " + option + " must be 'full' or a positive rank, got '" + value + "'");
        }
    }
}
