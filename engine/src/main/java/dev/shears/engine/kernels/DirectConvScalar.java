package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The dense direct convolution spec, written plainly: one float sum per output element over the
 * reduction in order, then the epilogue in the order the interface states. Not tuned; the SIMD
 * twin is tested against it, and both against a double-precision convolution. Pinned by
 * DirectConvTest.
 */
public final class DirectConvScalar implements DirectConvKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void dense(float[] packed, int kn, int[] offset, float[] bias, int ocFrom, int ocTo, int qFrom, int qTo,
                      MemorySegment x, long xOffset, MemorySegment y, long yOffset, int ldy,
                      MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        for (int o = ocFrom; o < ocTo; o++) {
            int base = (o / ROWS) * kn * ROWS + o % ROWS;
            for (int q = qFrom; q < qTo; q++) {
                float acc = 0f;
                for (int j = 0; j < kn; j++) acc += packed[base + j * ROWS] * x.getAtIndex(F, xOffset + offset[j] + q);
                store(acc, bias == null ? 0f : bias[o], y, yOffset + (long) o * ldy + q, res, resOffset + (long) o * ldr + q, relu, valid, q);
            }
        }
    }

    @Override
    public void depthwise(float[] taps, int kk, int[] offset, float[] bias, int cFrom, int cTo, int qFrom, int qTo,
                          MemorySegment x, long xOffset, long ldx, MemorySegment y, long yOffset, int ldy,
                          MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        for (int ch = cFrom; ch < cTo; ch++) {
            long xc = xOffset + ch * ldx;
            for (int q = qFrom; q < qTo; q++) {
                float acc = 0f;
                for (int t = 0; t < kk; t++) acc += taps[ch * kk + t] * x.getAtIndex(F, xc + offset[t] + q);
                store(acc, bias == null ? 0f : bias[ch], y, yOffset + (long) ch * ldy + q, res, resOffset + (long) ch * ldr + q, relu, valid, q);
            }
        }
    }

    @Override
    public void epilogue(float[] bias, int rowFrom, int rowTo, int qFrom, int qTo, MemorySegment y, long yOffset, int ldy,
                         MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid) {
        for (int r = rowFrom; r < rowTo; r++) {
            for (int q = qFrom; q < qTo; q++) {
                long yi = yOffset + (long) r * ldy + q;
                store(y.getAtIndex(F, yi), bias == null ? 0f : bias[r], y, yi, res, resOffset + (long) r * ldr + q, relu, valid, q);
            }
        }
    }

    private static void store(float acc, float bias, MemorySegment y, long yi, MemorySegment res, long ri, boolean relu, boolean[] valid, int q) {
        float v = bias + acc;
        if (res != null) v += res.getAtIndex(F, ri);
        if (relu) v = Math.max(v, 0f);
        if (valid != null && !valid[q]) v = 0f;
        y.setAtIndex(F, yi, v);
    }
}
