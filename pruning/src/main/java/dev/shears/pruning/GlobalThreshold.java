package dev.shears.pruning;

import dev.shears.engine.Parallel;
import dev.shears.engine.kernels.AbsKeys;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Exact k-th smallest score over many segments without concatenating them: an order-preserving
 * int key per score ({@link KeyOrder}), a first pass over all segments in parallel building a
 * histogram of the high 16 key bits (one histogram per thread, merged), then a pass that looks
 * only at the candidate bucket's elements (one compare each) and histograms their low bits. For
 * large magnitude inputs a sampled guess of the bucket window comes first, so that usually one
 * vectorised counting pass and the histograms of the collected candidates suffice ({@link #guess}).
 * Ties at the threshold are pruned in (layer order, index) order, so exactly k go. Optional
 * per-layer floors protect each layer's top floor[l] scores first (their own ties: the higher
 * index is protected). Counts are longs throughout. It selects; {@link LayerCuts} writes the
 * masks. Not a sort and not approximate. Pinned by GlobalThresholdTest (a full-sort oracle on
 * every path) and BeyondIntRangeTest (over 2^31 weights, on request).
 */
public final class GlobalThreshold {
    private static final ValueLayout.OfInt BITS = ValueLayout.JAVA_INT_UNALIGNED;
    private static final int BUCKETS = 1 << 16;

    private GlobalThreshold() {}

    /**
     * The outcome: {@code key} is the k-th smallest eligible key ({@link KeyOrder#value} gives the
     * score), {@code below} how many eligible scores are strictly smaller, {@code tiesPruned} how
     * many equal to it are pruned (k - below), and the per-layer cuts that realise it.
     */
    public record Result(long k, int key, float value, long below, long tiesPruned, LayerCuts cuts) {}

    /** Global MP: the k smallest |w| over all layers. */
    public static Result magnitude(List<PrunableLayer> layers, long k) {
        return select(PrunableLayer.magnitudes(layers), KeyOrder.MAGNITUDE, k, null, "weight");
    }

    /**
     * Selects the k smallest scores over all segments, each layer first keeping its top
     * {@code floors[l]} (null: no floors). {@code what} names the values in errors ("weight").
     */
    public static Result select(List<ScoreSegment> segments, KeyOrder order, long k, long[] floors, String what) {
        return select(segments, order, k, floors, what, Spans.Tuning.DEFAULT);
    }

    /** As above with work sizes that tests shrink to reach the threaded and long-count paths. */
    static Result select(List<ScoreSegment> segments, KeyOrder order, long k, long[] floors, String what,
                         Spans.Tuning tuning) {
        int layers = segments.size();
        Spans spans = new Spans(segments, tuning);
        long n = spans.total;
        if (k < 0 || k > n) throw new IllegalArgumentException("cannot prune " + k + " of " + n + " " + what + "s");
        long protectedTotal = 0;
        if (floors != null) {
            if (floors.length != layers) {
                throw new IllegalArgumentException(floors.length + " floors for " + layers + " layers");
            }
            for (int l = 0; l < layers; l++) {
                long c = segments.get(l).count();
                if (floors[l] < 0 || floors[l] > c) {
                    throw new IllegalArgumentException("layer '" + segments.get(l).name() + "': floor " + floors[l]
                            + " outside [0, " + c + "]");
                }
                protectedTotal += floors[l];
            }
            if (protectedTotal > n - k) {
                throw new IllegalArgumentException("the per-layer floors keep " + protectedTotal + " " + what
                        + "s, but pruning " + k + " of " + n + " leaves only " + (n - k));
            }
        }
        // eligibility: key < limit[l], plus the first extra[l] (by index) with key == limit[l]
        int[] limit = new int[layers];
        long[] extra = new long[layers];
        for (int l = 0; l < layers; l++) {
            long f = floors == null ? 0 : floors[l];
            long c = segments.get(l).count();
            if (f == 0) {
                limit[l] = KeyOrder.ABOVE_ALL;
            } else if (f == c) {
                limit[l] = KeyOrder.BELOW_ALL;
                requireFinite(List.of(segments.get(l)), what);
            } else {
                Spans one = new Spans(List.of(segments.get(l)), tuning);
                long[] r = kth(one, order, new int[] {KeyOrder.ABOVE_ALL}, new long[1], c, c - f, what, tuning);
                limit[l] = (int) r[0];
                extra[l] = c - f - r[1];
            }
        }
        if (k == 0) {
            requireFinite(segments, what);
            int[] keys = new int[layers];
            java.util.Arrays.fill(keys, KeyOrder.BELOW_ALL);
            LayerCuts none = new LayerCuts(order, keys, new long[layers], new boolean[layers], 0);
            return new Result(0, KeyOrder.BELOW_ALL, Float.NaN, 0, 0, none);
        }
        long[] r = kth(spans, order, limit, extra, n - protectedTotal, k, what, tuning);
        int t = (int) r[0];
        long below = r[1];
        int[] keys = new int[layers];
        long[] ties = new long[layers];
        boolean[] shared = new boolean[layers];
        for (int l = 0; l < layers; l++) {
            if (limit[l] < t) {          // the layer's eligible set lies wholly below t: all of it goes
                keys[l] = limit[l];
                ties[l] = extra[l];
            } else {                     // draws ties at t from the shared budget, in layer order
                keys[l] = t;
                shared[l] = true;
                ties[l] = limit[l] == t ? extra[l] : Long.MAX_VALUE;
            }
        }
        LayerCuts cuts = new LayerCuts(order, keys, ties, shared, k - below);
        return new Result(k, t, order.value(t), below, k - below, cuts);
    }

    /**
     * Per-layer selection: layer l loses exactly {@code prune[l]} of its smallest scores (ties by
     * index). Uniform, ERK and MT-paper allocations end here.
     */
    public static LayerCuts perLayer(List<ScoreSegment> segments, KeyOrder order, long[] prune, String what) {
        int layers = segments.size();
        if (prune.length != layers) throw new IllegalArgumentException(prune.length + " counts for " + layers + " layers");
        int[] keys = new int[layers];
        long[] ties = new long[layers];
        for (int l = 0; l < layers; l++) {
            ScoreSegment s = segments.get(l);
            if (prune[l] < 0 || prune[l] > s.count()) {
                throw new IllegalArgumentException("layer '" + s.name() + "': cannot prune " + prune[l] + " of " + s.count());
            }
            if (prune[l] == 0) {
                requireFinite(List.of(s), what);
                keys[l] = KeyOrder.BELOW_ALL;
                continue;
            }
            Spans one = new Spans(List.of(s), Spans.Tuning.DEFAULT);
            long[] r = kth(one, order, new int[] {KeyOrder.ABOVE_ALL}, new long[1], s.count(), prune[l], what, Spans.Tuning.DEFAULT);
            keys[l] = (int) r[0];
            ties[l] = prune[l] - r[1];
        }
        return new LayerCuts(order, keys, ties, new boolean[layers], 0);
    }

    /** Throws naming the first layer and index holding a NaN or infinity. */
    static void requireFinite(List<ScoreSegment> segments, String what) {
        requireFinite(segments, "layer", what, "pruning");
    }

    /**
     * The same check with the words of the message: "{noun} 'name' has a non-finite {what} (NaN) at
     * index i; {purpose} needs finite values" (eval and export check whole models with it).
     */
    static void requireFinite(List<ScoreSegment> segments, String noun, String what, String purpose) {
        Spans spans = new Spans(segments, Spans.Tuning.DEFAULT);
        boolean[] bad = new boolean[spans.chunks];
        Parallel.forEachChunk(spans.chunks, c -> {
            for (int p = spans.chunkFirstPiece[c]; p < spans.chunkFirstPiece[c + 1] && !bad[c]; p++) {
                MemorySegment s = segments.get(spans.pieceLayer[p]).values();
                int worst = 0;
                for (long i = spans.pieceFrom[p], e = spans.pieceTo[p]; i < e; i++) {
                    worst = Math.max(worst, s.getAtIndex(BITS, i) & 0x7fffffff);
                }
                bad[c] = worst >= 0x7f800000;
            }
        });
        for (boolean b : bad) if (b) throwNonFinite(segments, noun, what, purpose);
    }

    private static void throwNonFinite(List<ScoreSegment> segments, String what) {
        throwNonFinite(segments, "layer", what, "pruning");
    }

    private static void throwNonFinite(List<ScoreSegment> segments, String noun, String what, String purpose) {
        for (ScoreSegment s : segments) {
            for (long i = 0; i < s.count(); i++) {
                int bits = s.values().getAtIndex(BITS, i);
                if (KeyOrder.nonFinite(bits)) {
                    throw new IllegalArgumentException(noun + " '" + s.name() + "' has a non-finite " + what + " ("
                            + Float.intBitsToFloat(bits) + ") at index " + i + "; " + purpose + " needs finite values");
                }
            }
        }
        throw new IllegalStateException("a non-finite " + what + " was seen but not found again");
    }

    /**
     * The select over eligible scores ({@code eligible} of them): returns {key of the k-th smallest
     * (1-based), how many eligible keys are smaller}. Requires 1 <= k <= eligible. Large magnitude
     * inputs first try a guessed window ({@link #guess}); the histogram passes decide otherwise.
     */
    private static long[] kth(Spans spans, KeyOrder order, int[] limit, long[] extra, long eligible, long k, String what,
                              Spans.Tuning tuning) {
        if (order == KeyOrder.MAGNITUDE && spans.total >= tuning.guessMin()) {
            long[] r = guess(spans, limit, extra, eligible, k, what, tuning);
            if (r != null) return r;
        }
        return histogramSelect(spans, order, limit, extra, k, what, tuning.spillAt());
    }

    /**
     * The two histogram passes: high 16 bits of every eligible key (one histogram per chunk,
     * merged) to find the k-th key's bucket, then the low bits of the keys in that bucket only.
     */
    private static long[] histogramSelect(Spans spans, KeyOrder order, int[] limit, long[] extra, long k, String what, long spillAt) {
        List<ScoreSegment> segs = spans.segments;
        // pass 1: high digits of every eligible key, one histogram per chunk
        int[][] counts = new int[spans.chunks][];
        long[][] spills = new long[spans.chunks][];
        boolean[] skippedBad = new boolean[spans.chunks];
        Parallel.forEachChunk(spans.chunks, c -> {
            int[] h = new int[BUCKETS];
            long since = 0;
            boolean bad = false;
            for (int p = spans.chunkFirstPiece[c]; p < spans.chunkFirstPiece[c + 1]; p++) {
                long from = spans.pieceFrom[p], to = spans.pieceTo[p];
                if (since + (to - from) > spillAt) {
                    spills[c] = spill(h, spills[c]);
                    since = 0;
                }
                since += to - from;
                int l = spans.pieceLayer[p];
                bad |= highPass(segs.get(l).values(), from, to, limit[l], order, h);
            }
            counts[c] = h;
            skippedBad[c] = bad;
        });
        long[] high = merge(counts, spills);
        boolean bad = false;
        for (boolean b : skippedBad) bad |= b;
        // non-finite keys fill whole buckets at the ends of the range: look only there
        for (int d = 0; d < BUCKETS && !bad; d = d == 0x7f ? 0xff00 : d + 1) {
            bad = high[d] != 0 && KeyOrder.nonFinite(order.bitsOf(order.join(d, 0)));
        }
        if (bad) throwNonFinite(segs, what);
        for (int l = 0; l < limit.length; l++) if (extra[l] > 0) high[order.high(limit[l])] += extra[l];
        int bucket = 0;
        long below = 0;
        while (below + high[bucket] < k) below += high[bucket++];
        // pass 2: low digits of the keys in that bucket only
        final int hb = bucket;
        java.util.Arrays.fill(spills, null);
        Parallel.forEachChunk(spans.chunks, c -> {
            int[] h = new int[order.lowMask + 1];
            long since = 0;
            for (int p = spans.chunkFirstPiece[c]; p < spans.chunkFirstPiece[c + 1]; p++) {
                long from = spans.pieceFrom[p], to = spans.pieceTo[p];
                if (since + (to - from) > spillAt) {
                    spills[c] = spill(h, spills[c]);
                    since = 0;
                }
                since += to - from;
                int l = spans.pieceLayer[p];
                lowPass(segs.get(l).values(), from, to, limit[l], order, hb, h);
            }
            counts[c] = h;
        });
        long[] low = merge(counts, spills);
        for (int l = 0; l < limit.length; l++) {
            if (extra[l] > 0 && order.high(limit[l]) == hb) low[limit[l] & order.lowMask] += extra[l];
        }
        int digit = 0;
        while (below + low[digit] < k) below += low[digit++];
        return new long[] {order.join(hb, digit), below};
    }

    private static final int SAMPLE_RUNS = 1024, SAMPLE_RUN = 64;

    /**
     * The fast path for large magnitude inputs: a sample of runs of contiguous weights spread
     * evenly over the flat index space gives a window of high-digit buckets that holds the k-th
     * eligible key with high odds (its sample quantile +- 4 standard errors, then whole buckets);
     * one vectorised pass counts the keys under the window and collects those inside; the
     * histogram passes then run on the collected candidates only. Returns null (the caller runs
     * the full histogram passes) when the sample is too concentrated, a buffer overflows, or the
     * k-th key is not in the window. Exact either way.
     */
    private static long[] guess(Spans spans, int[] limit, long[] extra, long eligible, long k, String what, Spans.Tuning tuning) {
        List<ScoreSegment> segs = spans.segments;
        long n = spans.total;
        // sample: eligible keys of evenly spread runs, histogrammed by high digit
        int[] sampled = new int[BUCKETS];
        int m = 0, layer = 0;
        for (int r = 0; r < SAMPLE_RUNS; r++) {
            long g = n / SAMPLE_RUNS * r + n % SAMPLE_RUNS * r / SAMPLE_RUNS;
            while (spans.start[layer + 1] <= g) layer++;
            ScoreSegment s = segs.get(layer);
            for (long i = g - spans.start[layer], end = Math.min(s.count(), i + SAMPLE_RUN); i < end; i++) {
                int key = s.values().getAtIndex(BITS, i) & 0x7fffffff;
                if (key < limit[layer] || limit[layer] == KeyOrder.ABOVE_ALL) {
                    sampled[key >>> 15]++;
                    m++;
                }
            }
        }
        if (m < SAMPLE_RUNS) return null;
        double q = (double) k / eligible, spread = 4 * Math.sqrt(m * q * (1 - q)) + 4;
        long rankLo = (long) Math.max(0, Math.floor(q * m - spread)), rankHi = (long) Math.min(m - 1, Math.ceil(q * m + spread));
        int first = 0, last;
        long seen = 0;
        while (seen + sampled[first] <= rankLo) seen += sampled[first++];
        last = first;
        long inside = sampled[first];
        while (seen + sampled[last] <= rankHi) {
            seen += sampled[last++];
            inside += sampled[last];
        }
        if (inside * 16 > m || last >= 0xff00) return null; // concentrated (many ties): the histogram passes do better
        int lo = first << 15, hi = (last + 1) << 15;
        double share = (double) inside / m;
        // one pass: eligible keys under lo counted, those in [lo, hi) collected, per chunk
        long[][] under = new long[spans.chunks][1];
        int[][] kept = new int[spans.chunks][];
        int[][] state = new int[spans.chunks][];
        Parallel.forEachChunk(spans.chunks, c -> {
            long len = spans.chunkStart(c + 1) - spans.chunkStart(c);
            kept[c] = new int[(int) Math.min(Integer.MAX_VALUE - 8, Math.max(0, 2 * share * len + tuning.guessSlack()))];
            state[c] = new int[] {0, 0};
            for (int p = spans.chunkFirstPiece[c]; p < spans.chunkFirstPiece[c + 1]; p++) {
                int l = spans.pieceLayer[p];
                AbsKeys.countAndCollect(segs.get(l).values(), spans.pieceFrom[p], spans.pieceTo[p], lo, hi, limit[l], under[c], kept[c], state[c]);
            }
        });
        long below = 0, candidates = 0;
        for (int c = 0; c < spans.chunks; c++) {
            if (state[c][1] != 0) throwNonFinite(segs, what);
            if (state[c][0] < 0) return null;
            below += under[c][0];
            candidates += state[c][0];
        }
        for (int l = 0; l < limit.length; l++) { // the floors' ties at the limit: under, inside or above
            if (extra[l] == 0) continue;
            if (limit[l] < lo) below += extra[l];
            else if (limit[l] < hi) candidates += extra[l];
        }
        if (k <= below || k > below + candidates) return null;
        // the two histogram passes, over the candidates only
        long[] high = new long[BUCKETS];
        for (int c = 0; c < spans.chunks; c++) for (int i = 0, e = state[c][0]; i < e; i++) high[kept[c][i] >>> 15]++;
        for (int l = 0; l < limit.length; l++) if (extra[l] > 0 && limit[l] >= lo && limit[l] < hi) high[limit[l] >>> 15] += extra[l];
        int bucket = first;
        while (below + high[bucket] < k) below += high[bucket++];
        long[] low = new long[KeyOrder.MAGNITUDE.lowMask + 1];
        for (int c = 0; c < spans.chunks; c++) {
            for (int i = 0, e = state[c][0]; i < e; i++) if (kept[c][i] >>> 15 == bucket) low[kept[c][i] & 0x7fff]++;
        }
        for (int l = 0; l < limit.length; l++) if (extra[l] > 0 && limit[l] >>> 15 == bucket) low[limit[l] & 0x7fff] += extra[l];
        int digit = 0;
        while (below + low[digit] < k) below += low[digit++];
        return new long[] {KeyOrder.MAGNITUDE.join(bucket, digit), below};
    }

    /** Pass 1 body: counts high digits of keys below the limit; true if a skipped value was non-finite. */
    private static boolean highPass(MemorySegment s, long from, long to, int limit, KeyOrder order, int[] h) {
        boolean bad = false;
        int shift = order.shift, flip = order.flip;
        if (order == KeyOrder.MAGNITUDE) {
            bad = AbsKeys.countHigh(s, from, to, limit, h);
        } else {
            for (long i = from; i < to; i++) {
                int bits = s.getAtIndex(BITS, i);
                int key = order.keyOfBits(bits);
                if (key < limit) h[(key >>> shift) ^ flip]++;
                else bad |= KeyOrder.nonFinite(bits);
            }
        }
        return bad;
    }

    /** Pass 2 body: counts low digits of the eligible keys whose high digit is {@code bucket}. */
    private static void lowPass(MemorySegment s, long from, long to, int limit, KeyOrder order, int bucket, int[] h) {
        int shift = order.shift, want = bucket ^ order.flip, mask = order.lowMask;
        if (order == KeyOrder.MAGNITUDE) {
            AbsKeys.countLow(s, from, to, bucket, limit, h);
        } else {
            for (long i = from; i < to; i++) {
                int key = order.keyOfBits(s.getAtIndex(BITS, i));
                if (key >>> shift == want && key < limit) h[key & mask]++;
            }
        }
    }

    /** Moves an int histogram into a long one (allocated on first use), so counts may pass 2^31. */
    private static long[] spill(int[] h, long[] acc) {
        if (acc == null) acc = new long[h.length];
        for (int d = 0; d < h.length; d++) {
            acc[d] += h[d];
            h[d] = 0;
        }
        return acc;
    }

    private static long[] merge(int[][] counts, long[][] spills) {
        long[] out = new long[counts[0].length];
        for (int c = 0; c < counts.length; c++) {
            int[] h = counts[c];
            for (int d = 0; d < h.length; d++) out[d] += h[d];
            if (spills[c] != null) for (int d = 0; d < h.length; d++) out[d] += spills[c][d];
        }
        return out;
    }
}
