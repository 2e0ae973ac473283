package dev.shears.cli.experiment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One sweep per output folder at a time: an OS file lock on {@code .lock} in the folder, held for
 * the run and released by the OS if the process dies (so a kill never leaves a stale lock). Two
 * sweeps appending to one journal would interleave their lines. Pinned by SweepTest.
 */
final class FolderLock implements AutoCloseable {
    static final String FILE = ".lock";
    private final FileChannel channel;
    private final FileLock lock;

    private FolderLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static FolderLock acquire(Path dir) {
        try {
            Files.createDirectories(dir);
            FileChannel ch = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                ch.close();
                throw new IllegalArgumentException("another shears experiment is running in " + dir.toAbsolutePath()
                        + " (it holds " + FILE + "); wait for it or choose another --out");
            }
            return new FolderLock(ch, l);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release " + channel + ": " + e.getMessage(), e);
        }
    }
}
