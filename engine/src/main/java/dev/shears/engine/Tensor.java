package dev.shears.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A shape plus data in an off-heap {@link MemorySegment}. Memory has one owner: either the tensor
 * itself ({@link #allocate}; {@link #close()} frees it) or a {@link Workspace} / caller arena
 * ({@link #allocate(Arena, DType, int...)}; closing that arena frees it). Use after the owner is
 * closed is an {@link IllegalStateException} naming the tensor. Not an autograd value: layers
 * keep their own gradient tensors. Pinned by TensorTest.
 */
public final class Tensor implements AutoCloseable {
    /** Alignment of every allocation: one cache line, so SIMD loads never split lines at row 0. */
    public static final long ALIGN = 64;

    private final String name;
    private final DType dtype;
    private final int[] shape;
    private final long size;
    private final MemorySegment data;
    private final Arena ownArena; // non-null when this tensor owns its memory

    private Tensor(String name, DType dtype, int[] shape, MemorySegment data, Arena ownArena) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.size = Shape.size(shape);
        this.data = data;
        this.ownArena = ownArena;
        if (data.byteSize() < size * dtype.bytes) {
            throw new IllegalArgumentException("tensor '" + name + "' " + Shape.str(shape) + " needs " + size * dtype.bytes
                    + " bytes but its segment has " + data.byteSize());
        }
    }

    /** A zeroed tensor that owns its memory (a shared arena, so pool threads may use it). */
    public static Tensor allocate(DType dtype, int... shape) {
        Arena arena = Arena.ofShared();
        try {
            return new Tensor("tensor", dtype, shape, arena.allocate(bytes(dtype, shape), ALIGN), arena);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** A zeroed tensor in a caller-owned arena: freed when that arena closes. */
    public static Tensor allocate(Arena arena, DType dtype, int... shape) {
        return new Tensor("tensor", dtype, shape, arena.allocate(bytes(dtype, shape), ALIGN), null);
    }

    /** A float tensor holding a copy of {@code values}, owning its memory. */
    public static Tensor of(float[] values, int... shape) {
        if (Shape.size(shape) != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Shape.str(shape));
        }
        Tensor t = allocate(DType.F32, shape);
        MemorySegment.copy(values, 0, t.data, ValueLayout.JAVA_FLOAT, 0, values.length);
        return t;
    }

    /** Wraps an existing segment without taking ownership (a view). */
    public static Tensor wrap(String name, DType dtype, MemorySegment segment, int... shape) {
        return new Tensor(name, dtype, shape, segment, null);
    }

    private static long bytes(DType dtype, int[] shape) {
        return Math.max(1, Math.multiplyExact(Shape.size(shape), (long) dtype.bytes));
    }

    /** The same data under a new name (for error messages). */
    public Tensor named(String newName) {
        return new Tensor(newName, dtype, shape, data, null);
    }

    /** The same data under another shape with the same element count. */
    public Tensor reshape(int... newShape) {
        if (Shape.size(newShape) != size) {
            throw new IllegalArgumentException("cannot reshape '" + name + "' " + Shape.str(shape) + " to " + Shape.str(newShape));
        }
        return new Tensor(name, dtype, newShape, data, null);
    }

    public String name() { return name; }
    public DType dtype() { return dtype; }
    public int[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }
    public long size() { return size; }

    /** The live data; throws a clear error when the owning arena was closed. */
    public MemorySegment segment() {
        if (!data.scope().isAlive()) {
            throw new IllegalStateException("tensor '" + name + "' " + Shape.str(shape) + " used after its memory was closed");
        }
        return data;
    }

    public float get(long i) {
        checkIndex(i, DType.F32);
        return segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    public void set(long i, float v) {
        checkIndex(i, DType.F32);
        segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
    }

    public int getInt(long i) {
        checkIndex(i, DType.I32);
        return segment().getAtIndex(ValueLayout.JAVA_INT, i);
    }

    public void setInt(long i, int v) {
        checkIndex(i, DType.I32);
        segment().setAtIndex(ValueLayout.JAVA_INT, i, v);
    }

    public int getByte(long i) {
        checkIndex(i, DType.U8);
        return Byte.toUnsignedInt(segment().get(ValueLayout.JAVA_BYTE, i));
    }

    public void setByte(long i, int v) {
        checkIndex(i, DType.U8);
        segment().set(ValueLayout.JAVA_BYTE, i, (byte) v);
    }

    private void checkIndex(long i, DType expected) {
        if (dtype != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' holds " + dtype + ", not " + expected);
        }
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("index " + i + " outside tensor '" + name + "' " + Shape.str(shape) + " of " + size + " elements");
        }
    }

    /** A heap copy of a float tensor's values. */
    public float[] toFloatArray() {
        if (dtype != DType.F32) throw new IllegalArgumentException("tensor '" + name + "' holds " + dtype + ", not F32");
        if (size > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor '" + name + "' too large for a Java array");
        return segment().asSlice(0, size * 4).toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Copies float values in. */
    public Tensor copyFrom(float[] values) {
        if (values.length != size) throw new IllegalArgumentException(values.length + " values for tensor '" + name + "' " + Shape.str(shape));
        MemorySegment.copy(values, 0, segment(), ValueLayout.JAVA_FLOAT, 0, values.length);
        return this;
    }

    /** Sets every byte to zero. */
    public Tensor zero() {
        segment().asSlice(0, size * dtype.bytes).fill((byte) 0);
        return this;
    }

    public boolean isOpen() {
        return data.scope().isAlive();
    }

    /** Frees the memory when this tensor owns it; a no-op for views and arena-owned tensors. */
    @Override
    public void close() {
        if (ownArena != null && ownArena.scope().isAlive()) ownArena.close();
    }

    @Override
    public String toString() {
        return "Tensor[" + name + " " + dtype + " " + Shape.str(shape) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this) ^ Arrays.hashCode(shape);
    }
}
