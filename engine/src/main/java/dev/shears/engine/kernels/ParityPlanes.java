package dev.shears.engine.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/**
 * The stride-2 parity split shared by the dense ({@link DirectConv}) and sparse ({@link SparseConv})
 * direct convolutions: one padded input channel (hp = h + 2 rows of wp = w + 2) becomes 4 planes
 * (a, b)[i][j] = x[2i + a][2j + b], hph rows of pw each, zero past the edge and in the columns
 * [wph, pw) that widen the rows to the output's. Rows are split by the sparse kernel pair's
 * {@code deinterleave} (a pure copy: both twins give the same bits). Not a convolution.
 * Pinned by DirectConvTest and SparseConvTest (stride-2 shapes against a double convolution).
 */
final class ParityPlanes {
    private ParityPlanes() {}

    /** The row copy; it lives with the sparse kernel pair, whose twins are tested against each other. */
    private static final SparseConvKernel ROWS = Twins.pick(SparseConvKernel.class, "SparseConvSimd", SparseConvScalar::new);

    /**
     * Channel planes of one input channel: {@code x} holds it at {@code channel} (hp x wp floats),
     * the 4 planes go to {@code out} from {@code base}, plane (a, b) at {@code base + (2a + b) * hph * pw}.
     */
    static void splitChannel(MemorySegment x, long channel, int h, int w, int hph, int pw, int wph,
                             MemorySegment out, long base) {
        int hp = h + 2, wp = w + 2, half = wp / 2;
        long pp = (long) hph * pw;
        for (int row = 0; row < 2 * hph; row++) {
            int a = row & 1, i = row >> 1;
            long even = base + (long) (a * 2) * pp + (long) i * pw, odd = even + pp;
            if (row >= hp) { // past the last row (hp odd): zeros
                zero(out, even, pw);
                zero(out, odd, pw);
                continue;
            }
            long src = channel + (long) row * wp;
            ROWS.deinterleave(x, src, out, even, out, odd, half);
            if (wp % 2 == 1) { // odd width: the last column is even, its odd partner is past the edge
                out.setAtIndex(JAVA_FLOAT, even + half, x.getAtIndex(JAVA_FLOAT, src + wp - 1));
                out.setAtIndex(JAVA_FLOAT, odd + half, 0f);
            }
            zero(out, even + wph, pw - wph); // the columns that widen the rows to the output's
            zero(out, odd + wph, pw - wph);
        }
    }

    private static void zero(MemorySegment out, long at, int n) {
        for (int j = 0; j < n; j++) out.setAtIndex(JAVA_FLOAT, at + j, 0f);
    }
}
