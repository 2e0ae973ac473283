package dev.shears.datasets;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image folders (ImageNet layout): class discovery, exact evaluation decode, random-resized-crop, and decode errors. */
class ImageFolderTest {
    @TempDir
    Path tmp;

    private static final int RED = 0xC81E0A, BLUE = 0x1432DC;

    /** train/{cat,dog}, val/{cat,dog}: solid red cats and blue dogs of assorted sizes, PNG and JPEG. */
    private Path solidFolder() throws IOException {
        Fixtures.writeImage(Fixtures.solidImage(RED, 40, 30), tmp.resolve("train/cat/a.png"));
        Fixtures.writeImage(Fixtures.solidImage(RED, 17, 50), tmp.resolve("train/cat/b.PNG"));
        Fixtures.writeImage(Fixtures.solidImage(BLUE, 33, 33), tmp.resolve("train/dog/c.png"));
        Fixtures.writeImage(Fixtures.solidImage(BLUE, 64, 48), tmp.resolve("train/dog/d.jpg"));
        Files.writeString(tmp.resolve("train/dog/notes.txt"), "not an image: skipped");
        Fixtures.writeImage(Fixtures.solidImage(RED, 20, 20), tmp.resolve("val/cat/e.png"));
        Fixtures.writeImage(Fixtures.solidImage(BLUE, 20, 25), tmp.resolve("val/dog/f.jpeg"));
        return tmp;
    }

    @Test
    void discoversClassesAndDecodesToTheRequestedSize() throws IOException {
        Splits s = Datasets.imageFolder(solidFolder(), 16, 18);
        assertEquals(List.of("cat", "dog"), s.train().classNames());
        assertEquals(4, s.train().size());
        assertEquals(2, s.test().size());
        assertArrayEquals(new int[] {3, 16, 16}, s.train().sampleShape());
        assertTrue(s.train().lazy());
        float[] x = new float[3 * 256];
        for (int i = 0; i < 4; i++) {
            s.train().read(i, x, 0);
            int rgb = s.train().label(i) == 0 ? RED : BLUE;
            double tol = i == 3 ? 3 / 255.0 : 1e-6; // the JPEG is lossy
            for (int c = 0; c < 3; c++) {
                float expected = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
                for (int k = 0; k < 256; k++) assertEquals(expected, x[c * 256 + k], tol, "image " + i + " channel " + c);
            }
        }
    }

    /** With size = resize = the image side, evaluation decode is the identity on the pixels. */
    @Test
    void evaluationDecodeOfAnExactSizeImageIsExact() throws IOException {
        BufferedImage img = Fixtures.randomImage(new SplittableRandom(1), 12, 12);
        Fixtures.writeImage(img, tmp.resolve("train/a/x.png"));
        Fixtures.writeImage(img, tmp.resolve("val/a/x.png"));
        BufferedImage grey = new BufferedImage(12, 12, BufferedImage.TYPE_BYTE_GRAY);
        SplittableRandom rng = new SplittableRandom(2);
        for (int y = 0; y < 12; y++) for (int x = 0; x < 12; x++) grey.getRaster().setSample(x, y, 0, rng.nextInt(256));
        Fixtures.writeImage(grey, tmp.resolve("train/a/y.png"));
        Splits s = Datasets.imageFolder(tmp, 12, 12);
        float[] v = new float[3 * 144];
        s.train().read(0, v, 0);
        for (int y = 0; y < 12; y++) {
            for (int x = 0; x < 12; x++) {
                int p = img.getRGB(x, y);
                assertEquals(((p >> 16) & 0xFF) / 255f, v[y * 12 + x]);
                assertEquals(((p >> 8) & 0xFF) / 255f, v[144 + y * 12 + x]);
                assertEquals((p & 0xFF) / 255f, v[288 + y * 12 + x]);
            }
        }
        s.train().read(1, v, 0); // grey: the stored samples, replicated to three channels
        for (int y = 0; y < 12; y++) {
            for (int x = 0; x < 12; x++) {
                float g = grey.getRaster().getSample(x, y, 0) / 255f;
                for (int c = 0; c < 3; c++) assertEquals(g, v[c * 144 + y * 12 + x]);
            }
        }
    }

    /** Downscaling averages: a fine checkerboard becomes mid grey (no aliasing), and the centre crop is centred. */
    @Test
    void downscalingIsAntialiasedAndCentred() throws IOException {
        BufferedImage board = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) for (int x = 0; x < 64; x++) board.setRGB(x, y, (x + y) % 2 == 0 ? 0xFFFFFF : 0);
        Fixtures.writeImage(board, tmp.resolve("train/a/board.png"));
        // Left half red, right half blue: the centre crop keeps both halves equally.
        BufferedImage halves = new BufferedImage(40, 20, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 20; y++) for (int x = 0; x < 40; x++) halves.setRGB(x, y, x < 20 ? 0xFF0000 : 0x0000FF);
        Fixtures.writeImage(halves, tmp.resolve("train/a/halves.png"));
        Fixtures.writeImage(halves, tmp.resolve("val/a/halves.png"));
        Splits s = Datasets.imageFolder(tmp, 8, 10);
        float[] v = new float[3 * 64];
        s.train().read(0, v, 0);
        for (float f : v) assertEquals(0.5, f, 0.08);
        s.train().read(1, v, 0);
        // The 40x20 image's centre 16x16 box (x 12..28) lands on 8 pixels; the triangle filter blends across
        // the edge at x = 20 only in output columns 3 and 4, and symmetrically.
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                float red = v[y * 8 + x], blue = v[128 + y * 8 + x];
                assertEquals(1f, red + blue, 1e-5);
                if (x < 3 || x > 4) assertEquals(x < 3 ? 1f : 0f, red, 1e-6, "red at " + x);
                assertEquals(red, v[128 + y * 8 + (7 - x)], 1e-6, "mirror of " + x);
            }
        }
    }

    /** Random-resized-crop + flip through the loader: same seed, same pixels; solid images stay solid; values stay in [0, 1]. */
    @Test
    void randomResizedCropIsSeededAndStaysInRange() throws IOException {
        Splits s = Datasets.imageFolder(solidFolder(), 16, 18);
        Augment aug = Augment.imagenet().withNormalize(false);
        float[][] first = null;
        for (int run = 0; run < 2; run++) {
            try (Loader loader = new Loader(s.train(), Loader.Options.of(2).withSeed(9).withAugment(aug))) {
                float[][] got = new float[2][];
                int b = 0;
                for (Batch batch : loader.epoch(1)) {
                    got[b++] = batch.inputs().toFloatArray();
                    for (int r = 0; r < batch.size(); r++) {
                        int rgb = s.train().label(batch.sampleIndex(r)) == 0 ? RED : BLUE;
                        for (int c = 0; c < 3; c++) {
                            float expected = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
                            for (int k = 0; k < 256; k++) assertEquals(expected, got[b - 1][(r * 3 + c) * 256 + k], 3 / 255.0);
                        }
                    }
                }
                if (first == null) first = got;
                else for (int i = 0; i < 2; i++) assertArrayEquals(first[i], got[i]);
            }
        }
        // On random pixels the crop really varies with the draw.
        SplittableRandom rng = new SplittableRandom(4);
        double[] a = ImageFolderSamples.randomBox(500, 375, rng), b = ImageFolderSamples.randomBox(500, 375, rng);
        assertFalse(java.util.Arrays.equals(a, b));
        for (double[] box : new double[][] {a, b}) {
            assertTrue(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= 500 && box[1] + box[3] <= 375, java.util.Arrays.toString(box));
            double area = box[2] * box[3] / (500.0 * 375);
            assertTrue(area >= 0.07 && area <= 1.0, "area fraction " + area);
        }
    }

    @Test
    void undecodableImagesSurfaceOnTheConsumerNamingTheFile() throws IOException {
        solidFolder();
        Path bad = tmp.resolve("train/dog/zz-broken.jpg");
        Files.write(bad, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        Splits s = Datasets.imageFolder(tmp, 8, 8);
        try (Loader loader = new Loader(s.train(), Loader.Options.of(2).withShuffle(false))) {
            Loader.Epoch epoch = loader.epoch(0);
            epoch.next(); // cat a, cat b
            epoch.next(); // dog c, dog d
            DatasetException e = assertThrows(DatasetException.class, epoch::next);
            assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("decode") || e.getMessage().contains("decoder"), e.getMessage());
            assertFalse(epoch.hasNext());
        }
        Path garbage = tmp.resolve("val/cat/0-garbage.png");
        Files.write(garbage, "this is not a PNG".getBytes());
        DatasetException direct = assertThrows(DatasetException.class, () -> Datasets.imageFolder(tmp, 8, 8).test().read(0, new float[192], 0));
        assertTrue(direct.getMessage().startsWith(garbage + ": "), direct.getMessage());
    }

    @Test
    void layoutErrorsNameTheFolder() throws IOException {
        Files.createDirectories(tmp.resolve("train/cat"));
        Files.createDirectories(tmp.resolve("val/cat"));
        DatasetException empty = assertThrows(DatasetException.class, () -> Datasets.open("imagefolder", tmp));
        assertTrue(empty.getMessage().startsWith(tmp.resolve("train/cat") + ": holds no image files; expected .jpg"), empty.getMessage());

        Fixtures.writeImage(Fixtures.solidImage(RED, 4, 4), tmp.resolve("train/cat/a.png"));
        Fixtures.writeImage(Fixtures.solidImage(RED, 4, 4), tmp.resolve("val/cow/a.png"));
        DatasetException stranger = assertThrows(DatasetException.class, () -> Datasets.open("imagefolder", tmp));
        assertTrue(stranger.getMessage().startsWith(tmp.resolve("val/cow") + ": class folder not in " + tmp.resolve("train")), stranger.getMessage());

        Path other = Files.createDirectories(tmp.resolve("other/train/cat"));
        Fixtures.writeImage(Fixtures.solidImage(RED, 4, 4), other.resolve("a.png"));
        DatasetException noVal = assertThrows(DatasetException.class, () -> Datasets.open("imagefolder", tmp.resolve("other")));
        assertTrue(noVal.getMessage().startsWith(tmp.resolve("other/val") + ": no such folder"), noVal.getMessage());

        Path flat = Files.createDirectories(tmp.resolve("flat"));
        Files.writeString(flat.resolve("x.txt"), "x");
        DatasetException noTrain = assertThrows(DatasetException.class, () -> Datasets.open("imagefolder", flat));
        assertTrue(noTrain.getMessage().startsWith(flat + ": holds no train; expected an image folder"), noTrain.getMessage());
    }
}
