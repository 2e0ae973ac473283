package dev.shears.pruning;

import dev.shears.engine.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The built-in scores: magnitude |w| (the weights in place), LAMP (Lee et al. 2021) and seeded
 * random. Pinned by ScorersTest (LAMP against its O(n^2) definition) and PruningMethodsTest.
 */
public final class Scorers {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt BITS = ValueLayout.JAVA_INT_UNALIGNED;

    private Scorers() {}

    /** |w|, read in place. */
    public static Scorer magnitude() {
        return new Scorer() {
            @Override
            public String name() {
                return "magnitude";
            }

            @Override
            public Scores score(List<PrunableLayer> layers, Arena arena) {
                return new Scores(PrunableLayer.magnitudes(layers), KeyOrder.MAGNITUDE, "weight");
            }
        };
    }

    /**
     * LAMP: in each layer, with the weights sorted ascending by (|w|, index), the score of u is
     * w_u^2 / sum over v at or after u of w_v^2. The largest weight of a layer scores 1, so no
     * layer is emptied by a global threshold below 1. A suffix of zeros scores 0, except the
     * layer's last position, which scores 1. Sums in double. Layers up to 2^31 - 9 weights.
     */
    public static Scorer lamp() {
        return new Scorer() {
            @Override
            public String name() {
                return "lamp";
            }

            @Override
            public Scores score(List<PrunableLayer> layers, Arena arena) {
                GlobalThreshold.requireFinite(PrunableLayer.magnitudes(layers), "weight"); // names the first bad one
                List<ScoreSegment> out = allocate(layers, arena);
                Parallel.forEachChunk(layers.size(), l -> lampLayer(layers.get(l), out.get(l).values()));
                return new Scores(out, KeyOrder.MAGNITUDE, "LAMP score");
            }
        };
    }

    static void lampLayer(PrunableLayer layer, MemorySegment out) {
        long count = layer.count();
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("layer '" + layer.name() + "' has " + count + " weights; LAMP scores layers up to 2^31 - 9");
        }
        int n = (int) count;
        MemorySegment w = layer.weights();
        long[] order = new long[n]; // |w| bits (31) above the index (32): sorts by (|w|, index)
        for (int i = 0; i < n; i++) {
            int bits = w.getAtIndex(BITS, i);
            if (KeyOrder.nonFinite(bits)) throw nonFinite(layer, i, Float.intBitsToFloat(bits));
            order[i] = (long) (bits & 0x7fffffff) << 32 | i;
        }
        Arrays.sort(order);
        double suffix = 0;
        for (int p = n - 1; p >= 0; p--) {
            int i = (int) order[p];
            double v = Float.intBitsToFloat((int) (order[p] >>> 32));
            double sq = v * v;
            suffix += sq;
            out.setAtIndex(F, i, suffix > 0 ? (float) (sq / suffix) : p == n - 1 ? 1f : 0f);
        }
    }

    /**
     * Seeded random scores: each weight's score is a hash of (seed, layer, index), uniform over the
     * finite non-negative float keys, so pruning by score is uniform at random over all weights,
     * independent of the thread count.
     */
    public static Scorer random(long seed) {
        return new Scorer() {
            @Override
            public String name() {
                return "random";
            }

            @Override
            public Scores score(List<PrunableLayer> layers, Arena arena) {
                GlobalThreshold.requireFinite(PrunableLayer.magnitudes(layers), "weight");
                List<ScoreSegment> out = allocate(layers, arena);
                List<ScoreSegment> in = PrunableLayer.magnitudes(layers);
                Spans spans = new Spans(in, Spans.Tuning.DEFAULT);
                Parallel.forEachChunk(spans.chunks, c -> {
                    for (int p = spans.chunkFirstPiece[c]; p < spans.chunkFirstPiece[c + 1]; p++) {
                        int l = spans.pieceLayer[p];
                        MemorySegment s = out.get(l).values();
                        long base = seed ^ mix(0x9E3779B97F4A7C15L * (l + 1));
                        for (long i = spans.pieceFrom[p], e = spans.pieceTo[p]; i < e; i++) {
                            long h = mix(base + 0xBF58476D1CE4E5B9L * i);
                            s.setAtIndex(BITS, i, (int) ((h >>> 1) % 0x7f800000L));
                        }
                    }
                });
                return new Scores(out, KeyOrder.MAGNITUDE, "random score");
            }
        };
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static List<ScoreSegment> allocate(List<PrunableLayer> layers, Arena arena) {
        List<ScoreSegment> out = new ArrayList<>(layers.size());
        for (PrunableLayer l : layers) {
            out.add(new ScoreSegment(l.name(), arena.allocate(Math.max(1, l.count()) * Float.BYTES, 64), l.count()));
        }
        return out;
    }

    private static IllegalArgumentException nonFinite(PrunableLayer layer, long i, float v) {
        return new IllegalArgumentException("layer '" + layer.name() + "' has a non-finite weight (" + v + ") at index " + i
                + "; pruning needs finite values");
    }
}
