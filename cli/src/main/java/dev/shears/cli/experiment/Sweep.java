package dev.shears.cli.experiment;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.train.EpochMetrics;
import dev.shears.nn.train.Evaluator;
import dev.shears.nn.train.LoaderSource;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainListener;
import dev.shears.nn.train.TrainResult;
import dev.shears.nn.train.Trainer;
import dev.shears.pruning.CubicSchedule;
import dev.shears.pruning.GradualPruning;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import dev.shears.pruning.SparsityReport;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a {@link Plan}: trains (or resumes) one dense model per seed in {@code dense/}, then for
 * every cell not yet in the journal: restore the dense weights, prune, evaluate, fine-tune,
 * evaluate, and append the cell to {@code cells.jsonl} (fsynced) before the next one; the
 * results files are rewritten after each cell. gradual-global instead trains from the seed's
 * initial weights with the dense recipe while pruning along a cubic schedule (the pruning module's
 * GradualPruning; the paper does not give its schedule). A kill loses at most the cell in flight
 * (and the dense epoch in flight); the rerun skips finished cells, also those that workers of a
 * sharded run ({@link Worker}) finished in the same folder. Pinned by SweepTest.
 */
public final class Sweep {
    /** Folder of the dense runs inside the output folder. */
    static final String DENSE_DIR = "dense";

    /** Hooks for progress displays and for tests that simulate a crash. */
    public interface Listener {
        default void cellStarting(Plan.Cell cell, int index, int total) {}

        default void trainStep(Plan.Cell cell, int epoch, int step) {}

        default void cellDone(CellResult result, int done, int total) {}

        /** A training step of the dense model of {@code seed}. */
        default void denseStep(long seed, int epoch, int step) {}
    }

    /** What a run produced: every cell of the plan that is finished, in plan order, and how many ran now. */
    public record Outcome(List<CellResult> cells, int reused, int ran, int total) {}

    private final Plan plan;
    private final Path out;
    private final PrintStream log;
    private Progress.Mode progress = Progress.Mode.AUTO;
    private Listener listener = new Listener() {};
    private Report.Context context;
    private boolean plots = true;

    public Sweep(Plan plan, Path out, PrintStream log) {
        this.plan = Objects.requireNonNull(plan);
        this.out = Objects.requireNonNull(out);
        this.log = Objects.requireNonNull(log);
        this.context = Report.Context.of(List.of());
    }

    public Sweep progress(Progress.Mode m) {
        this.progress = m;
        return this;
    }

    public Sweep listener(Listener l) {
        this.listener = Objects.requireNonNull(l);
        return this;
    }

    /** The command line and notes for the report. */
    public Sweep context(Report.Context c) {
        this.context = c;
        return this;
    }

    /** Whether to draw the PNG plots at the end (tests of the journal may skip them). */
    public Sweep plots(boolean p) {
        this.plots = p;
        return this;
    }

    public Outcome run() {
        try (FolderLock lock = FolderLock.acquire(out)) {
            return runLocked();
        }
    }

    private Outcome runLocked() {
        CellStore store = new CellStore(out);
        CellStore.Loaded loaded = store.load(plan.fingerprint());
        List<Plan.Cell> grid = plan.cells();
        Map<String, CellResult> done = new LinkedHashMap<>();
        Map<String, CellResult> byWorkers = WorkFolder.workerCells(plan, out); // cells that workers of a sharded run finished here
        for (Plan.Cell c : grid) {
            if (loaded.cells().containsKey(c.key())) done.put(c.key(), loaded.cells().get(c.key()));
            else if (byWorkers.containsKey(c.key())) done.put(c.key(), byWorkers.get(c.key()));
        }
        int reused = done.size();
        Report.writeText(out.resolve("plan.json"), Report.pretty(plan.json()));
        if (reused > 0) log.printf(Locale.ROOT, "resuming: %d of %d cells already finished in %s%n", reused, grid.size(), store.file());
        if (loaded.foreign() > 0) log.printf(Locale.ROOT, "note: %s also holds %d cells of another plan (different recipe); they are ignored%n", store.file(), loaded.foreign());
        if (loaded.truncatedTail()) log.println("note: the last line of " + store.file() + " was cut short (a kill mid-write); that cell runs again");
        List<Plan.Cell> pending = grid.stream().filter(c -> !done.containsKey(c.key())).toList();
        int ran = 0;
        if (!pending.isEmpty()) {
            ExperimentData data = ExperimentData.open(plan);
            if (plan.methods().contains("global-mt")) {
                try (Network probe = ModelZoo.create(plan.model(), data.modelConfig(0, plan.modelOptions()))) {
                    Methods.checkMinimumThreshold(probe, plan.mt(), plan.mtMode(), plan.sparsities());
                }
            }
            Map<Long, Path> denseFor = new HashMap<>();
            Map<Long, Double> denseAcc = new HashMap<>();
            SweepProgress bar = new SweepProgress(log, grid.size(), reused);
            try (LoaderSource test = LoaderSource.evaluation(data.test(), 256)) {
                for (Plan.Cell c : pending) {
                    int index = grid.indexOf(c) + 1;
                    double dAcc = Double.NaN;
                    Path dense = null;
                    if (!c.method().equals("gradual-global")) {
                        dense = denseFor.computeIfAbsent(c.seed(), s -> denseModel(data, test, s));
                        dAcc = denseAcc.computeIfAbsent(c.seed(), s -> denseAccuracy(denseFor.get(s), test));
                    }
                    bar.starting(c, index);
                    listener.cellStarting(c, index, grid.size());
                    CellResult r = runItem(c, data, test, dense, dAcc);
                    store.append(r);
                    done.put(c.key(), r);
                    ran++;
                    bar.finished(r);
                    writeResults(done, grid, false);
                    listener.cellDone(r, done.size(), grid.size());
                }
            }
        }
        List<CellResult> ordered = ordered(done, grid);
        writeResults(done, grid, plots);
        return new Outcome(ordered, reused, ran, grid.size());
    }

    /** One cell, timed: gradual-global from scratch, any other method from {@code dense} (whose accuracy is {@code denseAcc}). */
    CellResult runItem(Plan.Cell c, ExperimentData data, LoaderSource test, Path dense, double denseAcc) {
        long t0 = System.nanoTime();
        CellResult r = c.method().equals("gradual-global") ? runGradual(c, data, test) : runCell(c, dense, denseAcc, data, test);
        return withSeconds(r, (System.nanoTime() - t0) / 1e9);
    }

    static List<CellResult> ordered(Map<String, CellResult> done, List<Plan.Cell> grid) {
        List<CellResult> out = new ArrayList<>();
        for (Plan.Cell c : grid) if (done.containsKey(c.key())) out.add(done.get(c.key()));
        return out;
    }

    private void writeResults(Map<String, CellResult> done, List<Plan.Cell> grid, boolean withPlots) {
        Report.write(out, plan, ordered(done, grid), grid.size(), context, withPlots, log);
    }

    // ---------------------------------------------------------------- dense models

    /** The dense checkpoint for {@code seed}: the plan's, or one trained (or resumed) in dense/FINGERPRINT-sSEED. */
    Path denseModel(ExperimentData data, LoaderSource test, long seed) {
        if (plan.denseCheckpoint() != null) {
            if (!Files.isRegularFile(plan.denseCheckpoint())) throw new IllegalArgumentException("--dense " + plan.denseCheckpoint() + " does not exist");
            return plan.denseCheckpoint();
        }
        Path dir = out.resolve(DENSE_DIR).resolve(plan.denseFingerprint() + "-s" + seed);
        Path last = dir.resolve(Trainer.LAST);
        Stage st = plan.dense();
        int doneEpochs = Files.isRegularFile(last) ? Trainer.saved(dir).epochsDone() : 0;
        if (doneEpochs >= st.epochs()) return last;
        log.printf(Locale.ROOT, "dense model, seed %d: %s%s on %s (%,d train / %,d test), %s%s%n", seed, plan.model(), plan.modelOptions().isEmpty() ? "" : " " + plan.modelOptions(),
                data.train().name(), data.train().size(), data.test().size(), st.describe(), doneEpochs > 0 ? "; resuming after epoch " + doneEpochs : "");
        try (Network net = ModelZoo.create(plan.model(), data.modelConfig(seed, plan.modelOptions()));
             LimitedSource train = new LimitedSource(LoaderSource.training(data.train(), st.batch(), seed, data.augment()), st.samplesPerEpoch());
             Trainer t = new Trainer(net, st.config(seed, dir, progress)).log(log).metadata(dataMetadata()).listener(new TrainListener() {
                 @Override
                 public void onStep(int epoch, int step, double loss) {
                     listener.denseStep(seed, epoch, step);
                 }
             })) {
            if (doneEpochs > 0) t.resume(dir);
            TrainResult r = t.fit(train, test);
            log.printf(Locale.ROOT, "dense model, seed %d: test accuracy %.2f%% -> %s%n", seed, r.last().testAcc(), last);
        }
        return last;
    }

    private Map<String, String> dataMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("data.name", plan.dataset());
        if (plan.dataDir() != null) m.put("data.dir", plan.dataDir().toAbsolutePath().toString());
        m.put("data.augment", plan.augment());
        if (plan.trainSize() != null) m.put("data.train_size", Integer.toString(plan.trainSize()));
        if (plan.testSize() != null) m.put("data.test_size", Integer.toString(plan.testSize()));
        return m;
    }

    double denseAccuracy(Path checkpoint, LoaderSource test) {
        try (Checkpoint ck = Checkpoint.read(checkpoint); Network net = ModelZoo.create(ck.spec()); Workspace ws = new Workspace("dense-eval")) {
            ck.restoreModel(net, ws);
            return Evaluator.evaluate(net, test).accuracy();
        }
    }

    // ---------------------------------------------------------------- cells

    private CellResult runCell(Plan.Cell c, Path dense, double denseAcc, ExperimentData data, LoaderSource test) {
        try (Checkpoint ck = Checkpoint.read(dense); Network net = ModelZoo.create(ck.spec()); Workspace ws = new Workspace("cell")) {
            ck.restoreModel(net, ws);
            for (Parameter p : net.parameters()) {
                if (p.mask() != null && p.prunable()) {
                    throw new IllegalArgumentException("the dense checkpoint " + dense + " is already pruned (parameter " + p.name() + " has a mask)");
                }
            }
            Stage st = plan.finetuneFor(c.method(), c.sparsity());
            Pruning.Outcome pr;
            if (Methods.needsData(c.method())) {
                try (LoaderSource scoring = LoaderSource.training(data.train(), st.batch(), c.seed(), data.augment())) {
                    pr = Methods.prune(net, c.method(), c.sparsity(), plan.mt(), plan.mtMode(), c.seed(), scoring, ws);
                }
            } else {
                pr = Methods.prune(net, c.method(), c.sparsity(), plan.mt(), plan.mtMode(), c.seed(), null, ws);
            }
            double prunedAcc = Evaluator.evaluate(net, test).accuracy();
            double acc = prunedAcc, best = prunedAcc;
            if (st.epochs() > 0) {
                try (LimitedSource train = new LimitedSource(LoaderSource.training(data.train(), st.batch(), c.seed(), data.augment()), st.samplesPerEpoch());
                     Trainer t = new Trainer(net, st.config(c.seed(), null, progress)).log(log).listener(steps(c))) {
                    TrainResult r = t.fit(train, test);
                    acc = r.last().testAcc();
                    best = Math.max(prunedAcc, r.history().stream().mapToDouble(EpochMetrics::testAcc).max().orElse(acc));
                }
            }
            return result(c, net, pr.note(), denseAcc, prunedAcc, acc, best, st.epochs(), data.train().classes());
        }
    }

    /**
     * gradual-global: from the seed's initial weights, train with the dense recipe while the pruning
     * module's GradualPruning prunes with one global threshold along the cubic schedule from 20% to
     * 80% of the steps (about 100 events), as {@code shears prune --method gradual-global} does.
     */
    private CellResult runGradual(Plan.Cell c, ExperimentData data, LoaderSource test) {
        Stage st = plan.dense();
        try (Network net = ModelZoo.create(plan.model(), data.modelConfig(c.seed(), plan.modelOptions())); Workspace ws = new Workspace("gradual");
             LimitedSource train = new LimitedSource(LoaderSource.training(data.train(), st.batch(), c.seed(), data.augment()), st.samplesPerEpoch())) {
            long steps = (long) st.epochs() * train.batchesPerEpoch();
            GradualPruning gradual = new GradualPruning(net, "global", CubicSchedule.forRun(c.sparsity(), steps, 0.2, 0.8, 100), PruneOptions.DEFAULT, null, ws);
            TrainListener both = new TrainListener() {
                @Override
                public void onStep(int epoch, int step, double loss) {
                    gradual.onStep(epoch, step, loss);
                    listener.trainStep(c, epoch, step);
                }
            };
            double acc;
            try (Trainer t = new Trainer(net, st.config(c.seed(), null, progress)).log(log).listener(both)) {
                acc = t.fit(train, test).last().testAcc();
            }
            String note = gradual.events().size() + " pruning events from step " + (long) gradual.events().getFirst()[0] + " to "
                    + (long) gradual.events().getLast()[0] + " of " + steps;
            return result(c, net, note, Double.NaN, Double.NaN, acc, acc, st.epochs(), data.train().classes());
        }
    }

    private TrainListener steps(Plan.Cell c) {
        return new TrainListener() {
            @Override
            public void onStep(int epoch, int step, double loss) {
                listener.trainStep(c, epoch, step);
            }
        };
    }

    private CellResult result(Plan.Cell c, Model net, String note, double denseAcc, double prunedAcc, double acc, double best, int epochs, int classes) {
        SparsityReport rep = Pruning.report(net);
        List<CellResult.Layer> layers = new ArrayList<>();
        for (SparsityReport.Row row : rep.rows()) layers.add(new CellResult.Layer(row.name(), row.weights(), row.kept(), row.collapsed(), row.fatal()));
        return new CellResult(plan.fingerprint(), c.method(), c.sparsity(), c.seed(), rep.sparsity(), rep.weights(), rep.kept(), rep.denseMacs(),
                rep.sparseMacs(), denseAcc, prunedAcc, acc, best, epochs, !rep.fatalCollapse(), layers, note == null || note.isBlank() ? null : note, 0, host(), classes);
    }

    private static CellResult withSeconds(CellResult r, double s) {
        return new CellResult(r.fingerprint(), r.method(), r.sparsity(), r.seed(), r.achieved(), r.weights(), r.kept(), r.denseMacs(), r.sparseMacs(),
                r.denseAccuracy(), r.prunedAccuracy(), r.accuracy(), r.bestAccuracy(), r.epochs(), r.connected(), r.layers(), r.note(), s, r.host(), r.classes());
    }

    /** CPU model, cores and engine threads of this machine, e.g. "AMD EPYC 9R14, 2 cores, 2 threads". */
    static String host() {
        return Report.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + dev.shears.engine.Parallel.threads() + " threads";
    }
}
