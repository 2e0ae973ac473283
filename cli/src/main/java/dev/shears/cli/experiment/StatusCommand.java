package dev.shears.cli.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.shears.nn.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears experiment status --out DIR}: every item of a sweep folder as done, running
 * (which worker, since when, the age of its last heartbeat), stale (lease run out: the next worker
 * takes it over), failed (the error's first line) or pending, and the time left, scaled from the
 * items done so far. Reads files only; safe while workers run. Pinned by WorkerTest.
 */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show each item of a sweep folder: done, running (worker, since, lease age), pending or failed; and the time left.")
final class StatusCommand implements Runnable {
    @Option(names = "--out", required = true, description = "The sweep folder (the --out of the workers).")
    Path out;

    @Override
    public void run() {
        System.out.print(status(out, System.currentTimeMillis()));
    }

    /** The status table and summary. */
    static String status(Path out, long now) {
        Plan plan = WorkFolder.read(out);
        Claims claims = new Claims(out, Claims.Identity.current("status"), 300_000);
        Map<String, CellResult> journal = new CellStore(out).load(plan.fingerprint()).cells();
        List<WorkItems.Item> items = WorkItems.of(plan);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "sweep %s (plan %s) in %s%n", plan.name(), plan.fingerprint(), out));
        int done = 0, running = 0, failed = 0, pending = 0, stale = 0;
        double doneCost = 0, doneSeconds = 0, leftCost = 0;
        Set<String> workers = new HashSet<>();
        List<String> lines = new ArrayList<>();
        for (WorkItems.Item it : items) {
            String state;
            Optional<Double> secs = seconds(claims, it, journal);
            if (secs.isPresent() || finishedElsewhere(plan, out, it, journal)) {
                done++;
                if (secs.isPresent()) {
                    doneCost += it.cost();
                    doneSeconds += secs.get();
                }
                state = "done" + secs.map(s -> String.format(Locale.ROOT, " (%.1f s)", s)).orElse("");
            } else {
                leftCost += it.cost();
                Optional<Claims.Holder> h = claims.holder(it.id());
                Optional<Claims.Failure> f = claims.failure(it.id());
                if (h.isPresent()) {
                    long age = (now - h.get().heartbeat()) / 1000;
                    if (claims.stale(h.get())) {
                        stale++;
                        state = String.format(Locale.ROOT, "stale    worker %s, last heartbeat %d s ago (its lease ran out or its process is gone): the next worker takes it over",
                                h.get().worker(), age);
                    } else {
                        running++;
                        workers.add(h.get().worker());
                        state = String.format(Locale.ROOT, "running  worker %s since %s (lease age %d s of %d s)", h.get().worker(),
                                Instant.ofEpochMilli(h.get().since()).truncatedTo(ChronoUnit.SECONDS), age, h.get().leaseMillis() / 1000);
                    }
                } else if (f.isPresent()) {
                    failed++;
                    state = "failed   " + f.get().firstLine();
                } else {
                    pending++;
                    String need = it.needs(plan);
                    state = "pending" + (need != null && !claims.isDone(need) ? " (needs " + need + ")" : "");
                }
            }
            lines.add(String.format(Locale.ROOT, "  %-34s %s%n", it.id(), state));
        }
        lines.forEach(b::append);
        b.append(String.format(Locale.ROOT, "%d items: %d done, %d running, %d stale, %d failed, %d pending%n", items.size(), done, running, stale, failed, pending));
        if (done == items.size()) {
            b.append("finished; merge the results with: shears experiment report --out ").append(out).append('\n');
        } else if (doneCost > 0 && doneSeconds > 0) {
            double left = doneSeconds / doneCost * leftCost / Math.max(1, workers.size());
            b.append(String.format(Locale.ROOT, "time left: %s with %d worker%s running (scaled from the %.0f s the finished items took)%n", Estimate.human(left),
                    Math.max(1, workers.size()), workers.size() == 1 ? "" : "s", doneSeconds));
        } else {
            b.append("time left: unknown until an item finishes (shears experiment --dry-run estimates the whole plan)\n");
        }
        return b.toString();
    }

    /** Seconds a finished item took, from its done record (or the single-process journal). */
    private static Optional<Double> seconds(Claims claims, WorkItems.Item it, Map<String, CellResult> journal) {
        Optional<String> d = claims.doneJson(it.id());
        if (d.isPresent()) {
            JsonObject o = JsonParser.parseString(d.get()).getAsJsonObject();
            return Optional.of(o.has("seconds") ? o.get("seconds").getAsDouble() : 0.0);
        }
        if (!it.dense() && journal.containsKey(it.cell().key())) return Optional.of(journal.get(it.cell().key()).seconds());
        return Optional.empty();
    }

    /** A dense model a single process trained in this folder (no done record). */
    private static boolean finishedElsewhere(Plan plan, Path out, WorkItems.Item it, Map<String, CellResult> journal) {
        if (!it.dense()) return false;
        Path dir = out.resolve(Sweep.DENSE_DIR).resolve(plan.denseFingerprint() + "-s" + it.seed());
        try {
            return Files.isRegularFile(dir.resolve(Trainer.LAST)) && Trainer.saved(dir).epochsDone() >= plan.dense().epochs();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
