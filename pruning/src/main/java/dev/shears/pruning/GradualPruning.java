package dev.shears.pruning;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.train.TrainListener;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradual pruning as a trainer listener: after optimizer step t (counted from the run's start),
 * when the {@link CubicSchedule} has an event at t, the model is pruned to s_t with the method
 * (Global MP by default: one global threshold recomputed over the current weights). Pruned
 * weights stay pruned (masks only grow, {@link KeepPruned}) and the optimizer keeps them zero
 * between events. Not resumable mid-run: the step counter starts at zero. Pinned by
 * FineTuneTest.
 *
 * <pre>{@code
 * new Trainer(model, recipe).listener(new GradualPruning(model, "global", schedule, opts, null, masks)).fit(train, test);
 * }</pre>
 */
public final class GradualPruning implements TrainListener {
    private final Model model;
    private final String method;
    private final CubicSchedule schedule;
    private final PruneOptions opts;
    private final dev.shears.nn.train.BatchSource data;
    private final Workspace maskOwner;
    private final List<double[]> events = new ArrayList<>(); // (step, sparsity asked, sparsity reached)
    private long step;

    public GradualPruning(Model model, String method, CubicSchedule schedule, PruneOptions opts, dev.shears.nn.train.BatchSource data,
                          Workspace maskOwner) {
        this.model = model;
        this.method = Pruning.normalise(method);
        if (this.method.equals("synflow")) throw new IllegalArgumentException("gradual pruning recomputes one threshold per event; synflow is iterative on its own");
        this.schedule = schedule;
        this.opts = opts == null ? PruneOptions.DEFAULT : opts;
        this.data = data;
        this.maskOwner = maskOwner;
        if (schedule.prunesAt(0) && schedule.initial() > 0) prune(0);
    }

    @Override
    public void onStep(int epoch, int stepInEpoch, double loss) {
        step++;
        if (schedule.prunesAt(step)) prune(step);
    }

    private void prune(long t) {
        double s = schedule.sparsityAt(t);
        SparsityReport r = Pruning.prune(model, method, s, opts, data, maskOwner);
        events.add(new double[] {t, s, r.sparsity()});
    }

    /** Steps seen so far. */
    public long steps() {
        return step;
    }

    /** The pruning events so far: (step, sparsity asked, sparsity reached). */
    public List<double[]> events() {
        List<double[]> out = new ArrayList<>();
        for (double[] e : events) out.add(e.clone());
        return out;
    }
}
