package dev.shears.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of worker threads, sized to the cores ({@code -Dshears.threads=N} overrides).
 * Kernels split work statically: {@link #forEachChunk} hands chunk {@code t} of {@code n} to
 * thread {@code t}, the caller running chunk 0, so results never depend on timing. Workers spin
 * briefly then park, which keeps the hand-off in the microseconds for small kernels. Nested calls
 * from inside a task run serially. Not a general executor. Pinned by ParallelTest.
 */
public final class Parallel {
    /** Body of a parallel loop over {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** Body of a chunked job: chunk index in {@code [0, chunks)}. */
    @FunctionalInterface
    public interface ChunkBody {
        void run(int chunk);
    }

    private static final int THREADS = configuredThreads();
    private static final Worker[] WORKERS = new Worker[THREADS - 1];
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final Object SUBMIT_LOCK = new Object();

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker(i + 1);
            WORKERS[i].thread.start();
        }
    }

    private Parallel() {}

    private static int configuredThreads() {
        String s = System.getProperty("shears.threads");
        if (s == null || s.isBlank()) return Math.max(1, Runtime.getRuntime().availableProcessors());
        try {
            int n = Integer.parseInt(s.trim());
            if (n < 1 || n > 1024) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-Dshears.threads=" + s + ": expected a whole number from 1 to 1024");
        }
    }

    /** Threads in the pool, the caller included. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Splits {@code [0, n)} into at most {@link #threads()} contiguous ranges of at least
     * {@code grain} elements and runs them in parallel; returns when all are done.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(THREADS, Math.max(1, n / (long) Math.max(1, grain)));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        final int c = chunks;
        forEachChunk(c, t -> {
            long from = (long) n * t / c;
            long to = (long) n * (t + 1) / c;
            if (from < to) body.run((int) from, (int) to);
        });
    }

    /** Runs {@code body(0..chunks-1)}; chunk t goes to thread t mod threads, statically. */
    public static void forEachChunk(int chunks, ChunkBody body) {
        if (chunks <= 0) return;
        if (chunks == 1 || THREADS == 1 || INSIDE.get()) {
            for (int i = 0; i < chunks; i++) body.run(i);
            return;
        }
        synchronized (SUBMIT_LOCK) {
            Job job = new Job(body, chunks);
            int used = Math.min(THREADS, chunks);
            job.pending.set(used - 1);
            for (int w = 1; w < used; w++) WORKERS[w - 1].submit(job);
            INSIDE.set(true);
            Throwable err = null;
            try {
                job.runLane(0, used);
            } catch (Throwable t) {
                err = t;
            } finally {
                INSIDE.set(false);
            }
            job.awaitWorkers();
            if (err == null) err = job.error;
            if (err instanceof RuntimeException re) throw re;
            if (err instanceof Error e) throw e;
            if (err != null) throw new RuntimeException(err);
        }
    }

    private static final class Job {
        final ChunkBody body;
        final int chunks;
        final AtomicInteger pending = new AtomicInteger();
        volatile Thread waiter = Thread.currentThread();
        volatile Throwable error;

        Job(ChunkBody body, int chunks) {
            this.body = body;
            this.chunks = chunks;
        }

        void runLane(int lane, int lanes) {
            for (int c = lane; c < chunks; c += lanes) body.run(c);
        }

        void awaitWorkers() {
            int spins = 0;
            while (pending.get() > 0) {
                if (++spins < 20_000) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
            }
        }
    }

    private static final class Worker implements Runnable {
        final int lane;
        final Thread thread;
        volatile Job job;

        Worker(int lane) {
            this.lane = lane;
            this.thread = new Thread(this, "shears-worker-" + lane);
            thread.setDaemon(true);
        }

        void submit(Job j) {
            job = j;
            LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            INSIDE.set(true);
            int spins = 0;
            while (true) {
                Job j = job;
                if (j == null) {
                    if (++spins < 50_000) Thread.onSpinWait();
                    else LockSupport.park(this);
                    continue;
                }
                spins = 0;
                job = null;
                try {
                    j.runLane(lane, Math.min(THREADS, j.chunks));
                } catch (Throwable t) {
                    j.error = t;
                }
                if (j.pending.decrementAndGet() == 0) LockSupport.unpark(j.waiter);
            }
        }
    }
}
