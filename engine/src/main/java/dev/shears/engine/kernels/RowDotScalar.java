package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The scalar spec of {@link RowDotKernel}: one float dot product per C entry, added to C. Pinned by RowDotTest. */
public final class RowDotScalar implements RowDotKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void accumulate(int m, int n, int k, MemorySegment a, long aOffset, int lda,
                           MemorySegment b, long bOffset, int ldb, MemorySegment c, long cOffset, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                long ai = aOffset + (long) i * lda, bj = bOffset + (long) j * ldb;
                for (int p = 0; p < k; p++) s += a.getAtIndex(F, ai + p) * b.getAtIndex(F, bj + p);
                long at = cOffset + (long) i * ldc + j;
                c.setAtIndex(F, at, c.getAtIndex(F, at) + s);
            }
        }
    }
}
