/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the integer LSTM's gate products for MVE (Helium) cores (see
 * md_lstm_int.h, md_nn_support.h). int8: two weight rows at a time by VMLADAVA, so that each
 * vector of values loaded feeds two products, the offset applied once per row through the row's
 * sum. int16: 8 values at a time against 8 weights widened as they load (VLDRB.S16), summed
 * exactly in 64 bits by VMLALDAVA as TFLite's 16x8 kernels sum. */
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

void md_lstm_dots_s16(const int16_t *values, const int8_t *weights, int32_t depth, int32_t rows, int64_t *sums)
{
    int32_t r;
    int32_t k;
    for (r = 0; r < rows; ++r) {
        const int8_t *row = weights + r * depth;
        int64_t sum = 0;
        for (k = 0; k + 8 <= depth; k += 8) {
            sum = vmlaldavaq_s16(sum, vldrhq_s16(values + k), vldrbq_s16(row + k));
        }
        if (k < depth) {
            const mve_pred16_t tail = vctp16q((uint32_t)(depth - k));
            sum = vmlaldavaq_s16(sum, vldrhq_z_s16(values + k, tail), vldrbq_z_s16(row + k, tail));
        }
        sums[r] = sum;
    }
}

#endif /* MD_PATH_MVE */
