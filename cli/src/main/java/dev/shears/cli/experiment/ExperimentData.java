package dev.shears.cli.experiment;

import dev.shears.datasets.Augment;
import dev.shears.datasets.Dataset;
import dev.shears.datasets.DatasetException;
import dev.shears.datasets.Datasets;
import dev.shears.datasets.Splits;
import dev.shears.nn.models.ModelConfig;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The data of a plan: the named dataset opened once, the fixed random subsets a quick run asks
 * for (drawn with seed 0, independent of the run's seed, as {@code shears train} draws them), and
 * the training augmentation. Errors name the dataset and option. Not a loader.
 */
record ExperimentData(Dataset train, Dataset test, Augment augment) {
    static ExperimentData open(Plan plan) {
        Splits s;
        try {
            s = Datasets.open(plan.dataset(), plan.dataDir());
        } catch (DatasetException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        return of(s, plan);
    }

    static ExperimentData of(Splits s, Plan plan) {
        Dataset train = subset(s.train(), plan.trainSize(), "--train-size");
        Dataset test = subset(s.test(), plan.testSize(), "--test-size");
        return new ExperimentData(train, test, augment(plan.augment(), plan.dataset()));
    }

    static Augment augment(String choice, String dataset) {
        String c = choice == null ? "auto" : choice.trim().toLowerCase(Locale.ROOT);
        return switch (c) {
            case "none" -> Augment.none();
            case "flip" -> Augment.none().withFlip(true);
            case "crop-flip" -> Augment.cifar();
            case "auto" -> dataset.startsWith("cifar") ? Augment.cifar() : dataset.startsWith("imagefolder") ? Augment.imagenet() : Augment.none();
            default -> throw new IllegalArgumentException("--augment must be none, flip, crop-flip or auto, got '" + choice + "'");
        };
    }

    /** A model config for this data's sample shape (images (C, H, W); sequences (T, F) as (1, T, F)). */
    ModelConfig modelConfig(long seed, Map<String, String> options) {
        int[] sh = train.sampleShape();
        if (sh.length == 3) return new ModelConfig(sh[0], sh[1], sh[2], train.classes(), seed, options);
        if (sh.length == 2) return new ModelConfig(1, sh[0], sh[1], train.classes(), seed, options);
        throw new IllegalArgumentException("dataset '" + train.name() + "' has samples " + Arrays.toString(sh) + "; the zoo's models take (C, H, W) or (T, F)");
    }

    private static Dataset subset(Dataset d, Integer size, String option) {
        if (size == null || size == d.size()) return d;
        if (size < 1 || size > d.size()) throw new IllegalArgumentException(option + " must be from 1 to " + d.size() + " (the size of " + d.name() + "), got " + size);
        int[] idx = new int[d.size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        SplittableRandom r = new SplittableRandom(0);
        for (int i = idx.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int[] pick = Arrays.copyOf(idx, size);
        Arrays.sort(pick);
        return d.subset(d.name() + "-" + size, pick);
    }
}
