package dev.shears.engine.kernels;

/**
 * The scalar spec of {@link DepthwiseKernel}: plain loops over the valid pixels only, the inner
 * loop along an output row. Pinned by ConvTest (against a double-precision reference).
 */
public final class DepthwiseScalar implements DepthwiseKernel {
    @Override
    public void forward(float[] in, int wp, float[] taps, int k, int stride, float bias, float[] out, int oh, int ow) {
        for (int oy = 0; oy < oh; oy++) java.util.Arrays.fill(out, oy * wp, oy * wp + ow, bias);
        for (int oy = 0; oy < oh; oy++) {
            int orow = oy * wp;
            for (int ki = 0; ki < k; ki++) {
                int irow = (oy * stride + ki) * wp;
                for (int kj = 0; kj < k; kj++) {
                    float wt = taps[ki * k + kj];
                    int base = irow + kj;
                    if (stride == 1) {
                        for (int ox = 0; ox < ow; ox++) out[orow + ox] += wt * in[base + ox];
                    } else {
                        for (int ox = 0; ox < ow; ox++) out[orow + ox] += wt * in[base + ox * stride];
                    }
                }
            }
        }
    }

    @Override
    public void weightGradient(float[] in, int wp, float[] dy, int k, int stride, int oh, int ow, double[] sums) {
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                float s = 0f;
                for (int oy = 0; oy < oh; oy++) {
                    int base = (oy * stride + ki) * wp + kj, orow = oy * wp;
                    for (int ox = 0; ox < ow; ox++) s += dy[orow + ox] * in[base + ox * stride];
                }
                sums[ki * k + kj] += s;
            }
        }
    }

    @Override
    public void inputGradient(float[] dy, float[] taps, int k, int stride, int oh, int ow, float[] din, int wp) {
        for (int oy = 0; oy < oh; oy++) {
            int orow = oy * wp;
            for (int ki = 0; ki < k; ki++) {
                for (int kj = 0; kj < k; kj++) {
                    float wt = taps[ki * k + kj];
                    int base = (oy * stride + ki) * wp + kj;
                    for (int ox = 0; ox < ow; ox++) din[base + ox * stride] += wt * dy[orow + ox];
                }
            }
        }
    }
}
