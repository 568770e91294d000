/* SPDX-License-Identifier: BSD-3-Clause */
/* The PNG writer: what is written reads back pixel for pixel (libpng), under the final name
 * only. */
#include "io/png.h"
#include "num/plot.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(png, writes_what_reads_back)
{
    char *dir = tu_make_temp_dir("png");
    char path[1024];
    snprintf(path, sizeof path, "%s/picture.png", dir);
    const uint8_t bg[3] = {10, 20, 30}, ink[3] = {200, 100, 0};
    bcdi_image img;
    cr_assert_eq(bcdi_image_create(&img, 7, 5, bg), BCDI_OK);
    bcdi_image_fill_rect(&img, 1, 2, 3, 2, ink);
    cr_assert_eq(bcdi_png_write(NULL, path, img.width, img.height, img.rgb), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(tu_count_entries(dir), 1, "no temporary left beside it");

    png_image back;
    memset(&back, 0, sizeof back);
    back.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&back, path), "%s", back.message);
    cr_expect(back.width == 7 && back.height == 5);
    back.format = PNG_FORMAT_RGB;
    uint8_t *pixels = malloc(PNG_IMAGE_SIZE(back));
    cr_assert(png_image_finish_read(&back, NULL, pixels, 0, NULL), "%s", back.message);
    cr_expect_eq(memcmp(pixels, img.rgb, 7 * 5 * 3), 0, "pixels differ after the round trip");
    free(pixels);
    bcdi_image_free(&img);
    tu_remove_tree(dir);
    free(dir);
}

Test(png, unwritable_folder_is_an_error)
{
    const uint8_t rgb[3] = {1, 2, 3};
    cr_expect_eq(bcdi_png_write(NULL, "/nonexistent-folder/x.png", 1, 1, rgb), BCDI_ERR_IO);
}
