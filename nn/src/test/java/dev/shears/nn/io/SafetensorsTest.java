package dev.shears.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safetensors: random files round-trip bit for bit (tensors, order, metadata with awkward
 * strings); every truncation and random byte flip gives either a valid read or a
 * SafetensorsFormatException naming the file (never an index error or NPE); a hand-built file in
 * the reference layout reads correctly; each malformed header gives its own clear message.
 */
class SafetensorsTest {
    @TempDir
    Path dir;

    private static final String[] NAME_PARTS = {"layer1", "0", "conv1", "weight", "bn1", "running_mean", "é", "\"q\"", "a\\b", "fc"};
    private static final String[] META_VALUES = {"", "plain", "quote\" and \\ backslash", "new\nline", "ünïcødé ✂", "{\"json\": [1, 2]}", "<html>&"};

    private record Sample(List<Safetensors.Entry> entries, Map<String, String> metadata) {}

    private static Sample randomSample(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Safetensors.Entry> entries = new ArrayList<>();
        int n = r.nextInt(7);
        for (int t = 0; t < n; t++) {
            String name = NAME_PARTS[r.nextInt(NAME_PARTS.length)] + "." + NAME_PARTS[r.nextInt(NAME_PARTS.length)] + "." + t;
            Safetensors.DType d = Safetensors.DType.values()[r.nextInt(Safetensors.DType.values().length)];
            long[] shape = new long[r.nextInt(4)];
            for (int i = 0; i < shape.length; i++) shape[i] = r.nextInt(6);
            long count = 1;
            for (long s : shape) count *= s;
            byte[] bytes = new byte[(int) (count * d.bytes)];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) r.nextInt(256);
            entries.add(new Safetensors.Entry(name, d, shape, MemorySegment.ofArray(bytes)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        int m = r.nextInt(4);
        for (int i = 0; i < m; i++) meta.put("k" + i + META_VALUES[r.nextInt(META_VALUES.length)], META_VALUES[r.nextInt(META_VALUES.length)]);
        return new Sample(entries, meta);
    }

    @Test
    void randomFilesRoundTripBitForBit() {
        qt().withExamples(40).forAll(longs().all()).checkAssert(seed -> {
            Sample s = randomSample(seed);
            Path f = dir.resolve("rt.safetensors");
            Safetensors.write(f, s.entries(), s.metadata());
            try (Safetensors.Contents c = Safetensors.read(f)) {
                assertEquals(s.metadata(), c.metadata());
                assertEquals(s.entries().stream().map(Safetensors.Entry::name).toList(), List.copyOf(c.entries().keySet()));
                for (Safetensors.Entry e : s.entries()) {
                    Safetensors.Entry g = c.require(e.name());
                    assertEquals(e.dtype(), g.dtype(), e.name());
                    assertArrayEquals(e.shape(), g.shape(), e.name());
                    assertArrayEquals(e.data().toArray(ValueLayout.JAVA_BYTE), g.data().toArray(ValueLayout.JAVA_BYTE), e.name());
                }
                // writing what was read gives the same file, byte for byte
                Path f2 = dir.resolve("rt2.safetensors");
                Safetensors.write(f2, List.copyOf(c.entries().values()), c.metadata());
                assertArrayEquals(readAll(f), readAll(f2));
            }
        });
    }

    @Test
    void everyTruncationIsAClearError() throws IOException {
        Path f = dir.resolve("t.safetensors");
        Sample s = randomSample(42);
        while (s.entries().isEmpty()) s = randomSample(s.entries().size() + 43);
        Safetensors.write(f, s.entries(), s.metadata());
        byte[] all = readAll(f);
        Path cut = dir.resolve("cut.safetensors");
        for (int len = 0; len < all.length; len++) {
            Files.write(cut, java.util.Arrays.copyOf(all, len));
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(cut).close(), "length " + len);
            assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        }
    }

    @Test
    void randomByteFlipsReadOrFailClearly() {
        qt().withExamples(100).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            Sample s = randomSample(seed);
            Path f = dir.resolve("flip.safetensors");
            Safetensors.write(f, s.entries(), s.metadata());
            byte[] all = readAll(f);
            int flips = 1 + r.nextInt(3);
            for (int i = 0; i < flips; i++) {
                int pos = r.nextInt(Math.min(all.length, 8 + 200)); // the header is where structure lives
                all[pos] = (byte) (r.nextBoolean() ? all[pos] ^ (1 << r.nextInt(8)) : r.nextInt(256));
            }
            try {
                Files.write(f, all);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try (Safetensors.Contents c = Safetensors.read(f)) {
                for (Safetensors.Entry e : c.entries().values()) assertEquals(e.elements() * e.dtype().bytes, e.data().byteSize());
            } catch (SafetensorsFormatException e) {
                assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            }
        });
    }

    /** A file laid out by hand from the format description, independent of the writer. */
    @Test
    void readsAHandBuiltReferenceFile() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]},\"m\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[24,27]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 27).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).putFloat(1.5f).putFloat(-2f).putFloat(0f).putFloat(Float.MIN_VALUE).putLong(123456789012L).put((byte) 1).put((byte) 0).put((byte) 1);
        Path f = dir.resolve("ref.safetensors");
        Files.write(f, b.array());
        try (Safetensors.Contents c = Safetensors.read(f)) {
            assertEquals(Map.of("format", "pt"), c.metadata());
            Safetensors.Entry w = c.require("w");
            assertArrayEquals(new long[] {2, 2}, w.shape());
            assertArrayEquals(new float[] {1.5f, -2f, 0f, Float.MIN_VALUE}, w.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED));
            assertEquals(123456789012L, c.require("n").data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            assertArrayEquals(new byte[] {1, 0, 1}, c.require("m").data().toArray(ValueLayout.JAVA_BYTE));
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> c.require("nope"));
            assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        }
    }

    private void expectError(String header, int dataBytes, String fragment) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, b.array());
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(f).close(), header);
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void malformedHeadersNameTheProblem() throws IOException {
        expectError("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype 'F16'");
        expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "tensor 'w' F32 [3] needs 3 x 4 bytes");
        expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "tensor 'w' ends at data byte 8");
        expectError("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps tensor 'a'");
        expectError("[1, 2]", 0, "not a JSON object");
        expectError("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}", 4, "malformed JSON header");
        expectError("{\"__metadata__\":{\"k\":1}}", 0, "value of 'k' is not a string");
        expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "negative");
        expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "lacks data_offsets");
        expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "twice");
        expectError("{} trailing", 0, "malformed JSON");
    }

    @Test
    void headerLengthOutsideTheFileIsAClearError() throws IOException {
        Path f = dir.resolve("len.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(f).close());
        assertTrue(e.getMessage().contains("header length 1099511627776"), e.getMessage());
        Files.write(f, "not a safetensors file at all, just text".getBytes(StandardCharsets.UTF_8));
        e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(f).close());
        assertTrue(e.getMessage().contains("header length"), e.getMessage());
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTempFile() throws IOException {
        Path f = dir.resolve("keep.safetensors");
        Sample s = randomSample(7);
        Safetensors.write(f, s.entries(), s.metadata());
        byte[] before = readAll(f);
        List<Safetensors.Entry> dup = new ArrayList<>(s.entries());
        dup.add(new Safetensors.Entry("x", Safetensors.DType.U8, new long[] {1}, MemorySegment.ofArray(new byte[1])));
        dup.add(new Safetensors.Entry("x", Safetensors.DType.U8, new long[] {1}, MemorySegment.ofArray(new byte[1])));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, dup, Map.of()));
        assertArrayEquals(before, readAll(f));
        try (var files = Files.list(dir)) {
            assertEquals(List.of("keep.safetensors"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    private static byte[] readAll(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void missingFileIsAnIoErrorNamingIt() {
        Path f = dir.resolve("absent.safetensors");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
