package dev.shears.datasets.tools;

import dev.shears.datasets.IdxFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * Makes the embedded Fashion-MNIST subset: from the four IDX files of the full set (Debian's
 * dataset-fashion-mnist by default) it keeps {@value #TRAIN_PER_CLASS} training and
 * {@value #TEST_PER_CLASS} test images per class, chosen by {@link #select} with seed
 * {@value #SEED}, in their original order, and writes them as gzipped IDX (level 9, reproducible
 * bytes; the training images in two halves, so each file stays near 2 MiB) plus a SOURCE.txt with the inputs' SHA-256. Run from the repository root:
 * {@code java -cp datasets/target/classes:engine/target/classes dev.shears.datasets.tools.MakeEmbeddedSubset [SRC_DIR [OUT_DIR]]}.
 * Not used at run time. Pinned by DebianFashionMnistTest (regenerates the subset and compares it with the stored one)
 * and SubsetSelectionTest.
 */
public final class MakeEmbeddedSubset {
    public static final long SEED = 20220928L; // arXiv 2209.14624's submission date
    public static final int TRAIN_PER_CLASS = 1000;
    public static final int TEST_PER_CLASS = 200;
    public static final int CLASSES = 10;
    public static final String OUT = "datasets/src/main/resources/dev/shears/datasets/embedded/fashion-mnist-subset";

    private MakeEmbeddedSubset() {}

    /**
     * A stratified subset: walk one seeded permutation of all indices and keep the first
     * {@code perClass} of each class; returns the kept indices in ascending (original) order.
     */
    public static int[] select(int[] labels, int classes, int perClass, long seed) {
        int n = labels.length;
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] taken = new int[classes];
        int[] kept = new int[classes * perClass];
        int k = 0;
        for (int i : perm) {
            int c = labels[i];
            if (c < 0 || c >= classes) throw new IllegalArgumentException("label " + c + " at index " + i + " outside 0.." + (classes - 1));
            if (taken[c] < perClass) {
                taken[c]++;
                kept[k++] = i;
            }
        }
        for (int c = 0; c < classes; c++) {
            if (taken[c] < perClass) throw new IllegalArgumentException("class " + c + " has only " + taken[c] + " samples; " + perClass + " wanted");
        }
        Arrays.sort(kept);
        return kept;
    }

    /** The stratified subset of one split: {images (n, rows, cols), labels (n)}, in the original order. */
    public static IdxFile.Contents[] subset(IdxFile.Contents images, IdxFile.Contents labels, int perClass) {
        int[] y = new int[labels.dims()[0]];
        for (int i = 0; i < y.length; i++) y[i] = labels.data()[i] & 0xFF;
        int[] kept = select(y, CLASSES, perClass, SEED);
        int rows = images.dims()[1], cols = images.dims()[2], px = rows * cols;
        byte[] x = new byte[kept.length * px];
        byte[] ly = new byte[kept.length];
        for (int j = 0; j < kept.length; j++) {
            System.arraycopy(images.data(), kept[j] * px, x, j * px, px);
            ly[j] = labels.data()[kept[j]];
        }
        return new IdxFile.Contents[] {new IdxFile.Contents(new int[] {kept.length, rows, cols}, x), new IdxFile.Contents(new int[] {kept.length}, ly)};
    }

    /**
     * A subset as gzipped IDX files: {images, labels}, or {images part 0, images part 1, labels}
     * when {@code parts} is 2 (the training images in two halves, so each stored file stays near 2 MiB).
     */
    public static byte[][] encode(IdxFile.Contents[] subset, int parts) {
        IdxFile.Contents images = subset[0];
        int n = images.dims()[0], px = images.dims()[1] * images.dims()[2];
        byte[][] files = new byte[parts + 1][];
        for (int p = 0; p < parts; p++) {
            int from = n * p / parts, to = n * (p + 1) / parts;
            files[p] = IdxFile.encode(new int[] {to - from, images.dims()[1], images.dims()[2]}, Arrays.copyOfRange(images.data(), from * px, to * px), true);
        }
        files[parts] = IdxFile.encode(subset[1].dims(), subset[1].data(), true);
        return files;
    }

    public static void main(String[] args) throws IOException, NoSuchAlgorithmException {
        Path src = Path.of(args.length > 0 ? args[0] : "/usr/share/datasets/fashion-mnist");
        Path out = Path.of(args.length > 1 ? args[1] : OUT);
        StringBuilder source = new StringBuilder();
        source.append("Fashion-MNIST subset (Zalando Research, MIT licence), made by dev.shears.datasets.tools.MakeEmbeddedSubset\n");
        source.append("seed ").append(SEED).append(", per class: train ").append(TRAIN_PER_CLASS).append(", test ").append(TEST_PER_CLASS).append('\n');
        source.append("inputs (SHA-256):\n");
        for (String[] split : new String[][] {{"train", Integer.toString(TRAIN_PER_CLASS)}, {"t10k", Integer.toString(TEST_PER_CLASS)}}) {
            Path imgs = src.resolve(split[0] + "-images-idx3-ubyte.gz");
            Path lbls = src.resolve(split[0] + "-labels-idx1-ubyte.gz");
            int parts = split[0].equals("train") ? 2 : 1;
            byte[][] files = encode(subset(IdxFile.read(imgs, 3), IdxFile.read(lbls, 1), Integer.parseInt(split[1])), parts);
            Files.createDirectories(out);
            for (int p = 0; p < parts; p++) IdxFile.writeAtomically(out.resolve(imagesName(split[0], p, parts)), files[p]);
            IdxFile.writeAtomically(out.resolve(lbls.getFileName()), files[parts]);
            source.append("  ").append(sha256(imgs)).append("  ").append(imgs.getFileName()).append('\n');
            source.append("  ").append(sha256(lbls)).append("  ").append(lbls.getFileName()).append('\n');
            for (byte[] f : files) System.out.printf("%s: %d bytes%n", split[0], f.length);
        }
        IdxFile.writeAtomically(out.resolve("SOURCE.txt"), source.toString().getBytes(StandardCharsets.UTF_8));
        System.out.println("wrote " + out);
    }

    /** Stored name of images part {@code p}: {@code <split>-images-idx3-ubyte.gz}, or {@code ...-ubyte.part<p>.gz} when split. */
    public static String imagesName(String split, int p, int parts) {
        return parts == 1 ? split + "-images-idx3-ubyte.gz" : split + "-images-idx3-ubyte.part" + p + ".gz";
    }

    private static String sha256(Path p) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
