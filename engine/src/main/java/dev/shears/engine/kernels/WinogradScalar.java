package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The Winograd F(2x2, 3x3) transforms written plainly, one tile at a time: gather the tile
 * (zeros outside the image), multiply by the transform matrices as written in Lavin and Gray
 * (2016), scatter. Slow on purpose; the SIMD twin computes the same sums in the same order and
 * is tested against it. The filter transforms (cheap, once per call) live here only and the
 * facade calls them for both twins. Pinned by WinogradTest.
 */
public final class WinogradScalar implements WinogradKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void inputTransform(MemorySegment x, long xOff, int channels, int h, int w, int pad, int oh, int ow,
                               MemorySegment v, long vOff, int ldv, int t0, float[] work) {
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2;
        float[] d = new float[16], t = new float[16];
        for (int c = 0; c < channels; c++) {
            long plane = xOff + (long) c * h * w;
            for (int ty = 0; ty < tilesY; ty++) {
                for (int tx = 0; tx < tilesX; tx++) {
                    for (int i = 0; i < 4; i++) {
                        for (int j = 0; j < 4; j++) {
                            int iy = 2 * ty - pad + i, ix = 2 * tx - pad + j;
                            d[i * 4 + j] = iy < 0 || iy >= h || ix < 0 || ix >= w ? 0f : x.getAtIndex(F, plane + (long) iy * w + ix);
                        }
                    }
                    // rows: B^T d, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
                    for (int j = 0; j < 4; j++) {
                        float d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
                        t[j] = d0 - d2;
                        t[4 + j] = d1 + d2;
                        t[8 + j] = d2 - d1;
                        t[12 + j] = d1 - d3;
                    }
                    // columns: (B^T d) B
                    int q = ty * tilesX + tx;
                    for (int i = 0; i < 4; i++) {
                        float a0 = t[i * 4], a1 = t[i * 4 + 1], a2 = t[i * 4 + 2], a3 = t[i * 4 + 3];
                        store(v, vOff, ldv, t0 + q, channels, c, i * 4, a0 - a2);
                        store(v, vOff, ldv, t0 + q, channels, c, i * 4 + 1, a1 + a2);
                        store(v, vOff, ldv, t0 + q, channels, c, i * 4 + 2, a2 - a1);
                        store(v, vOff, ldv, t0 + q, channels, c, i * 4 + 3, a1 - a3);
                    }
                }
            }
        }
    }

    private static void store(MemorySegment v, long vOff, int ld, int column, int channels, int c, int e, float value) {
        v.setAtIndex(F, vOff + ((long) e * channels + c) * ld + column, value);
    }

    @Override
    public void outputTransform(MemorySegment m, long mOff, int out, int ldm, int t0, int oh, int ow,
                                MemorySegment bias, MemorySegment y, long yOff, float[] work) {
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2;
        for (int o = 0; o < out; o++) {
            float b = bias == null ? 0f : bias.getAtIndex(F, o);
            long plane = yOff + (long) o * oh * ow;
            for (int ty = 0; ty < tilesY; ty++) {
                for (int tx = 0; tx < tilesX; tx++) {
                    long col = t0 + ty * tilesX + tx;
                    float[] s = new float[8];
                    // rows: A^T m, A^T = [1 1 1 0; 0 1 -1 -1]
                    for (int j = 0; j < 4; j++) {
                        float m0 = m.getAtIndex(F, mOff + ((long) j * out + o) * ldm + col);
                        float m1 = m.getAtIndex(F, mOff + ((long) (4 + j) * out + o) * ldm + col);
                        float m2 = m.getAtIndex(F, mOff + ((long) (8 + j) * out + o) * ldm + col);
                        float m3 = m.getAtIndex(F, mOff + ((long) (12 + j) * out + o) * ldm + col);
                        s[j] = m0 + m1 + m2;
                        s[4 + j] = m1 - m2 - m3;
                    }
                    // columns: (A^T m) A
                    for (int i = 0; i < 2; i++) {
                        int oy = 2 * ty + i;
                        if (oy >= oh) continue;
                        float r0 = s[i * 4] + s[i * 4 + 1] + s[i * 4 + 2], r1 = s[i * 4 + 1] - s[i * 4 + 2] - s[i * 4 + 3];
                        y.setAtIndex(F, plane + (long) oy * ow + 2 * tx, r0 + b);
                        if (2 * tx + 1 < ow) y.setAtIndex(F, plane + (long) oy * ow + 2 * tx + 1, r1 + b);
                    }
                }
            }
        }
    }

    @Override
    public void gradientTransform(MemorySegment dy, long dyOff, int out, int oh, int ow, MemorySegment z, long zOff, int ldz, int t0, float[] work) {
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2;
        for (int o = 0; o < out; o++) {
            long plane = dyOff + (long) o * oh * ow;
            for (int ty = 0; ty < tilesY; ty++) {
                for (int tx = 0; tx < tilesX; tx++) {
                    float[] g = new float[4];
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            int oy = 2 * ty + i, ox = 2 * tx + j;
                            g[i * 2 + j] = oy < oh && ox < ow ? dy.getAtIndex(F, plane + (long) oy * ow + ox) : 0f;
                        }
                    }
                    // rows: A g, A = [1 0; 1 1; 1 -1; 0 -1]
                    float[] r = new float[8];
                    for (int j = 0; j < 2; j++) {
                        float g0 = g[j], g1 = g[2 + j];
                        r[j] = g0;
                        r[2 + j] = g0 + g1;
                        r[4 + j] = g0 - g1;
                        r[6 + j] = -g1;
                    }
                    // columns: (A g) A^T
                    long col = t0 + ty * tilesX + tx;
                    for (int i = 0; i < 4; i++) {
                        float a0 = r[i * 2], a1 = r[i * 2 + 1];
                        z.setAtIndex(F, zOff + ((long) (i * 4) * out + o) * ldz + col, a0);
                        z.setAtIndex(F, zOff + ((long) (i * 4 + 1) * out + o) * ldz + col, a0 + a1);
                        z.setAtIndex(F, zOff + ((long) (i * 4 + 2) * out + o) * ldz + col, a0 - a1);
                        z.setAtIndex(F, zOff + ((long) (i * 4 + 3) * out + o) * ldz + col, -a1);
                    }
                }
            }
        }
    }

    /** w: (out, in, 3, 3) -> u[(e*out + o)*in + c] = (G g G^T)[e] of g = w[o][c], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]. */
    public static void filterTransform(MemorySegment w, int out, int in, MemorySegment u) {
        float[] g = new float[9], t = new float[12];
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < in; c++) {
                long at = ((long) o * in + c) * 9;
                for (int k = 0; k < 9; k++) g[k] = w.getAtIndex(F, at + k);
                // rows: G g (4 x 3)
                for (int j = 0; j < 3; j++) {
                    float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                    t[j] = g0;
                    t[3 + j] = 0.5f * (g0 + g1 + g2);
                    t[6 + j] = 0.5f * (g0 - g1 + g2);
                    t[9 + j] = g2;
                }
                // columns: (G g) G^T (4 x 4)
                for (int i = 0; i < 4; i++) {
                    float a0 = t[i * 3], a1 = t[i * 3 + 1], a2 = t[i * 3 + 2];
                    u.setAtIndex(F, ((long) (i * 4) * out + o) * in + c, a0);
                    u.setAtIndex(F, ((long) (i * 4 + 1) * out + o) * in + c, 0.5f * (a0 + a1 + a2));
                    u.setAtIndex(F, ((long) (i * 4 + 2) * out + o) * in + c, 0.5f * (a0 - a1 + a2));
                    u.setAtIndex(F, ((long) (i * 4 + 3) * out + o) * in + c, a2);
                }
            }
        }
    }

    /**
     * The weight gradient back from the transform domain: dw[o][c] (3x3) += G^T what[e][o][c] G,
     * what: (16, out, in) summed over tiles (F(3x3, 2x2): the roles of A and G swap).
     */
    public static void weightGradientTransform(MemorySegment what, long whatOff, int out, int in, MemorySegment dw) {
        float[] t = new float[12];
        long stride = (long) out * in;
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < in; c++) {
                long at = whatOff + (long) o * in + c;
                // rows: G^T what (3 x 4), G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1]
                for (int j = 0; j < 4; j++) {
                    float m0 = what.getAtIndex(F, at + j * stride), m1 = what.getAtIndex(F, at + (4 + j) * stride);
                    float m2 = what.getAtIndex(F, at + (8 + j) * stride), m3 = what.getAtIndex(F, at + (12 + j) * stride);
                    t[j] = m0 + 0.5f * (m1 + m2);
                    t[4 + j] = 0.5f * (m1 - m2);
                    t[8 + j] = 0.5f * (m1 + m2) + m3;
                }
                long to = ((long) o * in + c) * 9;
                // columns: (G^T what) G
                for (int i = 0; i < 3; i++) {
                    float a0 = t[i * 4], a1 = t[i * 4 + 1], a2 = t[i * 4 + 2], a3 = t[i * 4 + 3];
                    add(dw, to + i * 3, a0 + 0.5f * (a1 + a2));
                    add(dw, to + i * 3 + 1, 0.5f * (a1 - a2));
                    add(dw, to + i * 3 + 2, 0.5f * (a1 + a2) + a3);
                }
            }
        }
    }

    private static void add(MemorySegment s, long at, float v) {
        s.setAtIndex(F, at, s.getAtIndex(F, at) + v);
    }
}
