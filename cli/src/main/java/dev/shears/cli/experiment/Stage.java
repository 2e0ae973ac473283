package dev.shears.cli.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * One training stage of an experiment (dense training or fine-tuning) as the paper's appendix
 * tables give it: epochs, batch, optimizer and its hyper-parameters, learning-rate schedule,
 * warm-up, label smoothing. A plain value (JSON for plans and fingerprints); {@link #config}
 * turns it into the trainer's {@link TrainConfig}. Not a trainer. Pinned by PlanTest.
 *
 * @param epochs         epochs of the stage (0 = skip: prune and evaluate only; fine-tuning only)
 * @param batch          examples per batch
 * @param optimizer      "sgd" or "adam"
 * @param lr             peak learning rate
 * @param momentum       SGD momentum
 * @param nesterov       SGD Nesterov momentum
 * @param weightDecay    L2 weight decay
 * @param schedule       "cosine", "step" or "constant"
 * @param perEpoch       cosine: change the rate once per epoch (the authors' code) instead of every step
 * @param warmupEpochs   linear warm-up epochs
 * @param milestones     step schedule: epochs where the rate is multiplied by gamma (null = every {@code stepEvery})
 * @param stepEvery      step schedule without milestones: decay every this many epochs (0 = halfway and 3/4)
 * @param gamma          step schedule factor
 * @param labelSmoothing training-loss label smoothing
 * @param samplesPerEpoch training samples an epoch sees, a fresh random subset each epoch (0 = the whole split):
 *                       the demo's brief fine-tuning
 */
public record Stage(int epochs, int batch, String optimizer, double lr, double momentum, boolean nesterov, double weightDecay,
                   String schedule, boolean perEpoch, int warmupEpochs, int[] milestones, int stepEvery, double gamma,
                   double labelSmoothing, int samplesPerEpoch) {
    public Stage {
        if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        optimizer = optimizer.trim().toLowerCase(Locale.ROOT);
        if (!optimizer.equals("sgd") && !optimizer.equals("adam")) throw new IllegalArgumentException("optimizer must be sgd or adam, got '" + optimizer + "'");
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        schedule = schedule.trim().toLowerCase(Locale.ROOT);
        if (!schedule.equals("cosine") && !schedule.equals("step") && !schedule.equals("constant")) {
            throw new IllegalArgumentException("schedule must be cosine, step or constant, got '" + schedule + "'");
        }
        milestones = milestones == null ? null : milestones.clone();
        if (stepEvery < 0) throw new IllegalArgumentException("step-every must be >= 0, got " + stepEvery);
        if (samplesPerEpoch < 0) throw new IllegalArgumentException("samples per epoch must be >= 0, got " + samplesPerEpoch);
    }

    public Stage(int epochs, int batch, String optimizer, double lr, double momentum, boolean nesterov, double weightDecay, String schedule,
                 boolean perEpoch, int warmupEpochs, int[] milestones, int stepEvery, double gamma, double labelSmoothing) {
        this(epochs, batch, optimizer, lr, momentum, nesterov, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, 0);
    }

    /** SGD with a cosine schedule updated per epoch, no warm-up, no label smoothing. */
    public static Stage sgd(int epochs, int batch, double lr, double momentum, boolean nesterov, double weightDecay) {
        return new Stage(epochs, batch, "sgd", lr, momentum, nesterov, weightDecay, "cosine", true, 0, null, 0, 0.1, 0, 0);
    }

    public Stage withEpochs(int e) {
        return new Stage(e, batch, optimizer, lr, momentum, nesterov, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withBatch(int b) {
        return new Stage(epochs, b, optimizer, lr, momentum, nesterov, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withLr(double l) {
        return new Stage(epochs, batch, optimizer, l, momentum, nesterov, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withWeightDecay(double w) {
        return new Stage(epochs, batch, optimizer, lr, momentum, nesterov, w, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withMomentum(double m, boolean n) {
        return new Stage(epochs, batch, optimizer, lr, m, n, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withWarmup(int w) {
        return new Stage(epochs, batch, optimizer, lr, momentum, nesterov, weightDecay, schedule, perEpoch, w, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withLabelSmoothing(double s) {
        return new Stage(epochs, batch, optimizer, lr, momentum, nesterov, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, s, samplesPerEpoch);
    }

    public Stage withStepSchedule(int every, double g) {
        return new Stage(epochs, batch, optimizer, lr, momentum, nesterov, weightDecay, "step", false, warmupEpochs, null, every, g, labelSmoothing, samplesPerEpoch);
    }

    public Stage withSchedule(String s, boolean epochWise) {
        return new Stage(epochs, batch, optimizer, lr, momentum, nesterov, weightDecay, s, epochWise, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withOptimizer(String o) {
        return new Stage(epochs, batch, o, lr, momentum, nesterov, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, samplesPerEpoch);
    }

    public Stage withSamplesPerEpoch(int n) {
        return new Stage(epochs, batch, optimizer, lr, momentum, nesterov, weightDecay, schedule, perEpoch, warmupEpochs, milestones, stepEvery, gamma, labelSmoothing, n);
    }

    @Override
    public int[] milestones() {
        return milestones == null ? null : milestones.clone();
    }

    /** The step schedule's milestones for this stage's epoch count. */
    int[] effectiveMilestones() {
        if (milestones != null) return Arrays.stream(milestones).filter(m -> m < epochs).toArray();
        if (stepEvery > 0) {
            int n = Math.max(0, (epochs - 1) / stepEvery);
            int[] m = new int[n];
            for (int i = 0; i < n; i++) m[i] = (i + 1) * stepEvery;
            return m;
        }
        return Arrays.stream(new int[] {Math.max(1, epochs / 2), Math.max(1, epochs * 3 / 4)}).distinct().toArray();
    }

    /** The trainer's recipe for this stage (needs epochs >= 1). */
    public TrainConfig config(long seed, Path runDir, Progress.Mode progress) {
        if (epochs < 1) throw new IllegalStateException("a stage of 0 epochs has no training recipe");
        OptimizerConfig opt = optimizer.equals("sgd") ? OptimizerConfig.sgd(momentum, nesterov && momentum > 0, weightDecay) : OptimizerConfig.adam(weightDecay);
        int warm = warmupEpochs < epochs ? warmupEpochs : 0;
        Schedule s = switch (schedule) {
            case "cosine" -> Schedule.cosine(lr, epochs, warm, !perEpoch);
            case "step" -> {
                int[] m = effectiveMilestones();
                yield m.length == 0 ? Schedule.constant(lr, epochs, warm) : new Schedule(Schedule.Kind.STEP, lr, epochs, warm, false, 0, m, gamma);
            }
            default -> Schedule.constant(lr, epochs, warm);
        };
        return new TrainConfig(epochs, batch, opt, s, labelSmoothing, seed, runDir, progress);
    }

    public JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("epochs", epochs);
        o.addProperty("batch", batch);
        o.addProperty("optimizer", optimizer);
        o.addProperty("lr", lr);
        o.addProperty("momentum", momentum);
        o.addProperty("nesterov", nesterov);
        o.addProperty("weight_decay", weightDecay);
        o.addProperty("schedule", schedule);
        o.addProperty("per_epoch", perEpoch);
        o.addProperty("warmup_epochs", warmupEpochs);
        if (milestones != null) {
            JsonArray a = new JsonArray();
            for (int m : milestones) a.add(m);
            o.add("milestones", a);
        }
        o.addProperty("step_every", stepEvery);
        o.addProperty("gamma", gamma);
        o.addProperty("label_smoothing", labelSmoothing);
        if (samplesPerEpoch > 0) o.addProperty("samples_per_epoch", samplesPerEpoch);
        return o;
    }

    /** The inverse of {@link #json()} (plan.json of a sweep folder). */
    static Stage fromJson(JsonObject o) {
        int[] ms = null;
        if (o.has("milestones")) {
            JsonArray a = o.getAsJsonArray("milestones");
            ms = new int[a.size()];
            for (int i = 0; i < ms.length; i++) ms[i] = a.get(i).getAsInt();
        }
        return new Stage(o.get("epochs").getAsInt(), o.get("batch").getAsInt(), o.get("optimizer").getAsString(), o.get("lr").getAsDouble(),
                o.get("momentum").getAsDouble(), o.get("nesterov").getAsBoolean(), o.get("weight_decay").getAsDouble(), o.get("schedule").getAsString(),
                o.get("per_epoch").getAsBoolean(), o.get("warmup_epochs").getAsInt(), ms, o.get("step_every").getAsInt(), o.get("gamma").getAsDouble(),
                o.get("label_smoothing").getAsDouble(), o.has("samples_per_epoch") ? o.get("samples_per_epoch").getAsInt() : 0);
    }

    /** One line, e.g. "200 epochs, batch 128, SGD m 0.9 Nesterov wd 5e-4, lr 0.1 cosine (per epoch), LS 0.1". */
    public String describe() {
        if (epochs == 0) return "none (prune and evaluate only)";
        StringBuilder b = new StringBuilder();
        b.append(epochs).append(epochs == 1 ? " epoch" : " epochs");
        if (samplesPerEpoch > 0) b.append(" of ").append(String.format(Locale.ROOT, "%,d", samplesPerEpoch)).append(" random samples");
        b.append(", batch ").append(batch).append(", ");
        if (optimizer.equals("sgd")) {
            b.append("SGD momentum ").append(num(momentum)).append(nesterov ? " Nesterov" : "");
        } else {
            b.append("Adam");
        }
        b.append(", wd ").append(num(weightDecay)).append(", lr ").append(num(lr)).append(' ');
        switch (schedule) {
            case "cosine" -> b.append("cosine").append(perEpoch ? " (per epoch)" : " (per step)");
            case "step" -> b.append("step x").append(num(gamma)).append(" at ").append(Arrays.toString(effectiveMilestones()));
            default -> b.append("constant");
        }
        if (warmupEpochs > 0) b.append(", warm-up ").append(warmupEpochs);
        if (labelSmoothing > 0) b.append(", label smoothing ").append(num(labelSmoothing));
        return b.toString();
    }

    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
        String s = String.format(Locale.ROOT, "%.6g", v);
        if (s.contains("e")) return s.replaceAll("\\.?0+e", "e");
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Stage s && s.json().equals(json());
    }

    @Override
    public int hashCode() {
        return json().hashCode();
    }

    @Override
    public String toString() {
        return describe();
    }
}
