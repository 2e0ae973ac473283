package dev.shears.cli.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.train.LoaderSource;
import dev.shears.nn.train.Progress;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One worker of a sweep shared by many (a Slurm array task, a Kubernetes pod, or a process by
 * hand): claims the items of its shard, dense models before the cells that need them; while a
 * cell waits for a dense model trained elsewhere it works on its other items, then steals
 * unclaimed items of other shards, then waits (with a line now and then) and gives up with an
 * error after {@code denseWait}. Each finished item is written atomically under work/done; at
 * the end the merged results are written. Progress goes out as plain lines (no terminal in a
 * Slurm output file). Not a scheduler. Pinned by WorkerTest and SlurmSweepIT.
 */
final class Worker {
    /** What one worker did. */
    record Outcome(int ran, int failed, int lost, int done, int total) {}

    private final Plan plan;
    private final Path out;
    private final int shard, count;
    private final PrintStream log;
    private final Sweep sweep;
    private long leaseMillis = 300_000, denseWaitMillis = 86_400_000L, pollMillis = 2_000;
    private boolean steal = true, plots = true;
    private Report.Context context = Report.Context.of(List.of());
    private Sweep.Listener hooks = new Sweep.Listener() {};

    Worker(Plan plan, Path out, int shard, int count, PrintStream log) {
        if (count < 1 || shard < 0 || shard >= count) throw new IllegalArgumentException("--shard " + shard + "/" + count + ": expected I/N with 0 <= I < N");
        this.plan = plan;
        this.out = out;
        this.shard = shard;
        this.count = count;
        this.log = log;
        this.sweep = new Sweep(plan, out, log).progress(Progress.Mode.LINES);
    }

    Worker lease(long millis) {
        this.leaseMillis = millis;
        return this;
    }

    Worker denseWait(long millis) {
        this.denseWaitMillis = millis;
        return this;
    }

    Worker poll(long millis) {
        this.pollMillis = millis;
        return this;
    }

    /** Whether to take unclaimed items of other shards once this shard's are done or blocked. */
    Worker steal(boolean s) {
        this.steal = s;
        return this;
    }

    Worker plots(boolean p) {
        this.plots = p;
        return this;
    }

    Worker progress(Progress.Mode m) {
        sweep.progress(m);
        return this;
    }

    Worker context(Report.Context c) {
        this.context = c;
        sweep.context(c);
        return this;
    }

    /** Test hooks: called on each cell and training step (a throw simulates a crash). */
    Worker hooks(Sweep.Listener l) {
        this.hooks = l;
        return this;
    }

    Outcome run() {
        WorkFolder.writeOrCheck(plan, out);
        String name = workerName();
        Claims claims = new Claims(out, Claims.Identity.current(name), leaseMillis);
        List<WorkItems.Item> items = WorkItems.of(plan);
        Map<String, Integer> shardOf = WorkItems.shards(items, count);
        Map<String, WorkItems.Item> byId = new LinkedHashMap<>();
        for (WorkItems.Item it : items) byId.put(it.id(), it);
        List<WorkItems.Item> mine = items.stream().filter(i -> shardOf.get(i.id()) == shard).toList();
        List<WorkItems.Item> others = items.stream().filter(i -> shardOf.get(i.id()) != shard).toList();
        long started = System.currentTimeMillis();
        say("worker %s, shard %d of %d: %d of %d items are this shard's (%d dense, %d cells); %d already done in %s", name, shard, count, mine.size(),
                items.size(), mine.stream().filter(WorkItems.Item::dense).count(), mine.stream().filter(i -> !i.dense()).count(),
                items.stream().filter(i -> claims.isDone(i.id())).count(), out);
        int ran = 0, failed = 0, lost = 0;
        java.util.Set<String> blocked = new java.util.HashSet<>();
        Long waitingSince = null;
        long lastWaitLine = 0;
        ExperimentData data = null;
        LoaderSource test = null;
        try (Heartbeat beat = new Heartbeat(claims, log)) {
            Sweep.Listener guard = new Sweep.Listener() {
                @Override
                public void cellStarting(Plan.Cell cell, int index, int total) {
                    hooks.cellStarting(cell, index, total);
                }

                @Override
                public void trainStep(Plan.Cell cell, int epoch, int step) {
                    beat.check(WorkItems.cellId(cell));
                    hooks.trainStep(cell, epoch, step);
                }

                @Override
                public void denseStep(long seed, int epoch, int step) {
                    beat.check(WorkItems.denseId(seed));
                    hooks.denseStep(seed, epoch, step);
                }
            };
            sweep.listener(guard);
            while (true) {
                Optional<Claims.Holder> claim = Optional.empty();
                WorkItems.Item item = null;
                for (WorkItems.Item it : candidates(mine, others, byId, claims, started)) {
                    claim = claims.tryClaim(it.id());
                    if (claim.isPresent()) {
                        item = it;
                        break;
                    }
                }
                if (item != null) {
                    waitingSince = null;
                    Claims.Holder h = claim.get();
                    beat.hold(h);
                    String from = shardOf.get(item.id()) == shard ? "" : " (stolen from shard " + shardOf.get(item.id()) + ")";
                    say("worker %s: claimed %s%s", name, item.describe(), from);
                    long t0 = System.nanoTime();
                    try {
                        if (data == null) {
                            data = ExperimentData.open(plan);
                            checkMinimumThreshold(data);
                            test = LoaderSource.evaluation(data.test(), 256);
                        }
                        String json = runItem(item, claims, data, test, guard);
                        beat.check(item.id());
                        beat.drop(item.id());
                        claims.markDone(h, json);
                        ran++;
                        say("worker %s: finished %s in %.1f s (%d of %d items done)", name, item.describe(), (System.nanoTime() - t0) / 1e9,
                                items.stream().filter(i -> claims.isDone(i.id())).count(), items.size());
                    } catch (Heartbeat.ClaimLost e) {
                        beat.drop(item.id());
                        lost++;
                        say("worker %s: %s", name, e.getMessage());
                    } catch (RuntimeException e) {
                        beat.drop(item.id());
                        claims.markFailed(h, String.valueOf(e.getMessage()));
                        failed++;
                        say("worker %s: FAILED %s: %s (recorded in %s)", name, item.describe(), e.getMessage(), claims.failedFile(item.id()));
                    }
                    continue;
                }
                // nothing to claim now: finished, or waiting for a dense model trained elsewhere
                List<WorkItems.Item> waiting = new ArrayList<>();
                for (WorkItems.Item it : mine) {
                    if (claims.isDone(it.id()) || failedBefore(claims, it, Long.MAX_VALUE)) continue;
                    String need = it.needs(plan);
                    if (need == null || claims.isDone(need)) continue; // claimed by a live worker: theirs now
                    Optional<Claims.Failure> f = claims.failure(need);
                    if (f.isPresent()) {
                        if (!blocked.add(it.id())) continue;
                        say("worker %s: %s cannot run: the %s failed (%s)", name, it.describe(), byId.get(need).describe(), f.get().firstLine());
                        failed++;
                        continue;
                    }
                    waiting.add(it);
                }
                if (waiting.isEmpty()) break;
                long now = System.currentTimeMillis();
                if (waitingSince == null) waitingSince = now;
                String need = waiting.getFirst().needs(plan);
                if (now - waitingSince > denseWaitMillis) {
                    throw new IllegalStateException("gave up after waiting " + (now - waitingSince) / 1000 + " s for the " + byId.get(need).describe() + " ("
                            + holderText(claims, need) + "), which " + waiting.size() + " cells of shard " + shard + " need; rerun this worker (or raise --dense-wait)"
                            + " once it is done");
                }
                if (now - lastWaitLine > 60_000) {
                    say("worker %s: waiting for the %s (%s); %d cells of this shard need it", name, byId.get(need).describe(), holderText(claims, need), waiting.size());
                    lastWaitLine = now;
                }
                sleep(pollMillis);
            }
        } finally {
            if (test != null) test.close();
        }
        long done = items.stream().filter(i -> claims.isDone(i.id())).count();
        List<CellResult> cells = WorkFolder.report(plan, out, context, plots, log);
        say("worker %s: ran %d items (%d failed, %d lost); %d of %d items done in the folder, %d of %d cells in results.csv", name, ran, failed, lost, done,
                items.size(), cells.size(), plan.cells().size());
        return new Outcome(ran, failed, lost, (int) done, items.size());
    }

    /**
     * Items to try, in order: this shard's items whose dense model is ready (dense models first),
     * then the dense models this shard's cells wait for, then (stealing) other shards' ready items.
     */
    private List<WorkItems.Item> candidates(List<WorkItems.Item> mine, List<WorkItems.Item> others, Map<String, WorkItems.Item> byId, Claims claims, long started) {
        List<WorkItems.Item> c = new ArrayList<>();
        for (WorkItems.Item it : mine) if (ready(it, claims, started)) c.add(it);
        for (WorkItems.Item it : mine) {
            String need = it.needs(plan);
            if (need != null && !claims.isDone(need) && !c.contains(byId.get(need)) && !failedBefore(claims, byId.get(need), started)) c.add(byId.get(need));
        }
        if (steal) for (WorkItems.Item it : others) if (ready(it, claims, started) && !c.contains(it)) c.add(it);
        return c;
    }

    private boolean ready(WorkItems.Item it, Claims claims, long started) {
        if (claims.isDone(it.id()) || failedBefore(claims, it, started)) return false;
        String need = it.needs(plan);
        return need == null || claims.isDone(need);
    }

    /** Whether the item failed in this round (after this worker started): a rerun retries earlier failures, not its siblings'. */
    private static boolean failedBefore(Claims claims, WorkItems.Item it, long startedAt) {
        Optional<Claims.Failure> f = claims.failure(it.id());
        return f.isPresent() && (startedAt == Long.MAX_VALUE || f.get().at() >= startedAt - 1000);
    }

    /** Runs one item and returns its done record. */
    private String runItem(WorkItems.Item item, Claims claims, ExperimentData data, LoaderSource test, Sweep.Listener guard) {
        if (item.dense()) {
            long t0 = System.nanoTime();
            Path ck = sweep.denseModel(data, test, item.seed());
            double acc = sweep.denseAccuracy(ck, test);
            JsonObject o = new JsonObject();
            o.addProperty("item", item.id());
            o.addProperty("checkpoint", out.toAbsolutePath().relativize(ck.toAbsolutePath()).toString());
            o.addProperty("accuracy", acc);
            o.addProperty("seconds", (System.nanoTime() - t0) / 1e9);
            o.addProperty("host", Sweep.host());
            return Report.pretty(o);
        }
        Plan.Cell c = item.cell();
        Path dense = null;
        double denseAcc = Double.NaN;
        String need = item.needs(plan);
        if (need != null) {
            JsonObject d = JsonParser.parseString(claims.doneJson(need).orElseThrow()).getAsJsonObject();
            dense = out.resolve(d.get("checkpoint").getAsString());
            denseAcc = d.get("accuracy").getAsDouble();
        } else if (!c.method().equals("gradual-global")) {
            dense = sweep.denseModel(data, test, c.seed()); // the plan's given checkpoint
            denseAcc = sweep.denseAccuracy(dense, test);
        }
        guard.cellStarting(c, plan.cells().indexOf(c) + 1, plan.cells().size());
        CellResult r = sweep.runItem(c, data, test, dense, denseAcc);
        return r.json().toString();
    }

    private void checkMinimumThreshold(ExperimentData data) {
        if (!plan.methods().contains("global-mt")) return;
        try (Network probe = ModelZoo.create(plan.model(), data.modelConfig(0, plan.modelOptions()))) {
            Methods.checkMinimumThreshold(probe, plan.mt(), plan.mtMode(), plan.sparsities());
        }
    }

    private static String holderText(Claims claims, String item) {
        return claims.holder(item).map(h -> "claimed by worker " + h.worker() + ", heartbeat " + (System.currentTimeMillis() - h.heartbeat()) / 1000 + " s ago")
                .orElse("not claimed yet");
    }

    /** e.g. "node7:1234 (slurm 81_2)": enough to find the process and its output file. */
    private static String workerName() {
        String job = System.getenv("SLURM_ARRAY_JOB_ID") != null ? " slurm " + System.getenv("SLURM_ARRAY_JOB_ID") + "_" + System.getenv("SLURM_ARRAY_TASK_ID")
                : System.getenv("SLURM_JOB_ID") != null ? " slurm " + System.getenv("SLURM_JOB_ID")
                : System.getenv("JOB_COMPLETION_INDEX") != null ? " k8s index " + System.getenv("JOB_COMPLETION_INDEX") : "";
        return Claims.hostName() + ":" + ProcessHandle.current().pid() + job;
    }

    private void say(String format, Object... args) {
        log.printf(Locale.ROOT, format + "%n", args);
        log.flush();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting", e);
        }
    }
}
