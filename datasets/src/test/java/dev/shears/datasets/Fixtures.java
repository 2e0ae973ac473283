package dev.shears.datasets;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/** Writers of small, valid files in every format the datasets module reads (the tests' generators). */
final class Fixtures {
    private Fixtures() {}

    /** Random uint8 images (n, rows, cols) and labels 0..classes-1 of one IDX split. */
    record IdxSplit(int n, int rows, int cols, byte[] pixels, byte[] labels) {}

    static IdxSplit idxSplit(SplittableRandom rng, int n, int rows, int cols, int classes) {
        byte[] px = new byte[n * rows * cols];
        for (int i = 0; i < px.length; i++) px[i] = (byte) rng.nextInt(256);
        byte[] y = new byte[n];
        for (int i = 0; i < n; i++) y[i] = (byte) rng.nextInt(classes);
        return new IdxSplit(n, rows, cols, px, y);
    }

    /** The four IDX files of an MNIST-style folder. */
    static void writeIdxFolder(Path dir, IdxSplit train, IdxSplit test, boolean gzip) throws IOException {
        String gz = gzip ? ".gz" : "";
        IdxFile.write(dir.resolve("train-images-idx3-ubyte" + gz), new int[] {train.n, train.rows, train.cols}, train.pixels, gzip);
        IdxFile.write(dir.resolve("train-labels-idx1-ubyte" + gz), new int[] {train.n}, train.labels, gzip);
        IdxFile.write(dir.resolve("t10k-images-idx3-ubyte" + gz), new int[] {test.n, test.rows, test.cols}, test.pixels, gzip);
        IdxFile.write(dir.resolve("t10k-labels-idx1-ubyte" + gz), new int[] {test.n}, test.labels, gzip);
    }

    /** CIFAR records: labelBytes label bytes then 3072 pixels; returns the file bytes. */
    static byte[] cifarRecords(SplittableRandom rng, int records, int labelBytes, int[] labelLimits) {
        int record = labelBytes + 3072;
        byte[] b = new byte[records * record];
        for (int r = 0; r < records; r++) {
            for (int l = 0; l < labelBytes; l++) b[r * record + l] = (byte) rng.nextInt(labelLimits[l]);
            for (int k = 0; k < 3072; k++) b[r * record + labelBytes + k] = (byte) rng.nextInt(256);
        }
        return b;
    }

    /** A cifar-10-batches-bin folder under {@code parent}: five data batches and a test batch of a few records each. */
    static Path writeCifar10(Path parent, SplittableRandom rng, int perBatch) throws IOException {
        Path dir = Files.createDirectories(parent.resolve("cifar-10-batches-bin"));
        for (int b = 1; b <= 5; b++) Files.write(dir.resolve("data_batch_" + b + ".bin"), cifarRecords(rng, perBatch, 1, new int[] {10}));
        Files.write(dir.resolve("test_batch.bin"), cifarRecords(rng, perBatch, 1, new int[] {10}));
        Files.writeString(dir.resolve("batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
        return dir;
    }

    /** A cifar-100-binary folder under {@code parent}. */
    static Path writeCifar100(Path parent, SplittableRandom rng, int train, int test) throws IOException {
        Path dir = Files.createDirectories(parent.resolve("cifar-100-binary"));
        Files.write(dir.resolve("train.bin"), cifarRecords(rng, train, 2, new int[] {20, 100}));
        Files.write(dir.resolve("test.bin"), cifarRecords(rng, test, 2, new int[] {20, 100}));
        return dir;
    }

    /** One HAR split: (n, 128, 9) values as written (then parsed back by Float.parseFloat) and labels 1..6. */
    record HarSplit(float[] values, int[] labels) {}

    /** A 'UCI HAR Dataset' folder under {@code parent} in the original text layout; returns what each split holds. */
    static HarSplit[] writeHar(Path parent, SplittableRandom rng, int train, int test) throws IOException {
        Path root = parent.resolve("UCI HAR Dataset");
        HarSplit[] out = new HarSplit[2];
        String[] splits = {"train", "test"};
        int[] sizes = {train, test};
        for (int s = 0; s < 2; s++) {
            int n = sizes[s];
            Path dir = Files.createDirectories(root.resolve(splits[s]).resolve("Inertial Signals"));
            float[] values = new float[n * 128 * 9];
            int[] labels = new int[n];
            StringBuilder y = new StringBuilder();
            for (int i = 0; i < n; i++) {
                labels[i] = 1 + rng.nextInt(6);
                y.append(labels[i]).append('\n');
            }
            Files.writeString(root.resolve(splits[s]).resolve("y_" + splits[s] + ".txt"), y);
            for (int c = 0; c < 9; c++) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < n; i++) {
                    for (int t = 0; t < 128; t++) {
                        double v = (rng.nextDouble() * 2 - 1) * (c + 1) + c * 0.5; // channels differ in scale and offset
                        String token = String.format(Locale.ROOT, "%.7e", v);
                        text.append(t == 0 ? "  " : " ").append(token);
                        values[(i * 128 + t) * 9 + c] = Float.parseFloat(token);
                    }
                    text.append('\n');
                }
                Files.writeString(dir.resolve(HarFiles.CHANNELS.get(c) + "_" + splits[s] + ".txt"), text, StandardCharsets.US_ASCII);
            }
            out[s] = new HarSplit(values, labels);
        }
        return out;
    }

    /** An RGB image of random pixels. */
    static BufferedImage randomImage(SplittableRandom rng, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rng.nextInt(1 << 24));
        return img;
    }

    /** An RGB image of one colour. */
    static BufferedImage solidImage(int rgb, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb);
        return img;
    }

    static void writeImage(BufferedImage img, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        String format = name.endsWith(".png") ? "png" : name.endsWith(".bmp") ? "bmp" : "jpeg";
        if (!ImageIO.write(img, format, file.toFile())) throw new IOException("no ImageIO writer for " + format);
    }
}
