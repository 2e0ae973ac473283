package dev.shears.datasets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * UCI "Human Activity Recognition Using Smartphones" from its {@code UCI HAR Dataset} folder: the
 * nine raw inertial signal files of each split ({@code <split>/Inertial Signals/*_<split>.txt},
 * one window of 128 readings per line) become sequences of (T = 128, F = 9) in the channel order
 * body_acc x y z, body_gyro x y z, total_acc x y z; labels come from {@code <split>/y_<split>.txt}
 * (1..6). Not the 561 engineered features. The loader z-normalises each channel with the training
 * split's mean and std. Pinned by HarTest.
 *
 * <p>HAR-2 (the binary task of the FastGRNN paper): {Sitting, Laying, Walking_Upstairs} and
 * {Standing, Walking, Walking_Downstairs} are merged into the two classes, as the EdgeML
 * project's FastGRNN page states for its HAR-2 dataset. We number them by UCI label parity:
 * class 0 = labels 1, 3, 5 (walking, walking downstairs, standing), class 1 = labels 2, 4, 6
 * (walking upstairs, sitting, laying). Which group is 0 is our choice; the sources do not say.
 */
final class HarFiles {
    static final int STEPS = 128;
    static final List<String> CHANNELS = List.of("body_acc_x", "body_acc_y", "body_acc_z", "body_gyro_x", "body_gyro_y", "body_gyro_z",
            "total_acc_x", "total_acc_y", "total_acc_z");
    static final List<String> ACTIVITIES = List.of("walking", "walking_upstairs", "walking_downstairs", "sitting", "standing", "laying");
    static final List<String> BINARY = List.of("walking+walking_downstairs+standing", "walking_upstairs+sitting+laying");

    private HarFiles() {}

    /** HAR-2 class of a UCI activity label 1..6: 1 for upstairs, sitting, laying (even labels), else 0. */
    static int binaryClass(int uciLabel) {
        return uciLabel % 2 == 0 ? 1 : 0;
    }

    static Splits open(Path dir, boolean binary) {
        Path root = Datasets.resolveFolder(dir, "UCI HAR Dataset", "train", "UCI HAR (the 'UCI HAR Dataset' folder with train/ and test/)");
        String name = binary ? "har-2" : "har-6";
        return Splits.of(split(root, "train", name, binary), split(root, "test", name, binary));
    }

    static Dataset split(Path root, String split, String name, boolean binary) {
        Path labelsFile = root.resolve(split).resolve("y_" + split + ".txt");
        int[] labels = readLabels(labelsFile);
        int n = labels.length;
        float[] data = new float[Math.multiplyExact(n, STEPS * CHANNELS.size())];
        for (int c = 0; c < CHANNELS.size(); c++) {
            Path file = root.resolve(split).resolve("Inertial Signals").resolve(CHANNELS.get(c) + "_" + split + ".txt");
            readSignals(file, c, n, labelsFile, data);
        }
        for (int i = 0; i < n; i++) labels[i] = binary ? binaryClass(labels[i]) : labels[i] - 1;
        return Dataset.ofFloats(name + "-" + split, new int[] {STEPS, CHANNELS.size()}, binary ? BINARY : ACTIVITIES, data, labels);
    }

    private static byte[] bytes(Path file, String expected) {
        try {
            if (Files.isDirectory(file)) throw new DatasetException(file + ": is a folder; expected " + expected);
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DatasetException(file + ": no such file; expected " + expected, e);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e + ")", e);
        }
    }

    static int[] readLabels(Path file) {
        byte[] b = bytes(file, "one activity label 1..6 per line");
        int lines = countLines(b);
        if (lines == 0) throw new DatasetException(file + ": empty file; expected one activity label 1..6 per line");
        int[] labels = new int[lines];
        int pos = 0;
        for (int line = 0; line < lines; line++) {
            int end = lineEnd(b, pos);
            String text = new String(b, pos, end - pos, StandardCharsets.ISO_8859_1).strip();
            int v;
            try {
                v = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                throw new DatasetException(file + ": line " + (line + 1) + " reads '" + abbreviate(text) + "'; expected an activity label 1..6");
            }
            if (v < 1 || v > 6) throw new DatasetException(file + ": line " + (line + 1) + ": label " + v + " is out of range; expected 1..6 (" + String.join(", ", ACTIVITIES) + ")");
            labels[line] = v;
            pos = end + 1;
        }
        return labels;
    }

    /** Fills channel {@code c} of the (N, 128, 9) array from one signal file of {@code n} lines of 128 numbers. */
    private static void readSignals(Path file, int c, int n, Path labelsFile, float[] data) {
        byte[] b = bytes(file, n + " lines of " + STEPS + " numbers");
        int lines = countLines(b);
        if (b.length > 0 && b[b.length - 1] != '\n') {
            // A cut inside the last number would still parse; the distributed files end every line with a newline.
            throw new DatasetException(file + ": ends at byte offset " + b.length + " inside line " + lines + " without a final newline (truncated?); expected "
                    + n + " lines of " + STEPS + " numbers, each ending with a newline");
        }
        if (lines != n) {
            throw new DatasetException(file + ": " + lines + " lines but " + labelsFile.getFileName() + " has " + n + " labels; expected one window of " + STEPS + " numbers per label");
        }
        int pos = 0;
        int features = CHANNELS.size();
        for (int line = 0; line < n; line++) {
            int end = lineEnd(b, pos);
            int values = 0;
            int p = pos;
            while (true) {
                while (p < end && isSpace(b[p])) p++;
                if (p >= end) break;
                int start = p;
                while (p < end && !isSpace(b[p])) p++;
                if (values == STEPS) {
                    throw new DatasetException(file + ": line " + (line + 1) + " has more than " + STEPS + " values (byte offset " + start + "); expected " + STEPS);
                }
                String token = new String(b, start, p - start, StandardCharsets.ISO_8859_1);
                float v;
                try {
                    v = Float.parseFloat(token);
                } catch (NumberFormatException e) {
                    v = Float.NaN;
                }
                if (!Float.isFinite(v)) {
                    throw new DatasetException(file + ": line " + (line + 1) + ", value " + (values + 1) + " (byte offset " + start + ") reads '" + abbreviate(token) + "'; expected a finite number");
                }
                data[(line * STEPS + values) * features + c] = v;
                values++;
            }
            if (values != STEPS) {
                throw new DatasetException(file + ": line " + (line + 1) + " has " + values + " values; expected " + STEPS);
            }
            pos = end + 1;
        }
    }

    private static boolean isSpace(byte x) {
        return x == ' ' || x == '\t' || x == '\r';
    }

    /** Lines, counting a last line without a newline and ignoring one trailing newline. */
    private static int countLines(byte[] b) {
        int lines = 0;
        for (byte x : b) if (x == '\n') lines++;
        if (b.length > 0 && b[b.length - 1] != '\n') lines++;
        return lines;
    }

    private static int lineEnd(byte[] b, int from) {
        int i = from;
        while (i < b.length && b[i] != '\n') i++;
        return i;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
