package dev.shears.engine.kernels.simd;

import dev.shears.engine.simd.SimdProbe;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species every non-GEMM SIMD twin uses: the probe's width when SIMD is enabled, else
 * the preferred one (tests load the SIMD twins under {@code -Dshears.simd=off} too). Loaded only
 * by classes of this package, so scalar runs never touch the incubator module.
 */
final class KernelSpecies {
    private KernelSpecies() {}

    static final VectorSpecies<Float> FLOAT = SimdProbe.decision().enabled()
            ? SimdWidth.floatSpecies(SimdProbe.decision().bits()) : FloatVector.SPECIES_PREFERRED;
}
