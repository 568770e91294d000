/* SPDX-License-Identifier: BSD-3-Clause */
/* Synthetic BCDI data with a known truth (`braggcdi simulate`, docs/simulate.md).
 *
 * Pipeline: parameters -> geometry (bcdi/geometry.h) -> object ρ = s·exp(iφ), φ = −G·u, on the
 * detector-conjugate grid -> I = |FFT(ρ)|² (backend FFT, centred) -> scaling to `photons`,
 * Poisson noise (Philox, reproducible for a seed) -> Excalibur gaps, dead pixels, saturation,
 * dtype -> NeXus stack (+ optional TIFF frames) and a CXI file with the true object.
 * Every random number comes from Philox(seed, stream, counter), one stream per purpose, so the
 * output depends only on the parameters. */
#ifndef BCDI_SIMULATE_H
#define BCDI_SIMULATE_H

#include "bcdi/backend.h"
#include "bcdi/config.h"
#include "bcdi/error.h"
#include "bcdi/geometry.h"
#include "bcdi/types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BCDI_SIM_MAX_FACETS 64
#define BCDI_SIM_MAX_DISLOCATIONS 32
#define BCDI_SIM_PATH_MAX 4096
#define BCDI_SIM_MAX_DOMAINS 64

typedef enum { BCDI_SIM_POLYHEDRON = 0, BCDI_SIM_ELLIPSOID, BCDI_SIM_BOX } bcdi_sim_crystal;
typedef enum { BCDI_SIM_NOISE_POISSON = 0, BCDI_SIM_NOISE_NONE } bcdi_sim_noise;
/* inserted: frames on the gapped detector (gap pixels 0 and masked); raw: the gap rows/columns
 * of the region are removed (what the raw, gapless readout holds); none: an ideal detector. */
typedef enum { BCDI_SIM_GAPS_INSERTED = 0, BCDI_SIM_GAPS_RAW, BCDI_SIM_GAPS_NONE } bcdi_sim_gaps;
typedef enum { BCDI_SIM_UINT16 = 0, BCDI_SIM_UINT32, BCDI_SIM_FLOAT32 } bcdi_sim_dtype;

/* A half-space n·r <= distance·R in the crystal frame (n need not be unit; it is normalised). */
typedef struct bcdi_sim_facet {
    double normal[3];
    double distance; /* in units of the crystal radius R */
} bcdi_sim_facet;

/* A straight dislocation line, crystal frame (z = Ĝ). */
typedef struct bcdi_sim_dislocation {
    double position_nm[3];      /* a point of the line, from the crystal centre */
    double direction[3];        /* line direction (normalised internally) */
    double burgers_angstrom[3]; /* Burgers vector; screw part b·d̂, edge part the rest */
} bcdi_sim_dislocation;

typedef struct bcdi_simulate_params {
    size_t shape[3];     /* frames, rows, columns of the simulated region */
    double oversampling; /* field of view / crystal diameter along the narrowest axis, >= 1 */
    bcdi_sim_crystal crystal;
    size_t facet_count;
    bcdi_sim_facet facets[BCDI_SIM_MAX_FACETS];
    double axes[3];         /* ellipsoid / box semi-axes in units of R */
    int domains;            /* Voronoi domains (1 = single crystal) */
    double domain_tilt_deg; /* lattice tilt of each domain about a random axis ⟂ G */
    double domain_gap;      /* voxels of zero density along domain boundaries */
    size_t dislocation_count;
    bcdi_sim_dislocation dislocations[BCDI_SIM_MAX_DISLOCATIONS];
    double core_radius; /* voxels; density ×(1 − exp(−r²/2rc²)) around each line; 0 = none */
    double strain;      /* uniform strain along G */
    double d_spacing_angstrom;
    int hkl[3];
    double energy_kev, distance_m, pixel_um, rocking_step_deg;
    double two_theta_deg; /* <= 0: from Bragg's law */
    double photons;       /* expected total counts; 0 = keep |F|² unscaled */
    bcdi_sim_noise noise;
    bcdi_sim_gaps gaps;
    int roi_centered;   /* 1: the region sits in the middle of the gapped Excalibur frame */
    long roi_origin[2]; /* else: its first (row, column) on the gapped frame */
    long dead_pixels;
    int bits; /* counter depth: 0 (none), 1, 6, 12, 24 -> clip at 2^bits − 1 */
    bcdi_sim_dtype dtype;
    int deflate; /* 0..9 */
    uint64_t seed;
    size_t max_memory; /* bytes the run may use; 0 = what the machine offers (core/memory.h) */
    char output[BCDI_SIM_PATH_MAX];   /* NeXus stack (required by bcdi_simulate_run) */
    char truth[BCDI_SIM_PATH_MAX];    /* "" = <output stem>_truth.cxi */
    char tiff_dir[BCDI_SIM_PATH_MAX]; /* "" = no TIFF frames */
} bcdi_simulate_params;

/* The defaults of the key table. */
void bcdi_simulate_default(bcdi_simulate_params *p);
/* Host memory (bytes) a simulation of p->shape needs: the object and its truth maps (18
 * B/voxel), the intensities (4), the forward FFT (host copy, backend array and scratch: 24),
 * the frames and their copy being written (8), plus 64 MiB for the libraries. bcdi_simulate_run
 * refuses a run whose estimate exceeds p->max_memory (0: what the machine offers). */
double bcdi_simulate_memory_estimate(const bcdi_simulate_params *p);
/* BCDI_ERR_INVALID_ARG with a message naming the parameter for impossible values: every
 * key's range or choices (the table's), then the rules between keys. */
bcdi_status bcdi_simulate_validate(const bcdi_simulate_params *p);

/* The key table of `simulate`, bound to bcdi_simulate_params (bcdi_config_bind). */
const bcdi_param_table *bcdi_simulate_param_table(void);
/* Its keys (defaults, ranges and help), for bcdi_config_create. */
const bcdi_param_spec *bcdi_simulate_param_specs(size_t *count);
/* bcdi_config_bind with the table above: defaults, then every key of cfg (created with the
 * specs above), each checked, then the rules between keys (BCDI_ERR_CONFIG naming the key). */
bcdi_status bcdi_simulate_params_from_config(const bcdi_config *cfg, bcdi_simulate_params *p);

/* Key/value strings describing p (same keys as the specs), for provenance. Free with
 * bcdi_simulate_strings_free. */
bcdi_status bcdi_simulate_params_strings(const bcdi_simulate_params *p, char ***keys,
                                         char ***values, size_t *count);
void bcdi_simulate_strings_free(char **keys, char **values, size_t count);

/* Geometry of the simulated region (I13-1 style 2θ detector, rocking about +y). */
bcdi_status bcdi_simulate_geometry(const bcdi_simulate_params *p, bcdi_geometry *g);

/* The true object on the detector-conjugate grid of `shape` (voxel i at r = T·(i − shape/2)). */
typedef struct bcdi_simulate_object {
    size_t shape[3];
    bcdi_cf *object; /* s·exp(iφ), centred; includes the ramp −(Q − G)·r if 2θ is off Bragg */
    float *amplitude;    /* s in [0, 1] */
    float *displacement; /* u·Ĝ in Å (φ = −|G| u away from the off-Bragg ramp) */
    uint8_t *domain;     /* Voronoi domain index of each voxel */
    uint8_t *support;    /* 1 where s > 0.5 */
    double crystal_radius_m;
    double g_norm;             /* |G| = 2π/d in 1/m */
    double crystal_axes[3][3]; /* rows: crystal x, y, z (= Ĝ) as lab unit vectors */
    double domain_centre_m[BCDI_SIM_MAX_DOMAINS][3]; /* crystal frame */
} bcdi_simulate_object;

bcdi_status bcdi_simulate_make_object(const bcdi_simulate_params *p, const bcdi_geometry *g,
                                      bcdi_simulate_object *out);
void bcdi_simulate_object_free(bcdi_simulate_object *obj);

/* Noise-free |FFT(ρ)|², unscaled, centred (zero frequency at index shape/2), through the
 * backend's forward FFT (backend NULL: a CPU backend is opened and closed). */
bcdi_status bcdi_simulate_intensity(bcdi_backend *backend, const size_t shape[3],
                                    const bcdi_cf *object, float *intensity);

/* One Poisson draw of mean lambda for counter `index` of Philox stream `stream`. Inversion for
 * lambda < 10, Hörmann's PTRS transformed rejection above. */
double bcdi_simulate_poisson(uint64_t seed, uint64_t stream, uint64_t index, double lambda);

/* Detector frames made from the noise-free intensity (shape p->shape). */
typedef struct bcdi_simulate_frames {
    size_t dims[3]; /* frames, rows, columns as written (gaps=raw removes gap lines) */
    bcdi_sim_dtype dtype;
    void *data;           /* dims product values of dtype */
    uint32_t *pixel_mask; /* dims[1]*dims[2]: BCDI_PIXEL_GAP / BCDI_PIXEL_DEAD bits */
    double *rocking_deg;  /* dims[0] angles centred on θ_B */
    long origin[2];       /* region origin on the gapped frame (-1 for gaps=none) */
    double scale;         /* photons / Σ|F|² (1 when photons = 0) */
    size_t saturated;     /* voxels clipped at 2^bits − 1 */
} bcdi_simulate_frames;

bcdi_status bcdi_simulate_frames_make(const bcdi_simulate_params *p, const bcdi_geometry *g,
                                      const float *intensity, bcdi_simulate_frames *out);
void bcdi_simulate_frames_free(bcdi_simulate_frames *frames);

/* The whole pipeline, writing p->output (NeXus), the truth CXI and the optional TIFF frames.
 * config keys/values (may be NULL: then those of bcdi_simulate_params_strings) are stored as
 * provenance. Validates first and writes nothing when p is invalid; a failure leaves no output. */
bcdi_status bcdi_simulate_run(const bcdi_simulate_params *p, bcdi_backend *backend,
                              const char *const *config_keys, const char *const *config_values,
                              size_t config_count);

/* Philox streams (one per purpose). */
enum {
    BCDI_SIM_STREAM_POISSON = 0x51u,
    BCDI_SIM_STREAM_DOMAINS = 0x52u,
    BCDI_SIM_STREAM_DEAD = 0x53u
};

#ifdef __cplusplus
}
#endif
#endif
