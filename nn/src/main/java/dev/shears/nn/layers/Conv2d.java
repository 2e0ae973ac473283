package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.Im2col;
import dev.shears.engine.kernels.Reductions;
import dev.shears.engine.kernels.Sparse;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 2-D convolution (square kernel, stride, zero padding, dilation 1, groups, optional bias) over
 * NCHW. Dense and grouped convolutions run as im2col + GEMM over chunks of the batch (columns
 * laid out (C*kh*kw, nb*OH*OW), one GEMM per group), each chunk sized to stay in cache
 * ({@link #COLUMN_FLOATS}) and the chunks spread over the threads, each with its own scratch and
 * single-threaded kernels; depthwise convolutions (groups == in == out channels) run a direct
 * loop, parallel over planes. Backward: dW by GEMM against recomputed columns (per-thread partial
 * sums added in thread order, so results are reproducible), dx by GEMM + col2im.
 * The weight (out, in/groups, k, k) is prunable with OH*OW MACs per weight. Init: Kaiming normal
 * (fan_out, ReLU gain) as torchvision; bias as PyTorch's default. Pinned by GradientCheckTest.
 */
public final class Conv2d implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Target im2col chunk per thread in floats (1 MiB, about half an L2): columns stay in cache. */
    static final long COLUMN_FLOATS = 1L << 18;

    private final String name;
    private final int c, h, w;        // input channels, height, width
    private final int oc, oh, ow;     // output channels, height, width
    private final int k, stride, pad, groups;
    private final int cg, ocg, ckk;   // channels per group (in, out), rows of one group's columns
    private final boolean depthwise, pointwise;
    private final ConvGeometry geometry;
    private final Parameter weight;   // (oc, c/groups, k, k)
    private final Parameter bias;     // (oc) or null
    private boolean needInputGradient = true;
    private SparseMatrix sparseWeight; // (oc, ckk) CSR of the masked weight for eval-mode forward, or null (dense)
    private SparseDirectConv sparseDirect; // the same nonzeros as padded-input offsets (k > 1 or strided/padded 1x1)
    private float[][] sparsePadded, sparseOut; // per-lane heap scratch of the direct sparse forward

    private long columnFloats = COLUMN_FLOATS;
    private ActivationMemory acts;
    private int batch;
    private int chunk, chunks, lanes;     // samples per chunk, chunks per batch, threads used
    private long columnStride, rowStride; // floats of one lane's columns / rows scratch
    private double[][] biasSums;          // (lanes, oc) per-lane bias gradient sums
    private Tensor x;                 // (N, c, h, w): the last forward's input
    private Tensor y;                 // (N, oc, oh, ow)
    private Tensor dx;                // (N, c, h, w)
    private float[][] planeIn, planeOut, planeGrad, taps; // depthwise per-thread scratch
    private double[][] tapSums;

    public Conv2d(Params params, String name, int[] inShape, int outChannels, int kernel, int stride, int padding, int groups, boolean bias) {
        if (inShape.length != 3) throw new IllegalArgumentException("layer '" + name + "' expects (C, H, W) inputs, got rank " + inShape.length);
        if (kernel < 1 || stride < 1 || padding < 0 || groups < 1 || outChannels < 1) {
            throw new IllegalArgumentException("layer '" + name + "': bad conv settings kernel=" + kernel + " stride=" + stride
                    + " padding=" + padding + " groups=" + groups + " out=" + outChannels);
        }
        if (inShape[0] % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("layer '" + name + "': groups=" + groups + " must divide in channels " + inShape[0]
                    + " and out channels " + outChannels);
        }
        this.name = name;
        this.c = inShape[0];
        this.h = inShape[1];
        this.w = inShape[2];
        this.oc = outChannels;
        this.k = kernel;
        this.stride = stride;
        this.pad = padding;
        this.groups = groups;
        this.oh = Shapes.outSize(name, h, kernel, stride, padding);
        this.ow = Shapes.outSize(name, w, kernel, stride, padding);
        this.cg = c / groups;
        this.ocg = oc / groups;
        this.ckk = cg * k * k;
        this.depthwise = groups == c && groups == oc && groups > 1;
        this.pointwise = k == 1 && stride == 1 && padding == 0;
        this.geometry = ConvGeometry.square(c, h, w, kernel, stride, padding);
        this.weight = params.parameter(name + ".weight", true, (long) oh * ow, oc, cg, k, k);
        this.bias = bias ? params.parameter(name + ".bias", false, 0, oc) : null;
        params.normal(weight.value(), Math.sqrt(2.0 / ((double) oc * k * k)));
        if (this.bias != null) params.uniform(this.bias.value(), 1.0 / Math.sqrt(ckk));
    }

    /** Caps the im2col chunk (tests force small chunks with it); call before {@link #allocate}. */
    void limitColumns(long floats) { columnFloats = Math.max(1, floats); }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }
    public int groups() { return groups; }
    public int kernel() { return k; }
    public int stride() { return stride; }
    public int padding() { return pad; }

    /**
     * Eval-mode forward runs {@code s} (the masked weight as (oc, c*k*k), snapshotted by the
     * caller, see SparseInference) through the sparse SpMM instead of the GEMM; null goes back to
     * dense. Training forward always uses the dense weight. Only for groups == 1.
     */
    public void useSparseWeight(SparseMatrix s) {
        useSparseWeight(s, false);
    }

    /**
     * As {@link #useSparseWeight(SparseMatrix)}; with {@code direct} (and k > 1, stride or padding)
     * eval forward skips im2col and runs the nonzeros straight over the padded input, which wins
     * on small late layers at batch 1 and loses on large early ones (SparseInference times both).
     */
    public void useSparseWeight(SparseMatrix s, boolean direct) {
        if (s != null && (groups != 1 || s.rows() != oc || s.cols() != ckk)) {
            throw new IllegalArgumentException("layer '" + name + "': sparse weight " + s + " does not fit a groups=1 conv weight (" + oc + ", " + ckk
                    + "), groups=" + groups);
        }
        sparseWeight = s;
        sparseDirect = s == null || pointwise || !direct ? null
                : new SparseDirectConv(s, bias == null ? null : bias.value().toFloatArray(), c, h, w, oc, oh, ow, k, stride, pad, Parallel.threads());
    }

    /** The sparse weight eval-mode forward uses, or null when it runs dense. */
    public SparseMatrix sparseWeight() { return sparseWeight; }

    /** Whether eval forward runs the sparse weight without im2col. */
    public boolean sparseDirect() { return sparseDirect != null; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {oc, oh, ow}; }
    @Override public void skipInputGradient() { needInputGradient = false; }
    @Override public boolean ownsOutput() { return true; }
    @Override public boolean ownsInputGradient() { return needInputGradient; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.acts = acts;
        this.batch = batch;
        y = acts.floats(name + ".out", batch, oc, oh, ow);
        dx = needInputGradient ? acts.floats(name + ".dx", batch, c, h, w) : null;
        if (depthwise) {
            int t = Parallel.threads();
            int hp = (h + 2 * pad), wp = (w + 2 * pad);
            planeIn = new float[t][hp * wp];
            planeOut = new float[t][oh * ow];
            planeGrad = needInputGradient ? new float[t][hp * wp] : null;
            taps = new float[t][k * k];
            tapSums = new double[t][k * k];
            return;
        }
        long perSample = (long) ckk * groups * oh * ow;
        int threads = Parallel.threads();
        int fair = (batch + threads - 1) / threads; // at most this many samples per chunk, so every thread gets work
        chunk = (int) Math.max(1, Math.min(fair, columnFloats / perSample));
        chunks = (batch + chunk - 1) / chunk;
        lanes = Math.min(threads, chunks);
        columnStride = perSample * chunk;
        rowStride = chunk > 1 ? (long) oc * oh * ow * chunk : 0;
        acts.reserve(ActivationMemory.Slot.COLUMNS, columnStride * lanes);
        if (chunk > 1) acts.reserve(ActivationMemory.Slot.ROWS, rowStride * lanes);
        if (lanes > 1) acts.reserve(ActivationMemory.Slot.WEIGHT_GRADIENTS, weight.size() * lanes);
        biasSums = new double[lanes][oc];
    }

    /**
     * Runs {@code body(lane, n0, nb)} over the chunks: with one lane on the calling thread (the
     * kernels may then use the pool themselves), else lane t takes a contiguous run of chunks
     * (static, so results do not depend on timing) and the kernels inside run single-threaded.
     */
    private void overChunks(ChunkBody body) {
        int n = batch;
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

    // x: (N, c, h, w) -> y: (N, oc, oh, ow)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        this.x = x;
        if (depthwise) {
            depthwiseForward(n);
            return y;
        }
        int p = oh * ow;
        if (!training && sparseWeight != null) {
            sparseForward(n);
            return y;
        }
        MemorySegment ws = weight.value().segment(), xs = x.segment(), ys = y.segment();
        MemorySegment columns = acts.scratch(ActivationMemory.Slot.COLUMNS);
        MemorySegment rowScratch = chunk > 1 ? acts.scratch(ActivationMemory.Slot.ROWS) : null;
        overChunks((lane, n0, nb) -> {
            int cols = nb * p;
            MemorySegment col = columns;
            long colOff = lane * columnStride;
            if (pointwise && nb == 1) {
                col = xs;
                colOff = (long) n0 * c * p;
            } else {
                im2col(xs, n0, nb, col, colOff);
            }
            MemorySegment dst = nb == 1 ? ys : rowScratch;
            long dstOff = nb == 1 ? (long) n0 * oc * p : lane * rowStride;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(false, false, ocg, cols, ckk, 1f, ws, (long) g * ocg * ckk, ckk,
                        col, colOff + (long) g * ckk * cols, cols, 0f, dst, dstOff + (long) g * ocg * cols, cols);
            }
            if (nb > 1) scatterRows(dst, dstOff, n0, nb);
            for (int b = 0; b < nb; b++) addBias(ys, n0 + b);
        });
        return y;
    }

    // sparse eval forward, per image: Y (oc, oh*ow) = W_sparse (oc, c*k*k) x columns (c*k*k, oh*ow), or x itself for 1x1
    private void sparseForward(int n) {
        int p = oh * ow;
        SparseMatrix s = sparseWeight;
        MemorySegment xs = x.segment(), ys = y.segment();
        MemorySegment columns = acts.scratch(ActivationMemory.Slot.COLUMNS);
        SparseDirectConv direct = sparseDirect;
        if (direct != null) {
            int lanesNow = Math.max(1, lanes);
            if (direct.usesEngineKernel()) { // it keeps its own native buffers: no heap scratch
                if (sparsePadded == null || sparsePadded.length < lanesNow) sparsePadded = sparseOut = new float[lanesNow][];
            } else if (sparsePadded == null || sparsePadded.length < lanesNow || sparsePadded[0] == null
                    || sparsePadded[0].length != direct.paddedFloats()) {
                sparsePadded = new float[lanesNow][direct.paddedFloats()]; // borders stay zero: only interiors are written
                sparseOut = new float[lanesNow][oc * p];
            }
            MemorySegment bs = bias == null ? null : bias.value().segment();
            overChunks((lane, n0, nb) -> {
                for (int b = n0; b < n0 + nb; b++) direct.forward(xs, (long) b * c * h * w, bs, ys, (long) b * oc * p, sparsePadded[lane], sparseOut[lane], lane);
            });
            return;
        }
        overChunks((lane, n0, nb) -> {
            for (int b = n0; b < n0 + nb; b++) {
                MemorySegment col = xs;
                long colOff = (long) b * c * p;
                if (!pointwise) {
                    col = columns;
                    colOff = lane * columnStride;
                    im2col(xs, b, 1, col, colOff);
                }
                Sparse.spmm(s, p, 1f, col, colOff, p, 0f, ys, (long) b * oc * p, p);
                addBias(ys, b);
            }
        });
    }

    // dy: (N, oc, oh, ow) -> dx: (N, c, h, w); dW += dy_rows . columns^T; db += sum dy
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        if (depthwise) {
            depthwiseBackward(dy.segment(), n);
            return dx;
        }
        int p = oh * ow;
        long wsize = weight.size();
        MemorySegment ws = weight.value().segment(), xs = x.segment(), dys = dy.segment();
        MemorySegment dxs = dx == null ? null : dx.segment();
        MemorySegment columns = acts.scratch(ActivationMemory.Slot.COLUMNS);
        MemorySegment rowScratch = chunk > 1 ? acts.scratch(ActivationMemory.Slot.ROWS) : null;
        // one lane accumulates straight into the gradient; several keep partial sums, added below in lane order
        MemorySegment partials = lanes > 1 ? acts.scratch(ActivationMemory.Slot.WEIGHT_GRADIENTS) : weight.grad().segment();
        if (lanes > 1) partials.asSlice(0, wsize * lanes * 4).fill((byte) 0);
        for (double[] sums : biasSums) java.util.Arrays.fill(sums, 0);
        overChunks((lane, n0, nb) -> {
            int cols = nb * p;
            MemorySegment rows = dys;
            long rowsOff = (long) n0 * oc * p;
            if (nb > 1) {
                rows = rowScratch;
                rowsOff = lane * rowStride;
                gatherRows(dys, n0, nb, rows, rowsOff);
            }
            boolean direct = pointwise && nb == 1;
            MemorySegment col = direct ? xs : columns;
            long colOff = direct ? (long) n0 * c * p : lane * columnStride;
            if (!direct) im2col(xs, n0, nb, col, colOff);
            long dwOff = lanes > 1 ? lane * wsize : 0;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(false, true, ocg, ckk, cols, 1f, rows, rowsOff + (long) g * ocg * cols, cols,
                        col, colOff + (long) g * ckk * cols, cols, 1f, partials, dwOff + (long) g * ocg * ckk, ckk);
            }
            if (bias != null) {
                for (int o = 0; o < oc; o++) biasSums[lane][o] += Reductions.sum(rows, rowsOff + (long) o * cols, cols);
            }
            if (dxs == null) return;
            MemorySegment dcol = direct ? dxs : columns; // the columns are dead once dW is done
            long dcolOff = direct ? (long) n0 * c * p : lane * columnStride;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(true, false, ckk, cols, ocg, 1f, ws, (long) g * ocg * ckk, ckk,
                        rows, rowsOff + (long) g * ocg * cols, cols, 0f, dcol, dcolOff + (long) g * ckk * cols, cols);
            }
            if (!direct) col2im(dcol, dcolOff, n0, nb, dxs);
        });
        if (lanes > 1) {
            for (int t = 0; t < lanes; t++) Elementwise.addInPlace(weight.grad().segment(), 0, partials, t * wsize, Math.toIntExact(wsize));
        }
        if (bias != null) {
            MemorySegment db = bias.grad().segment();
            for (int o = 0; o < oc; o++) {
                double s = 0;
                for (double[] sums : biasSums) s += sums[o];
                db.setAtIndex(F, o, db.getAtIndex(F, o) + (float) s);
            }
        }
        return dx;
    }

    /** Columns (c*k*k, nb*oh*ow) of samples [n0, n0+nb): row (ci, ki, kj), column (b, oy, ox). */
    private void im2col(MemorySegment xs, int n0, int nb, MemorySegment col, long colOff) {
        Im2col.im2colBatch(geometry, nb, xs, (long) n0 * c * h * w, col, colOff);
    }

    /** dx[n0..n0+nb) = sum of the column gradients over the taps that read each input pixel. */
    private void col2im(MemorySegment dcol, long dcolOff, int n0, int nb, MemorySegment dxs) {
        long at = (long) n0 * c * h * w, floats = (long) nb * c * h * w;
        dxs.asSlice(at * 4, floats * 4).fill((byte) 0);
        Im2col.col2imBatch(geometry, nb, dcol, dcolOff, dxs, at);
    }

    /** rows (oc, nb*p) at rowsOff -> y[n0+b, o, :]. */
    private void scatterRows(MemorySegment rows, long rowsOff, int n0, int nb) {
        int p = oh * ow;
        MemorySegment ys = y.segment();
        for (int o = 0; o < oc; o++) {
            for (int b = 0; b < nb; b++) {
                MemorySegment.copy(rows, (rowsOff + (long) o * nb * p + (long) b * p) * 4, ys, (((long) (n0 + b) * oc + o) * p) * 4, (long) p * 4);
            }
        }
    }

    /** dy[n0+b, o, :] -> rows (oc, nb*p) at rowsOff. */
    private void gatherRows(MemorySegment dys, int n0, int nb, MemorySegment rows, long rowsOff) {
        int p = oh * ow;
        for (int o = 0; o < oc; o++) {
            for (int b = 0; b < nb; b++) {
                MemorySegment.copy(dys, (((long) (n0 + b) * oc + o) * p) * 4, rows, (rowsOff + (long) o * nb * p + (long) b * p) * 4, (long) p * 4);
            }
        }
    }

    private void addBias(MemorySegment ys, int sample) {
        if (bias == null) return;
        MemorySegment bs = bias.value().segment();
        int p = oh * ow;
        for (int o = 0; o < oc; o++) {
            float b = bs.getAtIndex(F, o);
            long base = ((long) sample * oc + o) * p;
            for (int i = 0; i < p; i++) ys.setAtIndex(F, base + i, ys.getAtIndex(F, base + i) + b);
        }
    }

    // depthwise x: (N, c, h, w) -> y: (N, c, oh, ow), one k x k filter per channel
    private void depthwiseForward(int n) {
        int planes = n * c, threads = Parallel.threads();
        int wp = w + 2 * pad, p = oh * ow, kk = k * k;
        MemorySegment xs = x.segment(), ys = y.segment(), wsg = weight.value().segment();
        MemorySegment bs = bias == null ? null : bias.value().segment();
        Parallel.forEachChunk(threads, t -> {
            float[] in = planeIn[t], out = planeOut[t], tap = taps[t];
            int from = (int) ((long) planes * t / threads), to = (int) ((long) planes * (t + 1) / threads);
            for (int plane = from; plane < to; plane++) {
                int ci = plane % c;
                loadPadded(xs, (long) plane * h * w, in);
                MemorySegment.copy(wsg, F, (long) ci * kk * 4, tap, 0, kk);
                java.util.Arrays.fill(out, bs == null ? 0f : bs.getAtIndex(F, ci));
                for (int oy = 0; oy < oh; oy++) {
                    int orow = oy * ow;
                    for (int ki = 0; ki < k; ki++) {
                        int irow = (oy * stride + ki) * wp;
                        for (int kj = 0; kj < k; kj++) {
                            float wt = tap[ki * k + kj];
                            int base = irow + kj;
                            if (stride == 1) {
                                for (int ox = 0; ox < ow; ox++) out[orow + ox] += wt * in[base + ox];
                            } else {
                                for (int ox = 0; ox < ow; ox++) out[orow + ox] += wt * in[base + ox * stride];
                            }
                        }
                    }
                }
                MemorySegment.copy(out, 0, ys, F, (long) plane * p * 4, p);
            }
        });
    }

    // depthwise dy: (N, c, oh, ow) -> dx: (N, c, h, w); parallel over channels so dW needs no merge
    private void depthwiseBackward(MemorySegment dys, int n) {
        int threads = Parallel.threads();
        int wp = w + 2 * pad, p = oh * ow, kk = k * k;
        MemorySegment xs = x.segment(), wsg = weight.value().segment(), dws = weight.grad().segment();
        MemorySegment dxs = dx == null ? null : dx.segment();
        MemorySegment dbs = bias == null ? null : bias.grad().segment();
        Parallel.forEachChunk(threads, t -> {
            float[] in = planeIn[t], d = planeOut[t], tap = taps[t];
            double[] sums = tapSums[t];
            float[] din = dxs == null ? null : planeGrad[t];
            int from = (int) ((long) c * t / threads), to = (int) ((long) c * (t + 1) / threads);
            for (int ci = from; ci < to; ci++) {
                java.util.Arrays.fill(sums, 0);
                double biasSum = 0;
                MemorySegment.copy(wsg, F, (long) ci * kk * 4, tap, 0, kk);
                for (int b = 0; b < n; b++) {
                    long plane = (long) b * c + ci;
                    loadPadded(xs, plane * h * w, in);
                    MemorySegment.copy(dys, F, plane * p * 4, d, 0, p);
                    for (int i = 0; i < p; i++) biasSum += d[i];
                    for (int ki = 0; ki < k; ki++) {
                        for (int kj = 0; kj < k; kj++) {
                            float s = 0f;
                            for (int oy = 0; oy < oh; oy++) {
                                int base = (oy * stride + ki) * wp + kj, orow = oy * ow;
                                for (int ox = 0; ox < ow; ox++) s += d[orow + ox] * in[base + ox * stride];
                            }
                            sums[ki * k + kj] += s;
                        }
                    }
                    if (din == null) continue;
                    java.util.Arrays.fill(din, 0f);
                    for (int oy = 0; oy < oh; oy++) {
                        int orow = oy * ow;
                        for (int ki = 0; ki < k; ki++) {
                            for (int kj = 0; kj < k; kj++) {
                                float wt = tap[ki * k + kj];
                                int base = (oy * stride + ki) * wp + kj;
                                for (int ox = 0; ox < ow; ox++) din[base + ox * stride] += wt * d[orow + ox];
                            }
                        }
                    }
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
    private void loadPadded(MemorySegment xs, long offset, float[] in) {
        int wp = w + 2 * pad;
        for (int iy = 0; iy < h; iy++) MemorySegment.copy(xs, F, (offset + (long) iy * w) * 4, in, (iy + pad) * wp + pad, w);
    }
}
