package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import dev.shears.nn.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning keeps masks fixed and pruned weights exactly zero: prune, train a few steps, save,
 * reload into a fresh model, count zeros. Iterative rounds keep earlier cuts; gradual pruning
 * reaches each event's target exactly and ends on the final one.
 */
class FineTuneTest {
    private static TrainConfig recipe(int epochs, int batch, Path dir) {
        return new TrainConfig(epochs, batch, OptimizerConfig.sgd(0.9, false, 5e-4), Schedule.constant(0.05, epochs, 0), 0, 1, dir, Progress.Mode.OFF);
    }

    /** Pruned flags of every prunable weight, from the masks, in order. */
    private static boolean[] prunedFlags(Model m) {
        List<Boolean> out = new ArrayList<>();
        for (Parameter p : m.parameters()) {
            if (!p.prunable()) continue;
            for (long i = 0; i < p.size(); i++) out.add(p.mask() != null && p.mask().get(i) == 0f);
        }
        boolean[] b = new boolean[out.size()];
        for (int i = 0; i < b.length; i++) b[i] = out.get(i);
        return b;
    }

    private static long zeroWeights(Model m) {
        long z = 0;
        for (Parameter p : m.parameters()) if (p.prunable()) for (long i = 0; i < p.size(); i++) if (p.value().get(i) == 0f) z++;
        return z;
    }

    private static long count(boolean[] b) {
        long c = 0;
        for (boolean x : b) if (x) c++;
        return c;
    }

    @Test
    void fineTuningKeepsMasksAndZerosThroughACheckpoint(@TempDir Path dir) {
        ModelConfig cfg = ModelConfig.of(1, 8, 8, 10).withShortcut("B").withSeed(4);
        try (Network net = ModelZoo.create("resnet20", cfg); Workspace masks = new Workspace("masks");
             RandomSource train = new RandomSource(1, 32, 8, 10, 1, 8, 8)) {
            FineTune.Stage stage = FineTune.oneShot(net, "global", 0.9, PruneOptions.DEFAULT, null, masks, train, null, recipe(2, 8, dir));
            long n = stage.pruned().report().weights(), k = Math.round(0.9 * n);
            assertEquals(k, n - stage.pruned().report().kept());
            assertEquals(2, stage.training().history().size());
            assertEquals(8, stage.training().last().step()); // 2 epochs of 4 batches
            boolean[] flags = prunedFlags(net);
            assertEquals(k, count(flags));
            assertTrue(Files.isRegularFile(dir.resolve(Trainer.LAST)));
            try (Checkpoint ck = Checkpoint.read(dir.resolve(Trainer.LAST)); Network fresh = ModelZoo.create(ck.spec());
                 Workspace owner = new Workspace("reloaded")) {
                float before = fresh.parameter("layer1.0.conv1.weight").value().get(0);
                ck.restoreModel(fresh, owner);
                assertEquals(k, count(prunedFlags(fresh)), "masks reloaded");
                org.junit.jupiter.api.Assertions.assertArrayEquals(flags, prunedFlags(fresh), "same masks as pruned");
                long zeros = zeroWeights(fresh);
                assertTrue(zeros >= k, "every pruned weight is zero after fine-tuning: " + zeros + " zeros, k = " + k);
                assertTrue(zeros < k + n / 100, "kept weights trained away from zero: " + zeros);
                for (Parameter p : fresh.parameters()) {
                    if (!p.prunable()) continue;
                    for (long i = 0; i < p.size(); i++) if (p.mask().get(i) == 0f) assertEquals(0, Float.floatToRawIntBits(p.value().get(i)), p.name() + " " + i + " must be exactly +0");
                }
                assertEquals(k, n - Pruning.report(fresh).kept());
                assertNotEquals(before, fresh.parameter("layer1.0.conv1.weight").value().get(0), "weights come from the file");
            }
        }
    }

    @Test
    void iterativeRoundsFollowTheGeometricSequenceAndKeepEarlierCuts(@TempDir Path dir) {
        try (TinyModel m = TinyModel.mlp(3, 6, 16, 4); Workspace masks = new Workspace("masks"); RandomSource train = new RandomSource(2, 16, 8, 4, 6, 1, 1)) {
            int rounds = 3;
            double target = 0.875;
            List<FineTune.Stage> stages = FineTune.iterative(m, "global", target, rounds, PruneOptions.DEFAULT, null, masks, train, null, recipe(1, 8, dir));
            assertEquals(rounds, stages.size());
            long n = stages.getLast().pruned().report().weights();
            for (FineTune.Stage s : stages) {
                assertEquals(Pruning.geometricSparsity(target, s.round(), rounds), s.sparsity());
                assertEquals(Math.round(s.sparsity() * n), n - s.pruned().report().kept());
                assertTrue(Files.isRegularFile(dir.resolve("round-" + s.round()).resolve(Trainer.LAST)));
            }
            assertEquals(Math.round(target * n), count(prunedFlags(m)));
            assertEquals(Math.round(target * n), zeroWeights(m));
        }
    }

    @Test
    void rePruningKeepsEveryEarlierCut() {
        try (TinyModel m = TinyModel.mlp(8, 6, 16, 4); Workspace masks = new Workspace("masks")) {
            Pruning.prune(m, "random", 0.5, PruneOptions.DEFAULT.withSeed(1), null, masks);
            boolean[] first = prunedFlags(m);
            Pruning.prune(m, "random", 0.7, PruneOptions.DEFAULT.withSeed(2), null, masks); // other seed: other ranking
            boolean[] second = prunedFlags(m);
            for (int i = 0; i < first.length; i++) if (first[i]) assertTrue(second[i], "weight " + i + " came back");
            assertEquals(Math.round(0.7 * first.length), count(second));
        }
    }

    @Test
    void gradualPruningHitsEachEventExactlyAndEndsOnTarget() {
        try (TinyModel m = TinyModel.mlp(5, 6, 16, 4); Workspace masks = new Workspace("masks"); RandomSource train = new RandomSource(3, 40, 8, 4, 6, 1, 1)) {
            long n = Pruning.report(m).weights();
            CubicSchedule schedule = new CubicSchedule(0, 0.8, 2, 2, 3); // events at steps 2, 4, 6, 8
            GradualPruning gradual = new GradualPruning(m, "global", schedule, PruneOptions.DEFAULT, null, masks);
            List<boolean[]> masksAfter = new ArrayList<>();
            try (Trainer t = new Trainer(m, recipe(2, 8, null))) { // 2 epochs of 5 steps
                t.listener(new dev.shears.nn.train.TrainListener() {
                    @Override
                    public void onStep(int epoch, int stepInEpoch, double loss) {
                        gradual.onStep(epoch, stepInEpoch, loss);
                        masksAfter.add(prunedFlags(m));
                    }
                }).fit(train, null);
            }
            assertEquals(10, gradual.steps());
            List<double[]> events = gradual.events();
            assertEquals(4, events.size());
            for (int j = 0; j < events.size(); j++) {
                double[] e = events.get(j);
                assertEquals(2 + 2 * j, (long) e[0]);
                assertEquals(schedule.sparsityAt((long) e[0]), e[1]);
                assertEquals(Math.round(e[1] * n) / (double) n, e[2], 1e-12, "event " + j);
            }
            assertEquals(0.8, events.getLast()[1]);
            for (int s = 1; s < masksAfter.size(); s++) {
                boolean[] a = masksAfter.get(s - 1), b = masksAfter.get(s);
                for (int i = 0; i < a.length; i++) if (a[i]) assertTrue(b[i], "step " + (s + 1) + ": weight " + i + " came back");
            }
            assertEquals(Math.round(0.8 * n), count(prunedFlags(m)));
            assertTrue(zeroWeights(m) >= Math.round(0.8 * n));
        }
    }
}
