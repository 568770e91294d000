/* SPDX-License-Identifier: BSD-3-Clause */
/* Grid-stride kernels of the CUDA backend. Each kernel only loops and reduces: the per-voxel
 * maths is the BCDI_HD code of voxel_ops.h / philox.h, shared with the CPU backend. */
#include "cuda_kernels.h"

#include <cub/block/block_reduce.cuh>

#include <math.h>

namespace
{

constexpr int kThreads = 256;
/* Element-wise kernels: enough blocks per run to fill any current GPU, grid-stride beyond. */
constexpr size_t kMaxElementwiseBlocks = 8192;
/* Reducing kernels: at most this many partials per run (and per term). */
constexpr size_t kMaxReduceBlocks = 512;
/* chunks travel in gridDim.y */
static_assert(kMaxElementwiseBlocks <= 65535 && kMaxReduceBlocks <= 65535, "grid y limit");
/* Voxels per thread we aim for before adding reduce blocks. */
constexpr size_t kReduceVoxelsPerThread = 8;

/* K values of type T reduced together (the fused terms of one thread / block). */
template <typename T, int K> struct Acc {
    T v[K];
};

struct SumOp {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

template <typename T, int K, typename Op> struct AccOp {
    Op op;
    __device__ __forceinline__ Acc<T, K> operator()(const Acc<T, K> &a, const Acc<T, K> &b) const
    {
        Acc<T, K> r;
#pragma unroll
        for (int k = 0; k < K; ++k)
            r.v[k] = op(a.v[k], b.v[k]);
        return r;
    }
};

template <typename T, int K> __device__ __forceinline__ Acc<T, K> acc_fill(T value)
{
    Acc<T, K> a;
#pragma unroll
    for (int k = 0; k < K; ++k)
        a.v[k] = value;
    return a;
}

/* Block-wide reduction of every thread's `mine`; thread 0 writes the K results to `dst`.
 * CUB's block reduction has a fixed order for a fixed block size, hence deterministic. */
template <typename T, int K, typename Op>
__device__ __forceinline__ void block_reduce_store(const Acc<T, K> &mine, T *dst, Op op)
{
    using Reduce = cub::BlockReduce<Acc<T, K>, kThreads>;
    __shared__ typename Reduce::TempStorage storage;
    Acc<T, K> total = Reduce(storage).Reduce(mine, AccOp<T, K, Op>{op});
    if (threadIdx.x == 0) {
#pragma unroll
        for (int k = 0; k < K; ++k)
            dst[k] = total.v[k];
    }
}

/* Per-run kernels run on a (batch, chunks) grid. The run is blockIdx.x, the fastest-scheduled
 * index, so the blocks of all runs over one chunk of voxels are resident together and the
 * shared arrays (amplitude, mask) are read from DRAM about once, then from L2. */
__device__ __forceinline__ unsigned run_index()
{
    return blockIdx.x;
}
__device__ __forceinline__ unsigned chunk_index()
{
    return blockIdx.y;
}
__device__ __forceinline__ unsigned chunk_count()
{
    return gridDim.y;
}

/* Slot of this block's partials: [run][chunk][K]. */
template <int K> __device__ __forceinline__ size_t partial_slot()
{
    return ((size_t)run_index() * chunk_count() + chunk_index()) * K;
}

/* Second pass: one block per run sums that run's `blocks` partials. Thread t takes partials
 * t, t + kThreads, ... in increasing order, then the block reduces: a fixed order. */
template <typename T, int K, typename Op>
__global__ void __launch_bounds__(kThreads)
    finish_kernel(const T *partials, unsigned blocks, T identity, T *out, Op op)
{
    const T *run_partials = partials + (size_t)blockIdx.x * blocks * K;
    Acc<T, K> mine = acc_fill<T, K>(identity);
    for (unsigned b = threadIdx.x; b < blocks; b += kThreads) {
#pragma unroll
        for (int k = 0; k < K; ++k)
            mine.v[k] = op(mine.v[k], run_partials[(size_t)b * K + k]);
    }
    block_reduce_store<T, K, Op>(mine, out + (size_t)blockIdx.x * K, op);
}

/* Complex values move as one 8-byte access (backend arrays come from cudaMalloc, and a
 * bcdi_cf array is 8-byte aligned at every element). */
__device__ __forceinline__ bcdi_cf load_cf(const bcdi_cf *p)
{
    float2 v = *reinterpret_cast<const float2 *>(p);
    return bcdi_cf_make(v.x, v.y);
}
__device__ __forceinline__ void store_cf(bcdi_cf *p, bcdi_cf c)
{
    *reinterpret_cast<float2 *>(p) = make_float2(c.re, c.im);
}

/* Grid-stride loop over the voxels of one run. */
__device__ __forceinline__ size_t first_index()
{
    return (size_t)chunk_index() * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ size_t grid_step()
{
    return (size_t)chunk_count() * blockDim.x;
}

/* ---- fused kernels ----------------------------------------------------------------------------
 * run_index() picks the volume; with kTerms the per-thread sums go through block_reduce_store. */
template <bool kTerms>
__global__ void __launch_bounds__(kThreads)
    modulus_project_kernel(bcdi_cf *psi, const float *amplitude, const uint8_t *mask, size_t n,
                           float inv_n, double *partials)
{
    bcdi_cf *psi_run = psi + (size_t)run_index() * n;
    Acc<double, BCDI_FOURIER_TERMS> terms = acc_fill<double, BCDI_FOURIER_TERMS>(0.0);
    for (size_t i = first_index(); i < n; i += grid_step())
        store_cf(psi_run + i, bcdi_vox_modulus_project(load_cf(psi_run + i), amplitude[i], mask[i],
                                                       inv_n, kTerms ? terms.v : nullptr));
    if constexpr (kTerms)
        block_reduce_store<double, BCDI_FOURIER_TERMS>(
            terms, partials + partial_slot<BCDI_FOURIER_TERMS>(), SumOp{});
}

template <bool kTerms>
__global__ void __launch_bounds__(kThreads)
    update_kernel(bcdi_cf *rho, const bcdi_cf *proj, const uint8_t *support, size_t n,
                  bcdi_update_coeffs coeffs, double *partials)
{
    const size_t offset = (size_t)run_index() * n;
    Acc<double, BCDI_UPDATE_TERMS> terms = acc_fill<double, BCDI_UPDATE_TERMS>(0.0);
    for (size_t i = first_index(); i < n; i += grid_step()) {
        const size_t at = offset + i;
        store_cf(rho + at, bcdi_vox_update(load_cf(rho + at), load_cf(proj + at), support[at],
                                           &coeffs, kTerms ? terms.v : nullptr));
    }
    if constexpr (kTerms)
        block_reduce_store<double, BCDI_UPDATE_TERMS>(
            terms, partials + partial_slot<BCDI_UPDATE_TERMS>(), SumOp{});
}

template <bool kTerms>
__global__ void __launch_bounds__(kThreads)
    pc_modulus_project_kernel(bcdi_cf *psi, const float *amplitude, const uint8_t *mask,
                              const bcdi_cf *model, size_t n, float inv_n, float model_floor,
                              double *partials)
{
    bcdi_cf *psi_run = psi + (size_t)run_index() * n;
    const bcdi_cf *model_run = model + (size_t)run_index() * n;
    Acc<double, BCDI_FOURIER_TERMS> terms = acc_fill<double, BCDI_FOURIER_TERMS>(0.0);
    for (size_t i = first_index(); i < n; i += grid_step())
        store_cf(psi_run + i,
                 bcdi_vox_pc_modulus_project(load_cf(psi_run + i), amplitude[i],
                                             load_cf(model_run + i).re, mask[i], inv_n,
                                             model_floor, kTerms ? terms.v : nullptr));
    if constexpr (kTerms)
        block_reduce_store<double, BCDI_FOURIER_TERMS>(
            terms, partials + partial_slot<BCDI_FOURIER_TERMS>(), SumOp{});
}

/* ---- element-wise kernels -------------------------------------------------------------------- */
__global__ void __launch_bounds__(kThreads)
    random_start_kernel(bcdi_cf *rho, const uint8_t *support, size_t n, uint64_t seed,
                        uint64_t first_run)
{
    const size_t offset = (size_t)run_index() * n;
    const uint64_t run = first_run + run_index();
    for (size_t i = first_index(); i < n; i += grid_step())
        store_cf(rho + offset + i, bcdi_vox_random_start(seed, run, i, support[offset + i]));
}

__global__ void __launch_bounds__(kThreads)
    random_uniform_kernel(float *out, size_t count, uint64_t seed, uint64_t stream, int word)
{
    for (size_t i = first_index(); i < count; i += grid_step())
        out[i] = bcdi_u32_to_unit(bcdi_philox_at(seed, stream, i).v[word]);
}

__global__ void __launch_bounds__(kThreads)
    cf_abs_kernel(float *out, const bcdi_cf *in, size_t count)
{
    for (size_t i = first_index(); i < count; i += grid_step())
        out[i] = bcdi_cf_abs(load_cf(in + i));
}

__global__ void __launch_bounds__(kThreads)
    cf_scale_kernel(bcdi_cf *x, size_t n, const bcdi_cf *factors)
{
    bcdi_cf *x_run = x + (size_t)run_index() * n;
    const bcdi_cf factor = factors[run_index()];
    for (size_t i = first_index(); i < n; i += grid_step())
        store_cf(x_run + i, bcdi_cf_mul(load_cf(x_run + i), factor));
}

__global__ void __launch_bounds__(kThreads)
    coherent_intensity_kernel(bcdi_cf *out, const bcdi_cf *psi, size_t count)
{
    for (size_t i = first_index(); i < count; i += grid_step())
        store_cf(out + i, bcdi_vox_coherent_intensity(load_cf(psi + i)));
}

__global__ void __launch_bounds__(kThreads)
    spectrum_product_kernel(bcdi_cf *x, const bcdi_cf *y, size_t count, int conjugate_y,
                            float scale)
{
    for (size_t i = first_index(); i < count; i += grid_step())
        store_cf(x + i,
                 bcdi_vox_spectrum_product(load_cf(x + i), load_cf(y + i), conjugate_y, scale));
}

__global__ void __launch_bounds__(kThreads)
    rl_ratio_kernel(bcdi_cf *model, const float *amplitude, const uint8_t *mask, size_t n,
                    float model_floor)
{
    bcdi_cf *model_run = model + (size_t)run_index() * n;
    for (size_t i = first_index(); i < n; i += grid_step())
        store_cf(model_run + i,
                 bcdi_cf_make(bcdi_vox_rl_ratio(amplitude[i], load_cf(model_run + i).re, mask[i],
                                                model_floor),
                              0.0f));
}

__global__ void __launch_bounds__(kThreads)
    threshold_kernel(uint8_t *support, const float *value, size_t n, const float *thresholds,
                     int only_shrink)
{
    const size_t offset = (size_t)run_index() * n;
    const float threshold = thresholds[run_index()];
    for (size_t i = first_index(); i < n; i += grid_step())
        support[offset + i] =
            bcdi_vox_threshold(value[offset + i], threshold, support[offset + i], only_shrink);
}

/* Taps travel by value as a kernel parameter: no shared symbol, so concurrent blurs on
 * different streams cannot see each other's weights. */
struct BlurTaps {
    float w[2 * BCDI_BLUR_MAX_RADIUS + 1];
};

__global__ void __launch_bounds__(kThreads)
    blur_axis_kernel(float *dst, const float *src, long n1, long n2, int axis, BlurTaps taps,
                     int radius, size_t n)
{
    /* generic pointers to shared memory are fine for the shared tap function */
    __shared__ float weights[2 * BCDI_BLUR_MAX_RADIUS + 1];
    for (int k = threadIdx.x; k < 2 * radius + 1; k += blockDim.x)
        weights[k] = taps.w[k];
    __syncthreads();

    const size_t offset = (size_t)run_index() * n;
    const float *volume = src + offset;
    const long n0 = (long)(n / ((size_t)n1 * (size_t)n2));
    for (size_t i = first_index(); i < n; i += grid_step()) {
        const long flat = (long)i;
        const long k2 = flat % n2;
        const long k1 = (flat / n2) % n1;
        const long k0 = flat / (n1 * n2);
        long coord, stride, len;
        if (axis == 0) {
            coord = k0, stride = n1 * n2, len = n0;
        } else if (axis == 1) {
            coord = k1, stride = n2, len = n1;
        } else {
            coord = k2, stride = 1, len = n2;
        }
        const float *line = volume + (flat - coord * stride);
        dst[offset + i] = bcdi_vox_blur_tap(line, stride, len, coord, weights, radius);
    }
}

/* ---- plain reductions ------------------------------------------------------------------------ */
__global__ void __launch_bounds__(kThreads) sum_kernel(const float *x, size_t n, double *partials)
{
    const float *x_run = x + (size_t)run_index() * n;
    Acc<double, 1> mine = acc_fill<double, 1>(0.0);
    for (size_t i = first_index(); i < n; i += grid_step())
        mine.v[0] += (double)x_run[i];
    block_reduce_store<double, 1>(mine, partials + partial_slot<1>(), SumOp{});
}

__global__ void __launch_bounds__(kThreads) max_kernel(const float *x, size_t n, float *partials)
{
    const float *x_run = x + (size_t)run_index() * n;
    Acc<float, 1> mine = acc_fill<float, 1>(-INFINITY);
    for (size_t i = first_index(); i < n; i += grid_step())
        mine.v[0] = fmaxf(mine.v[0], x_run[i]);
    block_reduce_store<float, 1>(mine, partials + partial_slot<1>(), MaxOp{});
}

__global__ void __launch_bounds__(kThreads)
    count_nonzero_kernel(const uint8_t *x, size_t n, unsigned long long *partials)
{
    const uint8_t *x_run = x + (size_t)run_index() * n;
    Acc<unsigned long long, 1> mine = acc_fill<unsigned long long, 1>(0ull);
    for (size_t i = first_index(); i < n; i += grid_step())
        mine.v[0] += x_run[i] != 0;
    block_reduce_store<unsigned long long, 1>(mine, partials + partial_slot<1>(), SumOp{});
}

/* ---- launch helpers -------------------------------------------------------------------------- */
dim3 run_grid(size_t batch, unsigned chunks)
{
    return dim3((unsigned)batch, chunks, 1);
}

dim3 elementwise_grid(size_t n, size_t batch)
{
    size_t chunks = (n + kThreads - 1) / kThreads;
    if (chunks > kMaxElementwiseBlocks) chunks = kMaxElementwiseBlocks;
    if (chunks == 0) chunks = 1;
    return run_grid(batch, (unsigned)chunks);
}

cudaError_t check_batch(size_t batch)
{
    return batch > BCDI_CUDA_MAX_BATCH ? cudaErrorInvalidValue : cudaSuccess;
}

template <typename T, int K, typename Op>
cudaError_t finish(cudaStream_t stream, const T *partials, unsigned blocks, size_t batch,
                   T identity, T *out, Op op)
{
    finish_kernel<T, K, Op>
        <<<(unsigned)batch, kThreads, 0, stream>>>(partials, blocks, identity, out, op);
    return cudaGetLastError();
}

} // namespace

/* ---- C launchers ------------------------------------------------------------------------------
 */
extern "C" {

unsigned bcdi_cuda_reduce_blocks(size_t n)
{
    size_t blocks =
        (n + kThreads * kReduceVoxelsPerThread - 1) / (kThreads * kReduceVoxelsPerThread);
    if (blocks > kMaxReduceBlocks) blocks = kMaxReduceBlocks;
    if (blocks == 0) blocks = 1;
    return (unsigned)blocks;
}

cudaError_t bcdi_cuda_modulus_project(cudaStream_t stream, bcdi_cf *psi, const float *amplitude,
                                      const uint8_t *mask, size_t n, size_t batch, float inv_n,
                                      double *partials, double *out)
{
    if (batch == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    if (!partials || !out) {
        modulus_project_kernel<false><<<elementwise_grid(n, batch), kThreads, 0, stream>>>(
            psi, amplitude, mask, n, inv_n, nullptr);
        return cudaGetLastError();
    }
    const unsigned blocks = bcdi_cuda_reduce_blocks(n);
    modulus_project_kernel<true><<<run_grid(batch, blocks), kThreads, 0, stream>>>(
        psi, amplitude, mask, n, inv_n, partials);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    return finish<double, BCDI_FOURIER_TERMS>(stream, partials, blocks, batch, 0.0, out, SumOp{});
}

cudaError_t bcdi_cuda_update(cudaStream_t stream, bcdi_cf *rho, const bcdi_cf *proj,
                             const uint8_t *support, size_t n, size_t batch,
                             bcdi_update_coeffs coeffs, double *partials, double *out)
{
    if (batch == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    if (!partials || !out) {
        update_kernel<false><<<elementwise_grid(n, batch), kThreads, 0, stream>>>(
            rho, proj, support, n, coeffs, nullptr);
        return cudaGetLastError();
    }
    const unsigned blocks = bcdi_cuda_reduce_blocks(n);
    update_kernel<true>
        <<<run_grid(batch, blocks), kThreads, 0, stream>>>(rho, proj, support, n, coeffs, partials);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    return finish<double, BCDI_UPDATE_TERMS>(stream, partials, blocks, batch, 0.0, out, SumOp{});
}

cudaError_t bcdi_cuda_random_start(cudaStream_t stream, bcdi_cf *rho, const uint8_t *support,
                                   size_t n, size_t batch, uint64_t seed, uint64_t first_run)
{
    if (batch == 0 || n == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    random_start_kernel<<<elementwise_grid(n, batch), kThreads, 0, stream>>>(rho, support, n, seed,
                                                                             first_run);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_random_uniform(cudaStream_t stream, float *out, size_t count, uint64_t seed,
                                     uint64_t philox_stream, int word)
{
    if (count == 0) return cudaSuccess;
    if (word < 0 || word > 3) return cudaErrorInvalidValue;
    random_uniform_kernel<<<elementwise_grid(count, 1), kThreads, 0, stream>>>(out, count, seed,
                                                                               philox_stream, word);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_cf_abs(cudaStream_t stream, float *out, const bcdi_cf *in, size_t count)
{
    if (count == 0) return cudaSuccess;
    cf_abs_kernel<<<elementwise_grid(count, 1), kThreads, 0, stream>>>(out, in, count);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_cf_scale(cudaStream_t stream, bcdi_cf *x, size_t n, size_t batch,
                               const bcdi_cf *factors)
{
    if (batch == 0 || n == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    cf_scale_kernel<<<elementwise_grid(n, batch), kThreads, 0, stream>>>(x, n, factors);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_coherent_intensity(cudaStream_t stream, bcdi_cf *out, const bcdi_cf *psi,
                                         size_t count)
{
    if (count == 0) return cudaSuccess;
    coherent_intensity_kernel<<<elementwise_grid(count, 1), kThreads, 0, stream>>>(out, psi,
                                                                                   count);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_spectrum_product(cudaStream_t stream, bcdi_cf *x, const bcdi_cf *y,
                                       size_t count, int conjugate_y, float scale)
{
    if (count == 0) return cudaSuccess;
    spectrum_product_kernel<<<elementwise_grid(count, 1), kThreads, 0, stream>>>(
        x, y, count, conjugate_y, scale);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_pc_modulus_project(cudaStream_t stream, bcdi_cf *psi, const float *amplitude,
                                         const uint8_t *mask, const bcdi_cf *model, size_t n,
                                         size_t batch, float inv_n, float model_floor,
                                         double *partials, double *out)
{
    if (batch == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    if (!partials || !out) {
        pc_modulus_project_kernel<false><<<elementwise_grid(n, batch), kThreads, 0, stream>>>(
            psi, amplitude, mask, model, n, inv_n, model_floor, nullptr);
        return cudaGetLastError();
    }
    const unsigned blocks = bcdi_cuda_reduce_blocks(n);
    pc_modulus_project_kernel<true><<<run_grid(batch, blocks), kThreads, 0, stream>>>(
        psi, amplitude, mask, model, n, inv_n, model_floor, partials);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    return finish<double, BCDI_FOURIER_TERMS>(stream, partials, blocks, batch, 0.0, out, SumOp{});
}

cudaError_t bcdi_cuda_rl_ratio(cudaStream_t stream, bcdi_cf *model, const float *amplitude,
                               const uint8_t *mask, size_t n, size_t batch, float model_floor)
{
    if (batch == 0 || n == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    rl_ratio_kernel<<<elementwise_grid(n, batch), kThreads, 0, stream>>>(model, amplitude, mask, n,
                                                                         model_floor);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_threshold(cudaStream_t stream, uint8_t *support, const float *value, size_t n,
                                size_t batch, const float *thresholds, int only_shrink)
{
    if (batch == 0 || n == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    threshold_kernel<<<elementwise_grid(n, batch), kThreads, 0, stream>>>(support, value, n,
                                                                          thresholds, only_shrink);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_blur_axis(cudaStream_t stream, float *dst, const float *src,
                                const size_t shape[3], size_t batch, int axis, const float *weights,
                                int radius)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    if (batch == 0 || n == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    if (axis < 0 || axis > 2 || radius < 0 || radius > BCDI_BLUR_MAX_RADIUS)
        return cudaErrorInvalidValue;
    BlurTaps taps;
    for (int k = 0; k < 2 * BCDI_BLUR_MAX_RADIUS + 1; ++k)
        taps.w[k] = k <= 2 * radius ? weights[k] : 0.0f;
    blur_axis_kernel<<<elementwise_grid(n, batch), kThreads, 0, stream>>>(
        dst, src, (long)shape[1], (long)shape[2], axis, taps, radius, n);
    return cudaGetLastError();
}

cudaError_t bcdi_cuda_sum(cudaStream_t stream, const float *x, size_t n, size_t batch,
                          double *partials, double *out)
{
    if (batch == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    const unsigned blocks = bcdi_cuda_reduce_blocks(n);
    sum_kernel<<<run_grid(batch, blocks), kThreads, 0, stream>>>(x, n, partials);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    return finish<double, 1>(stream, partials, blocks, batch, 0.0, out, SumOp{});
}

cudaError_t bcdi_cuda_max(cudaStream_t stream, const float *x, size_t n, size_t batch,
                          float *partials, float *out)
{
    if (batch == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    const unsigned blocks = bcdi_cuda_reduce_blocks(n);
    max_kernel<<<run_grid(batch, blocks), kThreads, 0, stream>>>(x, n, partials);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    return finish<float, 1>(stream, partials, blocks, batch, -INFINITY, out, MaxOp{});
}

cudaError_t bcdi_cuda_count_nonzero(cudaStream_t stream, const uint8_t *x, size_t n, size_t batch,
                                    unsigned long long *partials, unsigned long long *out)
{
    if (batch == 0) return cudaSuccess;
    cudaError_t err = check_batch(batch);
    if (err != cudaSuccess) return err;
    const unsigned blocks = bcdi_cuda_reduce_blocks(n);
    count_nonzero_kernel<<<run_grid(batch, blocks), kThreads, 0, stream>>>(x, n, partials);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    return finish<unsigned long long, 1>(stream, partials, blocks, batch, 0ull, out, SumOp{});
}

} // extern "C"
