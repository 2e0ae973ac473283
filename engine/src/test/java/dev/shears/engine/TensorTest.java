package dev.shears.engine;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void allocatesZeroedAndRoundTripsValues() {
        try (Tensor t = Tensor.allocate(DType.F32, 2, 3)) {
            assertEquals(6, t.size());
            for (int i = 0; i < 6; i++) assertEquals(0f, t.get(i));
            t.copyFrom(new float[] {1, 2, 3, 4, 5, 6});
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
            Tensor r = t.reshape(3, 2);
            assertEquals(4f, r.get(3));
            assertArrayEquals(new int[] {3, 2}, r.shape());
        }
    }

    @Test
    void useAfterCloseIsAClearError() {
        Tensor t = Tensor.of(new float[] {1, 2}, 2);
        t.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.get(0));
        assertTrue(e.getMessage().contains("used after its memory was closed"), e.getMessage());
    }

    @Test
    void workspaceFreesEverythingAtOnce() {
        Tensor a, b;
        try (Workspace ws = new Workspace("test")) {
            a = ws.floats("a", 4);
            b = ws.allocate("labels", DType.I32, 3);
            b.setInt(2, 7);
            assertEquals(7, b.getInt(2));
            assertEquals(4 * 4 + 3 * 4, ws.bytes());
        }
        assertFalse(a.isOpen());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.getInt(0));
        assertTrue(e.getMessage().contains("'labels'"), e.getMessage());
    }

    @Test
    void shapeErrorsNameBothShapes() {
        try (Tensor t = Tensor.allocate(DType.F32, 2, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
            assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(4, 2)"), e.getMessage());
            IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> t.getInt(0));
            assertTrue(w.getMessage().contains("F32"), w.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> t.get(6));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shape.requireSame("conv1 input", new int[] {1, 3, 32, 32}, new int[] {1, 1, 28, 28}));
        assertTrue(e.getMessage().contains("(1, 3, 32, 32)") && e.getMessage().contains("(1, 1, 28, 28)"));
    }

    @Test
    void uint8TensorsHoldBytes() {
        try (Tensor t = Tensor.allocate(DType.U8, 3)) {
            t.setByte(1, 255);
            assertEquals(255, t.getByte(1));
            assertEquals(0, t.getByte(0));
        }
    }
}
