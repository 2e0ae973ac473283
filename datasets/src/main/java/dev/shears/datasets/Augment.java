package dev.shears.datasets;

/**
 * What the loader does to each sample: random crop after padding by {@code padding} pixels
 * (zero or reflect padding), horizontal flip with probability 1/2, per-channel normalisation
 * (x - mean) / std, and for image folders a random-resized-crop at decode time. Crop then flip
 * then normalise, the torchvision order. Crop and flip apply to image samples (C, H, W) only.
 * Pinned by LoaderTest.
 */
public record Augment(int padding, PadMode padMode, boolean flip, boolean normalize, boolean randomResizedCrop) {
    /** How the border added before a random crop is filled. */
    public enum PadMode {
        /** Raw value 0 (black), as torchvision's RandomCrop(padding=p) does by default. */
        ZERO,
        /** Mirror without repeating the edge pixel (torch 'reflect'); the paper's CIFAR code pads this way. */
        REFLECT
    }

    public Augment {
        if (padding < 0) throw new IllegalArgumentException("crop padding " + padding + " must be >= 0");
        if (padMode == null) throw new IllegalArgumentException("pad mode must be ZERO or REFLECT");
    }

    /** Evaluation: normalise only. */
    public static Augment none() {
        return new Augment(0, PadMode.ZERO, false, true, false);
    }

    /** Raw values: nothing at all (not even normalisation). */
    public static Augment raw() {
        return new Augment(0, PadMode.ZERO, false, false, false);
    }

    /** CIFAR training as in the paper's code (its §5 item 7): reflect-pad 4, random 32x32 crop, flip, normalise. */
    public static Augment cifar() {
        return new Augment(4, PadMode.REFLECT, true, true, false);
    }

    /** ImageNet training: random-resized-crop at decode, flip, normalise. */
    public static Augment imagenet() {
        return new Augment(0, PadMode.ZERO, true, true, true);
    }

    public Augment withPadding(int p, PadMode mode) { return new Augment(p, mode, flip, normalize, randomResizedCrop); }
    public Augment withFlip(boolean f) { return new Augment(padding, padMode, f, normalize, randomResizedCrop); }
    public Augment withNormalize(boolean n) { return new Augment(padding, padMode, flip, n, randomResizedCrop); }
    public Augment withRandomResizedCrop(boolean r) { return new Augment(padding, padMode, flip, normalize, r); }

    /** True when the output depends on the random draws. */
    public boolean random() {
        return padding > 0 || flip || randomResizedCrop;
    }
}
