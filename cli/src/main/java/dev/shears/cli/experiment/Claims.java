package dev.shears.cli.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.shears.nn.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Claims on work items in a sweep folder shared by workers, possibly on a network file system.
 * An item's claims are numbered generations, {@code work/claims/ID/N.json}; the highest one holds
 * the item. A claim is made by creating the next generation with an atomic exclusive create (a
 * hard link of a fully written temp file, the NFS-safe idiom; {@code CREATE_NEW} where links are
 * not supported), never with {@code flock}, so of two workers racing for a generation exactly one
 * wins, and a worker that finds a higher generation after creating its own backs off. A claim
 * carries a heartbeat its worker renews (rewriting its own file only); it is stale when its lease
 * ran out, or at once when its process is gone from this same host, and then the next generation
 * takes the item over. {@code work/done/ID.json} (atomic) marks a finished item,
 * {@code work/failed/ID.txt} a failed one. Pinned by ClaimsTest.
 */
final class Claims {
    static final String WORK = "work", CLAIMS = "claims", DONE = "done", FAILED = "failed";

    /** Who holds an item: as written in its claim file. Times in epoch milliseconds. */
    record Holder(String item, long generation, String token, String worker, String host, long pid, long processStart, long since, long heartbeat, long leaseMillis) {
        JsonObject json() {
            JsonObject o = new JsonObject();
            o.addProperty("item", item);
            o.addProperty("token", token);
            o.addProperty("worker", worker);
            o.addProperty("host", host);
            o.addProperty("pid", pid);
            o.addProperty("process_start", processStart);
            o.addProperty("since", Instant.ofEpochMilli(since).toString());
            o.addProperty("heartbeat", Instant.ofEpochMilli(heartbeat).toString());
            o.addProperty("lease_ms", leaseMillis);
            return o;
        }

        static Holder parse(String text, long generation) {
            JsonObject o = JsonParser.parseString(text).getAsJsonObject();
            return new Holder(o.get("item").getAsString(), generation, o.get("token").getAsString(), o.get("worker").getAsString(), o.get("host").getAsString(),
                    o.get("pid").getAsLong(), o.get("process_start").getAsLong(), Instant.parse(o.get("since").getAsString()).toEpochMilli(),
                    Instant.parse(o.get("heartbeat").getAsString()).toEpochMilli(), o.get("lease_ms").getAsLong());
        }

        Holder beat(long now) {
            return new Holder(item, generation, token, worker, host, pid, processStart, since, now, leaseMillis);
        }
    }

    /** What this process knows about itself, written into its claims. */
    record Identity(String worker, String host, long pid, long processStart) {
        static Identity current(String worker) {
            ProcessHandle me = ProcessHandle.current();
            return new Identity(worker, hostName(), me.pid(), me.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
        }
    }

    private final Path work;
    private final Identity me;
    private final long leaseMillis;
    private final LongSupplier clock;

    Claims(Path out, Identity me, long leaseMillis) {
        this(out, me, leaseMillis, System::currentTimeMillis);
    }

    Claims(Path out, Identity me, long leaseMillis, LongSupplier clock) {
        if (leaseMillis < 1000) throw new IllegalArgumentException("the lease must be at least 1 s, got " + leaseMillis + " ms");
        this.work = out.resolve(WORK);
        this.me = me;
        this.leaseMillis = leaseMillis;
        this.clock = clock;
    }

    Identity identity() {
        return me;
    }

    long leaseMillis() {
        return leaseMillis;
    }

    /** The folder of an item's claim generations. */
    Path claimDir(String item) {
        return work.resolve(CLAIMS).resolve(item);
    }

    Path claimFile(String item, long generation) {
        return claimDir(item).resolve(generation + ".json");
    }

    Path doneFile(String item) {
        return work.resolve(DONE).resolve(item + ".json");
    }

    Path failedFile(String item) {
        return work.resolve(FAILED).resolve(item + ".txt");
    }

    // ---------------------------------------------------------------- claiming

    /** Claims {@code item} for this worker: the holder record, or empty when it is done or held by a live worker. */
    Optional<Holder> tryClaim(String item) {
        for (int attempt = 0; attempt < 8; attempt++) {
            if (isDone(item)) return Optional.empty();
            long top = top(item);
            if (top > 0) {
                Optional<Holder> h = read(item, top);
                if (h.isEmpty()) continue; // released or cleaned up in between: look again
                if (!stale(h.get())) return Optional.empty();
            }
            long now = clock.getAsLong(), gen = top + 1;
            Holder mine = new Holder(item, gen, UUID.randomUUID().toString(), me.worker(), me.host(), me.pid(), me.processStart(), now, now, leaseMillis);
            if (!createExclusive(claimFile(item, gen), Report.pretty(mine.json()))) continue; // another worker made that generation first
            if (top(item) != gen) { // a later generation appeared (this worker's view was old): it holds the item
                delete(claimFile(item, gen));
                continue;
            }
            for (long g : generations(item)) if (g < gen) delete(claimFile(item, g)); // the stale claims taken over
            if (isDone(item)) { // finished between the check and the claim: nothing to do
                release(mine);
                return Optional.empty();
            }
            return Optional.of(mine);
        }
        return Optional.empty();
    }

    /** The generations of an item's claims present now, ascending. */
    private List<Long> generations(String item) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(claimDir(item))) {
            s.forEach(p -> {
                String n = p.getFileName().toString();
                if (n.endsWith(".json") && n.substring(0, n.length() - 5).matches("\\d{1,18}")) out.add(Long.parseLong(n.substring(0, n.length() - 5)));
            });
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + claimDir(item) + ": " + e.getMessage(), e);
        }
        out.sort(null);
        return out;
    }

    /** The highest generation (0 when the item has no claim). */
    private long top(String item) {
        List<Long> g = generations(item);
        return g.isEmpty() ? 0 : g.getLast();
    }

    private Optional<Holder> read(String item, long gen) {
        try {
            return Optional.of(Holder.parse(Files.readString(claimFile(item, gen), StandardCharsets.UTF_8), gen));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void delete(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the claim " + f + ": " + e.getMessage(), e);
        }
    }

    /** Whether the claim's worker is gone: its lease ran out, or it was a process on this host that no longer exists. */
    boolean stale(Holder h) {
        if (clock.getAsLong() - h.heartbeat() > h.leaseMillis()) return true;
        if (!h.host().equals(me.host())) return false;
        if (h.pid() == me.pid() && h.processStart() == me.processStart()) return false;
        Optional<ProcessHandle> p = ProcessHandle.of(h.pid());
        if (p.isEmpty() || !p.get().isAlive()) return true;
        long start = p.get().info().startInstant().map(Instant::toEpochMilli).orElse(h.processStart());
        return h.processStart() != 0 && Math.abs(start - h.processStart()) > 2000; // the pid was reused by another process
    }

    /** Renews this worker's claim: false when the claim is no longer ours (a later generation took over, or it was removed). */
    boolean renew(Holder mine) {
        if (top(mine.item()) != mine.generation()) return false;
        AtomicFiles.writeString(claimFile(mine.item(), mine.generation()), Report.pretty(mine.beat(clock.getAsLong()).json()));
        return true;
    }

    /** Removes this worker's claim (its own generation only). */
    void release(Holder mine) {
        delete(claimFile(mine.item(), mine.generation()));
    }

    /** The claim that holds {@code item} now (the highest generation), if any. */
    Optional<Holder> holder(String item) {
        for (int attempt = 0; attempt < 3; attempt++) {
            long top = top(item);
            if (top == 0) return Optional.empty();
            Optional<Holder> h = read(item, top);
            if (h.isPresent()) return h;
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------- outcomes

    boolean isDone(String item) {
        return Files.isRegularFile(doneFile(item));
    }

    /** Records a finished item (atomically), clears an earlier failure, then drops the claim. */
    void markDone(Holder mine, String json) {
        AtomicFiles.writeString(doneFile(mine.item()), json);
        Report.readable(doneFile(mine.item()));
        try {
            Files.deleteIfExists(failedFile(mine.item()));
        } catch (IOException ignored) {
            // a stale failure note next to a done item is ignored by status
        }
        release(mine);
    }

    void markFailed(Holder mine, String error) {
        AtomicFiles.writeString(failedFile(mine.item()), mine.worker() + " at " + Instant.ofEpochMilli(clock.getAsLong()) + ": " + error + "\n");
        release(mine);
    }

    Optional<String> doneJson(String item) {
        try {
            return Optional.of(Files.readString(doneFile(item), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + doneFile(item) + ": " + e.getMessage(), e);
        }
    }

    /** The failure recorded for {@code item} and when (epoch ms), if any and the item is not done since. */
    Optional<Failure> failure(String item) {
        if (isDone(item)) return Optional.empty();
        try {
            Path f = failedFile(item);
            String text = Files.readString(f, StandardCharsets.UTF_8).strip();
            return Optional.of(new Failure(text.lines().findFirst().orElse(""), Files.getLastModifiedTime(f).toMillis()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    record Failure(String firstLine, long at) {}

    // ---------------------------------------------------------------- files

    /** Creates {@code file} with {@code text} only if it does not exist; false when it does. The content is complete when the name appears. */
    static boolean createExclusive(Path file, String text) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.createLink(file, tmp);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException | IOException e) {
                if (e instanceof IOException && Files.exists(file)) return false;
                try { // no hard links here: an exclusive create (O_EXCL) and a write
                    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    return true;
                } catch (FileAlreadyExistsException taken) {
                    return false;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    /** This machine's name (Slurm and Kubernetes give every node or pod its own). */
    static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!h.isEmpty()) return h;
        } catch (IOException | RuntimeException ignored) {
            // not Linux: ask the resolver
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }
}
