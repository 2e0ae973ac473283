package dev.shears.nn.optim;

import java.util.Arrays;

/**
 * A learning-rate schedule as a pure function of the optimizer step, so a resumed run continues
 * at exactly the right value. Linear warm-up over the first {@code warmupEpochs} (per step:
 * {@code base*(s+1)/W}), then: constant; step decay ({@code base*gamma^k}, k = milestones (in
 * epochs, counted from the start) already reached); or cosine from {@code base} down towards
 * {@code minLr} over the remaining epochs (PyTorch's CosineAnnealingLR with T_max = the rest),
 * updated every step or once per epoch. Pinned by ScheduleTest.
 *
 * @param kind         CONSTANT, STEP or COSINE
 * @param baseLr       peak learning rate
 * @param epochs       total epochs of the run (cosine spans them)
 * @param warmupEpochs linear warm-up length in epochs (0 = none)
 * @param perStep      cosine only: update every step (true) or at epoch boundaries (false)
 * @param minLr        cosine floor (PyTorch's eta_min)
 * @param milestones   step only: epochs at which the rate is multiplied by gamma
 * @param gamma        step only: the factor
 */
public record Schedule(Kind kind, double baseLr, int epochs, int warmupEpochs, boolean perStep, double minLr,
                       int[] milestones, double gamma) {
    public enum Kind { CONSTANT, STEP, COSINE }

    public Schedule {
        if (kind == null) throw new IllegalArgumentException("schedule kind is required (cosine, step or constant)");
        if (!(baseLr > 0) || Double.isInfinite(baseLr)) throw new IllegalArgumentException("learning rate must be > 0 and finite, got " + baseLr);
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (warmupEpochs < 0 || (kind == Kind.COSINE && warmupEpochs > 0 && warmupEpochs >= epochs)) {
            throw new IllegalArgumentException("warm-up epochs must be >= 0" + (kind == Kind.COSINE ? " and below the " + epochs + " epochs of a cosine schedule" : "")
                    + ", got " + warmupEpochs);
        }
        if (minLr < 0 || minLr > baseLr) throw new IllegalArgumentException("minimum learning rate must be in [0, " + baseLr + "], got " + minLr);
        milestones = milestones == null ? new int[0] : milestones.clone();
        for (int i = 0; i < milestones.length; i++) {
            if (milestones[i] < 1 || (i > 0 && milestones[i] <= milestones[i - 1])) {
                throw new IllegalArgumentException("milestones must be increasing epochs >= 1, got " + Arrays.toString(milestones));
            }
        }
        if (!(gamma > 0)) throw new IllegalArgumentException("gamma must be > 0, got " + gamma);
    }

    public static Schedule constant(double lr, int epochs, int warmupEpochs) {
        return new Schedule(Kind.CONSTANT, lr, epochs, warmupEpochs, true, 0, null, 1);
    }

    public static Schedule cosine(double lr, int epochs, int warmupEpochs, boolean perStep) {
        return new Schedule(Kind.COSINE, lr, epochs, warmupEpochs, perStep, 0, null, 1);
    }

    /** Step decay; milestones null = the usual halfway and three-quarter marks. */
    public static Schedule step(double lr, int epochs, int warmupEpochs, int[] milestones, double gamma) {
        if (milestones == null) {
            milestones = Arrays.stream(new int[] {Math.max(1, epochs / 2), Math.max(1, epochs * 3 / 4)}).distinct().toArray();
        }
        return new Schedule(Kind.STEP, lr, epochs, warmupEpochs, false, 0, milestones, gamma);
    }

    @Override
    public int[] milestones() {
        return milestones.clone();
    }

    /** The learning rate of optimizer step {@code step} (0-based) with {@code stepsPerEpoch} steps an epoch. */
    public double lr(long step, int stepsPerEpoch) {
        if (stepsPerEpoch < 1) throw new IllegalArgumentException("steps per epoch must be >= 1, got " + stepsPerEpoch);
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        long warmSteps = (long) warmupEpochs * stepsPerEpoch;
        if (step < warmSteps) return baseLr * (step + 1) / warmSteps;
        long epoch = step / stepsPerEpoch;
        return switch (kind) {
            case CONSTANT -> baseLr;
            case STEP -> {
                int k = 0;
                for (int m : milestones) if (epoch >= m) k++;
                yield baseLr * Math.pow(gamma, k);
            }
            case COSINE -> {
                double t, total;
                if (perStep) {
                    t = step - warmSteps;
                    total = (double) (epochs - warmupEpochs) * stepsPerEpoch;
                } else {
                    t = epoch - warmupEpochs;
                    total = epochs - warmupEpochs;
                }
                t = Math.min(t, total); // steps past the planned end stay at the floor
                yield minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t / total));
            }
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case CONSTANT -> "constant lr " + baseLr;
            case STEP -> "step lr " + baseLr + " x" + gamma + " at epochs " + Arrays.toString(milestones);
            case COSINE -> "cosine lr " + baseLr + " -> " + minLr + (perStep ? " per step" : " per epoch");
        } + (warmupEpochs > 0 ? ", " + warmupEpochs + " warm-up epochs" : "");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Schedule s && s.kind == kind && s.baseLr == baseLr && s.epochs == epochs && s.warmupEpochs == warmupEpochs
                && s.perStep == perStep && s.minLr == minLr && Arrays.equals(s.milestones, milestones) && s.gamma == gamma;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Arrays.hashCode(milestones) + Double.hashCode(baseLr) + epochs;
    }
}
