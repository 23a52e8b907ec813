/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: UNIDIRECTIONAL_SEQUENCE_LSTM (float32; int8 with an int16 cell state).
 *
 * Step by step and, within a step, batch row by batch row (rows are independent): the
 * row's four gates in the scratch buffer (4 * cells floats), each the input times its
 * input weights plus the bias, plus the hidden state times its recurrent weights, summed in
 * TFLM's order; then the row's cell state (forget * cell + input * cell gate, clipped when
 * cell_clip > 0), hidden state (output gate * tanh(cell)) and output. The states are
 * static arrays outside the arena, kept across invocations.
 *
 * int8 (TFLM's 8x8_16 scheme): each gate's two products go to int16 in Q3.12 (saturated, then
 * added saturating), the int16 logistic and tanh give Q0.15, the cell state is int16 of scale
 * 2^cell_scale_power, the hidden state int8. The scratch holds the four gates in int16.
 */
#ifndef MD_LSTM_H
#define MD_LSTM_H

#include "md_common.h"

typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_size;
    int32_t cells;
    int32_t time_major; /* the sequence is [time, batch, input] (else [batch, time, input]) */
    /* int8 only: */
    int32_t input_zero_point;
    int32_t hidden_zero_point;
    int32_t input_multipliers[4]; /* per gate: input * input-weight scale onto Q3.12 */
    int32_t input_shifts[4];
    int32_t recurrent_multipliers[4]; /* per gate: hidden * recurrent-weight scale onto Q3.12 */
    int32_t recurrent_shifts[4];
    int32_t forget_multiplier; /* Q0.15 forget gate * cell onto the cell scale */
    int32_t forget_shift;
    int32_t input_multiplier; /* Q0.15 input gate * Q0.15 cell gate onto the cell scale */
    int32_t input_shift;
    int32_t output_multiplier; /* Q0.15 output gate * Q0.15 tanh(cell) onto the hidden scale */
    int32_t output_shift;
    int32_t cell_scale_power;
    int32_t quantized_cell_clip; /* 0: none */
} md_lstm_params;

/* weights: the input weights of the input, forget, cell and output gates, then their
 * recurrent weights; biases: the four gates' biases. */
md_status md_lstm_f32(const md_lstm_params *p, float cell_clip, const float *input, const float *const weights[8],
                      const float *const biases[4], float *hidden, float *cell, float *scratch, float *output);

md_status md_lstm_s8(const md_lstm_params *p, const int8_t *input, const int8_t *const weights[8],
                     const int32_t *const biases[4], int8_t *hidden, int16_t *cell, int16_t *scratch, int8_t *output);

#endif /* MD_LSTM_H */
