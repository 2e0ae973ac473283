package dev.shears.datasets;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.*;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files: a round trip on random small files, then corrupted copies must fail with a clear DatasetException. */
class IdxFileTest {
    @TempDir
    Path tmp;

    private static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static int[] dims(int rank, int n, int side) {
        return rank == 1 ? new int[] {n} : new int[] {n, side, side + 1};
    }

    private static int total(int[] dims) {
        return Arrays.stream(dims).reduce(1, (a, b) -> a * b);
    }

    @Test
    void roundTripsRawAndGzipped() {
        qt().withFixedSeed(11).withExamples(60)
                .forAll(integers().between(1, 40), integers().between(1, 9), longs().all(), booleans().all())
                .checkAssert((n, side, seed, gzip) -> {
                    for (int rank : new int[] {1, 3}) {
                        int[] dims = dims(rank, n, side);
                        byte[] data = randomBytes(seed, total(dims));
                        Path f = tmp.resolve("rt" + rank + (gzip ? ".gz" : ""));
                        try {
                            IdxFile.write(f, dims, data, gzip);
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                        IdxFile.Contents c = IdxFile.read(f, rank);
                        assertArrayEquals(dims, c.dims());
                        assertArrayEquals(data, c.data());
                    }
                });
    }

    /** Every prefix of a valid file is refused with a message naming the file. */
    @Test
    void truncatedFilesAreClearErrors() {
        qt().withFixedSeed(12).withExamples(80)
                .forAll(integers().between(1, 30), integers().between(1, 6), integers().between(0, 1_000_000), booleans().all())
                .checkAssert((n, side, cutSeed, gzip) -> {
                    int[] dims = dims(3, n, side);
                    byte[] file = IdxFile.encode(dims, randomBytes(cutSeed, total(dims)), gzip);
                    int cut = cutSeed % file.length; // 0 .. length-1 bytes kept
                    Path f = tmp.resolve("cut" + (gzip ? ".gz" : ""));
                    write(f, Arrays.copyOf(file, cut));
                    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.read(f, 3), () -> "cut at " + cut + " of " + file.length);
                    assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
                    assertTrue(e.getMessage().contains("expected") || e.getMessage().contains("truncated") || e.getMessage().contains("corrupt"), e.getMessage());
                });
    }

    /**
     * One flipped byte: a gzipped file must be refused (CRC or structure); a raw file is refused
     * when the header was hit, and otherwise loads with exactly that data byte changed.
     */
    @Test
    void flippedBytesAreDetectedOrConfinedToOneDataByte() {
        qt().withFixedSeed(13).withExamples(120)
                .forAll(integers().between(1, 30), integers().between(1, 6), integers().between(0, 1_000_000), booleans().all())
                .checkAssert((n, side, at, gzip) -> {
                    int[] dims = dims(3, n, side);
                    byte[] data = randomBytes(at, total(dims));
                    byte[] file = IdxFile.encode(dims, data, gzip);
                    int pos = at % file.length;
                    int xor = 1 + at % 255;
                    byte[] bad = file.clone();
                    bad[pos] ^= (byte) xor;
                    Path f = tmp.resolve("flip" + (gzip ? ".gz" : ""));
                    write(f, bad);
                    try {
                        IdxFile.Contents c = IdxFile.read(f, 3);
                        // Loaded: only possible for raw data bytes (gzip's CRC catches data damage; some gzip header bytes are ignorable).
                        if (!gzip) {
                            assertTrue(pos >= 16, "a flipped raw header byte at " + pos + " was accepted");
                            byte[] expected = data.clone();
                            expected[pos - 16] ^= (byte) xor;
                            assertArrayEquals(expected, c.data());
                        } else {
                            assertArrayEquals(data, c.data(), "gzip accepted changed data (flip at " + pos + ")");
                        }
                    } catch (DatasetException e) {
                        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
                    }
                });
    }

    /** Headers that claim more than the file holds, up to 2^31-1 images: a clear error, no big allocation. */
    @Test
    void lyingHeadersAreRefusedBeforeAllocating() throws IOException {
        long before = usedHeap();
        qt().withFixedSeed(14).withExamples(60)
                .forAll(integers().between(1, 20), integers().between(1, Integer.MAX_VALUE - 1), booleans().all())
                .checkAssert((n, extra, gzip) -> {
                    int[] dims = {n, 28, 28};
                    byte[] data = randomBytes(n, total(dims));
                    byte[] raw = IdxFile.encode(dims, data, false);
                    int lie = (int) Math.min(Integer.MAX_VALUE, (long) n + extra);
                    raw[4] = (byte) (lie >>> 24);
                    raw[5] = (byte) (lie >>> 16);
                    raw[6] = (byte) (lie >>> 8);
                    raw[7] = (byte) lie;
                    Path f = tmp.resolve("lie" + (gzip ? ".gz" : ""));
                    write(f, gzip ? gzip(raw) : raw);
                    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.read(f, 3));
                    assertTrue(e.getMessage().contains("header claims " + lie + " images of 28x28"), e.getMessage());
                });
        assertTrue(usedHeap() - before < 512L << 20, "reading lying headers allocated " + (usedHeap() - before) + " bytes");
    }

    @Test
    void maximalClaimIsRefusedForRawAndGzip() throws IOException {
        byte[] header = {0, 0, 8, 3, (byte) 0x80, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
        header[4] = 0x7f; header[5] = (byte) 0xff; header[6] = (byte) 0xff; header[7] = (byte) 0xff; // 2^31-1 images
        for (boolean gz : new boolean[] {false, true}) {
            Path f = tmp.resolve("max" + (gz ? ".gz" : ""));
            write(f, gz ? gzip(header) : header);
            DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.read(f, 3));
            assertTrue(e.getMessage().contains("2147483647 images of 28x28") && e.getMessage().contains("lying header"), e.getMessage());
        }
    }

    @Test
    void wrongMagicTypeAndRankNameWhatWasExpected() throws IOException {
        byte[] file = IdxFile.encode(new int[] {3, 2, 2}, new byte[12], false);
        Path f = tmp.resolve("images");
        write(f, file);
        DatasetException rank = assertThrows(DatasetException.class, () -> IdxFile.read(f, 1));
        assertEquals(f + ": IDX rank 3 at byte offset 3; expected 0x00000801 (unsigned bytes, 1 dimension) for labels", rank.getMessage());

        byte[] type = file.clone();
        type[2] = 0x0D; // float data
        write(f, type);
        DatasetException t = assertThrows(DatasetException.class, () -> IdxFile.read(f, 3));
        assertTrue(t.getMessage().contains("IDX data type 0x0d at byte offset 2; expected 0x00000803"), t.getMessage());

        byte[] magic = file.clone();
        magic[0] = 0x50; // 'P' of a PNG, say
        write(f, magic);
        DatasetException m = assertThrows(DatasetException.class, () -> IdxFile.read(f, 3));
        assertTrue(m.getMessage().contains("bad IDX magic 0x50000803 at byte offset 0"), m.getMessage());

        byte[] zero = file.clone();
        zero[7] = 0; // zero images
        write(f, zero);
        DatasetException z = assertThrows(DatasetException.class, () -> IdxFile.read(f, 3));
        assertTrue(z.getMessage().contains("dimension 0 at byte offset 4 reads 0; expected a count of at least 1"), z.getMessage());
    }

    @Test
    void trailingBytesAndMissingFilesAreErrors() throws IOException {
        byte[] file = IdxFile.encode(new int[] {2}, new byte[] {1, 2}, false);
        Path f = tmp.resolve("labels");
        write(f, Arrays.copyOf(file, file.length + 3));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.read(f, 1));
        assertTrue(e.getMessage().contains("3 unexpected bytes after the data at byte offset 10"), e.getMessage());

        Path missing = tmp.resolve("nope.gz");
        DatasetException m = assertThrows(DatasetException.class, () -> IdxFile.read(missing, 1));
        assertEquals(missing + ": no such file; expected an IDX file", m.getMessage());
        DatasetException d = assertThrows(DatasetException.class, () -> IdxFile.read(tmp, 1));
        assertTrue(d.getMessage().contains("is a folder"), d.getMessage());
    }

    @Test
    void gzipOutputIsReproducible() throws IOException {
        byte[] data = randomBytes(5, 7 * 4 * 5);
        byte[] a = IdxFile.encode(new int[] {7, 4, 5}, data, true);
        byte[] b = IdxFile.encode(new int[] {7, 4, 5}, data, true);
        assertArrayEquals(a, b);
        assertArrayEquals(data, IdxFile.read(new ByteArrayInputStream(a), "mem", a.length, 3).data());
    }

    private static void write(Path f, byte[] bytes) {
        try {
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] gzip(byte[] raw) {
        var buf = new java.io.ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(buf)) {
            out.write(raw);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return buf.toByteArray();
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
