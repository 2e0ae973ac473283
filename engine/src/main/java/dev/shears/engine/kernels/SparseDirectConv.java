package dev.shears.engine.kernels;

import dev.shears.engine.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A convolution weight in CSR run without im2col (at batch 1 im2col cost more than the sparse
 * multiply-adds, measured with shears bench infer --explain). Where the engine's SparseConv covers
 * the geometry (stride 1 or 2, padding 0 or 1; scalar and Vector API twins) each image is copied
 * into a padded native buffer, run through it and copied out; other geometries take the plain
 * loop below: each nonzero's column (ci, ki, kj) as its offset in a zero-padded heap image, each
 * output row getting w times a (strided) run of it. Built once per sparse snapshot (Conv2d.useSparseWeight);
 * it owns its per-lane scratch.
 * Not for training. Pinned by SparseInferenceTest (outputs equal the dense forward).
 */
public final class SparseDirectConv {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final long PARALLEL_WORK = 1 << 15;
    private final int c, h, w, oc, oh, ow, k, stride, pad, hp, wp;
    private final int[] rowStart; // (oc + 1)
    private final int[] offset;   // (nnz): ci*hp*wp + ki*wp + kj
    private final float[] value;  // (nnz)
    private final SparseConv fast;       // the engine kernel where it covers the geometry, else null
    private final MemorySegment[] lanes; // per lane: padded input, padded output, kernel scratch (fast only)
    private final long outAt, scratchAt;
    private final float[] bias;          // (oc) or null
    private final float[][] padded, out; // plain loop: per lane heap scratch (borders stay zero: only interiors are written)

    /** {@code s} (oc, c*k*k), bias (oc) or null, input (c, h, w), output (oc, oh, ow); {@code lanes} callers may run at once. */
    public SparseDirectConv(SparseMatrix s, float[] bias, int c, int h, int w, int oc, int oh, int ow, int k, int stride, int pad, int lanes) {
        this.c = c;
        this.h = h;
        this.w = w;
        this.oc = oc;
        this.oh = oh;
        this.ow = ow;
        this.k = k;
        this.stride = stride;
        this.pad = pad;
        this.hp = h + 2 * pad;
        this.wp = w + 2 * pad;
        this.rowStart = s.rowStarts();
        this.value = s.values();
        int[] col = s.columns();
        this.offset = new int[col.length];
        for (int i = 0; i < col.length; i++) {
            int ci = col[i] / (k * k), r = col[i] % (k * k);
            offset[i] = ci * hp * wp + (r / k) * wp + r % k;
        }
        if (SparseConv.supports(k, stride, pad)) {
            fast = new SparseConv(s, bias, c, h, w, k, stride, pad);
            outAt = SparseConv.paddedFloats(c, h, w);
            scratchAt = outAt + SparseConv.paddedFloats(oc, oh, ow);
            Arena arena = Arena.ofAuto(); // freed with this snapshot
            this.lanes = new MemorySegment[lanes];
            for (int t = 0; t < lanes; t++) this.lanes[t] = arena.allocate(4 * (scratchAt + fast.scratchFloats()), 64); // zeroed
        } else {
            fast = null;
            this.lanes = null;
            outAt = scratchAt = 0;
        }
        this.bias = bias == null ? null : bias.clone();
        this.padded = fast != null ? null : new float[lanes][c * hp * wp];
        this.out = fast != null ? null : new float[lanes][oc * oh * ow];
    }

    /** Whether forward runs the engine kernel (true) or the plain loop. */
    public boolean usesEngineKernel() { return fast != null; }

    /** Lanes (concurrent callers) this snapshot has scratch for. */
    public int lanes() { return fast != null ? lanes.length : padded.length; }

    /**
     * y (oc, oh*ow) at yOff = W x (c, h, w) at xOff + the bias given at construction; lane picks
     * the scratch (one caller thread per lane at a time).
     */
    public void forward(MemorySegment xs, long xOff, MemorySegment ys, long yOff, int lane) {
        if (fast != null) {
            MemorySegment m = lanes[lane];
            SparseConv.pad(xs, xOff, c, h, w, m, 0);
            fast.forward(m, 0, m, outAt, null, 0, false, m, scratchAt);
            SparseConv.unpad(m, outAt, oc, oh, ow, ys, yOff);
            return;
        }
        float[] xp = padded[lane], out = this.out[lane];
        for (int ci = 0; ci < c; ci++) {
            for (int iy = 0; iy < h; iy++) MemorySegment.copy(xs, F, (xOff + ((long) ci * h + iy) * w) * 4, xp, (ci * hp + iy + pad) * wp + pad, w);
        }
        int p = oh * ow;
        long work = ((long) value.length + oc) * p;
        Parallel.RangeBody body = (from, to) -> {
            for (int o = from; o < to; o++) {
                int base = o * p;
                float b = bias == null ? 0f : bias[o];
                java.util.Arrays.fill(out, base, base + p, b);
                for (int q = rowStart[o]; q < rowStart[o + 1]; q++) {
                    float wt = value[q];
                    int src = offset[q];
                    for (int oy = 0; oy < oh; oy++) {
                        int s0 = src + oy * stride * wp, d0 = base + oy * ow;
                        if (stride == 1) {
                            for (int ox = 0; ox < ow; ox++) out[d0 + ox] += wt * xp[s0 + ox];
                        } else {
                            for (int ox = 0; ox < ow; ox++) out[d0 + ox] += wt * xp[s0 + ox * stride];
                        }
                    }
                }
                MemorySegment.copy(out, base, ys, F, (yOff + base) * 4, p);
            }
        };
        if (work < PARALLEL_WORK) body.run(0, oc);
        else Parallel.forRange(oc, 1, body);
    }
}
