/* SPDX-License-Identifier: BSD-3-Clause */
/* Configuration: typed keys declared by each stage, merged from defaults < INI file <
 * key=value overrides (command line wins). Unknown keys and unparsable values are errors that
 * name the key, where it came from (file:line or "command line") and what was expected.
 *
 * INI files: keys outside any section, or in the section named after the stage ([simulate],
 * [phase], ...), apply; sections the caller registers as skipped (the other stages of the CLI)
 * are skipped, so one file can drive the whole pipeline; any other section name is an error.
 *
 * Bound tables (the model is Hawk's and BART's option tables): each key of a stage names the
 * field of that stage's plain parameter struct it fills (offsetof), its type, default, allowed
 * range or choices, and help. bcdi_config_bind() fills the struct from a merged config and
 * checks every key (type, range, choices) and the stage's cross-key rules before any data is
 * read; errors name the key, the value found, what was expected and where the value came from.
 * --help is printed from the same table (bcdi_param_describe). */
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
    BCDI_PARAM_BOOL,    /* true/false, yes/no, on/off, 1/0 */
    BCDI_PARAM_LIST,    /* free text list, parsed by spec->parse or by the caller */
    BCDI_PARAM_CHOICE,  /* one word of spec->choices; the field receives its value */
    BCDI_PARAM_NUMBERS, /* comma-separated numbers into an array field */
} bcdi_param_type;

/* Element type of a bound INT, CHOICE or NUMBERS field (BCDI_PARAM_STORE_OF picks it). */
typedef enum {
    BCDI_STORE_INT = 0, /* int (and enums) */
    BCDI_STORE_LONG,
    BCDI_STORE_ULONG, /* size_t, uint64_t */
    BCDI_STORE_DOUBLE,
} bcdi_param_store;

/* spec->flags */
enum {
    BCDI_PARAM_BOUND = 1u << 0,     /* offset names a field of the stage's struct */
    BCDI_PARAM_HAS_MIN = 1u << 1,   /* value >= min (> min with MIN_OPEN) */
    BCDI_PARAM_HAS_MAX = 1u << 2,   /* value <= max (< max with MAX_OPEN) */
    BCDI_PARAM_MIN_OPEN = 1u << 3,  /* the minimum is excluded */
    BCDI_PARAM_MAX_OPEN = 1u << 4,  /* the maximum is excluded */
    BCDI_PARAM_INTEGER = 1u << 5,   /* NUMBERS: every value an integer */
    BCDI_PARAM_REPEAT = 1u << 6,    /* NUMBERS: one value given fills every element */
    BCDI_PARAM_NONZERO = 1u << 7,   /* NUMBERS: not all zero (hkl, directions) */
    BCDI_PARAM_COUNTED = 1u << 8,   /* NUMBERS: the size_t at count_offset receives the count */
    BCDI_PARAM_UNSET_NAN = 1u << 9, /* DOUBLE without a value: the field holds NaN */
    BCDI_PARAM_BYTES = 1u << 10     /* INT: a byte count, with an optional K, M, G or T suffix
                                       (powers of 1024; "KB", "KiB" spelled out too) */
};

typedef struct bcdi_param_spec {
    const char *key;
    bcdi_param_type type;
    const char *default_value; /* NULL = no default (unset unless given) */
    const char *help;
    /* ---- binding (all zero for a key the caller reads itself) ---- */
    unsigned flags;
    size_t offset; /* offsetof(stage struct, field) */
    size_t size;   /* STRING: capacity of the char array; NUMBERS: most values (the array) */
    bcdi_param_store store;
    double min, max;            /* range of the value, of each value of a list */
    size_t count_min;           /* NUMBERS: fewest values */
    size_t count_offset;        /* NUMBERS with COUNTED */
    const char *const *choices; /* CHOICE: NULL-terminated words */
    const int *choice_values;   /* CHOICE: value of each word (NULL: its index) */
    const char *word;           /* a word accepted instead of a number ("auto", "center") */
    double word_value;          /* stored into every element for the word (no word_offset) */
    /* Offsets of int flag fields; 0 = none (a flag is never the struct's first field): */
    size_t word_offset;  /* 1 when the value was the word, 0 for numbers */
    size_t given_offset; /* 1 when a file or the command line gave the value, 0 = default */
    /* LIST (or extra checks of a STRING, after it is stored): parse `value` into the struct;
     * errors need not say the key or origin, the loader prefixes both. */
    bcdi_status (*parse)(const char *value, void *params);
} bcdi_param_spec;

typedef struct bcdi_config bcdi_config;

/* One stage: its section name, its keys and the cross-key rules. */
typedef struct bcdi_param_table {
    const char *section;
    const bcdi_param_spec *specs;
    size_t count;
    size_t params_size; /* sizeof the stage struct */
    /* cross-key consistency (keep <= runs, min < max, ...), after every key is in range; cfg
     * (may be NULL) gives the origins for the message */
    bcdi_status (*check)(const void *params, const bcdi_config *cfg);
} bcdi_param_table;

/* ---- table-building helpers (C11; T is the stage struct, F its field). Trailing arguments
 * are more designated initialisers (.word = "auto", .given_offset = ...). ---- */
/* clang-format off */
#define BCDI_PARAM_STORE_OF(x)                                                                     \
    _Generic((x), long: BCDI_STORE_LONG, unsigned long: BCDI_STORE_ULONG,                          \
                  double: BCDI_STORE_DOUBLE, default: BCDI_STORE_INT)
/* clang-format on */
#define BCDI_FIELD_SIZE(T, F) sizeof(((T *)0)->F)
#define BCDI_RANGE_FLAGS (BCDI_PARAM_BOUND | BCDI_PARAM_HAS_MIN | BCDI_PARAM_HAS_MAX)

/* text into a char array (its capacity is the limit) */
#define BCDI_KEY_STRING(key, T, F, def, help, ...)                                                 \
    {                                                                                              \
        key, BCDI_PARAM_STRING, def, help, .flags = BCDI_PARAM_BOUND, .offset = offsetof(T, F),    \
                                           .size = BCDI_FIELD_SIZE(T, F), __VA_ARGS__              \
    }
/* integer in [lo, hi] */
#define BCDI_KEY_INT(key, T, F, def, lo, hi, help, ...)                                            \
    {                                                                                              \
        key, BCDI_PARAM_INT, def, help,                                                            \
            .flags = BCDI_RANGE_FLAGS, .offset = offsetof(T, F), .size = BCDI_FIELD_SIZE(T, F),    \
            .store = BCDI_PARAM_STORE_OF(((T *)0)->F), .min = lo, .max = hi, __VA_ARGS__           \
    }
/* number in a range; extra: BCDI_PARAM_MIN_OPEN, BCDI_PARAM_MAX_OPEN, ... or 0 */
#define BCDI_KEY_DOUBLE(key, T, F, def, lo, hi, extra, help, ...)                                  \
    {                                                                                              \
        key, BCDI_PARAM_DOUBLE, def, help,                                                         \
            .flags = BCDI_RANGE_FLAGS | (extra), .offset = offsetof(T, F),                         \
            .size = BCDI_FIELD_SIZE(T, F), .store = BCDI_STORE_DOUBLE, .min = lo, .max = hi,       \
            __VA_ARGS__                                                                            \
    }
#define BCDI_KEY_BOOL(key, T, F, def, help, ...)                                                   \
    {                                                                                              \
        key, BCDI_PARAM_BOOL, def, help, .flags = BCDI_PARAM_BOUND, .offset = offsetof(T, F),      \
                                         .size = BCDI_FIELD_SIZE(T, F), .store = BCDI_STORE_INT,   \
                                         __VA_ARGS__                                               \
    }
/* one of the NULL-terminated words `names`; the field receives values[i] (NULL: i) */
#define BCDI_KEY_CHOICE(key, T, F, def, names, values, help, ...)                                  \
    {                                                                                              \
        key, BCDI_PARAM_CHOICE, def, help,                                                         \
            .flags = BCDI_PARAM_BOUND, .offset = offsetof(T, F), .size = BCDI_FIELD_SIZE(T, F),    \
            .store = BCDI_PARAM_STORE_OF(((T *)0)->F), .choices = names, .choice_values = values,  \
            __VA_ARGS__                                                                            \
    }
/* nmin..(array length) numbers, each in [lo, hi]; extra: INTEGER, REPEAT, NONZERO, ... */
#define BCDI_KEY_NUMBERS(key, T, F, def, nmin, lo, hi, extra, help, ...)                           \
    {                                                                                              \
        key, BCDI_PARAM_NUMBERS, def, help,                                                        \
            .flags = BCDI_RANGE_FLAGS | (extra), .offset = offsetof(T, F),                         \
            .size = sizeof(((T *)0)->F) / sizeof(((T *)0)->F[0]),                                  \
            .store = BCDI_PARAM_STORE_OF(((T *)0)->F[0]), .min = lo, .max = hi, .count_min = nmin, \
            __VA_ARGS__                                                                            \
    }
/* a byte count in [lo, hi] into a size_t field: "4G", "512M", "1.5G", "1073741824" */
#define BCDI_KEY_BYTES(key, T, F, def, lo, hi, help, ...)                                          \
    {                                                                                              \
        key, BCDI_PARAM_INT, def, help, .flags = BCDI_RANGE_FLAGS | BCDI_PARAM_BYTES,              \
                                        .offset = offsetof(T, F), .size = BCDI_FIELD_SIZE(T, F),   \
                                        .store = BCDI_PARAM_STORE_OF(((T *)0)->F), .min = lo,      \
                                        .max = hi, __VA_ARGS__                                     \
    }
/* The memory a run may use (every subcommand that holds data has it): bytes, or auto (0 in
 * the field) = what the machine offers (core/memory.h); each stage refuses, before it reads its
 * bulk data, a run whose estimate exceeds it. */
#define BCDI_KEY_MAX_MEMORY(T, F)                                                                  \
    BCDI_KEY_BYTES(                                                                                \
        "max_memory", T, F, "auto", 1, 1152921504606846976.0,                                      \
        "memory this run may use, bytes with K/M/G/T suffixes (powers of 1024); auto = "           \
        "what the machine offers (MemAvailable, or the cgroup's limit when lower); a "             \
        "run whose estimate exceeds it is refused before its data is read",                        \
        .word = "auto", .word_value = 0)
/* free text parsed by fn(value, params) */
#define BCDI_KEY_PARSED(key, def, fn, help, ...)                                                   \
    {                                                                                              \
        key, BCDI_PARAM_LIST, def, help, .flags = BCDI_PARAM_BOUND, .parse = fn, __VA_ARGS__       \
    }

/* ---- the merged key/value store ---- */

/* `section` is the stage name; specs must outlive the config. */
bcdi_status bcdi_config_create(const char *section, const bcdi_param_spec *specs, size_t count,
                               bcdi_config **out);
void bcdi_config_free(bcdi_config *cfg);
/* Sections of an INI file that belong to someone else and are skipped (NULL-terminated list;
 * the pointers must outlive the config). Without it every section but the stage's is an error. */
void bcdi_config_skip_sections(bcdi_config *cfg, const char *const *sections);
/* Sections whose keys also apply, below the stage's own section: a key of the stage's section
 * (or outside any section) wins over the same key in one of these, wherever it stands in the
 * file (compare reads [analyze] because it analyses its states with analyze's keys). */
void bcdi_config_also_sections(bcdi_config *cfg, const char *const *sections);
/* A config file is a regular file of at most BCDI_CONFIG_MAX_BYTES (a FIFO, a device such as
 * /dev/zero, a folder or a larger file is refused before it is read). */
#define BCDI_CONFIG_MAX_BYTES ((size_t)1 << 20)
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
/* The same, leaving *out untouched (and returning BCDI_OK) when the key has no value. */
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

/* ---- bound tables: the one loader ---- */

/* The struct from the table's defaults alone (zeroes first; keys without a default leave their
 * field zero, or NaN with UNSET_NAN). Fails only on a broken table. */
bcdi_status bcdi_params_defaults(const bcdi_param_table *table, void *params);
/* Fill `params` from cfg (created with table->specs): defaults, then every value cfg holds,
 * each converted and checked against its type, range or choices, then the table's cross-key
 * rules. BCDI_ERR_CONFIG naming origin, key, value and what was expected. */
bcdi_status bcdi_config_bind(const bcdi_config *cfg, const bcdi_param_table *table, void *params);
/* The whole load: a config from the table's defaults < the INI file at ini_path (NULL: none) <
 * the key=value assignments, sections in skip_sections skipped (may be NULL), then
 * bcdi_config_bind. *cfg_out (may be NULL) receives the merged config (provenance: every key
 * with its value); free it with bcdi_config_free. */
bcdi_status bcdi_params_load(const bcdi_param_table *table, const char *ini_path,
                             const char *const *assignments, size_t assignment_count,
                             const char *const *skip_sections, bcdi_config **cfg_out, void *params);
/* Range checks of a struct filled by hand (library callers): every bound field against its
 * range or choices, then the table's cross-key rules; cfg (may be NULL) adds origins. */
bcdi_status bcdi_params_check(const bcdi_param_table *table, const void *params,
                              const bcdi_config *cfg);

/* What a key accepts, for --help and error messages: "integer 1..10000", "number in (0, 1)",
 * "one of: llk, fourier", "3 integers, each 1..4096", "text". Returns buf. */
const char *bcdi_param_describe(const bcdi_param_spec *spec, char *buf, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
