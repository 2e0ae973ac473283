package dev.shears.pruning;

/**
 * The gradual schedule (Zhu and Gupta 2017, PAPER.md 6), ours because the paper gives none
 * (PAPER.md 1.1): between step t0 and t0 + n*dt, at every dt steps, sparsity
 * s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^3; s_i before t0, s_f after. Steps count
 * optimizer steps from the start of the run. {@link #forRun} is the default the CLI uses: prune
 * from 20% to 80% of the run (STR's GMP prunes epochs 20 to 79 of 100), about 100 pruning events.
 * Pinned by CubicScheduleTest.
 *
 * @param initial s_i in [0, 1)
 * @param target  s_f in [initial, 1)
 * @param start   t0, the first pruning step (>= 0)
 * @param every   dt, steps between pruning events (>= 1)
 * @param events  n, so the last event is at t0 + n dt and reaches s_f (>= 1)
 */
public record CubicSchedule(double initial, double target, long start, long every, int events) {
    public CubicSchedule {
        if (!(initial >= 0 && initial < 1)) throw new IllegalArgumentException("initial sparsity " + initial + " outside [0, 1)");
        if (!(target >= initial && target < 1)) throw new IllegalArgumentException("target sparsity " + target + " outside [" + initial + ", 1)");
        if (start < 0) throw new IllegalArgumentException("gradual pruning start step " + start + " is negative");
        if (every < 1) throw new IllegalArgumentException("gradual pruning interval must be >= 1 step, got " + every);
        if (events < 1) throw new IllegalArgumentException("gradual pruning needs >= 1 event, got " + events);
    }

    /**
     * Pruning from fraction {@code from} to {@code to} of a run of {@code totalSteps} steps, at
     * most {@code maxEvents} events (fewer when the window has fewer steps).
     */
    public static CubicSchedule forRun(double target, long totalSteps, double from, double to, int maxEvents) {
        if (!(from >= 0 && from < to && to <= 1)) throw new IllegalArgumentException("gradual window [" + from + ", " + to + "] must satisfy 0 <= from < to <= 1");
        if (totalSteps < 1) throw new IllegalArgumentException("a gradual run needs at least one step");
        if (maxEvents < 1) throw new IllegalArgumentException("gradual pruning needs >= 1 event, got " + maxEvents);
        long t0 = Math.round(from * totalSteps);
        long end = Math.max(t0 + 1, Math.min(totalSteps, Math.round(to * totalSteps)));
        long window = end - t0;
        long dt = Math.max(1, (window + maxEvents - 1) / maxEvents);
        int n = (int) Math.max(1, window / dt);
        return new CubicSchedule(0, target, t0, dt, n);
    }

    /** The last pruning step, t0 + n dt. */
    public long end() {
        return start + every * events;
    }

    /** s_t for any step t (the formula inside the window, s_i before, s_f after). */
    public double sparsityAt(long t) {
        if (t <= start) return initial;
        if (t >= end()) return target;
        double f = 1 - (double) (t - start) / ((double) events * every);
        return target + (initial - target) * f * f * f;
    }

    /** True when step t is a pruning event: t0 + j dt for j in 0..n. */
    public boolean prunesAt(long t) {
        return t >= start && t <= end() && (t - start) % every == 0;
    }
}
