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
 * columns fall inside the image, so each output row is: zeros, one contiguous span, zeros. With
 * stride 1 the span is a vector copy (col2im: a vector add); with a larger stride it is a scalar
 * strided loop, because the Vector API has no gather from a MemorySegment (in ResNet-32 only two
 * convolutions have stride 2). Same values as the spec bit for bit, col2im adds in the same order.
 * Pinned by Im2colTest.
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
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                for (int i = 0; i < g.kernelH(); i++) {
                    int oyLo = firstInside(g.padH() - i, sh, oh), oyHi = endInside(h - 1 + g.padH() - i, sh, oh, oyLo);
                    for (int j = 0; j < g.kernelW(); j++) {
                        int oxLo = firstInside(g.padW() - j, sw, ow), oxHi = endInside(w - 1 + g.padW() - j, sw, ow, oxLo);
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        for (int oy = 0; oy < oh; oy++) {
                            long dst = row + (long) oy * ow;
                            if (oy < oyLo || oy >= oyHi) {
                                zero(cols, dst, ow);
                                continue;
                            }
                            long src = plane + (long) (oy * sh - g.padH() + i) * w + (oxLo * sw - g.padW() + j);
                            zero(cols, dst, oxLo);
                            if (sw == 1) {
                                copy(x, src, cols, dst + oxLo, oxHi - oxLo);
                            } else {
                                for (int ox = oxLo; ox < oxHi; ox++) {
                                    cols.setAtIndex(F, dst + ox, x.getAtIndex(F, src + (long) (ox - oxLo) * sw));
                                }
                            }
                            zero(cols, dst + oxHi, ow - oxHi);
                        }
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
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                for (int i = 0; i < g.kernelH(); i++) {
                    int oyLo = firstInside(g.padH() - i, sh, oh), oyHi = endInside(h - 1 + g.padH() - i, sh, oh, oyLo);
                    for (int j = 0; j < g.kernelW(); j++) {
                        int oxLo = firstInside(g.padW() - j, sw, ow), oxHi = endInside(w - 1 + g.padW() - j, sw, ow, oxLo);
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        for (int oy = oyLo; oy < oyHi; oy++) {
                            long src = row + (long) oy * ow + oxLo;
                            long dst = plane + (long) (oy * sh - g.padH() + i) * w + (oxLo * sw - g.padW() + j);
                            if (sw == 1) {
                                addInto(cols, src, x, dst, oxHi - oxLo);
                            } else {
                                for (int ox = oxLo; ox < oxHi; ox++) {
                                    long xi = dst + (long) (ox - oxLo) * sw;
                                    x.setAtIndex(F, xi, x.getAtIndex(F, xi) + cols.getAtIndex(F, src + ox - oxLo));
                                }
                            }
                        }
                    }
                }
            }
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
