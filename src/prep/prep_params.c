/* SPDX-License-Identifier: BSD-3-Clause */
/* The keys of `prepare` bound to bcdi_prepare_params: defaults, ranges and help, the box lists
 * (mask_boxes=, aliens=) and the rules between keys, all checked before the input is opened. */
#include "bcdi/prepare.h"

#include "instrument/excalibur.h"
#include "io/nexus.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* "a:b,c:d;..." (2-D) or "a:b,c:d,e:f;..." (3-D) */
static bcdi_status parse_boxes(const char *text, int dims, bcdi_prepare_box *boxes, size_t *count)
{
    *count = 0;
    if (!text[0] || !strcmp(text, "none")) return BCDI_OK;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p) break;
        if (*count == BCDI_PREPARE_MAX_BOXES)
            return bcdi_error(BCDI_ERR_CONFIG, "more than %d boxes", BCDI_PREPARE_MAX_BOXES);
        bcdi_prepare_box b = {{LONG_MIN, LONG_MIN, LONG_MIN}, {LONG_MAX, LONG_MAX, LONG_MAX}};
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
    return bcdi_error(BCDI_ERR_CONFIG, "'%s': expected %s with lo < hi", text,
                      dims == 2 ? "'r0:r1,c0:c1;...'" : "'f0:f1,r0:r1,c0:c1;...'");
}

static bcdi_status parse_mask_boxes(const char *value, void *params)
{
    bcdi_prepare_params *p = params;
    return parse_boxes(value, 2, p->mask_boxes, &p->mask_box_count);
}

static bcdi_status parse_aliens(const char *value, void *params)
{
    bcdi_prepare_params *p = params;
    return parse_boxes(value, 3, p->aliens, &p->alien_count);
}

static const char *const format_names[] = {"auto", "nexus", "hdf5", "cxi",
                                           "tiff", "npy",   "mat",  NULL};
static const char *const padding_names[] = {"crop", "zeros", "masked", NULL};
static const int padding_values[] = {BCDI_PREPARE_PAD_CROP, BCDI_PREPARE_PAD_ZEROS,
                                     BCDI_PREPARE_PAD_MASKED};

/* axes=: "auto", three names (what each stored axis holds: frame|f, row|r, column|col|c) or a
 * permutation of 0,1,2 (the stored axes of frames, rows, columns: numpy's transpose order) */
static bcdi_status parse_axes(const char *value, void *params)
{
    bcdi_prepare_params *p = params;
    p->axes_auto = 0;
    if (!strcmp(value, "auto")) {
        p->axes_auto = 1;
        p->axis_of[0] = 0, p->axis_of[1] = 1, p->axis_of[2] = 2;
        return BCDI_OK;
    }
    char words[3][16];
    int n = 0;
    const char *s = value;
    while (n < 3) {
        size_t len = strcspn(s, ",");
        if (len == 0 || len >= sizeof words[0]) break;
        memcpy(words[n], s, len);
        words[n++][len] = '\0';
        if (!s[len]) break;
        s += len + 1;
    }
    int axis_of[3] = {-1, -1, -1};
    int numeric = n == 3 && strspn(value, "012,") == strlen(value);
    for (int i = 0; n == 3 && i < 3; i++) {
        if (numeric) {
            if (strlen(words[i]) != 1) break;
            int stored = words[i][0] - '0';
            if (axis_of[i] >= 0) break;
            axis_of[i] = stored; /* logical axis i is stored axis `stored` */
        } else {
            int logical =
                !strcmp(words[i], "frame") || !strcmp(words[i], "f") ? 0
                : !strcmp(words[i], "row") || !strcmp(words[i], "r") ? 1
                : !strcmp(words[i], "column") || !strcmp(words[i], "col") || !strcmp(words[i], "c")
                    ? 2
                    : -1;
            if (logical < 0 || axis_of[logical] >= 0) break;
            axis_of[logical] = i; /* stored axis i holds `logical` */
        }
    }
    int seen[3] = {0, 0, 0};
    for (int a = 0; a < 3; a++)
        if (axis_of[a] >= 0 && axis_of[a] < 3) seen[axis_of[a]] = 1;
    if (n != 3 || !seen[0] || !seen[1] || !seen[2])
        return bcdi_error(BCDI_ERR_CONFIG,
                          "'%s': expected auto, what each stored axis holds (e.g. "
                          "row,column,frame) or the stored axes of frames, rows, columns as a "
                          "permutation of 0,1,2 (e.g. 2,0,1)",
                          value);
    memcpy(p->axis_of, axis_of, sizeof axis_of);
    return BCDI_OK;
}
static const char *const gaps_names[] = {"auto", "inserted", "raw", "none", NULL};
static const char *const invalid_names[] = {"mask", "error", NULL};
static const char *const peak_names[] = {"max", "com", NULL};
static const char *const angle_names[] = {"two_theta", "delta_gamma", NULL};
static const int angle_values[] = {BCDI_DETECTOR_TWO_THETA, BCDI_DETECTOR_DELTA_GAMMA};
static const char *const row_sign_names[] = {"1", "-1", NULL};
static const int row_sign_values[] = {1, -1};

/* A detector is at most 65536 pixels wide; boxes, centres and origins stay well inside what a
 * long and the FFT-friendly size search handle at once. */
#define MAX_PIXELS 65536
#define MAX_BOX 16384

#define PREP bcdi_prepare_params
static const bcdi_param_spec prepare_specs[] = {
    /* input */
    BCDI_KEY_STRING("input_format", PREP, input_format, "auto",
                    "auto (by name: folder/glob/.tif -> TIFF, .npy, .cxi, .mat, else "
                    "NeXus/HDF5), nexus, hdf5, cxi, tiff, npy or mat",
                    .choices = format_names),
    BCDI_KEY_STRING("data_path", PREP, data_path, NULL,
                    "frames dataset (default " BCDI_NEXUS_DATA_PATH
                    "; CXI: entry_1/instrument_1/detector_1/data or entry_1/data_1/data; .mat: "
                    "the variable, default the file's only 3-D numeric one)"),
    BCDI_KEY_PARSED("axes", "auto", parse_axes,
                    "what each stored axis holds, e.g. row,column,frame, or the stored axes of "
                    "frames, rows, columns, e.g. 2,0,1; auto = frame,row,column, and "
                    "row,column,frame for .mat (MATLAB's size(A) = rows x columns x frames)"),
    BCDI_KEY_STRING("beamline", PREP, beamline, "auto",
                    "instrument preset for the geometry: i13-1, 34idc (aliases accepted), none "
                    "(the keys and the input file only), or auto (i13-1 for NeXus I13-1 files, "
                    "the beamline a SPEC file names, else none)"),
    BCDI_KEY_STRING("spec", PREP, spec_file, NULL,
                    "SPEC file with the scan's metadata (energy, distance, detector angles, "
                    "rocking motor and step); default: the only *.spec beside the input (or "
                    "beside its frames folder); none = do not look"),
    BCDI_KEY_INT("scan", PREP, scan, "auto", 0, 1000000000,
                 "scan number in the SPEC file; auto = the number in the frame names (..._S0054_"
                 "..., scan54...), else the file's only scan",
                 .word = "auto", .word_offset = offsetof(PREP, scan_auto)),
    BCDI_KEY_STRING("motor_path", PREP, motor_path, BCDI_NEXUS_MOTOR_PATH,
                    "rocking motor, one angle per frame (deg); a static motor is also looked for "
                    "under entry1/before_scan/; none = ignore",
                    .given_offset = offsetof(PREP, motor_path_given)),
    BCDI_KEY_STRING("pixel_mask_path", PREP, pixel_mask_path, NULL,
                    "per-pixel mask in the input, non-zero = bad, used when present "
                    "(default " BCDI_NEXUS_MASK_PATH
                    "; CXI: entry_1/instrument_1/detector_1/mask); none = ignore"),
    BCDI_KEY_STRING("monitor_path", PREP, monitor_path, NULL,
                    "per-frame monitor in the input file: frame f is scaled by "
                    "mean(monitor)/monitor[f]"),
    /* detector */
    BCDI_KEY_STRING("gaps", PREP, gaps, "auto",
                    "Excalibur gaps: inserted (frames are gapped: mask the gaps), raw (frames are "
                    "gapless: insert the gaps, masked), none, or auto (inserted for 1795 x 2069 "
                    "frames, raw for 1536 x 2048, else none)",
                    .choices = gaps_names),
    BCDI_KEY_NUMBERS("frame_origin", PREP, frame_origin, "0,0", 2, 0, MAX_PIXELS,
                     BCDI_PARAM_INTEGER,
                     "row,col of the stored frames' first pixel on the whole detector (gapped or "
                     "raw, as stored): places the gaps and cuts larger calibration images"),
    BCDI_KEY_NUMBERS("excalibur_layout", PREP, excalibur_layout, "256,8,6,2,3,125", 6, 0,
                     MAX_PIXELS, BCDI_PARAM_INTEGER,
                     "chip size, chips per stripe, stripes, stripes per module, chip gap, module "
                     "gap (pixels)"),
    BCDI_KEY_INT("bits", PREP, bits, "auto", 0, 32,
                 "counter depth: pixels >= 2^bits - 1 are saturated and masked; auto = 12 for "
                 "uint16, 24 for uint32, none otherwise; 0 = none",
                 .word = "auto", .word_value = -1),
    BCDI_KEY_STRING("mask_file", PREP, mask_file, NULL,
                    "bad-pixel image (TIFF, .npy or HDF5): pixels with value > mask_threshold are "
                    "masked"),
    BCDI_KEY_STRING("mask_dataset", PREP, mask_dataset, "entry1/excalibur_config_normal/data",
                    "dataset of an HDF5 mask_file"),
    BCDI_KEY_DOUBLE("mask_threshold", PREP, mask_threshold, "0", -1e30, 1e30, 0,
                    "mask_file pixels above it are bad (the APS gold scan's dark.tif: 1)"),
    BCDI_KEY_STRING("dark_file", PREP, dark_file, NULL, "dark image subtracted from every frame"),
    BCDI_KEY_STRING("dark_dataset", PREP, dark_dataset, "data", "dataset of an HDF5 dark_file"),
    BCDI_KEY_STRING("flat_file", PREP, flat_file, NULL,
                    "white field: frames are divided by it and multiplied by its mean; pixels "
                    "where it is <= 0, not finite, or bad in mask_file are masked"),
    BCDI_KEY_STRING("flat_dataset", PREP, flat_dataset, "data", "dataset of an HDF5 flat_file"),
    BCDI_KEY_PARSED("mask_boxes", NULL, parse_mask_boxes,
                    "r0:r1,c0:c1;... detector boxes masked in every frame (input coordinates, end "
                    "exclusive; at most 64)"),
    BCDI_KEY_PARSED("aliens", NULL, parse_aliens,
                    "f0:f1,r0:r1,c0:c1;... 3-D boxes masked (aliens; input coordinates, end "
                    "exclusive; at most 64)"),
    BCDI_KEY_CHOICE("invalid", PREP, invalid_is_error, "mask", invalid_names, NULL,
                    "NaN, infinite or negative raw values: mask (counted, warned) or error"),
    BCDI_KEY_DOUBLE("photon_threshold", PREP, photon_threshold, "auto", 0, 1e12, 0,
                    "floor: corrected values (after background) below it become 0 (still "
                    "measured, not masked), cohere's intensity threshold; auto = 2 for measured "
                    "data, 0 for a braggcdi simulate file (no detector background)",
                    .word = "auto", .word_offset = offsetof(PREP, photon_threshold_auto)),
    BCDI_KEY_DOUBLE("background", PREP, background, "0", 0, 1e12, 0,
                    "counts subtracted from every corrected pixel before the floor (negative "
                    "results become 0)"),
    BCDI_KEY_BOOL("hot_pixels", PREP, hot_pixels, "false",
                  "mask isolated hot pixels: above hot_factor x max(1, brightest neighbour) in "
                  "their frame"),
    BCDI_KEY_DOUBLE("hot_factor", PREP, hot_factor, "10", 1, 1e6, 0, "see hot_pixels"),
    /* peak and box */
    BCDI_KEY_CHOICE("peak", PREP, peak_com, "max", peak_names, NULL,
                    "max (maximum after light smoothing) or com (centre of mass of the whole "
                    "stack)"),
    BCDI_KEY_DOUBLE("peak_smoothing", PREP, peak_smoothing, "1", 0, 10, 0,
                    "Gaussian sigma in pixels applied in each frame before taking the maximum "
                    "(frames: [1,2,1]/4); 0 = none; the blur reaches 3 sigma, at most 31 pixels"),
    BCDI_KEY_NUMBERS("center", PREP, center, "auto", 3, -MAX_BOX, MAX_PIXELS, BCDI_PARAM_INTEGER,
                     "f,r,c box centre in input coordinates, or auto (peak)", .word = "auto",
                     .word_offset = offsetof(PREP, center_auto)),
    BCDI_KEY_NUMBERS("box", PREP, box, "auto", 3, 1, MAX_BOX, BCDI_PARAM_INTEGER,
                     "n0,n1,n2 box size before binning, each rounded up to bin x an even size "
                     "with prime factors <= 7; auto = all frames, min(rows, 256), min(columns, "
                     "256)",
                     .word = "auto", .word_offset = offsetof(PREP, box_auto)),
    BCDI_KEY_NUMBERS("bin", PREP, bin, "1,1,1", 3, 1, 64, BCDI_PARAM_INTEGER,
                     "integer binning per axis (intensities summed)"),
    BCDI_KEY_CHOICE("padding", PREP, padding, "crop", padding_names, padding_values,
                    "where the box centred on the peak reaches beyond the measured frames or "
                    "pixels: crop (a smaller FFT-friendly size that fits), zeros (measured zero "
                    "counts) or masked (unmeasured: phasing leaves them free)"),
    BCDI_KEY_DOUBLE("oversampling_threshold", PREP, oversampling_threshold, "0.01", 0, 1,
                    BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN,
                    "autocorrelation level (fraction of zero lag) that bounds its extent"),
    /* geometry */
    BCDI_KEY_DOUBLE("energy_kev", PREP, energy_kev, "11", 0, 1000, BCDI_PARAM_MIN_OPEN,
                    "X-ray energy, keV (the input's value unless given)",
                    .given_offset = offsetof(PREP, energy_given)),
    BCDI_KEY_DOUBLE("distance_m", PREP, distance_m, "2.9", 0, 1000, BCDI_PARAM_MIN_OPEN,
                    "sample-detector distance, m (the input's value unless given)",
                    .given_offset = offsetof(PREP, distance_given)),
    BCDI_KEY_NUMBERS("pixel_um", PREP, pixel_um, "55", 1, 0, 10000,
                     BCDI_PARAM_MIN_OPEN | BCDI_PARAM_REPEAT,
                     "pixel size, µm: one value, or rows,columns (the input's value unless given)",
                     .given_offset = offsetof(PREP, pixel_given)),
    BCDI_KEY_CHOICE("detector_angles", PREP, detector_angles, "two_theta", angle_names,
                    angle_values,
                    "two_theta (horizontal 2θ arm, Diamond I13-1) or delta_gamma (APS 34-ID-C "
                    "arm)",
                    .given_offset = offsetof(PREP, detector_angles_given)),
    BCDI_KEY_DOUBLE("two_theta_deg", PREP, two_theta_deg, NULL, 0, 180,
                    BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN | BCDI_PARAM_UNSET_NAN,
                    "detector 2θ, deg (default: the input's, else Bragg's law)",
                    .given_offset = offsetof(PREP, two_theta_given)),
    BCDI_KEY_DOUBLE("delta_deg", PREP, delta_deg, NULL, -180, 180, BCDI_PARAM_UNSET_NAN,
                    "34-ID-C delta (about y+), deg", .given_offset = offsetof(PREP, delta_given)),
    BCDI_KEY_DOUBLE("gamma_deg", PREP, gamma_deg, "0", -180, 180, 0,
                    "34-ID-C gamma (about x-), deg", .given_offset = offsetof(PREP, gamma_given)),
    BCDI_KEY_DOUBLE("rocking_step_deg", PREP, rocking_step_deg, "0.005", -10, 10, 0,
                    "rocking step between frames, deg, not 0 (the motor's unless given)",
                    .given_offset = offsetof(PREP, rocking_step_given)),
    BCDI_KEY_DOUBLE("rocking_start_deg", PREP, rocking_start_deg, "0", -360, 360, 0,
                    "rocking angle of frame 0 when the input has no motor positions, deg",
                    .given_offset = offsetof(PREP, rocking_start_given)),
    BCDI_KEY_NUMBERS("rocking_axis", PREP, rocking_axis, "0,1,0", 3, -1e6, 1e6, BCDI_PARAM_NONZERO,
                     "rocking axis, lab frame (y up, z along beam)",
                     .given_offset = offsetof(PREP, rocking_axis_given)),
    BCDI_KEY_CHOICE("row_sign", PREP, row_sign, "1", row_sign_names, row_sign_values,
                    "+1: detector row index grows downwards; -1: upwards",
                    .given_offset = offsetof(PREP, row_sign_given)),
    BCDI_KEY_DOUBLE("d_spacing", PREP, d_spacing_angstrom, "4.733", 0, 1000, BCDI_PARAM_MIN_OPEN,
                    "d-spacing of the reflection, Å (the input's value unless given)",
                    .given_offset = offsetof(PREP, d_spacing_given)),
    BCDI_KEY_NUMBERS("hkl", PREP, hkl, "0,0,3", 3, -1000, 1000,
                     BCDI_PARAM_INTEGER | BCDI_PARAM_NONZERO,
                     "Miller indices of the reflection (the input's unless given)",
                     .given_offset = offsetof(PREP, hkl_given)),
    BCDI_KEY_NUMBERS("reference_pixel", PREP, reference_pixel, "center", 2, -MAX_PIXELS, MAX_PIXELS,
                     BCDI_PARAM_INTEGER,
                     "row,col (input coordinates) the detector angles point at; center = middle "
                     "of the frames (with a beamline preset: the detector's centre)",
                     .word = "center", .word_offset = offsetof(PREP, reference_center),
                     .given_offset = offsetof(PREP, reference_given)),
    /* output */
    BCDI_KEY_INT("deflate", PREP, deflate, "4", 0, 9, "gzip level of the prepared arrays"),
    BCDI_KEY_MAX_MEMORY(PREP, max_memory),
    BCDI_KEY_STRING("summary_json", PREP, summary_json, NULL,
                    "diffraction summary JSON (default <output stem>_summary.json)"),
    BCDI_KEY_STRING("output", PREP, output, NULL, "prepared CXI file (the CLI's -o)"),
};
#undef PREP

static bcdi_status prepare_rules(const void *params, const bcdi_config *cfg)
{
    const bcdi_prepare_params *p = params;
    const char *where = cfg ? bcdi_config_origin(cfg, "excalibur_layout") : "parameters";
    const long *l = p->excalibur_layout;
    bcdi_excalibur det = {(int)l[0], (int)l[1], (int)l[2], (int)l[3], (int)l[4], (int)l[5]};
    bcdi_status st = bcdi_excalibur_validate(&det);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "%s: key 'excalibur_layout': ", where);
    if (p->rocking_step_deg == 0.0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: key 'rocking_step_deg' is 0, expected a step",
                          cfg ? bcdi_config_origin(cfg, "rocking_step_deg") : "parameters");
    return BCDI_OK;
}

static const bcdi_param_table prepare_table = {
    "prepare",
    prepare_specs,
    sizeof prepare_specs / sizeof *prepare_specs,
    sizeof(bcdi_prepare_params),
    prepare_rules,
};

const bcdi_param_table *bcdi_prepare_param_table(void)
{
    return &prepare_table;
}

const bcdi_param_spec *bcdi_prepare_param_specs(size_t *count)
{
    *count = prepare_table.count;
    return prepare_specs;
}

void bcdi_prepare_default(bcdi_prepare_params *p)
{
    (void)bcdi_params_defaults(&prepare_table, p); /* a constant table, known good */
}
