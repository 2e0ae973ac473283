package dev.shears.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.shears.engine.Tensor;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.testing.ArraySource;
import dev.shears.nn.testing.TinyLinear;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer on a tiny linear model with dropout, a buffer and a mask: it learns; two runs with
 * the same seed are identical bit for bit; a run killed after epoch 1 and resumed ends with the
 * same weights, buffers and optimizer state as an uninterrupted run; metrics and checkpoints are
 * written; bad resumes and diverging losses are clear errors (or one warning when asked to go on);
 * a loss stuck at ln(classes) is named once with a hint.
 */
class TrainerTest {
    @TempDir
    Path dir;

    private static final int DIM = 8, CLASSES = 3, BATCH = 16;
    private final PrintStream quiet = new PrintStream(new ByteArrayOutputStream());

    private static ArraySource trainData() {
        return ArraySource.blobs(200, DIM, CLASSES, BATCH, true, 1, 2); // 13 batches, the last one of 8
    }

    private static ArraySource testData() {
        return ArraySource.blobs(90, DIM, CLASSES, 32, false, 1, 3);
    }

    private static TrainConfig recipe(int epochs, Path runDir) {
        return new TrainConfig(epochs, BATCH, OptimizerConfig.sgd(0.9, true, 5e-4),
                new Schedule(Schedule.Kind.COSINE, 0.05, epochs, epochs > 1 ? 1 : 0, true, 0, null, 1), 0.1, 17, runDir, Progress.Mode.OFF);
    }

    private static TinyLinear masked(long initSeed) {
        TinyLinear m = new TinyLinear(DIM, CLASSES, 0.2, initSeed);
        float[] keep = new float[DIM * CLASSES];
        for (int i = 0; i < keep.length; i++) keep[i] = i % 4 == 1 ? 0f : 1f;
        m.weight().setMask(workspaceOf(m), keep);
        return m;
    }

    // masks need an owner that outlives the model; a static workspace is fine in a test
    private static final dev.shears.engine.Workspace MASKS = new dev.shears.engine.Workspace("test-masks");

    private static dev.shears.engine.Workspace workspaceOf(Model m) {
        return MASKS;
    }

    /** Every bit of the model's parameters, buffers and masks, and of the optimizer state. */
    private static List<float[]> state(Model m, Trainer t) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : m.parameters()) {
            out.add(p.value().toFloatArray());
            if (p.mask() != null) out.add(p.mask().toFloatArray());
        }
        for (Tensor b : m.buffers().values()) out.add(b.toFloatArray());
        if (t != null) for (Tensor s : t.optimizer().state().values()) out.add(s.toFloatArray());
        return out;
    }

    private static void assertBitsEqual(List<float[]> a, List<float[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            int[] x = new int[a.get(i).length], y = new int[b.get(i).length];
            for (int k = 0; k < x.length; k++) x[k] = Float.floatToRawIntBits(a.get(i)[k]);
            for (int k = 0; k < y.length; k++) y[k] = Float.floatToRawIntBits(b.get(i)[k]);
            assertArrayEquals(x, y, "state tensor " + i);
        }
    }

    @Test
    void learnsSeparableBlobs() {
        try (TinyLinear m = new TinyLinear(DIM, CLASSES, 0, 5)) {
            TrainResult r = Trainer.train(m, trainData(), testData(), recipe(6, null).withProgress(Progress.Mode.OFF));
            assertEquals(6, r.history().size());
            EpochMetrics first = r.history().getFirst(), last = r.last();
            assertTrue(last.trainLoss() < first.trainLoss(), "loss " + first.trainLoss() + " -> " + last.trainLoss());
            assertTrue(last.testAcc() > 90, "test accuracy " + last.testAcc());
            assertEquals(6L * 13, last.step());
            assertEquals(r.best().testAcc(), r.history().stream().mapToDouble(EpochMetrics::testAcc).max().orElseThrow());
        }
    }

    @Test
    void sameSeedSameBits() {
        List<float[]> a, b;
        try (TinyLinear m = masked(5); Trainer t = new Trainer(m, recipe(2, null)).log(quiet)) {
            t.fit(trainData(), null);
            a = state(m, t);
        }
        try (TinyLinear m = masked(5); Trainer t = new Trainer(m, recipe(2, null)).log(quiet)) {
            t.fit(trainData(), null);
            b = state(m, t);
        }
        assertBitsEqual(a, b);
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws IOException {
        Path full = dir.resolve("full"), killed = dir.resolve("killed");
        List<float[]> uninterrupted;
        TrainResult fullResult;
        try (TinyLinear m = masked(5); Trainer t = new Trainer(m, recipe(3, full)).log(quiet)) {
            fullResult = t.fit(trainData(), testData());
            uninterrupted = state(m, t);
        }
        class Kill extends RuntimeException {}
        try (TinyLinear m = masked(5); Trainer t = new Trainer(m, recipe(3, killed)).log(quiet)) {
            t.listener(new TrainListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                    if (metrics.epoch() == 1) throw new Kill();
                }
            });
            assertThrows(Kill.class, () -> t.fit(trainData(), testData()));
        }
        assertEquals(2, Files.readAllLines(killed.resolve(MetricsLog.CSV)).size()); // header + epoch 1
        // a fresh process: different initial weights and no mask, everything must come from the checkpoint
        TrainConfig saved = Trainer.saved(killed).config();
        assertEquals(recipe(3, killed).withProgress(Progress.Mode.AUTO), saved);
        try (TinyLinear m = new TinyLinear(DIM, CLASSES, 0.2, 99); Trainer t = new Trainer(m, saved).log(quiet)) {
            t.resume(killed);
            assertEquals(1, t.epochsDone());
            TrainResult resumed = t.fit(trainData(), testData());
            assertBitsEqual(uninterrupted, state(m, t));
            assertEquals(3, resumed.history().size());
            for (int e = 0; e < 3; e++) {
                assertEquals(fullResult.history().get(e).trainLoss(), resumed.history().get(e).trainLoss(), 0, "epoch " + (e + 1));
                assertEquals(fullResult.history().get(e).testAcc(), resumed.history().get(e).testAcc(), 0, "epoch " + (e + 1));
            }
            assertEquals(fullResult.bestEpoch(), resumed.bestEpoch());
        }
        List<String> csv = Files.readAllLines(killed.resolve(MetricsLog.CSV));
        assertEquals(MetricsLog.HEADER, csv.getFirst());
        assertEquals(4, csv.size());
        List<String> jsonl = Files.readAllLines(killed.resolve(MetricsLog.JSONL));
        assertEquals(3, jsonl.size());
        assertEquals(3, JsonParser.parseString(jsonl.get(2)).getAsJsonObject().get("epoch").getAsInt());
        assertTrue(Files.isRegularFile(killed.resolve(Trainer.BEST)));
        try (var files = Files.list(killed)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp files left behind");
        }
    }

    /** The datasets loader (prefetch thread, shuffle from (seed, epoch)) behind the same kill-and-resume. */
    @Test
    void resumeIsExactThroughTheDatasetsLoader() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(4);
        float[] x = new float[150 * DIM];
        int[] y = new int[150];
        for (int i = 0; i < 150; i++) {
            y[i] = i % CLASSES;
            for (int j = 0; j < DIM; j++) x[i * DIM + j] = (float) (r.nextGaussian() + (j % CLASSES == y[i] ? 2 : 0));
        }
        dev.shears.datasets.Dataset data = dev.shears.datasets.Dataset.ofFloats("blobs", new int[] {DIM}, List.of("a", "b", "c"), x, y);
        Path full = dir.resolve("lfull"), killed = dir.resolve("lkilled");
        List<float[]> uninterrupted;
        try (TinyLinear m = masked(5); Trainer t = new Trainer(m, recipe(2, full)).log(quiet);
             LoaderSource src = LoaderSource.training(data, BATCH, 17, dev.shears.datasets.Augment.none())) {
            t.fit(src, null);
            uninterrupted = state(m, t);
        }
        try (TinyLinear m = masked(5); Trainer t = new Trainer(m, recipe(2, killed)).log(quiet);
             LoaderSource src = LoaderSource.training(data, BATCH, 17, dev.shears.datasets.Augment.none())) {
            t.listener(new TrainListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                    throw new IllegalStateException("killed");
                }
            });
            assertThrows(IllegalStateException.class, () -> t.fit(src, null));
        }
        try (TinyLinear m = new TinyLinear(DIM, CLASSES, 0.2, 99); Trainer t = new Trainer(m, recipe(2, killed)).log(quiet);
             LoaderSource src = LoaderSource.training(data, BATCH, 17, dev.shears.datasets.Augment.none())) {
            t.resume(killed);
            t.fit(src, null);
            assertBitsEqual(uninterrupted, state(m, t));
        }
    }

    @Test
    void resumeChecksTheRecipeAndTheRunFolder() {
        Path run = dir.resolve("run");
        try (TinyLinear m = masked(5)) {
            Trainer.train(m, trainData(), null, recipe(1, run));
        }
        try (TinyLinear m = masked(5); Trainer t = new Trainer(m, new TrainConfig(2, BATCH, OptimizerConfig.sgd(0.5, false, 0),
                Schedule.cosine(0.05, 2, 0, true), 0.1, 17, run, Progress.Mode.OFF))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.resume(run));
            assertTrue(e.getMessage().contains("different recipe: optimizer"), e.getMessage());
        }
        try (TinyLinear m = new TinyLinear(DIM + 1, CLASSES, 0, 1); Trainer t = new Trainer(m, recipe(2, run))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.resume(run));
            assertTrue(e.getMessage().contains("holds model"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.saved(dir.resolve("nowhere")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    /** Inputs that carry no information (all zero): the best a model can do is the uniform guess, loss ln(classes). */
    private static ArraySource blankData() {
        float[][] x = new float[120][DIM];
        int[] y = new int[x.length];
        for (int i = 0; i < y.length; i++) y[i] = i % CLASSES;
        return new ArraySource(x, y, BATCH, true, 4);
    }

    private static String fitAndLog(Model m, ArraySource data, int epochs, boolean keepGoing) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Trainer t = new Trainer(m, recipe(epochs, null)).log(new PrintStream(out, true)).keepGoingOnNonFiniteLoss(keepGoing)) {
            t.fit(data, null);
        }
        return out.toString();
    }

    @Test
    void aLossStuckAtLnClassesIsNamedOnceWithAHint() {
        try (TinyLinear m = new TinyLinear(DIM, CLASSES, 0, 5)) {
            String log = fitAndLog(m, blankData(), 2, false);
            assertEquals(1, log.lines().filter(l -> l.startsWith("warning: the training loss has stayed at ln(3) = 1.0986")).count(), log);
            assertTrue(log.contains("end of epoch 1") && log.contains("--lr") && log.contains("--warmup-epochs"), log);
        }
        try (TinyLinear m = masked(5)) { // the same model on data it can learn: no warning
            String log = fitAndLog(m, trainData(), 2, false);
            assertTrue(!log.contains("warning"), log);
        }
    }

    @Test
    void theStallTestNeedsBothTheLossAndTheAccuracyAtChance() {
        double ln10 = Math.log(10);
        assertTrue(Trainer.stallWarning(ln10 * 1.015, 9.5, 10, 1) != null);
        assertEquals(null, Trainer.stallWarning(ln10 * 1.03, 9.5, 10, 1)); // loss off chance by more than 2%
        assertEquals(null, Trainer.stallWarning(ln10 * 0.97, 9.5, 10, 1));
        assertEquals(null, Trainer.stallWarning(ln10, 25.0, 10, 1)); // accuracy well above chance
        assertEquals(null, Trainer.stallWarning(Double.NaN, 10.0, 10, 1));
        assertTrue(Trainer.stallWarning(Math.log(2) * 1.01, 50.0, 2, 3).contains("ln(2) = 0.6931"));
    }

    @Test
    void aNonFiniteLossGoesOnWithOneWarningWhenAskedTo() {
        ArraySource data = trainData();
        data.set(5, 2, Float.NaN);
        try (TinyLinear m = new TinyLinear(DIM, CLASSES, 0, 5)) {
            String log = fitAndLog(m, data, 2, true);
            assertEquals(1, log.lines().filter(l -> l.startsWith("warning: loss NaN at epoch 1, step ")).count(), log);
            assertTrue(log.contains("--keep-going-on-nan"), log);
        }
    }

    @Test
    void aNonFiniteLossStopsWithAClearError() {
        ArraySource data = trainData();
        data.set(5, 2, Float.NaN);
        try (TinyLinear m = new TinyLinear(DIM, CLASSES, 0, 5); Trainer t = new Trainer(m, recipe(1, null)).log(quiet)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(data, null));
            assertTrue(e.getMessage().startsWith("training diverged: loss NaN at epoch 1, step "), e.getMessage());
            assertTrue(e.getMessage().contains("--keep-going-on-nan"), e.getMessage());
        }
    }
}
