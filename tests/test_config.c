/* Config merge: defaults < INI < key=value; unknown keys, bad values and bad sections are errors
 * that say where they came from. */
#include "bcdi/config.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bcdi_param_spec specs[] = {
    {"photons", BCDI_PARAM_DOUBLE, "1e8", "total counts"},
    {"seed", BCDI_PARAM_INT, "1", "seed"},
    {"noise", BCDI_PARAM_BOOL, "true", "noise"},
    {"shape", BCDI_PARAM_LIST, "64,64,64", "shape"},
    {"name", BCDI_PARAM_STRING, NULL, "no default"},
};

static char *write_ini(const char *text)
{
    char *dir = tu_make_temp_dir("cfg");
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/c.ini", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    free(dir);
    return path;
}

Test(config, precedence_default_file_command_line)
{
    bcdi_config *cfg;
    cr_assert_eq(bcdi_config_create("simulate", specs, 5, &cfg), BCDI_OK);
    char *ini = write_ini(
        "seed = 5\nphotons = 2e6\n[simulate]\nname = from file\n[phase]\nrecipe = 10*ER\n");
    cr_assert_eq(bcdi_config_load_ini(cfg, ini), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_config_override(cfg, "seed=7"), BCDI_OK);
    long seed;
    double photons;
    int noise;
    bcdi_config_int(cfg, "seed", &seed);
    bcdi_config_double(cfg, "photons", &photons);
    bcdi_config_bool(cfg, "noise", &noise);
    cr_expect_eq(seed, 7, "command line wins");
    cr_expect_eq(photons, 2e6, "file beats default");
    cr_expect_eq(noise, 1, "default kept");
    cr_expect_str_eq(bcdi_config_string(cfg, "name"), "from file");
    cr_expect_str_eq(bcdi_config_origin(cfg, "seed"), "command line");
    cr_expect(strstr(bcdi_config_origin(cfg, "photons"), ":2") != NULL, "origin has the line: %s",
              bcdi_config_origin(cfg, "photons"));
    double shape[3];
    size_t count;
    cr_expect_eq(bcdi_config_doubles(cfg, "shape", shape, 3, 3, &count), BCDI_OK);
    cr_expect_eq(shape[2], 64);
    cr_expect_eq(bcdi_config_count(cfg), 5);
    bcdi_config_free(cfg);
    free(ini);
}

Test(config, errors_name_key_and_origin)
{
    bcdi_config *cfg;
    bcdi_config_create("simulate", specs, 5, &cfg);
    cr_expect_eq(bcdi_config_override(cfg, "phtons=3"), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "unknown key 'phtons'") &&
                  strstr(bcdi_last_error(), "photons"),
              "%s", bcdi_last_error());
    cr_expect_eq(bcdi_config_override(cfg, "seed=1.5"), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "integer"), "%s", bcdi_last_error());
    cr_expect_eq(bcdi_config_override(cfg, "photons=nan"), BCDI_ERR_CONFIG);
    cr_expect_eq(bcdi_config_override(cfg, "noise=maybe"), BCDI_ERR_CONFIG);
    cr_expect_eq(bcdi_config_override(cfg, "=3"), BCDI_ERR_CONFIG);
    cr_expect_eq(bcdi_config_override(cfg, "shape=1,2,"), BCDI_OK); /* lists checked on use */
    double v[3];
    cr_expect_eq(bcdi_config_doubles(cfg, "shape", v, 3, 3, NULL), BCDI_ERR_CONFIG);
    bcdi_config_override(cfg, "shape=1,2");
    cr_expect_eq(bcdi_config_doubles(cfg, "shape", v, 3, 3, NULL), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "at least 3"), "%s", bcdi_last_error());
    cr_expect_eq(bcdi_config_string(cfg, "name"), NULL);
    char *ini = write_ini("seed = 2\nbogus = 1\n");
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "c.ini:2") && strstr(bcdi_last_error(), "bogus"), "%s",
              bcdi_last_error());
    free(ini);
    ini = write_ini("[simulat]\nseed = 2\n");
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "unknown section [simulat]"), "%s", bcdi_last_error());
    free(ini);
    ini = write_ini("seed 2\n");
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "line 1"), "%s", bcdi_last_error());
    free(ini);
    /* a line over the INI reader's buffer is named as such, with its own line number */
    char long_ini[1200];
    snprintf(long_ini, sizeof long_ini, "seed = 3\nname = %0900d\nphotons = 2\n", 7);
    ini = write_ini(long_ini);
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "line 2 is longer than") != NULL, "%s", bcdi_last_error());
    free(ini);
    cr_expect_eq(bcdi_config_load_ini(cfg, "/nonexistent/x.ini"), BCDI_ERR_IO);
    bcdi_config_free(cfg);
}
