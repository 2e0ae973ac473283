package dev.shears.nn.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON forms of a recipe and a run's progress, stored in a checkpoint's {@code training} metadata
 * so {@code --resume} rebuilds the run from the file alone. Doubles are written with Java's
 * shortest round-tripping form, so a recipe read back is equal bit for bit. Pinned by TrainerTest.
 */
final class RunJson {
    private RunJson() {}

    static JsonObject config(TrainConfig c) {
        JsonObject o = new JsonObject();
        o.addProperty("epochs", c.epochs());
        o.addProperty("batch_size", c.batchSize());
        o.add("optimizer", optimizer(c.optimizer()));
        o.add("schedule", schedule(c.schedule()));
        o.addProperty("label_smoothing", c.labelSmoothing());
        o.addProperty("seed", c.seed());
        return o;
    }

    static TrainConfig config(JsonObject o) {
        return new TrainConfig(o.get("epochs").getAsInt(), o.get("batch_size").getAsInt(), optimizer(o.getAsJsonObject("optimizer")),
                schedule(o.getAsJsonObject("schedule")), o.get("label_smoothing").getAsDouble(), o.get("seed").getAsLong(), null, null);
    }

    static JsonObject optimizer(OptimizerConfig c) {
        JsonObject o = new JsonObject();
        o.addProperty("kind", c.kind().name().toLowerCase(java.util.Locale.ROOT));
        o.addProperty("momentum", c.momentum());
        o.addProperty("dampening", c.dampening());
        o.addProperty("nesterov", c.nesterov());
        o.addProperty("weight_decay", c.weightDecay());
        o.addProperty("decay_norm_and_bias", c.decayNormAndBias());
        o.addProperty("beta1", c.beta1());
        o.addProperty("beta2", c.beta2());
        o.addProperty("eps", c.eps());
        o.addProperty("decoupled", c.decoupled());
        o.addProperty("mask_gradients", c.maskGradients());
        return o;
    }

    static OptimizerConfig optimizer(JsonObject o) {
        return new OptimizerConfig(OptimizerConfig.Kind.valueOf(o.get("kind").getAsString().toUpperCase(java.util.Locale.ROOT)),
                o.get("momentum").getAsDouble(), o.get("dampening").getAsDouble(), o.get("nesterov").getAsBoolean(),
                o.get("weight_decay").getAsDouble(), o.get("decay_norm_and_bias").getAsBoolean(), o.get("beta1").getAsDouble(),
                o.get("beta2").getAsDouble(), o.get("eps").getAsDouble(), o.get("decoupled").getAsBoolean(), o.get("mask_gradients").getAsBoolean());
    }

    static JsonObject schedule(Schedule s) {
        JsonObject o = new JsonObject();
        o.addProperty("kind", s.kind().name().toLowerCase(java.util.Locale.ROOT));
        o.addProperty("lr", s.baseLr());
        o.addProperty("epochs", s.epochs());
        o.addProperty("warmup_epochs", s.warmupEpochs());
        o.addProperty("per_step", s.perStep());
        o.addProperty("min_lr", s.minLr());
        JsonArray m = new JsonArray();
        for (int x : s.milestones()) m.add(x);
        o.add("milestones", m);
        o.addProperty("gamma", s.gamma());
        return o;
    }

    static Schedule schedule(JsonObject o) {
        JsonArray m = o.getAsJsonArray("milestones");
        int[] ms = new int[m.size()];
        for (int i = 0; i < ms.length; i++) ms[i] = m.get(i).getAsInt();
        return new Schedule(Schedule.Kind.valueOf(o.get("kind").getAsString().toUpperCase(java.util.Locale.ROOT)), o.get("lr").getAsDouble(),
                o.get("epochs").getAsInt(), o.get("warmup_epochs").getAsInt(), o.get("per_step").getAsBoolean(), o.get("min_lr").getAsDouble(),
                ms, o.get("gamma").getAsDouble());
    }

    static JsonObject metrics(EpochMetrics m) {
        JsonObject o = new JsonObject();
        o.addProperty("epoch", m.epoch());
        o.addProperty("step", m.step());
        o.addProperty("lr", m.lr());
        number(o, "train_loss", m.trainLoss());
        number(o, "train_acc", m.trainAcc());
        number(o, "test_loss", m.testLoss());
        number(o, "test_acc", m.testAcc());
        o.addProperty("seconds", m.seconds());
        o.addProperty("images_per_s", m.imagesPerSecond());
        return o;
    }

    /** JSON has no NaN: a missing figure is written as null. */
    private static void number(JsonObject o, String key, double v) {
        if (Double.isFinite(v)) o.addProperty(key, v);
        else o.add(key, com.google.gson.JsonNull.INSTANCE);
    }

    private static double number(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    static EpochMetrics metrics(JsonObject o) {
        return new EpochMetrics(o.get("epoch").getAsInt(), o.get("step").getAsLong(), o.get("lr").getAsDouble(), number(o, "train_loss"),
                number(o, "train_acc"), number(o, "test_loss"), number(o, "test_acc"), o.get("seconds").getAsDouble(), o.get("images_per_s").getAsDouble());
    }

    static List<EpochMetrics> history(JsonArray a) {
        List<EpochMetrics> out = new ArrayList<>();
        for (JsonElement e : a) out.add(metrics(e.getAsJsonObject()));
        return out;
    }

    static JsonObject parse(String json) {
        return JsonParser.parseString(json).getAsJsonObject();
    }
}
