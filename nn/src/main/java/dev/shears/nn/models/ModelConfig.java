package dev.shears.nn.models;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a zoo model adapts to: input channels, height and width, class count, the init seed, and
 * model options by name ({@code shortcut=A|B} for the CIFAR ResNets, {@code dropout} for WRN,
 * {@code multiplier} for MobileNet-V1). Which options a model accepts, and their defaults, is the
 * zoo's business ({@link ModelZoo}); unknown ones are an error there. Pinned by ModelZooTest.
 */
public record ModelConfig(int channels, int height, int width, int classes, long seed, Map<String, String> options) {
    public ModelConfig {
        if (channels < 1 || height < 1 || width < 1 || classes < 1) {
            throw new IllegalArgumentException("model config needs positive channels, height, width and classes, got channels=" + channels
                    + " height=" + height + " width=" + width + " classes=" + classes);
        }
        options = Map.copyOf(options);
    }

    /** Input (channels, height, width), classes, seed 0, no options. */
    public static ModelConfig of(int channels, int height, int width, int classes) {
        return new ModelConfig(channels, height, width, classes, 0, Map.of());
    }

    /** 3x32x32, 10 classes. */
    public static ModelConfig cifar10() { return of(3, 32, 32, 10); }

    /** 1x28x28, 10 classes (MNIST, Fashion-MNIST). */
    public static ModelConfig mnist() { return of(1, 28, 28, 10); }

    /** 3x224x224, 1000 classes. */
    public static ModelConfig imagenet() { return of(3, 224, 224, 1000); }

    public ModelConfig withSeed(long newSeed) {
        return new ModelConfig(channels, height, width, classes, newSeed, options);
    }

    public ModelConfig withClasses(int newClasses) {
        return new ModelConfig(channels, height, width, newClasses, seed, options);
    }

    /** Sets one option (checked when the model is built). */
    public ModelConfig with(String option, String value) {
        Map<String, String> m = new TreeMap<>(options);
        m.put(option, value);
        return new ModelConfig(channels, height, width, classes, seed, m);
    }

    public ModelConfig withShortcut(String aOrB) { return with("shortcut", aOrB); }
    public ModelConfig withDropout(double p) { return with("dropout", Double.toString(p)); }
    public ModelConfig withWidthMultiplier(double m) { return with("multiplier", Double.toString(m)); }

    /** The option's value, or {@code fallback} when unset. */
    public String option(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    /** The spec of model {@code name} under this config (options as given; the zoo fills defaults). */
    public Map<String, String> spec(String name) {
        Map<String, String> m = new TreeMap<>(options);
        m.put("model", name);
        m.put("channels", Integer.toString(channels));
        m.put("height", Integer.toString(height));
        m.put("width", Integer.toString(width));
        m.put("classes", Integer.toString(classes));
        m.put("seed", Long.toString(seed));
        return m;
    }
}
