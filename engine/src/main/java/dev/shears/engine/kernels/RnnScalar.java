package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The recurrent-cell spec, written plainly, one element at a time: products summed in order with
 * {@link Math#fma}, sigmoid and tanh through {@link Math#exp} and {@link Math#tanh} in double,
 * narrowed to float. Every value read before the element it feeds is written, so the allowed
 * aliases (z = pre, dPre = z, dhPrev = dh, dGx = gates, dGh = gh) hold. Pinned by RnnKernelTest
 * (twins on awkward sizes, the spec against double formulas).
 */
public final class RnnScalar implements RnnKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    static float tanh(float x) {
        return (float) Math.tanh(x);
    }

    @Override
    public void matmulAdd(int rows, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                          MemorySegment d, long dOffset, int ldd, MemorySegment c, long cOffset, int ldc) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < n; j++) {
                float s = d == null ? 0f : d.getAtIndex(F, dOffset + (long) i * ldd + j);
                for (int p = 0; p < k; p++) {
                    s = Math.fma(a.getAtIndex(F, aOffset + (long) i * lda + p), b.getAtIndex(F, bOffset + (long) p * ldb + j), s);
                }
                c.setAtIndex(F, cOffset + (long) i * ldc + j, s);
            }
        }
    }

    @Override
    public void matmulTransAAdd(int m, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                                MemorySegment c, long cOffset, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long ci = cOffset + (long) i * ldc + j;
                float s = c.getAtIndex(F, ci);
                for (int p = 0; p < k; p++) {
                    s = Math.fma(a.getAtIndex(F, aOffset + (long) p * lda + i), b.getAtIndex(F, bOffset + (long) p * ldb + j), s);
                }
                c.setAtIndex(F, ci, s);
            }
        }
    }

    @Override
    public void fastgrnnForward(int h, MemorySegment pre, long preOffset, MemorySegment bz, long bzOffset, MemorySegment bh, long bhOffset,
                                float zeta, float nu, MemorySegment hPrev, long hPrevOffset,
                                MemorySegment z, long zOffset, MemorySegment c, long cOffset, MemorySegment hNew, long hNewOffset) {
        for (int j = 0; j < h; j++) {
            float p = pre.getAtIndex(F, preOffset + j);
            float zj = sigmoid(p + bz.getAtIndex(F, bzOffset + j));
            float cj = tanh(p + bh.getAtIndex(F, bhOffset + j));
            float hp = hPrev.getAtIndex(F, hPrevOffset + j);
            z.setAtIndex(F, zOffset + j, zj);
            c.setAtIndex(F, cOffset + j, cj);
            hNew.setAtIndex(F, hNewOffset + j, zj * hp + (zeta * (1f - zj) + nu) * cj);
        }
    }

    @Override
    public void fastgrnnBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset,
                                 MemorySegment z, long zOffset, MemorySegment c, long cOffset, float zeta, float nu,
                                 MemorySegment dPre, long dPreOffset, MemorySegment dhPrev, long dhPrevOffset, MemorySegment acc, long accOffset) {
        float dZeta = 0f, dNu = 0f;
        for (int j = 0; j < h; j++) {
            float g = dh.getAtIndex(F, dhOffset + j);
            float zj = z.getAtIndex(F, zOffset + j), cj = c.getAtIndex(F, cOffset + j), hp = hPrev.getAtIndex(F, hPrevOffset + j);
            float dz = g * (hp - zeta * cj);                // dL/dz
            float dc = g * (zeta * (1f - zj) + nu);          // dL/dc
            float dPreZ = dz * (zj * (1f - zj));
            float dPreC = dc * (1f - cj * cj);
            dZeta += g * ((1f - zj) * cj);
            dNu += g * cj;
            dPre.setAtIndex(F, dPreOffset + j, dPreZ + dPreC);
            dhPrev.setAtIndex(F, dhPrevOffset + j, g * zj);
            acc.setAtIndex(F, accOffset + j, acc.getAtIndex(F, accOffset + j) + dPreZ);
            acc.setAtIndex(F, accOffset + h + j, acc.getAtIndex(F, accOffset + h + j) + dPreC);
        }
        long s = accOffset + 2L * h;
        acc.setAtIndex(F, s, acc.getAtIndex(F, s) + dZeta);
        acc.setAtIndex(F, s + 1, acc.getAtIndex(F, s + 1) + dNu);
    }

    @Override
    public void gruForward(int h, MemorySegment gx, long gxOffset, MemorySegment gh, long ghOffset, MemorySegment hPrev, long hPrevOffset,
                           MemorySegment gates, long gatesOffset, MemorySegment hNew, long hNewOffset) {
        for (int j = 0; j < h; j++) {
            float r = sigmoid(gx.getAtIndex(F, gxOffset + j) + gh.getAtIndex(F, ghOffset + j));
            float z = sigmoid(gx.getAtIndex(F, gxOffset + h + j) + gh.getAtIndex(F, ghOffset + h + j));
            float n = tanh(gx.getAtIndex(F, gxOffset + 2L * h + j) + r * gh.getAtIndex(F, ghOffset + 2L * h + j));
            float hp = hPrev.getAtIndex(F, hPrevOffset + j);
            gates.setAtIndex(F, gatesOffset + j, r);
            gates.setAtIndex(F, gatesOffset + h + j, z);
            gates.setAtIndex(F, gatesOffset + 2L * h + j, n);
            hNew.setAtIndex(F, hNewOffset + j, (1f - z) * n + z * hp);
        }
    }

    @Override
    public void gruBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset, MemorySegment gates, long gatesOffset,
                            MemorySegment gh, long ghOffset, MemorySegment dGx, long dGxOffset, MemorySegment dGh, long dGhOffset,
                            MemorySegment dhPrev, long dhPrevOffset) {
        for (int j = 0; j < h; j++) {
            float g = dh.getAtIndex(F, dhOffset + j), hp = hPrev.getAtIndex(F, hPrevOffset + j);
            float r = gates.getAtIndex(F, gatesOffset + j), z = gates.getAtIndex(F, gatesOffset + h + j), n = gates.getAtIndex(F, gatesOffset + 2L * h + j);
            float ghn = gh.getAtIndex(F, ghOffset + 2L * h + j);
            float dPreN = g * (1f - z) * (1f - n * n);      // dL/d(gx_n + r gh_n)
            float dPreZ = g * (hp - n) * (z * (1f - z));
            float dPreR = dPreN * ghn * (r * (1f - r));
            dGx.setAtIndex(F, dGxOffset + j, dPreR);
            dGx.setAtIndex(F, dGxOffset + h + j, dPreZ);
            dGx.setAtIndex(F, dGxOffset + 2L * h + j, dPreN);
            dGh.setAtIndex(F, dGhOffset + j, dPreR);
            dGh.setAtIndex(F, dGhOffset + h + j, dPreZ);
            dGh.setAtIndex(F, dGhOffset + 2L * h + j, dPreN * r);
            dhPrev.setAtIndex(F, dhPrevOffset + j, g * z);
        }
    }
}
