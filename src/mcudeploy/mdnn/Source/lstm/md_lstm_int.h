/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: what the integer LSTM (md_lstm.c) and its ISA paths share. */
#ifndef MD_LSTM_INT_H
#define MD_LSTM_INT_H

#include "md_nn_support.h"

/* sums[r] = sum((values[k] + offset) * weights[r * depth + k]) over k < depth, modulo 2^32, for
 * r < rows: the int8 products of a gate's weight rows, the LSTM's cost. One definition per
 * build, its ISA path's: md_lstm.c (portable), md_lstm_dsp.c, md_lstm_mve.c. */
void md_lstm_dots_s8(const int8_t *values, int32_t offset, const int8_t *weights, int32_t depth, int32_t rows,
                     int32_t *sums);

/* sums[r] = sum(values[k] * weights[r * depth + k]) over k < depth, exact in 64 bits: the int16
 * (16x8) products (zero points 0: TFLite's int16 activations are symmetric), per ISA as
 * md_lstm_dots_s8. */
void md_lstm_dots_s16(const int16_t *values, const int8_t *weights, int32_t depth, int32_t rows, int64_t *sums);

#endif /* MD_LSTM_INT_H */
