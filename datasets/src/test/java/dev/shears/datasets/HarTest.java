package dev.shears.datasets;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** UCI HAR: the nine inertial files become (128, 9) sequences; HAR-2 grouping; z-normalisation with training statistics; bad lines. */
class HarTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheNineSignalFilesAsTimeMajorSequences() throws IOException {
        Fixtures.HarSplit[] written = Fixtures.writeHar(tmp, new SplittableRandom(1), 6, 4);
        Splits s = Datasets.open("har-6", tmp);
        assertArrayEquals(new int[] {128, 9}, s.train().sampleShape());
        assertEquals(6, s.train().size());
        assertEquals(4, s.test().size());
        assertEquals(6, s.train().classes());
        float[] x = new float[128 * 9];
        for (int i = 0; i < 4; i++) {
            s.test().read(i, x, 0);
            assertArrayEquals(Arrays.copyOfRange(written[1].values(), i * 1152, (i + 1) * 1152), x);
            assertEquals(written[1].labels()[i] - 1, s.test().label(i));
        }
        // The 'UCI HAR Dataset' folder itself works too.
        assertEquals(6, Datasets.open("har-6", tmp.resolve("UCI HAR Dataset")).train().size());
    }

    @Test
    void har2GroupsUpstairsSittingLayingAgainstTheRest() throws IOException {
        Fixtures.HarSplit[] written = Fixtures.writeHar(tmp, new SplittableRandom(2), 30, 2);
        Splits s = Datasets.open("har-2", tmp);
        assertEquals(2, s.train().classes());
        for (int i = 0; i < 30; i++) {
            String activity = HarFiles.ACTIVITIES.get(written[0].labels()[i] - 1);
            boolean upstairsSittingLaying = activity.equals("walking_upstairs") || activity.equals("sitting") || activity.equals("laying");
            assertEquals(upstairsSittingLaying ? 1 : 0, s.train().label(i), activity);
        }
    }

    /** Through the loader, each channel of the training split has mean 0 and std 1; the test split uses the training statistics. */
    @Test
    void loaderZNormalisesWithTrainingStatistics() throws IOException {
        Fixtures.writeHar(tmp, new SplittableRandom(3), 10, 3);
        Splits s = Datasets.open("har-6", tmp);
        double[] sum = new double[9], sq = new double[9];
        long count = 0;
        try (Loader loader = new Loader(s.train(), Loader.Options.of(4))) {
            for (Batch b : loader.epoch(0)) {
                float[] v = b.inputs().toFloatArray();
                for (int k = 0; k < v.length; k++) {
                    sum[k % 9] += v[k];
                    sq[k % 9] += (double) v[k] * v[k];
                }
                count += (long) b.size() * 128;
            }
        }
        for (int c = 0; c < 9; c++) {
            double mean = sum[c] / count;
            assertEquals(0, mean, 1e-4, "channel " + c);
            assertEquals(1, Math.sqrt(sq[c] / count - mean * mean), 1e-3, "channel " + c);
        }
        assertArrayEquals(s.train().mean(), s.test().mean());
        // The channels really differ (the fixture scales channel c by c+1), so per-channel statistics matter.
        assertTrue(s.train().std()[8] > 5 * s.train().std()[0]);
    }

    @Test
    void badLinesNameFileLineAndExpectation() throws IOException {
        Fixtures.writeHar(tmp, new SplittableRandom(4), 3, 2);
        Path split = tmp.resolve("UCI HAR Dataset").resolve("train");
        Path gyro = split.resolve("Inertial Signals").resolve("body_gyro_y_train.txt");
        String good = Files.readString(gyro);
        String[] lines = good.split("\n");

        // A value missing on line 2.
        String[] short2 = lines.clone();
        short2[1] = short2[1].substring(0, short2[1].lastIndexOf(' '));
        Files.writeString(gyro, String.join("\n", short2) + "\n");
        DatasetException missing = assertThrows(DatasetException.class, () -> Datasets.open("har-6", tmp));
        assertEquals(gyro + ": line 2 has 127 values; expected 128", missing.getMessage());

        // A token that is not a number.
        String[] bad = lines.clone();
        bad[2] = bad[2].replaceFirst("\\S+$", "1.0e-00x");
        Files.writeString(gyro, String.join("\n", bad) + "\n");
        DatasetException nan = assertThrows(DatasetException.class, () -> Datasets.open("har-6", tmp));
        assertTrue(nan.getMessage().startsWith(gyro + ": line 3, value 128 (byte offset "), nan.getMessage());
        assertTrue(nan.getMessage().endsWith("reads '1.0e-00x'; expected a finite number"), nan.getMessage());

        // Fewer lines than labels.
        Files.writeString(gyro, lines[0] + "\n" + lines[1] + "\n");
        DatasetException rows = assertThrows(DatasetException.class, () -> Datasets.open("har-6", tmp));
        assertEquals(gyro + ": 2 lines but y_train.txt has 3 labels; expected one window of 128 numbers per label", rows.getMessage());
        Files.writeString(gyro, good);

        // A label out of 1..6.
        Path y = split.resolve("y_train.txt");
        Files.writeString(y, "1\n7\n2\n");
        DatasetException label = assertThrows(DatasetException.class, () -> Datasets.open("har-2", tmp));
        assertTrue(label.getMessage().startsWith(y + ": line 2: label 7 is out of range; expected 1..6"), label.getMessage());

        // A missing signal file.
        Files.writeString(y, "1\n2\n3\n");
        Files.delete(gyro);
        DatasetException gone = assertThrows(DatasetException.class, () -> Datasets.open("har-6", tmp));
        assertEquals(gyro + ": no such file; expected 3 lines of 128 numbers", gone.getMessage());
    }

    /** Any truncation of a signal file is refused with a message naming it (a whole-line cut is a line-count error). */
    @Test
    void truncatedSignalFilesAreClearErrors() throws IOException {
        Fixtures.writeHar(tmp, new SplittableRandom(5), 2, 3);
        Path acc = tmp.resolve("UCI HAR Dataset").resolve("test").resolve("Inertial Signals").resolve("total_acc_x_test.txt");
        byte[] good = Files.readAllBytes(acc);
        qt().withFixedSeed(31).withExamples(40).forAll(integers().between(0, good.length - 2)).checkAssert(cut -> {
            try {
                Files.write(acc, Arrays.copyOf(good, cut));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            DatasetException e = assertThrows(DatasetException.class, () -> Datasets.open("har-6", tmp), () -> "cut at " + cut);
            assertTrue(e.getMessage().startsWith(acc + ": "), e.getMessage());
            boolean wholeLines = cut == 0 || good[cut - 1] == '\n';
            assertTrue(e.getMessage().contains(wholeLines ? "lines but y_test.txt has 3 labels" : "without a final newline (truncated?)"), e.getMessage());
        });
    }
}
