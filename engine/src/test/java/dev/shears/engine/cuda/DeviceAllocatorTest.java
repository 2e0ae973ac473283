package dev.shears.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The caching allocator's bookkeeping against a fake backend that checks every malloc and free. */
class DeviceAllocatorTest {
    /** A device of {@code capacity} bytes: hands out fresh addresses, refuses double frees and unknown addresses. */
    static final class FakeBackend implements DeviceAllocator.Backend {
        final long capacity;
        final Map<Long, Long> blocks = new HashMap<>();
        long next = 0x7f0000000000L, used, mallocs, frees;

        FakeBackend(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long malloc(long bytes) {
            if (used + bytes > capacity) throw new DeviceAllocator.OutOfDeviceMemory("fake: out of memory for " + bytes + " bytes", null);
            long a = next;
            next += bytes + 256;
            blocks.put(a, bytes);
            used += bytes;
            mallocs++;
            return a;
        }

        @Override
        public void free(long address) {
            Long b = blocks.remove(address);
            if (b == null) throw new AssertionError("fake: free of an address not allocated: " + address);
            used -= b;
            frees++;
        }
    }

    @Test
    void sizeClassesCoverTheRequestWithBoundedWaste() {
        SplittableRandom r = new SplittableRandom(1);
        for (int t = 0; t < 20000; t++) {
            long bytes = t < 5000 ? t : r.nextLong(1, 1L << 34);
            long cls = DeviceAllocator.sizeClass(bytes);
            assertTrue(cls >= bytes && cls >= DeviceAllocator.MIN_CLASS, bytes + " -> " + cls);
            if (bytes > (1L << 20)) assertTrue(cls <= bytes * 1.25 + 1, bytes + " -> " + cls + " wastes more than 25%");
            if (bytes > DeviceAllocator.MIN_CLASS && bytes <= (1L << 20)) assertEquals(Long.bitCount(cls), 1, bytes + " -> " + cls);
            assertEquals(cls, DeviceAllocator.sizeClass(cls), "a class is its own class");
        }
        assertThrows(IllegalArgumentException.class, () -> DeviceAllocator.sizeClass(-1));
    }

    @Test
    void aSteadyLoopMallocsOnlyInItsFirstStep() {
        FakeBackend fake = new FakeBackend(1L << 40);
        DeviceAllocator alloc = new DeviceAllocator(fake);
        long[] sizes = {4 * 128 * 16 * 32 * 32, 4 * 128 * 10, 4 * 464154, 4 * 128 * 16 * 32 * 32, 513, 1 << 20, 3 * (1 << 20) + 5};
        for (int step = 0; step < 5; step++) {
            List<Long> held = new ArrayList<>();
            for (long s : sizes) held.add(alloc.allocate(s));
            assertEquals(held.size(), held.stream().distinct().count(), "two live blocks share an address");
            for (long a : held) alloc.release(a);
            if (step == 0) assertEquals(sizes.length, fake.mallocs);
        }
        DeviceAllocator.Stats s = alloc.stats();
        assertEquals(sizes.length, s.backendMallocs(), "mallocs after the first step");
        assertEquals(4L * sizes.length, s.cacheHits());
        assertEquals(5L * sizes.length, s.requests());
        assertEquals(0, s.bytesInUse());
        assertEquals(fake.used, s.bytesCached());
        alloc.emptyCache();
        assertEquals(0, fake.used);
        assertEquals(fake.mallocs, fake.frees);
        assertEquals(0, alloc.stats().bytesCached());
    }

    @Test
    void aReleasedBlockIsReusedOnlyForItsClass() {
        FakeBackend fake = new FakeBackend(1L << 30);
        DeviceAllocator alloc = new DeviceAllocator(fake);
        long a = alloc.allocate(4096);
        alloc.release(a);
        long b = alloc.allocate(8192);
        assertNotEquals(a, b, "an 8 KiB request took a 4 KiB block");
        assertEquals(a, alloc.allocate(4000), "a 4000-byte request should reuse the cached 4 KiB block");
        assertEquals(4096, alloc.blockBytes(a));
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetriesOnce() {
        FakeBackend fake = new FakeBackend(64 * 1024);
        DeviceAllocator alloc = new DeviceAllocator(fake);
        long a = alloc.allocate(32 * 1024), b = alloc.allocate(16 * 1024);
        alloc.release(a);
        alloc.release(b);
        long c = alloc.allocate(64 * 1024); // only fits once the cached 48 KiB is freed
        assertEquals(2, fake.frees);
        assertEquals(64 * 1024, fake.used);
        DeviceAllocator.OutOfDeviceMemory e = assertThrows(DeviceAllocator.OutOfDeviceMemory.class, () -> alloc.allocate(1024));
        assertTrue(e.getMessage().contains("fake: out of memory"), e.getMessage());
        alloc.release(c);
        alloc.emptyCache();
        assertEquals(0, fake.used);
    }

    @Test
    void foreignAndDoubleReleasesAreNamed() {
        DeviceAllocator alloc = new DeviceAllocator(new FakeBackend(1 << 20));
        long a = alloc.allocate(100);
        alloc.release(a);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> alloc.release(a));
        assertTrue(e.getMessage().contains("released twice"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> alloc.release(12345));
    }
}
