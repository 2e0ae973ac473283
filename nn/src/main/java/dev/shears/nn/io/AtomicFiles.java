package dev.shears.nn.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file atomically: a temp file in the same folder, fsync, rename over. The temp
 * file, and so the result, gets the permissions any new file gets (0666 less the umask), not the
 * owner-only 0600 of {@link Files#createTempFile}. Pinned by AtomicFilesTest.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Creates an empty, hidden temp file {@code .NAME.<random>.tmp} in {@code dir} for a file named
     * {@code name} that will be renamed over it, with the permissions the umask gives new files.
     */
    public static Path newTempFile(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "." + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt == 100) throw e;
            }
        }
    }

    /** What goes into the temp file: the stream is buffered and closed by {@link #write}. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code file} atomically: {@code body} fills a temp file in the same folder, which is
     * synced and renamed over {@code file}; on any failure the temp file is removed and the old
     * {@code file}, if any, is left as it was. The folder is created when missing.
     */
    public static void write(Path file, Body body) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = newTempFile(dir, file.getFileName().toString());
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                body.writeTo(os);
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original error is the one to report
                }
            }
        }
    }

    /** {@link #write} of a UTF-8 text. */
    public static void writeString(Path file, String content) {
        write(file, out -> out.write(content.getBytes(StandardCharsets.UTF_8)));
    }
}
