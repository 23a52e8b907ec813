/* SPDX-License-Identifier: Apache-2.0 */
/* mdnn, the C99 neural-network kernel library of mcudeploy: its public API.
 *
 * Include this header only; it gathers every family's declarations:
 *   md_common.h          status codes (md_status), element types, shared helpers
 *   md_conv.h            CONV_2D (int8, int16x8, float32, hybrid)
 *   md_depthwise.h       DEPTHWISE_CONV_2D
 *   md_fully_connected.h FULLY_CONNECTED
 *   md_pool.h            AVERAGE_POOL_2D, MAX_POOL_2D
 *   md_elementwise.h     ADD, SUB, MUL, SQUARED_DIFFERENCE with broadcasting
 *   md_compare.h         MAXIMUM, MINIMUM, comparisons, logical operators, SELECT_V2
 *   md_unary.h           ABS, NEG, RSQRT, CAST and float32 math (SIN, EXP, SQRT, ...)
 *   md_activations.h     RELU family, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH
 *   md_softmax.h         SOFTMAX
 *   md_quantize.h        QUANTIZE, DEQUANTIZE, requantization
 *   md_reduce.h          MEAN, SUM, REDUCE_MAX/MIN
 *   md_copy.h            reshape, concatenation, split, slices, transposes, padding, resizing
 *   md_svdf.h            SVDF
 *   md_lstm.h            UNIDIRECTIONAL_SEQUENCE_LSTM
 *   md_ethosu.h          the Ethos-U NPU interface the application provides
 *
 * Parameters and their ranges, common to the families:
 * - Tensors are NHWC (batches, height, width, channels), dimensions int32 and positive, at most
 *   MD_MAX_DIMS of them; filters are [output_c, filter_h, filter_w, filter_c] for CONV_2D,
 *   [1, filter_h, filter_w, output_c] for DEPTHWISE_CONV_2D, [output_depth, accum_depth] for
 *   FULLY_CONNECTED.
 * - Offsets are minus the zero points: input_offset in [-127, 128] for int8 (0 for int16),
 *   filter_offset 0 for per-channel filters; output_offset the output zero point.
 * - Requantization: multipliers are Q31 in [2^30, 2^31) and shifts in
 *   [-31, 30], a positive shift a left shift (TFLite's QuantizeMultiplier); one of each per output
 *   channel when per_channel is 1, else one for all.
 * - act_min <= act_max, within the output type's range (the fused activation's clamp).
 * - Biases are int32 for int8 kernels, int64 for 16x8 kernels with accumulator64, float32 for
 *   float kernels; NULL means no bias.
 * - scratch: NULL, or a buffer of at least *_get_buffer_size() bytes aligned to its element type;
 *   the kernels with two paths (CONV_2D im2col or direct, DEPTHWISE_CONV_2D planes or streaming)
 *   take the one their scratch argument selects, with the same results.
 * - Output buffers may share bytes with their input only as the kernel's header states (the
 *   memory contracts of mcudeploy's planner, kernels/contracts.py).
 *
 * Conventions every kernel follows:
 * - Integer kernels are bit-exact with TFLite Micro's reference kernels (int8, int16).
 * - No heap, no stdio, no asserts. Every buffer is given by the caller: tensors, and a scratch
 *   buffer of the size the family's *_get_buffer_size() returns (NULL where it returns 0).
 * - Parameters (the md_*_params structs) are checked when mcudeploy generates the code calling
 *   the kernels; a kernel trusts them. Shapes are NHWC, int32 dimensions.
 * - Every entry point returns an md_status: MD_OK, or MD_ERROR_RANGE when values met at run time
 *   leave the integer arithmetic's range (where TFLite Micro aborts).
 * - One set of sources builds for every Cortex-M core: the compiler's target macros select the
 *   Helium (MVE), DSP-extension or portable path of each family (MD_PATH_* in md_common.h).
 */
#ifndef MD_NN_H
#define MD_NN_H

#include "md_activations.h"
#include "md_common.h"
#include "md_compare.h"
#include "md_conv.h"
#include "md_copy.h"
#include "md_depthwise.h"
#include "md_elementwise.h"
#include "md_ethosu.h"
#include "md_fully_connected.h"
#include "md_lstm.h"
#include "md_pool.h"
#include "md_quantize.h"
#include "md_reduce.h"
#include "md_softmax.h"
#include "md_svdf.h"
#include "md_unary.h"

#endif /* MD_NN_H */
