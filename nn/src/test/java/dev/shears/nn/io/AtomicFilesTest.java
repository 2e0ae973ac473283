package dev.shears.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxExport;
import dev.shears.nn.testing.TinyLinear;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written atomically (checkpoints, metrics, reports, ONNX models) get the permissions the umask gives any
 * new file, like other tools' output, not the owner-only 0600 of a Java temp file; and nothing of
 * the temp file is left behind.
 */
class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void checkpointsAndTextFilesFollowTheUmask() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "no POSIX permissions here");
        Path reference = Files.createFile(dir.resolve("reference")); // 0666 less the umask, as the OS gives it
        String expected = PosixFilePermissions.toString(Files.getPosixFilePermissions(reference));
        Path ck = dir.resolve("last.safetensors"), text = dir.resolve("metrics.csv");
        try (TinyLinear m = new TinyLinear(4, 3, 0, 1)) {
            Checkpoint.save(ck, m, null, Map.of());
        }
        AtomicFiles.writeString(text, "epoch,loss\n1,0.5\n");
        Path onnx = dir.resolve("model.onnx");
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist())) {
            OnnxExport.write(m, onnx, OnnxExport.Options.defaults());
        }
        assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(ck)), "checkpoint permissions");
        assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(text)), "text file permissions");
        assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(onnx)), "ONNX file permissions");
        try (var files = Files.list(dir)) {
            assertEquals(4, files.count(), "a temp file was left behind");
        }
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTempFile() throws IOException {
        Path file = dir.resolve("report.json");
        AtomicFiles.writeString(file, "old");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(file, out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertTrue(e.getMessage().contains("report.json") && e.getMessage().contains("disk full"), e.getMessage());
        assertEquals("old", Files.readString(file));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(file), listing.toList());
        }
    }
}
