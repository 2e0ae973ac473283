package dev.shears.datasets;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.datasets.tools.MakeEmbeddedSubset;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The full Fashion-MNIST as Debian's dataset-fashion-mnist installs it (skipped when absent), and
 * the provenance of the embedded subset: regenerating it from those files gives the stored bytes.
 */
class DebianFashionMnistTest {
    private static Path debian() {
        var dir = Datasets.debianFashionMnist();
        assumeTrue(dir.isPresent(), "Debian's Fashion-MNIST is not installed in " + Datasets.DEBIAN_FASHION_MNIST + " (apt-get install dataset-fashion-mnist)");
        return dir.get();
    }

    @Test
    void readsTheFullSetInFull() {
        debian();
        Splits s = Datasets.open("fashion-mnist-full", null);
        assertEquals(60_000, s.train().size());
        assertEquals(10_000, s.test().size());
        for (int c : s.train().classCounts()) assertEquals(6_000, c);
        for (int c : s.test().classCounts()) assertEquals(1_000, c);
        // The published statistics of the training pixels (x/255): mean 0.2860, std 0.3530.
        assertEquals(0.2860, s.train().mean()[0], 5e-5);
        assertEquals(0.3530, s.train().std()[0], 5e-5);
    }

    /** Selecting again from the Debian files gives exactly the stored images and labels (compared decoded: level-9 gzip is slow). */
    @Test
    void embeddedSubsetIsWhatTheGeneratorSelects() {
        Path dir = debian();
        String regenerate = "; regenerate with: java -cp datasets/target/classes:engine/target/classes dev.shears.datasets.tools.MakeEmbeddedSubset";
        Splits stored = Datasets.embeddedFashionMnist();
        String[][] splits = {{"train", Integer.toString(MakeEmbeddedSubset.TRAIN_PER_CLASS)}, {"t10k", Integer.toString(MakeEmbeddedSubset.TEST_PER_CLASS)}};
        for (String[] split : splits) {
            IdxFile.Contents[] fresh = MakeEmbeddedSubset.subset(IdxFile.read(dir.resolve(split[0] + "-images-idx3-ubyte.gz"), 3),
                    IdxFile.read(dir.resolve(split[0] + "-labels-idx1-ubyte.gz"), 1), Integer.parseInt(split[1]));
            Dataset d = split[0].equals("train") ? stored.train() : stored.test();
            assertEquals(fresh[1].dims()[0], d.size(), split[0] + regenerate);
            float[] x = new float[784];
            for (int i = 0; i < d.size(); i++) {
                assertEquals(fresh[1].data()[i], d.label(i), split[0] + " label " + i + regenerate);
                d.read(i, x, 0);
                for (int k = 0; k < 784; k++) {
                    if ((fresh[0].data()[i * 784 + k] & 0xFF) / 255f != x[k]) fail(split[0] + " image " + i + " pixel " + k + " differs" + regenerate);
                }
            }
        }
    }

    /** The stored files are the generator's bytes (checked on the small test-label file: level-9 gzip of the images is too slow for a test). */
    @Test
    void storedLabelFilesAreTheGeneratorsBytes() throws IOException {
        Path dir = debian();
        IdxFile.Contents[] fresh = MakeEmbeddedSubset.subset(IdxFile.read(dir.resolve("t10k-images-idx3-ubyte.gz"), 3),
                IdxFile.read(dir.resolve("t10k-labels-idx1-ubyte.gz"), 1), MakeEmbeddedSubset.TEST_PER_CLASS);
        assertArrayEquals(IdxFile.encode(fresh[1].dims(), fresh[1].data(), true), resource("t10k-labels-idx1-ubyte.gz"));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Datasets.class.getResourceAsStream(Datasets.EMBEDDED + name)) {
            assertNotNull(in, "resource " + Datasets.EMBEDDED + name);
            return in.readAllBytes();
        }
    }
}
