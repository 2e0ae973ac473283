package dev.shears.nn.rnn;

import dev.shears.engine.Parallel;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What the two recurrent layers share: the static split of a batch into blocks of rows (one per
 * thread, each running the whole sequence: rows never depend on each other, so there is one
 * hand-off per pass, not one per step), transposes, row copies and shape checks.
 */
final class RnnSupport {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Fewer rows than this per block are not worth a thread. */
    static final int MIN_ROWS = 4;

    private RnnSupport() {}

    /** Blocks of rows for a batch of n: at most one per pool thread, at least MIN_ROWS rows each. */
    static int chunks(int n) {
        return Math.max(1, Math.min(Parallel.threads(), n / MIN_ROWS));
    }

    static int chunkStart(int n, int chunks, int c) {
        return (int) ((long) n * c / chunks);
    }

    /** Runs body(c, firstRow, rows) for every block, in parallel. */
    static void forBlocks(int n, int chunks, BlockBody body) {
        Parallel.forEachChunk(chunks, c -> {
            int r0 = chunkStart(n, chunks, c), r1 = chunkStart(n, chunks, c + 1);
            if (r1 > r0) body.run(c, r0, r1 - r0);
        });
    }

    @FunctionalInterface
    interface BlockBody {
        void run(int chunk, int firstRow, int rows);
    }

    /** dst (cols, rows) = src (rows, cols)^T. */
    static void transpose(MemorySegment src, int rows, int cols, MemorySegment dst) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) dst.setAtIndex(F, (long) j * rows + i, src.getAtIndex(F, (long) i * cols + j));
        }
    }

    /**
     * The input projection of every step at once: {@code xt} (T, N, F) = x (N, T, F) made
     * time-major, then {@code out} (T*N, cols) = xt wT + bias, one product over all T*N rows split
     * over the pool (bias null: none). {@code wT} is (F, cols).
     */
    static void project(Tensor x, Tensor xt, int steps, int features, int cols, MemorySegment wT, MemorySegment bias, MemorySegment out) {
        int n = x.dim(0), rowsAll = n * steps;
        MemorySegment xs = x.segment(), ts = xt.segment();
        long rowBytes = (long) features * 4;
        Parallel.forRange(rowsAll, 256, (from, to) -> {
            for (int r = from; r < to; r++) { // r = t*N + sample
                int t = r / n, sample = r % n;
                MemorySegment.copy(xs, ((long) sample * steps + t) * rowBytes, ts, r * rowBytes, rowBytes);
            }
            dev.shears.engine.kernels.Rnn.matmulAdd(to - from, cols, features, ts, (long) from * features, features, wT, 0, cols,
                    bias, 0, 0, out, (long) from * cols, cols);
        });
    }

    static void zeroRows(MemorySegment dst, long offset, long stride, int rows, int cols) {
        for (int i = 0; i < rows; i++) dst.asSlice((offset + i * stride) * 4, (long) cols * 4).fill((byte) 0);
    }

    /** Checks x is (N, steps, features) and returns N. */
    static int batchOf(String layer, Tensor x, int steps, int features) {
        int[] s = x.shape();
        if (s.length != 3 || s[0] < 1 || s[1] != steps || s[2] != features) {
            throw new IllegalArgumentException("layer '" + layer + "' expects a sequence batch (N, " + steps + ", " + features + ") (batch, time steps, features) but got "
                    + Shape.str(s));
        }
        return s[0];
    }

    static void requireBatch(String layer, int n, int allocated) {
        if (n != allocated) throw new IllegalStateException("layer '" + layer + "' was allocated for batch " + allocated + " but got batch " + n);
    }

    static void requireDy(String layer, Tensor dy, int n, int hidden) {
        int[] s = dy.shape();
        if (s.length != 2 || s[0] != n || s[1] != hidden) {
            throw new IllegalArgumentException("layer '" + layer + "': backward expects dy (" + n + ", " + hidden + ") but got " + Shape.str(s));
        }
    }

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }
}
