package dev.shears.nn.models;

import dev.shears.engine.DType;
import dev.shears.engine.Parallel;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Activations;
import dev.shears.engine.kernels.DirectConv;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.engine.kernels.RowDot;
import dev.shears.engine.kernels.SparseConv;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.Parameter;
import dev.shears.nn.graph.Graph;
import dev.shears.nn.graph.GraphSpec;
import dev.shears.nn.layers.BatchNorm2d;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.GlobalAvgPool;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;
import dev.shears.nn.layers.ZeroPadShortcut;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pruned CNN compiled for eval-mode inference, one image at a time: each convolution with the
 * batch norm after it folded into its weights and bias (running statistics) and the ReLU and
 * residual add after it fused into its output, run by {@link SparseConv} straight from the
 * nonzeros of the masked, folded weight over activations kept in the padded layout; a global
 * average pool + linear head at the end. All buffers are allocated here, once; a forward
 * allocates nothing; images go to threads when batched, and at batch 1 a large convolution may
 * share its image over the threads where its first runs say that pays (same bits either way).
 * Covers chains of Conv2d (groups 1 or depthwise, stride 1/2, padding 0/1) [BatchNorm2d] [ReLU], Residual
 * blocks (identity, zero-pad or conv shortcut) and GlobalAvgPool + Linear, and graph models made of
 * those convolutions, ReLU, clip, add, identity and dropout with that head; anything else is
 * {@link Unsupported} and the model keeps its per-layer path. A snapshot: weights changed later
 * need a new compile. Pinned by SparseInferenceTest (outputs equal the masked dense forward).
 * {@link #compileDense} builds the same steps with every convolution on the engine's dense
 * DirectConv instead (batch 1 on several threads: {@link #forwardInParts}); pinned by
 * DenseFusedInferenceTest (outputs equal the layer-by-layer eval forward).
 */
final class FusedInference implements AutoCloseable {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** The model holds a layer this compiler does not cover (the message names it). */
    static final class Unsupported extends Exception {
        Unsupported(String message) { super(message, null, false, false); }
    }

    /**
     * A padded activation (c, h, w) at {@code offset} floats into a lane's memory, written by step
     * {@code def} and last read by step {@code lastUse}; buffers of one shape whose lives do not
     * overlap share memory (the borders stay zero: every writer leaves them so), except a
     * {@code dedicated} one whose writer leaves parts unwritten.
     */
    private static final class Buf {
        final int c, h, w, def;
        final boolean dedicated;
        int lastUse;
        long offset = -1; // set by layout()

        Buf(int c, int h, int w, int def, boolean dedicated) {
            this.c = c;
            this.h = h;
            this.w = w;
            this.def = def;
            this.lastUse = def;
            this.dedicated = dedicated;
        }

        long floats() { return (SparseConv.paddedFloats(c, h, w) + 15) / 16 * 16; }

        boolean sameShape(Buf o) { return c == o.c && h == o.h && w == o.w; }
    }

    private interface Step {
        void run(MemorySegment lane, int image);
    }

    private final int batch, classes;
    private final int[] input;          // (C, H, W)
    private final List<Step> steps = new ArrayList<>();
    private final List<String> labels = new ArrayList<>(); // (steps): what each step is, for explain
    private final List<Buf> bufs = new ArrayList<>();
    private long laneFloats, scratchFloats, scratchBase;
    private final Arena arena;           // owns the lanes and the logits; created once compiling succeeded
    private final MemorySegment[] lanes; // per thread: every buffer of one image's forward
    private Tensor x;                    // the current forward's input (N, C, H, W)
    private final Tensor logits;         // (N, classes)
    private int convs, nonzeros;
    private long weights;
    private final boolean dense;         // every convolution runs DirectConv on its dense folded weight (compileDense)

    private FusedInference(Network model, int batch, boolean dense) throws Unsupported {
        this.batch = batch;
        this.dense = dense;
        this.input = model.inputShape();
        this.classes = model.classes();
        if (input.length != 3) throw new Unsupported("input is " + Shape.str(input) + ", not (C, H, W)");
        Buf in = buf(input[0], input[1], input[2], false);
        labels.add("pad input");
        if (dense) steps.add((lane, b) -> DirectConv.pad(x.segment(), (long) b * input[0] * input[1] * input[2], input[0], input[1], input[2], lane, in.offset));
        else steps.add((lane, b) -> SparseConv.pad(x.segment(), (long) b * input[0] * input[1] * input[2], input[0], input[1], input[2], lane, in.offset));
        Layer root = model.root();
        List<Layer> top = root instanceof Sequential s ? s.layers() : List.of(root);
        Buf out = root instanceof Graph g ? graph(g, in) : chain(top, 0, top.size(), in, true);
        if (out != null) throw new Unsupported("the model does not end in a global average pool + linear head");
        layout();
        arena = Arena.ofShared();
        int lanesN = Math.max(1, Math.min(Parallel.threads(), batch));
        lanes = new MemorySegment[lanesN];
        for (int t = 0; t < lanesN; t++) {
            lanes[t] = arena.allocate(4 * laneFloats, 64);
            lanes[t].fill((byte) 0); // the borders of every padded buffer stay zero from here on
        }
        logits = Tensor.allocate(arena, DType.F32, batch, classes);
    }

    /** Compiles {@code model} (already pruned and bound) for eval forward at {@code batch}. */
    static FusedInference compile(Network model, int batch) throws Unsupported {
        return new FusedInference(model, batch, false);
    }

    /** As {@link #compile}, each convolution run dense by {@link DirectConv} (pruned weights as zeros). */
    static FusedInference compileDense(Network model, int batch) throws Unsupported {
        return new FusedInference(model, batch, true);
    }

    boolean dense() { return dense; }

    int batch() { return batch; }

    /** One line for logs and --explain. */
    String describe() {
        if (dense) {
            long viaGemm = tunable.stream().filter(DirectConv::usesGemm).count();
            return String.format(java.util.Locale.ROOT, "%d fused dense convolutions (DirectConv, %d of %d 1x1 through the GEMM), %.1f MMAC, %d steps, %.1f KiB of activations per image",
                    convs, viaGemm, tunable.size(), macs / 1e6, steps.size(), laneFloats * 4 / 1024.0);
        }
        return String.format(java.util.Locale.ROOT, "%d fused convolutions, %d of %d weights nonzero, %d steps, %.1f KiB of activations per image",
                convs, nonzeros, weights, steps.size(), laneFloats * 4 / 1024.0);
    }

    // x: (N, C, H, W) -> logits (N, classes)
    Tensor forward(Tensor x) {
        if (x.dim(0) != batch) throw new IllegalArgumentException("fused inference was compiled for batch " + batch + ", got " + Shape.str(x.shape()));
        this.x = x;
        if (dense && batch == 1 && Parallel.threads() > 1 && !phased.isEmpty()) {
            forwardInParts();
        } else if (lanes.length == 1) {
            for (int b = 0; b < batch; b++) for (Step s : steps) s.run(lanes[0], b);
        } else {
            Parallel.forEachChunk(lanes.length, t -> {
                for (int b = batch * t / lanes.length; b < batch * (t + 1) / lanes.length; b++) for (Step s : steps) s.run(lanes[t], b);
            });
        }
        this.x = null;
        return logits;
    }

    /** Each step's best time of {@code reps} runs on image 0 of x, in microseconds, one line per step (for --explain). */
    String profile(Tensor x, int reps) {
        this.x = x;
        double[] best = new double[steps.size()];
        java.util.Arrays.fill(best, Double.MAX_VALUE);
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < steps.size(); i++) {
                long t0 = System.nanoTime();
                steps.get(i).run(lanes[0], 0);
                best[i] = Math.min(best[i], (System.nanoTime() - t0) / 1e3);
            }
        }
        this.x = null;
        StringBuilder b = new StringBuilder();
        double total = 0;
        for (int i = 0; i < steps.size(); i++) {
            b.append(String.format(java.util.Locale.ROOT, "  %8.1f us  %s%n", best[i], labels.get(i)));
            total += best[i];
        }
        return b.append(String.format(java.util.Locale.ROOT, "  %8.1f us  total of the steps' best times%n", total)).toString();
    }

    /** A new buffer written by the step about to be added. */
    private Buf buf(int c, int h, int w, boolean dedicated) {
        Buf b = new Buf(c, h, w, steps.size(), dedicated);
        bufs.add(b);
        return b;
    }

    /** Marks b as read by the step about to be added. */
    private Buf use(Buf b) {
        if (b != null) b.lastUse = Math.max(b.lastUse, steps.size());
        return b;
    }

    /** Per-step scratch: one region after the buffers, as large as the largest need (steps run one at a time per lane). */
    private void scratch(long floats) {
        scratchFloats = Math.max(scratchFloats, (floats + 15) / 16 * 16);
    }

    /**
     * Places the buffers: each takes the memory of an earlier buffer of its shape that no step
     * reads any more (first fit), else new memory; scratch goes last. Fewer bytes per image keep
     * the activations in L2 at batch 1.
     */
    private void layout() {
        List<Buf> placed = new ArrayList<>();
        for (Buf b : bufs) {
            Buf reuse = null;
            if (!b.dedicated) {
                for (Buf p : placed) {
                    if (!p.dedicated && p.sameShape(b) && p.lastUse < b.def) {
                        reuse = p;
                        break;
                    }
                }
            }
            if (reuse != null) {
                b.offset = reuse.offset;
                placed.remove(reuse);
            } else {
                b.offset = laneFloats;
                laneFloats += b.floats();
            }
            placed.add(b);
        }
        scratchBase = laneFloats;
        laneFloats += scratchFloats;
    }

    /**
     * Compiles layers [from, to) reading {@code in}; returns the buffer holding their output, or
     * null once a head has written the logits (then {@code head} must be true and nothing may follow).
     */
    private Buf chain(List<Layer> layers, int from, int to, Buf in, boolean head) throws Unsupported {
        Buf cur = in;
        for (int i = from; i < to; i++) {
            Layer l = layers.get(i);
            if (cur == null) throw new Unsupported("layer '" + l.name() + "' follows the classifier head");
            if (l instanceof Conv2d conv) {
                BatchNorm2d bn = i + 1 < to && layers.get(i + 1) instanceof BatchNorm2d b ? b : null;
                if (bn != null) i++;
                boolean relu = i + 1 < to && layers.get(i + 1) instanceof ReLU;
                if (relu) i++;
                cur = conv(conv, bn, cur, null, relu);
            } else if (l instanceof Residual r) {
                boolean relu = i + 1 < to && layers.get(i + 1) instanceof ReLU;
                if (relu) i++;
                cur = residual(r, cur, relu);
            } else if (l instanceof Sequential seq) {
                cur = chain(seq.layers(), 0, seq.layers().size(), cur, false);
            } else if (l instanceof ReLU) {
                Buf b = use(cur);
                long floats = SparseConv.paddedFloats(b.c, b.h, b.w) - SparseConv.SLACK;
                labels.add(l.name() + " relu");
                steps.add((lane, img) -> Activations.reluForward(lane, b.offset, lane, b.offset, Math.toIntExact(floats)));
            } else if (l instanceof GlobalAvgPool && head && i + 2 == to && layers.get(i + 1) instanceof Linear lin) {
                head(cur, lin);
                cur = null;
                i++;
            } else {
                throw new Unsupported("layer '" + l.name() + "' (" + l.getClass().getSimpleName() + ") is not covered by the fused path");
            }
        }
        return cur;
    }

    /**
     * A graph model: each convolution with the batch norm and ReLU that are its sole readers fused
     * into it, ReLU, clip (bounds around zero, so borders stay zero) and add as steps of their own
     * (out of place: a tensor may have several readers), identity and dropout as aliases, and the
     * global pool [+ flatten] + linear head as the output. Returns null once the head is written.
     */
    private Buf graph(Graph g, Buf in) throws Unsupported {
        List<GraphSpec.Node> nodes = g.spec().nodes();
        Map<String, Layer> layers = new HashMap<>();
        for (Layer l : g.layers()) layers.put(l.name(), l);
        Map<String, List<GraphSpec.Node>> readers = new HashMap<>();
        for (GraphSpec.Node n : nodes) for (String i : n.inputs()) readers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        Map<String, Buf> bufs = new HashMap<>();
        bufs.put(GraphSpec.INPUT, in);
        Set<String> done = new HashSet<>();
        boolean headWritten = false;
        for (GraphSpec.Node n : nodes) {
            if (done.contains(n.name())) continue;
            if (headWritten) throw new Unsupported("graph node '" + n.name() + "' follows the classifier head");
            Buf x = bufs.get(n.inputs().getFirst());
            if (x == null) throw new Unsupported("graph node '" + n.name() + "' (" + n.op() + ") reads a tensor the fused path does not hold");
            switch (n.op()) {
                case "conv" -> {
                    String last = n.name();
                    GraphSpec.Node next = soleReader(readers, last);
                    BatchNorm2d bn = null;
                    if (next != null && next.op().equals("batchnorm")) {
                        bn = (BatchNorm2d) layers.get(next.name());
                        done.add(next.name());
                        last = next.name();
                        next = soleReader(readers, last);
                    }
                    boolean relu = next != null && next.op().equals("relu");
                    if (relu) {
                        done.add(next.name());
                        last = next.name();
                    }
                    bufs.put(last, conv((Conv2d) layers.get(n.name()), bn, x, null, relu));
                }
                case "relu", "clip" -> {
                    float lo = n.op().equals("relu") ? 0f : n.floatAttribute("min"), hi = n.op().equals("relu") ? Float.POSITIVE_INFINITY : n.floatAttribute("max");
                    if (lo > 0 || hi < 0) throw new Unsupported("clip '" + n.name() + "' to [" + lo + ", " + hi + "] would write the zero borders");
                    use(x);
                    Buf out = buf(x.c, x.h, x.w, false);
                    long floats = SparseConv.paddedFloats(x.c, x.h, x.w) - SparseConv.SLACK;
                    labels.add(n.name() + " " + n.op());
                    steps.add((lane, img) -> {
                        for (long i = 0; i < floats; i++) lane.setAtIndex(F, out.offset + i, Math.min(Math.max(lane.getAtIndex(F, x.offset + i), lo), hi));
                    });
                    bufs.put(n.name(), out);
                }
                case "add" -> {
                    Buf y = n.inputs().size() == 2 ? bufs.get(n.inputs().get(1)) : null;
                    if (y == null || !y.sameShape(x)) throw new Unsupported("add '" + n.name() + "' does not join two held tensors of one shape");
                    GraphSpec.Node next = soleReader(readers, n.name());
                    boolean relu = next != null && next.op().equals("relu");
                    use(x);
                    use(y);
                    Buf out = buf(x.c, x.h, x.w, false);
                    long floats = SparseConv.paddedFloats(x.c, x.h, x.w) - SparseConv.SLACK;
                    int count = Math.toIntExact(floats);
                    labels.add(n.name() + " add" + (relu ? "+relu" : ""));
                    steps.add((lane, img) -> {
                        Elementwise.add(lane, x.offset, lane, y.offset, lane, out.offset, count);
                        if (relu) Activations.reluForward(lane, out.offset, lane, out.offset, count);
                    });
                    if (relu) done.add(next.name());
                    bufs.put(relu ? next.name() : n.name(), out);
                }
                case "identity", "dropout" -> bufs.put(n.name(), x); // evaluation no-ops
                case "globalavgpool" -> {
                    GraphSpec.Node next = soleReader(readers, n.name());
                    while (next != null && (next.op().equals("flatten") || next.op().equals("identity") || next.op().equals("dropout"))) {
                        done.add(next.name());
                        next = soleReader(readers, next.name());
                    }
                    if (next == null || !next.op().equals("linear") || !next.name().equals(g.spec().output())) {
                        throw new Unsupported("global pool '" + n.name() + "' is not followed by the linear head");
                    }
                    done.add(next.name());
                    head(x, (Linear) layers.get(next.name()));
                    headWritten = true;
                }
                default -> throw new Unsupported("graph node '" + n.name() + "' (" + n.op() + ") is not covered by the fused path");
            }
        }
        if (!headWritten) throw new Unsupported("the graph does not end in a global average pool + linear head");
        return null;
    }

    private static GraphSpec.Node soleReader(Map<String, List<GraphSpec.Node>> readers, String tensor) {
        List<GraphSpec.Node> r = readers.get(tensor);
        return r != null && r.size() == 1 ? r.getFirst() : null;
    }

    private Buf residual(Residual r, Buf in, boolean relu) throws Unsupported {
        if (!(r.main() instanceof Sequential main)) throw new Unsupported("residual '" + r.name() + "' main branch is not a sequence");
        List<Layer> ls = main.layers();
        int last = ls.size() - 1;
        BatchNorm2d bn = null;
        if (ls.get(last) instanceof BatchNorm2d b) {
            bn = b;
            last--;
        }
        if (last < 0 || !(ls.get(last) instanceof Conv2d conv)) {
            throw new Unsupported("residual '" + r.name() + "' main branch does not end in a convolution [+ batch norm]");
        }
        Buf mid = chain(ls, 0, last, in, false);
        Buf res;
        Layer sc = r.shortcut();
        if (sc == null) {
            res = in;
        } else if (sc instanceof ZeroPadShortcut z) {
            res = zeroPad(z, in);
        } else if (sc instanceof Sequential s) {
            res = chain(s.layers(), 0, s.layers().size(), in, false);
        } else {
            throw new Unsupported("residual '" + r.name() + "' shortcut '" + sc.name() + "' (" + sc.getClass().getSimpleName() + ") is not covered");
        }
        return conv(conv, bn, mid, res, relu);
    }

    /** out = relu?(conv(in) folded with bn + res); a depthwise convolution runs as the block-diagonal (oc, c*k*k) weight. */
    private Buf conv(Conv2d conv, BatchNorm2d bn, Buf in, Buf res, boolean relu) throws Unsupported {
        if (dense) return directConv(conv, bn, in, res, relu);
        int[] wShape = conv.weight().shape();
        boolean depthwise = conv.groups() > 1 && conv.groups() == in.c && wShape[0] == in.c && wShape[1] == 1;
        if ((conv.groups() != 1 && !depthwise) || !SparseConv.supports(conv.kernel(), conv.stride(), conv.padding())) {
            throw new Unsupported("convolution '" + conv.name() + "' (groups " + conv.groups() + ", kernel " + conv.kernel() + ", stride "
                    + conv.stride() + ", padding " + conv.padding() + ") is not covered");
        }
        int oc = wShape[0], cols = wShape[1] * wShape[2] * wShape[3];
        float[] w = masked(conv.weight());
        float[] bias = conv.bias() == null ? null : conv.bias().value().toFloatArray();
        if (bn != null) bias = BatchNormFolding.fold(w, bias, bn);
        SparseMatrix s;
        if (depthwise) { // row o holds its own k*k taps, in columns o*k*k + tap
            int[] rowStart = new int[oc + 1];
            List<Integer> col = new ArrayList<>();
            List<Float> val = new ArrayList<>();
            for (int o = 0; o < oc; o++) {
                for (int t = 0; t < cols; t++) {
                    if (w[o * cols + t] != 0f) {
                        col.add(o * cols + t);
                        val.add(w[o * cols + t]);
                    }
                }
                rowStart[o + 1] = col.size();
            }
            int[] c = new int[col.size()];
            float[] v = new float[col.size()];
            for (int i = 0; i < c.length; i++) {
                c[i] = col.get(i);
                v[i] = val.get(i);
            }
            s = SparseMatrix.fromCsr(oc, in.c * cols, rowStart, c, v);
        } else {
            s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, oc, cols, cols);
        }
        SparseConv sc = new SparseConv(s, bias, in.c, in.h, in.w, conv.kernel(), conv.stride(), conv.padding());
        use(in);
        use(res);
        Buf out = buf(oc, sc.outHeight(), sc.outWidth(), false);
        if (res != null && (res.c != out.c || res.h != out.h || res.w != out.w)) {
            throw new Unsupported("convolution '" + conv.name() + "' outputs " + Shape.str(out.c, out.h, out.w) + " but its residual is " + Shape.str(res.c, res.h, res.w));
        }
        boolean needsScratch = sc.scratchFloats() > 0;
        scratch(sc.scratchFloats());
        convs++;
        nonzeros += s.nnz();
        weights += w.length;
        labels.add(String.format(java.util.Locale.ROOT, "%s%s%s%s k%d s%d %dx%dx%d->%dx%dx%d nnz %d (%.4f)", conv.name(), bn == null ? "" : "+bn",
                res == null ? "" : "+res", relu ? "+relu" : "", conv.kernel(), conv.stride(), in.c, in.h, in.w, out.c, out.h, out.w, s.nnz(),
                (double) s.nnz() / w.length));
        steps.add(sparseConvStep(sc, s.rowStarts(), in, out, res, relu, needsScratch));
        return out;
    }

    /** Output-channel work (nonzeros x wide positions) from which sharing one image's convolution over the pool's threads is tried. */
    private static final long SPLIT_WORK = 150_000;

    /**
     * The step running {@code sc}: on the caller alone, or, at batch 1 with a pool of several
     * threads and enough work, one image shared by the threads (the stride-2 parity split by
     * input channels, then the output channels in ranges of about equal nonzeros) where the
     * step's own first runs say sharing pays: a hand-off costs microseconds on an idle core and
     * far more where the cores are busy. Both forms give the same bits (each output is summed
     * alike), so the choice changes only the time.
     */
    private Step sparseConvStep(SparseConv sc, int[] rowStart, Buf in, Buf out, Buf res, boolean relu, boolean needsScratch) {
        int oc = sc.outChannels(), threads = Math.min(Parallel.threads(), oc);
        long work = (long) sc.nnz() * sc.outHeight() * (sc.outWidth() + 2);
        Step alone = (lane, img) -> sc.forward(lane, in.offset, lane, out.offset, res == null ? null : lane, res == null ? 0 : res.offset, relu,
                needsScratch ? lane : null, scratchBase);
        if (batch > 1 || threads < 2 || work < SPLIT_WORK) return alone;
        // row ranges of about equal cost: a row's nonzeros plus 2 for its epilogue
        int[] bound = new int[threads + 1];
        long total = rowStart[oc] + 2L * oc;
        for (int t = 1, r = 0; t < threads; t++) {
            while (r < oc && rowStart[r] + 2L * r < total * t / threads) r++;
            bound[t] = r;
        }
        bound[threads] = oc;
        Step shared = (lane, img) -> {
            MemorySegment scratch = needsScratch ? lane : null, resSeg = res == null ? null : lane;
            long resOffset = res == null ? 0 : res.offset;
            if (sc.needsPrepare()) Parallel.forEachChunk(threads, t -> sc.prepare(lane, in.offset, scratch, scratchBase, t, threads));
            Parallel.forEachChunk(threads, t -> sc.forwardRows(lane, in.offset, lane, out.offset, resSeg, resOffset, relu, scratch, scratchBase,
                    bound[t], bound[t + 1]));
        };
        return new ShareChoice(alone, shared);
    }

    /**
     * A step with two forms that give the same result: ignores the first {@link #WARM} runs
     * (compilation), then alternates the forms for {@link #TRIES} runs each and keeps the one with
     * the lower median time. The median, not the best: a hand-off to a core that is busy elsewhere
     * costs milliseconds now and then, and a best-of would not see it.
     */
    private static final class ShareChoice implements Step {
        private static final int WARM = 8, TRIES = 9;
        private final Step alone, shared;
        private final long[][] times = new long[2][TRIES]; // [alone, shared][try] in ns
        private int runs;
        private Step chosen;

        ShareChoice(Step alone, Step shared) {
            this.alone = alone;
            this.shared = shared;
        }

        @Override
        public void run(MemorySegment lane, int image) {
            if (chosen != null) {
                chosen.run(lane, image);
                return;
            }
            int form = runs & 1;
            long t0 = System.nanoTime();
            (form == 1 ? shared : alone).run(lane, image);
            long t = System.nanoTime() - t0;
            if (runs >= WARM) times[form][(runs - WARM) / 2] = t;
            if (++runs == WARM + 2 * TRIES) {
                for (long[] v : times) java.util.Arrays.sort(v);
                chosen = times[1][TRIES / 2] < times[0][TRIES / 2] ? shared : alone;
            }
        }
    }

    /** Option A shortcut: x[:, ::s, ::s] into channels [front, front + c) of a zero buffer. */
    private Buf zeroPad(ZeroPadShortcut z, Buf in) {
        int[] o = z.outputShape();
        use(in);
        Buf out = buf(o[0], o[1], o[2], true); // only channels [front, front + c) are written: the rest must stay zero
        int s = z.stride();
        int front = (o[0] - in.c) / 2, wpi = in.w + 2, wpo = o[2] + 2;
        long pi = (long) (in.h + 2) * wpi, po = (long) (o[1] + 2) * wpo;
        labels.add(z.name());
        steps.add((lane, img) -> {
            for (int ci = 0; ci < in.c; ci++) {
                for (int oy = 0; oy < o[1]; oy++) {
                    long src = in.offset + ci * pi + (long) (oy * s + 1) * wpi + 1, dst = out.offset + (ci + front) * po + (long) (oy + 1) * wpo + 1;
                    for (int ox = 0; ox < o[2]; ox++) lane.setAtIndex(F, dst + ox, lane.getAtIndex(F, src + (long) ox * s));
                }
            }
        });
        return out;
    }

    /** Global average pool of the padded planes (borders are zero, so the whole plane sums) and the linear layer, into logits[b]. */
    private void head(Buf in, Linear lin) throws Unsupported {
        int[] ws = lin.weight().shape();
        if (ws[1] != in.c || ws[0] != classes) {
            throw new Unsupported("linear '" + lin.name() + "' weight " + Shape.str(ws) + " does not map " + in.c + " pooled channels to " + classes + " classes");
        }
        if (dense) {
            denseHead(in, lin);
            return;
        }
        SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(masked(lin.weight())), 0, ws[0], ws[1], ws[1]);
        int[] rowStart = s.rowStarts(), col = s.columns();
        float[] value = s.values();
        float[] bias = lin.bias() == null ? new float[classes] : lin.bias().value().toFloatArray();
        long plane = (long) (in.h + 2) * (in.w + 2);
        float inv = 1f / (in.h * in.w);
        int c = in.c;
        use(in);
        scratch(c); // pooled (c) per lane
        labels.add("avgpool+" + lin.name() + " nnz " + s.nnz());
        steps.add((lane, img) -> {
            for (int ci = 0; ci < c; ci++) {
                lane.setAtIndex(F, scratchBase + ci, (float) (dev.shears.engine.kernels.Reductions.sum(lane, in.offset + ci * plane, (int) plane) * inv));
            }
            MemorySegment out = logits.segment();
            for (int r = 0; r < classes; r++) {
                float acc = bias[r];
                for (int p = rowStart[r]; p < rowStart[r + 1]; p++) acc += value[p] * lane.getAtIndex(F, scratchBase + col[p]);
                out.setAtIndex(F, (long) img * classes + r, acc);
            }
        });
    }

    /** The weight with pruned entries (mask 0) zeroed, as (dim 0, rest) row-major. */
    private static float[] masked(Parameter w) {
        float[] v = w.value().toFloatArray();
        if (w.mask() != null) {
            MemorySegment m = w.mask().segment();
            for (int i = 0; i < v.length; i++) if (m.getAtIndex(F, i) == 0f) v[i] = 0f;
        }
        return v;
    }

    // ---- dense path (compileDense): DirectConv steps and a dense head ----

    private long macs; // dense: multiply-adds per image of the convolutions
    private final List<DirectConv> tunable = new ArrayList<>(); // dense 1x1 convolutions with a GEMM route
    private final List<Integer> tunableStep = new ArrayList<>(); // (tunable): the step that runs each

    /**
     * Dense path: for each 1x1 convolution both routes (DirectConv's kernel, the GEMM on the
     * activations) timed on image 0 of x, best of {@code reps} after warm-up runs, alternating; the
     * faster is kept. The steps before each run first, so every step reads the activations it
     * will see. Call after the JIT has met the steps (a few forwards).
     */
    void tune(Tensor x, int reps) {
        if (!dense || tunable.isEmpty()) return;
        this.x = x;
        int next = 0;
        for (int t = 0; t < tunable.size(); t++) {
            int step = tunableStep.get(t);
            for (; next < step; next++) steps.get(next).run(lanes[0], 0);
            DirectConv dc = tunable.get(t);
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
            for (int r = 0; r < 3 + reps; r++) {
                for (int route = 0; route < 2; route++) {
                    dc.useGemm(route == 1);
                    long t0 = System.nanoTime();
                    steps.get(step).run(lanes[0], 0);
                    double us = (System.nanoTime() - t0) / 1e3;
                    if (r >= 3) best[route] = Math.min(best[route], us);
                }
            }
            dc.useGemm(best[1] < best[0]);
            labels.set(step, labels.get(step).replaceFirst(" (direct|gemm)$", "") + (dc.usesGemm() ? " gemm" : " direct"));
        }
        this.x = null;
    }

    /** Below this many multiply-adds a convolution runs on the calling thread: a dispatch to the pool costs more than it saves. */
    private static final long PARALLEL_MIN_MACS = 400_000;

    /** out = relu?(conv(in) folded with bn + res) by DirectConv on the dense folded weight; parts over the pool's threads at batch 1. */
    private Buf directConv(Conv2d conv, BatchNorm2d bn, Buf in, Buf res, boolean relu) throws Unsupported {
        int[] wShape = conv.weight().shape();
        boolean depthwise = conv.groups() > 1 && conv.groups() == in.c && wShape[0] == in.c && wShape[1] == 1;
        if ((conv.groups() != 1 && !depthwise) || !DirectConv.supports(conv.kernel(), conv.stride(), conv.padding()) || wShape[1] * conv.groups() != in.c) {
            throw new Unsupported("convolution '" + conv.name() + "' (groups " + conv.groups() + ", kernel " + conv.kernel() + ", stride "
                    + conv.stride() + ", padding " + conv.padding() + ") is not covered");
        }
        int oc = wShape[0];
        float[] w = masked(conv.weight());
        float[] bias = conv.bias() == null ? null : conv.bias().value().toFloatArray();
        if (bn != null) bias = BatchNormFolding.fold(w, bias, bn);
        DirectConv dc = new DirectConv(w, bias, in.c, in.h, in.w, oc, conv.kernel(), conv.stride(), conv.padding(), conv.groups());
        use(in);
        use(res);
        Buf out = buf(oc, dc.outHeight(), dc.outWidth(), false);
        if (res != null && (res.c != out.c || res.h != out.h || res.w != out.w)) {
            throw new Unsupported("convolution '" + conv.name() + "' outputs " + Shape.str(out.c, out.h, out.w) + " but its residual is " + Shape.str(res.c, res.h, res.w));
        }
        scratch(dc.scratchFloats());
        convs++;
        macs += dc.macs();
        weights += w.length;
        labels.add(String.format(java.util.Locale.ROOT, "%s%s%s%s %s k%d s%d %dx%dx%d->%dx%dx%d %.2f MMAC", conv.name(), bn == null ? "" : "+bn",
                res == null ? "" : "+res", relu ? "+relu" : "", depthwise ? "depthwise" : "dense", conv.kernel(), conv.stride(), in.c, in.h, in.w,
                out.c, out.h, out.w, dc.macs() / 1e6));
        int parts = batch == 1 && dc.macs() >= PARALLEL_MIN_MACS ? Parallel.threads() : 1;
        if (dc.gemmCapable()) {
            tunable.add(dc);
            tunableStep.add(steps.size());
        }
        if (parts > 1) { // the phases forwardInParts runs: the parity split, then the convolution, each in parts
            List<Phase> ph = new ArrayList<>();
            if (dc.needsSplit()) ph.add(new Phase(parts, (lane, t, n) -> dc.split(lane, in.offset, lane, scratchBase, t, n)));
            ph.add(new Phase(parts, (lane, t, n) -> dc.compute(lane, in.offset, lane, out.offset, res == null ? null : lane, res == null ? 0 : res.offset, relu,
                    dc.scratchFloats() > 0 ? lane : null, scratchBase, t, n)));
            phased.put(steps.size(), ph);
        }
        steps.add((lane, img) -> {
            MemorySegment r = res == null ? null : lane;
            long ro = res == null ? 0 : res.offset;
            MemorySegment scratch = dc.scratchFloats() > 0 ? lane : null;
            if (parts == 1) {
                dc.forward(lane, in.offset, lane, out.offset, r, ro, relu, scratch, scratchBase);
                return;
            }
            dc.check(lane, in.offset, lane, out.offset, r, ro, scratch, scratchBase);
            if (dc.needsSplit()) Parallel.forEachChunk(parts, t -> dc.split(lane, in.offset, scratch, scratchBase, t, parts));
            Parallel.forEachChunk(parts, t -> dc.compute(lane, in.offset, lane, out.offset, r, ro, relu, scratch, scratchBase, t, parts));
        });
        return out;
    }

    /** Part {@code part} of {@code parts} of one phase of a step, on a lane's memory. */
    private interface PartBody {
        void run(MemorySegment lane, int part, int parts);
    }

    /** A phase of a step split into parts that any thread may claim; the next phase starts when all are done. */
    private record Phase(int parts, PartBody body) {}

    private final Map<Integer, List<Phase>> phased = new HashMap<>(); // step index -> its phases (steps absent run whole)
    private List<Phase> flat;                                          // every step's phases in order, built on first use
    private java.util.concurrent.atomic.AtomicIntegerArray claimed, finished; // (phases): parts claimed / finished this forward

    /**
     * Batch 1 on several threads: one pool task per thread runs the whole forward. Each phase's
     * parts are claimed from a counter and a thread moves on once all of them are finished (a
     * spin, then yields), so a forward costs one dispatch instead of one or two per convolution.
     * The parts are fixed by the compile, so the result does not depend on which thread ran
     * which; a thread alone (nested in a pool task) claims every part itself and cannot wait on
     * a part nobody runs.
     */
    private void forwardInParts() {
        if (flat == null) {
            List<Phase> all = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                Step st = steps.get(i);
                all.addAll(phased.getOrDefault(i, List.of(new Phase(1, (lane, t, n) -> st.run(lane, 0)))));
            }
            flat = all;
            claimed = new java.util.concurrent.atomic.AtomicIntegerArray(all.size());
            finished = new java.util.concurrent.atomic.AtomicIntegerArray(all.size());
        }
        for (int k = 0; k < flat.size(); k++) {
            claimed.set(k, 0);
            finished.set(k, 0);
        }
        MemorySegment lane = lanes[0];
        Parallel.forEachChunk(Parallel.threads(), t -> {
            for (int k = 0; k < flat.size(); k++) {
                Phase ph = flat.get(k);
                for (int p; (p = claimed.getAndIncrement(k)) < ph.parts(); ) {
                    try {
                        ph.body().run(lane, p, ph.parts());
                    } finally {
                        finished.incrementAndGet(k);
                    }
                }
                for (int spins = 0; finished.get(k) < ph.parts(); spins++) {
                    if (spins < 1 << 12) Thread.onSpinWait();
                    else Thread.yield();
                }
            }
        });
    }

    /** Dense head: global average pool of the padded planes, then logits = W pooled + b by row dots (weight (classes, c) kept native). */
    private void denseHead(Buf in, Linear lin) {
        int c = in.c;
        float[] w = masked(lin.weight());
        MemorySegment weight = Arena.ofAuto().allocate(4L * w.length, 64);
        MemorySegment.copy(w, 0, weight, F, 0, w.length);
        float[] bias = lin.bias() == null ? new float[classes] : lin.bias().value().toFloatArray();
        long plane = (long) (in.h + 2) * (in.w + 2);
        float inv = 1f / (in.h * in.w);
        use(in);
        scratch(c); // pooled (c) per lane
        labels.add("avgpool+" + lin.name() + " dense " + classes + "x" + c);
        steps.add((lane, img) -> {
            for (int ci = 0; ci < c; ci++) {
                lane.setAtIndex(F, scratchBase + ci, (float) (dev.shears.engine.kernels.Reductions.sum(lane, in.offset + ci * plane, (int) plane) * inv));
            }
            MemorySegment out = logits.segment();
            MemorySegment.copy(bias, 0, out, F, 4L * img * classes, classes); // a byte offset
            // logits[img] (1, classes) += pooled (1, c) . W (classes, c)^T: row dots, W read in place (a 1-row GEMM packed all of W)
            RowDot.accumulate(1, classes, c, lane, scratchBase, c, weight, 0, c, out, (long) img * classes, classes);
        });
    }

    @Override
    public void close() {
        arena.close();
    }
}
