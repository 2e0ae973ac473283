package dev.shears.engine.kernels;

import dev.shears.engine.Shape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One convolution (groups 1, square kernel, stride 1 or 2, padding 0 or 1) run straight from its
 * sparse weight over activations kept in the "padded" layout: each channel an (h+2, w+2) plane
 * with a zero border, then {@link #SLACK} floats. Stride 1: output row r at wide position
 * q = oy*(w+2) + ox reads, for each nonzero, the input at a fixed offset + q, so a nonzero is one
 * broadcast-FMA over a contiguous run of the plane (the 2 border columns per row are computed
 * and zeroed); when the output has the input's size the wide rows land in the padded output
 * as they are. Stride 2 first splits the input into its 4 (row, column) parity planes, rows as
 * wide as the output's padded rows, where every tap is again a contiguous run landing in place
 * (other geometries go through a scratch and a row scatter). Epilogue fused: bias (for a
 * folded batch norm), residual in the output's padded layout, ReLU. Single-threaded per call; forward
 * splits into prepare + forwardRows so threads can share one image. No im2col.
 * Not for training. Pinned by SparseConvTest (against a dense convolution on masked weights).
 */
public final class SparseConv {
    private static final SparseConvKernel KERNEL = Twins.pick(SparseConvKernel.class, "SparseConvSimd", SparseConvScalar::new);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Floats every padded buffer holds past its last plane: the wide runs read and write a little past it. */
    public static final int SLACK = 64;

    private final int c, h, w, oc, oh, ow, k, stride, pad;
    private final int[] rowStart, offset; // (oc + 1), (nnz): offsets into the (padded or parity-split) input
    private final float[] value, bias;    // (nnz), (oc) or null
    private final int width, n;           // wide row width, positions computed per output channel
    private final boolean[] valid;        // (n): wide position holds a real output pixel
    private final boolean inPlace;        // wide rows are the padded output's interior rows as they are
    private final int hph, wph, pw;       // stride 2: parity plane height, columns of data, row width (>= wph, zero-filled)
    private final int[] usedChannels;     // stride 2: input channels some nonzero reads (only these are split)

    /**
     * {@code weight} (oc, c*k*k) with columns (ci, ki, kj), {@code bias} (oc) or null, input
     * (c, h, w). Throws naming the geometry when it is not supported ({@link #supports}).
     */
    public SparseConv(SparseMatrix weight, float[] bias, int c, int h, int w, int k, int stride, int pad) {
        if (!supports(k, stride, pad) || c < 1 || h < 1 || w < 1 || h + 2 * pad < k || w + 2 * pad < k) {
            throw new IllegalArgumentException("sparse conv: unsupported geometry input " + Shape.str(c, h, w) + " kernel " + k + " stride " + stride
                    + " padding " + pad + "; expected stride 1 or 2, padding 0 or 1, kernel within the padded input");
        }
        if (weight == null || weight.cols != c * k * k || (bias != null && bias.length != weight.rows)) {
            throw new IllegalArgumentException("sparse conv: weight " + weight + (bias == null ? "" : " and bias of " + bias.length)
                    + " do not fit input channels " + c + " with kernel " + k + "; expected (oc, " + c * k * k + ")");
        }
        this.c = c;
        this.h = h;
        this.w = w;
        this.oc = weight.rows;
        this.k = k;
        this.stride = stride;
        this.pad = pad;
        PaddedGeometry g = PaddedGeometry.of(h, w, k, stride, pad);
        this.oh = g.oh();
        this.ow = g.ow();
        this.rowStart = weight.rowStart.clone();
        this.value = weight.value.clone();
        this.bias = bias == null ? null : bias.clone();
        this.hph = g.hph();
        this.wph = g.wph();
        this.pw = g.pw();
        this.width = g.width();
        this.inPlace = g.inPlace();
        this.n = g.n();
        this.valid = g.valid();
        this.usedChannels = usedChannels(weight.col, c, k * k);
        this.offset = new int[weight.col.length];
        for (int i = 0; i < offset.length; i++) {
            int col = weight.col[i];
            offset[i] = g.offset(col / (k * k), col % (k * k) / k, col % k);
        }
    }

    private static int[] usedChannels(int[] col, int c, int kk) {
        boolean[] used = new boolean[c];
        int count = 0;
        for (int j : col) if (!used[j / kk]) {
            used[j / kk] = true;
            count++;
        }
        int[] out = new int[count];
        for (int ci = 0, i = 0; ci < c; ci++) if (used[ci]) out[i++] = ci;
        return out;
    }

    /** Whether {@link #SparseConv} runs this geometry. */
    public static boolean supports(int k, int stride, int pad) {
        return PaddedGeometry.supports(k, stride, pad);
    }

    /** Floats of a padded (c, h, w) buffer: c planes of (h+2)(w+2), then {@link #SLACK}. */
    public static long paddedFloats(int c, int h, int w) {
        return (long) c * (h + 2) * (w + 2) + SLACK;
    }

    /** Copies compact (c, h, w) at src into the interiors of a padded buffer (its border must be zero already). */
    public static void pad(MemorySegment src, long srcOffset, int c, int h, int w, MemorySegment dst, long dstOffset) {
        int wp = w + 2;
        long plane = (long) (h + 2) * wp;
        for (int ci = 0; ci < c; ci++) KERNEL.copyRows(src, srcOffset + (long) ci * h * w, w, dst, dstOffset + ci * plane + wp + 1, wp, h, w);
    }

    /** Copies a padded buffer's interiors out to compact (c, h, w) at dst. */
    public static void unpad(MemorySegment src, long srcOffset, int c, int h, int w, MemorySegment dst, long dstOffset) {
        int wp = w + 2;
        long plane = (long) (h + 2) * wp;
        for (int ci = 0; ci < c; ci++) KERNEL.copyRows(src, srcOffset + ci * plane + wp + 1, wp, dst, dstOffset + (long) ci * h * w, w, h, w);
    }

    public int outChannels() { return oc; }
    public int outHeight() { return oh; }
    public int outWidth() { return ow; }
    public int nnz() { return value.length; }
    /** Whether {@link #prepare} does anything (stride 2); otherwise {@link #forwardRows} alone is the forward. */
    public boolean needsPrepare() { return stride == 2; }

    /** Floats of scratch {@link #forward} needs: stride 2 its parity planes, other geometries that do not land in place a wide output; 0 otherwise. */
    public long scratchFloats() {
        long parity = stride == 2 ? (long) c * 4 * hph * pw + SLACK : 0;
        return inPlace ? parity : parity + (long) oc * n + SLACK;
    }

    /**
     * y (oc, oh, ow) padded at yOffset = relu?(W x + bias + res): x (c, h, w) padded at xOffset,
     * res null or (oc, oh, ow) padded at resOffset (may be y itself), scratch at least
     * {@link #scratchFloats} floats at scratchOffset (null when 0). y's border stays zero. All
     * segments native; x, y and the scratch must not overlap.
     */
    public void forward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, MemorySegment res, long resOffset,
                        boolean relu, MemorySegment scratch, long scratchOffset) {
        prepare(x, xOffset, scratch, scratchOffset, 0, 1);
        forwardRows(x, xOffset, y, yOffset, res, resOffset, relu, scratch, scratchOffset, 0, oc);
    }

    /**
     * The first half of {@link #forward}, split so threads can share one image: part {@code part}
     * of {@code parts} of the input preparation (stride 2: the parity split of a share of the
     * input channels; nothing otherwise). Every part must be done before any {@link #forwardRows}.
     */
    public void prepare(MemorySegment x, long xOffset, MemorySegment scratch, long scratchOffset, int part, int parts) {
        if (stride != 2) return;
        need("x", x, xOffset, paddedFloats(c, h, w));
        need("scratch", scratch, scratchOffset, scratchFloats());
        if (parts < 1 || part < 0 || part >= parts) throw new IllegalArgumentException("sparse conv: part " + part + " of " + parts);
        int u = usedChannels.length;
        splitParity(x, xOffset, scratch, scratchOffset, u * part / parts, u * (part + 1) / parts);
    }

    /**
     * The second half of {@link #forward} for output channels [rowFrom, rowTo) (arguments as
     * there); disjoint row ranges may run at once on different threads once {@link #prepare} is
     * done.
     */
    public void forwardRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, MemorySegment res, long resOffset,
                            boolean relu, MemorySegment scratch, long scratchOffset, int rowFrom, int rowTo) {
        need("x", x, xOffset, paddedFloats(c, h, w));
        need("y", y, yOffset, paddedFloats(oc, oh, ow));
        if (res != null) need("residual", res, resOffset, paddedFloats(oc, oh, ow));
        if (scratchFloats() > 0) need("scratch", scratch, scratchOffset, scratchFloats());
        if (rowFrom < 0 || rowTo > oc || rowFrom > rowTo) throw new IllegalArgumentException("sparse conv: rows [" + rowFrom + ", " + rowTo + ") of " + oc);
        int wpo = ow + 2;
        long plane = (long) (oh + 2) * wpo;
        long src = xOffset, wide = scratchOffset;
        MemorySegment in = x;
        if (stride == 2) {
            in = scratch;
            src = scratchOffset;
            wide = scratchOffset + (long) c * 4 * hph * pw + SLACK;
        }
        if (inPlace) {
            KERNEL.rows(rowStart, offset, value, bias, rowFrom, rowTo, n, in, src, y, yOffset + wpo + 1, (int) plane,
                    res, resOffset + wpo + 1, (int) plane, relu, valid);
            return;
        }
        KERNEL.rows(rowStart, offset, value, bias, rowFrom, rowTo, n, in, src, scratch, wide, n, null, 0, 0, relu && res == null, null);
        for (int o = rowFrom; o < rowTo; o++) {
            for (int oy = 0; oy < oh; oy++) {
                long from = wide + (long) o * n + (long) oy * width, to = yOffset + o * plane + (long) (oy + 1) * wpo + 1;
                if (res == null) {
                    MemorySegment.copy(scratch, 4 * from, y, 4 * to, 4L * ow);
                } else {
                    long r = resOffset + o * plane + (long) (oy + 1) * wpo + 1;
                    Elementwise.add(scratch, from, res, r, y, to, ow);
                    if (relu) Activations.reluForward(y, to, y, to, ow);
                }
            }
        }
    }

    /**
     * The 4 parity planes of each input channel some nonzero reads (a pruned or depthwise weight
     * reads few): plane (a, b)[i][j] = x[2i + a][2j + b], 0 past the edge; rows pw wide. The
     * planes of unread channels keep whatever they held: only masked-out positions read them.
     */
    private void splitParity(MemorySegment x, long xOffset, MemorySegment out, long outOffset, int usedFrom, int usedTo) {
        long pp = (long) hph * pw;
        for (int u = usedFrom; u < usedTo; u++) {
            int ci = usedChannels[u];
            ParityPlanes.splitChannel(x, xOffset + (long) ci * (h + 2) * (w + 2), h, w, hph, pw, wph, out, outOffset + (long) ci * 4 * pp);
        }
    }

    private static void need(String what, MemorySegment s, long offset, long floats) {
        if (s == null) throw new IllegalArgumentException("sparse conv: " + what + " is null");
        if (offset < 0 || 4 * (offset + floats) > s.byteSize()) {
            throw new IllegalArgumentException("sparse conv: " + what + " needs " + floats + " floats at offset " + offset + " but its segment has "
                    + s.byteSize() / 4);
        }
    }
}
