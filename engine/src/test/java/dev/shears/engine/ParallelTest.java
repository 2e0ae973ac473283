package dev.shears.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void forRangeCoversEveryIndexExactlyOnce() {
        for (int n : new int[] {0, 1, 2, 3, 7, 100, 1001}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
            Parallel.forRange(n, 1, (from, to) -> {
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n=" + n + " i=" + i);
        }
    }

    @Test
    void chunksAndNestedCallsAllRun() {
        AtomicIntegerArray hits = new AtomicIntegerArray(10 * 5);
        Parallel.forEachChunk(10, c -> Parallel.forEachChunk(5, d -> hits.incrementAndGet(c * 5 + d)));
        for (int i = 0; i < 50; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void exceptionsReachTheCaller() {
        RuntimeException e = assertThrows(IllegalStateException.class, () -> Parallel.forEachChunk(8, c -> {
            if (c == 5) throw new IllegalStateException("chunk five");
        }));
        assertEquals("chunk five", e.getMessage());
        // the pool still works afterwards
        AtomicIntegerArray hits = new AtomicIntegerArray(4);
        Parallel.forEachChunk(4, hits::incrementAndGet);
        for (int i = 0; i < 4; i++) assertEquals(1, hits.get(i));
    }
}
