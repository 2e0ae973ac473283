package dev.shears.cli.experiment;

import java.io.PrintStream;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The thread that keeps a worker's claims alive: every quarter lease it renews each claim the
 * worker holds; a claim found to be someone else's (taken over while this worker stalled past its
 * lease) is dropped and flagged, and the work on it stops at the next training step (see
 * {@link #check}). A daemon thread, so it never keeps the JVM alive; on SIGTERM (scancel, a time
 * limit) a shutdown hook gives the held claims back. Pinned by ClaimsTest and SlurmSweepTest.
 */
final class Heartbeat implements AutoCloseable {
    /** Thrown into the work on an item whose claim was lost. */
    static final class ClaimLost extends RuntimeException {
        ClaimLost(String item) {
            super("the claim on " + item + " was taken over by another worker (this worker missed its lease); leaving the item to it");
        }
    }

    private final Claims claims;
    private final PrintStream log;
    private final Map<String, Claims.Holder> held = new ConcurrentHashMap<>();
    private final Set<String> lost = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean closed;

    Heartbeat(Claims claims, PrintStream log) {
        this.claims = claims;
        this.log = log;
        long period = Math.max(250, claims.leaseMillis() / 4);
        this.thread = Thread.ofPlatform().daemon().name("shears-heartbeat").unstarted(() -> {
            while (!closed) {
                try {
                    Thread.sleep(period);
                } catch (InterruptedException e) {
                    return;
                }
                beat();
            }
        });
        thread.start();
        // scancel, a time limit or a pod eviction sends SIGTERM: give the held claims back at once, so another
        // worker (on any node) takes them over without waiting out the lease; after SIGKILL the lease does it
        this.onExit = Thread.ofPlatform().unstarted(this::releaseAll);
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    private final Thread onExit;

    private void releaseAll() {
        for (Claims.Holder h : held.values()) {
            try {
                claims.release(h);
                log.println("worker " + h.worker() + ": stopping; released the claim on " + h.item());
                log.flush();
            } catch (RuntimeException e) {
                // the lease runs out instead
            }
        }
    }

    void hold(Claims.Holder h) {
        lost.remove(h.item());
        held.put(h.item(), h);
    }

    void drop(String item) {
        held.remove(item);
    }

    /** Renews every held claim now (the thread calls this; tests may too). */
    void beat() {
        for (Claims.Holder h : held.values()) {
            try {
                if (!claims.renew(h)) {
                    held.remove(h.item());
                    lost.add(h.item());
                    log.println("worker " + h.worker() + ": lost the claim on " + h.item() + " (another worker took it over)");
                }
            } catch (RuntimeException e) { // a file-system hiccup: try again at the next beat; the lease has slack for it
                log.println("worker " + h.worker() + ": could not renew the claim on " + h.item() + ": " + e.getMessage());
            }
        }
    }

    /** Throws {@link ClaimLost} when the claim on {@code item} was lost. */
    void check(String item) {
        if (lost.contains(item)) throw new ClaimLost(item);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already: the hook runs
        }
    }
}
