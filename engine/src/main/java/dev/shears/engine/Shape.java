package dev.shears.engine;

import java.util.Arrays;

/**
 * Shape arithmetic and the error messages that name both shapes. Shapes are plain int[]
 * (row-major, last dimension contiguous); this class only checks and formats them.
 */
public final class Shape {
    private Shape() {}

    /** Number of elements of a shape; rejects negative dimensions. */
    public static long size(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + str(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** "(2, 3, 4)". */
    public static String str(int... shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** Throws naming both shapes unless they are equal. */
    public static void requireSame(String what, int[] expected, int[] actual) {
        if (!Arrays.equals(expected, actual)) {
            throw new IllegalArgumentException(what + ": shape mismatch, expected " + str(expected) + " but got " + str(actual));
        }
    }
}
