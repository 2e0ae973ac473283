package dev.shears.datasets;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening datasets by name: MNIST-style IDX folders, the embedded default, sequence views, and folder errors. */
class DatasetsTest {
    @TempDir
    Path tmp;

    @Test
    void readsAnIdxFolderRawOrGzipped() throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            SplittableRandom rng = new SplittableRandom(gz ? 1 : 2);
            Fixtures.IdxSplit train = Fixtures.idxSplit(rng, 23, 5, 4, 10), test = Fixtures.idxSplit(rng, 7, 5, 4, 10);
            Path dir = Files.createDirectories(tmp.resolve("mnist" + gz));
            Fixtures.writeIdxFolder(dir, train, test, gz);
            Splits s = Datasets.open("mnist", dir);
            assertEquals(23, s.train().size());
            assertEquals(7, s.test().size());
            assertArrayEquals(new int[] {1, 5, 4}, s.train().sampleShape());
            float[] x = new float[20];
            for (int i = 0; i < 23; i++) {
                s.train().read(i, x, 0);
                for (int k = 0; k < 20; k++) assertEquals((train.pixels()[i * 20 + k] & 0xFF) / 255f, x[k]);
                assertEquals(train.labels()[i], s.train().label(i));
            }
            // The test split normalises with the training statistics, computed from the training pixels.
            double sum = 0, sq = 0;
            for (byte b : train.pixels()) {
                sum += (b & 0xFF) / 255.0;
                sq += Math.pow((b & 0xFF) / 255.0, 2);
            }
            double mean = sum / train.pixels().length, std = Math.sqrt(sq / train.pixels().length - mean * mean);
            assertEquals(mean, s.train().mean()[0], 1e-6);
            assertEquals(std, s.train().std()[0], 1e-6);
            assertArrayEquals(s.train().mean(), s.test().mean());
            assertArrayEquals(s.train().std(), s.test().std());
        }
    }

    @Test
    void embeddedDefaultIsAStratifiedFashionMnistSubset() {
        Splits s = Datasets.open("fashion-mnist", null);
        assertEquals(10_000, s.train().size());
        assertEquals(2_000, s.test().size());
        assertArrayEquals(new int[] {1, 28, 28}, s.train().sampleShape());
        for (int c : s.train().classCounts()) assertEquals(1000, c);
        for (int c : s.test().classCounts()) assertEquals(200, c);
        assertEquals("Ankle boot", s.train().classNames().get(9));
        // Fashion-MNIST's pixel mean is about 0.286 and std 0.353 over the full training set; a fair subset is close.
        assertEquals(0.286, s.train().mean()[0], 0.01);
        assertEquals(0.353, s.train().std()[0], 0.01);
        // Not blank images: every sampled image has ink.
        float[] x = new float[784];
        for (int i = 0; i < 10_000; i += 997) {
            s.train().read(i, x, 0);
            double ink = 0;
            for (float v : x) ink += v;
            assertTrue(ink > 10, "image " + i + " is nearly blank");
        }
    }

    @Test
    void rowAndPixelSequencesRearrangeTheSameValues() {
        Splits s = Datasets.open("fashion-mnist-rows", null);
        assertArrayEquals(new int[] {28, 28}, s.train().sampleShape());
        Dataset img = Datasets.embeddedFashionMnist().train();
        float[] a = new float[784], b = new float[784];
        img.read(5, a, 0);
        s.train().read(5, b, 0);
        assertArrayEquals(a, b);

        // Three channels: rows interleave channel-major within a row; pixels give C features per step.
        SplittableRandom rng = new SplittableRandom(3);
        byte[] px = new byte[2 * 3 * 4 * 5];
        rng.nextBytes(px);
        Dataset rgb = Dataset.ofBytes("rgb", new int[] {3, 4, 5}, Dataset.numberedClasses(2), px, new int[] {0, 1});
        float[] chw = new float[60], rows = new float[60], pix = new float[60];
        rgb.read(1, chw, 0);
        rgb.rowSequence().read(1, rows, 0);
        rgb.pixelSequence().read(1, pix, 0);
        assertArrayEquals(new int[] {4, 15}, rgb.rowSequence().sampleShape());
        assertArrayEquals(new int[] {20, 3}, rgb.pixelSequence().sampleShape());
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    float v = chw[c * 20 + y * 5 + x];
                    assertEquals(v, rows[y * 15 + c * 5 + x]);
                    assertEquals(v, pix[(y * 5 + x) * 3 + c]);
                    assertEquals(c, rgb.rowSequence().channelOf(y * 15 + c * 5 + x));
                    assertEquals(c, rgb.pixelSequence().channelOf((y * 5 + x) * 3 + c));
                }
            }
        }
    }

    @Test
    void idxFolderErrorsNameTheFileAndWhatWasExpected() throws IOException {
        SplittableRandom rng = new SplittableRandom(4);
        Fixtures.IdxSplit train = Fixtures.idxSplit(rng, 9, 3, 3, 10), test = Fixtures.idxSplit(rng, 4, 3, 3, 10);
        Path dir = Files.createDirectories(tmp.resolve("f"));
        Fixtures.writeIdxFolder(dir, train, test, true);

        // Counts that disagree between images and labels.
        IdxFile.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), new int[] {3}, new byte[] {1, 2, 3}, true);
        DatasetException count = assertThrows(DatasetException.class, () -> Datasets.open("fashion-mnist", dir));
        assertEquals(dir.resolve("t10k-images-idx3-ubyte.gz") + " holds 4 images but " + dir.resolve("t10k-labels-idx1-ubyte.gz")
                + " holds 3 labels; expected the same count", count.getMessage());

        // A label out of range names the entry and its byte offset.
        IdxFile.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), new int[] {4}, new byte[] {1, 2, 10, 3}, true);
        DatasetException label = assertThrows(DatasetException.class, () -> Datasets.open("fashion-mnist", dir));
        assertEquals(dir.resolve("t10k-labels-idx1-ubyte.gz") + ": label 2 at byte offset 10 reads 10; expected 0..9", label.getMessage());

        // Test images of another size than the training images.
        IdxFile.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), new int[] {4}, test.labels(), true);
        IdxFile.write(dir.resolve("t10k-images-idx3-ubyte.gz"), new int[] {4, 3, 2}, new byte[24], true);
        DatasetException size = assertThrows(DatasetException.class, () -> Datasets.open("fashion-mnist", dir));
        assertTrue(size.getMessage().contains("holds 3x2 images but") && size.getMessage().contains("expected the same size"), size.getMessage());

        // A missing file.
        Files.delete(dir.resolve("t10k-images-idx3-ubyte.gz"));
        DatasetException missing = assertThrows(DatasetException.class, () -> Datasets.open("fashion-mnist", dir));
        assertTrue(missing.getMessage().startsWith(dir + ": no t10k-images-idx3-ubyte[.gz]; expected the four IDX files"), missing.getMessage());
    }

    @Test
    void folderAndNameErrorsAreClear() throws IOException {
        Path nowhere = tmp.resolve("does-not-exist");
        DatasetException none = assertThrows(DatasetException.class, () -> Datasets.open("cifar10", nowhere));
        assertTrue(none.getMessage().startsWith(nowhere + ": no such folder; expected CIFAR-10 binary"), none.getMessage());

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        for (String name : List.of("mnist", "cifar10", "cifar100", "har-6", "imagefolder")) {
            DatasetException e = assertThrows(DatasetException.class, () -> Datasets.open(name, empty));
            assertTrue(e.getMessage().startsWith(empty + ": folder is empty; expected "), e.getMessage());
        }
        Path file = Files.writeString(tmp.resolve("file.txt"), "x");
        DatasetException notDir = assertThrows(DatasetException.class, () -> Datasets.open("har-2", file));
        assertTrue(notDir.getMessage().contains("is a file, not a folder"), notDir.getMessage());

        DatasetException unknown = assertThrows(DatasetException.class, () -> Datasets.open("cifar11", null));
        assertTrue(unknown.getMessage().contains("unknown dataset 'cifar11'; expected one of fashion-mnist,"), unknown.getMessage());
        DatasetException needsDir = assertThrows(DatasetException.class, () -> Datasets.open("cifar10", null));
        assertTrue(needsDir.getMessage().contains("needs a data folder (--data DIR)"), needsDir.getMessage());
        DatasetException seq = assertThrows(DatasetException.class, () -> Datasets.open("har-6-rows", file));
        assertTrue(seq.getMessage().contains("is a file"), seq.getMessage()); // the folder is checked first
    }

    @Test
    void subsetsKeepLabelsAndStatistics() {
        Dataset d = Datasets.embeddedFashionMnist().test();
        Dataset sub = d.subset("sub", new int[] {5, 1, 5});
        assertEquals(3, sub.size());
        assertEquals(d.label(1), sub.label(1));
        float[] a = new float[784], b = new float[784];
        d.read(5, a, 0);
        sub.read(2, b, 0);
        assertArrayEquals(a, b);
        assertArrayEquals(d.mean(), sub.mean());
        assertThrows(IllegalArgumentException.class, () -> d.subset("bad", new int[] {2000}));
    }
}
