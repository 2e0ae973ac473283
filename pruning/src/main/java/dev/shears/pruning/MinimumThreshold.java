package dev.shears.pruning;

import java.util.Locale;

/**
 * Minimum Threshold (MT): every layer keeps at least M weights, a layer smaller than M stays
 * dense. M is a count ({@code 500}) or a percent of all prunable weights ({@code 0.05%}, so
 * M = int(N * pct / 100) as in the authors' code). Two modes: {@link Mode#EXACT} protects each
 * layer's top min(M, n) and prunes the rest under one global threshold (exactly k);
 * {@link Mode#PAPER} is the authors' reallocation ({@link #reallocate}, PAPER.md 1.3), whose
 * total can differ from k. Pinned by MinimumThresholdTest.
 */
public record MinimumThreshold(long count, double percent, Mode mode) {
    public enum Mode {
        /** Top-min(M, n) per layer protected, the rest under one global threshold: exactly k. */
        EXACT,
        /** The authors' per-layer sparsity reallocation, then per-layer magnitude pruning. */
        PAPER;

        public static Mode parse(String s) {
            if (s == null) throw new IllegalArgumentException("MT mode missing: expected paper or exact");
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "paper" -> PAPER;
                case "exact" -> EXACT;
                default -> throw new IllegalArgumentException("unknown MT mode '" + s + "': expected paper or exact");
            };
        }
    }

    public MinimumThreshold {
        if (mode == null) throw new IllegalArgumentException("MT needs a mode (paper or exact)");
        if (count < 0) throw new IllegalArgumentException("MT count " + count + " is negative");
        if (!(percent >= 0 && percent <= 100)) throw new IllegalArgumentException("MT percent " + percent + " outside [0, 100]");
        if (count > 0 && percent > 0) throw new IllegalArgumentException("MT is either a count or a percent, not both");
    }

    /** Parses {@code 500} (a count) or {@code 0.05%} (a percent of all prunable weights). */
    public static MinimumThreshold parse(String spec, Mode mode) {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("--mt is empty: expected a count like 500 or a percent like 0.05%");
        String s = spec.trim();
        try {
            if (s.endsWith("%")) return new MinimumThreshold(0, Double.parseDouble(s.substring(0, s.length() - 1).trim()), mode);
            return new MinimumThreshold(Long.parseLong(s), 0, mode);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--mt '" + spec + "': expected a whole count like 500 or a percent like 0.05%");
        }
    }

    /** M for a network of {@code total} prunable weights. */
    public long resolve(long total) {
        if (percent > 0) return (long) (total * percent / 100.0);
        return count;
    }

    /** Per-layer floors min(M, n_l). */
    public long[] floors(long[] sizes, long total) {
        long m = resolve(total);
        long[] f = new long[sizes.length];
        for (int l = 0; l < sizes.length; l++) f[l] = Math.min(m, sizes[l]);
        return f;
    }

    @Override
    public String toString() {
        return (percent > 0 ? percent + "%" : Long.toString(count)) + " (" + mode.name().toLowerCase(Locale.ROOT) + ")";
    }

    /**
     * The outcome of the paper's reallocation: per-layer sparsities, the per-layer prune counts
     * int(s_l * n_l) and the rescaling rounds the loop took.
     */
    public record Reallocation(double[] sparsities, long[] prune, int rounds) {
        public long total() {
            long t = 0;
            for (long p : prune) t += p;
            return t;
        }
    }

    /**
     * The authors' MT reallocation (PAPER.md 1.3, step2), from each layer's Global-MP sparsity:
     * (a) layers with n_l &lt; M get 0; (b) every sparsity is rescaled by target/total;
     * (c) layers that would keep fewer than M keep exactly M (s_l = 1 - M/n_l), then, while the
     * total is below the target, all sparsities are rescaled by target/total and clamped again.
     * Counts are int(s_l * n_l). Two choices where the description is silent: a layer of exactly
     * M weights is clamped too (so it stays dense rather than losing weights below M); and when
     * the loop stops moving less than one weight short of the target (float rounding), it stops.
     * If it stops further short (the layers left unclamped had nothing pruned), that is an error.
     */
    public static Reallocation reallocate(long[] sizes, double[] globalSparsity, long m, double target) {
        int layers = sizes.length;
        long total = 0;
        for (long n : sizes) total += n;
        double[] s = globalSparsity.clone();
        for (int l = 0; l < layers; l++) if (sizes[l] < m) s[l] = 0;                     // (a)
        double now = sparsity(sizes, s, total);
        if (now > 0) for (int l = 0; l < layers; l++) s[l] *= target / now;            // (b)
        clamp(sizes, s, m);                                                             // (c)
        now = sparsity(sizes, s, total);
        int rounds = 0;
        while (now < target) {
            for (int l = 0; l < layers; l++) s[l] *= now > 0 ? target / now : 1;
            clamp(sizes, s, m);
            double next = sparsity(sizes, s, total);
            rounds++;
            if (next <= now || rounds > 100_000) {
                if ((target - next) * total >= 1) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                            "MT paper mode cannot reach sparsity %.6f with M = %d: its rescaling stalls at %.6f "
                                    + "(the layers it may still prune had no Global-MP sparsity); try --mt-mode exact",
                            target, m, next));
                }
                now = next;
                break;
            }
            now = next;
        }
        long[] prune = new long[layers];
        for (int l = 0; l < layers; l++) prune[l] = Math.max(0, Math.min(sizes[l], (long) Math.floor(s[l] * sizes[l])));
        return new Reallocation(s, prune, rounds);
    }

    private static void clamp(long[] sizes, double[] s, long m) {
        for (int l = 0; l < sizes.length; l++) {
            if (sizes[l] >= m && sizes[l] > 0 && (1 - s[l]) * sizes[l] < m) s[l] = 1 - (double) m / sizes[l];
        }
    }

    private static double sparsity(long[] sizes, double[] s, long total) {
        double pruned = 0;
        for (int l = 0; l < sizes.length; l++) pruned += sizes[l] * s[l];
        return total == 0 ? 0 : pruned / total;
    }
}
