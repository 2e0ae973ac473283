/*
 * Compiles our .cu kernels as plain C++ for the host, for tests on machines without a GPU: __global__
 * and __device__ vanish, blockIdx/threadIdx/blockDim/gridDim are globals the emulator sets, __shared__
 * arrays become statics, __syncthreads does nothing. Sound only because the emulator (HostKernels) runs
 * the threads of a block one after another, and runs the kernels that cooperate through shared memory
 * with one thread per block (their loops stride by blockDim, so one thread does all of the work).
 * Races, launch limits and the PTX itself are left to the GPU run. Not a CUDA emulator in general.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

struct hostcuda_dim3 { unsigned x, y, z; };
static hostcuda_dim3 blockIdx, threadIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
static inline void __syncthreads() {}
static inline float __int_as_float(unsigned bits) { float f; memcpy(&f, &bits, 4); return f; }
