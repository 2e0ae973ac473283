package dev.shears.datasets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary versions of CIFAR-10 and CIFAR-100 as distributed: fixed-size records of label
 * byte(s) then 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each row-major 32x32), so a
 * sample is already (3, 32, 32). CIFAR-10: {@code cifar-10-batches-bin/data_batch_1..5.bin} and
 * {@code test_batch.bin}, one label byte; CIFAR-100: {@code cifar-100-binary/train.bin} and
 * {@code test.bin}, a coarse then a fine label byte. Not the Python pickles. Pinned by CifarTest.
 */
final class CifarFiles {
    static final int PIXELS = 3 * 32 * 32;
    static final List<String> CIFAR10_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private CifarFiles() {}

    /** Train and test splits of CIFAR-10 from its folder (or the folder holding {@code cifar-10-batches-bin}). */
    static Splits cifar10(Path dir) {
        Path root = Datasets.resolveFolder(dir, "cifar-10-batches-bin", "data_batch_1.bin", "CIFAR-10 binary (data_batch_1..5.bin, test_batch.bin)");
        List<String> names = classNames(root.resolve("batches.meta.txt"), CIFAR10_CLASSES);
        List<Path> train = new ArrayList<>();
        for (int b = 1; b <= 5; b++) train.add(root.resolve("data_batch_" + b + ".bin"));
        Dataset tr = read("cifar10-train", train, names, 1, 0);
        Dataset te = read("cifar10-test", List.of(root.resolve("test_batch.bin")), names, 1, 0);
        return Splits.of(tr, te);
    }

    /** CIFAR-100 with its 100 fine labels, or its 20 coarse superclasses when {@code coarse}. */
    static Splits cifar100(Path dir, boolean coarse) {
        Path root = Datasets.resolveFolder(dir, "cifar-100-binary", "train.bin", "CIFAR-100 binary (train.bin, test.bin)");
        int classes = coarse ? 20 : 100;
        List<String> names = classNames(root.resolve(coarse ? "coarse_label_names.txt" : "fine_label_names.txt"), Dataset.numberedClasses(classes));
        String name = coarse ? "cifar100-coarse" : "cifar100";
        Dataset tr = read(name + "-train", List.of(root.resolve("train.bin")), names, 2, coarse ? 0 : 1);
        Dataset te = read(name + "-test", List.of(root.resolve("test.bin")), names, 2, coarse ? 0 : 1);
        return Splits.of(tr, te);
    }

    /**
     * Reads the records of {@code files} in order. Each record: {@code labelBytes} label bytes, the
     * one at {@code labelIndex} used, then 3072 pixel bytes.
     */
    static Dataset read(String name, List<Path> files, List<String> classNames, int labelBytes, int labelIndex) {
        int record = labelBytes + PIXELS;
        long[] sizes = new long[files.size()];
        long records = 0;
        for (int f = 0; f < files.size(); f++) {
            Path file = files.get(f);
            sizes[f] = size(file, record);
            if (sizes[f] == 0) throw new DatasetException(file + ": empty file; expected records of " + record + " bytes (" + labelBytes + " label byte" + (labelBytes > 1 ? "s" : "") + " + 3072 pixels)");
            if (sizes[f] % record != 0) {
                long whole = sizes[f] / record;
                throw new DatasetException(file + ": truncated or not CIFAR binary: " + sizes[f] + " bytes is not a whole number of " + record
                        + "-byte records; record " + whole + " at byte offset " + whole * record + " has only " + (sizes[f] - whole * record) + " bytes");
            }
            records += sizes[f] / record;
        }
        if (records * PIXELS > Integer.MAX_VALUE - 16) throw new DatasetException(name + ": " + records + " records are more than one dataset may hold here (2 GiB of pixels)");
        byte[] pixels = new byte[(int) (records * PIXELS)];
        int[] labels = new int[(int) records];
        int r = 0;
        for (int f = 0; f < files.size(); f++) {
            Path file = files.get(f);
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (IOException e) {
                throw new DatasetException(file + ": cannot read (" + e + ")", e);
            }
            if (bytes.length != sizes[f]) throw new DatasetException(file + ": changed size while being read (" + sizes[f] + " then " + bytes.length + " bytes)");
            int n = (int) (bytes.length / record);
            for (int k = 0; k < n; k++, r++) {
                int at = k * record;
                int label = bytes[at + labelIndex] & 0xFF;
                if (label >= classNames.size()) {
                    throw new DatasetException(file + ": record " + k + " at byte offset " + at + ": " + (labelBytes > 1 ? (labelIndex == 0 ? "coarse " : "fine ") : "")
                            + "label " + label + " at byte offset " + (at + labelIndex) + " is out of range; expected 0.." + (classNames.size() - 1));
                }
                labels[r] = label;
                System.arraycopy(bytes, at + labelBytes, pixels, r * PIXELS, PIXELS);
            }
        }
        return Dataset.ofBytes(name, new int[] {3, 32, 32}, classNames, pixels, labels);
    }

    private static long size(Path file, int record) {
        try {
            if (Files.isDirectory(file)) throw new DatasetException(file + ": is a folder; expected a CIFAR binary file of " + record + "-byte records");
            return Files.size(file);
        } catch (NoSuchFileException e) {
            throw new DatasetException(file + ": no such file; expected a CIFAR binary file of " + record + "-byte records", e);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e + ")", e);
        }
    }

    /** Class names from a meta file (one per line, blank lines dropped) when present and right-sized, else the defaults. */
    private static List<String> classNames(Path meta, List<String> defaults) {
        if (!Files.isRegularFile(meta)) return defaults;
        try {
            List<String> names = Files.readAllLines(meta, StandardCharsets.UTF_8).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
            if (names.size() != defaults.size()) {
                throw new DatasetException(meta + ": " + names.size() + " class names; expected " + defaults.size() + " (one per line)");
            }
            return names;
        } catch (IOException e) {
            throw new DatasetException(meta + ": cannot read (" + e + ")", e);
        }
    }
}
