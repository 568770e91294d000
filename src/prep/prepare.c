/* `prepare`: raw frames -> phasing-ready prepared data (docs/prepare.md).
 *
 * Two passes over the input, each reading one frame (region) at a time:
 *  1. whole frames, corrected and masked, lightly smoothed (Gaussian in the frame, [1,2,1]/4
 *     across frames, a ring of three frames) -> the peak (or the centre of mass);
 *  2. only the box around the peak -> the prepared array.
 * Coordinates: "stored" = as in the file; "input" = after optional Excalibur gap insertion
 * (frames, rows, columns); the box lives in input coordinates and may overhang them (padding,
 * masked). */
#include "bcdi/prepare.h"

#include "bcdi/log.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/json.h"
#include "io/nexus.h"
#include "instrument/excalibur.h"
#include "prep/prep_input.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BCDI_PI 3.14159265358979323846
#define KEV_ANGSTROM 12.3984 /* hc, as in geometry.c */
#define MAX_BOXES 64

static const bcdi_param_spec prepare_specs[] = {
    /* input */
    {"input_format", BCDI_PARAM_STRING, "auto",
     "auto (by name: folder/glob/.tif -> TIFF, .npy, .cxi, else NeXus/HDF5), nexus, hdf5, cxi, "
     "tiff or npy"},
    {"data_path", BCDI_PARAM_STRING, NULL,
     "frames dataset (default " BCDI_NEXUS_DATA_PATH
     "; CXI: entry_1/instrument_1/detector_1/data or entry_1/data_1/data)"},
    {"motor_path", BCDI_PARAM_STRING, BCDI_NEXUS_MOTOR_PATH,
     "rocking motor, one angle per frame (deg); a static motor is also looked for under "
     "entry1/before_scan/; none = ignore"},
    {"pixel_mask_path", BCDI_PARAM_STRING, NULL,
     "per-pixel mask in the input, non-zero = bad, used when present (default " BCDI_NEXUS_MASK_PATH
     "; CXI: entry_1/instrument_1/detector_1/mask); none = ignore"},
    {"monitor_path", BCDI_PARAM_STRING, NULL,
     "per-frame monitor in the input file: frame f is scaled by mean(monitor)/monitor[f]"},
    /* detector */
    {"gaps", BCDI_PARAM_STRING, "auto",
     "Excalibur gaps: inserted (frames are gapped: mask the gaps), raw (frames are gapless: "
     "insert the gaps, masked), none, or auto (inserted for 1795 x 2069 frames, raw for "
     "1536 x 2048, else none)"},
    {"frame_origin", BCDI_PARAM_LIST, "0,0",
     "row,col of the stored frames' first pixel on the whole detector (gapped or raw, as "
     "stored): places the gaps and cuts larger calibration images"},
    {"excalibur_layout", BCDI_PARAM_LIST, "256,8,6,2,3,125",
     "chip size, chips per stripe, stripes, stripes per module, chip gap, module gap (pixels)"},
    {"bits", BCDI_PARAM_STRING, "auto",
     "counter depth: pixels >= 2^bits - 1 are saturated and masked; auto = 12 for uint16, 24 "
     "for uint32, none otherwise; 0 = none"},
    {"mask_file", BCDI_PARAM_STRING, NULL,
     "bad-pixel image (TIFF, .npy or HDF5): pixels with value > mask_threshold are masked"},
    {"mask_dataset", BCDI_PARAM_STRING, "entry1/excalibur_config_normal/data",
     "dataset of an HDF5 mask_file"},
    {"mask_threshold", BCDI_PARAM_DOUBLE, "0",
     "mask_file pixels above it are bad (the APS gold scan's dark.tif: 1)"},
    {"dark_file", BCDI_PARAM_STRING, NULL, "dark image subtracted from every frame"},
    {"dark_dataset", BCDI_PARAM_STRING, "data", "dataset of an HDF5 dark_file"},
    {"flat_file", BCDI_PARAM_STRING, NULL,
     "white field: frames are divided by it and multiplied by its mean; pixels where it is "
     "<= 0, not finite, or bad in mask_file are masked"},
    {"flat_dataset", BCDI_PARAM_STRING, "data", "dataset of an HDF5 flat_file"},
    {"mask_boxes", BCDI_PARAM_LIST, NULL,
     "r0:r1,c0:c1;... detector boxes masked in every frame (input coordinates, end exclusive)"},
    {"aliens", BCDI_PARAM_LIST, NULL,
     "f0:f1,r0:r1,c0:c1;... 3-D boxes masked (aliens; input coordinates, end exclusive)"},
    {"invalid", BCDI_PARAM_STRING, "mask",
     "NaN, infinite or negative raw values: mask (counted, warned) or error"},
    {"photon_threshold", BCDI_PARAM_DOUBLE, "0",
     "corrected values below it become 0 (still measured, not masked)"},
    {"hot_pixels", BCDI_PARAM_BOOL, "false",
     "mask isolated hot pixels: above hot_factor x max(1, brightest neighbour) in their frame"},
    {"hot_factor", BCDI_PARAM_DOUBLE, "10", "see hot_pixels"},
    /* peak and box */
    {"peak", BCDI_PARAM_STRING, "max",
     "max (maximum after light smoothing) or com (centre of mass of the whole stack)"},
    {"peak_smoothing", BCDI_PARAM_DOUBLE, "1",
     "Gaussian sigma in pixels applied in each frame before taking the maximum (frames: "
     "[1,2,1]/4); 0 = none"},
    {"center", BCDI_PARAM_LIST, "auto", "f,r,c box centre in input coordinates, or auto (peak)"},
    {"box", BCDI_PARAM_LIST, "auto",
     "n0,n1,n2 box size before binning, each rounded up to bin x an even size with prime "
     "factors <= 7; auto = all frames, min(rows, 256), min(columns, 256)"},
    {"bin", BCDI_PARAM_LIST, "1,1,1", "integer binning per axis (intensities summed)"},
    {"oversampling_threshold", BCDI_PARAM_DOUBLE, "0.02",
     "autocorrelation level (fraction of zero lag) that bounds its extent"},
    /* geometry */
    {"energy_kev", BCDI_PARAM_DOUBLE, "11", "X-ray energy, keV"},
    {"distance_m", BCDI_PARAM_DOUBLE, "2.9", "sample-detector distance, m"},
    {"pixel_um", BCDI_PARAM_LIST, "55", "pixel size, µm: one value, or rows,columns"},
    {"detector_angles", BCDI_PARAM_STRING, "two_theta",
     "two_theta (horizontal 2θ arm, Diamond I13-1) or delta_gamma (APS 34-ID-C arm)"},
    {"two_theta_deg", BCDI_PARAM_DOUBLE, NULL, "detector 2θ, deg (default: Bragg's law)"},
    {"delta_deg", BCDI_PARAM_DOUBLE, NULL, "34-ID-C delta (about y+), deg"},
    {"gamma_deg", BCDI_PARAM_DOUBLE, "0", "34-ID-C gamma (about x-), deg"},
    {"rocking_step_deg", BCDI_PARAM_DOUBLE, "0.005", "rocking step between frames, deg"},
    {"rocking_start_deg", BCDI_PARAM_DOUBLE, "0",
     "rocking angle of frame 0 when the input has no motor positions, deg"},
    {"rocking_axis", BCDI_PARAM_LIST, "0,1,0", "rocking axis, lab frame (y up, z along beam)"},
    {"row_sign", BCDI_PARAM_INT, "1", "+1: detector row index grows downwards; -1: upwards"},
    {"d_spacing", BCDI_PARAM_DOUBLE, "4.733", "d-spacing of the reflection, Å"},
    {"hkl", BCDI_PARAM_LIST, "0,0,3", "Miller indices of the reflection"},
    {"reference_pixel", BCDI_PARAM_LIST, "center",
     "row,col (input coordinates) the detector angles point at; center = middle of the frames"},
    /* output */
    {"deflate", BCDI_PARAM_INT, "4", "gzip level of the prepared arrays (0-9)"},
    {"summary_json", BCDI_PARAM_STRING, NULL,
     "diffraction summary JSON (default <output stem>_summary.json)"},
    {"output", BCDI_PARAM_STRING, NULL, "prepared CXI file (the CLI's -o)"},
};

const bcdi_param_spec *bcdi_prepare_param_specs(size_t *count)
{
    *count = sizeof prepare_specs / sizeof prepare_specs[0];
    return prepare_specs;
}

/* ------------------------------------------------------------------------------------------ */
/* configuration helpers                                                                      */

typedef struct {
    long lo[3], hi[3]; /* end exclusive; 2-D boxes use axes 1, 2 and span every frame */
} prep_box;

static int is_unset(const char *v)
{
    return !v || !v[0] || !strcmp(v, "none");
}

static bcdi_status parse_longs(const bcdi_config *cfg, const char *key, long *out, size_t min,
                               size_t max, size_t *count)
{
    double v[8];
    size_t n = 0;
    bcdi_status st = bcdi_config_doubles(cfg, key, v, min, max, &n);
    if (st != BCDI_OK) return st;
    for (size_t i = 0; i < n; i++) {
        if (v[i] != floor(v[i]))
            return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' expects integers, found %g",
                              bcdi_config_origin(cfg, key), key, v[i]);
        out[i] = (long)v[i];
    }
    if (count) *count = n;
    return BCDI_OK;
}

/* "a:b,c:d;..." (2-D) or "a:b,c:d,e:f;..." (3-D) */
static bcdi_status parse_boxes(const bcdi_config *cfg, const char *key, int dims, prep_box *boxes,
                               size_t *count)
{
    *count = 0;
    const char *text = bcdi_config_string(cfg, key);
    if (is_unset(text)) return BCDI_OK;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p) break;
        if (*count == MAX_BOXES)
            return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' has more than %d boxes",
                              bcdi_config_origin(cfg, key), key, MAX_BOXES);
        prep_box b = {{LONG_MIN, LONG_MIN, LONG_MIN}, {LONG_MAX, LONG_MAX, LONG_MAX}};
        for (int a = 3 - dims; a < 3; a++) {
            char *end;
            b.lo[a] = strtol(p, &end, 10);
            if (end == p || *end != ':') goto bad;
            p = end + 1;
            b.hi[a] = strtol(p, &end, 10);
            if (end == p || b.hi[a] <= b.lo[a]) goto bad;
            p = end;
            if (a < 2) {
                if (*p != ',') goto bad;
                p++;
            }
        }
        while (*p == ' ')
            p++;
        if (*p && *p != ';') goto bad;
        boxes[(*count)++] = b;
    }
    return BCDI_OK;
bad:
    return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' = '%s': expected %s with lo < hi",
                      bcdi_config_origin(cfg, key), key, text,
                      dims == 2 ? "'r0:r1,c0:c1;...'" : "'f0:f1,r0:r1,c0:c1;...'");
}

/* ------------------------------------------------------------------------------------------ */
/* the preparation context                                                                    */

typedef struct {
    const bcdi_config *cfg;
    prep_input in;
    size_t dims[3]; /* input coordinates: frames, rows, columns (after gap insertion) */
    long *row_map;  /* input row -> stored row, -1 = gap */
    long *col_map;
    uint8_t *bad;      /* stored rows x cols: 1 = bad everywhere (pixel mask, mask file, flat) */
    float *dark;       /* stored rows x cols or NULL */
    float *flat_scale; /* mean(flat)/flat, or NULL */
    double *monitor_scale;  /* per frame or NULL */
    char mask3d_path[1024]; /* a per-frame mask dataset (CXI 3-D masks), "" if none */
    float saturation;       /* 0 = none */
    int invalid_is_error;
    double photon_threshold;
    int hot_pixels;
    double hot_factor;
    prep_box mask_boxes[MAX_BOXES], aliens[MAX_BOXES];
    size_t mask_box_count, alien_count;
    float *stored_buf; /* one stored region */
    size_t stored_cap;
    uint8_t *mask3d_buf;
    float peak_value; /* corrected value at the peak (saturated: the raw value) */
    int peak_pass;    /* pass 1: saturated pixels keep their value in val (still masked) */
    /* counts of the box pass */
    int counting;
    size_t n_saturated, n_invalid, n_hot, n_gap, n_static, n_user;
    double *rocking_deg; /* per frame (motor or start + f·step) */
    int motor_from_file;
} prep_ctx;

static void ctx_free(prep_ctx *c)
{
    prep_input_close(&c->in);
    free(c->row_map);
    free(c->col_map);
    free(c->bad);
    free(c->dark);
    free(c->flat_scale);
    free(c->monitor_scale);
    free(c->stored_buf);
    free(c->mask3d_buf);
    free(c->rocking_deg);
}

/* Gap layout: which input row/column comes from which stored row/column. */
static bcdi_status setup_frame_map(prep_ctx *c)
{
    const bcdi_config *cfg = c->cfg;
    long layout[6], origin[2];
    bcdi_status st;
    if ((st = parse_longs(cfg, "excalibur_layout", layout, 6, 6, NULL)) != BCDI_OK ||
        (st = parse_longs(cfg, "frame_origin", origin, 2, 2, NULL)) != BCDI_OK)
        return st;
    bcdi_excalibur det = {(int)layout[0], (int)layout[1], (int)layout[2],
                          (int)layout[3], (int)layout[4], (int)layout[5]};
    if ((st = bcdi_excalibur_validate(&det)) != BCDI_OK)
        return bcdi_error_prefix(st, "key 'excalibur_layout': ");
    const char *gaps = bcdi_config_string(cfg, "gaps");
    size_t sr = c->in.dims[1], sc = c->in.dims[2];
    char mode[16];
    snprintf(mode, sizeof mode, "%s", gaps ? gaps : "auto");
    if (!strcmp(mode, "auto")) {
        if (sr == bcdi_excalibur_gapped_rows(&det) && sc == bcdi_excalibur_gapped_cols(&det))
            snprintf(mode, sizeof mode, "inserted");
        else if (sr == bcdi_excalibur_raw_rows(&det) && sc == bcdi_excalibur_raw_cols(&det))
            snprintf(mode, sizeof mode, "raw");
        else
            snprintf(mode, sizeof mode, "none");
        bcdi_log(BCDI_LOG_INFO, "gaps: %s (auto, from the %zu x %zu frame size)", mode, sr, sc);
    }
    c->dims[0] = c->in.dims[0];
    if (!strcmp(mode, "none") || !strcmp(mode, "inserted")) {
        c->dims[1] = sr;
        c->dims[2] = sc;
    } else if (!strcmp(mode, "raw")) {
        long first_r = bcdi_excalibur_row_to_gapped(&det, origin[0]);
        long last_r = bcdi_excalibur_row_to_gapped(&det, origin[0] + (long)sr - 1);
        long first_c = bcdi_excalibur_col_to_gapped(&det, origin[1]);
        long last_c = bcdi_excalibur_col_to_gapped(&det, origin[1] + (long)sc - 1);
        if (first_r < 0 || last_r < 0 || first_c < 0 || last_c < 0)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "gaps=raw: %zu x %zu frames at frame_origin %ld,%ld "
                              "do not fit on the raw %zu x %zu detector",
                              sr, sc, origin[0], origin[1], bcdi_excalibur_raw_rows(&det),
                              bcdi_excalibur_raw_cols(&det));
        c->dims[1] = (size_t)(last_r - first_r + 1);
        c->dims[2] = (size_t)(last_c - first_c + 1);
    } else {
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%s: key 'gaps' is '%s', expected auto, inserted, raw "
                          "or none",
                          bcdi_config_origin(cfg, "gaps"), mode);
    }
    c->row_map = malloc(c->dims[1] * sizeof *c->row_map);
    c->col_map = malloc(c->dims[2] * sizeof *c->col_map);
    if (!c->row_map || !c->col_map) return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    for (size_t r = 0; r < c->dims[1]; r++) {
        long g = (long)r + origin[0];
        if (!strcmp(mode, "none"))
            c->row_map[r] = (long)r;
        else if (!strcmp(mode, "inserted"))
            c->row_map[r] = bcdi_excalibur_row_to_raw(&det, g) < 0 ? -1 : (long)r;
        else {
            long raw = bcdi_excalibur_row_to_raw(
                &det, (long)r + bcdi_excalibur_row_to_gapped(&det, origin[0]));
            c->row_map[r] = raw < 0 ? -1 : raw - origin[0];
        }
    }
    for (size_t col = 0; col < c->dims[2]; col++) {
        long g = (long)col + origin[1];
        if (!strcmp(mode, "none"))
            c->col_map[col] = (long)col;
        else if (!strcmp(mode, "inserted"))
            c->col_map[col] = bcdi_excalibur_col_to_raw(&det, g) < 0 ? -1 : (long)col;
        else {
            long raw = bcdi_excalibur_col_to_raw(
                &det, (long)col + bcdi_excalibur_col_to_gapped(&det, origin[1]));
            c->col_map[col] = raw < 0 ? -1 : raw - origin[1];
        }
    }
    if (strcmp(mode, "none"))
        bcdi_log(BCDI_LOG_INFO,
                 "gaps %s: stored frames %zu x %zu at detector %ld,%ld -> input "
                 "frames %zu x %zu",
                 mode, sr, sc, origin[0], origin[1], c->dims[1], c->dims[2]);
    return BCDI_OK;
}

/* Bad pixels, dark and flat in stored coordinates. */
static bcdi_status setup_static(prep_ctx *c)
{
    const bcdi_config *cfg = c->cfg;
    size_t sr = c->in.dims[1], sc = c->in.dims[2], plane = sr * sc;
    long origin[2];
    bcdi_status st = parse_longs(cfg, "frame_origin", origin, 2, 2, NULL);
    if (st != BCDI_OK) return st;
    if (!(c->bad = calloc(plane, 1))) return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    float *img = NULL;
    size_t rows = sr, cols = sc;
    /* mask inside the input file */
    const char *pm = bcdi_config_string(cfg, "pixel_mask_path");
    if (c->in.h5 && !(pm && !strcmp(pm, "none"))) {
        const char *path = pm && pm[0]                    ? pm
                           : c->in.kind == PREP_INPUT_CXI ? "entry_1/instrument_1/detector_1/mask"
                                                          : BCDI_NEXUS_MASK_PATH;
        if (bcdi_h5_exists(c->in.h5, path)) {
            int rank;
            size_t d[8];
            if ((st = bcdi_h5_shape(c->in.h5, path, &rank, d, NULL)) != BCDI_OK) return st;
            if (rank == 3 && d[0] == c->in.dims[0] && d[1] == sr && d[2] == sc) {
                snprintf(c->mask3d_path, sizeof c->mask3d_path, "%s", path);
                bcdi_log(BCDI_LOG_INFO, "mask: per-frame '%s' from the input", path);
            } else if ((rank == 2 && d[0] == sr && d[1] == sc) ||
                       (rank == 3 && d[0] == 1 && d[1] == sr && d[2] == sc)) {
                uint32_t *m = malloc(plane * sizeof *m);
                if (!m) return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
                st = bcdi_h5_read(c->in.h5, path, BCDI_DT_U32, m, plane);
                size_t bad = 0;
                for (size_t i = 0; st == BCDI_OK && i < plane; i++)
                    if (m[i]) {
                        c->bad[i] = 1;
                        bad++;
                    }
                free(m);
                if (st != BCDI_OK) return st;
                bcdi_log(BCDI_LOG_INFO, "mask: %zu bad pixels from '%s' of the input", bad, path);
            } else {
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s': mask '%s' has rank %d (%zu x %zu...), "
                                  "expected %zu x %zu",
                                  c->in.path, path, rank, d[0], rank > 1 ? d[1] : 0, sr, sc);
            }
        } else if (pm && pm[0]) {
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': pixel_mask_path '%s' not found", c->in.path,
                              pm);
        }
    }
    /* mask file */
    const char *mask_file = bcdi_config_string(cfg, "mask_file");
    if (!is_unset(mask_file)) {
        double threshold;
        if ((st = bcdi_config_double(cfg, "mask_threshold", &threshold)) != BCDI_OK ||
            (st = prep_load_image(mask_file, bcdi_config_string(cfg, "mask_dataset"), &rows, &cols,
                                  origin, &img)) != BCDI_OK)
            return st;
        size_t bad = 0;
        for (size_t i = 0; i < plane; i++)
            if (!(img[i] <= threshold)) { /* NaN counts as bad too */
                c->bad[i] = 1;
                bad++;
            }
        free(img);
        img = NULL;
        bcdi_log(BCDI_LOG_INFO, "mask: %zu bad pixels (value > %g) from '%s'", bad, threshold,
                 mask_file);
    }
    const char *dark_file = bcdi_config_string(cfg, "dark_file");
    if (!is_unset(dark_file)) {
        if ((st = prep_load_image(dark_file, bcdi_config_string(cfg, "dark_dataset"), &rows, &cols,
                                  origin, &c->dark)) != BCDI_OK)
            return st;
        bcdi_log(BCDI_LOG_INFO, "dark: '%s' subtracted from every frame", dark_file);
    }
    const char *flat_file = bcdi_config_string(cfg, "flat_file");
    if (!is_unset(flat_file)) {
        /* the mean is that of the whole white field as stored (bad pixels as zeros), as the
         * usual procedure does; only the frames' part is kept */
        size_t fr = 0, fc = 0;
        const char *ds = bcdi_config_string(cfg, "flat_dataset");
        float *whole = NULL;
        if ((st = prep_load_image(flat_file, ds, &fr, &fc, NULL, &whole)) != BCDI_OK) return st;
        if (!is_unset(mask_file)) {
            double threshold = 0;
            size_t mr = fr, mc = fc;
            float *mask_whole = NULL;
            bcdi_config_double(cfg, "mask_threshold", &threshold);
            if (prep_load_image(mask_file, bcdi_config_string(cfg, "mask_dataset"), &mr, &mc,
                                origin, &mask_whole) == BCDI_OK) {
                for (size_t i = 0; i < fr * fc; i++)
                    if (!(mask_whole[i] <= threshold)) whole[i] = 0.0f;
                free(mask_whole);
            } else {
                bcdi_clear_error(); /* a mask smaller than the white field: mean as it is */
            }
        }
        double mean = 0.0;
        for (size_t i = 0; i < fr * fc; i++)
            if (isfinite(whole[i]) && whole[i] > 0.0f) mean += whole[i];
        mean /= (double)(fr * fc);
        if ((st = prep_cut_image(flat_file, whole, fr, fc, sr, sc, origin, &img)) != BCDI_OK)
            return st;
        if (!(mean > 0.0)) {
            free(img);
            return bcdi_error(BCDI_ERR_DATA, "'%s': white field has no positive pixel", flat_file);
        }
        size_t bad = 0;
        for (size_t i = 0; i < plane; i++) {
            if (isfinite(img[i]) && img[i] > 0.0f) {
                img[i] = (float)(mean / img[i]);
            } else {
                img[i] = 0.0f;
                if (!c->bad[i]) bad++;
                c->bad[i] = 1;
            }
        }
        c->flat_scale = img;
        img = NULL;
        bcdi_log(BCDI_LOG_INFO,
                 "flat field: '%s', mean %.6g, %zu more pixels masked where it is "
                 "<= 0",
                 flat_file, mean, bad);
    }
    return BCDI_OK;
}

/* Motor positions (rocking angles) and the per-frame monitor. */
static bcdi_status setup_frames(prep_ctx *c, double *step_from_file)
{
    const bcdi_config *cfg = c->cfg;
    size_t F = c->dims[0];
    *step_from_file = NAN;
    if (!(c->rocking_deg = malloc(F * sizeof *c->rocking_deg)))
        return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    const char *motor = bcdi_config_string(cfg, "motor_path");
    bcdi_status st;
    if (c->in.h5 && !is_unset(motor)) {
        char path[1100];
        snprintf(path, sizeof path, "%s", motor);
        if (!bcdi_h5_exists(c->in.h5, path) && !strncmp(motor, "entry1/instrument/", 18))
            snprintf(path, sizeof path, "entry1/before_scan/%s", motor + 18);
        if (bcdi_h5_exists(c->in.h5, path)) {
            int rank;
            size_t d[8], n = 1;
            if ((st = bcdi_h5_shape(c->in.h5, path, &rank, d, NULL)) != BCDI_OK) return st;
            for (int i = 0; i < rank; i++)
                n *= d[i];
            if (n != 1 && n != F)
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s': motor '%s' has %zu positions but the "
                                  "stack has %zu frames",
                                  c->in.path, path, n, F);
            if (n == F && F >= 2) {
                if ((st = bcdi_h5_read(c->in.h5, path, BCDI_DT_F64, c->rocking_deg, F)) != BCDI_OK)
                    return st;
                char units[64] = "";
                if (bcdi_h5_read_attr_string(c->in.h5, path, "units", units, sizeof units) !=
                    BCDI_OK)
                    units[0] = '\0';
                if (!strncmp(units, "rad", 3))
                    for (size_t f = 0; f < F; f++)
                        c->rocking_deg[f] *= 180.0 / BCDI_PI;
                *step_from_file = (c->rocking_deg[F - 1] - c->rocking_deg[0]) / (double)(F - 1);
                c->motor_from_file = 1;
                bcdi_log(BCDI_LOG_INFO, "rocking: %zu positions from '%s' (%.6g to %.6g deg)", F,
                         path, c->rocking_deg[0], c->rocking_deg[F - 1]);
            }
        } else if (bcdi_config_origin(cfg, "motor_path")[0] != 'd') {
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': motor_path '%s' not found", c->in.path,
                              motor);
        }
    }
    const char *monitor = bcdi_config_string(cfg, "monitor_path");
    if (!is_unset(monitor)) {
        if (!c->in.h5) return bcdi_error(BCDI_ERR_CONFIG, "monitor_path needs an HDF5 input");
        int rank;
        size_t d[8];
        if ((st = bcdi_h5_shape(c->in.h5, monitor, &rank, d, NULL)) != BCDI_OK) return st;
        if (rank != 1 || d[0] != F)
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s': monitor '%s' has %zu values (rank %d), the "
                              "stack has %zu frames",
                              c->in.path, monitor, d[0], rank, F);
        if (!(c->monitor_scale = malloc(F * sizeof *c->monitor_scale)))
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
        if ((st = bcdi_h5_read(c->in.h5, monitor, BCDI_DT_F64, c->monitor_scale, F)) != BCDI_OK)
            return st;
        double mean = 0.0;
        for (size_t f = 0; f < F; f++) {
            if (!(c->monitor_scale[f] > 0.0))
                return bcdi_error(BCDI_ERR_DATA,
                                  "'%s': monitor '%s' is %g at frame %zu (must "
                                  "be > 0)",
                                  c->in.path, monitor, c->monitor_scale[f], f);
            mean += c->monitor_scale[f] / (double)F;
        }
        for (size_t f = 0; f < F; f++)
            c->monitor_scale[f] = mean / c->monitor_scale[f];
        bcdi_log(BCDI_LOG_INFO, "monitor: '%s', mean %.6g", monitor, mean);
    }
    return BCDI_OK;
}

/* One value of the geometry: the file's when it has one and the user did not set it, else the
 * configuration's; says where it came from. */
static double pick(const bcdi_config *cfg, const char *key, double file_value, double cfg_value,
                   const char *what, const char *unit, const char *file)
{
    const char *origin = bcdi_config_origin(cfg, key);
    int explicit_cfg = strcmp(origin, "default") != 0 && strcmp(origin, "unset") != 0;
    if (isfinite(file_value) && !explicit_cfg) {
        bcdi_log(BCDI_LOG_INFO, "geometry: %s = %.8g %s (from the file '%s')", what, file_value,
                 unit, file);
        return file_value;
    }
    if (isfinite(file_value))
        bcdi_log(BCDI_LOG_NOTICE, "geometry: %s = %.8g %s (%s: key '%s'; the file says %.8g)", what,
                 cfg_value, unit, origin, key, file_value);
    else
        bcdi_log(BCDI_LOG_INFO, "geometry: %s = %.8g %s (%s: key '%s')", what, cfg_value, unit,
                 origin, key);
    return cfg_value;
}

static bcdi_status geometry_from_inputs(prep_ctx *c, double step_from_file, bcdi_geometry *g)
{
    const bcdi_config *cfg = c->cfg;
    bcdi_status st;
    /* what the file holds (NaN = absent) */
    bcdi_geometry file;
    memset(&file, 0, sizeof file);
    file.energy_kev = file.wavelength_m = file.distance_m = NAN;
    file.pixel_size_m[0] = file.pixel_size_m[1] = NAN;
    file.two_theta_deg = file.delta_deg = file.gamma_deg = file.d_spacing_m = NAN;
    file.rocking_step_deg = NAN;
    file.hkl[0] = INT_MIN;
    int file_angles = -1;
    if (c->in.h5 && c->in.kind == PREP_INPUT_HDF5) {
        file.angles = (bcdi_detector_angles)99;
        if ((st = bcdi_nexus_read_geometry(c->in.h5, &file)) != BCDI_OK) return st;
        if (file.angles != (bcdi_detector_angles)99) file_angles = (int)file.angles;
        if (file_angles < 0) file.two_theta_deg = NAN; /* polar_angle absent */
    } else if (c->in.h5 && c->in.kind == PREP_INPUT_CXI) {
        bcdi_geometry stored;
        if (bcdi_h5_exists(c->in.h5, "entry_1/bcdi_geometry") &&
            bcdi_cxi_read_geometry(c->in.path, &stored) == BCDI_OK) {
            file = stored;
            file_angles = (int)stored.angles;
            file.rocking_step_deg = stored.rocking_step_deg;
        } else {
            double v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/detector_1/distance", &v) ==
                BCDI_OK)
                file.distance_m = v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/detector_1/x_pixel_size", &v) ==
                BCDI_OK)
                file.pixel_size_m[1] = v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/detector_1/y_pixel_size", &v) ==
                BCDI_OK)
                file.pixel_size_m[0] = v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/source_1/energy", &v) ==
                BCDI_OK)
                file.energy_kev = v / 1.602176634e-16; /* CXI stores joules */
            bcdi_clear_error();
        }
    }
    if (c->in.kind != PREP_INPUT_CXI || isfinite(step_from_file))
        file.rocking_step_deg = step_from_file; /* only the motor named by motor_path counts */
    const char *src = c->in.path;

    memset(g, 0, sizeof *g);
    double v;
    if ((st = bcdi_config_double(cfg, "energy_kev", &v)) != BCDI_OK) return st;
    g->energy_kev = pick(cfg, "energy_kev", file.energy_kev, v, "energy", "keV", src);
    g->wavelength_m = KEV_ANGSTROM / g->energy_kev * 1e-10;
    if ((st = bcdi_config_double(cfg, "distance_m", &v)) != BCDI_OK) return st;
    g->distance_m = pick(cfg, "distance_m", file.distance_m, v, "detector distance", "m", src);
    double px[2];
    size_t npx = 0;
    if ((st = bcdi_config_doubles(cfg, "pixel_um", px, 1, 2, &npx)) != BCDI_OK) return st;
    if (npx == 1) px[1] = px[0];
    g->pixel_size_m[0] = pick(cfg, "pixel_um", file.pixel_size_m[0], px[0] * 1e-6,
                              "pixel size along rows", "m", src);
    g->pixel_size_m[1] = pick(cfg, "pixel_um", file.pixel_size_m[1], px[1] * 1e-6,
                              "pixel size along columns", "m", src);
    if ((st = bcdi_config_double(cfg, "d_spacing", &v)) != BCDI_OK) return st;
    g->d_spacing_m = pick(cfg, "d_spacing", file.d_spacing_m, v * 1e-10, "d-spacing", "m", src);
    long hkl[3];
    if ((st = parse_longs(cfg, "hkl", hkl, 3, 3, NULL)) != BCDI_OK) return st;
    int hkl_cfg = strcmp(bcdi_config_origin(cfg, "hkl"), "default") != 0;
    for (int i = 0; i < 3; i++)
        g->hkl[i] = (file.hkl[0] != INT_MIN && !hkl_cfg) ? file.hkl[i] : (int)hkl[i];
    bcdi_log(BCDI_LOG_INFO, "geometry: hkl = %d %d %d (%s)", g->hkl[0], g->hkl[1], g->hkl[2],
             (file.hkl[0] != INT_MIN && !hkl_cfg) ? "from the file"
                                                  : bcdi_config_origin(cfg, "hkl"));
    /* detector angles */
    const char *angles = bcdi_config_string(cfg, "detector_angles");
    int angles_cfg = strcmp(bcdi_config_origin(cfg, "detector_angles"), "default") != 0;
    if (strcmp(angles, "two_theta") && strcmp(angles, "delta_gamma"))
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%s: key 'detector_angles' is '%s', expected two_theta "
                          "or delta_gamma",
                          bcdi_config_origin(cfg, "detector_angles"), angles);
    int use_delta_gamma = !strcmp(angles, "delta_gamma");
    if (!angles_cfg && file_angles >= 0) use_delta_gamma = file_angles == BCDI_DETECTOR_DELTA_GAMMA;
    if (use_delta_gamma) {
        g->angles = BCDI_DETECTOR_DELTA_GAMMA;
        if (!bcdi_config_is_set(cfg, "delta_deg") && !isfinite(file.delta_deg))
            return bcdi_error(BCDI_ERR_CONFIG, "detector_angles=delta_gamma needs key "
                                               "'delta_deg' (the file has no delta)");
        double d = 0, gm = 0;
        if (bcdi_config_is_set(cfg, "delta_deg") &&
            (st = bcdi_config_double(cfg, "delta_deg", &d)) != BCDI_OK)
            return st;
        if ((st = bcdi_config_double(cfg, "gamma_deg", &gm)) != BCDI_OK) return st;
        g->delta_deg =
            pick(cfg, "delta_deg", file_angles == BCDI_DETECTOR_DELTA_GAMMA ? file.delta_deg : NAN,
                 d, "delta", "deg", src);
        g->gamma_deg =
            pick(cfg, "gamma_deg", file_angles == BCDI_DETECTOR_DELTA_GAMMA ? file.gamma_deg : NAN,
                 gm, "gamma", "deg", src);
        g->two_theta_deg =
            acos(cos(g->delta_deg * BCDI_PI / 180.0) * cos(g->gamma_deg * BCDI_PI / 180.0)) *
            180.0 / BCDI_PI;
    } else {
        g->angles = BCDI_DETECTOR_TWO_THETA;
        double tt;
        if (bcdi_config_is_set(cfg, "two_theta_deg")) {
            if ((st = bcdi_config_double(cfg, "two_theta_deg", &tt)) != BCDI_OK) return st;
        } else if ((st = bcdi_bragg_two_theta_deg(g->wavelength_m, g->d_spacing_m, &tt)) !=
                   BCDI_OK) {
            return bcdi_error_prefix(st, "two_theta_deg not given and not derivable: ");
        }
        if (!bcdi_config_is_set(cfg, "two_theta_deg") && !isfinite(file.two_theta_deg))
            bcdi_log(BCDI_LOG_INFO,
                     "geometry: 2theta = %.8g deg (Bragg's law from d and the "
                     "energy)",
                     tt);
        else
            tt = pick(cfg, "two_theta_deg", file.two_theta_deg, tt, "2theta", "deg", src);
        g->two_theta_deg = tt;
        g->delta_deg = tt;
        g->gamma_deg = 0.0;
    }
    if ((st = bcdi_config_double(cfg, "rocking_step_deg", &v)) != BCDI_OK) return st;
    g->rocking_step_deg =
        pick(cfg, "rocking_step_deg", file.rocking_step_deg, v, "rocking step", "deg", src);
    double axis[3];
    if ((st = bcdi_config_doubles(cfg, "rocking_axis", axis, 3, 3, NULL)) != BCDI_OK) return st;
    memcpy(g->rocking_axis, axis, sizeof axis);
    long row_sign;
    if ((st = bcdi_config_int(cfg, "row_sign", &row_sign)) != BCDI_OK) return st;
    if (row_sign != 1 && row_sign != -1)
        return bcdi_error(BCDI_ERR_CONFIG, "%s: key 'row_sign' must be 1 or -1, found %ld",
                          bcdi_config_origin(cfg, "row_sign"), row_sign);
    g->row_sign = (int)row_sign;
    /* rocking angle of each frame when the file has no motor array */
    if (!c->motor_from_file) {
        double start;
        if ((st = bcdi_config_double(cfg, "rocking_start_deg", &start)) != BCDI_OK) return st;
        for (size_t f = 0; f < c->dims[0]; f++)
            c->rocking_deg[f] = start + (double)f * g->rocking_step_deg;
    }
    return BCDI_OK;
}

static int in_box(const prep_box *b, long f, long r, long col)
{
    return f >= b->lo[0] && f < b->hi[0] && r >= b->lo[1] && r < b->hi[1] && col >= b->lo[2] &&
           col < b->hi[2];
}

/* Mask isolated hot pixels of one nr x nc frame region: brighter than hot_factor times the
 * brightest measured neighbour (at least 1 count). */
static void mask_hot_pixels(prep_ctx *c, size_t nr, size_t nc, float *val, uint8_t *msk)
{
    for (size_t r = 0; r < nr; r++)
        for (size_t col = 0; col < nc; col++) {
            size_t i = r * nc + col;
            if (msk[i] || !(val[i] > c->hot_factor)) continue;
            float brightest = 0.0f;
            for (int dr = -1; dr <= 1; dr++)
                for (int dc = -1; dc <= 1; dc++) {
                    long rr = (long)r + dr, cc = (long)col + dc;
                    if ((dr || dc) && rr >= 0 && cc >= 0 && rr < (long)nr && cc < (long)nc) {
                        size_t j = (size_t)rr * nc + (size_t)cc;
                        if (!msk[j] && val[j] > brightest) brightest = val[j];
                    }
                }
            if (val[i] > c->hot_factor * fmax(1.0, brightest)) {
                /* val keeps the value until the whole frame was tested; flag with 2 */
                msk[i] = 2;
            }
        }
    for (size_t i = 0; i < nr * nc; i++)
        if (msk[i] == 2) {
            msk[i] = 1;
            val[i] = 0.0f;
            if (c->counting) c->n_hot++;
        }
}

/* Corrected values and mask of input rows r0.., columns c0.. of input frame f (regions may
 * overhang the input: padding is masked). Masked voxels hold 0 in val; the mask says why not. */
static bcdi_status read_frame_region(prep_ctx *c, long f, long r0, size_t nr, long c0, size_t nc,
                                     float *val, uint8_t *msk)
{
    size_t n = nr * nc;
    for (size_t i = 0; i < n; i++) {
        val[i] = 0.0f;
        msk[i] = 1;
    }
    if (f < 0 || f >= (long)c->dims[0]) return BCDI_OK;
    /* stored bounding rectangle of the requested input region */
    long sr_lo = LONG_MAX, sr_hi = -1, sc_lo = LONG_MAX, sc_hi = -1;
    for (size_t r = 0; r < nr; r++) {
        long ir = r0 + (long)r;
        if (ir < 0 || ir >= (long)c->dims[1] || c->row_map[ir] < 0) continue;
        sr_lo = c->row_map[ir] < sr_lo ? c->row_map[ir] : sr_lo;
        sr_hi = c->row_map[ir] > sr_hi ? c->row_map[ir] : sr_hi;
    }
    for (size_t col = 0; col < nc; col++) {
        long ic = c0 + (long)col;
        if (ic < 0 || ic >= (long)c->dims[2] || c->col_map[ic] < 0) continue;
        sc_lo = c->col_map[ic] < sc_lo ? c->col_map[ic] : sc_lo;
        sc_hi = c->col_map[ic] > sc_hi ? c->col_map[ic] : sc_hi;
    }
    if (sr_hi < 0 || sc_hi < 0) return BCDI_OK; /* nothing measured in this region */
    size_t snr = (size_t)(sr_hi - sr_lo + 1), snc = (size_t)(sc_hi - sc_lo + 1);
    if (snr * snc > c->stored_cap) {
        free(c->stored_buf);
        free(c->mask3d_buf);
        c->stored_buf = malloc(snr * snc * sizeof *c->stored_buf);
        c->mask3d_buf = c->mask3d_path[0] ? malloc(snr * snc) : NULL;
        c->stored_cap = c->stored_buf ? snr * snc : 0;
        if (!c->stored_buf || (c->mask3d_path[0] && !c->mask3d_buf))
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate a %zu x %zu region", snr,
                              snc);
    }
    bcdi_status st =
        prep_input_read(&c->in, (size_t)f, (size_t)sr_lo, snr, (size_t)sc_lo, snc, c->stored_buf);
    if (st != BCDI_OK) return st;
    if (c->mask3d_path[0]) {
        size_t start[3] = {(size_t)f, (size_t)sr_lo, (size_t)sc_lo}, count[3] = {1, snr, snc};
        if ((st = bcdi_h5_read_slab(c->in.h5, c->mask3d_path, BCDI_DT_U8, start, count,
                                    c->mask3d_buf)) != BCDI_OK)
            return st;
    }
    size_t scols = c->in.dims[2];
    double monitor = c->monitor_scale ? c->monitor_scale[f] : 1.0;
    for (size_t r = 0; r < nr; r++) {
        long ir = r0 + (long)r;
        if (ir < 0 || ir >= (long)c->dims[1]) continue;
        long sr = c->row_map[ir];
        for (size_t col = 0; col < nc; col++) {
            long ic = c0 + (long)col;
            size_t i = r * nc + col;
            if (ic < 0 || ic >= (long)c->dims[2]) continue;
            long sc = c->col_map[ic];
            if (sr < 0 || sc < 0) {
                if (c->counting) c->n_gap++;
                continue;
            }
            size_t s = (size_t)sr * scols + (size_t)sc;
            size_t b = (size_t)(sr - sr_lo) * snc + (size_t)(sc - sc_lo);
            float v = c->stored_buf[b];
            if (c->bad[s] || (c->mask3d_buf && c->mask3d_buf[b])) {
                if (c->counting) c->n_static++;
                continue;
            }
            if (!isfinite(v) || v < 0.0f) {
                if (c->invalid_is_error)
                    return bcdi_error(BCDI_ERR_DATA,
                                      "'%s': frame %ld, row %ld, column %ld holds "
                                      "%g (NaN, infinite or negative; invalid=mask masks such "
                                      "pixels)",
                                      c->in.path, f, sr, sc, (double)v);
                if (c->counting) c->n_invalid++;
                continue;
            }
            if (c->saturation > 0.0f && v >= c->saturation) {
                if (c->counting) c->n_saturated++;
                /* masked, but the peak search must see the brightest pixels of a saturated
                 * Bragg peak, not a hole */
                if (c->peak_pass) val[i] = v;
                continue;
            }
            int user = 0;
            for (size_t k = 0; k < c->mask_box_count && !user; k++)
                user = in_box(&c->mask_boxes[k], f, ir, ic);
            for (size_t k = 0; k < c->alien_count && !user; k++)
                user = in_box(&c->aliens[k], f, ir, ic);
            if (user) {
                if (c->counting) c->n_user++;
                continue;
            }
            double x = v;
            if (c->dark) x -= c->dark[s];
            if (c->flat_scale) x *= c->flat_scale[s];
            x *= monitor;
            if (x < c->photon_threshold || x < 0.0)
                x = 0.0; /* below the threshold (or below the dark): measured, no photon */
            val[i] = (float)x;
            msk[i] = 0;
        }
    }
    if (c->hot_pixels) mask_hot_pixels(c, nr, nc, val, msk);
    return BCDI_OK;
}

/* Separable Gaussian blur of one rows x cols image (zero outside), through tmp. */
static void blur_2d(float *img, float *tmp, size_t rows, size_t cols, double sigma)
{
    if (!(sigma > 0.0)) return;
    int radius = (int)ceil(3.0 * sigma);
    double w[64];
    if (radius > 31) radius = 31;
    double total = 0.0;
    for (int k = -radius; k <= radius; k++)
        total += (w[k + radius] = exp(-(double)k * k / (2.0 * sigma * sigma)));
    for (int k = 0; k <= 2 * radius; k++)
        w[k] /= total;
    for (size_t r = 0; r < rows; r++)
        for (size_t col = 0; col < cols; col++) {
            double s = 0.0;
            for (int k = -radius; k <= radius; k++) {
                long cc = (long)col + k;
                if (cc >= 0 && cc < (long)cols) s += w[k + radius] * img[r * cols + (size_t)cc];
            }
            tmp[r * cols + col] = (float)s;
        }
    for (size_t r = 0; r < rows; r++)
        for (size_t col = 0; col < cols; col++) {
            double s = 0.0;
            for (int k = -radius; k <= radius; k++) {
                long rr = (long)r + k;
                if (rr >= 0 && rr < (long)rows) s += w[k + radius] * tmp[(size_t)rr * cols + col];
            }
            img[r * cols + col] = (float)s;
        }
}

/* Pass 1: the peak (maximum after smoothing, or centre of mass) over whole frames. */
static bcdi_status find_peak(prep_ctx *c, int use_com, double sigma, long peak[3])
{
    size_t rows = c->dims[1], cols = c->dims[2], plane = rows * cols, F = c->dims[0];
    float *val = malloc(plane * sizeof *val), *tmp = malloc(plane * sizeof *tmp);
    uint8_t *msk = malloc(plane);
    float *ring = use_com ? NULL : malloc(3 * plane * sizeof *ring);
    bcdi_status st = BCDI_OK;
    if (!val || !tmp || !msk || (!use_com && !ring)) {
        st = bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate frames of %zu x %zu", rows, cols);
        goto done;
    }
    double total = 0.0, moment[3] = {0, 0, 0}, best = -1.0;
    size_t measured = 0;
    for (size_t f = 0; f <= F; f++) {
        float *smooth = ring ? ring + (f % 3) * plane : NULL;
        if (f < F) {
            if ((st = read_frame_region(c, (long)f, 0, rows, 0, cols, val, msk)) != BCDI_OK)
                goto done;
            double frame_sum = 0.0, row_moment = 0.0, col_moment = 0.0;
            for (size_t r = 0; r < rows; r++)
                for (size_t col = 0; col < cols; col++) {
                    size_t i = r * cols + col;
                    if (msk[i]) continue;
                    measured++;
                    frame_sum += val[i];
                    row_moment += val[i] * (double)r;
                    col_moment += val[i] * (double)col;
                }
            total += frame_sum;
            moment[0] += frame_sum * (double)f;
            moment[1] += row_moment;
            moment[2] += col_moment;
            if (smooth) {
                memcpy(smooth, val, plane * sizeof *smooth);
                blur_2d(smooth, tmp, rows, cols, sigma);
            }
        } else if (smooth) {
            memset(smooth, 0, plane * sizeof *smooth); /* beyond the last frame: zeros */
        }
        if (!ring || f == 0) continue;
        /* frame g = f - 1 now has both neighbours: [1,2,1]/4 across frames */
        size_t g = f - 1;
        const float *cur = ring + (g % 3) * plane, *next = ring + (f % 3) * plane;
        const float *prev = g >= 1 ? ring + ((g - 1) % 3) * plane : NULL;
        for (size_t i = 0; i < plane; i++) {
            double s = 0.5 * cur[i] + 0.25 * next[i] + (prev ? 0.25 * prev[i] : 0.0);
            if (s > best) {
                best = s;
                peak[0] = (long)g;
                peak[1] = (long)(i / cols);
                peak[2] = (long)(i % cols);
            }
        }
    }
    if (measured == 0) {
        st = bcdi_error(BCDI_ERR_DATA,
                        "'%s': every pixel is masked (gaps, bad pixels, "
                        "saturation, invalid values): nothing to prepare",
                        c->in.path);
        goto done;
    }
    if (!(total > 0.0)) {
        st = bcdi_error(BCDI_ERR_DATA,
                        "'%s': all %zu measured pixels of the %zu x %zu x %zu "
                        "stack are zero after corrections: no Bragg peak",
                        c->in.path, measured, F, rows, cols);
        goto done;
    }
    if (use_com) {
        for (int a = 0; a < 3; a++)
            peak[a] = lround(moment[a] / total);
    } else {
        /* smoothing found the peak's neighbourhood (a lone hot pixel cannot win); report the
         * brightest measured voxel within ±2 of it */
        const long reach = 2;
        size_t side = 2 * (size_t)reach + 1;
        long centre[3] = {peak[0], peak[1], peak[2]};
        float top = -1.0f;
        long best_dist = LONG_MAX;
        for (long f2 = centre[0] - reach; f2 <= centre[0] + reach; f2++) {
            if (f2 < 0 || f2 >= (long)F) continue;
            if ((st = read_frame_region(c, f2, centre[1] - reach, side, centre[2] - reach, side,
                                        val, msk)) != BCDI_OK)
                goto done;
            for (size_t i = 0; i < side * side; i++) {
                /* masked voxels hold 0, saturated ones their value; on a saturated plateau the
                 * tie goes to the voxel nearest the smoothed maximum */
                long dr = (long)(i / side) - reach, dc = (long)(i % side) - reach;
                long df = f2 - centre[0], dist = df * df + dr * dr + dc * dc;
                if (val[i] > top || (val[i] == top && dist < best_dist)) {
                    top = val[i];
                    best_dist = dist;
                    c->peak_value = top;
                    peak[0] = f2;
                    peak[1] = centre[1] + dr;
                    peak[2] = centre[2] + dc;
                }
            }
        }
    }
    bcdi_log(BCDI_LOG_INFO, "peak (%s): frame %ld, row %ld, column %ld",
             use_com ? "centre of mass" : "maximum after smoothing", peak[0], peak[1], peak[2]);
done:
    free(val);
    free(tmp);
    free(msk);
    free(ring);
    return st;
}

/* Detector unit vectors from a computed geometry: d̂ (centre direction), r̂ (rows), ĉ (cols). */
static void detector_vectors(const bcdi_geometry *g, double d_hat[3], double r_hat[3],
                             double c_hat[3])
{
    double k = 2.0 * BCDI_PI / g->wavelength_m, nr = 0.0, nc = 0.0;
    for (int i = 0; i < 3; i++) {
        nr += g->q_step[i][1] * g->q_step[i][1];
        nc += g->q_step[i][2] * g->q_step[i][2];
    }
    for (int i = 0; i < 3; i++) {
        d_hat[i] = g->q_bragg[i] / k + (i == 2 ? 1.0 : 0.0); /* Q = k(d̂ − ẑ) */
        r_hat[i] = g->q_step[i][1] / sqrt(nr);
        c_hat[i] = g->q_step[i][2] / sqrt(nc);
    }
}

static double rocking_at(const prep_ctx *c, double frame)
{
    size_t F = c->dims[0];
    if (F == 1) return c->rocking_deg[0];
    double x = frame < 0 ? 0 : frame > (double)(F - 1) ? (double)(F - 1) : frame;
    size_t i = (size_t)floor(x);
    if (i >= F - 1) i = F - 2;
    double t = x - (double)i;
    return (1.0 - t) * c->rocking_deg[i] + t * c->rocking_deg[i + 1];
}

/* Centre of mass, integrated intensity and Gaussian fits of the box profiles; 2θ and d. */
static bcdi_status summarise(prep_ctx *c, const float *I, const uint8_t *M, const size_t S[3],
                             const long origin[3], const bcdi_geometry *g_unbinned,
                             const long reference[2], bcdi_diffraction_summary *s)
{
    double *prof[3];
    for (int a = 0; a < 3; a++)
        if (!(prof[a] = calloc(S[a], sizeof(double)))) {
            for (int b = 0; b < a; b++)
                free(prof[b]);
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
        }
    double total = 0.0, m[3] = {0, 0, 0};
    for (size_t i0 = 0; i0 < S[0]; i0++)
        for (size_t i1 = 0; i1 < S[1]; i1++)
            for (size_t i2 = 0; i2 < S[2]; i2++) {
                size_t i = (i0 * S[1] + i1) * S[2] + i2;
                if (M[i]) continue;
                double v = I[i];
                total += v;
                m[0] += v * (double)i0;
                m[1] += v * (double)i1;
                m[2] += v * (double)i2;
                prof[0][i0] += v;
                prof[1][i1] += v;
                prof[2][i2] += v;
            }
    s->integrated_intensity = total;
    for (int a = 0; a < 3; a++)
        s->centre_of_mass[a] = (total > 0 ? m[a] / total : 0.0) + (double)origin[a];
    s->com_rocking_deg = rocking_at(c, s->centre_of_mass[0]);
    s->peak_rocking_deg = rocking_at(c, (double)s->peak[0]);
    bcdi_status st = BCDI_OK;
    for (int a = 0; a < 3 && st == BCDI_OK; a++) {
        st = bcdi_gauss_fit_profile(prof[a], S[a], &s->profile[a]);
        s->profile[a].centre += (double)origin[a];
    }
    for (int a = 0; a < 3; a++)
        free(prof[a]);
    if (st != BCDI_OK) return st;
    s->rocking_fwhm_deg = s->profile[0].fwhm * fabs(g_unbinned->rocking_step_deg);
    /* 2θ of the centre of mass: the ray from the sample to that pixel */
    double d_hat[3], r_hat[3], c_hat[3], p[3];
    detector_vectors(g_unbinned, d_hat, r_hat, c_hat);
    double dr = (s->centre_of_mass[1] - (double)reference[0]) * g_unbinned->pixel_size_m[0];
    double dc = (s->centre_of_mass[2] - (double)reference[1]) * g_unbinned->pixel_size_m[1];
    for (int i = 0; i < 3; i++)
        p[i] = g_unbinned->distance_m * d_hat[i] + dr * r_hat[i] + dc * c_hat[i];
    double norm = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    s->two_theta_deg = acos(p[2] / norm) * 180.0 / BCDI_PI;
    double sin_theta = sin(0.5 * s->two_theta_deg * BCDI_PI / 180.0);
    s->d_spacing_m = sin_theta > 0 ? g_unbinned->wavelength_m / (2.0 * sin_theta) : 0.0;
    return BCDI_OK;
}

bcdi_status bcdi_prepare_load(const char *input, const bcdi_config *cfg, bcdi_prepared *out)
{
    memset(out, 0, sizeof *out);
    prep_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    float *I = NULL;
    uint8_t *M = NULL;
    bcdi_status st = prep_input_open(input, bcdi_config_string(cfg, "input_format"),
                                     bcdi_config_string(cfg, "data_path"), &c.in);
    if (st != BCDI_OK) goto fail;
    bcdi_log(BCDI_LOG_INFO, "input '%s': %zu frames of %zu x %zu, %s%s%s", input, c.in.dims[0],
             c.in.dims[1], c.in.dims[2], bcdi_dtype_name(c.in.stored), c.in.h5 ? ", dataset " : "",
             c.in.h5 ? c.in.data_path : "");
    if ((st = setup_frame_map(&c)) != BCDI_OK || (st = setup_static(&c)) != BCDI_OK) goto fail;
    /* saturation */
    const char *bits = bcdi_config_string(cfg, "bits");
    long nbits = 0;
    if (!bits || !strcmp(bits, "auto")) {
        nbits = c.in.stored == BCDI_DT_U16 ? 12 : c.in.stored == BCDI_DT_U32 ? 24 : 0;
    } else {
        char *end;
        nbits = strtol(bits, &end, 10);
        if (end == bits || *end || nbits < 0 || nbits > 32) {
            st = bcdi_error(BCDI_ERR_CONFIG, "%s: key 'bits' is '%s', expected auto or 0..32",
                            bcdi_config_origin(cfg, "bits"), bits);
            goto fail;
        }
    }
    c.saturation = nbits > 0 ? (float)(ldexp(1.0, (int)nbits) - 1.0) : 0.0f;
    if (nbits > 0)
        bcdi_log(BCDI_LOG_INFO, "saturation: pixels >= %.0f (%ld bits) are masked",
                 (double)c.saturation, nbits);
    const char *invalid = bcdi_config_string(cfg, "invalid");
    if (strcmp(invalid, "mask") && strcmp(invalid, "error")) {
        st = bcdi_error(BCDI_ERR_CONFIG, "%s: key 'invalid' is '%s', expected mask or error",
                        bcdi_config_origin(cfg, "invalid"), invalid);
        goto fail;
    }
    c.invalid_is_error = !strcmp(invalid, "error");
    if ((st = bcdi_config_double(cfg, "photon_threshold", &c.photon_threshold)) != BCDI_OK ||
        (st = bcdi_config_bool(cfg, "hot_pixels", &c.hot_pixels)) != BCDI_OK ||
        (st = bcdi_config_double(cfg, "hot_factor", &c.hot_factor)) != BCDI_OK ||
        (st = parse_boxes(cfg, "mask_boxes", 2, c.mask_boxes, &c.mask_box_count)) != BCDI_OK ||
        (st = parse_boxes(cfg, "aliens", 3, c.aliens, &c.alien_count)) != BCDI_OK)
        goto fail;
    double step_from_file;
    bcdi_geometry g;
    if ((st = setup_frames(&c, &step_from_file)) != BCDI_OK ||
        (st = geometry_from_inputs(&c, step_from_file, &g)) != BCDI_OK)
        goto fail;
    /* pass 1: the peak */
    const char *peak_mode = bcdi_config_string(cfg, "peak");
    if (strcmp(peak_mode, "max") && strcmp(peak_mode, "com")) {
        st = bcdi_error(BCDI_ERR_CONFIG, "%s: key 'peak' is '%s', expected max or com",
                        bcdi_config_origin(cfg, "peak"), peak_mode);
        goto fail;
    }
    double sigma;
    if ((st = bcdi_config_double(cfg, "peak_smoothing", &sigma)) != BCDI_OK) goto fail;
    long peak[3] = {0, 0, 0}, centre[3];
    c.peak_pass = 1;
    st = find_peak(&c, !strcmp(peak_mode, "com"), sigma, peak);
    c.peak_pass = 0;
    if (st != BCDI_OK) goto fail;
    memcpy(centre, peak, sizeof centre);
    const char *centre_text = bcdi_config_string(cfg, "center");
    if (centre_text && strcmp(centre_text, "auto")) {
        if ((st = parse_longs(cfg, "center", centre, 3, 3, NULL)) != BCDI_OK) goto fail;
        bcdi_log(BCDI_LOG_INFO, "box centre %ld,%ld,%ld (key 'center')", centre[0], centre[1],
                 centre[2]);
    }
    /* box sizes: bin x an even FFT-friendly size */
    long bin[3], req[3];
    if ((st = parse_longs(cfg, "bin", bin, 3, 3, NULL)) != BCDI_OK) goto fail;
    const char *box_text = bcdi_config_string(cfg, "box");
    if (box_text && strcmp(box_text, "auto")) {
        if ((st = parse_longs(cfg, "box", req, 3, 3, NULL)) != BCDI_OK) goto fail;
    } else {
        req[0] = (long)c.dims[0];
        req[1] = (long)(c.dims[1] < 256 ? c.dims[1] : 256);
        req[2] = (long)(c.dims[2] < 256 ? c.dims[2] : 256);
    }
    size_t S[3];
    long origin[3];
    for (int a = 0; a < 3; a++) {
        if (bin[a] < 1 || req[a] < 1) {
            st = bcdi_error(BCDI_ERR_CONFIG,
                            "keys 'box'/'bin': axis %d has box %ld, bin %ld "
                            "(both must be >= 1)",
                            a, req[a], bin[a]);
            goto fail;
        }
        size_t binned = bcdi_prepare_good_size((size_t)((req[a] + bin[a] - 1) / bin[a]));
        S[a] = binned * (size_t)bin[a];
        origin[a] = centre[a] - (long)(S[a] / 2);
        out->bin[a] = (size_t)bin[a];
    }
    bcdi_log(BCDI_LOG_INFO,
             "box %zu x %zu x %zu from (%ld, %ld, %ld) (requested %ld x %ld x %ld, "
             "bin %ld,%ld,%ld)",
             S[0], S[1], S[2], origin[0], origin[1], origin[2], req[0], req[1], req[2], bin[0],
             bin[1], bin[2]);
    /* pass 2: the box only */
    size_t plane = S[1] * S[2], n = S[0] * plane;
    I = malloc(n * sizeof *I);
    M = malloc(n);
    if (!I || !M) {
        st = bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate the %zu x %zu x %zu box", S[0],
                        S[1], S[2]);
        goto fail;
    }
    c.counting = 1;
    for (size_t k = 0; k < S[0]; k++)
        if ((st = read_frame_region(&c, origin[0] + (long)k, origin[1], S[1], origin[2], S[2],
                                    I + k * plane, M + k * plane)) != BCDI_OK)
            goto fail;
    bcdi_log(BCDI_LOG_NOTICE,
             "masked in the box: %zu gap, %zu bad (mask/flat), %zu saturated, "
             "%zu invalid (NaN/negative), %zu user boxes/aliens, %zu hot",
             c.n_gap, c.n_static, c.n_saturated, c.n_invalid, c.n_user, c.n_hot);
    if (c.n_invalid)
        bcdi_log(BCDI_LOG_WARN, "%zu NaN, infinite or negative pixels in the box were masked",
                 c.n_invalid);
    /* summary on the unbinned box, with the unbinned geometry */
    bcdi_diffraction_summary *s = &out->summary;
    memcpy(s->peak, peak, sizeof peak);
    long pi[3] = {peak[0] - origin[0], peak[1] - origin[1], peak[2] - origin[2]};
    s->peak_intensity = c.peak_value;
    if (pi[0] >= 0 && pi[1] >= 0 && pi[2] >= 0 && pi[0] < (long)S[0] && pi[1] < (long)S[1] &&
        pi[2] < (long)S[2]) {
        size_t at = ((size_t)pi[0] * S[1] + (size_t)pi[1]) * S[2] + (size_t)pi[2];
        if (!M[at]) s->peak_intensity = I[at];
    }
    bcdi_geometry g_unbinned = g;
    if ((st = bcdi_geometry_compute(&g_unbinned, S)) != BCDI_OK) goto fail;
    long reference[2] = {(long)(c.dims[1] / 2), (long)(c.dims[2] / 2)};
    const char *ref_text = bcdi_config_string(cfg, "reference_pixel");
    if (ref_text && strcmp(ref_text, "center") &&
        (st = parse_longs(cfg, "reference_pixel", reference, 2, 2, NULL)) != BCDI_OK)
        goto fail;
    if ((st = summarise(&c, I, M, S, origin, &g_unbinned, reference, s)) != BCDI_OK) goto fail;
    /* binning */
    if (bin[0] > 1 || bin[1] > 1 || bin[2] > 1) {
        float *bI;
        uint8_t *bM;
        size_t bs[3], bin_u[3] = {(size_t)bin[0], (size_t)bin[1], (size_t)bin[2]};
        if ((st = bcdi_prepare_bin(S, I, M, bin_u, bs, &bI, &bM)) != BCDI_OK) goto fail;
        free(I);
        free(M);
        I = bI;
        M = bM;
        memcpy(out->shape, bs, sizeof bs);
    } else {
        memcpy(out->shape, S, sizeof S);
    }
    size_t nout = out->shape[0] * out->shape[1] * out->shape[2], masked = 0;
    for (size_t i = 0; i < nout; i++)
        masked += M[i] != 0;
    s->masked_voxels = masked;
    s->voxels = nout;
    /* geometry of the prepared array: binned pixels and rocking steps */
    g.pixel_size_m[0] *= (double)bin[1];
    g.pixel_size_m[1] *= (double)bin[2];
    g.rocking_step_deg *= (double)bin[0];
    if ((st = bcdi_geometry_compute(&g, out->shape)) != BCDI_OK) goto fail;
    bcdi_log(BCDI_LOG_INFO, "voxel sizes %.2f x %.2f x %.2f nm (frames, rows, columns)",
             g.voxel_size_m[0] * 1e9, g.voxel_size_m[1] * 1e9, g.voxel_size_m[2] * 1e9);
    double threshold;
    if ((st = bcdi_config_double(cfg, "oversampling_threshold", &threshold)) != BCDI_OK ||
        (st = bcdi_prepare_oversampling(out->shape, I, M, threshold, s->oversampling)) != BCDI_OK)
        goto fail;
    static const char *const axis_name[3] = {"rocking", "rows", "columns"};
    for (int a = 0; a < 3; a++)
        if (s->oversampling[a] <= 2.0)
            bcdi_log(BCDI_LOG_WARN,
                     "oversampling along %s is %.2f (below 2 or at the limit of "
                     "what the autocorrelation shows): the crystal may be too large for this box; "
                     "use a larger box or less binning",
                     axis_name[a], s->oversampling[a]);
    out->intensity = I;
    out->mask = M;
    out->geometry = g;
    memcpy(out->input_dims, c.dims, sizeof c.dims);
    memcpy(out->box_origin, origin, sizeof origin);
    memcpy(out->box_shape, S, sizeof S);
    ctx_free(&c);
    return BCDI_OK;
fail:
    free(I);
    free(M);
    ctx_free(&c);
    memset(out, 0, sizeof *out);
    return st;
}

void bcdi_prepared_free(bcdi_prepared *p)
{
    if (!p) return;
    free(p->intensity);
    free(p->mask);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------------------------------ */
/* output                                                                                     */

bcdi_status bcdi_prepare_json_path(const char *output, char *buf, size_t capacity)
{
    const char *slash = strrchr(output, '/');
    const char *base = slash ? slash + 1 : output;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - output) : strlen(output);
    int n = snprintf(buf, capacity, "%.*s_summary.json", (int)stem, output);
    if (n < 0 || (size_t)n >= capacity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': path too long", output);
    return BCDI_OK;
}

/* The summary in the prepared CXI (io/cxi owns the layout; phase copies it into results). */
static bcdi_status write_summary(bcdi_h5_writer *w, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    bcdi_cxi_summary c;
    for (int a = 0; a < 3; a++) {
        c.peak_pixel[a] = (double)s->peak[a];
        c.centre_of_mass[a] = s->centre_of_mass[a];
        c.gauss_centre[a] = s->profile[a].centre;
        c.gauss_fwhm[a] = s->profile[a].fwhm;
        c.gauss_amplitude[a] = s->profile[a].amplitude;
        c.gauss_background[a] = s->profile[a].background;
        c.oversampling[a] = s->oversampling[a];
        c.box_origin[a] = (double)p->box_origin[a];
        c.box_shape[a] = (double)p->box_shape[a];
        c.bin[a] = (double)p->bin[a];
        c.input_shape[a] = (double)p->input_dims[a];
    }
    c.peak_rocking_deg = s->peak_rocking_deg;
    c.peak_intensity = s->peak_intensity;
    c.com_rocking_deg = s->com_rocking_deg;
    c.integrated_intensity = s->integrated_intensity;
    c.rocking_fwhm_deg = s->rocking_fwhm_deg;
    c.two_theta_deg = s->two_theta_deg;
    c.d_spacing_m = s->d_spacing_m;
    c.masked_voxels = (long)s->masked_voxels;
    return bcdi_cxi_write_summary(w, &c);
}

/* Three integers (pixels, shapes, box origin: may be negative). */
static json_t *json_longs(const long v[3])
{
    json_t *a = json_array();
    int ok = a != NULL;
    for (int i = 0; ok && i < 3; i++)
        bcdi_json_push(a, json_integer(v[i]), &ok);
    if (!ok) json_decref(a);
    return ok ? a : NULL;
}

/* The summary as JSON (NaN from a failed fit becomes null); NULL when out of memory. */
static json_t *summary_json(const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    double centre[3], fwhm[3], amp[3];
    long shape[3], bin[3];
    json_t *converged = json_array();
    int ok = converged != NULL;
    for (int a = 0; a < 3; a++) {
        centre[a] = s->profile[a].centre;
        fwhm[a] = s->profile[a].fwhm;
        amp[a] = s->profile[a].amplitude;
        shape[a] = (long)p->shape[a];
        bin[a] = (long)p->bin[a];
        if (converged) bcdi_json_push(converged, json_boolean(s->profile[a].converged), &ok);
    }
    json_t *o = json_object(), *axes = json_array();
    if (!o || !axes) ok = 0;
    for (int a = 0; axes && a < 3; a++) {
        static const char *const names[3] = {"rocking frame", "detector row", "detector column"};
        bcdi_json_push(axes, json_string(names[a]), &ok);
    }
#define PUT(key, value) bcdi_json_put(o, key, value, &ok)
    if (o) {
        PUT("axes", json_incref(axes));
        PUT("peak_pixel", json_longs(s->peak));
        PUT("peak_rocking_angle_deg", bcdi_json_real(s->peak_rocking_deg));
        PUT("peak_intensity", bcdi_json_real(s->peak_intensity));
        PUT("centre_of_mass_pixel", bcdi_json_reals(s->centre_of_mass, 3));
        PUT("centre_of_mass_rocking_angle_deg", bcdi_json_real(s->com_rocking_deg));
        PUT("integrated_intensity", bcdi_json_real(s->integrated_intensity));
        PUT("gauss_centre_pixel", bcdi_json_reals(centre, 3));
        PUT("gauss_fwhm_pixel", bcdi_json_reals(fwhm, 3));
        PUT("gauss_amplitude", bcdi_json_reals(amp, 3));
        PUT("gauss_converged", json_incref(converged));
        PUT("rocking_fwhm_deg", bcdi_json_real(s->rocking_fwhm_deg));
        PUT("two_theta_deg", bcdi_json_real(s->two_theta_deg));
        PUT("d_spacing_m", bcdi_json_real(s->d_spacing_m));
        PUT("oversampling", bcdi_json_reals(s->oversampling, 3));
        PUT("shape", json_longs(shape));
        PUT("box_origin", json_longs(p->box_origin));
        PUT("bin", json_longs(bin));
        PUT("voxel_size_m", bcdi_json_reals(p->geometry.voxel_size_m, 3));
        PUT("energy_kev", bcdi_json_real(p->geometry.energy_kev));
        PUT("masked_voxels", json_integer((json_int_t)s->masked_voxels));
        PUT("voxels", json_integer((json_int_t)s->voxels));
    }
#undef PUT
    json_decref(axes);
    json_decref(converged);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The summary JSON staged in tx. */
static bcdi_status json_staged(bcdi_output *tx, const char *path, const bcdi_prepared *p)
{
    json_t *root = summary_json(p);
    bcdi_status st = bcdi_json_write(tx, path, root);
    json_decref(root);
    return st;
}

bcdi_status bcdi_diffraction_summary_write_json(const char *path, const bcdi_prepared *p)
{
    bcdi_output *tx = NULL;
    bcdi_status st = bcdi_output_begin(&tx);
    if (st == BCDI_OK) st = json_staged(tx, path, p);
    return bcdi_output_finish(tx, st);
}

bcdi_status bcdi_prepare_write(const char *output, const char *json_path, const bcdi_prepared *p,
                               const bcdi_config *cfg)
{
    if (!output || !p || !p->intensity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "prepare: nothing to write");
    char json[PATH_MAX];
    bcdi_status st;
    if (json_path && json_path[0])
        snprintf(json, sizeof json, "%s", json_path);
    else if ((st = bcdi_prepare_json_path(output, json, sizeof json)) != BCDI_OK)
        return st;
    long deflate = 4;
    if (cfg && bcdi_config_is_set(cfg, "deflate") &&
        (st = bcdi_config_int(cfg, "deflate", &deflate)) != BCDI_OK)
        return st;
    if (deflate < 0 || deflate > 9)
        return bcdi_error(BCDI_ERR_CONFIG, "key 'deflate' is %ld, expected 0..9", deflate);
    /* the CXI and its summary JSON appear together or not at all */
    bcdi_output *tx = NULL;
    bcdi_h5_writer *w = NULL;
    if ((st = bcdi_output_begin(&tx)) != BCDI_OK ||
        (st = bcdi_cxi_create_in(tx, output, &w)) != BCDI_OK ||
        (st = json_staged(tx, json, p)) != BCDI_OK)
        goto fail;
    if ((st = bcdi_cxi_write_prepared(w, p->shape, p->intensity, p->mask, &p->geometry,
                                      (int)deflate)) != BCDI_OK ||
        (st = write_summary(w, p)) != BCDI_OK)
        goto fail;
    if (cfg &&
        (st = bcdi_cxi_write_config(w, "entry_1/process_1/configuration", bcdi_config_keys(cfg),
                                    bcdi_config_values(cfg), bcdi_config_count(cfg))) != BCDI_OK)
        goto fail;
    if ((st = bcdi_h5_attr_string(w, "entry_1/process_1", "NX_class", "NXprocess")) != BCDI_OK ||
        (st = bcdi_h5_write_string(w, "entry_1/process_1/program", "braggcdi prepare")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_string(w, "entry_1/process_1/version", BCDI_VERSION)) != BCDI_OK)
        goto fail;
    st = bcdi_h5_commit(w);
    w = NULL;
    if (st != BCDI_OK) goto fail;
    st = bcdi_output_commit(tx); /* frees tx, and on failure removes everything */
    tx = NULL;
    if (st != BCDI_OK) goto fail;
    bcdi_log(BCDI_LOG_INFO, "wrote '%s' and '%s'", output, json);
    return BCDI_OK;
fail:
    bcdi_h5_abort(w);
    bcdi_output_abort(tx);
    return st;
}

bcdi_status bcdi_prepare_run(const char *input, const char *output, const bcdi_config *cfg,
                             bcdi_prepared *out)
{
    bcdi_prepared local;
    bcdi_prepared *p = out ? out : &local;
    bcdi_status st = bcdi_prepare_load(input, cfg, p);
    if (st != BCDI_OK) return st;
    st = bcdi_prepare_write(output, bcdi_config_string(cfg, "summary_json"), p, cfg);
    if (st != BCDI_OK || !out) bcdi_prepared_free(p);
    return st;
}

void bcdi_diffraction_summary_print(FILE *f, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    const bcdi_geometry *g = &p->geometry;
    fprintf(f, "Diffraction summary (pixels in input coordinates: frame, row, column)\n");
    fprintf(f, "  %-26s %14s %14s %14s\n", "", "rocking", "rows", "columns");
    fprintf(f, "  %-26s %14ld %14ld %14ld\n", "peak pixel", s->peak[0], s->peak[1], s->peak[2]);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "centre of mass", s->centre_of_mass[0],
            s->centre_of_mass[1], s->centre_of_mass[2]);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "Gaussian centre", s->profile[0].centre,
            s->profile[1].centre, s->profile[2].centre);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "Gaussian FWHM (pixels)", s->profile[0].fwhm,
            s->profile[1].fwhm, s->profile[2].fwhm);
    fprintf(f, "  %-26s %14.2f %14.2f %14.2f\n", "oversampling ratio", s->oversampling[0],
            s->oversampling[1], s->oversampling[2]);
    fprintf(f, "  %-26s %14zu %14zu %14zu\n", "prepared shape", p->shape[0], p->shape[1],
            p->shape[2]);
    fprintf(f, "  %-26s %14ld %14ld %14ld\n", "box origin (unbinned)", p->box_origin[0],
            p->box_origin[1], p->box_origin[2]);
    fprintf(f, "  %-26s %14zu %14zu %14zu\n", "bin", p->bin[0], p->bin[1], p->bin[2]);
    fprintf(f, "  %-26s %14.2f %14.2f %14.2f\n", "voxel size (nm)", g->voxel_size_m[0] * 1e9,
            g->voxel_size_m[1] * 1e9, g->voxel_size_m[2] * 1e9);
    fprintf(f, "  %-26s %.6f deg (centre of mass %.6f deg, FWHM %.5f deg)\n",
            "rocking angle at peak", s->peak_rocking_deg, s->com_rocking_deg, s->rocking_fwhm_deg);
    fprintf(f, "  %-26s %.6g photons (peak voxel %.6g)\n", "integrated intensity",
            s->integrated_intensity, s->peak_intensity);
    fprintf(f, "  %-26s %.4f deg -> d = %.5f A (%.4g keV)\n", "2theta of centre of mass",
            s->two_theta_deg, s->d_spacing_m * 1e10, g->energy_kev);
    fprintf(f, "  %-26s %zu of %zu voxels (%.3f%%)\n", "masked", s->masked_voxels, s->voxels,
            s->voxels ? 100.0 * (double)s->masked_voxels / (double)s->voxels : 0.0);
}
