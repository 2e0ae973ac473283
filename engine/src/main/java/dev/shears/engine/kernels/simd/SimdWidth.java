package dev.shears.engine.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The only bridge from the probe into the incubator package: the preferred width, and the float
 * species for a chosen width. Everything in this package may load jdk.incubator.vector classes;
 * nothing outside it does. Pinned by SimdProbeTest.
 */
public final class SimdWidth {
    private SimdWidth() {}

    public static int preferredBits() {
        return VectorShape.preferredShape().vectorBitSize();
    }

    public static VectorSpecies<Float> floatSpecies(int bits) {
        return switch (bits) {
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            case 512 -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("no float species of " + bits + " bits");
        };
    }
}
