package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Claims on a shared folder: one holder per item, a renewed lease keeps it, an expired lease or a
 * killed process (a real one, on this host) lets another worker take it over, the old holder
 * notices, and workers racing for one item (threads, each its own worker) get exactly one winner.
 */
class ClaimsTest {
    static final long LEASE = 10_000;

    /** A worker on another host (so only its lease tells whether it lives), with its own clock. */
    static Claims remote(Path dir, String name, AtomicLong clock) {
        return new Claims(dir, new Claims.Identity(name, "node-" + name, 4242, 1), LEASE, clock::get);
    }

    @Test
    void oneHolderPerItemAndDoneItemsAreNotClaimedAgain(@TempDir Path dir) throws Exception {
        AtomicLong t = new AtomicLong(1_000_000);
        Claims a = remote(dir, "a", t), b = remote(dir, "b", t);
        Claims.Holder h = a.tryClaim("cell-x").orElseThrow();
        assertEquals("a", a.holder("cell-x").orElseThrow().worker());
        assertTrue(b.tryClaim("cell-x").isEmpty(), "b must not claim an item a holds");
        a.markDone(h, "{\"ok\":true}");
        assertTrue(a.isDone("cell-x"));
        assertTrue(Files.notExists(a.claimFile("cell-x", h.generation())), "the claim is dropped once the item is done");
        assertTrue(b.tryClaim("cell-x").isEmpty(), "a done item is not claimed again");
        assertEquals("{\"ok\":true}", b.doneJson("cell-x").orElseThrow());
        try (Stream<Path> s = Files.list(a.claimDir("cell-x"))) {
            assertEquals(List.of(), s.toList(), "no temp files are left behind");
        }
    }

    @Test
    void aRenewedLeaseHoldsAndAnExpiredOneIsTakenOver(@TempDir Path dir) {
        AtomicLong t = new AtomicLong(1_000_000);
        Claims a = remote(dir, "a", t), b = remote(dir, "b", t);
        Claims.Holder h = a.tryClaim("dense-s0").orElseThrow();
        t.addAndGet(8_000);
        assertTrue(a.renew(h), "the holder renews its own claim");
        t.addAndGet(8_000); // 16 s after the claim, 8 s after the renewal: still within the 10 s lease
        assertTrue(b.tryClaim("dense-s0").isEmpty(), "a renewed claim holds");
        t.addAndGet(3_000); // 11 s without a heartbeat
        assertTrue(b.stale(b.holder("dense-s0").orElseThrow()));
        Claims.Holder taken = b.tryClaim("dense-s0").orElseThrow();
        assertEquals("b", b.holder("dense-s0").orElseThrow().worker());
        assertFalse(a.renew(h), "the old holder finds its claim gone at its next heartbeat");
        a.release(h);
        assertEquals(taken.token(), b.holder("dense-s0").orElseThrow().token(), "the old holder's release leaves the new claim alone");
    }

    @Test
    void aKilledWorkerOnThisHostIsTakenOverAtOnce(@TempDir Path dir) throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        try {
            long start = p.info().startInstant().orElseThrow().toEpochMilli();
            Claims dying = new Claims(dir, new Claims.Identity("dying", Claims.hostName(), p.pid(), start), 3_600_000);
            Claims other = new Claims(dir, Claims.Identity.current("other"), 3_600_000);
            dying.tryClaim("cell-y").orElseThrow();
            assertTrue(other.tryClaim("cell-y").isEmpty(), "the process lives and its lease (1 h) runs: the claim holds");
            p.destroyForcibly().waitFor();
            assertTrue(other.stale(other.holder("cell-y").orElseThrow()), "its process is gone from this host");
            assertTrue(other.tryClaim("cell-y").isPresent(), "taken over without waiting for the lease");
            assertEquals("other", other.holder("cell-y").orElseThrow().worker());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void workersRacingForItemsGetOneWinnerEach(@TempDir Path dir) throws Exception {
        int workers = 8, items = 40;
        AtomicLong t = new AtomicLong(1_000_000);
        // half of the items start with a stale claim of a dead worker, so the race is also over the takeover
        Claims dead = remote(dir, "dead", t);
        for (int i = 0; i < items; i += 2) dead.tryClaim("item-" + i).orElseThrow();
        t.addAndGet(LEASE + 1);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<String>>> won = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                Claims c = remote(dir, "w" + w, t);
                won.add(pool.submit(() -> {
                    go.await();
                    List<String> mine = new ArrayList<>();
                    for (int i = 0; i < items; i++) {
                        Optional<Claims.Holder> h = c.tryClaim("item-" + i);
                        if (h.isPresent()) mine.add(h.get().item());
                    }
                    return mine;
                }));
            }
            go.countDown();
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : won) all.addAll(f.get());
            assertEquals(items, all.size(), "every item was won exactly once: " + all);
            assertEquals(items, all.stream().distinct().count());
            for (int i = 0; i < items; i++) {
                String holder = dead.holder("item-" + i).orElseThrow().worker();
                assertTrue(holder.startsWith("w"), "item-" + i + " is held by " + holder);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theHeartbeatRenewsAndFlagsALostClaim(@TempDir Path dir) {
        AtomicLong t = new AtomicLong(1_000_000);
        Claims a = remote(dir, "a", t), b = remote(dir, "b", t);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Heartbeat beat = new Heartbeat(a, new PrintStream(log, true))) {
            Claims.Holder h = a.tryClaim("cell-z").orElseThrow();
            beat.hold(h);
            t.addAndGet(9_000);
            beat.beat();
            t.addAndGet(9_000);
            assertTrue(b.tryClaim("cell-z").isEmpty(), "renewed by the heartbeat at 9 s, so alive at 18 s");
            beat.check("cell-z");
            t.addAndGet(11_000);
            b.tryClaim("cell-z").orElseThrow();
            beat.beat();
            assertThrows(Heartbeat.ClaimLost.class, () -> beat.check("cell-z"));
            assertTrue(log.toString().contains("lost the claim on cell-z"), log.toString());
        }
    }
}
