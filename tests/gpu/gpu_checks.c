/* SPDX-License-Identifier: BSD-3-Clause */
/* CPU vs CUDA agreement of every backend op. A plain program, not Criterion: CUDA must not be
 * initialised inside Criterion's forked tests. Exits 77 (ctest: skipped) without a CUDA device,
 * 0 when every check passes, 1 otherwise. Both backends are driven through the ops table only.
 *
 *   bcdi_gpu_checks            every check (three shapes, whole reconstructions)
 *   bcdi_gpu_checks --short    two small shapes and the 10-iteration reconstruction: the set
 *                              compute-sanitizer runs (its tools slow kernels 10-100x)
 *   bcdi_gpu_checks --device-facts [host_gib [try_cap]]
 *                              no checks: copy bandwidth and device memory per voxel of phasing
 *                              runs, and the largest cube (gpu_device.h)
 *
 * One file (over 700 lines) because it is one program that a GPU session runs as a whole.
 *
 * One line per check, for people and for tools/gpu-report.sh:
 *   CHECK <shape> <batch>: <what>   measured=<error> tolerance=<bound> PASS|FAIL */
#include "gpu_device.h"

#include "backend/backend.h"
#include "bcdi/align.h"
#include "bcdi/phasing.h"
#include "bcdi/simulate.h"
#include "phasing/iteration.h"
#include "phasing/psf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CPU = 0, GPU = 1 };

static bcdi_backend *backends[2];
static int failures;
static int checks;

/* ---- bookkeeping ------------------------------------------------------------------------------
 */
static void die(const char *what)
{
    fprintf(stderr, "gpu_checks: %s: %s\n", what, bcdi_last_error());
    exit(1);
}

/* An op failing is a failed check, not a crash: report it and go on. */
static int op_ok(bcdi_status status, int which, const char *what)
{
    if (status == BCDI_OK) return 1;
    printf("CHECK %-52s measured=op-error tolerance=- FAIL (%s: %s)\n", what,
           which == CPU ? "CPU" : "CUDA", bcdi_last_error());
    ++failures;
    ++checks;
    return 0;
}

static void report(const char *label, const char *what, double error, double tolerance)
{
    char name[160];
    snprintf(name, sizeof name, "%s: %s", label, what);
    int pass = error <= tolerance; /* NaN fails */
    printf("CHECK %-52s measured=%.3e tolerance=%.1e %s\n", name, error, tolerance,
           pass ? "PASS" : "FAIL");
    fflush(stdout); /* a crash or a sanitizer abort keeps the lines before it */
    ++checks;
    if (!pass) ++failures;
}

/* ---- one buffer mirrored on both backends -----------------------------------------------------
 */
typedef struct mirror {
    void *ptr[2];
    size_t bytes;
} mirror;

static mirror mirror_new(const void *host, size_t bytes)
{
    mirror m = {{NULL, NULL}, bytes};
    for (int b = 0; b < 2; ++b) {
        bcdi_backend *be = backends[b];
        if (be->ops->alloc(be, bytes, &m.ptr[b]) != BCDI_OK) die("alloc");
        bcdi_status s =
            host ? be->ops->upload(be, m.ptr[b], host, bytes) : be->ops->zero(be, m.ptr[b], bytes);
        if (s != BCDI_OK) die("upload");
    }
    return m;
}

static void mirror_set(mirror *m, const void *host)
{
    for (int b = 0; b < 2; ++b)
        if (backends[b]->ops->upload(backends[b], m->ptr[b], host, m->bytes) != BCDI_OK)
            die("upload");
}

/* Downloads both copies into two fresh host arrays (caller frees). */
static void mirror_get(const mirror *m, void **cpu, void **gpu)
{
    void *host[2];
    for (int b = 0; b < 2; ++b) {
        host[b] = malloc(m->bytes ? m->bytes : 1);
        if (!host[b]) die("malloc");
        if (backends[b]->ops->synchronize(backends[b]) != BCDI_OK) die("synchronize");
        if (backends[b]->ops->download(backends[b], host[b], m->ptr[b], m->bytes) != BCDI_OK)
            die("download");
    }
    *cpu = host[CPU];
    *gpu = host[GPU];
}

static void mirror_free(mirror *m)
{
    for (int b = 0; b < 2; ++b)
        backends[b]->ops->free(backends[b], m->ptr[b]);
}

/* ---- deterministic test inputs (a plain xorshift, independent of the code under test) -------- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double rng_unit(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static float rng_range(float lo, float hi)
{
    return lo + (hi - lo) * (float)rng_unit();
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) die("malloc");
    return p;
}

static bcdi_cf *random_cf(size_t count, float scale)
{
    bcdi_cf *v = xmalloc(count * sizeof *v);
    for (size_t i = 0; i < count; ++i) {
        v[i].re = rng_range(-scale, scale);
        v[i].im = rng_range(-scale, scale);
    }
    return v;
}

static float *random_f(size_t count, float lo, float hi)
{
    float *v = xmalloc(count * sizeof *v);
    for (size_t i = 0; i < count; ++i)
        v[i] = rng_range(lo, hi);
    return v;
}

static uint8_t *random_bits(size_t count, double p_one)
{
    uint8_t *v = xmalloc(count);
    for (size_t i = 0; i < count; ++i)
        v[i] = rng_unit() < p_one;
    return v;
}

/* ---- error measures: relative to the CPU result ------------------------------------------------
 */
static double rel_max_f(const float *ref, const float *got, size_t count)
{
    double scale = 0.0, worst = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double d = fabs((double)ref[i] - (double)got[i]);
        if (!(d <= worst)) worst = d; /* keeps NaN */
        if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
    }
    return worst / (scale > 0.0 ? scale : 1.0);
}

static double rel_max_cf(const bcdi_cf *ref, const bcdi_cf *got, size_t count)
{
    return rel_max_f((const float *)ref, (const float *)got, 2 * count);
}

static double rel_l2_cf(const bcdi_cf *ref, const bcdi_cf *got, size_t count)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double dr = (double)ref[i].re - got[i].re, di = (double)ref[i].im - got[i].im;
        num += dr * dr + di * di;
        den += (double)ref[i].re * ref[i].re + (double)ref[i].im * ref[i].im;
    }
    return sqrt(num / (den > 0.0 ? den : 1.0));
}

static double abs_max_f(const float *ref, const float *got, size_t count)
{
    double worst = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double d = fabs((double)ref[i] - (double)got[i]);
        if (!(d <= worst)) worst = d;
    }
    return worst;
}

static double abs_max_cf(const bcdi_cf *ref, const bcdi_cf *got, size_t count)
{
    return abs_max_f((const float *)ref, (const float *)got, 2 * count);
}

/* Worst relative difference of sums, each against its own magnitude. */
static double rel_terms(const double *ref, const double *got, size_t count)
{
    double worst = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double scale = fabs(ref[i]) > 1e-30 ? fabs(ref[i]) : 1.0;
        double d = fabs(ref[i] - got[i]) / scale;
        if (!(d <= worst)) worst = d;
    }
    return worst;
}

static double mismatches(const void *a, const void *b, size_t count, size_t elem)
{
    size_t bad = 0;
    for (size_t i = 0; i < count; ++i)
        if (memcmp((const char *)a + i * elem, (const char *)b + i * elem, elem) != 0) ++bad;
    return (double)bad;
}

/* ---- the checks, for one shape and batch -------------------------------------------------------
 */
typedef struct shape_case {
    size_t shape[3];
    size_t batch;
} shape_case;

static void check_random(const char *label, size_t n, size_t batch)
{
    size_t count = n * batch + 17; /* not a multiple of anything */
    mirror out = mirror_new(NULL, count * sizeof(float));
    double worst = 0.0;
    for (int word = 0; word < 4; ++word) {
        for (int b = 0; b < 2; ++b)
            op_ok(backends[b]->ops->random_uniform(backends[b], out.ptr[b], count,
                                                   0x123456789ABCDEFull, ((uint64_t)word << 33) + 7,
                                                   word),
                  b, "random_uniform");
        void *cpu, *gpu;
        mirror_get(&out, &cpu, &gpu);
        double bad = mismatches(cpu, gpu, count, sizeof(float));
        if (bad > worst) worst = bad;
        free(cpu);
        free(gpu);
    }
    report(label, "random_uniform (bit mismatches)", worst, 0.0);
    mirror_free(&out);

    uint8_t *support_h = random_bits(n * batch, 0.6);
    mirror support = mirror_new(support_h, n * batch);
    mirror rho = mirror_new(NULL, n * batch * sizeof(bcdi_cf));
    for (int b = 0; b < 2; ++b)
        op_ok(backends[b]->ops->random_start(backends[b], rho.ptr[b], support.ptr[b], n, batch, 42,
                                             5),
              b, "random_start");
    bcdi_cf *cpu, *gpu;
    mirror_get(&rho, (void **)&cpu, (void **)&gpu);
    report(label, "random_start (abs)", abs_max_cf(cpu, gpu, n * batch), 1e-6);
    free(cpu);
    free(gpu);
    mirror_free(&rho);
    mirror_free(&support);
    free(support_h);
}

static void check_fft(const char *label, const size_t shape[3], size_t n, size_t batch)
{
    bcdi_fft *plan[2] = {NULL, NULL};
    int created = 1;
    for (int b = 0; b < 2; ++b)
        created &= op_ok(backends[b]->ops->fft_create(backends[b], shape, batch, &plan[b]), b,
                         "fft_create");
    if (!created) {
        for (int b = 0; b < 2; ++b)
            if (plan[b]) backends[b]->ops->fft_destroy(plan[b]);
        return;
    }
    bcdi_cf *input = random_cf(n * batch, 1.0f);
    mirror data = mirror_new(input, n * batch * sizeof(bcdi_cf));
    for (int direction = 0; direction < 2; ++direction) {
        mirror_set(&data, input);
        for (int b = 0; b < 2; ++b) {
            const bcdi_backend_ops *ops = backends[b]->ops;
            op_ok(direction == 0 ? ops->fft_forward(plan[b], data.ptr[b], data.ptr[b])
                                 : ops->fft_inverse(plan[b], data.ptr[b], data.ptr[b]),
                  b, direction == 0 ? "fft_forward" : "fft_inverse");
        }
        bcdi_cf *cpu, *gpu;
        mirror_get(&data, (void **)&cpu, (void **)&gpu);
        report(label, direction == 0 ? "fft_forward (rel L2)" : "fft_inverse (rel L2)",
               rel_l2_cf(cpu, gpu, n * batch), 1e-5);
        free(cpu);
        free(gpu);
    }
    /* out of place with the same plan (phasing's forward FFT): same result, input untouched */
    mirror out = mirror_new(NULL, n * batch * sizeof(bcdi_cf));
    mirror_set(&data, input);
    for (int b = 0; b < 2; ++b)
        op_ok(backends[b]->ops->fft_forward(plan[b], data.ptr[b], out.ptr[b]), b,
              "fft_forward out of place");
    bcdi_cf *cpu, *gpu;
    mirror_get(&out, (void **)&cpu, (void **)&gpu);
    report(label, "fft_forward out of place (rel L2)", rel_l2_cf(cpu, gpu, n * batch), 1e-5);
    free(cpu);
    free(gpu);
    mirror_get(&data, (void **)&cpu, (void **)&gpu);
    report(label, "fft_forward out of place: input kept", rel_l2_cf(input, gpu, n * batch), 0.0);
    free(cpu);
    free(gpu);
    mirror_free(&out);
    mirror_free(&data);
    free(input);
    for (int b = 0; b < 2; ++b)
        if (plan[b]) backends[b]->ops->fft_destroy(plan[b]);
}

static void check_modulus(const char *label, size_t n, size_t batch)
{
    bcdi_cf *psi_h = random_cf(n * batch, 50.0f);
    for (size_t i = 0; i < n * batch; i += 11)
        psi_h[i] = (bcdi_cf){0.0f, 0.0f}; /* phase-less */
    float *amp_h = random_f(n, 0.0f, 60.0f);
    for (size_t i = 0; i < n; i += 13)
        amp_h[i] = 0.0f; /* zero counts */
    uint8_t *mask_h = xmalloc(n);
    for (size_t i = 0; i < n; ++i) {
        double u = rng_unit();
        mask_h[i] = u < 0.8 ? BCDI_MASK_MEASURED : u < 0.9 ? BCDI_MASK_UNMEASURED : BCDI_MASK_FREE;
    }
    mirror psi = mirror_new(psi_h, n * batch * sizeof(bcdi_cf));
    mirror amp = mirror_new(amp_h, n * sizeof(float));
    mirror mask = mirror_new(mask_h, n);
    const float inv_n = 1.0f / (float)n;

    for (int with_terms = 0; with_terms < 2; ++with_terms) {
        mirror_set(&psi, psi_h);
        double *terms[2] = {xmalloc(batch * BCDI_FOURIER_TERMS * sizeof(double)),
                            xmalloc(batch * BCDI_FOURIER_TERMS * sizeof(double))};
        for (int b = 0; b < 2; ++b)
            op_ok(backends[b]->ops->modulus_project(backends[b], psi.ptr[b], amp.ptr[b],
                                                    mask.ptr[b], n, batch, inv_n,
                                                    with_terms ? terms[b] : NULL),
                  b, "modulus_project");
        bcdi_cf *cpu, *gpu;
        mirror_get(&psi, (void **)&cpu, (void **)&gpu);
        report(label, with_terms ? "modulus_project values (+terms)" : "modulus_project values",
               rel_max_cf(cpu, gpu, n * batch), 1e-5);
        free(cpu);
        free(gpu);
        if (with_terms) {
            static const char *names[BCDI_FOURIER_TERMS] = {"err2", "amp2", "llk", "free_err2",
                                                            "free_llk"};
            for (int t = 0; t < BCDI_FOURIER_TERMS; ++t) {
                double worst = 0.0;
                for (size_t r = 0; r < batch; ++r) {
                    size_t at = r * BCDI_FOURIER_TERMS + (size_t)t;
                    double e = rel_terms(&terms[CPU][at], &terms[GPU][at], 1);
                    if (!(e <= worst)) worst = e;
                }
                char what[64];
                snprintf(what, sizeof what, "modulus_project term %s", names[t]);
                report(label, what, worst, 1e-5);
            }
            /* the same input twice must reduce to the same bits on the device */
            double *again = xmalloc(batch * BCDI_FOURIER_TERMS * sizeof(double));
            mirror_set(&psi, psi_h);
            op_ok(backends[GPU]->ops->modulus_project(backends[GPU], psi.ptr[GPU], amp.ptr[GPU],
                                                      mask.ptr[GPU], n, batch, inv_n, again),
                  GPU, "modulus_project");
            report(label, "modulus_project terms repeat (bits)",
                   mismatches(again, terms[GPU], batch * BCDI_FOURIER_TERMS, sizeof(double)), 0.0);
            free(again);
        }
        free(terms[CPU]);
        free(terms[GPU]);
    }
    mirror_free(&psi);
    mirror_free(&amp);
    mirror_free(&mask);
    free(psi_h);
    free(amp_h);
    free(mask_h);
}

static void check_update(const char *label, size_t n, size_t batch)
{
    bcdi_cf *rho_h = random_cf(n * batch, 1.0f);
    bcdi_cf *proj_h = random_cf(n * batch, 1.0f);
    uint8_t *support_h = random_bits(n * batch, 0.5);
    mirror rho = mirror_new(rho_h, n * batch * sizeof(bcdi_cf));
    mirror proj = mirror_new(proj_h, n * batch * sizeof(bcdi_cf));
    mirror support = mirror_new(support_h, n * batch);
    const bcdi_update_coeffs rules[3] = {
        {0.0f, 1.0f, 0.0f, 0.0f, 0, 0},         /* ER */
        {0.0f, 1.0f, 1.0f, -0.9f, 1, 0},        /* HIO with positivity */
        {0.0f, 1.0f, 0.75f, 1.0f - 1.5f, 0, 1}, /* RAAR(0.75), real-valued object */
    };
    static const char *rule_names[3] = {"ER", "HIO+pos", "RAAR+real"};
    for (int rule = 0; rule < 3; ++rule) {
        int with_terms = rule != 0;
        mirror_set(&rho, rho_h);
        double *terms[2] = {xmalloc(batch * BCDI_UPDATE_TERMS * sizeof(double)),
                            xmalloc(batch * BCDI_UPDATE_TERMS * sizeof(double))};
        for (int b = 0; b < 2; ++b)
            op_ok(backends[b]->ops->update(backends[b], rho.ptr[b], proj.ptr[b], support.ptr[b], n,
                                           batch, &rules[rule], with_terms ? terms[b] : NULL),
                  b, "update");
        bcdi_cf *cpu, *gpu;
        mirror_get(&rho, (void **)&cpu, (void **)&gpu);
        char what[64];
        snprintf(what, sizeof what, "update %s values", rule_names[rule]);
        report(label, what, rel_max_cf(cpu, gpu, n * batch), 1e-5);
        free(cpu);
        free(gpu);
        if (with_terms) {
            snprintf(what, sizeof what, "update %s terms", rule_names[rule]);
            report(label, what, rel_terms(terms[CPU], terms[GPU], batch * BCDI_UPDATE_TERMS), 1e-5);
        }
        free(terms[CPU]);
        free(terms[GPU]);
    }
    mirror_free(&rho);
    mirror_free(&proj);
    mirror_free(&support);
    free(rho_h);
    free(proj_h);
    free(support_h);
}

static void check_elementwise(const char *label, size_t n, size_t batch)
{
    const size_t count = n * batch;
    bcdi_cf *x_h = random_cf(count, 3.0f);
    mirror x = mirror_new(x_h, count * sizeof(bcdi_cf));
    mirror out = mirror_new(NULL, count * sizeof(float));

    for (int b = 0; b < 2; ++b)
        op_ok(backends[b]->ops->cf_abs(backends[b], out.ptr[b], x.ptr[b], count), b, "cf_abs");
    float *cpu_f, *gpu_f;
    mirror_get(&out, (void **)&cpu_f, (void **)&gpu_f);
    report(label, "cf_abs", rel_max_f(cpu_f, gpu_f, count), 1e-6);
    free(cpu_f);
    free(gpu_f);

    bcdi_cf *factors = random_cf(batch, 2.0f);
    for (int b = 0; b < 2; ++b)
        op_ok(backends[b]->ops->cf_scale(backends[b], x.ptr[b], n, batch, factors), b, "cf_scale");
    bcdi_cf *cpu_c, *gpu_c;
    mirror_get(&x, (void **)&cpu_c, (void **)&gpu_c);
    report(label, "cf_scale", rel_max_cf(cpu_c, gpu_c, count), 1e-6);
    free(cpu_c);
    free(gpu_c);

    float *value_h = random_f(count, 0.0f, 1.0f);
    uint8_t *previous_h = random_bits(count, 0.7);
    float *thresholds = random_f(batch, 0.2f, 0.6f);
    mirror value = mirror_new(value_h, count * sizeof(float));
    mirror support = mirror_new(previous_h, count);
    for (int only_shrink = 0; only_shrink < 2; ++only_shrink) {
        mirror_set(&support, previous_h);
        for (int b = 0; b < 2; ++b)
            op_ok(backends[b]->ops->threshold(backends[b], support.ptr[b], value.ptr[b], n, batch,
                                              thresholds, only_shrink),
                  b, "threshold");
        void *cpu, *gpu;
        mirror_get(&support, &cpu, &gpu);
        report(label, only_shrink ? "threshold only_shrink (mismatches)" : "threshold (mismatches)",
               mismatches(cpu, gpu, count, 1), 0.0);
        free(cpu);
        free(gpu);
    }
    mirror_free(&value);
    mirror_free(&support);
    mirror_free(&x);
    mirror_free(&out);
    free(x_h);
    free(factors);
    free(value_h);
    free(previous_h);
    free(thresholds);
}

static void check_blur(const char *label, const size_t shape[3], size_t n, size_t batch)
{
    static const float sigmas[3][3] = {{1.0f, 0.0f, 2.5f}, {0.7f, 0.7f, 0.7f}, {0.0f, 3.0f, 0.0f}};
    float *volume_h = random_f(n * batch, 0.0f, 1.0f);
    mirror volume = mirror_new(volume_h, n * batch * sizeof(float));
    mirror tmp = mirror_new(NULL, n * batch * sizeof(float));
    for (int k = 0; k < 3; ++k) {
        mirror_set(&volume, volume_h);
        for (int b = 0; b < 2; ++b)
            op_ok(backends[b]->ops->gaussian_blur(backends[b], volume.ptr[b], tmp.ptr[b], shape,
                                                  batch, sigmas[k]),
                  b, "gaussian_blur");
        float *cpu, *gpu;
        mirror_get(&volume, (void **)&cpu, (void **)&gpu);
        char what[80];
        snprintf(what, sizeof what, "gaussian_blur sigma %.1f,%.1f,%.1f", sigmas[k][0],
                 sigmas[k][1], sigmas[k][2]);
        report(label, what, rel_max_f(cpu, gpu, n * batch), 1e-5);
        free(cpu);
        free(gpu);
    }
    mirror_free(&volume);
    mirror_free(&tmp);
    free(volume_h);
}

static void check_reductions(const char *label, size_t n, size_t batch)
{
    float *x_h = random_f(n * batch, -1.0f, 4.0f);
    uint8_t *bits_h = random_bits(n * batch, 0.3);
    for (size_t i = 0; i < n * batch; i += 5)
        bits_h[i] = (uint8_t)(2 + i % 200); /* not only 1 */
    mirror x = mirror_new(x_h, n * batch * sizeof(float));
    mirror bits = mirror_new(bits_h, n * batch);
    double sums[2][64];
    float maxima[2][64];
    uint64_t counts[2][64];
    if (batch > 64) die("batch too large for the reduction check");
    for (int b = 0; b < 2; ++b) {
        const bcdi_backend_ops *ops = backends[b]->ops;
        op_ok(ops->sum(backends[b], x.ptr[b], n, batch, sums[b]), b, "sum");
        op_ok(ops->max(backends[b], x.ptr[b], n, batch, maxima[b]), b, "max");
        op_ok(ops->count_nonzero(backends[b], bits.ptr[b], n, batch, counts[b]), b,
              "count_nonzero");
    }
    report(label, "sum (rel)", rel_terms(sums[CPU], sums[GPU], batch), 1e-6);
    report(label, "max (bit mismatches)",
           mismatches(maxima[CPU], maxima[GPU], batch, sizeof(float)), 0.0);
    report(label, "count_nonzero (mismatches)",
           mismatches(counts[CPU], counts[GPU], batch, sizeof(uint64_t)), 0.0);
    mirror_free(&x);
    mirror_free(&bits);
    free(x_h);
    free(bits_h);
}

/* Whole reconstructions with one seed on both backends: a few iterations from the same random
 * start agree to float rounding, and a converging recipe on a known support ends at the same
 * object (after alignment) on both. */
/* The fused iteration (ops->iterate: cuFFT store callbacks on CUDA, the 2D/1D split on the CPU)
 * against the composed sequence on CUDA, and CUDA against the CPU; with the metric sums, through
 * bcdi_phasing_iterate (CUDA composes those iterations: its callbacks do not reduce). */
/* Partial coherence: the four PSF ops, then the composed sequences of phasing/psf.c (the
 * blurred model intensity, one Richardson-Lucy update of the widths) on both backends. */
static void check_psf(const char *label, const size_t shape[3], size_t n, size_t batch)
{
    const size_t count = n * batch;
    const float inv_n = 1.0f / (float)n, model_floor = 1e-3f;
    bcdi_cf *psi_h = random_cf(count, 20.0f), *y_h = random_cf(count, 2.0f);
    bcdi_cf *model_h = xmalloc(count * sizeof *model_h);
    for (size_t i = 0; i < count; ++i) /* real, positive, a few under the floor */
        model_h[i] = (bcdi_cf){i % 17 == 0 ? 0.0f : rng_range(0.0f, 900.0f), 0.0f};
    float *amp_h = random_f(n, 0.0f, 30.0f);
    uint8_t *mask_h = xmalloc(n);
    for (size_t i = 0; i < n; ++i) {
        double u = rng_unit();
        mask_h[i] = u < 0.8 ? BCDI_MASK_MEASURED : u < 0.9 ? BCDI_MASK_UNMEASURED : BCDI_MASK_FREE;
    }
    mirror psi = mirror_new(psi_h, count * sizeof(bcdi_cf));
    mirror y = mirror_new(y_h, count * sizeof(bcdi_cf));
    mirror model = mirror_new(NULL, count * sizeof(bcdi_cf));
    mirror amp = mirror_new(amp_h, n * sizeof(float));
    mirror mask = mirror_new(mask_h, n);
    bcdi_cf *cpu, *gpu;

    for (int b = 0; b < 2; ++b)
        op_ok(backends[b]->ops->coherent_intensity(backends[b], model.ptr[b], psi.ptr[b], count), b,
              "coherent_intensity");
    mirror_get(&model, (void **)&cpu, (void **)&gpu);
    report(label, "coherent_intensity", rel_max_cf(cpu, gpu, count), 1e-6);
    free(cpu), free(gpu);

    for (int conjugate = 0; conjugate < 2; ++conjugate) {
        mirror_set(&psi, psi_h);
        for (int b = 0; b < 2; ++b)
            op_ok(backends[b]->ops->spectrum_product(backends[b], psi.ptr[b], y.ptr[b], count,
                                                     conjugate, 0.5f),
                  b, "spectrum_product");
        mirror_get(&psi, (void **)&cpu, (void **)&gpu);
        report(label, conjugate ? "spectrum_product conj" : "spectrum_product",
               rel_max_cf(cpu, gpu, count), 1e-6);
        free(cpu), free(gpu);
    }

    mirror_set(&model, model_h);
    for (int with_terms = 0; with_terms < 2; ++with_terms) {
        mirror_set(&psi, psi_h);
        double *terms[2] = {xmalloc(batch * BCDI_FOURIER_TERMS * sizeof(double)),
                            xmalloc(batch * BCDI_FOURIER_TERMS * sizeof(double))};
        for (int b = 0; b < 2; ++b)
            op_ok(backends[b]->ops->pc_modulus_project(backends[b], psi.ptr[b], amp.ptr[b],
                                                       mask.ptr[b], model.ptr[b], n, batch, inv_n,
                                                       model_floor, with_terms ? terms[b] : NULL),
                  b, "pc_modulus_project");
        mirror_get(&psi, (void **)&cpu, (void **)&gpu);
        report(label,
               with_terms ? "pc_modulus_project values (+terms)" : "pc_modulus_project values",
               rel_max_cf(cpu, gpu, count), 1e-5);
        free(cpu), free(gpu);
        if (with_terms)
            report(label, "pc_modulus_project terms",
                   rel_terms(terms[CPU], terms[GPU], batch * BCDI_FOURIER_TERMS), 1e-5);
        free(terms[CPU]), free(terms[GPU]);
    }

    for (int b = 0; b < 2; ++b)
        op_ok(backends[b]->ops->rl_ratio(backends[b], model.ptr[b], amp.ptr[b], mask.ptr[b], n,
                                         batch, model_floor),
              b, "rl_ratio");
    mirror_get(&model, (void **)&cpu, (void **)&gpu);
    report(label, "rl_ratio", rel_max_cf(cpu, gpu, count), 1e-6);
    free(cpu), free(gpu);

    /* the composed sequences through a workspace on each backend */
    mirror rho = mirror_new(psi_h, count * sizeof(bcdi_cf));
    mirror hat = mirror_new(NULL, count * sizeof(bcdi_cf));
    uint8_t *support_h = random_bits(count, 0.6);
    mirror support = mirror_new(support_h, count);
    double *sigma[2] = {xmalloc(3 * batch * sizeof(double)), xmalloc(3 * batch * sizeof(double))};
    bcdi_cf *host_volume = xmalloc(n * sizeof(bcdi_cf));
    float *host_gaussian = xmalloc(n * sizeof(float));
    bcdi_phasing_workspace ws[2];
    int ran = 1;
    for (int b = 0; b < 2; ++b) {
        ws[b] = (bcdi_phasing_workspace){.be = backends[b], .n = n, .batch = batch};
        memcpy(ws[b].shape, shape, sizeof ws[b].shape);
        ws[b].amplitude = amp.ptr[b], ws[b].mask = mask.ptr[b];
        ws[b].rho = rho.ptr[b], ws[b].psi = psi.ptr[b], ws[b].support = support.ptr[b];
        ws[b].psf_model = model.ptr[b], ws[b].psf_hat = hat.ptr[b], ws[b].psf_floor = model_floor;
        ran &= op_ok(backends[b]->ops->fft_create(backends[b], shape, batch, &ws[b].plan), b,
                     "fft_create");
        for (size_t k = 0; k < 3 * batch; ++k)
            sigma[b][k] = 0.6 + 0.2 * (double)(k % 4);
        if (ran)
            ran &= op_ok(bcdi_phasing_psf_set(&ws[b], sigma[b], host_volume, host_gaussian), b,
                         "psf_set");
        if (ran)
            ran &=
                op_ok(bcdi_phasing_pc_intensity(&ws[b], ws[b].rho, ws[b].psi), b, "pc_intensity");
    }
    if (ran) {
        mirror_get(&model, (void **)&cpu, (void **)&gpu);
        report(label, "PSF-blurred model intensity (composed)", rel_max_cf(cpu, gpu, count), 1e-5);
        free(cpu), free(gpu);
        for (int b = 0; b < 2; ++b)
            ran &= op_ok(bcdi_phasing_psf_update(&ws[b], sigma[b], 2, host_volume, host_gaussian),
                         b, "psf_update");
    }
    if (ran) {
        double worst = 0.0;
        for (size_t k = 0; k < 3 * batch; ++k)
            worst = fmax(worst, fabs(sigma[CPU][k] - sigma[GPU][k]) / sigma[CPU][k]);
        report(label, "Richardson-Lucy PSF widths (2 steps)", worst, 1e-4);
    }
    for (int b = 0; b < 2; ++b)
        if (ws[b].plan) backends[b]->ops->fft_destroy(ws[b].plan);
    mirror_free(&rho), mirror_free(&hat), mirror_free(&psi), mirror_free(&y);
    mirror_free(&support), free(support_h);
    mirror_free(&model), mirror_free(&amp), mirror_free(&mask);
    free(sigma[CPU]), free(sigma[GPU]), free(host_volume), free(host_gaussian);
    free(psi_h), free(y_h), free(model_h), free(amp_h), free(mask_h);
}

static void check_fused_iteration(const char *label, const size_t shape[3], size_t n, size_t batch)
{
    bcdi_cf *rho_h = random_cf(n * batch, 1.0f);
    float *amp_h = random_f(n, 0.0f, 2.0f * sqrtf((float)n));
    uint8_t *mask_h = xmalloc(n), *support_h = random_bits(n * batch, 0.5);
    for (size_t i = 0; i < n; ++i) {
        double u = rng_unit();
        mask_h[i] = u < 0.8 ? BCDI_MASK_MEASURED : u < 0.9 ? BCDI_MASK_UNMEASURED : BCDI_MASK_FREE;
    }
    mirror rho = mirror_new(rho_h, n * batch * sizeof(bcdi_cf));
    mirror composed = mirror_new(rho_h, n * batch * sizeof(bcdi_cf));
    mirror psi = mirror_new(NULL, n * batch * sizeof(bcdi_cf));
    mirror amp = mirror_new(amp_h, n * sizeof(float));
    mirror mask = mirror_new(mask_h, n);
    mirror support = mirror_new(support_h, n * batch);
    bcdi_fft *plan[2] = {NULL, NULL};
    int created = 1;
    for (int b = 0; b < 2; ++b)
        created &= op_ok(backends[b]->ops->fft_create(backends[b], shape, batch, &plan[b]), b,
                         "fft_create");
    const bcdi_update_coeffs rules[3] = {
        {0.0f, 1.0f, 1.0f, -0.9f, 1, 0},        /* HIO with positivity */
        {0.0f, 1.0f, 0.75f, 1.0f - 1.5f, 0, 1}, /* RAAR(0.75), real-valued object */
        {0.0f, 1.0f, 0.0f, 0.0f, 0, 0},         /* ER */
    };
    static const char *rule_names[3] = {"HIO+pos", "RAAR+real", "ER"};
    const float inv_n = 1.0f / (float)n;
    for (int rule = 0; created && rule < 3; ++rule) {
        mirror_set(&rho, rho_h);
        mirror_set(&composed, rho_h);
        int ran = 1;
        for (int b = 0; b < 2; ++b) {
            bcdi_backend *be = backends[b];
            if (!be->ops->iterate) {
                report(label, b == CPU ? "CPU has no fused iterate" : "CUDA has no fused iterate",
                       NAN, 0.0);
                ran = 0;
                continue;
            }
            ran &= op_ok(be->ops->iterate(plan[b], rho.ptr[b], psi.ptr[b], amp.ptr[b], mask.ptr[b],
                                          support.ptr[b], inv_n, &rules[rule], NULL, NULL),
                         b, "iterate (fused)");
        }
        /* the reference on CUDA: the composed ops the fused iteration replaces */
        bcdi_backend *g = backends[GPU];
        ran &= op_ok(g->ops->fft_forward(plan[GPU], composed.ptr[GPU], psi.ptr[GPU]), GPU,
                     "fft_forward");
        ran &= op_ok(g->ops->modulus_project(g, psi.ptr[GPU], amp.ptr[GPU], mask.ptr[GPU], n, batch,
                                             inv_n, NULL),
                     GPU, "modulus_project");
        ran &=
            op_ok(g->ops->fft_inverse(plan[GPU], psi.ptr[GPU], psi.ptr[GPU]), GPU, "fft_inverse");
        ran &= op_ok(g->ops->update(g, composed.ptr[GPU], psi.ptr[GPU], support.ptr[GPU], n, batch,
                                    &rules[rule], NULL),
                     GPU, "update");
        if (!ran) continue;
        bcdi_cf *cpu, *gpu, *cpu_unused, *gpu_composed;
        mirror_get(&rho, (void **)&cpu, (void **)&gpu);
        mirror_get(&composed, (void **)&cpu_unused, (void **)&gpu_composed);
        char what[80];
        /* float rounding of cuFFT's kernels with and without callbacks, and of FFTW's 2D/1D
         * split against cuFFT: the 1e-5 of the other FFT-based checks */
        snprintf(what, sizeof what, "iterate %s CUDA fused vs composed", rule_names[rule]);
        report(label, what, rel_max_cf(gpu_composed, gpu, n * batch), 1e-5);
        snprintf(what, sizeof what, "iterate %s fused CPU vs CUDA", rule_names[rule]);
        report(label, what, rel_max_cf(cpu, gpu, n * batch), 1e-5);
        free(cpu), free(gpu), free(cpu_unused), free(gpu_composed);
    }
    /* a metric iteration through the engine's entry point on both backends */
    if (created) {
        mirror_set(&rho, rho_h);
        double *fourier[2], *update[2];
        for (int b = 0; b < 2; ++b) {
            bcdi_phasing_workspace ws = {.be = backends[b], .n = n, .batch = batch};
            memcpy(ws.shape, shape, sizeof ws.shape);
            ws.amplitude = amp.ptr[b];
            ws.mask = mask.ptr[b];
            ws.rho = rho.ptr[b];
            ws.psi = psi.ptr[b];
            ws.support = support.ptr[b];
            ws.plan = plan[b];
            fourier[b] = xmalloc(batch * BCDI_FOURIER_TERMS * sizeof(double));
            update[b] = xmalloc(batch * BCDI_UPDATE_TERMS * sizeof(double));
            op_ok(bcdi_phasing_iterate(&ws, BCDI_ALGO_HIO, 0.9f, 0, 0, fourier[b], update[b]), b,
                  "bcdi_phasing_iterate with sums");
        }
        bcdi_cf *cpu, *gpu;
        mirror_get(&rho, (void **)&cpu, (void **)&gpu);
        report(label, "iterate HIO with sums CPU vs CUDA", rel_max_cf(cpu, gpu, n * batch), 1e-5);
        report(label, "iterate fourier terms CPU vs CUDA",
               rel_terms(fourier[CPU], fourier[GPU], batch * BCDI_FOURIER_TERMS), 1e-5);
        report(label, "iterate update terms CPU vs CUDA",
               rel_terms(update[CPU], update[GPU], batch * BCDI_UPDATE_TERMS), 1e-5);
        free(cpu), free(gpu);
        for (int b = 0; b < 2; ++b)
            free(fourier[b]), free(update[b]);
    }
    for (int b = 0; b < 2; ++b)
        if (plan[b]) backends[b]->ops->fft_destroy(plan[b]);
    mirror_free(&rho), mirror_free(&composed), mirror_free(&psi), mirror_free(&amp);
    mirror_free(&mask), mirror_free(&support);
    free(rho_h), free(amp_h), free(mask_h), free(support_h);
}

static void check_reconstruction(int recipe_count)
{
    bcdi_simulate_params sp;
    bcdi_simulate_default(&sp);
    sp.shape[0] = sp.shape[1] = sp.shape[2] = 32;
    sp.dislocation_count = 1;
    sp.dislocations[0] = (bcdi_sim_dislocation){{80, -40, 0}, {0, 0, 1}, {0, 0, 4.733}};
    bcdi_geometry g;
    bcdi_simulate_object obj;
    if (bcdi_simulate_geometry(&sp, &g) || bcdi_simulate_make_object(&sp, &g, &obj))
        die("simulating the test crystal");
    size_t n = 32 * 32 * 32;
    float *intensity = xmalloc(n * sizeof *intensity);
    uint8_t *support = xmalloc(n);
    if (bcdi_simulate_intensity(backends[CPU], obj.shape, obj.object, intensity)) die("intensity");
    for (size_t i = 0; i < n; ++i)
        support[i] = obj.amplitude[i] > 1e-3f;
    const char *recipes[2] = {"5*HIO + 3*DM + 2*ER", "250*HIO + 50*ER"};
    const double tolerance[2] = {1e-4, 1e-3};
    for (int k = 0; k < recipe_count; ++k) {
        bcdi_phasing_params p;
        bcdi_phasing_default(&p);
        snprintf(p.recipe, sizeof p.recipe, "%s", recipes[k]);
        p.support_init = BCDI_SUPPORT_FILE;
        p.shrinkwrap_period = 0;
        p.runs = p.keep = 2;
        p.seed = 11;
        bcdi_phasing_data d = {{32, 32, 32}, intensity, NULL, support};
        bcdi_phasing_result r[2];
        for (int b = 0; b < 2; ++b)
            if (bcdi_phase(backends[b], &p, &d, NULL, NULL, &r[b]) != BCDI_OK) die("bcdi_phase");
        double worst = 0;
        for (size_t run = 0; run < r[CPU].count; ++run) {
            bcdi_object_error e;
            /* same rank on both backends: compare the objects after alignment */
            if (bcdi_compare_objects(r[CPU].shape, r[CPU].runs[run].object, r[GPU].runs[run].object,
                                     NULL, 0, &e) != BCDI_OK)
                die("compare");
            if (e.relative_error > worst) worst = e.relative_error;
        }
        char label[64];
        snprintf(label, sizeof label, "phase 32^3 x2 '%s'", recipes[k]);
        report(label, "CPU vs CUDA object (rel)", worst, tolerance[k]);
        bcdi_phasing_result_free(&r[CPU]);
        bcdi_phasing_result_free(&r[GPU]);
    }
    free(intensity);
    free(support);
    bcdi_simulate_object_free(&obj);
}

int main(int argc, char **argv)
{
    int short_set = 0, device_facts = 0;
    double host_gib = 0.0;
    size_t try_cap = 0;
    for (int a = 1; a < argc; ++a) {
        if (!strcmp(argv[a], "--short")) {
            short_set = 1;
        } else if (!strcmp(argv[a], "--device-facts")) {
            device_facts = 1;
            if (a + 1 < argc && argv[a + 1][0] != '-') host_gib = atof(argv[++a]);
            if (a + 1 < argc && argv[a + 1][0] != '-') try_cap = (size_t)atol(argv[++a]);
        } else {
            fprintf(stderr,
                    "usage: bcdi_gpu_checks [--short | --device-facts [host_gib [try_cap]]]\n");
            return 2;
        }
    }
    if (bcdi_cuda_device_count() == 0) {
        printf("skipped: no CUDA device\n");
        return 77;
    }
    if (device_facts) return gpu_device_facts(host_gib, try_cap);
    if (bcdi_backend_cpu_open(&backends[CPU]) != BCDI_OK) die("opening the CPU backend");
    if (bcdi_backend_cuda_open(0, &backends[GPU]) != BCDI_OK) die("opening CUDA device 0");
    printf("CPU:  %s\nCUDA: %s\n", backends[CPU]->device_name, backends[GPU]->device_name);

    static const shape_case cases[] = {
        {{7, 6, 5}, 3}, {{16, 16, 16}, 2}, {{33, 20, 48}, 1}, /* several reduce blocks per run */
    };
    const size_t case_count = short_set ? 2 : sizeof cases / sizeof cases[0];
    for (size_t c = 0; c < case_count; ++c) {
        const size_t *shape = cases[c].shape;
        const size_t batch = cases[c].batch;
        const size_t n = shape[0] * shape[1] * shape[2];
        char label[48];
        snprintf(label, sizeof label, "%zux%zux%zu b%zu", shape[0], shape[1], shape[2], batch);
        check_random(label, n, batch);
        check_fft(label, shape, n, batch);
        check_modulus(label, n, batch);
        check_update(label, n, batch);
        check_elementwise(label, n, batch);
        check_blur(label, shape, n, batch);
        check_reductions(label, n, batch);
        check_fused_iteration(label, shape, n, batch);
        check_psf(label, shape, n, batch);
    }

    check_reconstruction(short_set ? 1 : 2);

    bcdi_backend_close(backends[GPU]);
    bcdi_backend_close(backends[CPU]);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
