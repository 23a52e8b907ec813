/* SPDX-License-Identifier: Apache-2.0 */
/* The byte-moving kernels on small cases worked out by hand. */
#include <string.h>

#include "md_nn.h"
#include "md_test.h"

int main(void)
{
    const int8_t a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    const void *const pieces_in[2] = {a, b};
    const int32_t piece_bytes[2] = {2, 1};
    int8_t joined[6], first[4], second[2];
    void *const pieces_out[2] = {first, second};
    const int8_t expected_join[6] = {1, 2, 5, 3, 4, 6};
    const int8_t value = 9;
    int8_t filled[3];
    md_pad_params pad = {0};
    const int8_t grid[4] = {1, 2, 3, 4};
    int8_t padded[9];
    const int8_t expected_pad[9] = {7, 7, 7, 7, 1, 2, 7, 3, 4};
    /* int4 values -8, 7, -1, 3, 5 packed low nibble first: 0x78, 0x3F, then 5 with an unused high nibble. */
    const int8_t packed[3] = {0x78, 0x3F, (int8_t)0xF5};
    const int8_t expected_values[5] = {-8, 7, -1, 3, 5};
    int8_t values[5];

    /* Two rows of [a piece of 2, a piece of 1]. */
    MD_CHECK(md_concatenate(2, pieces_in, piece_bytes, 2, joined) == MD_OK);
    MD_CHECK(memcmp(joined, expected_join, sizeof joined) == 0);
    MD_CHECK(md_split(2, joined, pieces_out, piece_bytes, 2) == MD_OK);
    MD_CHECK(memcmp(first, a, 4) == 0 && memcmp(second, b, 2) == 0);

    MD_CHECK(md_fill(&value, filled, 3, 1) == MD_OK);
    MD_CHECK(filled[0] == 9 && filled[1] == 9 && filled[2] == 9);

    /* A 2x2 grid padded by one row and one column before, with 7. */
    pad.rank = 2, pad.element_bytes = 1, pad.value[0] = 7;
    pad.input_shape[0] = 2, pad.input_shape[1] = 2, pad.output_shape[0] = 3, pad.output_shape[1] = 3;
    pad.before[0] = 1, pad.before[1] = 1;
    MD_CHECK(md_pad(&pad, grid, padded) == MD_OK);
    MD_CHECK(memcmp(padded, expected_pad, sizeof padded) == 0);

    md_unpack_s4(packed, 0, 5, values);
    MD_CHECK(memcmp(values, expected_values, sizeof values) == 0);
    md_unpack_s4(packed, 1, 3, values); /* from a high nibble, to a high nibble */
    MD_CHECK(memcmp(values, expected_values + 1, 3) == 0);
    md_unpack_s4(packed, 3, 2, values); /* from a high nibble to the last, odd, value */
    MD_CHECK(memcmp(values, expected_values + 3, 2) == 0);
    return MD_TEST_RESULT();
}
