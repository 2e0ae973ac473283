package dev.shears.pruning;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Largest-remainder rounding: whole numbers, each at most its cap, that sum exactly to a total
 * and stay within one of the real shares asked for. Ties in remainder go to the earlier layer.
 * Used to turn per-layer sparsities (uniform, ERK) into counts that hit k exactly.
 */
final class Apportion {
    private Apportion() {}

    /** Integers near {@code exact[l]}, each in [0, cap[l]], summing to {@code total}. */
    static long[] largestRemainder(double[] exact, long[] cap, long total) {
        int n = exact.length;
        long capSum = 0;
        for (long c : cap) capSum += c;
        if (total < 0 || total > capSum) throw new IllegalArgumentException("cannot share " + total + " over capacity " + capSum);
        long[] out = new long[n];
        long sum = 0;
        for (int l = 0; l < n; l++) {
            out[l] = Math.max(0, Math.min(cap[l], (long) Math.floor(exact[l])));
            sum += out[l];
        }
        Integer[] byRemainder = new Integer[n];
        for (int l = 0; l < n; l++) byRemainder[l] = l;
        Comparator<Integer> larger = Comparator.comparingDouble(l -> -(exact[l] - Math.floor(exact[l])));
        Arrays.sort(byRemainder, larger.thenComparingInt(l -> l)); // stable: earlier layer first on ties
        // float error can leave the floors more than n away from the total: loop until met
        while (sum < total) {
            for (int i = 0; i < n && sum < total; i++) {
                int l = byRemainder[i];
                if (out[l] < cap[l]) {
                    out[l]++;
                    sum++;
                }
            }
        }
        while (sum > total) {
            for (int i = n - 1; i >= 0 && sum > total; i--) {
                int l = byRemainder[i];
                if (out[l] > 0) {
                    out[l]--;
                    sum--;
                }
            }
        }
        return out;
    }
}
