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
 * SIMD twin of Im2colScalar. Per (channel, window cell) it computes once which output rows and
 * columns fall inside the image. "Same" convolutions (stride 1, outW == W: every 3x3 pad-1 layer
 * of a ResNet) map a whole column row onto one flat run of the input plane shifted by the cell's
 * offset, so each (channel, cell) row is one long vector pass with a periodic lane mask that
 * drops the wrapped edge columns (im2col: masked load = zeros there; col2im: masked add). Other
 * geometries (strided, or padding that changes the width) stage each input plane into a
 * zero-bordered heap plane and walk it with plain array loops, one bulk copy per column row, because
 * the Vector API has no strided load from a MemorySegment. Same values as the spec bit for bit,
 * col2im adds in the same order. Pinned by Im2colTest.
 */
public final class Im2colSimd implements Im2colKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void im2col(ConvGeometry g, int images, MemorySegment x, long xOffset, long imageStride,
                       MemorySegment cols, long colsOffset, long ldCols) {
        int h = g.height(), w = g.width(), oh = g.outH(), ow = g.outW(), sh = g.strideH(), sw = g.strideW();
        long pixels = g.pixels();
        boolean flat = sh == 1 && sw == 1 && ow == w;
        boolean[][] valid = flat ? validColumns(g) : null;
        Staging staged = flat ? null : STAGING.get().fit(g);
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                if (!flat) stage(g, x, plane, staged);
                for (int i = 0; i < g.kernelH(); i++) {
                    int oyLo = firstInside(g.padH() - i, sh, oh), oyHi = endInside(h - 1 + g.padH() - i, sh, oh, oyLo);
                    for (int j = 0; j < g.kernelW(); j++) {
                        int oxLo = firstInside(g.padW() - j, sw, ow), oxHi = endInside(w - 1 + g.padW() - j, sw, ow, oxLo);
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        if (flat) {
                            // zeros above, one masked flat run over the inside rows, zeros below
                            int q0 = oyLo < oyHi && oxLo < oxHi ? oyLo * ow + oxLo : (int) pixels;
                            int q1 = q0 < pixels ? (oyHi - 1) * ow + oxHi : (int) pixels;
                            long shift = (long) (i - g.padH()) * w + (j - g.padW());
                            zero(cols, row, q0);
                            if (oxLo == 0 && oxHi == ow) copy(x, plane + shift + q0, cols, row + q0, q1 - q0);
                            else maskedCopy(x, plane + shift, cols, row, q0, q1, valid[j], ow);
                            zero(cols, row + q1, (int) pixels - q1);
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
        boolean[][] valid = flat ? validColumns(g) : null;
        Staging staged = flat ? null : STAGING.get().fit(g);
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                if (!flat) stage(g, x, plane, staged);
                for (int i = 0; i < g.kernelH(); i++) {
                    int oyLo = firstInside(g.padH() - i, sh, oh), oyHi = endInside(h - 1 + g.padH() - i, sh, oh, oyLo);
                    for (int j = 0; j < g.kernelW(); j++) {
                        int oxLo = firstInside(g.padW() - j, sw, ow), oxHi = endInside(w - 1 + g.padW() - j, sw, ow, oxLo);
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        if (flat) {
                            // one masked flat run over the inside rows; the wrapped edge columns are skipped
                            if (oyLo >= oyHi || oxLo >= oxHi) continue;
                            int q0 = oyLo * ow + oxLo, q1 = (oyHi - 1) * ow + oxHi;
                            long shift = (long) (i - g.padH()) * w + (j - g.padW());
                            if (oxLo == 0 && oxHi == ow) addInto(cols, row + q0, x, plane + shift + q0, q1 - q0);
                            else maskedAddInto(cols, row, x, plane + shift, q0, q1, valid[j], ow);
                            continue;
                        }
                        stagedCol2im(g, i, j, staged, cols, row);
                    }
                }
                if (!flat) unstage(g, staged, x, plane);
            }
        }
    }

    /**
     * Per-thread heap scratch of the staged path: one zero-bordered input plane
     * ((H + 2 padH) x (W + 2 padW)) and one column row (outH x outW). Plain float[] loops over it
     * have no bounds test per element and no MemorySegment access cost (strided reads cannot be
     * vector loads from a segment).
     */
    private static final class Staging {
        float[] padded = new float[0], row = new float[0];

        Staging fit(ConvGeometry g) {
            int planeFloats = (g.height() + 2 * g.padH()) * (g.width() + 2 * g.padW()), rowFloats = g.outH() * g.outW();
            if (padded.length < planeFloats) padded = new float[planeFloats];
            if (row.length < rowFloats) row = new float[rowFloats];
            return this;
        }
    }

    private static final ThreadLocal<Staging> STAGING = ThreadLocal.withInitial(Staging::new);

    /** The plane at {@code plane} into the interior of the zero-bordered staging plane. */
    private static void stage(ConvGeometry g, MemorySegment x, long plane, Staging st) {
        int h = g.height(), w = g.width(), wp = w + 2 * g.padW(), hp = h + 2 * g.padH();
        float[] p = st.padded;
        java.util.Arrays.fill(p, 0, g.padH() * wp, 0f);
        java.util.Arrays.fill(p, (g.padH() + h) * wp, hp * wp, 0f);
        for (int y = 0; y < h; y++) {
            int at = (y + g.padH()) * wp;
            java.util.Arrays.fill(p, at, at + g.padW(), 0f);
            MemorySegment.copy(x, F, (plane + (long) y * w) * 4, p, at + g.padW(), w);
            java.util.Arrays.fill(p, at + g.padW() + w, at + wp, 0f);
        }
    }

    /** The staging plane's interior back into the plane at {@code plane} (its border, the padding, is dropped). */
    private static void unstage(ConvGeometry g, Staging st, MemorySegment x, long plane) {
        int h = g.height(), w = g.width(), wp = w + 2 * g.padW();
        for (int y = 0; y < h; y++) MemorySegment.copy(st.padded, (y + g.padH()) * wp + g.padW(), x, F, (plane + (long) y * w) * 4, w);
    }

    /** Column row of window cell (i, j) read from the staged plane (zeros come from its border), then one bulk copy out. */
    private static void stagedIm2col(ConvGeometry g, int i, int j, Staging st, MemorySegment cols, long row) {
        int oh = g.outH(), ow = g.outW(), sh = g.strideH(), sw = g.strideW(), wp = g.width() + 2 * g.padW();
        float[] p = st.padded, r = st.row;
        for (int oy = 0; oy < oh; oy++) {
            int base = (oy * sh + i) * wp + j, o = oy * ow;
            for (int ox = 0; ox < ow; ox++) r[o + ox] = p[base + ox * sw];
        }
        MemorySegment.copy(r, 0, cols, F, row * 4, oh * ow);
    }

    /** Column row of window cell (i, j) added into the staged plane, pixel by pixel in the spec's (i, j) order. */
    private static void stagedCol2im(ConvGeometry g, int i, int j, Staging st, MemorySegment cols, long row) {
        int oh = g.outH(), ow = g.outW(), sh = g.strideH(), sw = g.strideW(), wp = g.width() + 2 * g.padW();
        float[] p = st.padded, r = st.row;
        MemorySegment.copy(cols, F, row * 4, r, 0, oh * ow);
        for (int oy = 0; oy < oh; oy++) {
            int base = (oy * sh + i) * wp + j, o = oy * ow;
            for (int ox = 0; ox < ow; ox++) p[base + ox * sw] += r[o + ox];
        }
    }

    /**
     * Per window column j, a lane pattern of the output columns inside the image: entry t says
     * whether output column {@code t mod outW} reads a real pixel. Length outW + lanes, so a mask
     * can be loaded at any phase in [0, outW).
     */
    private static boolean[][] validColumns(ConvGeometry g) {
        int ow = g.outW();
        boolean[][] valid = new boolean[g.kernelW()][ow + S.length()];
        for (int j = 0; j < g.kernelW(); j++) {
            int lo = firstInside(g.padW() - j, 1, ow), hi = endInside(g.width() - 1 + g.padW() - j, 1, ow, lo);
            for (int t = 0; t < valid[j].length; t++) valid[j][t] = t % ow >= lo && t % ow < hi;
        }
        return valid;
    }

    /**
     * cols[dst + q] = valid(q mod period) ? x[src + q] : 0 for q in [q0, q1). Every q in the run maps
     * inside the plane (its ends are real pixels), so the loads never leave it.
     */
    private static void maskedCopy(MemorySegment x, long src, MemorySegment cols, long dst, int q0, int q1, boolean[] valid, int period) {
        int len = q1 - q0, step = S.length(), phase = q0 % period, q = q0;
        // body: one vector per step, the mask re-read at the run's phase (period may be below the lane count)
        for (int end = q0 + (len / step) * step; q < end; q += step) {
            VectorMask<Float> m = VectorMask.fromArray(S, valid, phase);
            FloatVector.fromMemorySegment(S, x, (src + q) * 4, ORDER, m).intoMemorySegment(cols, (dst + q) * 4, ORDER);
            phase = (phase + step) % period;
        }
        // tail: in-range lanes only
        if (q < q1) {
            VectorMask<Float> in = S.indexInRange(q, q1);
            FloatVector.fromMemorySegment(S, x, (src + q) * 4, ORDER, in.and(VectorMask.fromArray(S, valid, phase)))
                    .intoMemorySegment(cols, (dst + q) * 4, ORDER, in);
        }
    }

    /** x[dst + q] += cols[src + q] where valid(q mod period), for q in [q0, q1); other lanes keep x. */
    private static void maskedAddInto(MemorySegment cols, long src, MemorySegment x, long dst, int q0, int q1, boolean[] valid, int period) {
        int len = q1 - q0, step = S.length(), phase = q0 % period, q = q0;
        for (int end = q0 + (len / step) * step; q < end; q += step) {
            VectorMask<Float> m = VectorMask.fromArray(S, valid, phase);
            FloatVector d = FloatVector.fromMemorySegment(S, x, (dst + q) * 4, ORDER);
            d.add(FloatVector.fromMemorySegment(S, cols, (src + q) * 4, ORDER), m).intoMemorySegment(x, (dst + q) * 4, ORDER);
            phase = (phase + step) % period;
        }
        if (q < q1) {
            VectorMask<Float> in = S.indexInRange(q, q1);
            FloatVector d = FloatVector.fromMemorySegment(S, x, (dst + q) * 4, ORDER, in);
            d.add(FloatVector.fromMemorySegment(S, cols, (src + q) * 4, ORDER, in), in.and(VectorMask.fromArray(S, valid, phase)))
                    .intoMemorySegment(x, (dst + q) * 4, ORDER, in);
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

    private static void copy(MemorySegment src, long srcIndex, MemorySegment dst, long dstIndex, int len) {
        // guard: a span shorter than a vector goes scalar
        if (len < S.length()) {
            for (int k = 0; k < len; k++) dst.setAtIndex(F, dstIndex + k, src.getAtIndex(F, srcIndex + k));
            return;
        }
        // bound + body: one vector per step; a copy has no dependency chain, so one is enough
        int bound = S.loopBound(len), k = 0;
        for (; k < bound; k += S.length()) {
            FloatVector.fromMemorySegment(S, src, (srcIndex + k) * 4, ORDER).intoMemorySegment(dst, (dstIndex + k) * 4, ORDER);
        }
        // tail: masked (no reduce, no scalar tail)
        if (k < len) {
            VectorMask<Float> m = S.indexInRange(k, len);
            FloatVector.fromMemorySegment(S, src, (srcIndex + k) * 4, ORDER, m).intoMemorySegment(dst, (dstIndex + k) * 4, ORDER, m);
        }
    }

    private static void addInto(MemorySegment src, long srcIndex, MemorySegment dst, long dstIndex, int len) {
        if (len < S.length()) {
            for (int k = 0; k < len; k++) {
                dst.setAtIndex(F, dstIndex + k, dst.getAtIndex(F, dstIndex + k) + src.getAtIndex(F, srcIndex + k));
            }
            return;
        }
        int bound = S.loopBound(len), k = 0;
        for (; k < bound; k += S.length()) {
            FloatVector d = FloatVector.fromMemorySegment(S, dst, (dstIndex + k) * 4, ORDER);
            d.add(FloatVector.fromMemorySegment(S, src, (srcIndex + k) * 4, ORDER)).intoMemorySegment(dst, (dstIndex + k) * 4, ORDER);
        }
        if (k < len) {
            VectorMask<Float> m = S.indexInRange(k, len);
            FloatVector d = FloatVector.fromMemorySegment(S, dst, (dstIndex + k) * 4, ORDER, m);
            d.add(FloatVector.fromMemorySegment(S, src, (srcIndex + k) * 4, ORDER, m)).intoMemorySegment(dst, (dstIndex + k) * 4, ORDER, m);
        }
    }

    private static void zero(MemorySegment dst, long dstIndex, int len) {
        if (len < S.length()) {
            for (int k = 0; k < len; k++) dst.setAtIndex(F, dstIndex + k, 0f);
            return;
        }
        FloatVector z = FloatVector.zero(S);
        int bound = S.loopBound(len), k = 0;
        for (; k < bound; k += S.length()) z.intoMemorySegment(dst, (dstIndex + k) * 4, ORDER);
        if (k < len) z.intoMemorySegment(dst, (dstIndex + k) * 4, ORDER, S.indexInRange(k, len));
    }
}
