/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 UNIDIRECTIONAL_SEQUENCE_LSTM (see md_nn.h). */
#include "md_nn_support.h"

/* One gate of one row: input FC with bias, plus the recurrent FC, then its activation. */
static void md_lstm_gate(const md_lstm_params *p, const float *row, const float *state, const float *input_weights,
                         const float *recurrent_weights, const float *bias, md_activation_f32 function, float *gate)
{
    md_activation_f32_params activation = {0};
    int32_t c;
    int32_t k;
    for (c = 0; c < p->cells; ++c) {
        float from_input = 0.0f;
        float from_state = 0.0f;
        for (k = 0; k < p->input_size; ++k) {
            from_input += row[k] * input_weights[c * p->input_size + k];
        }
        for (k = 0; k < p->cells; ++k) {
            from_state += state[k] * recurrent_weights[c * p->cells + k];
        }
        gate[c] = (from_input + bias[c]) + from_state;
    }
    activation.count = p->cells;
    activation.function = function;
    md_activation_f32_run(&activation, gate, gate);
}

md_status md_lstm_f32(const md_lstm_params *p, float cell_clip, const float *input, const float *const weights[8],
                      const float *const biases[4], float *hidden, float *cell, float *scratch, float *output)
{
    static const md_activation_f32 functions[4] = {MD_LOGISTIC_F32, MD_LOGISTIC_F32, MD_TANH_F32, MD_LOGISTIC_F32};
    md_activation_f32_params tanh_of_cell = {0};
    int32_t t;
    int32_t b;
    int32_t g;
    int32_t c;
    tanh_of_cell.count = p->cells;
    tanh_of_cell.function = MD_TANH_F32;
    for (t = 0; t < p->time_steps; ++t) {
        for (b = 0; b < p->batches; ++b) {
            const int32_t position = p->time_major ? t * p->batches + b : b * p->time_steps + t;
            float *state = hidden + b * p->cells;
            float *memory = cell + b * p->cells;
            for (g = 0; g < 4; ++g) { /* input, forget, cell, output gate */
                md_lstm_gate(p, input + position * p->input_size, state, weights[g], weights[4 + g], biases[g],
                             functions[g], scratch + g * p->cells);
            }
            for (c = 0; c < p->cells; ++c) {
                float updated = scratch[p->cells + c] * memory[c] + scratch[c] * scratch[2 * p->cells + c];
                if (cell_clip > 0.0f) {
                    updated = updated < -cell_clip ? -cell_clip : (updated > cell_clip ? cell_clip : updated);
                }
                memory[c] = updated;
            }
            md_activation_f32_run(&tanh_of_cell, memory, scratch); /* the input gate is no longer needed */
            for (c = 0; c < p->cells; ++c) {
                state[c] = scratch[c] * scratch[3 * p->cells + c];
                output[position * p->cells + c] = state[c];
            }
        }
    }
    return MD_OK;
}
