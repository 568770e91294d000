/* SPDX-License-Identifier: BSD-3-Clause */
/* The CPU backend's fused ops (ops->iterate, ops->shrink_wrap): the element-wise work runs while
 * the data is in cache, instead of as separate passes over whole volumes between the passes of a
 * 3D FFT. The per-voxel maths are the functions of voxel_ops.h, exactly as in the unfused ops.
 *
 * One iteration of a batch of [n0][n1][n2] volumes, P = n1 * n2 voxels per plane:
 *  A. plane by plane, forward 2D transforms (axes 1, 2): rho -> psi;
 *  B. for blocks of W consecutive pencils along axis 0 (W consecutive voxels of every plane, so
 *     each row of a block is contiguous): gather into a [n0][W] buffer, forward 1D transforms,
 *     modulus projection with its sums, inverse 1D transforms, scatter back into psi;
 *  C. plane by plane, inverse 2D transform psi -> a plane of per-thread scratch, then the
 *     real-space update of rho from it, with its sums.
 * Phase B's gather keeps its rows out of the power-of-two strides that make strided pencils
 * thrash the caches (1D plans reading and writing psi at stride P directly measured 3x slower at
 * 256^3); W is chosen so that a block fills half the L1 data cache.
 * Traffic per voxel: A 16 B, B 21 B, C 25 B: 62 B, against 32 B per voxel per pass of the two
 * transforms of a 3D pair that FFTW makes in at least two passes each (docs/algorithms.md).
 *
 * Sums go into fixed partials (one per block in B, one per plane in C), added in task order, so
 * results depend neither on the thread count nor on which thread ran a task. That lets the
 * loops hand out tasks dynamically: a thread whose core is shared with another process takes
 * fewer planes instead of holding every barrier up (static shares made two threads no faster
 * than one beside a busy process). */
#include "backend/cpu/cpu_private.h"
#include "core/clock.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The hot loops are built twice, for AVX2 and for the baseline x86-64 (SSE2), and the loader
 * picks one (GCC function multiversioning). AVX2 without FMA does the same IEEE operations per
 * voxel, so results are identical either way (the bitwise shrink-wrap test runs whichever this
 * machine picks against the baseline composed ops). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BCDI_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BCDI_SIMD_CLONES
#endif

/* The thread count by measurement. Three barriers per run and iteration are cheap on idle cores
 * but, on cores shared with other processes, each waits for whichever thread the scheduler has
 * just taken off its core; there one thread can beat two. Candidates are the backend's count,
 * halved down to 1; iterations without sums are timed (wall clock) into a moving average per
 * candidate, the best one runs, and now and then an iteration tries another candidate, so the
 * choice follows the machine's load: every 16th iteration at first, the gap doubling (to 512)
 * while the best stays the best, so a quiet machine loses under 0.5% to the probes. Results do
 * not depend on the count (per-task partials). */
#define THREAD_CANDIDATES 8
#define PROBE_FIRST 16
#define PROBE_LAST 512
typedef struct thread_tuner {
    int count, candidates[THREAD_CANDIDATES];
    double average[THREAD_CANDIDATES]; /* seconds per iteration, 0 = not measured yet */
    int best, probe;
    long until_probe, gap;
} thread_tuner;

static void tuner_init(thread_tuner *t, int threads)
{
    memset(t, 0, sizeof *t);
    for (int n = threads; n >= 1 && t->count < THREAD_CANDIDATES; n /= 2)
        t->candidates[t->count++] = n;
    t->gap = t->until_probe = PROBE_FIRST;
}

/* The candidate (index) for this iteration: an unmeasured one first, else the best, or when a
 * probe is due the next other one in turn. */
static int tuner_pick(thread_tuner *t)
{
    for (int k = 0; k < t->count; ++k)
        if (t->average[k] == 0.0) return k;
    if (t->count > 1 && --t->until_probe <= 0) {
        t->probe = (t->probe + 1) % t->count;
        if (t->probe == t->best) t->probe = (t->probe + 1) % t->count;
        return t->probe;
    }
    return t->best;
}

static void tuner_record(thread_tuner *t, int k, double seconds)
{
    t->average[k] = t->average[k] == 0.0 ? seconds : 0.7 * t->average[k] + 0.3 * seconds;
    int previous = t->best;
    for (int j = 0; j < t->count; ++j)
        if (t->average[j] > 0.0 && t->average[j] < t->average[t->best]) t->best = j;
    if (t->until_probe <= 0) { /* a probe just ran: back off while the best holds */
        t->gap =
            t->best == previous ? (t->gap * 2 < PROBE_LAST ? t->gap * 2 : PROBE_LAST) : PROBE_FIRST;
        t->until_probe = t->gap;
    }
}

struct cpu_fused {
    unsigned flags;
    int threads; /* the most threads (scratch is sized for them) */
    thread_tuner tuner;
    size_t n0, plane, block, blocks;           /* n0, P, W, ceil(P / W) */
    int align_rho, align_psi;                  /* alignments the plane plans were made for */
    fftwf_plan plane_forward;                  /* one plane, out of place, rho -> psi */
    fftwf_plan plane_inverse;                  /* one plane, out of place, psi -> thread scratch */
    fftwf_plan pencil_forward, pencil_inverse; /* in place on a [n0][W] buffer */
    bcdi_cf *scratch;                          /* per thread: a plane, then a block */
    size_t scratch_stride;                     /* complex values per thread, a multiple of 8 */
    double *fourier_partials, *update_partials;
};

/* Bytes of a per-core cache level (1: data, 2) from sysconf, else /sys, else `fallback`. */
static size_t cache_bytes(int level, size_t fallback)
{
    long bytes = sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE : _SC_LEVEL2_CACHE_SIZE);
    if (bytes > 0) return (size_t)bytes;
    /* index0 is the L1 data cache, index2 the L2 on Linux's usual numbering */
    FILE *f = fopen(level == 1 ? "/sys/devices/system/cpu/cpu0/cache/index0/size"
                               : "/sys/devices/system/cpu/cpu0/cache/index2/size",
                    "r");
    if (f) {
        long size = 0;
        char unit = 0;
        int got = fscanf(f, "%ld%c", &size, &unit);
        fclose(f);
        if (got >= 1 && size > 0)
            return (size_t)size * (unit == 'K' ? 1024u : unit == 'M' ? 1048576u : 1u);
    }
    return fallback;
}

/* Columns per block: `bytes_per_row_voxel` bytes per voxel of each of `rows` rows fill half of
 * `cache` bytes; a multiple of 16 (whole cache lines), at least 16, at most the plane (rounded
 * up to 16). */
static size_t block_columns(size_t cache, size_t rows, size_t bytes_per_row_voxel, size_t plane)
{
    size_t columns = cache / 2 / (rows * bytes_per_row_voxel);
    columns -= columns % 16;
    if (columns < 16) columns = 16;
    size_t whole = (plane + 15) / 16 * 16;
    return columns < whole ? columns : whole;
}

void cpu_fused_destroy(cpu_fused *f)
{
    if (!f) return;
    fftwf_plan plans[4] = {f->plane_forward, f->plane_inverse, f->pencil_forward,
                           f->pencil_inverse};
    for (int k = 0; k < 4; ++k)
        if (plans[k]) fftwf_destroy_plan(plans[k]);
    fftwf_free(f->scratch);
    free(f->fourier_partials);
    free(f->update_partials);
    free(f);
}

/* A float pointer with FFTW's alignment class `align` (bytes), inside an aligned allocation. */
static fftwf_complex *with_alignment(bcdi_cf *aligned, int align)
{
    return (fftwf_complex *)((char *)aligned + align);
}

/* Plane plans for arrays of the given alignments, made on scratch planes of those alignments
 * (measured planning overwrites its arrays). One thread each: the loops over planes are ours. */
static bcdi_status plan_planes(cpu_fused *f, const size_t shape[3], int align_rho, int align_psi)
{
    if (f->plane_forward) fftwf_destroy_plan(f->plane_forward);
    if (f->plane_inverse) fftwf_destroy_plan(f->plane_inverse);
    f->plane_forward = f->plane_inverse = NULL;
    bcdi_cf *a = fftwf_malloc((f->plane + 16) * sizeof *a),
            *b = fftwf_malloc((f->plane + 16) * sizeof *b);
    if (!a || !b) {
        fftwf_free(a);
        fftwf_free(b);
        return bcdi_error(BCDI_ERR_NOMEM, "fused iteration: out of memory for planning");
    }
    int dims[2] = {(int)shape[1], (int)shape[2]};
    /* planes sit P complex values apart: if that breaks FFTW's SIMD alignment, plan unaligned */
    unsigned flags = f->flags | ((f->plane * sizeof(bcdi_cf)) % 64 ? FFTW_UNALIGNED : 0);
    fftwf_plan_with_nthreads(1);
    f->plane_forward =
        fftwf_plan_many_dft(2, dims, 1, with_alignment(a, align_rho), NULL, 1, 0,
                            with_alignment(b, align_psi), NULL, 1, 0, FFTW_FORWARD, flags);
    f->plane_inverse = fftwf_plan_many_dft(2, dims, 1, with_alignment(b, align_psi), NULL, 1, 0,
                                           (fftwf_complex *)a, NULL, 1, 0, FFTW_BACKWARD, flags);
    fftwf_free(a);
    fftwf_free(b);
    f->align_rho = align_rho;
    f->align_psi = align_psi;
    if (!f->plane_forward || !f->plane_inverse)
        return bcdi_error(BCDI_ERR_BACKEND, "FFTW could not plan the %zux%zu planes", shape[1],
                          shape[2]);
    return BCDI_OK;
}

static bcdi_status fused_create(bcdi_fft *plan, const bcdi_cf *rho, const bcdi_cf *psi)
{
    bcdi_backend *be = plan->be;
    const size_t *shape = plan->shape;
    cpu_fused *f = calloc(1, sizeof *f);
    if (!f) return bcdi_error(BCDI_ERR_NOMEM, "fused iteration: out of memory");
    f->flags = cpu_planner_flags(be);
    f->threads = be->threads > 0 ? be->threads : 1;
    tuner_init(&f->tuner, f->threads);
    f->n0 = shape[0];
    f->plane = shape[1] * shape[2];
    /* the block of pencils in half the L1 data cache: its 1D transforms run from L1 (measured at
     * 128^3, one thread: phase B 14 ms with W = 16 (16 KiB), 28 ms with W = 32 (the whole
     * 32 KiB L1, whose 64 sets its 256-byte rows share with the amplitudes and twiddles), 20 ms
     * with W = 64 (L2); at 256^3, 143 ms with W = 16 against 188 ms with W = 64) */
    f->block = block_columns(cache_bytes(1, 32 * 1024), f->n0, sizeof(bcdi_cf), f->plane);
    f->blocks = (f->plane + f->block - 1) / f->block;
    f->scratch_stride = (f->plane + f->n0 * f->block + 7) / 8 * 8;
    f->scratch = fftwf_malloc((size_t)f->threads * f->scratch_stride * sizeof(bcdi_cf));
    f->fourier_partials = malloc(plan->batch * f->blocks * BCDI_FOURIER_TERMS * sizeof(double));
    f->update_partials = malloc(plan->batch * f->n0 * BCDI_UPDATE_TERMS * sizeof(double));
    bcdi_status st = BCDI_OK;
    if (!f->scratch || !f->fourier_partials || !f->update_partials)
        st = bcdi_error(BCDI_ERR_NOMEM, "fused iteration: out of memory for %d threads' scratch",
                        f->threads);
    if (st == BCDI_OK && be->fft_measure) cpu_wisdom_before_planning(be);
    if (st == BCDI_OK)
        st = plan_planes(f, shape, fftwf_alignment_of((float *)rho),
                         fftwf_alignment_of((float *)psi));
    if (st == BCDI_OK) {
        int n0 = (int)f->n0, w = (int)f->block;
        fftwf_complex *block = (fftwf_complex *)(f->scratch + f->plane);
        f->pencil_forward = fftwf_plan_many_dft(1, &n0, w, block, NULL, w, 1, block, NULL, w, 1,
                                                FFTW_FORWARD, f->flags);
        f->pencil_inverse = fftwf_plan_many_dft(1, &n0, w, block, NULL, w, 1, block, NULL, w, 1,
                                                FFTW_BACKWARD, f->flags);
        if (!f->pencil_forward || !f->pencil_inverse)
            st = bcdi_error(BCDI_ERR_BACKEND, "FFTW could not plan %d pencils of %d", w, n0);
    }
    if (st == BCDI_OK && be->fft_measure) st = cpu_wisdom_after_planning(be);
    if (st != BCDI_OK) {
        cpu_fused_destroy(f);
        return st;
    }
    plan->fused = f;
    return BCDI_OK;
}

/* Adds each run's partials (in task order) into host_out[run][terms]. */
static void sum_partials(const double *partials, size_t tasks_per_run, size_t batch, int terms,
                         double *host_out)
{
    for (size_t run = 0; run < batch; ++run) {
        double *out = host_out + run * (size_t)terms;
        for (int t = 0; t < terms; ++t)
            out[t] = 0.0;
        const double *p = partials + run * tasks_per_run * (size_t)terms;
        for (size_t k = 0; k < tasks_per_run; ++k)
            for (int t = 0; t < terms; ++t)
                out[t] += p[k * (size_t)terms + (size_t)t];
    }
}

/* The modulus projection of one block row; its sums (if any) in a local accumulator, so they
 * stay in registers. */
BCDI_SIMD_CLONES static void project_row(bcdi_cf *row, const float *amplitude, const uint8_t *mask,
                                         size_t count, float inv_n, double *terms)
{
    if (!terms) {
        for (size_t j = 0; j < count; ++j)
            row[j] = bcdi_vox_modulus_project(row[j], amplitude[j], mask[j], inv_n, NULL);
        return;
    }
    double local[BCDI_FOURIER_TERMS];
    memcpy(local, terms, sizeof local);
    for (size_t j = 0; j < count; ++j)
        row[j] = bcdi_vox_modulus_project(row[j], amplitude[j], mask[j], inv_n, local);
    memcpy(terms, local, sizeof local);
}

/* Phase B on one block: W pencils of run `run` starting at plane offset p0. */
static void pencil_block(const cpu_fused *f, bcdi_cf *buffer, bcdi_cf *psi_run,
                         const float *amplitude, const uint8_t *mask, size_t p0, float inv_n,
                         double *terms)
{
    size_t n0 = f->n0, P = f->plane, W = f->block, w = P - p0 < W ? P - p0 : W;
    for (size_t i0 = 0; i0 < n0; ++i0) {
        memcpy(buffer + i0 * W, psi_run + i0 * P + p0, w * sizeof *buffer);
        if (w < W) memset(buffer + i0 * W + w, 0, (W - w) * sizeof *buffer);
    }
    fftwf_execute_dft(f->pencil_forward, (fftwf_complex *)buffer, (fftwf_complex *)buffer);
    for (size_t i0 = 0; i0 < n0; ++i0)
        project_row(buffer + i0 * W, amplitude + i0 * P + p0, mask + i0 * P + p0, w, inv_n, terms);
    fftwf_execute_dft(f->pencil_inverse, (fftwf_complex *)buffer, (fftwf_complex *)buffer);
    for (size_t i0 = 0; i0 < n0; ++i0)
        memcpy(psi_run + i0 * P + p0, buffer + i0 * W, w * sizeof *buffer);
}

/* Phase C's update of one plane from its inverse transform. */
BCDI_SIMD_CLONES static void update_plane(bcdi_cf *rho, const bcdi_cf *proj, const uint8_t *support,
                                          size_t count, const bcdi_update_coeffs *coeffs,
                                          double *terms)
{
    /* local copies: through the pointers, every store to rho could alias them */
    const bcdi_update_coeffs c = *coeffs;
    if (!terms) {
        for (size_t k = 0; k < count; ++k)
            rho[k] = bcdi_vox_update(rho[k], proj[k], support[k], &c, NULL);
        return;
    }
    double local[BCDI_UPDATE_TERMS];
    memcpy(local, terms, sizeof local);
    for (size_t k = 0; k < count; ++k)
        rho[k] = bcdi_vox_update(rho[k], proj[k], support[k], &c, local);
    memcpy(terms, local, sizeof local);
}

bcdi_status cpu_iterate(bcdi_fft *plan, bcdi_cf *rho, bcdi_cf *psi, const float *amplitude,
                        const uint8_t *mask, const uint8_t *support, float inv_n,
                        const bcdi_update_coeffs *coeffs, double *fourier_terms,
                        double *update_terms)
{
    bcdi_status st = BCDI_OK;
    if (!plan->fused) st = fused_create(plan, rho, psi);
    if (st != BCDI_OK) return st;
    cpu_fused *f = plan->fused;
    int align_rho = fftwf_alignment_of((float *)rho), align_psi = fftwf_alignment_of((float *)psi);
    if (align_rho != f->align_rho || align_psi != f->align_psi) {
        /* other arrays than the first call's: replan for their alignment (not in the loops) */
        st = plan_planes(f, plan->shape, align_rho, align_psi);
        if (st != BCDI_OK) return st;
    }
    const size_t n0 = f->n0, P = f->plane, n = n0 * P, batch = plan->batch;
    const long long planes = (long long)n0, blocks = (long long)f->blocks;
    const int want_fourier = fourier_terms != NULL, want_update = update_terms != NULL;
    const int candidate = tuner_pick(&f->tuner);
    const double started = bcdi_clock_s();
#pragma omp parallel num_threads(f->tuner.candidates[candidate])
    {
        bcdi_cf *mine = f->scratch + (size_t)omp_get_thread_num() * f->scratch_stride;
        /* one run at a time, all threads on it: a run's arrays stay in the last-level cache
         * between the three phases where the batch's would not (16 runs at 64^3: 64 MiB of rho
         * and psi against a 32 MiB L3) */
        for (size_t run = 0; run < batch; ++run) {
            bcdi_cf *rho_run = rho + run * n, *psi_run = psi + run * n;
            const uint8_t *support_run = support + run * n;
            /* A: forward 2D transforms */
#pragma omp for schedule(dynamic)
            for (long long t = 0; t < planes; ++t)
                fftwf_execute_dft(f->plane_forward, (fftwf_complex *)(rho_run + (size_t)t * P),
                                  (fftwf_complex *)(psi_run + (size_t)t * P));
                /* B: pencils along axis 0, with the modulus projection between their transforms */
#pragma omp for schedule(dynamic)
            for (long long t = 0; t < blocks; ++t) {
                double *terms = NULL;
                if (want_fourier) {
                    terms =
                        f->fourier_partials + (run * f->blocks + (size_t)t) * BCDI_FOURIER_TERMS;
                    memset(terms, 0, BCDI_FOURIER_TERMS * sizeof *terms);
                }
                pencil_block(f, mine + P, psi_run, amplitude, mask, (size_t)t * f->block, inv_n,
                             terms);
            }
            /* C: inverse 2D transforms, each followed by the update of its plane */
#pragma omp for schedule(dynamic)
            for (long long t = 0; t < planes; ++t) {
                size_t offset = (size_t)t * P;
                fftwf_execute_dft(f->plane_inverse, (fftwf_complex *)(psi_run + offset),
                                  (fftwf_complex *)mine);
                double *terms = NULL;
                if (want_update) {
                    terms = f->update_partials + (run * n0 + (size_t)t) * BCDI_UPDATE_TERMS;
                    memset(terms, 0, BCDI_UPDATE_TERMS * sizeof *terms);
                }
                update_plane(rho_run + offset, mine, support_run + offset, P, coeffs, terms);
            }
        }
    }
    /* iterations with sums cost more: they would bias whichever count ran them */
    if (!want_fourier && !want_update) tuner_record(&f->tuner, candidate, bcdi_clock_s() - started);
    if (want_fourier)
        sum_partials(f->fourier_partials, f->blocks, batch, BCDI_FOURIER_TERMS, fourier_terms);
    if (want_update) sum_partials(f->update_partials, n0, batch, BCDI_UPDATE_TERMS, update_terms);
    return BCDI_OK;
}

/* ---- shrink-wrap -----------------------------------------------------------------------------
 * The same results, bit for bit, as cf_abs, gaussian_blur (axis 0, then 1, then 2, each tap sum
 * in the symmetric order of bcdi_vox_blur_tap), max, threshold and count_nonzero, in two or three
 * passes:
 *  1. blocks of W columns of all planes: |rho| gathered with the periodic wrap into a padded
 *     [n0 + 2R][W] buffer, blurred along axis 0 into `value`;
 *  2. plane by plane: blur along axis 1 (whole rows at a time), then along axis 2 (one padded
 *     row at a time), back into `value`, with the plane's maximum; with a given reference the
 *     threshold and the count happen here too, and `value` is never written back;
 *  3. (reference = the maximum) plane by plane: threshold and count. */

typedef struct blur_axis_taps {
    int active, radius;
    float weights[2 * BCDI_BLUR_MAX_RADIUS + 1];
} blur_axis_taps;

static long wrap_index(long i, long len)
{
    i %= len;
    return i < 0 ? i + len : i;
}

/* Eight floats as one value (GCC/Clang vector extension): one AVX register in the AVX2 clone,
 * two SSE registers in the baseline one; the same per-lane operations either way. Loads and
 * stores through it may be unaligned and alias plain floats. */
typedef float float8 __attribute__((vector_size(32), aligned(4), may_alias));
#define AT8(p) (*(const float8 *)(const void *)(p))

/* out[j] = w[R] rows[R][j] + sum over k = 1..R of w[R+k] (rows[R-k][j] + rows[R+k][j]): the
 * symmetric tap order of bcdi_vox_blur_tap, 32 voxels at a time with their sums held in
 * registers across the taps. rows[0..2R] point at the 2R+1 input rows. */
BCDI_SIMD_CLONES static void blur_kernel(float *restrict out, const float *const *rows,
                                         const float *weights, int radius, size_t count)
{
    const float *centre = rows[radius];
    const float w0 = weights[radius];
    size_t j = 0;
    for (; j + 32 <= count; j += 32) {
        float8 a0 = w0 * AT8(centre + j), a1 = w0 * AT8(centre + j + 8),
               a2 = w0 * AT8(centre + j + 16), a3 = w0 * AT8(centre + j + 24);
        for (int k = 1; k <= radius; ++k) {
            const float w = weights[radius + k];
            const float *below = rows[radius - k] + j, *above = rows[radius + k] + j;
            a0 += w * (AT8(below) + AT8(above));
            a1 += w * (AT8(below + 8) + AT8(above + 8));
            a2 += w * (AT8(below + 16) + AT8(above + 16));
            a3 += w * (AT8(below + 24) + AT8(above + 24));
        }
        *(float8 *)(void *)(out + j) = a0;
        *(float8 *)(void *)(out + j + 8) = a1;
        *(float8 *)(void *)(out + j + 16) = a2;
        *(float8 *)(void *)(out + j + 24) = a3;
    }
    for (; j < count; ++j) {
        float acc = w0 * centre[j];
        for (int k = 1; k <= radius; ++k)
            acc += weights[radius + k] * (rows[radius - k][j] + rows[radius + k][j]);
        out[j] = acc;
    }
}

/* The 2R+1 rows of a blur `row_step` apart from first_row. */
static void blur_rows(float *out, const float *first_row, size_t row_step, size_t count,
                      const blur_axis_taps *taps)
{
    const float *rows[2 * BCDI_BLUR_MAX_RADIUS + 1];
    for (int k = 0; k <= 2 * taps->radius; ++k)
        rows[k] = first_row + (size_t)k * row_step;
    blur_kernel(out, rows, taps->weights, taps->radius, count);
}

/* Pass 1 on one block: value[i0][p0 + j] = axis-0 blur of |rho| (or |rho| itself). */
static void abs_blur_block(const bcdi_cf *rho_run, float *value_run, size_t n0, size_t P, size_t p0,
                           size_t W, const blur_axis_taps *taps, float *padded)
{
    size_t w = P - p0 < W ? P - p0 : W;
    if (!taps->active) {
        for (size_t i0 = 0; i0 < n0; ++i0)
            for (size_t j = 0; j < w; ++j)
                value_run[i0 * P + p0 + j] = bcdi_cf_abs(rho_run[i0 * P + p0 + j]);
        return;
    }
    long R = taps->radius;
    for (long row = 0; row < (long)n0 + 2 * R; ++row) {
        const bcdi_cf *src = rho_run + (size_t)wrap_index(row - R, (long)n0) * P + p0;
        float *dst = padded + (size_t)row * W;
        for (size_t j = 0; j < w; ++j)
            dst[j] = bcdi_cf_abs(src[j]);
    }
    for (size_t i0 = 0; i0 < n0; ++i0)
        blur_rows(value_run + i0 * P + p0, padded + i0 * W, W, w, taps);
}

/* Pass 2 on one plane (n1 x n2, in place): blur along axes 1 and 2; returns the plane's max. */
static float blur_plane(float *plane, size_t n1, size_t n2, const blur_axis_taps *taps1,
                        const blur_axis_taps *taps2, float *work, float *padded)
{
    const float *rows = plane;
    if (taps1->active) {
        /* output row i1 sums rows i1 - R .. i1 + R, wrapped: not evenly spaced across the wrap */
        long R = taps1->radius;
        for (size_t i1 = 0; i1 < n1; ++i1) {
            const float *rows[2 * BCDI_BLUR_MAX_RADIUS + 1];
            for (long k = -R; k <= R; ++k)
                rows[k + R] = plane + (size_t)wrap_index((long)i1 + k, (long)n1) * n2;
            blur_kernel(work + i1 * n2, rows, taps1->weights, (int)R, n2);
        }
        rows = work;
    }
    float best = -INFINITY;
    for (size_t i1 = 0; i1 < n1; ++i1) {
        const float *row = rows + i1 * n2;
        float *out = plane + i1 * n2;
        if (taps2->active) {
            long R = taps2->radius;
            if (R <= (long)n2) { /* the row with R values wrapped onto each side */
                memcpy(padded, row + n2 - (size_t)R, (size_t)R * sizeof *padded);
                memcpy(padded + R, row, n2 * sizeof *padded);
                memcpy(padded + R + (long)n2, row, (size_t)R * sizeof *padded);
            } else {
                for (long j = 0; j < (long)n2 + 2 * R; ++j)
                    padded[j] = row[wrap_index(j - R, (long)n2)];
            }
            blur_rows(out, padded, 1, n2, taps2);
        } else if (out != row) {
            memcpy(out, row, n2 * sizeof *out);
        }
        for (size_t j = 0; j < n2; ++j)
            if (out[j] > best) best = out[j];
    }
    return best;
}

/* support <- threshold(value) over one plane; returns the plane's support size. */
static uint64_t threshold_plane(uint8_t *support, const float *value, size_t count, float threshold,
                                int only_shrink)
{
    uint64_t inside = 0;
    for (size_t k = 0; k < count; ++k) {
        support[k] = bcdi_vox_threshold(value[k], threshold, support[k], only_shrink);
        inside += support[k] != 0;
    }
    return inside;
}

bcdi_status cpu_shrink_wrap(bcdi_backend *be, uint8_t *support, const bcdi_cf *rho, float *scratch,
                            const size_t shape[3], size_t batch, const float sigma[3],
                            const double *relative, const double *reference, int only_shrink,
                            float *host_maxima, uint64_t *host_counts)
{
    const size_t n0 = shape[0], n1 = shape[1], n2 = shape[2], P = n1 * n2, n = n0 * P;
    blur_axis_taps taps[3];
    for (int a = 0; a < 3; ++a) {
        /* a flat or unblurred axis is left alone, as gaussian_blur does */
        taps[a].active = sigma[a] > 0.0f && shape[a] >= 2;
        taps[a].radius = taps[a].active ? bcdi_gauss_weights(sigma[a], taps[a].weights) : 0;
    }
    const int threads = be->threads > 0 ? be->threads : 1;
    const size_t W = block_columns(cache_bytes(2, 256 * 1024), n0 + 2 * (size_t)taps[0].radius,
                                   sizeof(float), P);
    size_t pass1 = (n0 + 2 * (size_t)taps[0].radius) * W;
    size_t pass2 = P + n2 + 2 * (size_t)taps[2].radius;
    size_t per_thread = ((pass1 > pass2 ? pass1 : pass2) + 15) / 16 * 16;
    const size_t blocks = (P + W - 1) / W, planes = batch * n0;
    float *work = malloc((size_t)threads * per_thread * sizeof *work);
    float *plane_max = malloc(planes * sizeof *plane_max);
    uint64_t *plane_count = malloc(planes * sizeof *plane_count);
    float *thresholds = malloc(batch * sizeof *thresholds);
    if (!work || !plane_max || !plane_count || !thresholds) {
        free(work), free(plane_max), free(plane_count), free(thresholds);
        return bcdi_error(BCDI_ERR_NOMEM, "shrink-wrap: out of memory for %d threads' scratch",
                          threads);
    }
    for (size_t r = 0; reference && r < batch; ++r)
        thresholds[r] = (float)(relative[r] * reference[r]);
    float *value = scratch;
#pragma omp parallel num_threads(threads)
    {
        float *mine = work + (size_t)omp_get_thread_num() * per_thread;
        /* one run at a time, as in the iteration: its values stay in cache between passes */
        for (size_t run = 0; run < batch; ++run) {
            const bcdi_cf *rho_run = rho + run * n;
            float *value_run = value + run * n, *max_run = plane_max + run * n0;
            uint8_t *support_run = support + run * n;
            uint64_t *count_run = plane_count + run * n0;
#pragma omp for schedule(dynamic)
            for (long long t = 0; t < (long long)blocks; ++t)
                abs_blur_block(rho_run, value_run, n0, P, (size_t)t * W, W, &taps[0], mine);
#pragma omp for schedule(dynamic)
            for (long long t = 0; t < (long long)n0; ++t) {
                size_t offset = (size_t)t * P;
                max_run[t] =
                    blur_plane(value_run + offset, n1, n2, &taps[1], &taps[2], mine, mine + P);
                if (reference)
                    count_run[t] = threshold_plane(support_run + offset, value_run + offset, P,
                                                   thresholds[run], only_shrink);
            }
            if (reference) continue;
#pragma omp single
            {
                float best = -INFINITY;
                for (size_t k = 0; k < n0; ++k)
                    if (max_run[k] > best) best = max_run[k];
                if (host_maxima) host_maxima[run] = best;
                thresholds[run] = (float)(relative[run] * (double)best);
            }
#pragma omp for schedule(dynamic)
            for (long long t = 0; t < (long long)n0; ++t)
                count_run[t] =
                    threshold_plane(support_run + (size_t)t * P, value_run + (size_t)t * P, P,
                                    thresholds[run], only_shrink);
        }
    }
    for (size_t r = 0; host_counts && r < batch; ++r) {
        uint64_t total = 0;
        for (size_t k = 0; k < n0; ++k)
            total += plane_count[r * n0 + k];
        host_counts[r] = total;
    }
    free(work), free(plane_max), free(plane_count), free(thresholds);
    return BCDI_OK;
}
