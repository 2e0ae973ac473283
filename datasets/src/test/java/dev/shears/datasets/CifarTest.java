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

/** CIFAR-10/100 binary: generated batches round-trip; truncated, mislabelled or missing files are clear errors. */
class CifarTest {
    @TempDir
    Path tmp;

    @Test
    void cifar10RoundTripsFromTheFolderOrItsParent() throws IOException {
        Path dir = Fixtures.writeCifar10(tmp, new SplittableRandom(1), 3);
        for (Path p : new Path[] {tmp, dir}) {
            Splits s = Datasets.open("cifar10", p);
            assertEquals(15, s.train().size());
            assertEquals(3, s.test().size());
            assertArrayEquals(new int[] {3, 32, 32}, s.train().sampleShape());
            assertEquals("truck", s.train().classNames().get(9));
            assertEquals(3, s.train().channels());
            // Record 2 of data_batch_4 is training sample 3*3 + 2.
            byte[] batch4 = Files.readAllBytes(dir.resolve("data_batch_4.bin"));
            float[] x = new float[3072];
            s.train().read(11, x, 0);
            assertEquals(batch4[2 * 3073], s.train().label(11));
            for (int k = 0; k < 3072; k++) assertEquals((batch4[2 * 3073 + 1 + k] & 0xFF) / 255f, x[k]);
        }
    }

    @Test
    void cifar100HasFineAndCoarseLabels() throws IOException {
        Path dir = Fixtures.writeCifar100(tmp, new SplittableRandom(2), 6, 4);
        byte[] train = Files.readAllBytes(dir.resolve("train.bin"));
        Splits fine = Datasets.open("cifar100", tmp);
        Splits coarse = Datasets.open("cifar100-coarse", tmp);
        assertEquals(100, fine.train().classes());
        assertEquals(20, coarse.train().classes());
        for (int r = 0; r < 6; r++) {
            assertEquals(train[r * 3074], coarse.train().label(r));
            assertEquals(train[r * 3074 + 1], fine.train().label(r));
        }
        float[] x = new float[3072];
        fine.train().read(5, x, 0);
        assertEquals((train[5 * 3074 + 2] & 0xFF) / 255f, x[0]);
        assertEquals((train[5 * 3074 + 3073] & 0xFF) / 255f, x[3071]);
    }

    @Test
    void truncationAndByteFlipsGiveClearErrorsOrValidData() throws IOException {
        Path dir = Fixtures.writeCifar10(tmp, new SplittableRandom(3), 2);
        Path victim = dir.resolve("data_batch_2.bin");
        byte[] good = Files.readAllBytes(victim);
        qt().withFixedSeed(21).withExamples(40).forAll(integers().between(0, good.length - 1), integers().between(1, 255), booleans().all())
                .checkAssert((pos, xor, truncate) -> {
                    byte[] bad = truncate ? Arrays.copyOf(good, pos) : good.clone();
                    if (!truncate) bad[pos] ^= (byte) (int) xor;
                    write(victim, bad);
                    try {
                        Splits s = Datasets.open("cifar10", dir);
                        // Accepted: only a flipped pixel byte, or a label byte flipped to another valid label.
                        assertFalse(truncate);
                        int record = pos / 3073, at = pos % 3073;
                        if (at == 0) assertEquals(bad[pos], s.train().label(2 + record));
                    } catch (DatasetException e) {
                        assertTrue(e.getMessage().startsWith(victim + ": "), e.getMessage());
                        if (truncate) assertTrue(e.getMessage().contains(pos == 0 ? "empty file" : "truncated or not CIFAR binary"), e.getMessage());
                        else assertTrue(e.getMessage().contains("label") && e.getMessage().contains("out of range; expected 0..9"), e.getMessage());
                    } finally {
                        write(victim, good);
                    }
                });
    }

    @Test
    void errorsNameRecordOffsetAndExpectation() throws IOException {
        Path dir = Fixtures.writeCifar10(tmp, new SplittableRandom(4), 2);
        Path victim = dir.resolve("test_batch.bin");
        byte[] b = Files.readAllBytes(victim);
        b[3073] = 10;
        Files.write(victim, b);
        DatasetException label = assertThrows(DatasetException.class, () -> Datasets.open("cifar10", dir));
        assertEquals(victim + ": record 1 at byte offset 3073: label 10 at byte offset 3073 is out of range; expected 0..9", label.getMessage());

        Files.write(victim, Arrays.copyOf(b, 3073 + 100));
        DatasetException cut = assertThrows(DatasetException.class, () -> Datasets.open("cifar10", dir));
        assertEquals(victim + ": truncated or not CIFAR binary: 3173 bytes is not a whole number of 3073-byte records; record 1 at byte offset 3073 has only 100 bytes",
                cut.getMessage());

        Files.delete(dir.resolve("data_batch_3.bin"));
        DatasetException missing = assertThrows(DatasetException.class, () -> Datasets.open("cifar10", dir));
        assertEquals(dir.resolve("data_batch_3.bin") + ": no such file; expected a CIFAR binary file of 3073-byte records", missing.getMessage());

        Path c100 = Fixtures.writeCifar100(tmp, new SplittableRandom(5), 2, 2);
        byte[] t = Files.readAllBytes(c100.resolve("train.bin"));
        t[3074 + 1] = (byte) 100;
        Files.write(c100.resolve("train.bin"), t);
        DatasetException fine = assertThrows(DatasetException.class, () -> Datasets.open("cifar100", tmp));
        assertTrue(fine.getMessage().contains("record 1 at byte offset 3074: fine label 100 at byte offset 3075 is out of range; expected 0..99"), fine.getMessage());
        assertEquals(2, Datasets.open("cifar100-coarse", tmp).train().size()); // the coarse labels are fine
    }

    private static void write(Path f, byte[] b) {
        try {
            Files.write(f, b);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
