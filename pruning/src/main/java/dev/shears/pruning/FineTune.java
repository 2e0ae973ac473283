package dev.shears.pruning;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.train.BatchSource;
import dev.shears.nn.train.TrainConfig;
import dev.shears.nn.train.TrainResult;
import dev.shears.nn.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The pruning schedules around the trainer. Fine-tuning is {@link Trainer} as it is: masks are
 * fixed, the optimizer re-zeroes pruned weights after every step (PAPER.md 5.3), checkpoints
 * carry the masks. One-shot = prune once, then fine-tune; iterative = n rounds of (prune to the
 * round's geometric sparsity 1 - (1 - s)^(r/n), fine-tune the recipe), round r in
 * {@code runDir/round-r}; gradual = {@link GradualPruning} inside one training run. Not a new
 * loop. Pinned by FineTuneTest.
 */
public final class FineTune {
    private FineTune() {}

    /** One pruning (and fine-tuning) stage: the report after pruning and the training that followed (null when none). */
    public record Stage(int round, double sparsity, Pruning.Outcome pruned, TrainResult training) {}

    /** Fine-tunes the (pruned) model with {@code recipe}; {@code test} may be null. */
    public static TrainResult run(Model model, BatchSource train, BatchSource test, TrainConfig recipe) {
        return Trainer.train(model, train, test, recipe);
    }

    /** Prune once, then fine-tune with {@code recipe} (null: no fine-tuning). */
    public static Stage oneShot(Model model, String method, double sparsity, PruneOptions opts, BatchSource scoreData, Workspace maskOwner,
                                BatchSource train, BatchSource test, TrainConfig recipe) {
        Pruning.Outcome o = Pruning.pruneWithResult(model, method, sparsity, opts, scoreData, maskOwner);
        TrainResult t = recipe == null ? null : run(model, train, test, recipe);
        return new Stage(1, sparsity, o, t);
    }

    /**
     * {@code rounds} rounds of prune-to-1 - (1 - s)^(r/n) then fine-tune; each round's run folder is
     * {@code recipe.runDir()/round-r} (none when the recipe has no run folder or is null).
     */
    public static List<Stage> iterative(Model model, String method, double sparsity, int rounds, PruneOptions opts, BatchSource scoreData,
                                        Workspace maskOwner, BatchSource train, BatchSource test, TrainConfig recipe) {
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
        if (Pruning.normalise(method).equals("synflow") && rounds > 1) {
            throw new IllegalArgumentException("synflow is already iterative (--synflow-rounds); use --schedule one-shot with it");
        }
        List<Stage> stages = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            double s = Pruning.geometricSparsity(sparsity, r, rounds);
            Pruning.Outcome o = Pruning.pruneWithResult(model, method, s, opts, scoreData, maskOwner);
            TrainResult t = null;
            if (recipe != null) {
                Path dir = recipe.runDir() == null ? null : recipe.runDir().resolve("round-" + r);
                t = run(model, train, test, recipe.withRunDir(dir));
            }
            stages.add(new Stage(r, s, o, t));
        }
        return stages;
    }
}
