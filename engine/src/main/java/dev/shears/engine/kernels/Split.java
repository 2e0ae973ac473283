package dev.shears.engine.kernels;

import dev.shears.engine.Parallel;

/**
 * Static splitting of an elementwise range over the pool for the facades: contiguous chunks of
 * at least {@link #GRAIN} floats, so small calls stay on the caller's thread. Chunk boundaries
 * depend only on {@code n} and the thread count, never on timing.
 */
final class Split {
    /** 32 Ki floats (128 KiB): below this a hand-off costs more than it saves. */
    static final int GRAIN = 1 << 15;

    interface Body {
        void run(int from, int length);
    }

    private Split() {}

    static void ranges(int n, Body body) {
        if (n <= 0) return;
        if (n < 2 * GRAIN) {
            body.run(0, n);
            return;
        }
        Parallel.forRange(n, GRAIN, (from, to) -> body.run(from, to - from));
    }
}
