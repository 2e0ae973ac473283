package dev.shears.datasets;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The IDX format of MNIST and Fashion-MNIST: a 4-byte magic {0, 0, type 0x08 = unsigned byte,
 * rank}, rank big-endian int32 dimensions, then the bytes. Read raw or gzipped (detected by the
 * gzip magic, not the name); written atomically, gzipped at level 9 with a zero timestamp so the
 * output is reproducible. A header is checked against the file size before anything is
 * allocated, so a lying header is an error, never an out-of-memory. Only unsigned-byte data.
 * Pinned by IdxFileTest (round trip and corruption properties).
 */
public final class IdxFile {
    private static final int UBYTE = 0x08;
    /** Largest Java byte array we allocate. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 16;
    /** Deflate cannot compress better than about 1032:1; a header claiming more is lying. */
    private static final long MAX_INFLATE_RATIO = 1032;
    private static final int CHUNK = 1 << 20;

    /** Dimensions (outermost first) and the row-major unsigned bytes. */
    public record Contents(int[] dims, byte[] data) {
        public long items() { return dims[0]; }
    }

    private IdxFile() {}

    /** Reads an IDX file of the given rank (images 3, labels 1), raw or gzipped. */
    public static Contents read(Path file, int rank) {
        if (Files.isDirectory(file)) throw new DatasetException(file + ": is a folder; expected an IDX file");
        long stored;
        try {
            stored = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new DatasetException(file + ": no such file; expected an IDX file", e);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString(), stored, rank);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e + ")", e);
        }
    }

    /**
     * Reads IDX data from a stream named {@code source} in messages. {@code storedBytes} is the
     * stream's length when known (raw: checked exactly; gzip: bounds what the header may claim),
     * or -1.
     */
    static Contents read(InputStream stream, String source, long storedBytes, int rank) throws IOException {
        BufferedInputStream in = new BufferedInputStream(stream, 1 << 16);
        in.mark(2);
        int g0 = in.read(), g1 = in.read();
        in.reset();
        boolean gz = g0 == 0x1f && g1 == 0x8b;
        InputStream body = in;
        if (gz) {
            try {
                body = new GZIPInputStream(in, 1 << 16);
            } catch (IOException e) {
                throw new DatasetException(source + ": starts like gzip but its gzip header is corrupt (" + e.getMessage() + ")", e);
            }
        }
        String at = gz ? "uncompressed byte offset " : "byte offset ";
        try {
            return readBody(body, source, storedBytes, rank, gz, at);
        } catch (DatasetException e) {
            throw e;
        } catch (IOException e) { // corrupt deflate data or a bad gzip trailer (CRC)
            throw new DatasetException(source + ": corrupt " + (gz ? "gzip" : "") + " data (" + e.getMessage() + ")", e);
        }
    }

    private static Contents readBody(InputStream in, String source, long stored, int rank, boolean gz, String at) throws IOException {
        String expectedMagic = String.format("0x000008%02x (unsigned bytes, %d dimension%s)", rank, rank, rank == 1 ? "" : "s");
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new DatasetException(source + ": ends at " + at + magic.length + " inside the IDX magic; expected " + expectedMagic);
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new DatasetException(source + ": bad IDX magic " + hex(magic) + " at " + at + "0; expected " + expectedMagic);
        }
        if ((magic[2] & 0xFF) != UBYTE) {
            throw new DatasetException(source + ": IDX data type 0x" + String.format("%02x", magic[2] & 0xFF) + " at " + at + "2; expected " + expectedMagic);
        }
        if ((magic[3] & 0xFF) != rank) {
            throw new DatasetException(source + ": IDX rank " + (magic[3] & 0xFF) + " at " + at + "3; expected " + expectedMagic
                    + (rank == 3 ? " for images" : rank == 1 ? " for labels" : ""));
        }
        int headerBytes = 4 + 4 * rank;
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new DatasetException(source + ": ends at " + at + (4 + dimBytes.length) + " inside the header; expected " + rank + " dimensions of 4 bytes");
        }
        int[] dims = new int[rank];
        long total = 1;
        for (int d = 0; d < rank; d++) {
            int v = ((dimBytes[4 * d] & 0xFF) << 24) | ((dimBytes[4 * d + 1] & 0xFF) << 16) | ((dimBytes[4 * d + 2] & 0xFF) << 8) | (dimBytes[4 * d + 3] & 0xFF);
            if (v < 1) {
                throw new DatasetException(source + ": dimension " + d + " at " + at + (4 + 4 * d) + " reads " + v + "; expected a count of at least 1");
            }
            dims[d] = v;
            total *= v; // at most (2^31)^3: no overflow in a long
        }
        long itemBytes = total / dims[0];
        String claim = "header claims " + describe(dims) + " = " + total + " data bytes";
        if (total > MAX_BYTES) {
            throw new DatasetException(source + ": " + claim + ", more than one IDX file may hold here (2 GiB); a lying header or not an IDX file");
        }
        if (!gz && stored >= 0) {
            long expected = headerBytes + total;
            if (stored < expected) {
                long dataHeld = stored - headerBytes;
                throw new DatasetException(source + ": truncated: " + claim + " after the " + headerBytes + "-byte header (" + expected
                        + " bytes in all) but the file has " + stored + " bytes; it ends at byte offset " + stored
                        + " inside item " + dataHeld / itemBytes + " of " + dims[0]);
            }
            if (stored > expected) {
                throw new DatasetException(source + ": " + (stored - expected) + " unexpected bytes after the data at byte offset " + expected
                        + "; " + claim + " (" + expected + " bytes in all)");
            }
        }
        if (gz && stored >= 0 && total > stored * MAX_INFLATE_RATIO + CHUNK) {
            throw new DatasetException(source + ": " + claim + ", but a gzip file of " + stored + " bytes inflates to at most about "
                    + stored * MAX_INFLATE_RATIO + "; a lying header or the wrong file");
        }
        // Allocate as the data arrives (a gzip header is only bounded, not checked exactly).
        byte[] data = new byte[(int) Math.min(total, 16L * CHUNK)];
        int filled = 0;
        while (filled < total) {
            if (filled == data.length) data = Arrays.copyOf(data, (int) Math.min(total, 2L * data.length));
            int n;
            try {
                n = in.readNBytes(data, filled, Math.min(CHUNK, data.length - filled));
            } catch (IOException e) {
                throw new DatasetException(source + ": corrupt gzip data after " + at + (headerBytes + filled) + " (" + e.getMessage() + "); " + claim, e);
            }
            if (n == 0) {
                throw new DatasetException(source + ": truncated: ends at " + at + (headerBytes + filled) + " inside item " + filled / itemBytes
                        + " of " + dims[0] + "; " + claim + " (" + (headerBytes + total) + " bytes in all)");
            }
            filled += n;
        }
        int extra;
        try {
            extra = in.read(); // also makes gzip check its trailer (CRC-32 and length)
        } catch (IOException e) {
            throw new DatasetException(source + ": corrupt gzip data at its end, after " + at + (headerBytes + total) + " (" + e.getMessage() + ")", e);
        }
        if (extra != -1) {
            throw new DatasetException(source + ": unexpected bytes after the data at " + at + (headerBytes + total) + "; " + claim);
        }
        return new Contents(dims, data);
    }

    private static String describe(int[] dims) {
        if (dims.length == 3) return dims[0] + " images of " + dims[1] + "x" + dims[2];
        if (dims.length == 1) return dims[0] + " labels";
        return Arrays.toString(dims);
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder("0x");
        for (byte x : b) s.append(String.format("%02x", x & 0xFF));
        return s.toString();
    }

    /** The bytes of an IDX file: header then data, gzipped (level 9, zero timestamp) when asked. */
    public static byte[] encode(int[] dims, byte[] data, boolean gzip) {
        long total = 1;
        for (int d : dims) {
            if (d < 1) throw new IllegalArgumentException("IDX dimensions " + Arrays.toString(dims) + " must be at least 1");
            total *= d;
        }
        if (total != data.length || dims.length > 255) {
            throw new IllegalArgumentException(data.length + " bytes do not fill IDX dimensions " + Arrays.toString(dims));
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream(gzip ? data.length / 2 + 64 : data.length + 4 + 4 * dims.length);
        try (OutputStream out = gzip ? new GZIPOutputStream(buf, 1 << 16) {{ def.setLevel(9); }} : buf) {
            out.write(new byte[] {0, 0, UBYTE, (byte) dims.length});
            for (int d : dims) out.write(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
            out.write(data);
        } catch (IOException e) {
            throw new IllegalStateException("in-memory write failed", e);
        }
        return buf.toByteArray();
    }

    /** Writes an IDX file atomically (temp file in the same folder, then rename). */
    public static void write(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
        writeAtomically(file, encode(dims, data, gzip));
    }

    /** Writes bytes atomically: a temp file in the target folder, then a rename over {@code file}. */
    public static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, bytes);
            try { // temp files are created owner-only; a data file is ordinary
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: keep the defaults
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
