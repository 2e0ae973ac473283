package dev.shears.pruning;

import dev.shears.engine.Parallel;
import java.util.List;

/**
 * The flat index space over a list of score segments (layer order, then index), cut into one
 * contiguous chunk per pool thread, and each chunk into pieces that lie inside one layer and are
 * at most {@code maxPiece} long. Passes run chunk by chunk with one private histogram per chunk,
 * so results never depend on timing. Internal to the selection and masking passes.
 */
final class Spans {
    /**
     * Work sizes: fewest weights per chunk (below it threads do not pay), longest piece, how many
     * weights an int histogram takes before it spills into longs, fewest weights for which the
     * select first tries a guessed window (Long.MAX_VALUE: never), and the slack in keys of each
     * chunk's candidate buffer. Tests shrink them to reach every path.
     */
    record Tuning(long grain, long maxPiece, long spillAt, long guessMin, int guessSlack) {
        static final Tuning DEFAULT = new Tuning(1L << 16, 1L << 30, Integer.MAX_VALUE,
                "histogram".equals(System.getProperty("shears.select")) ? Long.MAX_VALUE : 1L << 20, 4096);
    }

    final List<ScoreSegment> segments;
    final long[] start;   // start[l] = flat index of layer l's first weight; start[L] = total
    final long total;
    final int chunks;
    final int[] chunkFirstPiece; // pieces of chunk c: [chunkFirstPiece[c], chunkFirstPiece[c + 1])
    final int[] pieceLayer;
    final long[] pieceFrom;      // index inside the layer
    final long[] pieceTo;

    Spans(List<ScoreSegment> segments, Tuning tuning) {
        long maxPiece = tuning.maxPiece();
        this.segments = segments;
        int layers = segments.size();
        start = new long[layers + 1];
        for (int l = 0; l < layers; l++) start[l + 1] = Math.addExact(start[l], segments.get(l).count());
        total = start[layers];
        chunks = (int) Math.max(1, Math.min(Parallel.threads(), total / tuning.grain()));
        int cap = Math.toIntExact(layers + chunks + total / maxPiece + 1);
        int[] layerOf = new int[cap];
        long[] from = new long[cap], to = new long[cap];
        chunkFirstPiece = new int[chunks + 1];
        int p = 0;
        for (int c = 0; c < chunks; c++) {
            chunkFirstPiece[c] = p;
            long cFrom = chunkStart(c), cTo = chunkStart(c + 1);
            int l = 0;
            for (long g = cFrom; g < cTo; ) {
                while (start[l + 1] <= g) l++;
                long end = Math.min(cTo, start[l + 1]);
                for (long a = g; a < end; a += maxPiece) {
                    layerOf[p] = l;
                    from[p] = a - start[l];
                    to[p] = Math.min(end, a + maxPiece) - start[l];
                    p++;
                }
                g = end;
            }
        }
        chunkFirstPiece[chunks] = p;
        pieceLayer = java.util.Arrays.copyOf(layerOf, p);
        pieceFrom = java.util.Arrays.copyOf(from, p);
        pieceTo = java.util.Arrays.copyOf(to, p);
    }

    /** Flat index where chunk c starts: floor(total * c / chunks), without overflow. */
    long chunkStart(int c) {
        return total / chunks * c + total % chunks * c / chunks;
    }

    int pieces() {
        return pieceLayer.length;
    }
}
