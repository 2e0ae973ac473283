package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.kernels.Im2colKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of Im2colScalar. "Same" convolutions (stride 1, outW == W: every 3x3 pad-1 layer of
 * a ResNet) map a whole column row onto the input plane shifted by the window cell's offset, so
 * each (channel, cell) row is one pass of whole vectors under a per-cell lane pattern of the
 * pixels that read inside the image (im2col: masked load, zeros elsewhere; col2im: masked
 * load-add-store), with no per-output-row work. Other geometries (strided, or padding that changes
 * the width) stage each input plane into a zero-bordered heap plane and walk it with plain array
 * loops, one bulk copy per column row, because the Vector API has no strided load from a
 * MemorySegment. Same values as the spec bit for bit, col2im adds in the same order.
 * Pinned by Im2colTest.
 */
public final class Im2colSimd implements Im2colKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final long VECTOR_BYTES = S.vectorByteSize();
    private static final FloatVector ZERO = FloatVector.zero(S);

    @Override
    public void im2col(ConvGeometry g, int images, MemorySegment x, long xOffset, long imageStride,
                       MemorySegment cols, long colsOffset, long ldCols) {
        int h = g.height(), w = g.width(), oh = g.outH(), ow = g.outW(), sh = g.strideH(), sw = g.strideW();
        long pixels = g.pixels();
        boolean flat = sh == 1 && sw == 1 && ow == w;
        boolean[][] valid = flat ? masks(g).cells : null;
        Staging staged = flat ? null : STAGING.get().fit(g);
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                if (!flat) stage(g, x, plane, staged);
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        if (flat) {
                            flatCopy(x, plane + (long) (i - g.padH()) * w + (j - g.padW()), cols, row, (int) pixels, valid[i * g.kernelW() + j]);
                            continue;
                        }
                        stagedIm2col(g, i, j, staged, cols, row);
                    }
                }
            }
        }
    }

    @Override
    public void col2im(ConvGeometry g, int images, MemorySegment cols, long colsOffset, long ldCols,
                       MemorySegment x, long xOffset, long imageStride) {
        int h = g.height(), w = g.width(), oh = g.outH(), ow = g.outW(), sh = g.strideH(), sw = g.strideW();
        long pixels = g.pixels();
        boolean flat = sh == 1 && sw == 1 && ow == w;
        int cells = g.kernelH() * g.kernelW();
        boolean[][] reads = flat ? masks(g).inputs() : null;
        long[] shifts = new long[cells];
        for (int i = 0; i < g.kernelH(); i++) for (int j = 0; j < g.kernelW(); j++) shifts[i * g.kernelW() + j] = (long) (i - g.padH()) * w + (j - g.padW());
        Staging staged = flat ? null : STAGING.get().fit(g);
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                if (flat) {
                    flatGatherAdd(cols, colsOffset + (long) c * cells * ldCols + n * pixels, ldCols, x, plane, h * w, reads, shifts);
                    continue;
                }
                stage(g, x, plane, staged);
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        stagedCol2im(g, i, j, staged, cols, row);
                    }
                }
                unstage(g, staged, x, plane);
            }
        }
    }

    /**
     * Per-thread heap scratch of the staged path: one input plane with padH zero rows above and
     * below (row stride W: the plane moves in one bulk copy; columns outside the image are handled
     * by each cell's column bounds) and one column row (outH x outW). Plain float[] loops over it
     * have no MemorySegment access cost per element (strided reads cannot be vector loads from a
     * segment, and per-row segment copies cost more than the loops).
     */
    private static final class Staging {
        float[] padded = new float[0], row = new float[0];

        Staging fit(ConvGeometry g) {
            int planeFloats = (g.height() + 2 * g.padH()) * g.width(), rowFloats = g.outH() * g.outW();
            if (padded.length < planeFloats) padded = new float[planeFloats];
            if (row.length < rowFloats) row = new float[rowFloats];
            return this;
        }
    }

    private static final ThreadLocal<Staging> STAGING = ThreadLocal.withInitial(Staging::new);

    /** The plane at {@code plane} between padH zero rows above and below, in one copy. */
    private static void stage(ConvGeometry g, MemorySegment x, long plane, Staging st) {
        int h = g.height(), w = g.width(), top = g.padH() * w;
        float[] p = st.padded;
        java.util.Arrays.fill(p, 0, top, 0f);
        MemorySegment.copy(x, F, plane * 4, p, top, h * w);
        java.util.Arrays.fill(p, top + h * w, top + h * w + top, 0f);
    }

    /** The staged plane back into the plane at {@code plane}, in one copy (the zero rows are dropped). */
    private static void unstage(ConvGeometry g, Staging st, MemorySegment x, long plane) {
        MemorySegment.copy(st.padded, g.padH() * g.width(), x, F, plane * 4, g.height() * g.width());
    }

    /** Column row of window cell (i, j) from the staged plane (rows above and below read its zero rows), then one bulk copy out. */
    private static void stagedIm2col(ConvGeometry g, int i, int j, Staging st, MemorySegment cols, long row) {
        int oh = g.outH(), ow = g.outW(), sh = g.strideH(), sw = g.strideW(), w = g.width();
        int oxLo = firstInside(g.padW() - j, sw, ow), oxHi = endInside(w - 1 + g.padW() - j, sw, ow, oxLo);
        float[] p = st.padded, r = st.row;
        for (int oy = 0; oy < oh; oy++) {
            int base = (oy * sh + i) * w + j - g.padW(), o = oy * ow; // staged row oy*sh + i = image row + padH
            for (int ox = 0; ox < oxLo; ox++) r[o + ox] = 0f;
            for (int ox = oxLo; ox < oxHi; ox++) r[o + ox] = p[base + ox * sw];
            for (int ox = oxHi; ox < ow; ox++) r[o + ox] = 0f;
        }
        MemorySegment.copy(r, 0, cols, F, row * 4, oh * ow);
    }

    /** Column row of window cell (i, j) added into the staged plane, pixel by pixel in the spec's (i, j) order (padding dropped). */
    private static void stagedCol2im(ConvGeometry g, int i, int j, Staging st, MemorySegment cols, long row) {
        int h = g.height(), oh = g.outH(), ow = g.outW(), sh = g.strideH(), sw = g.strideW(), w = g.width();
        int oyLo = firstInside(g.padH() - i, sh, oh), oyHi = endInside(h - 1 + g.padH() - i, sh, oh, oyLo);
        int oxLo = firstInside(g.padW() - j, sw, ow), oxHi = endInside(w - 1 + g.padW() - j, sw, ow, oxLo);
        float[] p = st.padded, r = st.row;
        MemorySegment.copy(cols, F, row * 4, r, 0, oh * ow);
        for (int oy = oyLo; oy < oyHi; oy++) {
            int base = (oy * sh + i) * w + j - g.padW(), o = oy * ow;
            for (int ox = oxLo; ox < oxHi; ox++) p[base + ox * sw] += r[o + ox];
        }
    }

    /**
     * The lane patterns of the last geometry this thread saw: a layer calls once per chunk of its
     * batch with the same geometry, so building them per call was allocation and work per chunk.
     */
    private static final class Masks {
        ConvGeometry g;
        boolean[][] cells, inputs;

        boolean[][] inputs() {
            if (inputs == null) inputs = validInputs(g, cells);
            return inputs;
        }
    }

    private static final ThreadLocal<Masks> MASKS = ThreadLocal.withInitial(Masks::new);

    private static Masks masks(ConvGeometry g) {
        Masks m = MASKS.get();
        if (!g.equals(m.g)) {
            m.cells = validCells(g);
            m.inputs = null;
            m.g = g;
        }
        return m;
    }

    /**
     * Per window cell (i, j), the lane pattern of its column row: entry q (an output pixel) says
     * whether it reads a real pixel (inside rows and columns), false past the last pixel; length
     * pixels + lanes, so a mask loads at any q.
     */
    private static boolean[][] validCells(ConvGeometry g) {
        int oh = g.outH(), ow = g.outW(), pixels = oh * ow;
        boolean[][] valid = new boolean[g.kernelH() * g.kernelW()][pixels + S.length()];
        for (int i = 0; i < g.kernelH(); i++) {
            int oyLo = firstInside(g.padH() - i, 1, oh), oyHi = endInside(g.height() - 1 + g.padH() - i, 1, oh, oyLo);
            for (int j = 0; j < g.kernelW(); j++) {
                int oxLo = firstInside(g.padW() - j, 1, ow), oxHi = endInside(g.width() - 1 + g.padW() - j, 1, ow, oxLo);
                boolean[] v = valid[i * g.kernelW() + j];
                for (int oy = oyLo; oy < oyHi; oy++) for (int ox = oxLo; ox < oxHi; ox++) v[oy * ow + ox] = true;
            }
        }
        return valid;
    }

    /**
     * cols[dst + q] = valid[q] ? x[src + q] : 0 for q in [0, pixels): whole vectors with the cell's
     * mask, so padding costs nothing extra. Masked-off lanes are never read (they may lie outside
     * the plane: the wrapped edge columns and the rows above and below).
     */
    private static void flatCopy(MemorySegment x, long src, MemorySegment cols, long dst, int pixels, boolean[] valid) {
        int q = 0, bound = S.loopBound(pixels);
        long last = x.byteSize() - VECTOR_BYTES;
        for (; q < bound; q += S.length()) { // body
            VectorMask<Float> m = VectorMask.fromArray(S, valid, q);
            long at = (src + q) * 4;
            FloatVector v;
            if (m.allTrue()) v = FloatVector.fromMemorySegment(S, x, at, ORDER);
            // inside the segment: a plain load and a blend (a masked load is far slower, and once one
            // reaches past the segment's ends C2 falls back to a per-lane path)
            else if (at >= 0 && at <= last) v = ZERO.blend(FloatVector.fromMemorySegment(S, x, at, ORDER), m);
            else v = FloatVector.fromMemorySegment(S, x, at, ORDER, m);
            v.intoMemorySegment(cols, (dst + q) * 4, ORDER);
        }
        if (q < pixels) { // tail: the pattern is false past the row; the store stops at the row's end
            VectorMask<Float> m = VectorMask.fromArray(S, valid, q);
            FloatVector.fromMemorySegment(S, x, (src + q) * 4, ORDER, m).intoMemorySegment(cols, (dst + q) * 4, ORDER, S.indexInRange(q, pixels));
        }
    }

    /**
     * The cells' patterns moved to input space: entry t of cell (i, j) says whether input pixel t
     * receives that cell's column entry t - shift (shift = (i - padH) W + (j - padW)); false past
     * the plane, length H W + lanes.
     */
    private static boolean[][] validInputs(ConvGeometry g, boolean[][] valid) {
        int hw = g.height() * g.width(), pixels = g.outH() * g.outW();
        boolean[][] reads = new boolean[valid.length][hw + S.length()];
        for (int i = 0; i < g.kernelH(); i++) {
            for (int j = 0; j < g.kernelW(); j++) {
                int cell = i * g.kernelW() + j, shift = (i - g.padH()) * g.width() + (j - g.padW());
                for (int t = 0; t < hw; t++) reads[cell][t] = t - shift >= 0 && t - shift < pixels && valid[cell][t - shift];
            }
        }
        return reads;
    }

    /**
     * One plane of col2im for a flat geometry: each vector of input pixels is loaded once, gets the
     * cells' column entries added in the spec's (i, j) order (masked loads and adds: a pixel a cell
     * does not reach gets no addition at all), and is stored once, instead of one read-add-write
     * pass over the plane per cell.
     */
    private static void flatGatherAdd(MemorySegment cols, long rows, long ldCols, MemorySegment x, long plane, int hw, boolean[][] reads, long[] shifts) {
        long last = cols.byteSize() - VECTOR_BYTES;
        for (int t = 0; t < hw; t += S.length()) {
            boolean whole = t + S.length() <= hw;
            VectorMask<Float> in = whole ? null : S.indexInRange(t, hw); // tail: the last partial vector of the plane
            FloatVector acc = whole ? FloatVector.fromMemorySegment(S, x, (plane + t) * 4, ORDER) : FloatVector.fromMemorySegment(S, x, (plane + t) * 4, ORDER, in);
            for (int cell = 0; cell < reads.length; cell++) {
                VectorMask<Float> m = VectorMask.fromArray(S, reads[cell], t);
                long at = (rows + cell * ldCols + t - shifts[cell]) * 4;
                if (m.allTrue()) acc = acc.add(FloatVector.fromMemorySegment(S, cols, at, ORDER));
                else if (at >= 0 && at <= last) acc = acc.add(FloatVector.fromMemorySegment(S, cols, at, ORDER), m); // plain load, masked add
                else acc = acc.add(FloatVector.fromMemorySegment(S, cols, at, ORDER, m), m);
            }
            if (whole) acc.intoMemorySegment(x, (plane + t) * 4, ORDER);
            else acc.intoMemorySegment(x, (plane + t) * 4, ORDER, in);
        }
    }

    /** First output index o with {@code o * stride >= before} (the padding to skip), clamped to [0, out]. */
    private static int firstInside(int before, int stride, int out) {
        return before <= 0 ? 0 : Math.min(out, Math.ceilDiv(before, stride));
    }

    /** One past the last output index o with {@code o * stride <= last}, clamped to [lo, out]. */
    private static int endInside(int last, int stride, int out, int lo) {
        if (last < 0) return lo;
        return Math.max(lo, Math.min(out, last / stride + 1));
    }
}
