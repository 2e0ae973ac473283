package dev.shears.nn.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.io.SafetensorsFormatException;
import dev.shears.nn.optim.Optimizer;
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
 * The training loop: for every batch, forward (training mode), softmax cross-entropy with label
 * smoothing, zero the gradients, backward, one optimizer step at the schedule's rate (masks
 * re-applied inside the step); after every epoch, evaluation, metrics, and a checkpoint
 * ({@code last.safetensors}, plus {@code best.safetensors} when the test accuracy improves).
 * Resume is at epoch boundaries: the checkpoint holds weights, masks, buffers, optimizer state,
 * step count and history, and everything random is a function of (seed, epoch), so a resumed run
 * equals an uninterrupted one bit for bit (same thread count). A NaN or infinite loss stops the
 * run with a hint (or is one warning, {@link #keepGoingOnNonFiniteLoss}); a loss stuck at
 * ln(classes) at the end of an epoch is named once ({@link #stallWarning}). Pinned by TrainerTest.
 *
 * <pre>{@code
 * TrainResult r = Trainer.train(model, trainSource, testSource, config);
 * }</pre>
 */
public final class Trainer implements AutoCloseable {
    public static final String LAST = "last.safetensors";
    public static final String BEST = "best.safetensors";
    /** Metadata key of the run's state (recipe, epoch, history) in the checkpoint. */
    public static final String TRAINING_KEY = "training";

    private final Model model;
    private final TrainConfig config;
    private final Workspace ws = new Workspace("trainer");
    private final Optimizer optimizer;
    private final Map<Integer, Tensor> dLogits = new HashMap<>(); // (N, classes) per batch size seen
    private final Map<String, String> extraMetadata = new LinkedHashMap<>();
    private TrainListener listener = new TrainListener() {};
    private java.io.PrintStream log = System.err;
    private List<EpochMetrics> history = new ArrayList<>();
    private int epochsDone;
    private long step;
    private int bestEpoch;
    private double bestScore = Double.NEGATIVE_INFINITY;
    private boolean keepGoingOnNonFinite;
    private boolean warnedNonFinite, warnedStall;

    public Trainer(Model model, TrainConfig config) {
        this.model = Objects.requireNonNull(model, "model");
        this.config = Objects.requireNonNull(config, "config");
        this.optimizer = config.optimizer().create(model.parameters(), ws);
    }

    /** Trains {@code model} from scratch with {@code config}; {@code test} may be null. */
    public static TrainResult train(Model model, BatchSource train, BatchSource test, TrainConfig config) {
        try (Trainer t = new Trainer(model, config)) {
            return t.fit(train, test);
        }
    }

    public Trainer listener(TrainListener l) {
        this.listener = Objects.requireNonNull(l);
        return this;
    }

    /** Where progress and notes go (stderr by default). */
    public Trainer log(java.io.PrintStream out) {
        this.log = Objects.requireNonNull(out);
        return this;
    }

    /** Extra strings stored in every checkpoint's metadata (the command line keeps the dataset there). */
    public Trainer metadata(Map<String, String> extra) {
        extraMetadata.putAll(extra);
        return this;
    }

    /**
     * With {@code true}, a NaN or infinite training loss is one warning and the run goes on (the
     * weights are then likely NaN too); by default it stops the run with an error.
     */
    public Trainer keepGoingOnNonFiniteLoss(boolean on) {
        this.keepGoingOnNonFinite = on;
        return this;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** Epochs completed so far (after {@link #resume}, those of the checkpoint). */
    public int epochsDone() {
        return epochsDone;
    }

    /**
     * Continues the run saved in {@code runDir}: weights, masks, buffers, optimizer state, step,
     * epoch, history and best epoch. The recipe must be the one the run started with (the number of
     * epochs may differ). Masks the model lacked are owned by this trainer.
     */
    public void resume(Path runDir) {
        Path file = runDir.resolve(LAST);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("cannot resume: " + file + " does not exist");
        try (Checkpoint ck = Checkpoint.read(file)) {
            if (!ck.spec().equals(model.spec())) {
                throw new IllegalArgumentException("cannot resume: " + file + " holds model " + ck.spec() + " but the model is " + model.spec());
            }
            JsonObject state = trainingState(ck);
            TrainConfig saved = RunJson.config(state.getAsJsonObject("config"));
            String diff = recipeDifference(saved, config);
            if (diff != null) throw new IllegalArgumentException("cannot resume " + runDir + " with a different recipe: " + diff);
            ck.restoreModel(model, ws);
            ck.restoreOptimizer(optimizer);
            epochsDone = state.get("epoch").getAsInt();
            step = state.get("step").getAsLong();
            bestEpoch = state.get("best_epoch").getAsInt();
            bestScore = state.get("best_score").isJsonNull() ? Double.NEGATIVE_INFINITY : state.get("best_score").getAsDouble();
            history = new ArrayList<>(RunJson.history(state.getAsJsonArray("history")));
            int threads = state.get("threads").getAsInt();
            if (threads != Parallel.threads()) {
                log.println("note: " + runDir + " was trained with " + threads + " threads, now " + Parallel.threads()
                        + "; the result will not be bit-identical to an uninterrupted run");
            }
            if (optimizer.steps() != step) {
                throw new SafetensorsFormatException(file + ": optimizer step " + optimizer.steps() + " disagrees with the training step " + step);
            }
        }
    }

    /** The recipe a run in {@code runDir} was started with, and its checkpoint metadata (for --resume). */
    public static Saved saved(Path runDir) {
        Path file = runDir.resolve(LAST);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("cannot resume: " + file + " does not exist");
        try (Checkpoint ck = Checkpoint.read(file)) {
            JsonObject state = trainingState(ck);
            return new Saved(RunJson.config(state.getAsJsonObject("config")).withRunDir(runDir), ck.spec(), Map.copyOf(ck.metadata()),
                    state.get("epoch").getAsInt());
        }
    }

    /** A saved run: its recipe, model spec, raw metadata and epochs completed. */
    public record Saved(TrainConfig config, Map<String, String> spec, Map<String, String> metadata, int epochsDone) {}

    private static JsonObject trainingState(Checkpoint ck) {
        String json = ck.metadata().get(TRAINING_KEY);
        if (json == null) throw new SafetensorsFormatException(ck.file() + ": no training state in its metadata (an exported model, not a run's checkpoint)");
        try {
            JsonObject o = RunJson.parse(json);
            RunJson.config(o.getAsJsonObject("config")); // validates
            return o;
        } catch (RuntimeException e) {
            throw new SafetensorsFormatException(ck.file() + ": training state in its metadata is unreadable: " + e.getMessage());
        }
    }

    private static String recipeDifference(TrainConfig a, TrainConfig b) {
        JsonObject ja = RunJson.config(a), jb = RunJson.config(b);
        for (JsonObject o : new JsonObject[] {ja, jb, ja.getAsJsonObject("schedule"), jb.getAsJsonObject("schedule")}) o.remove("epochs");
        for (String k : ja.keySet()) {
            if (!ja.get(k).equals(jb.get(k))) return k + " was " + ja.get(k) + ", now " + jb.get(k);
        }
        return null;
    }

    /** Runs the remaining epochs; {@code test} may be null (then the best epoch is the lowest training loss). */
    public TrainResult fit(BatchSource train, BatchSource test) {
        if (train.batchSize() != config.batchSize()) {
            throw new IllegalArgumentException("the training source has batch size " + train.batchSize() + " but the recipe says " + config.batchSize());
        }
        int stepsPerEpoch = train.batchesPerEpoch();
        if (stepsPerEpoch < 1) throw new IllegalArgumentException("the training source is empty");
        for (Parameter p : model.parameters()) p.applyMask();
        Progress progress = new Progress(log, config.progress());
        for (int epoch = epochsDone; epoch < config.epochs(); epoch++) {
            if (model instanceof Seeded s) s.reseed(config.seed(), epoch);
            progress.startEpoch(epoch + 1, config.epochs(), stepsPerEpoch);
            long t0 = System.nanoTime();
            double lossSum = 0, lr = 0, tailLoss = 0;
            long correct = 0, seen = 0, tailCorrect = 0, tailSeen = 0;
            int inEpoch = 0, classes = 0;
            int tailFrom = stepsPerEpoch - Math.max(1, stepsPerEpoch / 4); // the epoch's last quarter: where a stalled net sits
            try (BatchSource.Epoch it = train.epoch(epoch)) {
                while (it.hasNext()) {
                    BatchSource.Batch b = it.next();
                    int n = b.size();
                    lr = config.schedule().lr(step, stepsPerEpoch);
                    Tensor logits = model.forward(b.images(), true);
                    Tensor d = dLogits.computeIfAbsent(n, k -> ws.floats("dLogits" + k, logits.shape()));
                    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.compute(logits, b.labels(), config.labelSmoothing(), d);
                    double mean = r.meanLoss();
                    classes = logits.shape()[1];
                    if (!Double.isFinite(mean)) {
                        String what = String.format(Locale.ROOT, "loss %s at epoch %d, step %d (lr %.4g)", mean, epoch + 1, inEpoch + 1, lr);
                        if (!keepGoingOnNonFinite) {
                            throw new IllegalStateException("training diverged: " + what + "; try a lower --lr or a warm-up (--warmup-epochs 1)"
                                    + " (--keep-going-on-nan goes on anyway)");
                        }
                        if (!warnedNonFinite) log.println("warning: " + what + "; going on as asked (--keep-going-on-nan): the weights are likely NaN from here");
                        warnedNonFinite = true;
                    }
                    optimizer.zeroGrad();
                    model.backward(d);
                    optimizer.step(lr);
                    step++;
                    inEpoch++;
                    lossSum += r.lossSum();
                    correct += r.correct();
                    seen += n;
                    if (inEpoch > tailFrom) {
                        tailLoss += r.lossSum();
                        tailCorrect += r.correct();
                        tailSeen += n;
                    }
                    progress.step(n, mean);
                    listener.onStep(epoch + 1, inEpoch, mean);
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            double testLoss = Double.NaN, testAcc = Double.NaN;
            if (test != null) {
                Evaluator.Result er = Evaluator.evaluate(model, test);
                testLoss = er.loss();
                testAcc = er.accuracy();
            }
            EpochMetrics m = new EpochMetrics(epoch + 1, step, lr, lossSum / Math.max(1, seen), 100.0 * correct / Math.max(1, seen),
                    testLoss, testAcc, secs, seen / Math.max(1e-9, secs));
            history.add(m);
            epochsDone = epoch + 1;
            double score = test != null ? testAcc : -m.trainLoss();
            boolean improved = score > bestScore;
            if (improved) {
                bestScore = score;
                bestEpoch = epoch + 1;
            }
            if (config.runDir() != null) {
                Checkpoint.save(config.runDir().resolve(LAST), model, optimizer, checkpointMetadata());
                if (improved) Checkpoint.save(config.runDir().resolve(BEST), model, optimizer, checkpointMetadata());
                MetricsLog.write(config.runDir(), history);
            }
            progress.endEpoch(summary(m, improved));
            String stall = warnedStall ? null : stallWarning(tailLoss / Math.max(1, tailSeen), 100.0 * tailCorrect / Math.max(1, tailSeen), classes, epoch + 1);
            if (stall != null) {
                log.println(stall);
                warnedStall = true;
            }
            listener.onEpoch(m);
        }
        return new TrainResult(history, bestEpoch);
    }

    /**
     * The warning for a network that has stopped learning, or null: the mean training loss over the
     * last quarter of an epoch within 2% of ln(classes) (what a uniform guess scores, with or without
     * label smoothing) while the accuracy there is below twice chance. Typical cause: a rate too high
     * for the batch, which leaves the ReLUs dead and the output constant.
     */
    static String stallWarning(double tailLoss, double tailAccuracy, int classes, int epoch) {
        if (classes < 2 || !Double.isFinite(tailLoss)) return null;
        double chance = Math.log(classes);
        if (Math.abs(tailLoss - chance) > 0.02 * chance || tailAccuracy >= 200.0 / classes) return null;
        return String.format(Locale.ROOT, "warning: the training loss has stayed at ln(%d) = %.4f, a uniform guess's (%.4f over the end of epoch %d, "
                + "accuracy %.2f%%, chance %.2f%%): the network is not learning. Try a lower --lr (e.g. a tenth) or a warm-up (--warmup-epochs 1)",
                classes, chance, tailLoss, epoch, tailAccuracy, 100.0 / classes);
    }

    private Map<String, String> checkpointMetadata() {
        JsonObject o = new JsonObject();
        o.addProperty("epoch", epochsDone);
        o.addProperty("step", step);
        o.addProperty("threads", Parallel.threads());
        o.addProperty("best_epoch", bestEpoch);
        if (Double.isFinite(bestScore)) o.addProperty("best_score", bestScore);
        else o.add("best_score", com.google.gson.JsonNull.INSTANCE);
        o.add("config", RunJson.config(config));
        JsonArray h = new JsonArray();
        for (EpochMetrics m : history) h.add(RunJson.metrics(m));
        o.add("history", h);
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put(TRAINING_KEY, o.toString());
        return meta;
    }

    private String summary(EpochMetrics m, boolean best) {
        String test = Double.isNaN(m.testAcc()) ? "" : String.format(Locale.ROOT, " | test loss %.4f acc %.2f%%", m.testLoss(), m.testAcc());
        return String.format(Locale.ROOT, "epoch %d/%d: train loss %.4f acc %.2f%%%s | lr %.4g | %.1f s, %.0f img/s%s", m.epoch(), config.epochs(),
                m.trainLoss(), m.trainAcc(), test, m.lr(), m.seconds(), m.imagesPerSecond(), best ? " *best" : "");
    }

    @Override
    public void close() {
        ws.close();
    }
}
