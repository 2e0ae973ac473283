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

    /**
     * The lanes' sum in lane order. {@code reduceLanes(ADD)} may add in another order once C2 has
     * compiled the caller than before, so a run's result would depend on JIT timing; this keeps
     * "same seed, same threads, same bits" (TrainerTest's resume check pins it).
     */
    static float sumLanes(FloatVector v) {
        // lane(i), not toArray(): toArray allocated an array per reduction block, most of a step's garbage
        float s = 0f;
        for (int i = 0, n = v.length(); i < n; i++) s += v.lane(i);
        return s;
    }

    /**
     * e^x per lane through StrictMath: the same bits in every JIT tier. {@code lanewise(EXP)} runs
     * a vector math library once compiled and a Java fallback before, which differ in the last bit.
     */
    static FloatVector exp(FloatVector v) {
        float[] lanes = v.toArray();
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) StrictMath.exp(lanes[i]);
        return FloatVector.fromArray(v.species(), lanes, 0);
    }
}
