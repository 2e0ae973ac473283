package dev.shears.engine;

/**
 * Element types a {@link Tensor} can hold: float32 for values, int32 for labels and indices,
 * uint8 for masks and raw image bytes. Not a general dtype system: no float16, no casting rules.
 */
public enum DType {
    F32(4), I32(4), U8(1);

    /** Bytes per element. */
    public final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }
}
