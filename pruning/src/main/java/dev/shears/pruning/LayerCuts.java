package dev.shears.pruning;

import dev.shears.engine.Parallel;
import dev.shears.engine.kernels.AbsKeys;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Which scores each layer loses, as a cut per layer: every score whose key is below
 * {@code keys[l]} goes, and of those whose key equals it, in index order, either exactly
 * {@code ties[l]} go ({@code shared[l] == false}) or up to {@code ties[l]} drawn in layer order
 * from one shared budget ({@code shared[l] == true}; how a global threshold breaks its ties).
 * {@link #apply} is the masking pass: it writes 0/1 float masks (or only counts) and returns the
 * pruned count per layer. Not a selection: {@link GlobalThreshold} makes the cuts. Pinned by
 * GlobalThresholdTest and PruningMethodsTest.
 */
public final class LayerCuts {
    private static final ValueLayout.OfInt BITS = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfFloat MASK = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Tie positions remembered per piece; more ties than this and the piece is scanned again. */
    private static final int REMEMBERED = 32;

    private final KeyOrder order;
    private final int[] keys;
    private final long[] ties;
    private final boolean[] shared;
    private final long sharedBudget;

    LayerCuts(KeyOrder order, int[] keys, long[] ties, boolean[] shared, long sharedBudget) {
        this.order = order;
        this.keys = keys;
        this.ties = ties;
        this.shared = shared;
        this.sharedBudget = sharedBudget;
    }

    public int layers() {
        return keys.length;
    }

    public KeyOrder order() {
        return order;
    }

    /** Counts, per layer, what the cuts prune, without writing masks. */
    public long[] count(List<ScoreSegment> scores) {
        return apply(scores, null);
    }

    /**
     * Writes mask[l][i] = 0 for pruned and 1 for kept scores ({@code masks} null: count only) and
     * returns the pruned count per layer. The masks hold at least as many floats as the layers.
     */
    public long[] apply(List<ScoreSegment> scores, List<MemorySegment> masks) {
        return apply(scores, masks, Spans.Tuning.DEFAULT);
    }

    long[] apply(List<ScoreSegment> scores, List<MemorySegment> masks, Spans.Tuning tuning) {
        int layers = keys.length;
        if (scores.size() != layers) throw new IllegalArgumentException(scores.size() + " layers for cuts made for " + layers);
        if (masks != null) {
            if (masks.size() != layers) throw new IllegalArgumentException(masks.size() + " masks for " + layers + " layers");
            for (int l = 0; l < layers; l++) {
                ScoreSegment s = scores.get(l);
                if (masks.get(l).byteSize() < s.count() * Float.BYTES) {
                    throw new IllegalArgumentException("mask for layer '" + s.name() + "' has " + masks.get(l).byteSize()
                            + " bytes, " + s.count() + " floats need " + s.count() * Float.BYTES);
                }
            }
        }
        Spans spans = new Spans(scores, tuning);
        int pieces = spans.pieces();
        long[] below = new long[pieces];
        long[] tied = new long[pieces];
        long[] where = new long[pieces * REMEMBERED];
        // pass A: below the cut pruned, above kept, ties counted (kept for now) and their first positions noted
        Parallel.forEachChunk(spans.chunks, c -> {
            for (int p = spans.chunkFirstPiece[c]; p < spans.chunkFirstPiece[c + 1]; p++) {
                int l = spans.pieceLayer[p];
                MemorySegment m = masks == null ? null : masks.get(l);
                markPiece(scores.get(l).values(), m, spans.pieceFrom[p], spans.pieceTo[p], keys[l], p, below, tied, where);
            }
        });
        // ties: how many each layer prunes, then how many each piece prunes (index order)
        long[] layerTies = new long[layers];
        for (int p = 0; p < pieces; p++) layerTies[spans.pieceLayer[p]] += tied[p];
        long[] quota = new long[layers];
        long budget = sharedBudget;
        for (int l = 0; l < layers; l++) {
            if (shared[l]) {
                quota[l] = Math.min(budget, Math.min(ties[l], layerTies[l]));
                budget -= quota[l];
            } else {
                if (ties[l] > layerTies[l]) {
                    throw new IllegalStateException("layer '" + scores.get(l).name() + "': cut asks " + ties[l]
                            + " tied scores, found " + layerTies[l] + " (the scores changed since the selection?)");
                }
                quota[l] = ties[l];
            }
        }
        if (budget != 0) {
            throw new IllegalStateException(budget + " tied scores of the shared budget found no layer (the scores changed since the selection?)");
        }
        long[] pieceQuota = new long[pieces];
        long[] left = quota.clone();
        for (int p = 0; p < pieces; p++) {
            int l = spans.pieceLayer[p];
            pieceQuota[p] = Math.min(left[l], tied[p]);
            left[l] -= pieceQuota[p];
        }
        // pass B: prune the first pieceQuota[p] ties of each piece
        if (masks != null) {
            Parallel.forEachChunk(spans.chunks, c -> {
                for (int p = spans.chunkFirstPiece[c]; p < spans.chunkFirstPiece[c + 1]; p++) {
                    long q = pieceQuota[p];
                    if (q == 0) continue;
                    int l = spans.pieceLayer[p];
                    MemorySegment m = masks.get(l);
                    if (q <= REMEMBERED) {
                        for (int j = 0; j < q; j++) m.setAtIndex(MASK, where[p * REMEMBERED + j], 0f);
                    } else {
                        pruneFirstTies(scores.get(l).values(), m, spans.pieceFrom[p], spans.pieceTo[p], keys[l], q);
                    }
                }
            });
        }
        long[] pruned = quota.clone();
        for (int p = 0; p < pieces; p++) pruned[spans.pieceLayer[p]] += below[p];
        return pruned;
    }

    private void markPiece(MemorySegment s, MemorySegment m, long from, long to, int cut, int p,
                           long[] below, long[] tied, long[] where) {
        long lt = 0, eq = 0;
        int base = p * REMEMBERED;
        if (order == KeyOrder.MAGNITUDE) {
            long[] counts = new long[2];
            AbsKeys.mask(s, m, from, to, cut, counts, where, base, REMEMBERED);
            lt = counts[0];
            eq = counts[1];
        } else {
            for (long i = from; i < to; i++) {
                int key = order.keyOfBits(s.getAtIndex(BITS, i));
                boolean gone = key < cut;
                if (m != null) m.setAtIndex(MASK, i, gone ? 0f : 1f);
                lt += gone ? 1 : 0;
                if (key == cut) {
                    if (eq < REMEMBERED) where[base + (int) eq] = i;
                    eq++;
                }
            }
        }
        below[p] = lt;
        tied[p] = eq;
    }

    private void pruneFirstTies(MemorySegment s, MemorySegment m, long from, long to, int cut, long q) {
        for (long i = from; i < to && q > 0; i++) {
            if (order.keyOfBits(s.getAtIndex(BITS, i)) == cut) {
                m.setAtIndex(MASK, i, 0f);
                q--;
            }
        }
    }

    @Override
    public String toString() {
        return "LayerCuts[" + order + " keys=" + Arrays.toString(keys) + " ties=" + Arrays.toString(ties)
                + " shared=" + Arrays.toString(shared) + " budget=" + sharedBudget + "]";
    }
}
