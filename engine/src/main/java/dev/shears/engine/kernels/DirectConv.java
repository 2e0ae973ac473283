package dev.shears.engine.kernels;

import dev.shears.engine.Shape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One dense convolution (groups 1 or depthwise, square kernel, stride 1 or 2, padding 0 or 1) run
 * directly over activations in the padded layout of {@link SparseConv} (each channel an
 * (h+2, w+2) plane with a zero border, then {@link SparseConv#SLACK} floats): an implicit GEMM
 * whose reduction index (input channel, tap) reads the input at a fixed offset from the output's
 * wide position q = oy*(w+2) + ox, so a 1x1 convolution is a GEMM straight on the activations and
 * a 3x3 one needs no im2col. Stride 2 first splits the input into 4 (row, column) parity planes
 * whose rows are as wide as the output's padded rows (the taps are contiguous runs again). The
 * wide rows land in the padded output in place (the border columns computed and zeroed); other
 * geometries go through a scratch and a row copy. Epilogue fused: bias (a folded batch norm),
 * residual, ReLU. A 1x1 stride-1 layer may instead route through the engine's GEMM on the
 * activations ({@link #useGemm}; the caller times both). Work splits into parts (output channel
 * blocks, or position blocks when the input outweighs the weight) for the caller's threads.
 * Not for training; not grouped
 * convolutions other than depthwise. Pinned by DirectConvTest (twins against each other and a
 * double-precision convolution).
 */
public final class DirectConv {
    private static final DirectConvKernel KERNEL = Twins.pick(DirectConvKernel.class, "DirectConvSimd", DirectConvScalar::new);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int ROWS = DirectConvKernel.ROWS;
    /** Parts split by positions are multiples of this many positions (3 vectors at 512 bits). */
    private static final int POSITION_BLOCK = 48;

    private final DirectConvKernel kernel;
    private final int c, h, w, oc, oh, ow, k, stride, pad;
    private final boolean depthwise;
    private final float[] weight, bias;   // dense: packed (ceil(oc / ROWS) * ROWS, c*k*k) in ROWS blocks; depthwise (c, k*k)
    private final int[] offset;           // (c*k*k) dense, (k*k) depthwise: offsets into the (padded or parity-split) input
    private final int kn;                 // reduction length per output channel
    private final int width, n;           // wide row width, positions computed per output channel
    private final boolean[] valid;        // (n): wide position holds a real output pixel
    private final boolean inPlace;        // wide rows are the padded output's interior rows as they are
    private final int hph, wph, pw;       // stride 2: parity plane height, columns of data, row width (>= wph, zero-filled)
    private final boolean byPositions;    // parts split positions (input larger than weight) rather than channels
    private MemorySegment gemmWeight;     // (oc, c) native, once useGemm(true) chose the GEMM route of a 1x1 stride-1 convolution
    private boolean gemm;

    /**
     * {@code weight} (oc, c/groups, k, k) row-major, {@code bias} (oc) or null, input (c, h, w);
     * {@code groups} 1 or c (depthwise, then oc == c). Throws naming the geometry when it is not
     * supported ({@link #supports}).
     */
    public DirectConv(float[] weight, float[] bias, int c, int h, int w, int oc, int k, int stride, int pad, int groups) {
        this(weight, bias, c, h, w, oc, k, stride, pad, groups, KERNEL);
    }

    /** As above with a given twin (tests run both). */
    public DirectConv(float[] weight, float[] bias, int c, int h, int w, int oc, int k, int stride, int pad, int groups, DirectConvKernel kernel) {
        if (!supports(k, stride, pad) || c < 1 || h < 1 || w < 1 || oc < 1 || h + 2 * pad < k || w + 2 * pad < k) {
            throw new IllegalArgumentException("direct conv: unsupported geometry input " + Shape.str(c, h, w) + " kernel " + k + " stride " + stride
                    + " padding " + pad + "; expected stride 1 or 2, padding 0 or 1, kernel within the padded input");
        }
        this.depthwise = groups != 1;
        if (depthwise && (groups != c || oc != c)) {
            throw new IllegalArgumentException("direct conv: groups " + groups + " with " + c + " input and " + oc + " output channels; expected 1 or depthwise");
        }
        int kk = k * k, per = depthwise ? 1 : c;
        if (weight == null || weight.length != (long) oc * per * kk || (bias != null && bias.length != oc)) {
            throw new IllegalArgumentException("direct conv: weight of " + (weight == null ? "null" : weight.length) + " floats" + (bias == null ? "" : " and bias of " + bias.length)
                    + " do not fit " + Shape.str(oc, per, k, k));
        }
        this.kernel = kernel;
        this.c = c;
        this.h = h;
        this.w = w;
        this.oc = oc;
        this.k = k;
        this.stride = stride;
        this.pad = pad;
        PaddedGeometry g = PaddedGeometry.of(h, w, k, stride, pad);
        this.oh = g.oh();
        this.ow = g.ow();
        this.bias = bias == null ? null : bias.clone();
        this.hph = g.hph();
        this.wph = g.wph();
        this.pw = g.pw();
        this.width = g.width();
        this.inPlace = g.inPlace();
        this.n = g.n();
        this.valid = g.valid();
        this.kn = depthwise ? kk : c * kk;
        this.offset = new int[kn];
        for (int j = 0; j < kn; j++) offset[j] = g.offset(depthwise ? 0 : j / kk, j % kk / k, j % k);
        if (depthwise) {
            this.weight = weight.clone();
        } else {
            int blocks = (oc + ROWS - 1) / ROWS;
            this.weight = new float[blocks * ROWS * kn]; // rows past oc stay zero
            for (int o = 0; o < oc; o++) for (int j = 0; j < kn; j++) this.weight[((o / ROWS) * kn + j) * ROWS + o % ROWS] = weight[o * kn + j];
        }
        this.byPositions = !depthwise && inPlace && (long) c * n > (long) oc * kn && n >= 2 * POSITION_BLOCK;
    }

    /** Copies compact (c, h, w) at src into the interiors of a padded buffer (its border must be zero already), a row at a time. */
    public static void pad(MemorySegment src, long srcOffset, int c, int h, int w, MemorySegment dst, long dstOffset) {
        int wp = w + 2;
        long plane = (long) (h + 2) * wp;
        for (int ci = 0; ci < c; ci++) {
            for (int y = 0; y < h; y++) Elementwise.copy(src, srcOffset + ((long) ci * h + y) * w, dst, dstOffset + ci * plane + (long) (y + 1) * wp + 1, w);
        }
    }

    /** Whether the GEMM route applies: a dense 1x1, stride-1, unpadded convolution is a GEMM on the padded activations as they are. */
    public boolean gemmCapable() {
        return !depthwise && k == 1 && stride == 1 && pad == 0;
    }

    /**
     * Routes a {@link #gemmCapable} convolution through the engine's GEMM ({@link Gemm}: packed
     * panels, its own micro-kernel) followed by the epilogue pass, or back to the direct kernel;
     * callers time both and keep the faster.
     */
    public void useGemm(boolean on) {
        if (on && !gemmCapable()) throw new IllegalArgumentException("direct conv: the GEMM route needs a dense 1x1 stride-1 unpadded convolution, not kernel " + k + " stride " + stride + " padding " + pad + (depthwise ? " depthwise" : ""));
        if (on && gemmWeight == null) {
            float[] w = new float[oc * c];
            for (int o = 0; o < oc; o++) for (int ci = 0; ci < c; ci++) w[o * c + ci] = weight[((o / ROWS) * kn + ci) * ROWS + o % ROWS];
            gemmWeight = java.lang.foreign.Arena.ofAuto().allocate(4L * w.length, 64);
            MemorySegment.copy(w, 0, gemmWeight, F, 0, w.length);
        }
        gemm = on;
    }

    /** Whether the GEMM route is on. */
    public boolean usesGemm() { return gemm; }

    /** Whether {@link #DirectConv} runs this geometry. */
    public static boolean supports(int k, int stride, int pad) {
        return PaddedGeometry.supports(k, stride, pad);
    }

    public int outChannels() { return oc; }
    public int outHeight() { return oh; }
    public int outWidth() { return ow; }
    /** Multiply-adds per image. */
    public long macs() { return (long) oc * oh * ow * kn; }

    /** Floats of scratch {@link #forward} needs: stride 2 its parity planes, geometries that do not land in place a wide output; 0 otherwise. */
    public long scratchFloats() {
        long parity = stride == 2 ? parityFloats() : 0;
        return inPlace ? parity : parity + (long) oc * n + SparseConv.SLACK;
    }

    /**
     * Stride 2 parity planes: dense, every channel's (split once, read by every output channel);
     * depthwise, one channel per part at a time (each read once: splitting all channels first
     * wrote and re-read a scratch larger than L2).
     */
    private long parityFloats() {
        long one = 4L * hph * pw;
        return (depthwise ? MAX_PARTS * (one + SparseConv.SLACK) : c * one) + SparseConv.SLACK;
    }

    /** The most parts {@link #compute} may be split into (a depthwise stride-2 convolution keeps one parity scratch per part). */
    public static final int MAX_PARTS = 8;

    /** Whether {@link #split} must run (on every part) before {@link #compute}: dense stride 2. */
    public boolean needsSplit() { return stride == 2 && !depthwise; }

    /**
     * y (oc, oh, ow) padded at yOffset = relu?(conv(x) + bias + res): x (c, h, w) padded at
     * xOffset, res null or (oc, oh, ow) padded at resOffset, scratch at least
     * {@link #scratchFloats} floats at scratchOffset (null when 0). y's border stays zero. All
     * segments native; x, y and the scratch must not overlap.
     */
    public void forward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, MemorySegment res, long resOffset,
                        boolean relu, MemorySegment scratch, long scratchOffset) {
        check(x, xOffset, y, yOffset, res, resOffset, scratch, scratchOffset);
        if (needsSplit()) split(x, xOffset, scratch, scratchOffset, 0, 1);
        compute(x, xOffset, y, yOffset, res, resOffset, relu, scratch, scratchOffset, 0, 1);
    }

    /** Checks the segments {@link #forward} would use (callers of split/compute check once). */
    public void check(MemorySegment x, long xOffset, MemorySegment y, long yOffset, MemorySegment res, long resOffset, MemorySegment scratch, long scratchOffset) {
        need("x", x, xOffset, SparseConv.paddedFloats(c, h, w));
        need("y", y, yOffset, SparseConv.paddedFloats(oc, oh, ow));
        if (res != null) need("residual", res, resOffset, SparseConv.paddedFloats(oc, oh, ow));
        if (scratchFloats() > 0) need("scratch", scratch, scratchOffset, scratchFloats());
    }

    /**
     * Stride 2: the 4 parity planes of input channels [c*part/parts, c*(part+1)/parts) into the
     * scratch: plane (a, b)[i][j] = x[2i + a][2j + b], 0 past the edge; rows pw wide.
     */
    public void split(MemorySegment x, long xOffset, MemorySegment out, long outOffset, int part, int parts) {
        if (!needsSplit()) return;
        for (int ci = c * part / parts; ci < c * (part + 1) / parts; ci++) splitChannel(x, xOffset, ci, out, outOffset + (long) ci * 4 * hph * pw);
        if (part == parts - 1) out.asSlice(4 * (outOffset + parityFloats() - SparseConv.SLACK), 4L * SparseConv.SLACK).fill((byte) 0);
    }

    /** Channel ci's 4 parity planes (hph rows of pw) at {@code base}. */
    private void splitChannel(MemorySegment x, long xOffset, int ci, MemorySegment out, long base) {
        ParityPlanes.splitChannel(x, xOffset + (long) ci * (h + 2) * (w + 2), h, w, hph, pw, wph, out, base);
    }

    /** Part {@code part} of {@code parts} of the convolution (after {@link #split} of every part, for stride 2); arguments as {@link #forward}. */
    public void compute(MemorySegment x, long xOffset, MemorySegment y, long yOffset, MemorySegment res, long resOffset,
                        boolean relu, MemorySegment scratch, long scratchOffset, int part, int parts) {
        int wpo = ow + 2;
        int plane = (oh + 2) * wpo;
        MemorySegment in = x;
        long src = xOffset, wide = scratchOffset;
        if (stride == 2) {
            in = scratch;
            src = scratchOffset;
            wide = scratchOffset + parityFloats();
        }
        int units = depthwise ? oc : byPositions ? (n + POSITION_BLOCK - 1) / POSITION_BLOCK : (oc + ROWS - 1) / ROWS;
        int u0 = (int) ((long) units * part / parts), u1 = (int) ((long) units * (part + 1) / parts);
        int o0 = 0, o1 = oc, q0 = 0, q1 = n;
        if (byPositions) {
            q0 = u0 * POSITION_BLOCK;
            q1 = Math.min(n, u1 * POSITION_BLOCK);
        } else if (depthwise) {
            o0 = u0;
            o1 = u1;
        } else {
            o0 = u0 * ROWS;
            o1 = Math.min(oc, u1 * ROWS);
        }
        if (o0 >= o1 || q0 >= q1) return;
        if (depthwise && stride == 2) { // a channel at a time: split it into this part's scratch, then its taps over the planes
            if (parts > MAX_PARTS) throw new IllegalArgumentException("direct conv: " + parts + " parts, at most " + MAX_PARTS);
            long region = scratchOffset + (long) part * (4L * hph * pw + SparseConv.SLACK);
            for (int ch = o0; ch < o1; ch++) {
                splitChannel(x, xOffset, ch, scratch, region);
                if (inPlace) {
                    kernel.depthwise(weight, kn, offset, bias, ch, ch + 1, 0, n, scratch, region, 0, y, yOffset + wpo + 1, plane,
                            res, resOffset + wpo + 1, plane, relu, valid);
                } else {
                    kernel.depthwise(weight, kn, offset, bias, ch, ch + 1, 0, n, scratch, region, 0, scratch, wide, n, null, 0, 0, relu && res == null, null);
                }
            }
            if (!inPlace) scatter(y, yOffset, res, resOffset, relu, scratch, wide, o0, o1);
            return;
        }
        if (gemm) { // in place by construction (1x1, stride 1, no padding): y's wide rows = W x's wide rows
            long yi = yOffset + wpo + 1;
            Gemm.sgemm(false, false, o1 - o0, q1 - q0, c, 1f, gemmWeight, (long) o0 * c, c, x, xOffset + wpo + 1 + q0, plane,
                    0f, y, yi + (long) o0 * plane + q0, plane);
            kernel.epilogue(bias, o0, o1, q0, q1, y, yi, plane, res, resOffset + wpo + 1, plane, relu, valid);
            return;
        }
        if (inPlace) {
            run(in, src, o0, o1, q0, q1, y, yOffset + wpo + 1, plane, res, resOffset + wpo + 1, plane, relu, valid);
            return;
        }
        run(in, src, o0, o1, 0, n, scratch, wide, n, null, 0, 0, relu && res == null, null);
        scatter(y, yOffset, res, resOffset, relu, scratch, wide, o0, o1);
    }

    /** Rows [o0, o1) of a wide output at {@code wide} in the scratch into y's padded planes, + residual, ReLU (when there is a residual). */
    private void scatter(MemorySegment y, long yOffset, MemorySegment res, long resOffset, boolean relu, MemorySegment scratch, long wide, int o0, int o1) {
        int wpo = ow + 2;
        int plane = (oh + 2) * wpo;
        for (int o = o0; o < o1; o++) {
            for (int oy = 0; oy < oh; oy++) {
                long from = wide + (long) o * n + (long) oy * width, to = yOffset + (long) o * plane + (long) (oy + 1) * wpo + 1;
                if (res == null) {
                    MemorySegment.copy(scratch, 4 * from, y, 4 * to, 4L * ow);
                } else {
                    long r = resOffset + (long) o * plane + (long) (oy + 1) * wpo + 1;
                    Elementwise.add(scratch, from, res, r, y, to, ow);
                    if (relu) Activations.reluForward(y, to, y, to, ow);
                }
            }
        }
    }

    private void run(MemorySegment in, long src, int o0, int o1, int q0, int q1, MemorySegment y, long yOffset, int ldy,
                     MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        if (depthwise) {
            long ldx = stride == 1 ? (long) (h + 2) * (w + 2) : 4L * hph * pw;
            kernel.depthwise(weight, kn, offset, bias, o0, o1, q0, q1, in, src, ldx, y, yOffset, ldy, res, resOffset, ldr, relu, valid);
        } else {
            kernel.dense(weight, kn, offset, bias, o0, o1, q0, q1, in, src, y, yOffset, ldy, res, resOffset, ldr, relu, valid);
        }
    }

    private static void need(String what, MemorySegment s, long offset, long floats) {
        if (s == null) throw new IllegalArgumentException("direct conv: " + what + " is null");
        if (offset < 0 || 4 * (offset + floats) > s.byteSize()) {
            throw new IllegalArgumentException("direct conv: " + what + " needs " + floats + " floats at offset " + offset + " but its segment has "
                    + s.byteSize() / 4);
        }
    }
}
