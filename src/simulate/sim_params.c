/* Simulation parameters: defaults, validation, configuration keys and provenance strings. */
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

static const bcdi_param_spec simulate_specs[] = {
    {"shape", BCDI_PARAM_LIST, "64,64,64", "n0,n1,n2: rocking frames, detector rows, columns"},
    {"oversampling", BCDI_PARAM_DOUBLE, "3",
     "field of view / crystal diameter along the narrowest axis (>= 1)"},
    {"crystal", BCDI_PARAM_STRING, "polyhedron", "crystal shape: polyhedron, ellipsoid or box"},
    {"facets", BCDI_PARAM_LIST, HEX_PLATELET_FACETS,
     "polyhedron facets 'nx,ny,nz,dist;...' (crystal frame, z = G; dist in units of R); default "
     "a hexagonal platelet"},
    {"axes", BCDI_PARAM_LIST, "1,1,0.6",
     "ellipsoid/box semi-axes along crystal x,y,z in units of R"},
    {"domains", BCDI_PARAM_INT, "1", "number of Voronoi domains (1 = single crystal)"},
    {"domain_tilt_deg", BCDI_PARAM_DOUBLE, "0.05",
     "lattice tilt of each domain about a random axis perpendicular to G (domains >= 2)"},
    {"domain_gap", BCDI_PARAM_DOUBLE, "0", "voxels of zero density along domain boundaries"},
    {"dislocations", BCDI_PARAM_LIST, NULL,
     "straight lines 'p=x,y,z d=x,y,z b=x,y,z;...': point (nm from the centre), direction, "
     "Burgers vector (Å), crystal frame (z = G)"},
    {"core_radius", BCDI_PARAM_DOUBLE, "1", "dislocation core radius in voxels (density dip)"},
    {"strain", BCDI_PARAM_DOUBLE, "0", "uniform strain along G"},
    {"d_spacing", BCDI_PARAM_DOUBLE, "4.733", "d-spacing of the reflection, Å"},
    {"hkl", BCDI_PARAM_LIST, "0,0,3", "Miller indices of the reflection (provenance)"},
    {"energy_kev", BCDI_PARAM_DOUBLE, "11", "X-ray energy, keV"},
    {"distance_m", BCDI_PARAM_DOUBLE, "2.9", "sample-detector distance, m"},
    {"pixel_um", BCDI_PARAM_DOUBLE, "55", "detector pixel size, µm"},
    {"rocking_step_deg", BCDI_PARAM_DOUBLE, "0.005", "rocking step between frames, degrees"},
    {"two_theta_deg", BCDI_PARAM_DOUBLE, NULL, "detector 2θ, degrees (default: Bragg's law)"},
    {"photons", BCDI_PARAM_DOUBLE, "1e8", "expected total counts (0 = no scaling)"},
    {"noise", BCDI_PARAM_STRING, "poisson", "poisson or none"},
    {"gaps", BCDI_PARAM_STRING, "inserted",
     "Excalibur gaps: inserted (zero and masked), raw (gap lines removed) or none"},
    {"roi_origin", BCDI_PARAM_LIST, "center",
     "row,col of the simulated region on the gapped 1795 x 2069 frame, or center"},
    {"dead_pixels", BCDI_PARAM_INT, "0", "number of dead pixels (0 and masked)"},
    {"bits", BCDI_PARAM_INT, "12", "counter depth 0 (none), 1, 6, 12 or 24: clip at 2^bits - 1"},
    {"dtype", BCDI_PARAM_STRING, "uint16", "stored type: uint16, uint32 or float32"},
    {"deflate", BCDI_PARAM_INT, "4", "gzip level of the written datasets (0-9)"},
    {"tiff", BCDI_PARAM_STRING, NULL, "also write the frames as TIFF files into this folder"},
    {"truth", BCDI_PARAM_STRING, NULL, "true object CXI file (default <output stem>_truth.cxi)"},
    {"output", BCDI_PARAM_STRING, NULL, "NeXus stack to write (the CLI's -o)"},
    {"seed", BCDI_PARAM_INT, "1", "random seed (Philox key)"},
};

const bcdi_param_spec *bcdi_simulate_param_specs(size_t *count)
{
    *count = sizeof simulate_specs / sizeof simulate_specs[0];
    return simulate_specs;
}

static const char *crystal_names[] = {"polyhedron", "ellipsoid", "box"};
static const char *noise_names[] = {"poisson", "none"};
static const char *gaps_names[] = {"inserted", "raw", "none"};
static const char *dtype_names[] = {"uint16", "uint32", "float32"};

static int name_index(const char *value, const char *const *names, int count)
{
    for (int i = 0; i < count; ++i)
        if (strcmp(value, names[i]) == 0) return i;
    return -1;
}

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
static bcdi_status parse_facets(const char *text, bcdi_simulate_params *p)
{
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
static bcdi_status parse_dislocations(const char *text, bcdi_simulate_params *p)
{
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

void bcdi_simulate_default(bcdi_simulate_params *p)
{
    memset(p, 0, sizeof(*p));
    p->shape[0] = p->shape[1] = p->shape[2] = 64;
    p->oversampling = 3.0;
    p->crystal = BCDI_SIM_POLYHEDRON;
    (void)parse_facets(HEX_PLATELET_FACETS, p); /* constant text, known good */
    p->axes[0] = 1.0;
    p->axes[1] = 1.0;
    p->axes[2] = 0.6;
    p->domains = 1;
    p->domain_tilt_deg = 0.05;
    p->domain_gap = 0.0;
    p->core_radius = 1.0;
    p->strain = 0.0;
    p->d_spacing_angstrom = 4.733;
    p->hkl[2] = 3;
    p->energy_kev = 11.0;
    p->distance_m = 2.9;
    p->pixel_um = 55.0;
    p->rocking_step_deg = 0.005;
    p->two_theta_deg = 0.0;
    p->photons = 1e8;
    p->noise = BCDI_SIM_NOISE_POISSON;
    p->gaps = BCDI_SIM_GAPS_INSERTED;
    p->roi_centered = 1;
    p->dead_pixels = 0;
    p->bits = 12;
    p->dtype = BCDI_SIM_UINT16;
    p->deflate = 4;
    p->seed = 1;
}

static int positive_finite(double v)
{
    return isfinite(v) && v > 0.0;
}

bcdi_status bcdi_simulate_validate(const bcdi_simulate_params *p)
{
    for (int a = 0; a < 3; ++a)
        if (p->shape[a] < 2 || p->shape[a] > 4096)
            return bcdi_error(BCDI_ERR_INVALID_ARG, "shape: axis %d is %zu, expected 2..4096", a,
                              p->shape[a]);
    if (!(isfinite(p->oversampling) && p->oversampling >= 1.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "oversampling: %g, expected >= 1", p->oversampling);
    if ((int)p->crystal < 0 || (int)p->crystal > BCDI_SIM_BOX)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "crystal: unknown shape %d", (int)p->crystal);
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
    } else {
        for (int a = 0; a < 3; ++a)
            if (!positive_finite(p->axes[a]) || p->axes[a] > 1.0 + 1e-12)
                return bcdi_error(BCDI_ERR_INVALID_ARG,
                                  "axes: %g along axis %d, expected 0 < axis <= 1 (units of R)",
                                  p->axes[a], a);
    }
    if (p->domains < 1 || p->domains > BCDI_SIM_MAX_DOMAINS)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "domains: %d, expected 1..%d", p->domains,
                          BCDI_SIM_MAX_DOMAINS);
    if (!isfinite(p->domain_tilt_deg) || fabs(p->domain_tilt_deg) > 10.0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "domain_tilt_deg: %g, expected |tilt| <= 10",
                          p->domain_tilt_deg);
    if (!(isfinite(p->domain_gap) && p->domain_gap >= 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "domain_gap: %g, expected >= 0", p->domain_gap);
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
    if (!(isfinite(p->core_radius) && p->core_radius >= 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "core_radius: %g, expected >= 0", p->core_radius);
    if (!isfinite(p->strain) || fabs(p->strain) >= 0.5)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "strain: %g, expected |strain| < 0.5", p->strain);
    if (!positive_finite(p->d_spacing_angstrom))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "d_spacing: %g Å, expected > 0",
                          p->d_spacing_angstrom);
    if (!positive_finite(p->energy_kev))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "energy_kev: %g, expected > 0", p->energy_kev);
    if (!positive_finite(p->distance_m))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "distance_m: %g, expected > 0", p->distance_m);
    if (!positive_finite(p->pixel_um))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "pixel_um: %g, expected > 0", p->pixel_um);
    if (!isfinite(p->rocking_step_deg) || p->rocking_step_deg == 0.0 ||
        fabs(p->rocking_step_deg) > 5.0)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "rocking_step_deg: %g, expected non-zero and |step| <= 5",
                          p->rocking_step_deg);
    if (!isfinite(p->two_theta_deg) || p->two_theta_deg >= 180.0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "two_theta_deg: %g, expected < 180",
                          p->two_theta_deg);
    double lambda_angstrom = BCDI_HC_KEV_ANGSTROM / p->energy_kev;
    if (p->two_theta_deg <= 0.0 && lambda_angstrom > 2.0 * p->d_spacing_angstrom)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "d_spacing: %g Å is below λ/2 = %g Å at %g keV, no Bragg reflection",
                          p->d_spacing_angstrom, lambda_angstrom / 2.0, p->energy_kev);
    if (!(isfinite(p->photons) && p->photons >= 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "photons: %g, expected >= 0", p->photons);
    if ((int)p->noise < 0 || (int)p->noise > BCDI_SIM_NOISE_NONE)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "noise: unknown model %d", (int)p->noise);
    if ((int)p->gaps < 0 || (int)p->gaps > BCDI_SIM_GAPS_NONE)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "gaps: unknown mode %d", (int)p->gaps);
    if (!p->roi_centered && (p->roi_origin[0] < 0 || p->roi_origin[1] < 0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "roi_origin: %ld,%ld, expected >= 0",
                          p->roi_origin[0], p->roi_origin[1]);
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
    if (p->dead_pixels < 0 || (size_t)p->dead_pixels >= p->shape[1] * p->shape[2] / 2)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "dead_pixels: %ld, expected 0 .. half the %zu x %zu frame",
                          p->dead_pixels, p->shape[1], p->shape[2]);
    if (p->bits != 0 && p->bits != 1 && p->bits != 6 && p->bits != 12 && p->bits != 24)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bits: %d, expected 0, 1, 6, 12 or 24", p->bits);
    if ((int)p->dtype < 0 || (int)p->dtype > BCDI_SIM_FLOAT32)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "dtype: unknown type %d", (int)p->dtype);
    if (p->bits == 24 && p->dtype == BCDI_SIM_UINT16)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "bits: 24-bit counts do not fit dtype uint16 (use uint32 or float32)");
    if (p->deflate < 0 || p->deflate > 9)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "deflate: %d, expected 0..9", p->deflate);
    return BCDI_OK;
}

static bcdi_status copy_path(char *dst, const char *src, const char *key)
{
    size_t len = strlen(src);
    if (len >= BCDI_SIM_PATH_MAX)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: path longer than %d characters", key,
                          BCDI_SIM_PATH_MAX - 1);
    memcpy(dst, src, len + 1);
    return BCDI_OK;
}

static bcdi_status read_enum(const bcdi_config *cfg, const char *key, const char *const *names,
                             int count, int *out)
{
    const char *value = bcdi_config_string(cfg, key);
    if (!value) return BCDI_OK;
    int index = name_index(value, names, count);
    if (index < 0) {
        char expected[256] = "";
        for (int i = 0; i < count; ++i) {
            strncat(expected, names[i], sizeof expected - strlen(expected) - 1);
            if (i + 1 < count) strncat(expected, ", ", sizeof expected - strlen(expected) - 1);
        }
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: unknown value '%s' (expected %s)", key, value,
                          expected);
    }
    *out = index;
    return BCDI_OK;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        bcdi_status try_status_ = (expr);                                                          \
        if (try_status_ != BCDI_OK) return try_status_;                                            \
    } while (0)

static bcdi_status read_int_triple(const bcdi_config *cfg, const char *key, long *out, long min)
{
    if (!bcdi_config_is_set(cfg, key)) return BCDI_OK;
    double v[3];
    size_t count = 0;
    TRY(bcdi_config_doubles(cfg, key, v, 3, 3, &count));
    for (int a = 0; a < 3; ++a) {
        if (v[a] != floor(v[a]) || v[a] < (double)min || v[a] > 1e6)
            return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: '%s' needs three integers >= %ld", key,
                              bcdi_config_string(cfg, key), min);
        out[a] = (long)v[a];
    }
    return BCDI_OK;
}

bcdi_status bcdi_simulate_params_from_config(const bcdi_config *cfg, bcdi_simulate_params *out)
{
    bcdi_simulate_params *p = malloc(sizeof *p);
    if (!p) return bcdi_error(BCDI_ERR_NOMEM, "simulate parameters");
    bcdi_simulate_default(p);
    bcdi_status st = BCDI_OK;
    long triple[3] = {64, 64, 64}, value;
    int index;
#define STEP(expr)                                                                                 \
    do {                                                                                           \
        st = (expr);                                                                               \
        if (st != BCDI_OK) goto done;                                                              \
    } while (0)
    triple[0] = (long)p->shape[0];
    triple[1] = (long)p->shape[1];
    triple[2] = (long)p->shape[2];
    STEP(read_int_triple(cfg, "shape", triple, 0));
    for (int a = 0; a < 3; ++a)
        p->shape[a] = (size_t)triple[a];
    STEP(bcdi_config_double_if_set(cfg, "oversampling", &p->oversampling));
    index = (int)p->crystal;
    STEP(read_enum(cfg, "crystal", crystal_names, 3, &index));
    p->crystal = (bcdi_sim_crystal)index;
    if (bcdi_config_is_set(cfg, "facets")) STEP(parse_facets(bcdi_config_string(cfg, "facets"), p));
    if (bcdi_config_is_set(cfg, "axes")) {
        size_t count = 0;
        STEP(bcdi_config_doubles(cfg, "axes", p->axes, 3, 3, &count));
    }
    value = p->domains;
    STEP(bcdi_config_int_if_set(cfg, "domains", &value));
    if (value < 1 || value > BCDI_SIM_MAX_DOMAINS) {
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "domains: %ld, expected 1..%d", value,
                        BCDI_SIM_MAX_DOMAINS);
        goto done;
    }
    p->domains = (int)value;
    STEP(bcdi_config_double_if_set(cfg, "domain_tilt_deg", &p->domain_tilt_deg));
    STEP(bcdi_config_double_if_set(cfg, "domain_gap", &p->domain_gap));
    if (bcdi_config_is_set(cfg, "dislocations"))
        STEP(parse_dislocations(bcdi_config_string(cfg, "dislocations"), p));
    STEP(bcdi_config_double_if_set(cfg, "core_radius", &p->core_radius));
    STEP(bcdi_config_double_if_set(cfg, "strain", &p->strain));
    STEP(bcdi_config_double_if_set(cfg, "d_spacing", &p->d_spacing_angstrom));
    triple[0] = p->hkl[0];
    triple[1] = p->hkl[1];
    triple[2] = p->hkl[2];
    if (bcdi_config_is_set(cfg, "hkl")) {
        double v[3];
        size_t count = 0;
        STEP(bcdi_config_doubles(cfg, "hkl", v, 3, 3, &count));
        for (int a = 0; a < 3; ++a) {
            if (v[a] != floor(v[a]) || fabs(v[a]) > 1000) {
                st = bcdi_error(BCDI_ERR_INVALID_ARG, "hkl: expected three integers");
                goto done;
            }
            p->hkl[a] = (int)v[a];
        }
    }
    STEP(bcdi_config_double_if_set(cfg, "energy_kev", &p->energy_kev));
    STEP(bcdi_config_double_if_set(cfg, "distance_m", &p->distance_m));
    STEP(bcdi_config_double_if_set(cfg, "pixel_um", &p->pixel_um));
    STEP(bcdi_config_double_if_set(cfg, "rocking_step_deg", &p->rocking_step_deg));
    STEP(bcdi_config_double_if_set(cfg, "two_theta_deg", &p->two_theta_deg));
    if (bcdi_config_is_set(cfg, "two_theta_deg") && !(p->two_theta_deg > 0.0)) {
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "two_theta_deg: %g, expected > 0", p->two_theta_deg);
        goto done;
    }
    STEP(bcdi_config_double_if_set(cfg, "photons", &p->photons));
    index = (int)p->noise;
    STEP(read_enum(cfg, "noise", noise_names, 2, &index));
    p->noise = (bcdi_sim_noise)index;
    index = (int)p->gaps;
    STEP(read_enum(cfg, "gaps", gaps_names, 3, &index));
    p->gaps = (bcdi_sim_gaps)index;
    if (bcdi_config_is_set(cfg, "roi_origin")) {
        const char *text = bcdi_config_string(cfg, "roi_origin");
        if (strcmp(text, "center") == 0 || strcmp(text, "centre") == 0) {
            p->roi_centered = 1;
        } else {
            double v[2];
            if (parse_numbers(text, text + strlen(text), v, 2) != 2 || v[0] != floor(v[0]) ||
                v[1] != floor(v[1]) || v[0] < 0 || v[1] < 0 || v[0] > 1e6 || v[1] > 1e6) {
                st = bcdi_error(BCDI_ERR_INVALID_ARG,
                                "roi_origin: '%s', expected 'row,col' (integers >= 0) or center",
                                text);
                goto done;
            }
            p->roi_centered = 0;
            p->roi_origin[0] = (long)v[0];
            p->roi_origin[1] = (long)v[1];
        }
    }
    STEP(bcdi_config_int_if_set(cfg, "dead_pixels", &p->dead_pixels));
    value = p->bits;
    STEP(bcdi_config_int_if_set(cfg, "bits", &value));
    p->bits = (value >= -1000 && value <= 1000) ? (int)value : -1;
    index = (int)p->dtype;
    STEP(read_enum(cfg, "dtype", dtype_names, 3, &index));
    p->dtype = (bcdi_sim_dtype)index;
    value = p->deflate;
    STEP(bcdi_config_int_if_set(cfg, "deflate", &value));
    p->deflate = (value >= -1000 && value <= 1000) ? (int)value : -1;
    if (bcdi_config_is_set(cfg, "tiff"))
        STEP(copy_path(p->tiff_dir, bcdi_config_string(cfg, "tiff"), "tiff"));
    if (bcdi_config_is_set(cfg, "truth"))
        STEP(copy_path(p->truth, bcdi_config_string(cfg, "truth"), "truth"));
    if (bcdi_config_is_set(cfg, "output"))
        STEP(copy_path(p->output, bcdi_config_string(cfg, "output"), "output"));
    value = (long)p->seed;
    STEP(bcdi_config_int_if_set(cfg, "seed", &value));
    if (value < 0) {
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "seed: %ld, expected >= 0", value);
        goto done;
    }
    p->seed = (uint64_t)value;
#undef STEP
    st = bcdi_simulate_validate(p);
    if (st == BCDI_OK) *out = *p;
done:
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
