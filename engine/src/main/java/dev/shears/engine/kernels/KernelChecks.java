package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Bounds checks shared by the kernel facades: every message names the kernel, the operand, its
 * shape, the offset and what the segment holds, so a layer's mistake reads as one line. Not used
 * inside the twins (they trust the facade). Pinned by the facade tests of each family.
 */
final class KernelChecks {
    private KernelChecks() {}

    /** {@code count} floats of operand {@code what} (shape {@code shape}) starting at float {@code offset}. */
    static void floats(String kernel, String what, String shape, MemorySegment s, long offset, long count) {
        elements(kernel, what, shape, s, offset, count, 4);
    }

    /** {@code count} ints of operand {@code what} starting at int {@code offset}. */
    static void ints(String kernel, String what, String shape, MemorySegment s, long offset, long count) {
        elements(kernel, what, shape, s, offset, count, 4);
    }

    private static void elements(String kernel, String what, String shape, MemorySegment s, long offset, long count, int bytes) {
        if (count < 0) throw new IllegalArgumentException(kernel + ": " + what + " " + shape + " has a negative size " + count);
        if (count == 0) return;
        if (s == null) throw new IllegalArgumentException(kernel + ": " + what + " " + shape + " is null");
        if (offset < 0) throw new IllegalArgumentException(kernel + ": " + what + " " + shape + " has a negative offset " + offset);
        long end = offset + count;
        if (end > s.byteSize() / bytes) {
            throw new IllegalArgumentException(kernel + ": " + what + " " + shape + " at offset " + offset + " needs " + end * bytes
                    + " bytes but its segment has " + s.byteSize());
        }
    }

    /**
     * The cheap test the facades run first on every call: {@code count} floats fit at {@code offset}.
     * Only when it fails do they build the message strings (building them per call was a large share
     * of a training step's garbage).
     */
    static boolean fits(MemorySegment s, long offset, long count) {
        return count == 0 || (count > 0 && s != null && offset >= 0 && offset + count <= s.byteSize() / 4);
    }

    static void nonNegative(String kernel, String what, long v) {
        if (v < 0) throw new IllegalArgumentException(kernel + ": " + what + " must be >= 0, got " + v);
    }

    static String len(long n) {
        return "(" + n + ")";
    }

    static String dims(long rows, long cols) {
        return "(" + rows + ", " + cols + ")";
    }
}
