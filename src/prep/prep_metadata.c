/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, metadata (prep_metadata.h): the beamline preset, the SPEC file and scan, and the
 * SPEC scan as the instrument room's bcdi_scan_metadata. */
#include "prep/prep_metadata.h"

#include "bcdi/log.h"
#include "io/nexus.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- a SPEC scan as metadata ---------------------------------------------------------------- */

static int spec_motor(const void *source, const char *name, double *position)
{
    return bcdi_spec_find_motor(source, name, position);
}

static const char *spec_header(const void *source, const char *key)
{
    return bcdi_spec_header(source, key);
}

bcdi_status prep_metadata_from_spec(const bcdi_spec_scan *scan, bcdi_scan_metadata *meta)
{
    memset(meta, 0, sizeof *meta);
    bcdi_spec_motion m;
    bcdi_status st = bcdi_spec_scan_motion(scan, &m);
    if (st != BCDI_OK) return st;
    meta->where = bcdi_spec_scan_where(scan);
    meta->command = bcdi_spec_scan_command(scan);
    meta->source = scan;
    meta->motor = spec_motor;
    meta->header = spec_header;
    snprintf(meta->motion.kind, sizeof meta->motion.kind, "%s", m.kind);
    snprintf(meta->motion.mnemonic, sizeof meta->motion.mnemonic, "%s", m.mnemonic);
    snprintf(meta->motion.name, sizeof meta->motion.name, "%s", m.name);
    meta->motion.start_deg = m.absolute_known ? m.start_abs : m.start;
    meta->motion.start_known = m.absolute_known;
    meta->motion.step_deg = m.step;
    meta->motion.points = m.points;
    /* the positions the motor reached: its data column, when the scan recorded one */
    const double *pos;
    size_t count;
    if (m.name[0] && bcdi_spec_column(scan, m.name, &pos, &count) == BCDI_OK && pos) {
        meta->positions = pos;
        meta->position_count = count;
    } else {
        bcdi_clear_error();
    }
    meta->points_read = bcdi_spec_point_count(scan);
    /* SPEC's diffractometer wavelength: #G4 field 4 of fourc/sixc/psic */
    const double *g4;
    size_t n;
    meta->wavelength_m =
        bcdi_spec_geometry_values(scan, 4, &g4, &n) && n >= 4 && g4[3] > 0.0 ? g4[3] * 1e-10 : NAN;
    return BCDI_OK;
}

/* ---- names ---------------------------------------------------------------------------------- */

int prep_scan_number_from_name(const char *name, long *number)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    for (const char *p = base; *p; p++) {
        int boundary = p == base || !isalnum((unsigned char)p[-1]);
        const char *digits = NULL;
        if (*p == 'S' && boundary && isdigit((unsigned char)p[1]))
            digits = p + 1; /* areaDetector's <prefix>_S0054_<frame> */
        else if (boundary && !strncasecmp(p, "scan", 4)) {
            const char *q = p + 4;
            if (*q == '_' || *q == '-') q++;
            if (isdigit((unsigned char)*q)) digits = q;
        }
        if (!digits) continue;
        const char *end = digits;
        while (isdigit((unsigned char)*end))
            end++;
        if (isalpha((unsigned char)*end) || end - digits > 9) continue;
        *number = strtol(digits, NULL, 10);
        return 1;
    }
    return 0;
}

/* The folder of `path` (no trailing slash; "." for a bare name) into out. */
static void folder_of(const char *path, char *out, size_t capacity)
{
    snprintf(out, capacity, "%s", path);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, capacity, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

static int is_folder(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int ends_with_spec(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && !strcasecmp(name + n - 5, ".spec");
}

/* The *.spec files of `folder`: *count of them, the first in `found`. */
static void list_spec_files(const char *folder, char *found, size_t capacity, size_t *count,
                            char *names, size_t names_capacity)
{
    *count = 0;
    names[0] = '\0';
    DIR *dir = opendir(folder);
    if (!dir) return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with_spec(e->d_name)) continue;
        char full[8192];
        int written = snprintf(full, sizeof full, "%s/%s", folder, e->d_name);
        if (written < 0 || (size_t)written >= capacity) continue; /* too long to name */
        struct stat sb;
        if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (!*count) memcpy(found, full, (size_t)written + 1);
        size_t used = strlen(names);
        if (used + strlen(e->d_name) + 3 < names_capacity)
            snprintf(names + used, names_capacity - used, "%s'%s'", used ? ", " : "", e->d_name);
        ++*count;
    }
    closedir(dir);
}

/* The only *.spec file in the input's folder (a frames folder: in it, then beside it). *found
 * is 0 when there is none; several in one folder are an error naming them. */
static bcdi_status find_spec_beside(const prep_input *in, char *out, size_t capacity, int *found)
{
    *found = 0;
    char folders[2][4096];
    int n = 0;
    int frames_folder = in->kind == PREP_INPUT_TIFF_FILES;
    if (is_folder(in->path))
        snprintf(folders[n++], sizeof folders[0], "%s", in->path);
    else
        folder_of(in->path, folders[n++], sizeof folders[0]); /* a file, or a glob's folder */
    if (frames_folder) {
        if (!strcmp(folders[0], "."))
            snprintf(folders[n++], sizeof folders[0], "..");
        else
            folder_of(folders[0], folders[n++], sizeof folders[0]);
    }
    for (int k = 0; k < n; k++) {
        size_t count;
        char names[1024];
        list_spec_files(folders[k], out, capacity, &count, names, sizeof names);
        if (count == 1) {
            *found = 1;
            return BCDI_OK;
        }
        if (count > 1)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%zu SPEC files in '%s' (%s): name the one with this scan with "
                              "spec=FILE, or spec=none to use none",
                              count, folders[k], names);
    }
    return BCDI_OK;
}

/* ---- the beamline --------------------------------------------------------------------------- */

/* `text` holds `word` (case-insensitive; '-' in either ignored). */
static int mentions(const char *text, const char *word)
{
    char a[1024], b[64];
    size_t na = 0, nb = 0;
    for (const char *p = text; *p && na + 1 < sizeof a; p++)
        if (*p != '-') a[na++] = (char)tolower((unsigned char)*p);
    for (const char *p = word; *p && nb + 1 < sizeof b; p++)
        if (*p != '-') b[nb++] = (char)tolower((unsigned char)*p);
    a[na] = b[nb] = '\0';
    return nb > 0 && strstr(a, b) != NULL;
}

/* The preset a SPEC scan names: its detector header, then its #F path. */
static const bcdi_beamline *preset_named_by(const bcdi_spec_scan *scan, char *why, size_t capacity)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < bcdi_beamline_count(); i++) {
            const bcdi_beamline *bl = bcdi_beamline_at(i);
            const char *key = pass == 0 ? bl->detector_header : "F";
            const char *text = key ? bcdi_spec_header(scan, key) : NULL;
            if (!text) continue;
            int hit = mentions(text, bl->name);
            for (const char *a = bl->aliases; !hit && a && *a;) {
                char alias[64];
                size_t len = strcspn(a, ",");
                snprintf(alias, sizeof alias, "%.*s", (int)len, a);
                hit = mentions(text, alias);
                a += len + (a[len] == ',');
            }
            if (hit) {
                snprintf(why, capacity, "auto: #%s '%.200s' of %s names it", key, text,
                         bcdi_spec_scan_where(scan));
                return bl;
            }
        }
    return NULL;
}

/* The scan number: the key, else the frame names, else the file's only scan. */
static bcdi_status choose_scan(const prep_input *in, const bcdi_prepare_params *p,
                               bcdi_spec_file *file, prep_metadata *out)
{
    size_t scans = bcdi_spec_scan_count(file);
    if (!p->scan_auto) {
        out->scan_number = p->scan;
        snprintf(out->scan_why, sizeof out->scan_why, "key 'scan'");
        return BCDI_OK;
    }
    const char *names[2] = {in->file_count ? in->files[0] : NULL, in->path};
    for (int k = 0; k < 2; k++) {
        long number;
        if (!names[k] || !prep_scan_number_from_name(names[k], &number)) continue;
        for (size_t i = 0; i < scans; i++) {
            long have;
            if (bcdi_spec_scan_entry(file, i, &have, NULL) == BCDI_OK && have == number) {
                out->scan_number = number;
                snprintf(out->scan_why, sizeof out->scan_why, "auto: from the name '%.200s'",
                         names[k]);
                return BCDI_OK;
            }
        }
        bcdi_log(BCDI_LOG_WARN, "the name '%s' says scan %ld, which '%s' does not hold", names[k],
                 number, bcdi_spec_path(file));
        break;
    }
    if (scans == 1 && bcdi_spec_scan_entry(file, 0, &out->scan_number, NULL) == BCDI_OK) {
        snprintf(out->scan_why, sizeof out->scan_why, "auto: the file's only scan");
        return BCDI_OK;
    }
    return bcdi_error(BCDI_ERR_CONFIG,
                      "'%s' holds %zu scans and the frame names give none of them: say which "
                      "with scan=N",
                      bcdi_spec_path(file), scans);
}

bcdi_status prep_metadata_resolve(const prep_input *in, const bcdi_prepare_params *p,
                                  prep_metadata *out)
{
    memset(out, 0, sizeof *out);
    bcdi_status st;
    int is_auto = !strcasecmp(p->beamline, "auto"), is_none = !strcasecmp(p->beamline, "none");
    int spec_off = !strcmp(p->spec_file, "none"), spec_given = p->spec_file[0] && !spec_off;
    if (is_none && spec_given)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "spec='%s' with beamline=none: the SPEC metadata needs a beamline "
                          "preset to be read (beamline=auto takes the one it names)",
                          p->spec_file);
    if (!is_auto && !is_none) {
        if ((st = bcdi_beamline_find(p->beamline, &out->beamline)) != BCDI_OK)
            return bcdi_error_prefix(st, "key 'beamline': ");
        snprintf(out->beamline_why, sizeof out->beamline_why, "key 'beamline'");
    }
    int nexus_i13 = in->kind == PREP_INPUT_HDF5 && !strcmp(in->data_path, BCDI_NEXUS_DATA_PATH);
    if (is_auto && nexus_i13 && !spec_given) {
        (void)bcdi_beamline_find("i13-1", &out->beamline);
        snprintf(out->beamline_why, sizeof out->beamline_why,
                 "auto: a NeXus file with the I13-1 layout (%s)", BCDI_NEXUS_DATA_PATH);
        return BCDI_OK;
    }
    /* a SPEC file: given, or looked for unless the preset or the input has no use for one */
    int i13 = out->beamline && !strcmp(out->beamline->name, "i13-1");
    if (is_none || spec_off || (!spec_given && (i13 || in->kind == PREP_INPUT_CXI))) {
        if (is_auto)
            snprintf(out->beamline_why, sizeof out->beamline_why, "auto: no SPEC file looked for");
        return BCDI_OK;
    }
    if (spec_given) {
        snprintf(out->spec_path, sizeof out->spec_path, "%s", p->spec_file);
    } else {
        int found;
        if ((st = find_spec_beside(in, out->spec_path, sizeof out->spec_path, &found)) != BCDI_OK)
            return st;
        if (!found) {
            out->spec_path[0] = '\0';
            if (is_auto)
                snprintf(out->beamline_why, sizeof out->beamline_why,
                         "auto: no *.spec file beside '%.400s'", in->path);
            return BCDI_OK;
        }
        bcdi_log(BCDI_LOG_NOTICE,
                 "metadata: SPEC file '%s' found beside the input (spec=none "
                 "ignores it)",
                 out->spec_path);
    }
    bcdi_spec_file *file = NULL;
    if ((st = bcdi_spec_open(out->spec_path, &file)) != BCDI_OK) return st;
    if ((st = choose_scan(in, p, file, out)) == BCDI_OK)
        st = bcdi_spec_read_scan(file, out->scan_number, &out->scan);
    bcdi_spec_close(file);
    if (st != BCDI_OK) return st;
    if (is_auto && !(out->beamline =
                         preset_named_by(out->scan, out->beamline_why, sizeof out->beamline_why))) {
        bcdi_log(BCDI_LOG_WARN,
                 "%s names no beamline preset this build knows (neither its detector line nor "
                 "its #F path): its metadata is not used; give beamline=NAME to use it",
                 bcdi_spec_scan_where(out->scan));
        snprintf(out->beamline_why, sizeof out->beamline_why, "auto: the SPEC file names none");
        bcdi_spec_scan_free(out->scan);
        out->scan = NULL;
        out->spec_path[0] = '\0';
        return BCDI_OK;
    }
    if ((st = prep_metadata_from_spec(out->scan, &out->meta)) != BCDI_OK) {
        prep_metadata_free(out);
        return st;
    }
    return BCDI_OK;
}

void prep_metadata_free(prep_metadata *m)
{
    if (!m) return;
    bcdi_spec_scan_free(m->scan);
    m->scan = NULL;
}
