/* SPDX-License-Identifier: BSD-3-Clause */
/* Simulation parameters: the key table bound to bcdi_simulate_params (defaults, ranges,
 * help), the rules between keys, and provenance strings. */
#include "bcdi/simulate.h"
#include "instrument/excalibur.h"
#include "num/constants.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEX_PLATELET_FACETS                                                                        \
    "0,0,1,0.6;0,0,-1,0.6;1,0,0,1;0.5,0.8660254,0,1;-0.5,0.8660254,0,1;-1,0,0,1;"                  \
    "-0.5,-0.8660254,0,1;0.5,-0.8660254,0,1"

static const char *const crystal_names[] = {"polyhedron", "ellipsoid", "box", NULL};
static const char *const noise_names[] = {"poisson", "none", NULL};
static const char *const gaps_names[] = {"inserted", "raw", "none", NULL};
static const char *const dtype_names[] = {"uint16", "uint32", "float32", NULL};
static const char *const bits_names[] = {"0", "1", "6", "12", "24", NULL};
static const int bits_values[] = {0, 1, 6, 12, 24};

/* Parse up to max numbers separated by commas from [s, end); returns the count or -1. */
static int parse_numbers(const char *s, const char *end, double *out, int max)
{
    int count = 0;
    while (s < end) {
        while (s < end && (*s == ' ' || *s == '\t'))
            ++s;
        if (s >= end) break;
        char *stop = NULL;
        double v = strtod(s, &stop);
        if (stop == s || stop > end || !isfinite(v) || count >= max) return -1;
        out[count++] = v;
        s = stop;
        while (s < end && (*s == ' ' || *s == '\t'))
            ++s;
        if (s < end) {
            if (*s != ',') return -1;
            ++s;
            if (s >= end) return -1; /* trailing comma */
        }
    }
    return count;
}

/* "nx,ny,nz,dist;..." */
static bcdi_status parse_facets(const char *text, void *params)
{
    bcdi_simulate_params *p = params;
    p->facet_count = 0;
    const char *s = text;
    while (*s) {
        const char *end = strchr(s, ';');
        if (!end) end = s + strlen(s);
        double v[4];
        const char *t = s;
        while (t < end && (*t == ' ' || *t == '\t'))
            ++t;
        if (t < end) {
            if (p->facet_count >= BCDI_SIM_MAX_FACETS)
                return bcdi_error(BCDI_ERR_INVALID_ARG, "facets: more than %d facets",
                                  BCDI_SIM_MAX_FACETS);
            if (parse_numbers(s, end, v, 4) != 4)
                return bcdi_error(BCDI_ERR_INVALID_ARG, "facets: '%.*s' is not 'nx,ny,nz,dist'",
                                  (int)(end - s), s);
            bcdi_sim_facet *f = &p->facets[p->facet_count++];
            f->normal[0] = v[0];
            f->normal[1] = v[1];
            f->normal[2] = v[2];
            f->distance = v[3];
        }
        s = *end ? end + 1 : end;
    }
    return BCDI_OK;
}

/* "p=x,y,z d=x,y,z b=x,y,z;..." (fields in any order, all three required) */
static bcdi_status parse_dislocations(const char *text, void *params)
{
    bcdi_simulate_params *p = params;
    p->dislocation_count = 0;
    const char *s = text;
    while (*s) {
        const char *end = strchr(s, ';');
        if (!end) end = s + strlen(s);
        const char *t = s;
        int seen = 0;
        bcdi_sim_dislocation line;
        memset(&line, 0, sizeof line);
        while (t < end) {
            while (t < end && (*t == ' ' || *t == '\t'))
                ++t;
            if (t >= end) break;
            const char *field_end = t;
            while (field_end < end && *field_end != ' ' && *field_end != '\t')
                ++field_end;
            double *dst = NULL;
            int bit = 0;
            if (field_end - t > 2 && t[1] == '=') {
                if (t[0] == 'p') dst = line.position_nm, bit = 1;
                if (t[0] == 'd') dst = line.direction, bit = 2;
                if (t[0] == 'b') dst = line.burgers_angstrom, bit = 4;
            }
            if (!dst || parse_numbers(t + 2, field_end, dst, 3) != 3)
                return bcdi_error(BCDI_ERR_INVALID_ARG,
                                  "dislocations: '%.*s' is not p=x,y,z, d=x,y,z or b=x,y,z",
                                  (int)(field_end - t), t);
            seen |= bit;
            t = field_end;
        }
        if (seen) {
            if (seen != 7)
                return bcdi_error(BCDI_ERR_INVALID_ARG,
                                  "dislocations: '%.*s' needs p=, d= and b=", (int)(end - s), s);
            if (p->dislocation_count >= BCDI_SIM_MAX_DISLOCATIONS)
                return bcdi_error(BCDI_ERR_INVALID_ARG, "dislocations: more than %d lines",
                                  BCDI_SIM_MAX_DISLOCATIONS);
            p->dislocations[p->dislocation_count++] = line;
        }
        s = *end ? end + 1 : end;
    }
    return BCDI_OK;
}

#define SIM bcdi_simulate_params
static const bcdi_param_spec simulate_specs[] = {
    BCDI_KEY_NUMBERS("shape", SIM, shape, "64,64,64", 3, 2, 4096, BCDI_PARAM_INTEGER,
                     "n0,n1,n2: rocking frames, detector rows, columns"),
    BCDI_KEY_DOUBLE("oversampling", SIM, oversampling, "3", 1, 64, 0,
                    "field of view / crystal diameter along the narrowest axis"),
    BCDI_KEY_CHOICE("crystal", SIM, crystal, "polyhedron", crystal_names, NULL, "crystal shape"),
    BCDI_KEY_PARSED("facets", HEX_PLATELET_FACETS, parse_facets,
                    "polyhedron facets 'nx,ny,nz,dist;...' (crystal frame, z = G; dist in units "
                    "of R, > 0; at least 4, at most 64); default a hexagonal platelet"),
    BCDI_KEY_NUMBERS("axes", SIM, axes, "1,1,0.6", 3, 0, 1, BCDI_PARAM_MIN_OPEN,
                     "ellipsoid/box semi-axes along crystal x,y,z in units of R"),
    BCDI_KEY_INT("domains", SIM, domains, "1", 1, BCDI_SIM_MAX_DOMAINS,
                 "number of Voronoi domains (1 = single crystal)"),
    BCDI_KEY_DOUBLE("domain_tilt_deg", SIM, domain_tilt_deg, "0.05", -10, 10, 0,
                    "lattice tilt of each domain about a random axis perpendicular to G "
                    "(domains >= 2)"),
    BCDI_KEY_DOUBLE("domain_gap", SIM, domain_gap, "0", 0, 64, 0,
                    "voxels of zero density along domain boundaries"),
    BCDI_KEY_PARSED("dislocations", NULL, parse_dislocations,
                    "straight lines 'p=x,y,z d=x,y,z b=x,y,z;...': point (nm from the centre), "
                    "direction, Burgers vector (Å), crystal frame (z = G); at most 32"),
    BCDI_KEY_DOUBLE("core_radius", SIM, core_radius, "1", 0, 64, 0,
                    "dislocation core radius in voxels (density dip)"),
    BCDI_KEY_DOUBLE("strain", SIM, strain, "0", -0.5, 0.5,
                    BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN, "uniform strain along G"),
    BCDI_KEY_DOUBLE("d_spacing", SIM, d_spacing_angstrom, "4.733", 0, 1000, BCDI_PARAM_MIN_OPEN,
                    "d-spacing of the reflection, Å"),
    BCDI_KEY_NUMBERS("hkl", SIM, hkl, "0,0,3", 3, -1000, 1000,
                     BCDI_PARAM_INTEGER | BCDI_PARAM_NONZERO,
                     "Miller indices of the reflection (provenance)"),
    BCDI_KEY_DOUBLE("energy_kev", SIM, energy_kev, "11", 0, 1000, BCDI_PARAM_MIN_OPEN,
                    "X-ray energy, keV"),
    BCDI_KEY_DOUBLE("distance_m", SIM, distance_m, "2.9", 0, 1000, BCDI_PARAM_MIN_OPEN,
                    "sample-detector distance, m"),
    BCDI_KEY_DOUBLE("pixel_um", SIM, pixel_um, "55", 0, 10000, BCDI_PARAM_MIN_OPEN,
                    "detector pixel size, µm"),
    BCDI_KEY_DOUBLE("rocking_step_deg", SIM, rocking_step_deg, "0.005", -5, 5, 0,
                    "rocking step between frames, degrees (not 0)"),
    BCDI_KEY_DOUBLE("two_theta_deg", SIM, two_theta_deg, NULL, 0, 180,
                    BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN,
                    "detector 2θ, degrees (default: Bragg's law)", .word = "bragg"),
    BCDI_KEY_DOUBLE("photons", SIM, photons, "1e8", 0, 1e15, 0,
                    "expected total counts (0 = no scaling)"),
    BCDI_KEY_CHOICE("noise", SIM, noise, "poisson", noise_names, NULL, "noise model"),
    BCDI_KEY_CHOICE("gaps", SIM, gaps, "inserted", gaps_names, NULL,
                    "Excalibur gaps: inserted (zero and masked), raw (gap lines removed) or none"),
    BCDI_KEY_NUMBERS("roi_origin", SIM, roi_origin, "center", 2, 0, 1e6, BCDI_PARAM_INTEGER,
                     "row,col of the simulated region on the gapped 1795 x 2069 frame, or center",
                     .word = "center", .word_offset = offsetof(SIM, roi_centered)),
    BCDI_KEY_INT("dead_pixels", SIM, dead_pixels, "0", 0, 1e9,
                 "number of dead pixels (0 and masked); fewer than half the frame"),
    BCDI_KEY_CHOICE("bits", SIM, bits, "12", bits_names, bits_values,
                    "counter depth (0 = none): clip at 2^bits - 1"),
    BCDI_KEY_CHOICE("dtype", SIM, dtype, "uint16", dtype_names, NULL, "stored type"),
    BCDI_KEY_INT("deflate", SIM, deflate, "4", 0, 9, "gzip level of the written datasets"),
    BCDI_KEY_STRING("tiff", SIM, tiff_dir, NULL,
                    "also write the frames as TIFF files into this folder"),
    BCDI_KEY_STRING("truth", SIM, truth, NULL,
                    "true object CXI file (default <output stem>_truth.cxi)"),
    BCDI_KEY_STRING("output", SIM, output, NULL, "NeXus stack to write (the CLI's -o)"),
    BCDI_KEY_MAX_MEMORY(SIM, max_memory),
    BCDI_KEY_INT("seed", SIM, seed, "1", 0, 9007199254740991.0,
                 "random seed (Philox key; up to 2^53 - 1)"),
};
#undef SIM

static bcdi_status simulate_rules(const void *params, const bcdi_config *cfg);

static const bcdi_param_table simulate_table = {
    "simulate",
    simulate_specs,
    sizeof simulate_specs / sizeof *simulate_specs,
    sizeof(bcdi_simulate_params),
    simulate_rules,
};

const bcdi_param_table *bcdi_simulate_param_table(void)
{
    return &simulate_table;
}

const bcdi_param_spec *bcdi_simulate_param_specs(size_t *count)
{
    *count = simulate_table.count;
    return simulate_specs;
}

void bcdi_simulate_default(bcdi_simulate_params *p)
{
    (void)bcdi_params_defaults(&simulate_table, p); /* a constant table, known good */
}

static int positive_finite(double v)
{
    return isfinite(v) && v > 0.0;
}

/* What the key table cannot say alone: facets and lines, the Bragg condition, the region on
 * the detector, counts that fit the stored type. */
static bcdi_status simulate_rules(const void *params, const bcdi_config *cfg)
{
    (void)cfg;
    const bcdi_simulate_params *p = params;
    if (p->crystal == BCDI_SIM_POLYHEDRON) {
        if (p->facet_count < 4 || p->facet_count > BCDI_SIM_MAX_FACETS)
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "facets: %zu given, a closed polyhedron needs at least 4",
                              p->facet_count);
        for (size_t k = 0; k < p->facet_count; ++k) {
            const bcdi_sim_facet *f = &p->facets[k];
            double len = sqrt(f->normal[0] * f->normal[0] + f->normal[1] * f->normal[1] +
                              f->normal[2] * f->normal[2]);
            if (!positive_finite(len) || !positive_finite(f->distance))
                return bcdi_error(BCDI_ERR_INVALID_ARG,
                                  "facets: facet %zu needs a non-zero normal and a distance > 0",
                                  k + 1);
        }
    }
    if (p->dislocation_count > BCDI_SIM_MAX_DISLOCATIONS)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "dislocations: more than %d lines",
                          BCDI_SIM_MAX_DISLOCATIONS);
    for (size_t k = 0; k < p->dislocation_count; ++k) {
        const bcdi_sim_dislocation *l = &p->dislocations[k];
        double len = sqrt(l->direction[0] * l->direction[0] + l->direction[1] * l->direction[1] +
                          l->direction[2] * l->direction[2]);
        if (!positive_finite(len))
            return bcdi_error(BCDI_ERR_INVALID_ARG, "dislocations: line %zu has no direction",
                              k + 1);
        for (int a = 0; a < 3; ++a)
            if (!isfinite(l->position_nm[a]) || !isfinite(l->burgers_angstrom[a]))
                return bcdi_error(BCDI_ERR_INVALID_ARG,
                                  "dislocations: line %zu has a non-finite value", k + 1);
    }
    if (p->rocking_step_deg == 0.0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "rocking_step_deg: 0, expected a non-zero step");
    double lambda_angstrom = BCDI_HC_KEV_ANGSTROM / p->energy_kev;
    if (p->two_theta_deg <= 0.0 && lambda_angstrom > 2.0 * p->d_spacing_angstrom)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "d_spacing: %g Å is below λ/2 = %g Å at %g keV, no Bragg reflection",
                          p->d_spacing_angstrom, lambda_angstrom / 2.0, p->energy_kev);
    if (p->gaps != BCDI_SIM_GAPS_NONE && !p->roi_centered) {
        bcdi_excalibur det;
        bcdi_excalibur_default(&det);
        size_t rows = bcdi_excalibur_gapped_rows(&det), cols = bcdi_excalibur_gapped_cols(&det);
        if ((size_t)p->roi_origin[0] + p->shape[1] > rows ||
            (size_t)p->roi_origin[1] + p->shape[2] > cols)
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "roi_origin: a %zu x %zu region at (%ld, %ld) leaves the %zu x %zu "
                              "Excalibur frame",
                              p->shape[1], p->shape[2], p->roi_origin[0], p->roi_origin[1], rows,
                              cols);
    }
    if (p->gaps != BCDI_SIM_GAPS_NONE && p->roi_centered) {
        bcdi_excalibur det;
        bcdi_excalibur_default(&det);
        if (p->shape[1] > bcdi_excalibur_gapped_rows(&det) ||
            p->shape[2] > bcdi_excalibur_gapped_cols(&det))
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "shape: %zu x %zu frames exceed the Excalibur detector (use "
                              "gaps=none)",
                              p->shape[1], p->shape[2]);
    }
    if ((size_t)p->dead_pixels >= p->shape[1] * p->shape[2] / 2)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "dead_pixels: %ld, expected 0 .. half the %zu x %zu frame",
                          p->dead_pixels, p->shape[1], p->shape[2]);
    if (p->bits == 24 && p->dtype == BCDI_SIM_UINT16)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "bits: 24-bit counts do not fit dtype uint16 (use uint32 or float32)");
    return BCDI_OK;
}

bcdi_status bcdi_simulate_validate(const bcdi_simulate_params *p)
{
    return bcdi_params_check(&simulate_table, p, NULL);
}

bcdi_status bcdi_simulate_params_from_config(const bcdi_config *cfg, bcdi_simulate_params *out)
{
    bcdi_simulate_params *p = malloc(sizeof *p);
    if (!p) return bcdi_error(BCDI_ERR_NOMEM, "simulate parameters");
    bcdi_status st = bcdi_config_bind(cfg, &simulate_table, p);
    if (st == BCDI_OK) *out = *p;
    free(p);
    return st;
}

/* ---- provenance strings ---- */

static char *format_alloc(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#include <stdarg.h>
static char *format_alloc(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (len < 0) return NULL;
    char *text = malloc((size_t)len + 1);
    if (!text) return NULL;
    va_start(args, fmt);
    vsnprintf(text, (size_t)len + 1, fmt, args);
    va_end(args);
    return text;
}

static char *format_facets(const bcdi_simulate_params *p)
{
    size_t capacity = p->facet_count * 128 + 1;
    char *text = malloc(capacity);
    if (!text) return NULL;
    text[0] = '\0';
    size_t used = 0;
    for (size_t k = 0; k < p->facet_count; ++k) {
        const bcdi_sim_facet *f = &p->facets[k];
        used +=
            (size_t)snprintf(text + used, capacity - used, "%s%.9g,%.9g,%.9g,%.9g", k ? ";" : "",
                             f->normal[0], f->normal[1], f->normal[2], f->distance);
    }
    return text;
}

static char *format_dislocations(const bcdi_simulate_params *p)
{
    size_t capacity = p->dislocation_count * 256 + 1;
    char *text = malloc(capacity);
    if (!text) return NULL;
    text[0] = '\0';
    size_t used = 0;
    for (size_t k = 0; k < p->dislocation_count; ++k) {
        const bcdi_sim_dislocation *l = &p->dislocations[k];
        used += (size_t)snprintf(
            text + used, capacity - used, "%sp=%.9g,%.9g,%.9g d=%.9g,%.9g,%.9g b=%.9g,%.9g,%.9g",
            k ? ";" : "", l->position_nm[0], l->position_nm[1], l->position_nm[2], l->direction[0],
            l->direction[1], l->direction[2], l->burgers_angstrom[0], l->burgers_angstrom[1],
            l->burgers_angstrom[2]);
    }
    return text;
}

double bcdi_simulate_memory_estimate(const bcdi_simulate_params *p)
{
    double n = (double)p->shape[0] * (double)p->shape[1] * (double)p->shape[2];
    return 64.0 * 1048576.0 + n * (18.0 + 4.0 + 24.0 + 8.0);
}

bcdi_status bcdi_simulate_params_strings(const bcdi_simulate_params *p, char ***keys_out,
                                         char ***values_out, size_t *count_out)
{
    size_t count = 0;
    const bcdi_param_spec *specs = bcdi_simulate_param_specs(&count);
    char **keys = calloc(count, sizeof *keys);
    char **values = calloc(count, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return bcdi_error(BCDI_ERR_NOMEM, "simulate provenance strings");
    }
    for (size_t i = 0; i < count; ++i) {
        const char *key = specs[i].key;
        char *v = NULL;
        if (!strcmp(key, "shape"))
            v = format_alloc("%zu,%zu,%zu", p->shape[0], p->shape[1], p->shape[2]);
        else if (!strcmp(key, "oversampling"))
            v = format_alloc("%.9g", p->oversampling);
        else if (!strcmp(key, "crystal"))
            v = format_alloc("%s", crystal_names[p->crystal]);
        else if (!strcmp(key, "facets"))
            v = format_facets(p);
        else if (!strcmp(key, "axes"))
            v = format_alloc("%.9g,%.9g,%.9g", p->axes[0], p->axes[1], p->axes[2]);
        else if (!strcmp(key, "domains"))
            v = format_alloc("%d", p->domains);
        else if (!strcmp(key, "domain_tilt_deg"))
            v = format_alloc("%.9g", p->domain_tilt_deg);
        else if (!strcmp(key, "domain_gap"))
            v = format_alloc("%.9g", p->domain_gap);
        else if (!strcmp(key, "dislocations"))
            v = format_dislocations(p);
        else if (!strcmp(key, "core_radius"))
            v = format_alloc("%.9g", p->core_radius);
        else if (!strcmp(key, "strain"))
            v = format_alloc("%.9g", p->strain);
        else if (!strcmp(key, "d_spacing"))
            v = format_alloc("%.9g", p->d_spacing_angstrom);
        else if (!strcmp(key, "hkl"))
            v = format_alloc("%d,%d,%d", p->hkl[0], p->hkl[1], p->hkl[2]);
        else if (!strcmp(key, "energy_kev"))
            v = format_alloc("%.9g", p->energy_kev);
        else if (!strcmp(key, "distance_m"))
            v = format_alloc("%.9g", p->distance_m);
        else if (!strcmp(key, "pixel_um"))
            v = format_alloc("%.9g", p->pixel_um);
        else if (!strcmp(key, "rocking_step_deg"))
            v = format_alloc("%.9g", p->rocking_step_deg);
        else if (!strcmp(key, "two_theta_deg"))
            v = p->two_theta_deg > 0.0 ? format_alloc("%.9g", p->two_theta_deg)
                                       : format_alloc("bragg");
        else if (!strcmp(key, "photons"))
            v = format_alloc("%.9g", p->photons);
        else if (!strcmp(key, "noise"))
            v = format_alloc("%s", noise_names[p->noise]);
        else if (!strcmp(key, "gaps"))
            v = format_alloc("%s", gaps_names[p->gaps]);
        else if (!strcmp(key, "roi_origin"))
            v = p->roi_centered ? format_alloc("center")
                                : format_alloc("%ld,%ld", p->roi_origin[0], p->roi_origin[1]);
        else if (!strcmp(key, "dead_pixels"))
            v = format_alloc("%ld", p->dead_pixels);
        else if (!strcmp(key, "bits"))
            v = format_alloc("%d", p->bits);
        else if (!strcmp(key, "dtype"))
            v = format_alloc("%s", dtype_names[p->dtype]);
        else if (!strcmp(key, "deflate"))
            v = format_alloc("%d", p->deflate);
        else if (!strcmp(key, "tiff"))
            v = format_alloc("%s", p->tiff_dir);
        else if (!strcmp(key, "truth"))
            v = format_alloc("%s", p->truth);
        else if (!strcmp(key, "output"))
            v = format_alloc("%s", p->output);
        else if (!strcmp(key, "seed"))
            v = format_alloc("%llu", (unsigned long long)p->seed);
        else if (!strcmp(key, "max_memory"))
            v = p->max_memory ? format_alloc("%zu", p->max_memory) : format_alloc("auto");
        else
            v = format_alloc("%s", "");
        keys[i] = format_alloc("%s", key);
        values[i] = v;
        if (!keys[i] || !values[i]) {
            bcdi_simulate_strings_free(keys, values, count);
            return bcdi_error(BCDI_ERR_NOMEM, "simulate provenance strings");
        }
    }
    *keys_out = keys;
    *values_out = values;
    *count_out = count;
    return BCDI_OK;
}

void bcdi_simulate_strings_free(char **keys, char **values, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        if (keys) free(keys[i]);
        if (values) free(values[i]);
    }
    free(keys);
    free(values);
}
