/* Configuration: typed keys declared by each subcommand, merged from defaults < INI file <
 * key=value overrides (command line wins). Unknown keys and unparsable values are errors that
 * name the key, where it came from (file:line or "command line") and what was expected.
 *
 * INI files: keys outside any section, or in the section named after the subcommand
 * ([simulate], [phase], ...), apply; sections of the other subcommands are skipped, so one file
 * can drive the whole pipeline; any other section name is an error. */
#ifndef BCDI_CONFIG_H
#define BCDI_CONFIG_H

#include "bcdi/error.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BCDI_PARAM_STRING = 0,
    BCDI_PARAM_INT,
    BCDI_PARAM_DOUBLE,
    BCDI_PARAM_BOOL, /* true/false, yes/no, on/off, 1/0 */
    BCDI_PARAM_LIST  /* free text list, parsed by the caller (e.g. "1,0,0;0,1,0") */
} bcdi_param_type;

typedef struct bcdi_param_spec {
    const char *key;
    bcdi_param_type type;
    const char *default_value; /* NULL = no default (unset unless given) */
    const char *help;
} bcdi_param_spec;

typedef struct bcdi_config bcdi_config;

/* `section` is the subcommand name; specs must outlive the config. */
bcdi_status bcdi_config_create(const char *section, const bcdi_param_spec *specs, size_t count,
                               bcdi_config **out);
void bcdi_config_free(bcdi_config *cfg);
bcdi_status bcdi_config_load_ini(bcdi_config *cfg, const char *path);
/* "key=value" from the command line. */
bcdi_status bcdi_config_override(bcdi_config *cfg, const char *assignment);
bcdi_status bcdi_config_set(bcdi_config *cfg, const char *key, const char *value,
                            const char *origin);

int bcdi_config_is_set(const bcdi_config *cfg, const char *key); /* has a value (default too) */
const char *bcdi_config_string(const bcdi_config *cfg, const char *key); /* NULL if unset */
const char *bcdi_config_origin(const bcdi_config *cfg, const char *key); /* "default", ... */
bcdi_status bcdi_config_int(const bcdi_config *cfg, const char *key, long *out);
bcdi_status bcdi_config_double(const bcdi_config *cfg, const char *key, double *out);
bcdi_status bcdi_config_bool(const bcdi_config *cfg, const char *key, int *out);
/* The same, leaving *out untouched (and returning BCDI_OK) when the key has no value: for
 * parameters whose defaults live in a params struct rather than in the spec table. */
bcdi_status bcdi_config_int_if_set(const bcdi_config *cfg, const char *key, long *out);
bcdi_status bcdi_config_double_if_set(const bcdi_config *cfg, const char *key, double *out);
bcdi_status bcdi_config_bool_if_set(const bcdi_config *cfg, const char *key, int *out);
/* Comma-separated numbers: between min_count and max_count values, else an error naming key. */
bcdi_status bcdi_config_doubles(const bcdi_config *cfg, const char *key, double *out,
                                size_t min_count, size_t max_count, size_t *count);

/* All keys with values, in declaration order (for saving "every configuration value"). */
size_t bcdi_config_count(const bcdi_config *cfg);
const char *const *bcdi_config_keys(const bcdi_config *cfg);
const char *const *bcdi_config_values(const bcdi_config *cfg);
const bcdi_param_spec *bcdi_config_specs(const bcdi_config *cfg, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
