/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 UNIDIRECTIONAL_SEQUENCE_LSTM with an int16 cell state (see md_nn.h). */
#include "md_nn_support.h"

/* One int8 product of a gate: FULLY_CONNECTED to int16 (output zero point 0), saturated. */
static int32_t md_lstm_product(const int8_t *values, int32_t zero_point, const int8_t *weights, int32_t depth,
                               int32_t bias, int32_t multiplier, int32_t shift)
{
    int32_t sum = bias;
    int32_t k;
    for (k = 0; k < depth; ++k) {
        sum = md_wrap_add(sum, (values[k] - zero_point) * weights[k]);
    }
    return md_clamp_i32(md_mbqm(sum, multiplier, shift), INT16_MIN, INT16_MAX);
}

/* TFLite's MulElementwise of two symmetric int16 operands. */
static int32_t md_lstm_mul(int32_t a, int32_t b, int32_t multiplier, int32_t shift, int32_t zero_point, int32_t low,
                           int32_t high)
{
    return md_clamp_i32(md_mbqm(a * b, multiplier, shift) + zero_point, low, high);
}

/* TFLM's lstm tanh of an int16 of scale 2^scale_power: onto the table's Q3.12, times 3. */
static void md_lstm_tanh(int32_t count, int32_t scale_power, const int16_t *input, int16_t *output)
{
    const int32_t left_shift = 15 + scale_power - 3;
    md_activation_params activation = {0};
    activation.count = count;
    activation.dtype = MD_INT16;
    activation.multiplier = left_shift < 0 ? 3 : 3 << left_shift;
    activation.shift = left_shift < 0 ? -left_shift : 0;
    md_tanh_s16(&activation, input, output);
}

md_status md_lstm_s8(const md_lstm_params *p, const int8_t *input, const int8_t *const weights[8],
                     const int32_t *const biases[4], int8_t *hidden, int16_t *cell, int16_t *scratch, int8_t *output)
{
    const int32_t n = p->cells;
    md_activation_params logistic = {0};
    int32_t t;
    int32_t b;
    int32_t g;
    int32_t c;
    logistic.count = n;
    logistic.dtype = MD_INT16;
    logistic.multiplier = 3; /* Q3.12 onto the table */
    for (t = 0; t < p->time_steps; ++t) {
        for (b = 0; b < p->batches; ++b) {
            const int32_t position = p->time_major ? t * p->batches + b : b * p->time_steps + t;
            const int8_t *row = input + position * p->input_size;
            int8_t *state = hidden + b * n;
            int16_t *memory = cell + b * n;
            int16_t *input_gate = scratch;
            int16_t *forget_gate = scratch + n;
            int16_t *cell_gate = scratch + 2 * n;
            int16_t *output_gate = scratch + 3 * n;
            for (g = 0; g < 4; ++g) { /* input, forget, cell, output gate */
                int16_t *gate = scratch + g * n;
                for (c = 0; c < n; ++c) {
                    const int32_t from_input =
                        md_lstm_product(row, p->input_zero_point, weights[g] + c * p->input_size, p->input_size,
                                        biases[g][c], p->input_multipliers[g], p->input_shifts[g]);
                    const int32_t from_state = md_lstm_product(state, p->hidden_zero_point, weights[4 + g] + c * n,
                                                               n, 0, p->recurrent_multipliers[g], p->recurrent_shifts[g]);
                    gate[c] = (int16_t)md_clamp_i32(from_input + from_state, INT16_MIN, INT16_MAX);
                }
            }
            md_logistic_s16(&logistic, input_gate, input_gate);
            md_logistic_s16(&logistic, forget_gate, forget_gate);
            md_lstm_tanh(n, -12, cell_gate, cell_gate);
            md_logistic_s16(&logistic, output_gate, output_gate);
            for (c = 0; c < n; ++c) {
                const int32_t kept = md_lstm_mul(forget_gate[c], memory[c], p->forget_multiplier, p->forget_shift, 0,
                                                 INT16_MIN, INT16_MAX);
                const int32_t added = md_lstm_mul(input_gate[c], cell_gate[c], p->input_multiplier, p->input_shift, 0,
                                                  INT16_MIN, INT16_MAX);
                int32_t updated = md_clamp_i32(kept + added, INT16_MIN, INT16_MAX);
                if (p->quantized_cell_clip > 0) {
                    updated = md_clamp_i32(updated, -p->quantized_cell_clip, p->quantized_cell_clip);
                }
                memory[c] = (int16_t)updated;
            }
            md_lstm_tanh(n, p->cell_scale_power, memory, input_gate); /* the input gate is no longer needed */
            for (c = 0; c < n; ++c) {
                state[c] = (int8_t)md_lstm_mul(input_gate[c], output_gate[c], p->output_multiplier, p->output_shift,
                                               p->hidden_zero_point, INT8_MIN, INT8_MAX);
                output[position * n + c] = state[c];
            }
        }
    }
    return MD_OK;
}
