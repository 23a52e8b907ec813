/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer UNIDIRECTIONAL_SEQUENCE_LSTM with an int16 cell state, int8
 * (8x8_16) and int16 (16x8) activations (see md_nn.h). The gates' products run on the build's ISA
 * path (md_lstm_dots_s8, md_lstm_dots_s16); the rest is shared. */
#include "md_lstm_int.h"

#define MD_LSTM_BLOCK 8 /* weight rows whose int8 sums are on the stack at once */

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_lstm_portable);

void md_lstm_dots_s8(const int8_t *values, int32_t offset, const int8_t *weights, int32_t depth, int32_t rows,
                     int32_t *sums)
{
    int32_t r;
    int32_t k;
    for (r = 0; r < rows; ++r) {
        const int8_t *row = weights + r * depth;
        int32_t sum = 0;
        for (k = 0; k < depth; ++k) {
            sum = md_wrap_add(sum, (values[k] + offset) * row[k]);
        }
        sums[r] = sum;
    }
}

void md_lstm_dots_s16(const int16_t *values, const int8_t *weights, int32_t depth, int32_t rows, int64_t *sums)
{
    int32_t r;
    int32_t k;
    for (r = 0; r < rows; ++r) {
        const int8_t *row = weights + r * depth;
        int64_t sum = 0;
        for (k = 0; k < depth; ++k) {
            sum += values[k] * row[k];
        }
        sums[r] = sum;
    }
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */

/* A gate before its activation: its two products (FULLY_CONNECTED to int16, output zero point 0,
 * each saturated) added saturating. */
static int16_t md_lstm_gate_value(int32_t from_input, int32_t from_state)
{
    const int32_t input = md_clamp_i32(from_input, INT16_MIN, INT16_MAX);
    const int32_t state = md_clamp_i32(from_state, INT16_MIN, INT16_MAX);
    return (int16_t)md_clamp_i32(input + state, INT16_MIN, INT16_MAX);
}

/* Gate g of one batch row, int8 values: int32 sums rescaled in 32 bits. */
static void md_lstm_gate_s8(const md_lstm_params *p, int32_t g, const int8_t *row, const int8_t *state,
                            const int8_t *const weights[8], const int32_t *bias, int16_t *gate)
{
    const int32_t n = p->cells;
    int32_t from_input[MD_LSTM_BLOCK];
    int32_t from_state[MD_LSTM_BLOCK];
    int32_t c;
    int32_t r;
    for (c = 0; c < n; c += MD_LSTM_BLOCK) {
        const int32_t rows = md_min_i32(MD_LSTM_BLOCK, n - c);
        md_lstm_dots_s8(row, -p->input_zero_point, weights[g] + c * p->input_size, p->input_size, rows, from_input);
        md_lstm_dots_s8(state, -p->hidden_zero_point, weights[4 + g] + c * n, n, rows, from_state);
        for (r = 0; r < rows; ++r) {
            gate[c + r] = md_lstm_gate_value(
                md_mbqm(md_wrap_add(from_input[r], bias[c + r]), p->input_multipliers[g], p->input_shifts[g]),
                md_mbqm(from_state[r], p->recurrent_multipliers[g], p->recurrent_shifts[g]));
        }
    }
}

/* Gate g of one batch row, int16 values (zero points 0): int64 sums and biases, rescaled with
 * md_mbqm64. */
static void md_lstm_gate_s16(const md_lstm_params *p, int32_t g, const int16_t *row, const int16_t *state,
                             const int8_t *const weights[8], const int64_t *bias, int16_t *gate)
{
    const int32_t n = p->cells;
    int64_t from_input[MD_LSTM_BLOCK];
    int64_t from_state[MD_LSTM_BLOCK];
    int32_t c;
    int32_t r;
    for (c = 0; c < n; c += MD_LSTM_BLOCK) {
        const int32_t rows = md_min_i32(MD_LSTM_BLOCK, n - c);
        md_lstm_dots_s16(row, weights[g] + c * p->input_size, p->input_size, rows, from_input);
        md_lstm_dots_s16(state, weights[4 + g] + c * n, n, rows, from_state);
        for (r = 0; r < rows; ++r) {
            gate[c + r] = md_lstm_gate_value(
                md_mbqm64(from_input[r] + bias[c + r], p->input_multipliers[g], p->input_shifts[g]),
                md_mbqm64(from_state[r], p->recurrent_multipliers[g], p->recurrent_shifts[g]));
        }
    }
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

/* From the four gates of a row in `gates`: their activations, the row's new cell state, and
 * tanh(cell) in place of the input gate (then no longer needed). */
static void md_lstm_update_cell(const md_lstm_params *p, int16_t *memory, int16_t *gates)
{
    const int32_t n = p->cells;
    int16_t *input_gate = gates;
    int16_t *forget_gate = gates + n;
    int16_t *cell_gate = gates + 2 * n;
    int16_t *output_gate = gates + 3 * n;
    md_activation_params logistic = {0};
    int32_t c;
    logistic.count = n;
    logistic.dtype = MD_INT16;
    logistic.multiplier = 3; /* Q3.12 onto the table */
    md_logistic_s16(&logistic, input_gate, input_gate);
    md_logistic_s16(&logistic, forget_gate, forget_gate);
    md_lstm_tanh(n, -12, cell_gate, cell_gate);
    md_logistic_s16(&logistic, output_gate, output_gate);
    for (c = 0; c < n; ++c) {
        const int32_t kept =
            md_lstm_mul(forget_gate[c], memory[c], p->forget_multiplier, p->forget_shift, 0, INT16_MIN, INT16_MAX);
        const int32_t added =
            md_lstm_mul(input_gate[c], cell_gate[c], p->input_multiplier, p->input_shift, 0, INT16_MIN, INT16_MAX);
        int32_t updated = md_clamp_i32(kept + added, INT16_MIN, INT16_MAX);
        if (p->quantized_cell_clip > 0) {
            updated = md_clamp_i32(updated, -p->quantized_cell_clip, p->quantized_cell_clip);
        }
        memory[c] = (int16_t)updated;
    }
    md_lstm_tanh(n, p->cell_scale_power, memory, input_gate);
}

/* Both integer schemes: `dtype` (MD_INT8 or MD_INT16) is the type of the sequence, the hidden
 * state and the output, `biases` int32 or int64 with it. */
static void md_lstm_integer(const md_lstm_params *p, md_dtype dtype, const void *input,
                            const int8_t *const weights[8], const void *const biases[4], void *hidden, int16_t *cell,
                            int16_t *scratch, void *output)
{
    const int32_t n = p->cells;
    const int32_t low = dtype == MD_INT8 ? INT8_MIN : INT16_MIN;
    const int32_t high = dtype == MD_INT8 ? INT8_MAX : INT16_MAX;
    int32_t t;
    int32_t b;
    int32_t g;
    int32_t c;
    for (t = 0; t < p->time_steps; ++t) {
        for (b = 0; b < p->batches; ++b) {
            const int32_t position = p->time_major ? t * p->batches + b : b * p->time_steps + t;
            int16_t *memory = cell + b * n;
            for (g = 0; g < 4; ++g) { /* input, forget, cell, output gate */
                if (dtype == MD_INT8) {
                    md_lstm_gate_s8(p, g, (const int8_t *)input + position * p->input_size, (int8_t *)hidden + b * n,
                                    weights, (const int32_t *)biases[g], scratch + g * n);
                } else {
                    md_lstm_gate_s16(p, g, (const int16_t *)input + position * p->input_size,
                                     (int16_t *)hidden + b * n, weights, (const int64_t *)biases[g], scratch + g * n);
                }
            }
            md_lstm_update_cell(p, memory, scratch);
            for (c = 0; c < n; ++c) { /* output gate * tanh(cell) */
                const int32_t value = md_lstm_mul(scratch[c], scratch[3 * n + c], p->output_multiplier,
                                                  p->output_shift, p->hidden_zero_point, low, high);
                md_store_saturated(hidden, b * n + c, dtype, value);
                md_store_saturated(output, position * n + c, dtype, value);
            }
        }
    }
}

md_status md_lstm_s8(const md_lstm_params *p, const int8_t *input, const int8_t *const weights[8],
                     const int32_t *const biases[4], int8_t *hidden, int16_t *cell, int16_t *scratch, int8_t *output)
{
    const void *const bias[4] = {biases[0], biases[1], biases[2], biases[3]};
    md_lstm_integer(p, MD_INT8, input, weights, bias, hidden, cell, scratch, output);
    return MD_OK;
}

md_status md_lstm_s16(const md_lstm_params *p, const int16_t *input, const int8_t *const weights[8],
                      const int64_t *const biases[4], int16_t *hidden, int16_t *cell, int16_t *scratch,
                      int16_t *output)
{
    const void *const bias[4] = {biases[0], biases[1], biases[2], biases[3]};
    md_lstm_integer(p, MD_INT16, input, weights, bias, hidden, cell, scratch, output);
    return MD_OK;
}
