/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the int8 LSTM's gate products for MVE (Helium) cores (see
 * md_lstm_int.h, md_nn_support.h): two weight rows at a time by VMLADAVA, so that each vector of
 * values loaded feeds two products, the offset applied once per row through the row's sum. */
#include "md_lstm_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_lstm_mve);

void md_lstm_dots_s8(const int8_t *values, int32_t offset, const int8_t *weights, int32_t depth, int32_t rows,
                     int32_t *sums)
{
    int32_t r;
    for (r = 0; r + 1 < rows; r += 2) {
        md_mve_dot1x2_s8(values, weights + r * depth, depth, offset, sums + r);
    }
    if (r < rows) {
        sums[r] = md_mve_dot_s8(values, weights + r * depth, depth, offset);
    }
}

#endif /* MD_PATH_MVE */
