package dev.shears.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxExport;
import dev.shears.nn.testing.TinyLinear;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
}
