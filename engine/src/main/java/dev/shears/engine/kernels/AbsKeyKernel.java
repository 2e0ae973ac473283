package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Scans over the magnitude keys of floats: key(x) = the raw bits of |x| (sign bit dropped, so
 * -0 == +0), an int in [0, 2^31) that orders like |x|; keys from 0x7f800000 up are infinities
 * and NaNs. These are the passes of the pruning module's global threshold (a radix select on
 * the high 16 and low 15 key bits) and of its masking pass, plus the streaming floor they are
 * measured against. Ranges are [from, to) in floats; histograms are caller-owned int[65536] (high)
 * or int[32768] (low) that the kernels only add to. Implementations: AbsKeyScalar (the spec)
 * and the SIMD twin; callers go through {@link AbsKeys}.
 */
public interface AbsKeyKernel {
    /** Sum of |x| (float blocks added into a double). */
    double sumAbs(MemorySegment x, long from, long to);

    /** {@code high[key >>> 15]++} for each key below {@code limit}; true if a key at or above it was non-finite. */
    boolean countHigh(MemorySegment x, long from, long to, int limit, int[] high);

    /**
     * One pass for a guessed window [lo, hi) around the k-th key: {@code below[0]} += the number of
     * eligible keys under lo, and each eligible key in [lo, hi) is appended to {@code out} at
     * {@code state[0]} (then incremented) until {@code out} is full, when {@code state[0]} becomes
     * -1 and collecting stops (counting goes on). Eligible: key below {@code limit}
     * ({@link Integer#MAX_VALUE}: every key). {@code state[1]} becomes 1 if any key is non-finite.
     */
    void countAndCollect(MemorySegment x, long from, long to, int lo, int hi, int limit, long[] below, int[] out, int[] state);

    /** {@code low[key & 0x7fff]++} for each key below {@code limit} whose high digit is {@code bucket}. */
    void countLow(MemorySegment x, long from, long to, int bucket, int limit, int[] low);

    /**
     * The masking pass: {@code mask[i] = key < cut ? 0f : 1f}. Adds the number of keys below
     * {@code cut} to {@code counts[0]} and the number equal to it to {@code counts[1]}; the
     * positions of the first ties go to {@code where[whereOffset ...]} while fewer than
     * {@code whereCap} are noted there (counts[1] before the call is the number noted so far).
     * A null {@code mask} only counts.
     */
    void mask(MemorySegment x, MemorySegment mask, long from, long to, int cut, long[] counts, long[] where, int whereOffset, int whereCap);
}
