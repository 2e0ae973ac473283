package dev.shears.nn.io;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors file format (Hugging Face): 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}}, then the raw
 * little-endian bytes. Writes are atomic (temp file in the same folder, fsync, rename); reads
 * validate everything (lengths, JSON, dtypes, offsets inside the data and non-overlapping, shape
 * against the byte span) and name the file and tensor in every error. Knows nothing of models:
 * see {@link Checkpoint}. Pinned by SafetensorsTest (round trip and corruption properties).
 */
public final class Safetensors {
    /** Largest header accepted (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100L << 20;
    private static final String METADATA = "__metadata__";

    private Safetensors() {}

    /** Element types this reader knows: F32 values, I32 labels, U8 masks, I64 counters. */
    public enum DType {
        F32(4), I32(4), U8(1), I64(8);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One tensor: its name, element type, shape and raw little-endian bytes. */
    public record Entry(String name, DType dtype, long[] shape, MemorySegment data) {
        public Entry {
            shape = shape.clone();
            long n = elements(shape, name);
            if (n > Long.MAX_VALUE / dtype.bytes || data.byteSize() != n * dtype.bytes) {
                throw new IllegalArgumentException("tensor '" + name + "' " + Arrays.toString(shape) + " " + dtype
                        + " needs " + n + " x " + dtype.bytes + " bytes, got " + data.byteSize());
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** The shape as ints (every Shears tensor fits). */
        public int[] intShape() {
            int[] s = new int[shape.length];
            for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(shape[i]);
            return s;
        }

        public long elements() {
            return elements(shape, name);
        }

        private static long elements(long[] shape, String name) {
            long n = 1;
            for (long d : shape) {
                if (d < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension " + Arrays.toString(shape));
                try {
                    n = Math.multiplyExact(n, d);
                } catch (ArithmeticException e) {
                    throw new IllegalArgumentException("tensor '" + name + "' shape " + Arrays.toString(shape) + " overflows");
                }
            }
            return n;
        }
    }

    /** A file read into memory; its entries' data live until {@link #close()}. */
    public static final class Contents implements AutoCloseable {
        private final Path file;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;
        private final Arena arena;

        private Contents(Path file, Map<String, Entry> entries, Map<String, String> metadata, Arena arena) {
            this.file = file;
            this.entries = Collections.unmodifiableMap(entries);
            this.metadata = Collections.unmodifiableMap(metadata);
            this.arena = arena;
        }

        public Path file() { return file; }

        /** Tensors in the order of their data in the file. */
        public Map<String, Entry> entries() { return entries; }

        public Map<String, String> metadata() { return metadata; }

        /** The named tensor, or a clear error naming the file. */
        public Entry require(String name) {
            Entry e = entries.get(name);
            if (e == null) throw new SafetensorsFormatException(file + ": no tensor '" + name + "'");
            return e;
        }

        @Override
        public void close() {
            if (arena.scope().isAlive()) arena.close();
        }
    }

    // ---------------------------------------------------------------- write

    /** Writes {@code entries} (in this order) and {@code metadata} atomically to {@code file}. */
    public static void write(Path file, List<Entry> entries, Map<String, String> metadata) {
        requireLittleEndian();
        String header = header(entries, metadata);
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int pad = (int) ((8 - (json.length % 8)) % 8); // data starts 8-byte aligned, as the reference writer does
        byte[] padded = Arrays.copyOf(json, json.length + pad);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = AtomicFiles.newTempFile(dir, file.getFileName().toString()); // umask permissions, not createTempFile's 0600
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).flip();
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(padded));
                for (Entry e : entries) {
                    long off = 0, n = e.data().byteSize();
                    while (off < n) { // asByteBuffer is limited to 2 GiB per slice
                        long chunk = Math.min(n - off, 1L << 30);
                        writeFully(ch, e.data().asSlice(off, chunk).asByteBuffer());
                        off += chunk;
                    }
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temp file is hidden and harmless; the original error matters
                }
            }
        }
    }

    private static String header(List<Entry> entries, Map<String, String> metadata) {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.setHtmlSafe(false);
            w.beginObject();
            if (metadata != null && !metadata.isEmpty()) {
                w.name(METADATA).beginObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) w.name(m.getKey()).value(m.getValue());
                w.endObject();
            }
            long offset = 0;
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Entry e : entries) {
                if (e.name().isEmpty() || e.name().equals(METADATA)) throw new IllegalArgumentException("invalid tensor name '" + e.name() + "'");
                if (!seen.add(e.name())) throw new IllegalArgumentException("tensor '" + e.name() + "' given twice");
                w.name(e.name()).beginObject();
                w.name("dtype").value(e.dtype().name());
                w.name("shape").beginArray();
                for (long d : e.shape()) w.value(d);
                w.endArray();
                long end = offset + e.data().byteSize();
                w.name("data_offsets").beginArray().value(offset).value(end).endArray();
                w.endObject();
                offset = end;
            }
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not throw
        }
        return sw.toString();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every file system lets a directory be opened; the rename itself is atomic
        }
    }

    private static void requireLittleEndian() {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors data is little-endian; this platform is " + ByteOrder.nativeOrder());
        }
    }

    // ---------------------------------------------------------------- read

    /** Reads and validates {@code file}; the caller closes the result. */
    public static Contents read(Path file) {
        requireLittleEndian();
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(file, "file has " + size + " bytes, too short for the 8-byte header length (truncated or not a safetensors file)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw bad(file, "header length " + Long.toUnsignedString(headerLen) + " at offset 0 does not fit a file of " + size
                        + " bytes (truncated or not a safetensors file)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8, file);
            String json = decodeUtf8(hb.array(), file);
            long dataStart = 8 + headerLen, dataLen = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<RawEntry> raw = parseHeader(json, file, metadata);
            validateOffsets(raw, dataLen, dataStart, file);
            MemorySegment data = arena.allocate(Math.max(1, dataLen), 64);
            long off = 0;
            while (off < dataLen) {
                long chunk = Math.min(dataLen - off, 1L << 30);
                readFully(ch, data.asSlice(off, chunk).asByteBuffer(), dataStart + off, file);
                off += chunk;
            }
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (RawEntry r : raw) {
                entries.put(r.name, new Entry(r.name, r.dtype, r.shape, data.asSlice(r.begin, r.end - r.begin)));
            }
            return new Contents(file, entries, metadata, arena);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private record RawEntry(String name, DType dtype, long[] shape, long begin, long end) {}

    private static List<RawEntry> parseHeader(String json, Path file, Map<String, String> metadata) {
        List<RawEntry> out = new ArrayList<>();
        String current = null;
        try (JsonReader r = new JsonReader(new StringReader(json))) {
            r.setStrictness(Strictness.STRICT);
            if (r.peek() != JsonToken.BEGIN_OBJECT) throw bad(file, "header is not a JSON object");
            r.beginObject();
            java.util.Set<String> names = new java.util.HashSet<>();
            while (r.hasNext()) {
                current = r.nextName();
                if (!names.add(current)) throw bad(file, "header names '" + current + "' twice");
                if (current.equals(METADATA)) {
                    r.beginObject();
                    while (r.hasNext()) {
                        String k = r.nextName();
                        if (r.peek() != JsonToken.STRING) throw bad(file, "__metadata__ value of '" + k + "' is not a string");
                        if (metadata.put(k, r.nextString()) != null) throw bad(file, "__metadata__ names '" + k + "' twice");
                    }
                    r.endObject();
                } else {
                    out.add(parseEntry(r, current, file));
                }
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) throw bad(file, "header has data after its JSON object");
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw bad(file, "malformed JSON header" + (current != null ? " near tensor '" + current + "'" : "") + ": " + e.getMessage());
        }
        return out;
    }

    private static RawEntry parseEntry(JsonReader r, String name, Path file) throws IOException {
        if (name.isEmpty()) throw bad(file, "header has a tensor with an empty name");
        DType dtype = null;
        long[] shape = null, offsets = null;
        r.beginObject();
        while (r.hasNext()) {
            String k = r.nextName();
            switch (k) {
                case "dtype" -> {
                    String d = r.nextString();
                    try {
                        dtype = DType.valueOf(d);
                    } catch (IllegalArgumentException e) {
                        throw bad(file, "tensor '" + name + "' has dtype '" + d + "'; this reader knows " + Arrays.toString(DType.values()));
                    }
                }
                case "shape" -> shape = longArray(r, name, "shape", file);
                case "data_offsets" -> offsets = longArray(r, name, "data_offsets", file);
                default -> throw bad(file, "tensor '" + name + "' has an unknown field '" + k + "'");
            }
        }
        r.endObject();
        if (dtype == null || shape == null || offsets == null) {
            throw bad(file, "tensor '" + name + "' lacks " + (dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        if (offsets.length != 2 || offsets[0] > offsets[1]) {
            throw bad(file, "tensor '" + name + "' data_offsets " + Arrays.toString(offsets) + " is not [begin, end] with begin <= end");
        }
        long n = 1;
        for (long d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw bad(file, "tensor '" + name + "' shape " + Arrays.toString(shape) + " overflows");
            }
        }
        if (n > Long.MAX_VALUE / dtype.bytes || offsets[1] - offsets[0] != n * dtype.bytes) {
            throw bad(file, "tensor '" + name + "' " + dtype + " " + Arrays.toString(shape) + " needs " + n + " x " + dtype.bytes
                    + " bytes but data_offsets " + Arrays.toString(offsets) + " span " + (offsets[1] - offsets[0]));
        }
        return new RawEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] longArray(JsonReader r, String name, String field, Path file) throws IOException {
        List<Long> vals = new ArrayList<>();
        r.beginArray();
        while (r.hasNext()) {
            if (r.peek() != JsonToken.NUMBER) throw bad(file, "tensor '" + name + "' " + field + " holds a non-number");
            long v = r.nextLong();
            if (v < 0) throw bad(file, "tensor '" + name + "' " + field + " holds a negative value " + v);
            vals.add(v);
        }
        r.endArray();
        return vals.stream().mapToLong(Long::longValue).toArray();
    }

    private static void validateOffsets(List<RawEntry> raw, long dataLen, long dataStart, Path file) {
        List<RawEntry> sorted = new ArrayList<>(raw);
        sorted.sort(Comparator.comparingLong(RawEntry::begin).thenComparingLong(RawEntry::end));
        long prevEnd = 0;
        String prev = null;
        for (RawEntry e : sorted) {
            if (e.end > dataLen) {
                throw bad(file, "tensor '" + e.name + "' ends at data byte " + e.end + " (file offset " + (dataStart + e.end)
                        + ") but the data section has only " + dataLen + " bytes (file truncated?)");
            }
            if (e.begin < prevEnd) {
                throw bad(file, "tensor '" + e.name + "' at data bytes [" + e.begin + ", " + e.end + ") overlaps tensor '" + prev + "' ending at " + prevEnd);
            }
            prevEnd = e.end;
            prev = e.name;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position, Path file) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw bad(file, "unexpected end of file at offset " + pos + " (file changed while reading?)");
            pos += n;
        }
    }

    private static String decodeUtf8(byte[] bytes, Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw bad(file, "header is not valid UTF-8");
        }
    }

    private static SafetensorsFormatException bad(Path file, String what) {
        return new SafetensorsFormatException(file + ": " + what);
    }

    /** A float tensor as an F32 entry (no copy: the segment is the tensor's). */
    public static Entry f32(String name, dev.shears.engine.Tensor t) {
        return new Entry(name, DType.F32, toLong(t.shape()), t.segment().asSlice(0, t.size() * 4));
    }

    static long[] toLong(int[] shape) {
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = shape[i];
        return s;
    }

    /** Reads float {@code i} of an F32 entry. */
    static float getFloat(Entry e, long i) {
        return e.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
    }
}
