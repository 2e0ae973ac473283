package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The recurrent-cell facade the FastGRNN and GRU layers call once per time step and block of
 * rows: checks that every operand's rows fit its segment (errors name the kernel and operand),
 * (without building a string unless one does not), then runs the selected twin on the caller's thread (the layer owns the threading: one block of
 * rows per thread for the whole sequence). Semantics in {@link RnnKernel}. Pinned by RnnKernelTest.
 */
public final class Rnn {
    private static final RnnKernel KERNEL = Twins.pick(RnnKernel.class, "RnnSimd", RnnScalar::new);

    private Rnn() {}

    /** {@code C = D + A B} (D null: zero; ldd 0: one broadcast row; D may be C). See {@link RnnKernel#matmulAdd}. */
    public static void matmulAdd(int rows, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                                 MemorySegment d, long dOffset, int ldd, MemorySegment c, long cOffset, int ldc) {
        String kn = "rnn.matmulAdd";
        sizes(kn, rows, n, k);
        matrix(kn, "A", a, aOffset, lda, rows, k);
        matrix(kn, "B", b, bOffset, ldb, k, n);
        if (d != null) matrix(kn, "D", d, dOffset, ldd, ldd == 0 ? Math.min(rows, 1) : rows, n);
        matrix(kn, "C", c, cOffset, ldc, rows, n);
        if (rows == 0 || n == 0) return;
        KERNEL.matmulAdd(rows, n, k, a, aOffset, lda, b, bOffset, ldb, d, dOffset, ldd, c, cOffset, ldc);
    }

    /** {@code C += A^T B} with A (k, m), B (k, n), C (m, n). See {@link RnnKernel#matmulTransAAdd}. */
    public static void matmulTransAAdd(int m, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                                       MemorySegment c, long cOffset, int ldc) {
        String kn = "rnn.matmulTransAAdd";
        sizes(kn, m, n, k);
        matrix(kn, "A", a, aOffset, lda, k, m);
        matrix(kn, "B", b, bOffset, ldb, k, n);
        matrix(kn, "C", c, cOffset, ldc, m, n);
        if (m == 0 || n == 0 || k == 0) return;
        KERNEL.matmulTransAAdd(m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
    }

    /** FastGRNN forward gates of one row; see {@link RnnKernel#fastgrnnForward}. */
    public static void fastgrnnForward(int h, MemorySegment pre, long preOffset, MemorySegment bz, long bzOffset, MemorySegment bh, long bhOffset,
                                       float zeta, float nu, MemorySegment hPrev, long hPrevOffset,
                                       MemorySegment z, long zOffset, MemorySegment c, long cOffset, MemorySegment hNew, long hNewOffset) {
        if (!(h >= 0 && fits(pre, preOffset, h) && fits(bz, bzOffset, h) && fits(bh, bhOffset, h) && fits(hPrev, hPrevOffset, h) && fits(z, zOffset, h)
                && fits(c, cOffset, h) && fits(hNew, hNewOffset, h))) {
        String kn = "rnn.fastgrnnForward";
        KernelChecks.nonNegative(kn, "h", h);
        String s = KernelChecks.len(h);
        KernelChecks.floats(kn, "pre", s, pre, preOffset, h);
        KernelChecks.floats(kn, "bz", s, bz, bzOffset, h);
        KernelChecks.floats(kn, "bh", s, bh, bhOffset, h);
        KernelChecks.floats(kn, "hPrev", s, hPrev, hPrevOffset, h);
        KernelChecks.floats(kn, "z", s, z, zOffset, h);
        KernelChecks.floats(kn, "c", s, c, cOffset, h);
        KernelChecks.floats(kn, "hNew", s, hNew, hNewOffset, h);
        }
        KERNEL.fastgrnnForward(h, pre, preOffset, bz, bzOffset, bh, bhOffset, zeta, nu, hPrev, hPrevOffset, z, zOffset, c, cOffset, hNew, hNewOffset);
    }

    /** FastGRNN backward of one row; see {@link RnnKernel#fastgrnnBackward}. */
    public static void fastgrnnBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset,
                                        MemorySegment z, long zOffset, MemorySegment c, long cOffset, float zeta, float nu,
                                        MemorySegment dPre, long dPreOffset, MemorySegment dhPrev, long dhPrevOffset, MemorySegment acc, long accOffset) {
        if (!(h >= 0 && fits(dh, dhOffset, h) && fits(hPrev, hPrevOffset, h) && fits(z, zOffset, h) && fits(c, cOffset, h) && fits(dPre, dPreOffset, h)
                && fits(dhPrev, dhPrevOffset, h) && fits(acc, accOffset, 2L * h + 2))) {
        String kn = "rnn.fastgrnnBackward";
        KernelChecks.nonNegative(kn, "h", h);
        String s = KernelChecks.len(h);
        KernelChecks.floats(kn, "dh", s, dh, dhOffset, h);
        KernelChecks.floats(kn, "hPrev", s, hPrev, hPrevOffset, h);
        KernelChecks.floats(kn, "z", s, z, zOffset, h);
        KernelChecks.floats(kn, "c", s, c, cOffset, h);
        KernelChecks.floats(kn, "dPre", s, dPre, dPreOffset, h);
        KernelChecks.floats(kn, "dhPrev", s, dhPrev, dhPrevOffset, h);
        KernelChecks.floats(kn, "acc", KernelChecks.len(2L * h + 2), acc, accOffset, 2L * h + 2);
        }
        KERNEL.fastgrnnBackward(h, dh, dhOffset, hPrev, hPrevOffset, z, zOffset, c, cOffset, zeta, nu, dPre, dPreOffset, dhPrev, dhPrevOffset, acc, accOffset);
    }

    /** GRU forward gates of one row; see {@link RnnKernel#gruForward}. */
    public static void gruForward(int h, MemorySegment gx, long gxOffset, MemorySegment gh, long ghOffset, MemorySegment hPrev, long hPrevOffset,
                                  MemorySegment gates, long gatesOffset, MemorySegment hNew, long hNewOffset) {
        if (!(h >= 0 && fits(gx, gxOffset, 3L * h) && fits(gh, ghOffset, 3L * h) && fits(hPrev, hPrevOffset, h) && fits(gates, gatesOffset, 3L * h)
                && fits(hNew, hNewOffset, h))) {
        String kn = "rnn.gruForward";
        KernelChecks.nonNegative(kn, "h", h);
        String s = KernelChecks.len(h), s3 = KernelChecks.len(3L * h);
        KernelChecks.floats(kn, "gx", s3, gx, gxOffset, 3L * h);
        KernelChecks.floats(kn, "gh", s3, gh, ghOffset, 3L * h);
        KernelChecks.floats(kn, "hPrev", s, hPrev, hPrevOffset, h);
        KernelChecks.floats(kn, "gates", s3, gates, gatesOffset, 3L * h);
        KernelChecks.floats(kn, "hNew", s, hNew, hNewOffset, h);
        }
        KERNEL.gruForward(h, gx, gxOffset, gh, ghOffset, hPrev, hPrevOffset, gates, gatesOffset, hNew, hNewOffset);
    }

    /** GRU backward of one row; see {@link RnnKernel#gruBackward}. */
    public static void gruBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset, MemorySegment gates, long gatesOffset,
                                   MemorySegment gh, long ghOffset, MemorySegment dGx, long dGxOffset, MemorySegment dGh, long dGhOffset,
                                   MemorySegment dhPrev, long dhPrevOffset) {
        if (!(h >= 0 && fits(dh, dhOffset, h) && fits(hPrev, hPrevOffset, h) && fits(gates, gatesOffset, 3L * h) && fits(gh, ghOffset, 3L * h)
                && fits(dGx, dGxOffset, 3L * h) && fits(dGh, dGhOffset, 3L * h) && fits(dhPrev, dhPrevOffset, h))) {
        String kn = "rnn.gruBackward";
        KernelChecks.nonNegative(kn, "h", h);
        String s = KernelChecks.len(h), s3 = KernelChecks.len(3L * h);
        KernelChecks.floats(kn, "dh", s, dh, dhOffset, h);
        KernelChecks.floats(kn, "hPrev", s, hPrev, hPrevOffset, h);
        KernelChecks.floats(kn, "gates", s3, gates, gatesOffset, 3L * h);
        KernelChecks.floats(kn, "gh", s3, gh, ghOffset, 3L * h);
        KernelChecks.floats(kn, "dGx", s3, dGx, dGxOffset, 3L * h);
        KernelChecks.floats(kn, "dGh", s3, dGh, dGhOffset, 3L * h);
        KernelChecks.floats(kn, "dhPrev", s, dhPrev, dhPrevOffset, h);
        }
        KERNEL.gruBackward(h, dh, dhOffset, hPrev, hPrevOffset, gates, gatesOffset, gh, ghOffset, dGx, dGxOffset, dGh, dGhOffset, dhPrev, dhPrevOffset);
    }

    /** The twin in use (for benchmarks and logs). */
    public static String implementation() {
        return KERNEL.getClass().getSimpleName();
    }

    /** {@code count} floats from float {@code offset} lie inside {@code s} (the fast check; the slow one words the error). */
    private static boolean fits(MemorySegment s, long offset, long count) {
        return s != null && offset >= 0 && count >= 0 && offset + count <= s.byteSize() / 4;
    }

    private static void sizes(String kernel, int m, int n, int k) {
        KernelChecks.nonNegative(kernel, "rows", m);
        KernelChecks.nonNegative(kernel, "n", n);
        KernelChecks.nonNegative(kernel, "k", k);
    }

    /** rows x cols floats at {@code offset} with leading dimension {@code ld} (ld 0 allowed for one broadcast row). */
    private static void matrix(String kernel, String what, MemorySegment s, long offset, int ld, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        if (s != null && ld >= cols && offset >= 0 && fits(s, offset, (long) (rows - 1) * ld + cols)) return; // the common case, no strings built
        String shape = KernelChecks.dims(rows, cols);
        if (ld < 0 || (ld < cols && !(ld == 0 && what.equals("D")))) {
            throw new IllegalArgumentException(kernel + ": leading dimension of " + what + " " + shape + " is " + ld + " but its rows hold " + cols + " floats");
        }
        KernelChecks.floats(kernel, what, shape, s, offset, (long) (rows - 1) * ld + cols);
    }
}
