package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.Im2col;
import dev.shears.engine.kernels.Reductions;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 2-D convolution (square kernel, stride, zero padding, dilation 1, groups, optional bias) over
 * NCHW. Dense and grouped convolutions run as im2col + GEMM over a chunk of the batch at once
 * (columns laid out (C*kh*kw, nb*OH*OW), one GEMM per group), the chunk sized so the columns stay
 * under {@link #COLUMN_FLOATS}; depthwise convolutions (groups == in == out channels) run a direct
 * loop, parallel over planes. Backward: dW by GEMM against recomputed columns, dx by GEMM + col2im.
 * The weight (out, in/groups, k, k) is prunable with OH*OW MACs per weight. Init: Kaiming normal
 * (fan_out, ReLU gain) as torchvision; bias as PyTorch's default. Pinned by GradientCheckTest.
 */
public final class Conv2d implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Largest im2col chunk in floats (32 MiB): a batch is split into chunks that fit. */
    static final long COLUMN_FLOATS = 1L << 23;

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

    private long columnFloats = COLUMN_FLOATS;
    private ActivationMemory acts;
    private int batch, chunk;
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

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {oc, oh, ow}; }
    @Override public void skipInputGradient() { needInputGradient = false; }

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
        int maxChunk = (int) Math.max(1, Math.min(batch, columnFloats / perSample));
        int chunks = (batch + maxChunk - 1) / maxChunk;
        chunk = (batch + chunks - 1) / chunks;
        acts.reserve(ActivationMemory.Slot.COLUMNS, perSample * chunk);
        if (chunk > 1) acts.reserve(ActivationMemory.Slot.ROWS, (long) oc * oh * ow * chunk);
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
        MemorySegment ws = weight.value().segment();
        for (int n0 = 0; n0 < n; n0 += chunk) {
            int nb = Math.min(chunk, n - n0);
            int cols = nb * p;
            MemorySegment col;
            long colOff;
            if (pointwise && nb == 1) {
                col = x.segment();
                colOff = (long) n0 * c * p;
            } else {
                col = acts.scratch(ActivationMemory.Slot.COLUMNS);
                colOff = 0;
                im2col(x.segment(), n0, nb, col);
            }
            MemorySegment dst = nb == 1 ? y.segment() : acts.scratch(ActivationMemory.Slot.ROWS);
            long dstOff = nb == 1 ? (long) n0 * oc * p : 0;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(false, false, ocg, cols, ckk, 1f, ws, (long) g * ocg * ckk, ckk,
                        col, colOff + (long) g * ckk * cols, cols, 0f, dst, dstOff + (long) g * ocg * cols, cols);
            }
            if (nb == 1) addBias(y.segment(), n0);
            else scatterRows(dst, n0, nb);
        }
        return y;
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
        MemorySegment ws = weight.value().segment(), dws = weight.grad().segment();
        for (int n0 = 0; n0 < n; n0 += chunk) {
            int nb = Math.min(chunk, n - n0);
            int cols = nb * p;
            MemorySegment rows;
            long rowsOff;
            if (nb == 1) {
                rows = dy.segment();
                rowsOff = (long) n0 * oc * p;
            } else {
                rows = acts.scratch(ActivationMemory.Slot.ROWS);
                rowsOff = 0;
                gatherRows(dy.segment(), n0, nb, rows);
            }
            MemorySegment col;
            long colOff;
            boolean direct = pointwise && nb == 1;
            if (direct) {
                col = x.segment();
                colOff = (long) n0 * c * p;
            } else {
                col = acts.scratch(ActivationMemory.Slot.COLUMNS);
                colOff = 0;
                im2col(x.segment(), n0, nb, col);
            }
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(false, true, ocg, ckk, cols, 1f, rows, rowsOff + (long) g * ocg * cols, cols,
                        col, colOff + (long) g * ckk * cols, cols, 1f, dws, (long) g * ocg * ckk, ckk);
            }
            if (bias != null) accumulateBias(rows, rowsOff, cols);
            if (dx == null) continue;
            MemorySegment dcol = direct ? dx.segment() : acts.scratch(ActivationMemory.Slot.COLUMNS); // columns are dead once dW is done
            long dcolOff = direct ? (long) n0 * c * p : 0;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(true, false, ckk, cols, ocg, 1f, ws, (long) g * ocg * ckk, ckk,
                        rows, rowsOff + (long) g * ocg * cols, cols, 0f, dcol, dcolOff + (long) g * ckk * cols, cols);
            }
            if (!direct) col2im(dcol, n0, nb, dx.segment());
        }
        return dx;
    }

    /** Columns (c*k*k, nb*oh*ow) of samples [n0, n0+nb): row (ci, ki, kj), column (b, oy, ox). */
    private void im2col(MemorySegment xs, int n0, int nb, MemorySegment col) {
        Im2col.im2colBatch(geometry, nb, xs, (long) n0 * c * h * w, col, 0);
    }

    /** dx[n0..n0+nb) = sum of the column gradients over the taps that read each input pixel. */
    private void col2im(MemorySegment dcol, int n0, int nb, MemorySegment dxs) {
        long at = (long) n0 * c * h * w, floats = (long) nb * c * h * w;
        dxs.asSlice(at * 4, floats * 4).fill((byte) 0);
        Im2col.col2imBatch(geometry, nb, dcol, 0, dxs, at);
    }

    /** rows (oc, nb*p) -> y[n0+b, o, :] (+ bias). */
    private void scatterRows(MemorySegment rows, int n0, int nb) {
        int p = oh * ow;
        MemorySegment ys = y.segment();
        Parallel.forRange(oc, 1, (from, to) -> {
            for (int o = from; o < to; o++) {
                for (int b = 0; b < nb; b++) {
                    MemorySegment.copy(rows, ((long) o * nb * p + (long) b * p) * 4, ys, (((long) (n0 + b) * oc + o) * p) * 4, (long) p * 4);
                }
            }
        });
        for (int b = 0; b < nb; b++) addBias(ys, n0 + b);
    }

    /** dy[n0+b, o, :] -> rows (oc, nb*p). */
    private void gatherRows(MemorySegment dys, int n0, int nb, MemorySegment rows) {
        int p = oh * ow;
        Parallel.forRange(oc, 1, (from, to) -> {
            for (int o = from; o < to; o++) {
                for (int b = 0; b < nb; b++) {
                    MemorySegment.copy(dys, (((long) (n0 + b) * oc + o) * p) * 4, rows, ((long) o * nb * p + (long) b * p) * 4, (long) p * 4);
                }
            }
        });
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

    private void accumulateBias(MemorySegment rows, long off, int cols) {
        MemorySegment db = bias.grad().segment();
        for (int o = 0; o < oc; o++) {
            double s = Reductions.sum(rows, off + (long) o * cols, cols);
            db.setAtIndex(F, o, db.getAtIndex(F, o) + (float) s);
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
