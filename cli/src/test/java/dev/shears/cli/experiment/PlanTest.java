package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Plans: the grid, fingerprints, fine-tuning rules, the recipes, stage conversion and the dry-run counting. */
class PlanTest {
    static Plan small(List<String> methods, List<Double> sparsities, List<Long> seeds) {
        return new Plan("t", "lenet5", Map.of(), "fashion-mnist", null, 128, 64, "none", Stage.sgd(1, 32, 0.05, 0.9, false, 5e-4),
                Stage.sgd(1, 32, 0.01, 0.9, false, 5e-4), List.of(), methods, sparsities, seeds, "20", "paper", null, List.of());
    }

    @Test
    void gridIsSeedThenMethodThenSparsityWithDistinctKeys() {
        Plan p = small(List.of("global", "uniform"), List.of(0.5, 0.99), List.of(0L, 1L));
        List<Plan.Cell> cells = p.cells();
        assertEquals(8, cells.size());
        assertEquals(new Plan.Cell("global", 0.5, 0), cells.get(0));
        assertEquals(new Plan.Cell("uniform", 0.99, 0), cells.get(3));
        assertEquals(new Plan.Cell("global", 0.5, 1), cells.get(4));
        assertEquals(8, cells.stream().map(Plan.Cell::key).distinct().count());
        assertEquals("global@0.99#1", new Plan.Cell("global", 0.99, 1).key());
        assertEquals("global@0.9805#0", new Plan.Cell("global", 0.9805, 0).key());
    }

    @Test
    void fingerprintFollowsWhatChangesACellAndNotTheGrid() {
        Plan a = small(List.of("global"), List.of(0.5), List.of(0L));
        Plan wider = a.withSparsities(List.of(0.5, 0.9)).withMethods(List.of("global", "lamp")).withSeeds(List.of(0L, 1L));
        assertEquals(a.fingerprint(), wider.fingerprint(), "extending the grid keeps the finished cells");
        Plan otherLr = new Plan("t", "lenet5", Map.of(), "fashion-mnist", null, 128, 64, "none", a.dense(), a.finetune().withLr(0.02), List.of(),
                a.methods(), a.sparsities(), a.seeds(), "20", "paper", null, List.of());
        assertNotEquals(a.fingerprint(), otherLr.fingerprint());
        assertEquals(a.denseFingerprint(), otherLr.denseFingerprint(), "the fine-tuning recipe does not change the dense model");
        Plan otherMt = new Plan("t", "lenet5", Map.of(), "fashion-mnist", null, 128, 64, "none", a.dense(), a.finetune(), List.of(),
                a.methods(), a.sparsities(), a.seeds(), "30", "paper", null, List.of());
        assertNotEquals(a.fingerprint(), otherMt.fingerprint());
        Plan otherSubset = new Plan("t", "lenet5", Map.of(), "fashion-mnist", null, 256, 64, "none", a.dense(), a.finetune(), List.of(),
                a.methods(), a.sparsities(), a.seeds(), "20", "paper", null, List.of());
        assertNotEquals(a.denseFingerprint(), otherSubset.denseFingerprint());
    }

    @Test
    void badPlansAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> small(List.of("magnitude"), List.of(0.5), List.of(0L)));
        assertTrue(e.getMessage().contains("magnitude") && e.getMessage().contains("global-mt"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> small(List.of("global"), List.of(1.0), List.of(0L)));
        assertTrue(e.getMessage().contains("sparsity 1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Plan("t", "lenet5", Map.of(), "fashion-mnist", null, null, null, "none",
                Stage.sgd(1, 32, 0.1, 0.9, false, 0), Stage.sgd(1, 32, 0.1, 0.9, false, 0), List.of(), List.of("global-mt"), List.of(0.9), List.of(0L),
                null, "paper", null, List.of()));
        assertTrue(e.getMessage().contains("--mt"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> small(List.of("global", "global"), List.of(0.5), List.of(0L)));
        assertTrue(e.getMessage().contains("repeat"), e.getMessage());
    }

    @Test
    void rulesPickTheFineTuningStage() {
        Plan p = Recipes.get("paper-wrn28-8-cifar10");
        assertEquals(0.0512, p.finetuneFor("global", 0.9).lr());
        assertEquals(0.0256, p.finetuneFor("global", 0.95).lr());
        assertEquals(2e-5, p.finetuneFor("global", 0.95).weightDecay());
        assertEquals(0.0128, p.finetuneFor("global", 0.975).lr());
        Plan v1 = Recipes.get("paper-mobilenetv1-imagenet");
        assertEquals(0.0512, v1.finetuneFor("global-mt", 0.9).lr(), "MT has its own row at 90%");
        assertEquals(0.0, v1.finetuneFor("global-mt", 0.9).weightDecay());
        assertEquals(0.0256, v1.finetuneFor("global", 0.9).lr());
        assertEquals(0.0512, v1.finetuneFor("global", 0.7528).lr());
        Plan r50 = Recipes.get("paper-resnet50-imagenet");
        assertEquals(r50.dense(), r50.stageFor(new Plan.Cell("gradual-global", 0.9, 0)), "gradual uses exactly the dense recipe");
        assertEquals(0.95, r50.finetuneFor("global", 0.9805).momentum());
        assertEquals(0.05, r50.finetuneFor("global", 0.9805).labelSmoothing());
    }

    @Test
    void everyRecipeIsAValidPlanAndDescribesItself() {
        assertEquals(List.of("paper-resnet32-cifar10", "paper-wrn28-8-cifar10", "paper-resnet50-imagenet", "paper-mobilenetv1-imagenet",
                "paper-fastgrnn-har2", "paper-wrn22-8-cifar10-999", "paper-mobilenetv2-cifar10-98"), Recipes.names());
        for (String n : Recipes.names()) {
            Plan p = Recipes.get(n);
            assertEquals(n, p.name());
            assertEquals(3, p.seeds().size(), n + ": the paper averages three runs");
            String text = ExperimentCommand.describe(p, Path.of("out"));
            assertTrue(text.contains(p.model()) && text.contains("cells (" + p.cells().size() + ")"), text);
            p.dense().config(0, null, Progress.Mode.OFF); // converts without error
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Recipes.get("paper-vgg"));
        assertTrue(e.getMessage().contains("paper-mobilenetv2-cifar10-98"), e.getMessage());
        assertEquals("0.02%", Recipes.get("paper-mobilenetv2-cifar10-98").mt());
    }

    @Test
    void stagesBecomeTrainerRecipes() {
        Plan mb = Recipes.get("paper-mobilenetv2-cifar10-98");
        TrainConfig c = mb.dense().config(3, null, Progress.Mode.OFF);
        assertEquals(Schedule.Kind.STEP, c.schedule().kind());
        int[] every25 = new int[7];
        for (int i = 0; i < 7; i++) every25[i] = 25 * (i + 1);
        assertArrayEquals(every25, c.schedule().milestones(), "step 25 over 200 epochs: 25, 50, ..., 175");
        assertEquals(0.56, c.schedule().gamma());
        assertTrue(c.optimizer().nesterov());
        assertEquals(450, c.batchSize());
        TrainConfig wrn = Recipes.get("paper-wrn22-8-cifar10-999").finetune().config(0, null, Progress.Mode.OFF);
        assertArrayEquals(new int[] {40}, wrn.schedule().milestones());
        TrainConfig r50 = Recipes.get("paper-resnet50-imagenet").dense().config(0, null, Progress.Mode.OFF);
        assertEquals(5, r50.schedule().warmupEpochs());
        assertEquals(Schedule.Kind.COSINE, r50.schedule().kind());
        assertTrue(!r50.schedule().perStep(), "the authors update the cosine rate per epoch");
        assertEquals(0.1, r50.labelSmoothing());
        // the stage's own schedule: lr at the first step of epoch 26 of the MobileNet-V2 dense run is 0.1 * 0.56
        assertEquals(0.1 * 0.56, c.schedule().lr(25L * 10, 10), 1e-12);
    }

    @Test
    void dryRunCountsEverySampleOfThePlan() {
        Plan p = small(List.of("global", "uniform"), List.of(0.5, 0.9), List.of(0L, 1L));
        long[] n = Estimate.samples(p, 1000, 200);
        // dense: 2 seeds x 1 epoch x 1000, cells: 8 x 1 epoch x 1000
        assertEquals(2 * 1000 + 8 * 1000, n[0]);
        // dense: 2 seeds x (1 epoch + the dense evaluation) x 200, cells: 8 x (pruned + 1 epoch) x 200
        assertEquals(2 * 2 * 200 + 8 * 2 * 200, n[1]);
        Estimate.DataShape c = Estimate.known("cifar10");
        assertEquals(50_000, c.train());
        assertArrayEquals(new int[] {3, 32, 32}, c.sampleShape());
        assertArrayEquals(new int[] {28, 28}, Estimate.known("fashion-mnist-rows").sampleShape());
    }

    @Test
    void aPlanReadBackFromItsJsonIsTheSamePlan() {
        List<Plan> plans = new java.util.ArrayList<>(Recipes.names().stream().map(Recipes::get).toList());
        plans.add(new Plan("custom", "resnet20", Map.of("shortcut", "B"), "cifar10", Path.of("data/cifar"), 5000, null, "crop-flip",
                Stage.sgd(3, 64, 0.1, 0.9, true, 1e-4).withStepSchedule(2, 0.2).withWarmup(1),
                Stage.sgd(1, 64, 0.01, 0.9, false, 5e-4).withSamplesPerEpoch(1000).withLabelSmoothing(0.1),
                List.of(new Plan.Rule("lamp", Double.NaN, Stage.sgd(2, 32, 0.02, 0.8, false, 0).withOptimizer("adam"))), List.of("global", "global-mt", "lamp"),
                List.of(0.5, 0.99), List.of(4L, 5L), "0.02%", "exact", null, List.of("a note")));
        for (Plan p : plans) {
            Plan back = Plan.fromJson(com.google.gson.JsonParser.parseString(Report.pretty(p.json())).getAsJsonObject());
            assertEquals(p.json(), back.json(), p.name());
            assertEquals(p.fingerprint(), back.fingerprint(), p.name());
            assertEquals(p.cells(), back.cells(), p.name());
        }
    }
}
