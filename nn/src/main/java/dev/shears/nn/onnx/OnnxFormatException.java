package dev.shears.nn.onnx;

/**
 * A file that cannot be read as an ONNX model, or an ONNX graph Shears cannot take: truncated,
 * not protobuf, not a ModelProto, a wrong wire type. The message is one line naming the file
 * and what was wrong (the field and byte offset where the reader knows them). An
 * IllegalArgumentException so the command line prints it as one line.
 */
public final class OnnxFormatException extends IllegalArgumentException {
    public OnnxFormatException(String message) {
        super(message);
    }

    public OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
