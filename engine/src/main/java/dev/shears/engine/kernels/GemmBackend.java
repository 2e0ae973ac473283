package dev.shears.engine.kernels;

/** A GEMM implementation that can be selected with {@code -Dshears.gemm=NAME}. */
public interface GemmBackend extends GemmKernel {
    /** The name used by {@code -Dshears.gemm} and printed by {@code shears info}. */
    String name();
}
