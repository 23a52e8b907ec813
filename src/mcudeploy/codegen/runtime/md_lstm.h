/* mcudeploy kernel library: UNIDIRECTIONAL_SEQUENCE_LSTM (float32).
 *
 * Step by step and, within a step, batch row by batch row (rows are independent): the
 * row's four gates in the scratch buffer (4 * cells floats), each the input times its
 * input weights plus the bias, plus the hidden state times its recurrent weights, summed in
 * TFLM's order; then the row's cell state (forget * cell + input * cell gate, clipped when
 * cell_clip > 0), hidden state (output gate * tanh(cell)) and output. The states are
 * static arrays outside the arena, kept across invocations.
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
} md_lstm_params;

/* weights: the input weights of the input, forget, cell and output gates, then their
 * recurrent weights; biases: the four gates' biases. */
void md_lstm_f32(const md_lstm_params *p, float cell_clip, const float *input, const float *const weights[8],
                 const float *const biases[4], float *hidden, float *cell, float *scratch, float *output);

#endif /* MD_LSTM_H */
