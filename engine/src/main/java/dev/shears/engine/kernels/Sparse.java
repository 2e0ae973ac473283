package dev.shears.engine.kernels;

import dev.shears.engine.DType;
import dev.shears.engine.Parallel;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.simd.SimdProbe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The sparse-inference facade: checks shapes and bounds (errors name both shapes), splits the
 * work statically across {@link Parallel} (output rows balanced by nonzeros, or column runs when
 * there are too few rows), and runs the twin {@link Twins#pick} chose. Covers 1x1 and 3x3
 * convolutions (S times the activation or its im2col columns), linear layers at batch 1 (SpMV)
 * and batched, in either layout. Not a layer: no im2col, no per-layer sparse-or-dense choice.
 * Pinned by SparseKernelTest.
 */
public final class Sparse {
    private static final SparseKernel KERNEL = Twins.pick(SparseKernel.class, "SparseSimd", SparseScalar::new);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Below this many multiply-adds (nonzeros, plus one per row, times columns) one thread runs it all. */
    static final long PARALLEL_WORK = 1 << 16;
    /**
     * From this batch on, {@link #linear} transposes into features x batch and runs the SpMM: one
     * full vector of batch columns per nonzero. The scalar twin never does (its SpMM reads X at
     * random just like the SpMV, so the transposes would be pure cost).
     */
    static final int LINEAR_TRANSPOSE_BATCH = SimdProbe.decision().enabled() ? SimdProbe.decision().floatLanes() : Integer.MAX_VALUE;

    private Sparse() {}

    /** The twin in use (for logs and benchmarks). */
    public static String kernelName() {
        return KERNEL.getClass().getSimpleName();
    }

    /**
     * {@code Y (rows, n) = alpha * S (rows, cols) X (cols, n) + beta * Y}: X and Y row-major at
     * {@code xOffset}/{@code yOffset} floats with leading dimensions {@code ldx}/{@code ldy}.
     * A convolution passes its im2col columns (Cin*kh*kw, outH*outW) or, for 1x1, its activation
     * (Cin, H*W); a batched linear layer its input as features x batch. {@code beta == 0}
     * overwrites Y. Zero weights are skipped, so {@code 0 * Inf} in X contributes nothing.
     * X and Y must not overlap.
     */
    public static void spmm(SparseMatrix s, int n, float alpha, MemorySegment x, long xOffset, int ldx,
                            float beta, MemorySegment y, long yOffset, int ldy) {
        requireMatrix("spmm", s);
        if (n < 0) throw new IllegalArgumentException("sparse spmm: negative column count n=" + n);
        need("spmm", "X", x, xOffset, ldx, s.cols, n);
        need("spmm", "Y", y, yOffset, ldy, s.rows, n);
        if (s.rows == 0 || n == 0) return;
        run(s, n, alpha, x, xOffset, ldx, beta, y, yOffset, ldy);
    }

    /** Tensor form: {@code y (rows, n) = alpha * s x (cols, n) + beta * y}. */
    public static void spmm(float alpha, SparseMatrix s, Tensor x, float beta, Tensor y) {
        requireMatrix("spmm", s);
        if (x.rank() != 2 || y.rank() != 2 || x.dim(0) != s.cols || y.dim(0) != s.rows || y.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException("sparse spmm shapes do not chain: S " + Shape.str(s.rows, s.cols) + " x X '" + x.name() + "' "
                    + Shape.str(x.shape()) + " -> Y '" + y.name() + "' " + Shape.str(y.shape()) + "; expected X (" + s.cols + ", n) and Y ("
                    + s.rows + ", n)");
        }
        requireFloat("spmm", x, y);
        spmm(s, x.dim(1), alpha, x.segment(), 0, x.dim(1), beta, y.segment(), 0, y.dim(1));
    }

    /**
     * {@code y (rows) = S x (cols) + bias}, the batch-1 linear layer; {@code bias} may be null.
     * Copies x to the heap once per call (cols floats): the gather-dot reads it at random.
     */
    public static void spmv(SparseMatrix s, MemorySegment x, long xOffset, MemorySegment bias, long biasOffset,
                            MemorySegment y, long yOffset) {
        requireMatrix("spmv", s);
        need("spmv", "x", x, xOffset, s.cols, 1, s.cols);
        if (bias != null) need("spmv", "bias", bias, biasOffset, s.rows, 1, s.rows);
        need("spmv", "y", y, yOffset, s.rows, 1, s.rows);
        if (s.rows == 0) return;
        float[] xh = x.asSlice(xOffset * 4, s.cols * 4L).toArray(F);
        rowsInParallel(s, 1, (from, to) -> KERNEL.spmv(s.rowStart, s.col, s.value, from, to, xh, 0, bias, biasOffset, y, yOffset));
    }

    /** Tensor form: x holds cols floats, y rows floats (any shapes), bias null or rows floats. */
    public static void spmv(SparseMatrix s, Tensor x, Tensor bias, Tensor y) {
        requireMatrix("spmv", s);
        if (x.size() != s.cols || y.size() != s.rows || (bias != null && bias.size() != s.rows)) {
            throw new IllegalArgumentException("sparse spmv shapes do not chain: S " + Shape.str(s.rows, s.cols) + " x '" + x.name() + "' "
                    + Shape.str(x.shape()) + (bias == null ? "" : " + bias '" + bias.name() + "' " + Shape.str(bias.shape())) + " -> y '"
                    + y.name() + "' " + Shape.str(y.shape()) + "; expected " + s.cols + " inputs and " + s.rows + " outputs");
        }
        requireFloat("spmv", x, y);
        if (bias != null) requireFloat("spmv", bias);
        spmv(s, x.segment(), 0, bias == null ? null : bias.segment(), 0, y.segment(), 0);
    }

    /**
     * A linear layer in the PyTorch layout: {@code Y (batch, out) = X (batch, in) W^T + bias},
     * W the sparse (out, in) weight, bias null or out floats. Below one SIMD vector of batch rows
     * it runs one SpMV per row; from there on it transposes X into features x batch, runs the SpMM
     * (a broadcast-FMA over batch columns) and transposes back, through {@code scratch}: a native
     * segment of at least {@link #linearScratchFloats} floats not overlapping X or Y, or null to
     * use a fresh arena for the call. Callers that keep activations as features x batch should
     * call {@link #spmm} and skip both transposes.
     */
    public static void linear(SparseMatrix w, int batch, MemorySegment x, long xOffset, int ldx,
                              MemorySegment bias, long biasOffset, MemorySegment y, long yOffset, int ldy, MemorySegment scratch) {
        requireMatrix("linear", w);
        if (batch < 0) throw new IllegalArgumentException("sparse linear: negative batch " + batch);
        need("linear", "X", x, xOffset, ldx, batch, w.cols);
        if (bias != null) need("linear", "bias", bias, biasOffset, w.rows, 1, w.rows);
        need("linear", "Y", y, yOffset, ldy, batch, w.rows);
        if (batch == 0 || w.rows == 0) return;
        int in = w.cols, out = w.rows;
        if (batch < LINEAR_TRANSPOSE_BATCH) {
            float[] xh = new float[batch * in];
            for (int b = 0; b < batch; b++) MemorySegment.copy(x, F, 4 * (xOffset + (long) b * ldx), xh, b * in, in);
            rowsInParallel(w, batch, (from, to) -> {
                for (int b = 0; b < batch; b++) KERNEL.spmv(w.rowStart, w.col, w.value, from, to, xh, b * in, bias, biasOffset, y, yOffset + (long) b * ldy);
            });
            return;
        }
        long floats = linearScratchFloats(w, batch);
        if (scratch != null) {
            if (scratch.byteSize() < 4 * floats || !scratch.isNative()) {
                throw new IllegalArgumentException("sparse linear: scratch must be a native segment of " + 4 * floats + " bytes for W "
                        + Shape.str(out, in) + " at batch " + batch + ", got " + (scratch.isNative() ? "" : "a heap segment of ") + scratch.byteSize() + " bytes");
            }
            transposedLinear(w, batch, x, xOffset, ldx, bias, biasOffset, y, yOffset, ldy, scratch);
        } else {
            try (Arena arena = Arena.ofShared()) {
                transposedLinear(w, batch, x, xOffset, ldx, bias, biasOffset, y, yOffset, ldy, arena.allocate(4 * floats, Tensor.ALIGN));
            }
        }
    }

    /** {@code linear} without a scratch segment: the transposed path allocates one per call. */
    public static void linear(SparseMatrix w, int batch, MemorySegment x, long xOffset, int ldx,
                              MemorySegment bias, long biasOffset, MemorySegment y, long yOffset, int ldy) {
        linear(w, batch, x, xOffset, ldx, bias, biasOffset, y, yOffset, ldy, null);
    }

    /** Floats of scratch {@link #linear} needs at this batch: X^T and Y^T, (in + out) * batch. */
    public static long linearScratchFloats(SparseMatrix w, int batch) {
        return ((long) w.cols + w.rows) * batch;
    }

    // Native scratch on purpose: Vector API loads that meet both heap and native segments at one
    // call site run about 3x slower for the rest of the JVM's life (measured), and the layers'
    // activations are native.
    private static void transposedLinear(SparseMatrix w, int batch, MemorySegment x, long xOffset, int ldx,
                                         MemorySegment bias, long biasOffset, MemorySegment y, long yOffset, int ldy, MemorySegment buf) {
        int in = w.cols, out = w.rows;
        long yt = (long) in * batch; // X^T: (in, batch) at 0, Y^T: (out, batch) after it
        // transposes by tiles of whole batch columns (a contiguous run of X^T / Y^T, 16 KiB, in
        // L1): bulk copies between the segments and small heap buffers, the shuffling on the heap.
        // About 1 ns per element each way (measured; 16x16 blocking was no faster)
        int tile = Math.max(1, TRANSPOSE_TILE_FLOATS / batch);
        float[] t = new float[Math.min(tile, Math.max(in, out)) * batch];
        float[] row = new float[Math.min(tile, Math.max(in, out))];
        for (int f0 = 0; f0 < in; f0 += tile) {
            int nf = Math.min(tile, in - f0);
            for (int b = 0; b < batch; b++) {
                MemorySegment.copy(x, F, 4 * (xOffset + (long) b * ldx + f0), row, 0, nf);
                for (int f = 0; f < nf; f++) t[f * batch + b] = row[f];
            }
            MemorySegment.copy(t, 0, buf, F, 4L * f0 * batch, nf * batch);
        }
        run(w, batch, 1f, buf, 0, batch, 0f, buf, yt, batch);
        float[] bv = bias == null ? new float[out] : bias.asSlice(4 * biasOffset, 4L * out).toArray(F);
        for (int r0 = 0; r0 < out; r0 += tile) {
            int nr = Math.min(tile, out - r0);
            MemorySegment.copy(buf, F, 4 * (yt + (long) r0 * batch), t, 0, nr * batch);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < nr; r++) row[r] = t[r * batch + b] + bv[r0 + r];
                MemorySegment.copy(row, 0, y, F, 4 * (yOffset + (long) b * ldy + r0), nr);
            }
        }
    }

    private static final int TRANSPOSE_TILE_FLOATS = 4096;

    /** Tensor form: x (batch, in), y (batch, out), bias null or out floats. */
    public static void linear(SparseMatrix w, Tensor x, Tensor bias, Tensor y) {
        requireMatrix("linear", w);
        if (x.rank() != 2 || y.rank() != 2 || x.dim(1) != w.cols || y.dim(1) != w.rows || x.dim(0) != y.dim(0)
                || (bias != null && bias.size() != w.rows)) {
            throw new IllegalArgumentException("sparse linear shapes do not chain: W " + Shape.str(w.rows, w.cols) + ", X '" + x.name() + "' "
                    + Shape.str(x.shape()) + (bias == null ? "" : ", bias '" + bias.name() + "' " + Shape.str(bias.shape())) + " -> Y '"
                    + y.name() + "' " + Shape.str(y.shape()) + "; expected X (batch, " + w.cols + "), Y (batch, " + w.rows + ")");
        }
        requireFloat("linear", x, y);
        if (bias != null) requireFloat("linear", bias);
        linear(w, x.dim(0), x.segment(), 0, x.dim(1), bias == null ? null : bias.segment(), 0, y.segment(), 0, y.dim(1));
    }

    // ---- work split ----

    private static void run(SparseMatrix s, int n, float alpha, MemorySegment x, long xOffset, int ldx,
                            float beta, MemorySegment y, long yOffset, int ldy) {
        int threads = Parallel.threads();
        long work = ((long) s.nnz() + s.rows) * n;
        if (threads == 1 || work < PARALLEL_WORK) {
            KERNEL.spmm(s.rowStart, s.col, s.value, 0, s.rows, n, alpha, x, xOffset, ldx, beta, y, yOffset, ldy);
        } else if (s.rows >= 4 * threads || n < 32 * threads) {
            int[] bound = balancedRows(s.rowStart, s.rows, Math.min(threads, s.rows));
            Parallel.forEachChunk(bound.length - 1, t ->
                    KERNEL.spmm(s.rowStart, s.col, s.value, bound[t], bound[t + 1], n, alpha, x, xOffset, ldx, beta, y, yOffset, ldy));
        } else {
            // few long rows: split the columns, in whole 64-float runs where they allow it
            int[] bound = columnRuns(n, threads);
            Parallel.forEachChunk(bound.length - 1, t -> {
                int j0 = bound[t], width = bound[t + 1] - j0;
                if (width > 0) KERNEL.spmm(s.rowStart, s.col, s.value, 0, s.rows, width, alpha, x, xOffset + j0, ldx, beta, y, yOffset + j0, ldy);
            });
        }
    }

    private static void rowsInParallel(SparseMatrix s, int repeat, Parallel.RangeBody body) {
        int threads = Parallel.threads();
        if (threads == 1 || ((long) s.nnz() + s.rows) * repeat < PARALLEL_WORK / 4) {
            body.run(0, s.rows);
            return;
        }
        int[] bound = balancedRows(s.rowStart, s.rows, Math.min(threads, s.rows));
        Parallel.forEachChunk(bound.length - 1, t -> {
            if (bound[t] < bound[t + 1]) body.run(bound[t], bound[t + 1]);
        });
    }

    /**
     * Row boundaries {@code b[0] = 0 <= ... <= b[parts] = rows} that give each part about the same
     * cost, counting a row as its nonzeros plus one (its store).
     */
    static int[] balancedRows(int[] rowStart, int rows, int parts) {
        int[] bound = new int[parts + 1];
        long total = (long) rowStart[rows] + rows;
        for (int t = 1; t < parts; t++) {
            long target = total * t / parts;
            int lo = bound[t - 1], hi = rows; // smallest r with rowStart[r] + r >= target
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if ((long) rowStart[mid] + mid >= target) hi = mid;
                else lo = mid + 1;
            }
            bound[t] = lo;
        }
        bound[parts] = rows;
        return bound;
    }

    /** Column boundaries splitting n into parts, on multiples of 64 (else 16) floats when n allows. */
    static int[] columnRuns(int n, int parts) {
        int unit = n >= 64 * parts ? 64 : 16;
        int[] bound = new int[parts + 1];
        for (int t = 1; t < parts; t++) bound[t] = Math.min(n, (int) ((long) n * t / parts / unit * unit));
        bound[parts] = n;
        return bound;
    }

    // ---- checks ----

    private static void need(String op, String what, MemorySegment s, long offset, int ld, int rows, int cols) {
        if (s == null) throw new IllegalArgumentException("sparse " + op + ": " + what + " is null");
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new IllegalArgumentException("sparse " + op + ": leading dimension of " + what + " is " + ld + " but its rows hold " + cols + " floats");
        long last = offset + (long) (rows - 1) * ld + cols;
        if (offset < 0 || last * 4 > s.byteSize()) {
            throw new IllegalArgumentException("sparse " + op + ": " + what + " " + Shape.str(rows, cols) + " at offset " + offset + " with ld " + ld
                    + " needs " + last * 4 + " bytes but its segment has " + s.byteSize());
        }
    }

    private static void requireMatrix(String op, SparseMatrix s) {
        if (s == null) throw new IllegalArgumentException("sparse " + op + ": the sparse matrix is null");
    }

    private static void requireFloat(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t.dtype() != DType.F32) throw new IllegalArgumentException("sparse " + op + ": tensor '" + t.name() + "' holds " + t.dtype() + ", not F32");
        }
    }
}
