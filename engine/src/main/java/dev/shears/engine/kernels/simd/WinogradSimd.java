package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.WinogradKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of WinogradScalar, vectorised across the tiles of one plane. A 4x4 tile at
 * stride 2 reads columns 2tx..2tx+3, a stride-2 gather the Vector API has no fast load for, so
 * each plane is copied to the heap once and split (scalar) into eight (tilesY + 1, tilesX) grids:
 * padded row parity x column parity x column pair (2tx or 2tx + 2). Tile q = ty*tilesX + tx then
 * reads each of its 16 inputs as a plain load at q or q + tilesX (the next row pair), and all the
 * tiles of a plane are one flat vector loop whose stores land straight in the transform-domain
 * rows (small planes fill whole vectors too). The output runs the other way: vectors of tiles into
 * four grids, interleaved into a heap plane, one copy out. Same adds in the same order as the
 * spec, so the results are bit for bit equal (WinogradTest).
 */
public final class WinogradSimd implements WinogradKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Lanes 0, 2, 4, ... and 1, 3, 5, ... of two vectors (indices past L pick from the second). */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i), ODD = VectorShuffle.fromOp(S, i -> 2 * i + 1);
    /** The lanes of two vectors interleaved: first halves, then second halves. */
    private static final VectorShuffle<Float> ZIP_LOW = VectorShuffle.fromOp(S, i -> (i & 1) * L + (i >> 1)),
            ZIP_HIGH = VectorShuffle.fromOp(S, i -> (i & 1) * L + L / 2 + (i >> 1));

    @Override
    public void inputTransform(MemorySegment x, long xOff, int channels, int h, int w, int pad, int oh, int ow,
                               MemorySegment v, long vOff, int ldv, int t0, float[] work) {
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2, tiles = tilesY * tilesX, g = WinogradKernel.gridFloats(tilesY, tilesX);
        // work: grids [even rows: E, O, E1, O1][odd rows: E, O, E1, O1], plane, padded row, last-vector buffer
        int plane = 8 * g, row = plane + WinogradKernel.planeFloats(oh, ow), last = row + WinogradKernel.rowFloats(tilesX), width = 2 * tilesX + 2;
        int bound = tiles - tiles % L;
        java.util.Arrays.fill(work, row, last, 0f);
        for (int c = 0; c < channels; c++) {
            MemorySegment.copy(x, F, (xOff + (long) c * h * w) * 4, work, plane, h * w);
            // split: padded row r -> grids of its parity at (r >> 1) * tilesX + k: columns 2k, 2k+1, 2k+2, 2k+3
            for (int r = 0; r < 2 * tilesY + 2; r++) {
                int iy = r - pad, at = (r >> 1) * tilesX, grid = (r & 1) * 4 * g;
                boolean inside = iy >= 0 && iy < h;
                int from = Math.min(width, pad), to = Math.min(width, pad + w);
                if (inside) System.arraycopy(work, plane + iy * w, work, row + from, to - from);
                else java.util.Arrays.fill(work, row + from, row + to, 0f);
                int e = grid + at, o = e + g, e1 = o + g, o1 = e1 + g;
                // even and odd columns of two vectors at a time; a row's last vector spills into the
                // grid's next row (written after it) or its slack
                for (int k = 0; k < tilesX; k += L) {
                    int s = row + 2 * k;
                    FloatVector lo = FloatVector.fromArray(S, work, s), hi = FloatVector.fromArray(S, work, s + L);
                    FloatVector lo2 = FloatVector.fromArray(S, work, s + 2), hi2 = FloatVector.fromArray(S, work, s + 2 + L);
                    lo.rearrange(EVEN, hi).intoArray(work, e + k);
                    lo.rearrange(ODD, hi).intoArray(work, o + k);
                    lo2.rearrange(EVEN, hi2).intoArray(work, e1 + k);
                    lo2.rearrange(ODD, hi2).intoArray(work, o1 + k);
                }
            }
            long dst = (vOff + (long) c * ldv + t0) * 4, estride = (long) channels * ldv * 4;
            // body: whole vectors of tiles stored straight into the rows of v
            inputTiles(work, 0, bound, tilesX, g, v, dst, estride, -1);
            // tail: the last partial vector into the heap buffer, its valid lanes copied out
            if (bound < tiles) {
                int q = bound;
                inputTiles(work, q, q + L, tilesX, g, v, 0, 0, last);
                for (int e = 0; e < 16; e++) MemorySegment.copy(work, last + e * L, v, F, dst + e * estride + 4L * q, tiles - q);
            }
        }
    }

    /**
     * (B^T d B) of the tiles [from, to) (whole vectors) from the grids; element e of tile q stored at
     * byte {@code dst + e * estride + 4q} of {@code v}, or with {@code tail >= 0} (one vector) at
     * {@code gr[tail + e * L]}; the spec's order. The loop sits inside so C2 hoists the segment checks.
     */
    private static void inputTiles(float[] gr, int from, int to, int tilesX, int g, MemorySegment v, long dst, long estride, int tail) {
        for (int q = from; q < to; q += L) {
            long at = dst + 4L * q;
            int a = q, b = q + tilesX; // this row pair, the next one
            int ee = 0, eo = g, ee1 = 2 * g, eo1 = 3 * g, oe = 4 * g, oo = 5 * g, oe1 = 6 * g, oo1 = 7 * g;
            // rows: B^T d per column j (d row i: 0 even rows here, 1 odd rows here, 2 even rows next, 3 odd rows next)
            FloatVector d00 = FloatVector.fromArray(S, gr, ee + a), d10 = FloatVector.fromArray(S, gr, oe + a), d20 = FloatVector.fromArray(S, gr, ee + b), d30 = FloatVector.fromArray(S, gr, oe + b);
            FloatVector d01 = FloatVector.fromArray(S, gr, eo + a), d11 = FloatVector.fromArray(S, gr, oo + a), d21 = FloatVector.fromArray(S, gr, eo + b), d31 = FloatVector.fromArray(S, gr, oo + b);
            FloatVector d02 = FloatVector.fromArray(S, gr, ee1 + a), d12 = FloatVector.fromArray(S, gr, oe1 + a), d22 = FloatVector.fromArray(S, gr, ee1 + b), d32 = FloatVector.fromArray(S, gr, oe1 + b);
            FloatVector d03 = FloatVector.fromArray(S, gr, eo1 + a), d13 = FloatVector.fromArray(S, gr, oo1 + a), d23 = FloatVector.fromArray(S, gr, eo1 + b), d33 = FloatVector.fromArray(S, gr, oo1 + b);
            FloatVector t00 = d00.sub(d20), t10 = d10.add(d20), t20 = d20.sub(d10), t30 = d10.sub(d30);
            FloatVector t01 = d01.sub(d21), t11 = d11.add(d21), t21 = d21.sub(d11), t31 = d11.sub(d31);
            FloatVector t02 = d02.sub(d22), t12 = d12.add(d22), t22 = d22.sub(d12), t32 = d12.sub(d32);
            FloatVector t03 = d03.sub(d23), t13 = d13.add(d23), t23 = d23.sub(d13), t33 = d13.sub(d33);
            // columns: (B^T d) B, element e = 4 * row + column (no helper takes or returns vectors: C2 did not inline those and boxed them)
            FloatVector v00 = t00.sub(t02), v01 = t01.add(t02), v02 = t02.sub(t01), v03 = t01.sub(t03);
            FloatVector v10 = t10.sub(t12), v11 = t11.add(t12), v12 = t12.sub(t11), v13 = t11.sub(t13);
            FloatVector v20 = t20.sub(t22), v21 = t21.add(t22), v22 = t22.sub(t21), v23 = t21.sub(t23);
            FloatVector v30 = t30.sub(t32), v31 = t31.add(t32), v32 = t32.sub(t31), v33 = t31.sub(t33);
            if (tail >= 0) {
                v00.intoArray(gr, tail + 0 * L);
                v01.intoArray(gr, tail + 1 * L);
                v02.intoArray(gr, tail + 2 * L);
                v03.intoArray(gr, tail + 3 * L);
                v10.intoArray(gr, tail + 4 * L);
                v11.intoArray(gr, tail + 5 * L);
                v12.intoArray(gr, tail + 6 * L);
                v13.intoArray(gr, tail + 7 * L);
                v20.intoArray(gr, tail + 8 * L);
                v21.intoArray(gr, tail + 9 * L);
                v22.intoArray(gr, tail + 10 * L);
                v23.intoArray(gr, tail + 11 * L);
                v30.intoArray(gr, tail + 12 * L);
                v31.intoArray(gr, tail + 13 * L);
                v32.intoArray(gr, tail + 14 * L);
                v33.intoArray(gr, tail + 15 * L);
                continue;
            }
            v00.intoMemorySegment(v, at + 0 * estride, NO);
            v01.intoMemorySegment(v, at + 1 * estride, NO);
            v02.intoMemorySegment(v, at + 2 * estride, NO);
            v03.intoMemorySegment(v, at + 3 * estride, NO);
            v10.intoMemorySegment(v, at + 4 * estride, NO);
            v11.intoMemorySegment(v, at + 5 * estride, NO);
            v12.intoMemorySegment(v, at + 6 * estride, NO);
            v13.intoMemorySegment(v, at + 7 * estride, NO);
            v20.intoMemorySegment(v, at + 8 * estride, NO);
            v21.intoMemorySegment(v, at + 9 * estride, NO);
            v22.intoMemorySegment(v, at + 10 * estride, NO);
            v23.intoMemorySegment(v, at + 11 * estride, NO);
            v30.intoMemorySegment(v, at + 12 * estride, NO);
            v31.intoMemorySegment(v, at + 13 * estride, NO);
            v32.intoMemorySegment(v, at + 14 * estride, NO);
            v33.intoMemorySegment(v, at + 15 * estride, NO);
        }
    }

    @Override
    public void outputTransform(MemorySegment m, long mOff, int out, int ldm, int t0, int oh, int ow,
                                MemorySegment bias, MemorySegment y, long yOff, float[] work) {
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2, tiles = tilesY * tilesX, a = WinogradKernel.gridFloats(tilesY, tilesX);
        int plane = 8 * a, bound = tiles - tiles % L;
        for (int o = 0; o < out; o++) {
            long base = (mOff + (long) o * ldm + t0) * 4, estride = (long) out * ldm * 4;
            // body: whole vectors of tiles; results per output position (i, j) into work grid 2i + j
            int q = 0;
            for (; q < bound; q += L) {
                long at = base + 4L * q;
                // rows: A^T m per column j
                FloatVector s00 = FloatVector.fromMemorySegment(S, m, at + 0 * estride, NO).add(FloatVector.fromMemorySegment(S, m, at + 4 * estride, NO)).add(FloatVector.fromMemorySegment(S, m, at + 8 * estride, NO));
                FloatVector s10 = FloatVector.fromMemorySegment(S, m, at + 4 * estride, NO).sub(FloatVector.fromMemorySegment(S, m, at + 8 * estride, NO)).sub(FloatVector.fromMemorySegment(S, m, at + 12 * estride, NO));
                FloatVector s01 = FloatVector.fromMemorySegment(S, m, at + 1 * estride, NO).add(FloatVector.fromMemorySegment(S, m, at + 5 * estride, NO)).add(FloatVector.fromMemorySegment(S, m, at + 9 * estride, NO));
                FloatVector s11 = FloatVector.fromMemorySegment(S, m, at + 5 * estride, NO).sub(FloatVector.fromMemorySegment(S, m, at + 9 * estride, NO)).sub(FloatVector.fromMemorySegment(S, m, at + 13 * estride, NO));
                FloatVector s02 = FloatVector.fromMemorySegment(S, m, at + 2 * estride, NO).add(FloatVector.fromMemorySegment(S, m, at + 6 * estride, NO)).add(FloatVector.fromMemorySegment(S, m, at + 10 * estride, NO));
                FloatVector s12 = FloatVector.fromMemorySegment(S, m, at + 6 * estride, NO).sub(FloatVector.fromMemorySegment(S, m, at + 10 * estride, NO)).sub(FloatVector.fromMemorySegment(S, m, at + 14 * estride, NO));
                FloatVector s03 = FloatVector.fromMemorySegment(S, m, at + 3 * estride, NO).add(FloatVector.fromMemorySegment(S, m, at + 7 * estride, NO)).add(FloatVector.fromMemorySegment(S, m, at + 11 * estride, NO));
                FloatVector s13 = FloatVector.fromMemorySegment(S, m, at + 7 * estride, NO).sub(FloatVector.fromMemorySegment(S, m, at + 11 * estride, NO)).sub(FloatVector.fromMemorySegment(S, m, at + 15 * estride, NO));
                // columns: (A^T m) A
                s00.add(s01).add(s02).intoArray(work, q);
                s01.sub(s02).sub(s03).intoArray(work, a + q);
                s10.add(s11).add(s12).intoArray(work, 2 * a + q);
                s11.sub(s12).sub(s13).intoArray(work, 3 * a + q);
            }
            // tail: the spec's arithmetic one tile at a time
            for (; q < tiles; q++) {
                long at = base + 4L * q;
                float s00 = m.get(F, at) + m.get(F, at + 4 * estride) + m.get(F, at + 8 * estride);
                float s10 = m.get(F, at + 4 * estride) - m.get(F, at + 8 * estride) - m.get(F, at + 12 * estride);
                float s01 = m.get(F, at + estride) + m.get(F, at + 5 * estride) + m.get(F, at + 9 * estride);
                float s11 = m.get(F, at + 5 * estride) - m.get(F, at + 9 * estride) - m.get(F, at + 13 * estride);
                float s02 = m.get(F, at + 2 * estride) + m.get(F, at + 6 * estride) + m.get(F, at + 10 * estride);
                float s12 = m.get(F, at + 6 * estride) - m.get(F, at + 10 * estride) - m.get(F, at + 14 * estride);
                float s03 = m.get(F, at + 3 * estride) + m.get(F, at + 7 * estride) + m.get(F, at + 11 * estride);
                float s13 = m.get(F, at + 7 * estride) - m.get(F, at + 11 * estride) - m.get(F, at + 15 * estride);
                work[q] = s00 + s01 + s02;
                work[a + q] = s01 - s02 - s03;
                work[2 * a + q] = s10 + s11 + s12;
                work[3 * a + q] = s11 - s12 - s13;
            }
            // interleave: the four grids into a heap plane (ragged edges cut, bias added), one copy out
            float b = bias == null ? 0f : bias.getAtIndex(F, o);
            FloatVector bv = FloatVector.broadcast(S, b);
            // rows in order: a row's last vectors spill into the next row (written after it) or the plane's slack
            for (int oy = 0; oy < oh; oy++) {
                int i = oy & 1, tq = (oy >> 1) * tilesX, g0 = 2 * i * a + tq, g1 = g0 + a, dst = plane + oy * ow;
                for (int k = 0; k < tilesX; k += L) {
                    FloatVector y0 = FloatVector.fromArray(S, work, g0 + k), y1 = FloatVector.fromArray(S, work, g1 + k);
                    y0.rearrange(ZIP_LOW, y1).add(bv).intoArray(work, dst + 2 * k);
                    y0.rearrange(ZIP_HIGH, y1).add(bv).intoArray(work, dst + 2 * k + L);
                }
            }
            MemorySegment.copy(work, plane, y, F, (yOff + (long) o * oh * ow) * 4, oh * ow);
        }
    }

    @Override
    public void gradientTransform(MemorySegment dy, long dyOff, int out, int oh, int ow, MemorySegment z, long zOff, int ldz, int t0, float[] work) {
        int tilesY = (oh + 1) / 2, tilesX = (ow + 1) / 2, tiles = tilesY * tilesX, a = WinogradKernel.gridFloats(tilesY, tilesX);
        int plane = 8 * a, bound = tiles - tiles % L, even = ow & ~1;
        for (int o = 0; o < out; o++) {
            MemorySegment.copy(dy, F, (dyOff + (long) o * oh * ow) * 4, work, plane, oh * ow);
            // split: dy (oy, ox) -> grid 2*(oy & 1) + (ox & 1) at tile (oy >> 1, ox >> 1); zeros past the ragged edge
            for (int oy = 0; oy < 2 * tilesY; oy++) {
                int i = oy & 1, tq = (oy >> 1) * tilesX, g0 = 2 * i * a + tq, g1 = g0 + a;
                if (oy >= oh) {
                    java.util.Arrays.fill(work, g0, g0 + tilesX, 0f);
                    java.util.Arrays.fill(work, g1, g1 + tilesX, 0f);
                    continue;
                }
                int src = plane + oy * ow;
                // even and odd columns of two vectors at a time (spills land in later rows or slack)
                for (int k = 0; k < tilesX; k += L) {
                    FloatVector lo = FloatVector.fromArray(S, work, src + 2 * k), hi = FloatVector.fromArray(S, work, src + 2 * k + L);
                    lo.rearrange(EVEN, hi).intoArray(work, g0 + k);
                    lo.rearrange(ODD, hi).intoArray(work, g1 + k);
                }
                if (even < ow) work[g1 + tilesX - 1] = 0f; // past the ragged edge (the vector read the next row)
            }
            long base = (zOff + (long) o * ldz + t0) * 4, estride = (long) out * ldz * 4;
            // body: whole vectors; (A g) A^T with A = [1 0; 1 1; 1 -1; 0 -1], the spec's order
            int q = 0;
            for (; q < bound; q += L) {
                FloatVector g00 = FloatVector.fromArray(S, work, q), g01 = FloatVector.fromArray(S, work, a + q);
                FloatVector g10 = FloatVector.fromArray(S, work, 2 * a + q), g11 = FloatVector.fromArray(S, work, 3 * a + q);
                long at = base + 4L * q;
                // rows (a0, a1): (g00, g01), (g00 + g10, g01 + g11), (g00 - g10, g01 - g11), (-g10, -g11); each gives a0, a0 + a1, a0 - a1, -a1
                FloatVector p0 = g00.add(g10), p1 = g01.add(g11), m0 = g00.sub(g10), m1 = g01.sub(g11), n0 = g10.neg(), n1 = g11.neg();
                g00.intoMemorySegment(z, at, NO);
                g00.add(g01).intoMemorySegment(z, at + estride, NO);
                g00.sub(g01).intoMemorySegment(z, at + 2 * estride, NO);
                g01.neg().intoMemorySegment(z, at + 3 * estride, NO);
                p0.intoMemorySegment(z, at + 4 * estride, NO);
                p0.add(p1).intoMemorySegment(z, at + 5 * estride, NO);
                p0.sub(p1).intoMemorySegment(z, at + 6 * estride, NO);
                p1.neg().intoMemorySegment(z, at + 7 * estride, NO);
                m0.intoMemorySegment(z, at + 8 * estride, NO);
                m0.add(m1).intoMemorySegment(z, at + 9 * estride, NO);
                m0.sub(m1).intoMemorySegment(z, at + 10 * estride, NO);
                m1.neg().intoMemorySegment(z, at + 11 * estride, NO);
                n0.intoMemorySegment(z, at + 12 * estride, NO);
                n0.add(n1).intoMemorySegment(z, at + 13 * estride, NO);
                n0.sub(n1).intoMemorySegment(z, at + 14 * estride, NO);
                n1.neg().intoMemorySegment(z, at + 15 * estride, NO);
            }
            // tail: one tile at a time
            for (; q < tiles; q++) {
                float g00 = work[q], g01 = work[a + q], g10 = work[2 * a + q], g11 = work[3 * a + q];
                long at = base + 4L * q;
                grad(z, at, estride, 0, g00, g01);
                grad(z, at, estride, 4, g00 + g10, g01 + g11);
                grad(z, at, estride, 8, g00 - g10, g01 - g11);
                grad(z, at, estride, 12, -g10, -g11);
            }
        }
    }

    /** One row of (A g) A^T in the tail: elements e..e+3 from the row's pair (a0, a1). */
    private static void grad(MemorySegment z, long at, long estride, int e, float a0, float a1) {
        z.set(F, at + e * estride, a0);
        z.set(F, at + (e + 1) * estride, a0 + a1);
        z.set(F, at + (e + 2) * estride, a0 - a1);
        z.set(F, at + (e + 3) * estride, -a1);
    }
}
