package dev.shears.nn.io;

/**
 * A safetensors file (or a Shears checkpoint inside one) that cannot be read as one: truncated,
 * malformed header, unknown dtype, offsets outside the data, a tensor missing or of the wrong
 * shape. The message names the file and the tensor or byte offset. An IllegalArgumentException
 * so the command line prints it as one line.
 */
public final class SafetensorsFormatException extends IllegalArgumentException {
    public SafetensorsFormatException(String message) {
        super(message);
    }
}
