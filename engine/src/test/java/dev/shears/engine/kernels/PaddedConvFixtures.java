package dev.shears.engine.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What the tests of the two direct convolutions on the padded layout (DirectConvTest,
 * SparseConvTest) share: the double-precision reference convolution they are both held to, and
 * native buffers in the compact and padded layouts. Test code only; not a kernel.
 */
final class PaddedConvFixtures {
    private PaddedConvFixtures() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** Grouped convolution in double: x (c, h, w) compact, weight (oc, c/groups, k, k) -> (oc, oh, ow), then bias, residual, ReLU. */
    static double[] reference(float[] x, int c, int h, int w, float[] wt, int oc, int k, int stride, int pad, int groups,
                              float[] bias, float[] res, boolean relu) {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1, cg = c / groups, og = oc / groups;
        double[] y = new double[oc * oh * ow];
        for (int o = 0; o < oc; o++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
            double acc = bias == null ? 0 : bias[o];
            for (int cj = 0; cj < cg; cj++) for (int ki = 0; ki < k; ki++) for (int kj = 0; kj < k; kj++) {
                int ci = o / og * cg + cj, iy = oy * stride + ki - pad, ix = ox * stride + kj - pad;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += (double) wt[((o * cg + cj) * k + ki) * k + kj] * x[(ci * h + iy) * w + ix];
            }
            int i = (o * oh + oy) * ow + ox;
            if (res != null) acc += res[i];
            y[i] = relu ? Math.max(acc, 0) : acc;
        }
        return y;
    }

    static MemorySegment native1(Arena arena, float[] v) {
        MemorySegment s = arena.allocate(4L * v.length, 64);
        MemorySegment.copy(v, 0, s, F, 0, v.length);
        return s;
    }

    /** A zeroed native padded buffer holding compact (c, h, w) at float offset off. */
    static MemorySegment padded(Arena arena, float[] v, int c, int h, int w, int off) {
        MemorySegment s = arena.allocate(4 * (SparseConv.paddedFloats(c, h, w) + off), 64);
        s.fill((byte) 0);
        SparseConv.pad(MemorySegment.ofArray(v), 0, c, h, w, s, off);
        return s;
    }
}
