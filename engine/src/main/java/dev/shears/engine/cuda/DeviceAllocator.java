package dev.shears.engine.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A caching allocator for device memory, the bookkeeping only: requests are rounded up to a size
 * class, a freed block goes on its class's free list and the next request of that class takes it, so
 * a training loop that asks for the same sizes every step calls the backend's malloc only in its first
 * step. When the backend is out of memory, every cached block is handed back and the malloc is tried
 * once more. Not thread safe (one per device stream), and no splitting or coalescing of blocks.
 * Pure Java over a {@link Backend}: pinned on the CPU by DeviceAllocatorTest with a fake backend.
 */
public final class DeviceAllocator {
    /** Where memory really comes from: cuMemAlloc/cuMemFree on a GPU, a fake in tests. */
    public interface Backend {
        /** A block of {@code bytes}; its address. @throws OutOfDeviceMemory when none is left */
        long malloc(long bytes);

        void free(long address);
    }

    /** The backend has no block of the size asked for. */
    public static final class OutOfDeviceMemory extends RuntimeException {
        public OutOfDeviceMemory(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Counters: backend calls, requests served from the cache, bytes held (in use and cached). */
    public record Stats(long backendMallocs, long backendFrees, long cacheHits, long requests, long bytesInUse, long bytesCached) {}

    /** Smallest class: 512 bytes (a CUDA allocation is 256-byte aligned anyway). */
    static final long MIN_CLASS = 512;

    private final Backend backend;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>(); // class bytes -> cached addresses
    private final Map<Long, Long> live = new HashMap<>();             // address -> class bytes, blocks handed out
    private long backendMallocs, backendFrees, cacheHits, requests, bytesInUse, bytesCached;

    public DeviceAllocator(Backend backend) {
        this.backend = backend;
    }

    /**
     * The size class of a request: at least {@link #MIN_CLASS}; up to 1 MiB the next power of two;
     * above, the next multiple of a quarter of the power of two below it (at most 25% waste), so the
     * few large activation sizes of a network each get their own class.
     */
    static long sizeClass(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("cannot allocate " + bytes + " bytes of device memory");
        if (bytes <= MIN_CLASS) return MIN_CLASS;
        long pow = Long.highestOneBit(bytes - 1) << 1; // next power of two >= bytes
        if (pow <= (1L << 20)) return pow;
        long step = (pow >> 1) >> 2;
        return (bytes + step - 1) / step * step;
    }

    /** A block of at least {@code bytes}; its address. Give it back with {@link #release}. */
    public long allocate(long bytes) {
        long cls = sizeClass(bytes);
        requests++;
        ArrayDeque<Long> list = free.get(cls);
        if (list != null && !list.isEmpty()) {
            long address = list.pop();
            cacheHits++;
            bytesCached -= cls;
            return handOut(address, cls);
        }
        long address;
        try {
            address = backend.malloc(cls);
        } catch (OutOfDeviceMemory e) {
            if (bytesCached == 0) throw e;
            emptyCache();
            try {
                address = backend.malloc(cls);
            } catch (OutOfDeviceMemory again) {
                throw new OutOfDeviceMemory(again.getMessage() + " (after returning the allocator's cache; " + bytesInUse
                        + " bytes were in use: use a smaller --batch)", again);
            }
        }
        backendMallocs++;
        return handOut(address, cls);
    }

    private long handOut(long address, long cls) {
        live.put(address, cls);
        bytesInUse += cls;
        return address;
    }

    /** Returns a block to its class's free list (the backend keeps it). */
    public void release(long address) {
        Long cls = live.remove(address);
        if (cls == null) throw new IllegalArgumentException("device address 0x" + Long.toHexString(address) + " was not handed out by this allocator (or was released twice)");
        bytesInUse -= cls;
        bytesCached += cls;
        free.computeIfAbsent(cls, k -> new ArrayDeque<>()).push(address);
    }

    /** Hands every cached block back to the backend; blocks in use stay. */
    public void emptyCache() {
        for (ArrayDeque<Long> list : free.values()) {
            while (!list.isEmpty()) {
                backend.free(list.pop());
                backendFrees++;
            }
        }
        bytesCached = 0;
    }

    /** The class size of a block handed out, in bytes. */
    public long blockBytes(long address) {
        Long cls = live.get(address);
        if (cls == null) throw new IllegalArgumentException("device address 0x" + Long.toHexString(address) + " is not in use");
        return cls;
    }

    public Stats stats() {
        return new Stats(backendMallocs, backendFrees, cacheHits, requests, bytesInUse, bytesCached);
    }
}
