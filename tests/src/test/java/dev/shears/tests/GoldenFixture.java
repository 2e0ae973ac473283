package dev.shears.tests;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reader of the golden fixtures written by scripts/golden/make_golden.py (format in its docstring):
 * parts {@code golden/<name>.<i>.bin} on the test classpath, magic "SHGF", version 1, JSON
 * metadata, then named tensors (float32, bfloat16 stored as the upper half of a float32, or
 * int32). Errors name the file, the offset and what was expected.
 */
final class GoldenFixture {
    static final String REGENERATE = "regenerate with: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp "
            + "/usr/bin/python3 scripts/golden/make_golden.py (needs Debian's python3-torch)";
    private static final int VERSION = 1;

    /** A tensor read from a fixture: its shape and values (ints widened to float are exact below 2^24). */
    record Entry(int[] shape, float[] values, int[] ints) {}

    final JsonObject meta;
    final Map<String, Entry> tensors = new LinkedHashMap<>();

    private GoldenFixture(JsonObject meta) {
        this.meta = meta;
    }

    static GoldenFixture load(String name) throws IOException {
        GoldenFixture fixture = null;
        int parts = 1;
        for (int part = 0; part < parts; part++) {
            String file = "golden/" + name + "." + part + ".bin";
            byte[] bytes;
            try (InputStream in = GoldenFixture.class.getClassLoader().getResourceAsStream(file)) {
                if (in == null) throw new IOException("golden fixture " + file + " is missing from the test resources; " + REGENERATE);
                bytes = in.readAllBytes();
            }
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            try {
                byte[] magic = new byte[4];
                b.get(magic);
                if (!new String(magic, StandardCharsets.US_ASCII).equals("SHGF")) {
                    throw new IOException(file + ": bad magic at offset 0 (expected SHGF); " + REGENERATE);
                }
                int version = b.getInt();
                if (version != VERSION) throw new IOException(file + ": format version " + version + ", expected " + VERSION + "; " + REGENERATE);
                int index = b.getInt();
                parts = b.getInt();
                if (index != part) throw new IOException(file + ": says it is part " + index + ", expected " + part);
                byte[] meta = new byte[b.getInt()];
                b.get(meta);
                if (fixture == null) fixture = new GoldenFixture(JsonParser.parseString(new String(meta, StandardCharsets.UTF_8)).getAsJsonObject());
                int count = b.getInt();
                for (int t = 0; t < count; t++) {
                    byte[] nm = new byte[Short.toUnsignedInt(b.getShort())];
                    b.get(nm);
                    int dtype = b.get(), rank = b.get();
                    int[] shape = new int[rank];
                    long size = 1;
                    for (int i = 0; i < rank; i++) size *= shape[i] = b.getInt();
                    float[] values = new float[Math.toIntExact(size)];
                    int[] ints = dtype == 2 ? new int[values.length] : null;
                    for (int i = 0; i < values.length; i++) {
                        switch (dtype) {
                            case 0 -> values[i] = b.getFloat();
                            case 1 -> values[i] = Float.intBitsToFloat(Short.toUnsignedInt(b.getShort()) << 16);
                            case 2 -> values[i] = ints[i] = b.getInt();
                            default -> throw new IOException(file + ": tensor '" + new String(nm, StandardCharsets.UTF_8) + "' has unknown dtype " + dtype);
                        }
                    }
                    fixture.tensors.put(new String(nm, StandardCharsets.UTF_8), new Entry(shape, values, ints));
                }
                if (b.hasRemaining()) throw new IOException(file + ": " + b.remaining() + " trailing bytes after " + count + " tensors");
            } catch (java.nio.BufferUnderflowException e) {
                throw new IOException(file + ": truncated at offset " + b.position() + "; " + REGENERATE, e);
            }
        }
        return fixture;
    }

    Entry get(String name) {
        Entry e = tensors.get(name);
        if (e == null) throw new IllegalStateException("golden fixture has no tensor '" + name + "'; " + REGENERATE);
        return e;
    }
}
