package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The CSR format: exact round trips, counts, the flattening of conv weights, and clear errors. */
class SparseMatrixTest {
    static final double[] DENSITIES = {0, -1, 0.01, 0.1, 0.5, 1.0}; // -1: exactly one nonzero

    /** A (rows, cols) matrix in a row-major array of leading dimension ld: nonzero at exactly round(density * rows * cols) random places. */
    static float[] masked(long seed, int rows, int cols, int ld, double density) {
        SplittableRandom rng = new SplittableRandom(seed);
        int all = rows * cols;
        int keep = density < 0 ? Math.min(1, all) : (int) Math.round(density * all);
        int[] order = new int[all];
        for (int i = 0; i < all; i++) order[i] = i;
        for (int i = all - 1; i > 0; i--) { // Fisher-Yates: the first `keep` entries are the kept places
            int j = rng.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        float[] w = new float[Math.max(0, (rows - 1) * ld + cols) + 3];
        for (int i = 0; i < w.length; i++) w[i] = 7f; // padding beyond cols must be ignored
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r * ld + c] = 0f;
        for (int i = 0; i < keep; i++) {
            float v = 0f;
            while (v == 0f) v = (float) (rng.nextDouble() * 2 - 1);
            w[order[i] / cols * ld + order[i] % cols] = v;
        }
        return w;
    }

    @Test
    void denseToSparseToDenseIsExact() {
        int[] sizes = {1, 2, 3, 5, 8, 13, 17, 33, 64, 65};
        for (double d : DENSITIES) for (int rows : sizes) for (int cols : sizes) {
            int ld = cols + (rows % 3);
            float[] w = masked(rows * 1000L + cols, rows, cols, ld, d);
            SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, rows, cols, ld);
            int nonzero = 0;
            for (int r = 0; r < rows; r++) {
                int inRow = 0;
                for (int c = 0; c < cols; c++) if (w[r * ld + c] != 0f) inRow++;
                assertEquals(inRow, s.rowNnz(r), "row " + r);
                nonzero += inRow;
            }
            assertEquals(nonzero, s.nnz());
            assertEquals(d < 0 ? 1 : Math.round(d * rows * cols), s.nnz(), "density " + d);
            assertEquals((double) nonzero / (rows * cols), s.density(), 1e-12);
            assertEquals(4L * (rows + 1) + 8L * nonzero, s.bytes());
            try (Tensor back = s.toDense()) {
                for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) {
                    assertEquals(Float.floatToRawIntBits(w[r * ld + c]), Float.floatToRawIntBits(back.get((long) r * cols + c)),
                            "(" + r + ", " + c + ") of " + rows + "x" + cols + " density " + d);
                }
            }
            float[] strided = new float[rows * (cols + 2) + 1];
            java.util.Arrays.fill(strided, -3f);
            s.toDense(MemorySegment.ofArray(strided), 1, cols + 2);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) assertEquals(w[r * ld + c], strided[1 + r * (cols + 2) + c]);
                if (r < rows - 1) assertEquals(-3f, strided[1 + r * (cols + 2) + cols], "padding untouched");
            }
            assertEquals(s, SparseMatrix.fromCsr(rows, cols, s.rowStarts(), s.columns(), s.values()));
        }
    }

    @Test
    void zerosOfBothSignsAreDroppedAndNaNIsKept() {
        float[] w = {0f, -0f, Float.NaN, 2f, 0f, -1f};
        SparseMatrix s = SparseMatrix.fromDense(MemorySegment.ofArray(w), 0, 2, 3, 3);
        assertEquals(3, s.nnz());
        assertArrayEquals(new int[] {0, 1, 3}, s.rowStarts());
        assertArrayEquals(new int[] {2, 0, 2}, s.columns());
        assertTrue(Float.isNaN(s.values()[0]));
        assertEquals(0.5, s.density(), 1e-12);
    }

    @Test
    void emptyShapesAndEmptyMatrices() {
        SparseMatrix none = SparseMatrix.fromDense(MemorySegment.ofArray(new float[0]), 0, 0, 5, 5);
        assertEquals(0, none.rows());
        assertEquals(0, none.nnz());
        assertEquals(0.0, none.density());
        SparseMatrix zeros = SparseMatrix.fromDense(MemorySegment.ofArray(new float[12]), 0, 3, 4, 4);
        assertEquals(0, zeros.nnz());
        assertEquals(3, zeros.rows());
        assertEquals(0, zeros.rowNnz(2));
        try (Tensor d = zeros.toDense()) {
            assertArrayEquals(new float[12], d.toFloatArray());
        }
    }

    @Test
    void convWeightIsFlattenedToOutputChannelRows() {
        try (Tensor w = Tensor.allocate(DType.F32, 4, 3, 3, 3)) {
            for (long i = 0; i < w.size(); i += 5) w.set(i, i + 1);
            SparseMatrix s = SparseMatrix.fromDense(w);
            assertEquals(4, s.rows());
            assertEquals(27, s.cols());
            try (Tensor back = s.toDense()) {
                assertArrayEquals(w.toFloatArray(), back.toFloatArray());
            }
        }
    }

    @Test
    void badInputGivesClearErrors() {
        MemorySegment six = MemorySegment.ofArray(new float[6]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromDense(six, 0, 2, 4, 4));
        assertTrue(e.getMessage().contains("(2, 4)") && e.getMessage().contains("32 bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromDense(six, 0, 2, 3, 2));
        assertTrue(e.getMessage().contains("leading dimension 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromDense(six, 0, -1, 3, 3));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        try (Tensor v = Tensor.allocate(DType.F32, 5); Tensor i = Tensor.allocate(DType.I32, 2, 2)) {
            e = assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromDense(v));
            assertTrue(e.getMessage().contains("rank >= 2") && e.getMessage().contains("(5,)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromDense(i));
        }
        e = assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromCsr(2, 3, new int[] {0, 2, 1}, new int[] {0}, new float[] {1}));
        assertTrue(e.getMessage().contains("is below row start 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromCsr(1, 3, new int[] {0, 2}, new int[] {2, 1}, new float[] {1, 1}));
        assertTrue(e.getMessage().contains("ascend"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromCsr(1, 3, new int[] {0, 1}, new int[] {3}, new float[] {1}));
        assertTrue(e.getMessage().contains("column 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromCsr(1, 3, new int[] {0, 1}, new int[] {0}, new float[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> SparseMatrix.fromDense(six, 0, 2, 3, 3).rowNnz(2));
    }

    @Test
    void isImmutable() {
        int[] rs = {0, 1};
        int[] cs = {1};
        float[] vs = {5f};
        SparseMatrix s = SparseMatrix.fromCsr(1, 2, rs, cs, vs);
        vs[0] = 9f;
        s.values()[0] = 9f;
        assertEquals(5f, s.values()[0]);
    }
}
