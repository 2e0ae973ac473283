package dev.shears.engine.kernels;

import dev.shears.engine.Parallel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The convolution facade a layer calls: forward, backward and sparse eval forward of one
 * {@link ConvShape} over a batch, with the threading and the scratch layout decided once in a
 * {@link Plan}. Dense and grouped convolutions run im2col + GEMM over chunks of the batch
 * (columns (C/g*k*k, nb*OH*OW), one GEMM per group), each chunk sized to stay in cache and the
 * chunks spread over the threads (lanes), each lane with its own scratch and single-threaded
 * kernels; depthwise convolutions run the {@link DepthwiseKernel} twins plane by plane. Backward:
 * dW against recomputed columns, by row dots along the pixels ({@link RowDot}) for few output
 * channels, else by GEMM (per-lane partial sums added in lane order, so results do not depend on
 * timing), dx by GEMM + col2im, or for "same" stride-1 convolutions with few output channels as
 * the convolution of dy with the flipped weight (see {@link #transposedInputGradient}). 3x3 stride-1
 * layers may run Winograd F(2x2, 3x3) instead, all three passes in the transform domain, when
 * the plan chooses it ({@link Winograd#chosen}). Not a layer: no parameters, no allocation of
 * activations. Pinned by ConvTest (against a double reference) and GradientCheckTest.
 */
public final class Conv {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final DepthwiseKernel DEPTHWISE = Twins.pick(DepthwiseKernel.class, "DepthwiseSimd", DepthwiseScalar::new);
    /** Target im2col chunk per lane in floats (1 MiB, about half an L2): columns stay in cache. */
    public static final long COLUMN_FLOATS = 1L << 18;
    /**
     * The weight gradient runs as row dots (no packing) up to this many output channels per group,
     * as a GEMM "NT" call above: the GEMM packs the columns transposed once per call and only many
     * rows amortize that. Measured (jmh ConvCpuTime, one thread, AVX-512): 16 channels x 32x32
     * row dots 4.4x faster; 32 x 16x16 level; 64 x 8x8 the GEMM 1.6x faster.
     */
    static final int ROW_DOT_MAX_ROWS = 16;

    private Conv() {}

    /**
     * The caller's scratch (off-heap, reused across layers): {@code columns} at least
     * {@link Plan#columnFloats()}, {@code rows} at least {@link Plan#rowFloats()} (null when 0),
     * {@code partials} at least {@link Plan#partialFloats()} (null when 0).
     */
    public record Scratch(MemorySegment columns, MemorySegment rows, MemorySegment partials) {}

    /**
     * How one shape runs over a batch on this pool: samples per chunk, chunks, lanes, scratch
     * sizes; holds the depthwise path's per-thread heap planes. One plan per layer and batch size.
     */
    public static final class Plan {
        final ConvShape shape;
        final ConvGeometry geometry;
        final int batch, chunk, chunks, lanes;
        final long columnStride, rowStride; // floats of one lane's columns / rows scratch
        final double[][] biasSums;          // (lanes, out) per-lane bias gradient sums
        final ConvGeometry dyGeometry;      // transposed input gradient: im2col of one dy image, else null
        final MemorySegment flipped;        // transposed input gradient: (in, out*k*k) flipped weight, else null
        final float[][] planeIn, planeOut, planeGrad, taps; // depthwise, per thread
        final double[][] tapSums;
        final Winograd.State winograd;      // 3x3 stride-1 layers the Winograd path runs, else null

        Plan(ConvShape s, int batch, long columnFloats, boolean inputGradient, Winograd.Mode winogradMode) {
            this.shape = s;
            this.geometry = s.geometry();
            this.batch = batch;
            int threads = Parallel.threads();
            if (s.depthwise()) {
                int hp = s.height() + 2 * s.pad(), wp = s.width() + 2 * s.pad(), slack = DepthwiseKernel.SLACK;
                planeIn = new float[threads][hp * wp + slack];
                planeOut = new float[threads][s.outH() * wp + slack];
                planeGrad = inputGradient ? new float[threads][hp * wp + slack] : null;
                taps = new float[threads][s.kernel() * s.kernel()];
                tapSums = new double[threads][s.kernel() * s.kernel()];
                chunk = chunks = lanes = 1;
                columnStride = rowStride = 0;
                biasSums = null;
                dyGeometry = null;
                flipped = null;
                winograd = null;
                return;
            }
            planeIn = planeOut = planeGrad = taps = null;
            tapSums = null;
            int fair = (batch + threads - 1) / threads; // at most this many samples per chunk, so every thread gets work
            if (Winograd.chosen(s, batch, winogradMode)) {
                // the lane's scratch holds the transformed input and the products of a chunk (no im2col columns)
                long perSample = Winograd.floatsPerSample(s), budget = Math.min(columnFloats, Winograd.SCRATCH_FLOATS);
                chunk = (int) Math.max(1, Math.min(fair, Math.max(1, budget) / perSample));
                chunks = (batch + chunk - 1) / chunk;
                lanes = Math.min(threads, chunks);
                // at least one image's im2col columns: the sparse eval path runs on the same plan
                columnStride = Math.max(perSample * chunk, (long) s.patch() * s.pixels());
                rowStride = 0;
                biasSums = new double[lanes][s.out()];
                dyGeometry = null;
                flipped = null;
                winograd = new Winograd.State(s, chunk, lanes);
                return;
            }
            winograd = null;
            long perSample = (long) s.patch() * s.groups() * s.pixels();
            chunk = (int) Math.max(1, Math.min(fair, Math.max(1, columnFloats) / perSample));
            chunks = (batch + chunk - 1) / chunk;
            lanes = Math.min(threads, chunks);
            boolean transposed = inputGradient && transposedInputGradient(s);
            dyGeometry = transposed ? ConvGeometry.square(s.out(), s.outH(), s.outW(), s.kernel(), 1, s.pad()) : null;
            flipped = transposed ? java.lang.foreign.Arena.ofAuto().allocate(4L * s.in() * s.out() * s.kernel() * s.kernel(), 64) : null;
            // the columns of one dy image (out*k*k, p) reuse the lane's columns once dW is done
            columnStride = Math.max(perSample * chunk, transposed ? (long) s.out() * s.kernel() * s.kernel() * s.pixels() : 0);
            rowStride = chunk > 1 ? (long) s.out() * s.pixels() * chunk : 0;
            biasSums = new double[lanes][s.out()];
        }

        public ConvShape shape() { return shape; }
        public int batch() { return batch; }
        /** Threads the dense path splits the batch over (each runs single-threaded kernels). */
        public int lanes() { return lanes; }
        /** Floats of im2col columns scratch (all lanes). */
        public long columnFloats() { return columnStride * lanes; }
        /** Floats of the batched-output rows scratch (all lanes), 0 when chunks hold one sample. */
        public long rowFloats() { return rowStride * lanes; }
        /** Floats of per-lane weight-gradient partial sums: 0 with one lane, except Winograd's transform-domain sums. */
        public long partialFloats() {
            if (winograd != null) return winograd.partialFloats() * lanes;
            return lanes > 1 && !shape.depthwise() ? shape.weightSize() * lanes : 0;
        }
        /** Whether this plan runs the Winograd F(2x2, 3x3) path. */
        public boolean winograd() { return winograd != null; }
    }

    /**
     * Whether dx runs as the convolution of dy with the flipped, transposed weight (im2col of dy,
     * then a GEMM with K = out*k*k) instead of W^T x dy (K = out) + col2im: for "same" stride-1
     * convolutions with few output channels, where K = out is too short for the GEMM's micro-kernel
     * (its stores outweigh its multiply-adds: 16 x 3x3 x 32x32, 40 against 100 GFLOP/s, jmh ConvCpuTime).
     */
    static boolean transposedInputGradient(ConvShape s) {
        return s.groups() == 1 && s.stride() == 1 && s.kernel() > 1 && 2 * s.pad() == s.kernel() - 1 && s.out() <= TRANSPOSED_DX_MAX_OUT;
    }

    /** Up to this many output channels dx runs transposed (see {@link #transposedInputGradient}). */
    static final int TRANSPOSED_DX_MAX_OUT = 16;

    /** A plan for {@code batch} samples with im2col chunks of at most {@code columnFloats} per lane. */
    public static Plan plan(ConvShape shape, int batch, long columnFloats, boolean inputGradient) {
        if (batch < 1) throw new IllegalArgumentException("conv plan for " + shape + ": batch must be >= 1, got " + batch);
        return plan(shape, batch, columnFloats, inputGradient, Winograd.mode());
    }

    /** As above with the Winograd choice given instead of read from {@code -Dshears.conv.winograd} (tests, benchmarks). */
    public static Plan plan(ConvShape shape, int batch, long columnFloats, boolean inputGradient, Winograd.Mode winograd) {
        if (batch < 1) throw new IllegalArgumentException("conv plan for " + shape + ": batch must be >= 1, got " + batch);
        return new Plan(shape, batch, columnFloats, inputGradient, winograd);
    }

    /**
     * Runs {@code body(lane, n0, nb)} over the chunks of n samples: with one lane on the calling
     * thread (the kernels may then use the pool themselves), else lane t takes a contiguous run of
     * chunks (static, so results do not depend on timing) and the kernels inside run single-threaded.
     */
    private static void overChunks(Plan plan, int n, ChunkBody body) {
        int chunk = plan.chunk, chunks = (n + chunk - 1) / chunk, lanes = Math.min(plan.lanes, chunks);
        if (lanes == 1) {
            for (int c0 = 0; c0 < chunks; c0++) body.run(0, c0 * chunk, Math.min(chunk, n - c0 * chunk));
            return;
        }
        Parallel.forEachChunk(lanes, t -> {
            int from = chunks * t / lanes, to = chunks * (t + 1) / lanes;
            for (int c0 = from; c0 < to; c0++) body.run(t, c0 * chunk, Math.min(chunk, n - c0 * chunk));
        });
    }

    private interface ChunkBody {
        void run(int lane, int n0, int nb);
    }

    private static void checkBatch(Plan plan, int n) {
        if (n < 1 || n > plan.batch) {
            throw new IllegalArgumentException("conv " + plan.shape + ": batch " + n + " does not fit the plan's batch " + plan.batch);
        }
    }

    // x: (n, in, h, w) -> y: (n, out, oh, ow); w: (out, in/g, k, k); bias: (out) or null
    public static void forward(Plan plan, Scratch scratch, int n, MemorySegment x, MemorySegment w, MemorySegment bias, MemorySegment y) {
        checkBatch(plan, n);
        ConvShape s = plan.shape;
        if (s.depthwise()) {
            depthwiseForward(plan, n, x, w, bias, y);
            return;
        }
        if (plan.winograd != null) {
            Winograd.transformWeight(plan.winograd, w);
            overChunks(plan, n, (lane, n0, nb) -> Winograd.forwardChunk(plan.winograd, lane, n0, nb, x, bias, y, scratch.columns(), lane * plan.columnStride));
            return;
        }
        int p = s.pixels(), ocg = s.groupOut(), ckk = s.patch(), groups = s.groups(), oc = s.out();
        overChunks(plan, n, (lane, n0, nb) -> {
            int cols = nb * p;
            MemorySegment col = scratch.columns();
            long colOff = lane * plan.columnStride;
            if (s.pointwise() && nb == 1) {
                col = x;
                colOff = (long) n0 * s.in() * p;
            } else {
                Im2col.im2colBatch(plan.geometry, nb, x, n0 * s.inputSize(), col, colOff);
            }
            MemorySegment dst = nb == 1 ? y : scratch.rows();
            long dstOff = nb == 1 ? (long) n0 * oc * p : lane * plan.rowStride;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(false, false, ocg, cols, ckk, 1f, w, (long) g * ocg * ckk, ckk,
                        col, colOff + (long) g * ckk * cols, cols, 0f, dst, dstOff + (long) g * ocg * cols, cols);
            }
            if (nb > 1) scatterRows(s, dst, dstOff, n0, nb, y);
            for (int b = 0; b < nb; b++) addBias(s, bias, y, n0 + b);
        });
    }

    /**
     * Eval forward with a sparse weight {@code sw} (out, in*k*k) (groups 1), per image: through
     * {@code direct} (no im2col) when not null, else im2col (x itself for 1x1) and the sparse SpMM.
     */
    public static void sparseForward(Plan plan, Scratch scratch, int n, SparseMatrix sw, SparseDirectConv direct,
                                     MemorySegment x, MemorySegment bias, MemorySegment y) {
        checkBatch(plan, n);
        ConvShape s = plan.shape;
        if (s.groups() != 1 || sw.rows() != s.out() || sw.cols() != s.patch()) {
            throw new IllegalArgumentException("conv " + s + ": sparse weight " + sw + " does not fit (" + s.out() + ", " + s.patch() + ") with groups 1");
        }
        int p = s.pixels();
        if (direct != null) {
            if (direct.lanes() < plan.lanes) {
                throw new IllegalArgumentException("conv " + s + ": direct sparse kernel has scratch for " + direct.lanes() + " lanes, the plan runs " + plan.lanes);
            }
            overChunks(plan, n, (lane, n0, nb) -> {
                for (int b = n0; b < n0 + nb; b++) direct.forward(x, b * s.inputSize(), y, b * s.outputSize(), lane);
            });
            return;
        }
        overChunks(plan, n, (lane, n0, nb) -> {
            for (int b = n0; b < n0 + nb; b++) {
                MemorySegment col = x;
                long colOff = b * s.inputSize();
                if (!s.pointwise()) {
                    col = scratch.columns();
                    colOff = lane * plan.columnStride;
                    Im2col.im2colBatch(plan.geometry, 1, x, b * s.inputSize(), col, colOff);
                }
                Sparse.spmm(sw, p, 1f, col, colOff, p, 0f, y, b * s.outputSize(), p);
                addBias(s, bias, y, b);
            }
        });
    }

    /**
     * dy: (n, out, oh, ow) -> dx: (n, in, h, w) (overwritten; null skips it);
     * dW += dy_rows . columns^T; db += sum of dy per channel (db null: no bias).
     */
    public static void backward(Plan plan, Scratch scratch, int n, MemorySegment x, MemorySegment w, MemorySegment dy,
                                MemorySegment dw, MemorySegment db, MemorySegment dx) {
        checkBatch(plan, n);
        ConvShape s = plan.shape;
        if (s.depthwise()) {
            depthwiseBackward(plan, n, x, w, dy, dw, db, dx);
            return;
        }
        if (plan.winograd != null) {
            winogradBackward(plan, scratch, n, x, w, dy, dw, db, dx);
            return;
        }
        int p = s.pixels(), ocg = s.groupOut(), ckk = s.patch(), groups = s.groups(), oc = s.out();
        long wsize = s.weightSize();
        int lanes = Math.min(plan.lanes, (n + plan.chunk - 1) / plan.chunk);
        // one lane accumulates straight into the gradient; several keep partial sums, added below in lane order
        MemorySegment partials = lanes > 1 ? scratch.partials() : dw;
        if (lanes > 1) partials.asSlice(0, wsize * lanes * 4).fill((byte) 0);
        for (double[] sums : plan.biasSums) java.util.Arrays.fill(sums, 0);
        boolean transposed = dx != null && plan.dyGeometry != null;
        if (transposed) flip(s, w, plan.flipped);
        overChunks(plan, n, (lane, n0, nb) -> {
            int cols = nb * p;
            MemorySegment rows = dy;
            long rowsOff = (long) n0 * oc * p;
            if (nb > 1) {
                rows = scratch.rows();
                rowsOff = lane * plan.rowStride;
                gatherRows(s, dy, n0, nb, rows, rowsOff);
            }
            boolean direct = s.pointwise() && nb == 1;
            MemorySegment col = direct ? x : scratch.columns();
            long colOff = direct ? n0 * s.inputSize() : lane * plan.columnStride;
            if (!direct) Im2col.im2colBatch(plan.geometry, nb, x, n0 * s.inputSize(), col, colOff);
            long dwOff = lanes > 1 ? lane * wsize : 0;
            for (int g = 0; g < groups; g++) { // dW (ocg, ckk) += dy rows (ocg, cols) . columns (ckk, cols)^T
                if (ocg <= ROW_DOT_MAX_ROWS) {
                    RowDot.accumulate(ocg, ckk, cols, rows, rowsOff + (long) g * ocg * cols, cols,
                            col, colOff + (long) g * ckk * cols, cols, partials, dwOff + (long) g * ocg * ckk, ckk);
                } else {
                    Gemm.sgemm(false, true, ocg, ckk, cols, 1f, rows, rowsOff + (long) g * ocg * cols, cols,
                            col, colOff + (long) g * ckk * cols, cols, 1f, partials, dwOff + (long) g * ocg * ckk, ckk);
                }
            }
            if (db != null) {
                for (int o = 0; o < oc; o++) plan.biasSums[lane][o] += Reductions.sum(rows, rowsOff + (long) o * cols, cols);
            }
            if (dx == null) return;
            if (transposed) { // dx[b] (in, p) = flipped (in, out*k*k) x im2col(dy[b]) (out*k*k, p), one image at a time
                int kk = s.kernel() * s.kernel();
                for (int b = n0; b < n0 + nb; b++) {
                    MemorySegment dcols = scratch.columns();
                    long dcolsOff = lane * plan.columnStride;
                    Im2col.im2colBatch(plan.dyGeometry, 1, dy, b * s.outputSize(), dcols, dcolsOff);
                    Gemm.sgemm(false, false, s.in(), p, oc * kk, 1f, plan.flipped, 0, oc * kk, dcols, dcolsOff, p, 0f, dx, b * s.inputSize(), p);
                }
                return;
            }
            MemorySegment dcol = direct ? dx : scratch.columns(); // the columns are dead once dW is done
            long dcolOff = direct ? n0 * s.inputSize() : lane * plan.columnStride;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(true, false, ckk, cols, ocg, 1f, w, (long) g * ocg * ckk, ckk,
                        rows, rowsOff + (long) g * ocg * cols, cols, 0f, dcol, dcolOff + (long) g * ckk * cols, cols);
            }
            if (!direct) {
                long at = n0 * s.inputSize(), floats = nb * s.inputSize();
                dx.asSlice(at * 4, floats * 4).fill((byte) 0);
                Im2col.col2imBatch(plan.geometry, nb, dcol, dcolOff, dx, at);
            }
        });
        if (lanes > 1) {
            for (int t = 0; t < lanes; t++) Elementwise.addInPlace(dw, 0, partials, t * wsize, Math.toIntExact(wsize));
        }
        if (db != null) {
            for (int o = 0; o < oc; o++) {
                double sum = 0;
                for (double[] sums : plan.biasSums) sum += sums[o];
                db.setAtIndex(F, o, db.getAtIndex(F, o) + (float) sum);
            }
        }
    }

    /** Backward of a Winograd plan: dW and db per chunk into per-lane sums (added in lane order), dx per chunk. */
    private static void winogradBackward(Plan plan, Scratch scratch, int n, MemorySegment x, MemorySegment w, MemorySegment dy,
                                         MemorySegment dw, MemorySegment db, MemorySegment dx) {
        ConvShape s = plan.shape;
        Winograd.State st = plan.winograd;
        int p = s.pixels(), oc = s.out();
        int lanes = Math.min(plan.lanes, (n + plan.chunk - 1) / plan.chunk);
        long size = st.partialFloats();
        MemorySegment partials = scratch.partials();
        partials.asSlice(0, size * lanes * 4).fill((byte) 0);
        for (double[] sums : plan.biasSums) java.util.Arrays.fill(sums, 0);
        if (dx != null) Winograd.transformWeight(st, w); // dx reads U (dW does not)
        overChunks(plan, n, (lane, n0, nb) -> {
            long off = lane * plan.columnStride;
            Winograd.weightGradientChunk(st, lane, n0, nb, x, dy, partials, lane * size, scratch.columns(), off);
            if (db != null) {
                for (int b = n0; b < n0 + nb; b++) {
                    for (int o = 0; o < oc; o++) plan.biasSums[lane][o] += Reductions.sum(dy, ((long) b * oc + o) * p, p);
                }
            }
            if (dx != null) Winograd.inputGradientChunk(st, lane, n0, nb, dy, dx, scratch.columns(), off);
        });
        Winograd.finishWeightGradient(st, partials, lanes, dw);
        if (db != null) {
            for (int o = 0; o < oc; o++) {
                double sum = 0;
                for (double[] sums : plan.biasSums) sum += sums[o];
                db.setAtIndex(F, o, db.getAtIndex(F, o) + (float) sum);
            }
        }
    }

    /** flipped[ci][(o*k + i)*k + j] = w[o][ci][k-1-i][k-1-j]: the weight of the convolution that maps dy to dx (groups 1, stride 1). */
    private static void flip(ConvShape s, MemorySegment w, MemorySegment flipped) {
        int c = s.in(), oc = s.out(), k = s.kernel(), kk = k * k;
        for (int o = 0; o < oc; o++) {
            for (int ci = 0; ci < c; ci++) {
                for (int t = 0; t < kk; t++) {
                    flipped.setAtIndex(F, ((long) ci * oc + o) * kk + t, w.getAtIndex(F, ((long) o * c + ci) * kk + (kk - 1 - t)));
                }
            }
        }
    }

    /** rows (out, nb*p) at rowsOff -> y[n0+b, o, :]. */
    private static void scatterRows(ConvShape s, MemorySegment rows, long rowsOff, int n0, int nb, MemorySegment y) {
        int p = s.pixels(), oc = s.out();
        for (int o = 0; o < oc; o++) {
            for (int b = 0; b < nb; b++) {
                MemorySegment.copy(rows, (rowsOff + (long) o * nb * p + (long) b * p) * 4, y, (((long) (n0 + b) * oc + o) * p) * 4, (long) p * 4);
            }
        }
    }

    /** dy[n0+b, o, :] -> rows (out, nb*p) at rowsOff. */
    private static void gatherRows(ConvShape s, MemorySegment dy, int n0, int nb, MemorySegment rows, long rowsOff) {
        int p = s.pixels(), oc = s.out();
        for (int o = 0; o < oc; o++) {
            for (int b = 0; b < nb; b++) {
                MemorySegment.copy(dy, (((long) (n0 + b) * oc + o) * p) * 4, rows, (rowsOff + (long) o * nb * p + (long) b * p) * 4, (long) p * 4);
            }
        }
    }

    private static void addBias(ConvShape s, MemorySegment bias, MemorySegment y, int sample) {
        if (bias == null) return;
        int p = s.pixels(), oc = s.out();
        for (int o = 0; o < oc; o++) {
            float b = bias.getAtIndex(F, o);
            long base = ((long) sample * oc + o) * p;
            for (int i = 0; i < p; i++) y.setAtIndex(F, base + i, y.getAtIndex(F, base + i) + b);
        }
    }

    // depthwise x: (n, c, h, w) -> y: (n, c, oh, ow), one k x k filter per channel, parallel over planes
    private static void depthwiseForward(Plan plan, int n, MemorySegment xs, MemorySegment wsg, MemorySegment bs, MemorySegment ys) {
        ConvShape s = plan.shape;
        int c = s.in(), planes = n * c, threads = plan.planeIn.length;
        int k = s.kernel(), kk = k * k, wp = s.width() + 2 * s.pad(), oh = s.outH(), ow = s.outW(), p = oh * ow;
        Parallel.forEachChunk(threads, t -> {
            float[] in = plan.planeIn[t], out = plan.planeOut[t], tap = plan.taps[t];
            int from = (int) ((long) planes * t / threads), to = (int) ((long) planes * (t + 1) / threads);
            for (int plane = from; plane < to; plane++) {
                int ci = plane % c;
                loadPadded(s, xs, (long) plane * s.height() * s.width(), in);
                MemorySegment.copy(wsg, F, (long) ci * kk * 4, tap, 0, kk);
                DEPTHWISE.forward(in, wp, tap, k, s.stride(), bs == null ? 0f : bs.getAtIndex(F, ci), out, oh, ow);
                for (int oy = 0; oy < oh; oy++) MemorySegment.copy(out, oy * wp, ys, F, ((long) plane * p + (long) oy * ow) * 4, ow);
            }
        });
    }

    // depthwise dy: (n, c, oh, ow) -> dx: (n, c, h, w); parallel over channels so dW needs no merge
    private static void depthwiseBackward(Plan plan, int n, MemorySegment xs, MemorySegment wsg, MemorySegment dys,
                                          MemorySegment dws, MemorySegment dbs, MemorySegment dxs) {
        ConvShape s = plan.shape;
        int c = s.in(), h = s.height(), w = s.width(), threads = plan.planeIn.length;
        int k = s.kernel(), kk = k * k, pad = s.pad(), wp = w + 2 * pad, oh = s.outH(), ow = s.outW(), p = oh * ow;
        Parallel.forEachChunk(threads, t -> {
            float[] in = plan.planeIn[t], d = plan.planeOut[t], tap = plan.taps[t];
            double[] sums = plan.tapSums[t];
            float[] din = dxs == null ? null : plan.planeGrad[t];
            // d's columns ow..wp-1 and its slack must be zero (the kernel contract): clear once per call, rows below fill only the valid columns
            java.util.Arrays.fill(d, 0f);
            int from = (int) ((long) c * t / threads), to = (int) ((long) c * (t + 1) / threads);
            for (int ci = from; ci < to; ci++) {
                java.util.Arrays.fill(sums, 0);
                double biasSum = 0;
                MemorySegment.copy(wsg, F, (long) ci * kk * 4, tap, 0, kk);
                for (int b = 0; b < n; b++) {
                    long plane = (long) b * c + ci;
                    loadPadded(s, xs, plane * h * w, in);
                    for (int oy = 0; oy < oh; oy++) MemorySegment.copy(dys, F, (plane * p + (long) oy * ow) * 4, d, oy * wp, ow);
                    if (dbs != null) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) biasSum += d[oy * wp + ox];
                        }
                    }
                    DEPTHWISE.weightGradient(in, wp, d, k, s.stride(), oh, ow, sums);
                    if (din == null) continue;
                    java.util.Arrays.fill(din, 0f);
                    DEPTHWISE.inputGradient(d, tap, k, s.stride(), oh, ow, din, wp);
                    for (int iy = 0; iy < h; iy++) MemorySegment.copy(din, (iy + pad) * wp + pad, dxs, F, (plane * h * w + (long) iy * w) * 4, w);
                }
                for (int i = 0; i < kk; i++) {
                    long at = (long) ci * kk + i;
                    dws.setAtIndex(F, at, dws.getAtIndex(F, at) + (float) sums[i]);
                }
                if (dbs != null) dbs.setAtIndex(F, ci, dbs.getAtIndex(F, ci) + (float) biasSum);
            }
        });
    }

    /** Copies an (h, w) plane (at float offset {@code offset}) into the interior of a zero-bordered (h+2p, w+2p) buffer. */
    private static void loadPadded(ConvShape s, MemorySegment xs, long offset, float[] in) {
        int w = s.width(), pad = s.pad(), wp = w + 2 * pad;
        for (int iy = 0; iy < s.height(); iy++) MemorySegment.copy(xs, F, (offset + (long) iy * w) * 4, in, (iy + pad) * wp + pad, w);
    }
}
