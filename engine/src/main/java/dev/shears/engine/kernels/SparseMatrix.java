package dev.shears.engine.kernels;

import dev.shears.engine.DType;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An immutable sparse weight matrix (rows, cols) in CSR by output row: {@code rowStart} (rows + 1
 * ints), then per nonzero its column (int) and value (float): 8 bytes per nonzero plus 4 per row.
 * Built from a dense weight (exact zeros, +0 and -0, dropped; NaN kept); columns ascend in a row.
 * The arrays live on the Java heap, not off-heap: in a kernel lab (issue 7 note) the SpMV read
 * heap index/value streams about 2x faster than MemorySegment ones and the SpMM 15-30% faster,
 * and Vector API gathers take only heap index maps. An XNNPACK-style stream (per-row counts and
 * input offset deltas pre-multiplied by the activation stride) measured no faster than this CSR
 * and ties the matrix to one stride, so CSR it is. Not a general sparse type. Pinned by SparseMatrixTest.
 */
public final class SparseMatrix {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    final int rows;
    final int cols;
    final int[] rowStart; // (rows + 1): nonzeros of row r are [rowStart[r], rowStart[r + 1])
    final int[] col;      // (nnz): column of each nonzero, ascending within a row
    final float[] value;  // (nnz): value of each nonzero

    private SparseMatrix(int rows, int cols, int[] rowStart, int[] col, float[] value) {
        this.rows = rows;
        this.cols = cols;
        this.rowStart = rowStart;
        this.col = col;
        this.value = value;
    }

    /** The nonzeros of the dense (rows, cols) matrix at {@code offset} floats with leading dimension {@code ld}. */
    public static SparseMatrix fromDense(MemorySegment dense, long offset, int rows, int cols, int ld) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("sparse matrix: negative shape " + Shape.str(rows, cols));
        if (rows > 0 && cols > 0) {
            if (ld < cols) throw new IllegalArgumentException("sparse matrix: leading dimension " + ld + " is less than the " + cols + " columns");
            long last = offset + (long) (rows - 1) * ld + cols;
            if (offset < 0 || last * 4 > dense.byteSize()) {
                throw new IllegalArgumentException("sparse matrix: dense " + Shape.str(rows, cols) + " at offset " + offset + " with ld " + ld
                        + " needs " + last * 4 + " bytes but the segment has " + dense.byteSize());
            }
        }
        int[] rowStart = new int[rows + 1];
        long nnz = 0;
        for (int r = 0; r < rows; r++) {
            long base = offset + (long) r * ld;
            for (int c = 0; c < cols; c++) if (dense.getAtIndex(F, base + c) != 0f) nnz++;
            if (nnz > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("sparse matrix " + Shape.str(rows, cols) + ": more than 2^31 nonzeros do not fit int row pointers");
            }
            rowStart[r + 1] = (int) nnz;
        }
        int[] col = new int[(int) nnz];
        float[] value = new float[(int) nnz];
        int p = 0;
        for (int r = 0; r < rows; r++) {
            long base = offset + (long) r * ld;
            for (int c = 0; c < cols; c++) {
                float v = dense.getAtIndex(F, base + c);
                if (v != 0f) {
                    col[p] = c;
                    value[p++] = v;
                }
            }
        }
        return new SparseMatrix(rows, cols, rowStart, col, value);
    }

    /**
     * The nonzeros of a float weight tensor seen as (dim 0, product of the other dims): a linear
     * weight (out, in) or a convolution weight (Cout, Cin, kh, kw) as (Cout, Cin*kh*kw).
     */
    public static SparseMatrix fromDense(Tensor weight) {
        if (weight.dtype() != DType.F32 || weight.rank() < 2) {
            throw new IllegalArgumentException("sparse matrix: weight '" + weight.name() + "' must be a float tensor of rank >= 2, got "
                    + weight.dtype() + " " + Shape.str(weight.shape()));
        }
        long cols = weight.size() / Math.max(1, weight.dim(0));
        if (cols > Integer.MAX_VALUE) throw new IllegalArgumentException("sparse matrix: weight '" + weight.name() + "' rows too long");
        return fromDense(weight.segment(), 0, weight.dim(0), (int) cols, (int) cols);
    }

    /** A matrix from CSR arrays (copied), validated: row starts non-decreasing, columns ascending in range. */
    public static SparseMatrix fromCsr(int rows, int cols, int[] rowStart, int[] col, float[] value) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("sparse matrix: negative shape " + Shape.str(rows, cols));
        if (rowStart.length != rows + 1) {
            throw new IllegalArgumentException("sparse matrix " + Shape.str(rows, cols) + ": expected " + (rows + 1) + " row starts, got " + rowStart.length);
        }
        if (col.length != value.length) {
            throw new IllegalArgumentException("sparse matrix " + Shape.str(rows, cols) + ": " + col.length + " columns but " + value.length + " values");
        }
        if (rowStart[0] != 0 || rowStart[rows] != col.length) {
            throw new IllegalArgumentException("sparse matrix " + Shape.str(rows, cols) + ": row starts must run from 0 to " + col.length
                    + " (the nonzero count), got " + rowStart[0] + " .. " + rowStart[rows]);
        }
        for (int r = 0; r < rows; r++) {
            if (rowStart[r + 1] < rowStart[r]) {
                throw new IllegalArgumentException("sparse matrix " + Shape.str(rows, cols) + ": row start " + (r + 1) + " (" + rowStart[r + 1]
                        + ") is below row start " + r + " (" + rowStart[r] + ")");
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int p = rowStart[r]; p < rowStart[r + 1]; p++) {
                if (col[p] < 0 || col[p] >= cols || (p > rowStart[r] && col[p] <= col[p - 1])) {
                    throw new IllegalArgumentException("sparse matrix " + Shape.str(rows, cols) + ": row " + r + " has column " + col[p]
                            + " at nonzero " + p + "; columns must ascend within [0, " + cols + ")");
                }
            }
        }
        return new SparseMatrix(rows, cols, rowStart.clone(), col.clone(), value.clone());
    }

    public int rows() { return rows; }
    public int cols() { return cols; }

    /** Stored nonzeros. */
    public int nnz() { return col.length; }

    /** Nonzeros of row {@code r}. */
    public int rowNnz(int r) {
        if (r < 0 || r >= rows) throw new IllegalArgumentException("sparse matrix " + Shape.str(rows, cols) + ": no row " + r);
        return rowStart[r + 1] - rowStart[r];
    }

    /** nnz / (rows * cols); 0 for an empty shape. */
    public double density() {
        long all = (long) rows * cols;
        return all == 0 ? 0 : (double) nnz() / all;
    }

    /** Bytes of the format: 4 per row start, 8 per nonzero. */
    public long bytes() {
        return 4L * rowStart.length + 8L * nnz();
    }

    /** Copies of the CSR arrays (for export). */
    public int[] rowStarts() { return rowStart.clone(); }
    public int[] columns() { return col.clone(); }
    public float[] values() { return value.clone(); }

    /** The dense (rows, cols) matrix, zeros where no nonzero is stored; the caller closes it. */
    public Tensor toDense() {
        Tensor t = Tensor.allocate(DType.F32, rows, cols);
        toDense(t.segment(), 0, cols);
        return t;
    }

    /** Writes the dense matrix at {@code offset} floats with leading dimension {@code ld} (zeros included). */
    public void toDense(MemorySegment dst, long offset, int ld) {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new IllegalArgumentException("sparse matrix: leading dimension " + ld + " is less than the " + cols + " columns");
        long last = offset + (long) (rows - 1) * ld + cols;
        if (offset < 0 || last * 4 > dst.byteSize()) {
            throw new IllegalArgumentException("sparse matrix: dense " + Shape.str(rows, cols) + " at offset " + offset + " with ld " + ld
                    + " needs " + last * 4 + " bytes but the segment has " + dst.byteSize());
        }
        for (int r = 0; r < rows; r++) {
            long base = offset + (long) r * ld;
            dst.asSlice(base * 4, cols * 4L).fill((byte) 0);
            for (int p = rowStart[r]; p < rowStart[r + 1]; p++) dst.setAtIndex(F, base + col[p], value[p]);
        }
    }

    @Override
    public String toString() {
        return "SparseMatrix" + Shape.str(rows, cols) + " nnz=" + nnz() + String.format(" density=%.4f", density());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SparseMatrix s && s.rows == rows && s.cols == cols && Arrays.equals(s.rowStart, rowStart)
                && Arrays.equals(s.col, col) && Arrays.equals(s.value, value);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * rows + cols) + Arrays.hashCode(col) * 17 + Arrays.hashCode(value);
    }
}
