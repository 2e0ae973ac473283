package dev.shears.datasets;

/**
 * A data file or folder that cannot be read as the format it should be. The message is one line
 * a user can act on: the file (or folder, or entry), where in it (byte offset, record, line), what
 * was read and what was expected. Unchecked, so the CLI prints {@link #getMessage()} and stops.
 * Never used for programming errors (those stay IllegalArgumentException). Pinned by the
 * corruption tests of every format (IdxFileTest, CifarTest, HarTest, ImageFolderTest).
 */
public final class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
