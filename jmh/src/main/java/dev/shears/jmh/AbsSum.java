package dev.shears.jmh;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Placeholder: scalar sum of |w| (replaced by the engine's AbsKeys kernel). */
final class AbsSum {
    private AbsSum() {}

    static double sum(MemorySegment s, long from, long to) {
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        long i = from;
        for (; i + 4 <= to; i += 4) {
            a0 += Math.abs(s.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            a1 += Math.abs(s.getAtIndex(ValueLayout.JAVA_FLOAT, i + 1));
            a2 += Math.abs(s.getAtIndex(ValueLayout.JAVA_FLOAT, i + 2));
            a3 += Math.abs(s.getAtIndex(ValueLayout.JAVA_FLOAT, i + 3));
        }
        for (; i < to; i++) a0 += Math.abs(s.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        return (double) a0 + a1 + a2 + a3;
    }
}
