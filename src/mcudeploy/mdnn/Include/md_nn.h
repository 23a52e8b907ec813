/* SPDX-License-Identifier: Apache-2.0 */
/* mdnn, the C99 neural-network kernel library of mcudeploy: its public API, the one header an
 * application includes (as CMSIS-NN's arm_nnfunctions.h). What the kernels share among
 * themselves is in md_nn_support.h, not part of the API.
 *
 * Sections, in order:
 *   common               status codes (md_status), element types, attributes of generated code
 *   window geometry      md_window_params, shared by convolutions and pooling
 *   CONV_2D              int8, int16x8, float32, hybrid
 *   DEPTHWISE_CONV_2D
 *   TRANSPOSE_CONV       int8, int16x8, float32
 *   FULLY_CONNECTED
 *   pooling              AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D
 *   element-wise         ADD, SUB, MUL, SQUARED_DIFFERENCE, DIV, FLOOR_DIV, FLOOR_MOD with broadcasting;
 *                        ADD_N, CUMSUM
 *   comparisons          MAXIMUM, MINIMUM, comparisons, logical operators, SELECT_V2
 *   BATCH_MATMUL         int8, int16, float32
 *   unary                ABS, NEG, RSQRT, CAST, ELU and float32 math (SIN, EXP, SQRT, ...)
 *   activations          RELU family, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH, PRELU
 *   SOFTMAX              and LOG_SOFTMAX
 *   L2_NORMALIZATION
 *   quantization         QUANTIZE, DEQUANTIZE, requantization
 *   reductions           MEAN, SUM, REDUCE_MAX/MIN, REDUCE_ALL, ARG_MAX/MIN
 *   copies               reshape, concatenation, split, slices, transposes, padding, resizing,
 *                        block moves (space/depth/batch), gathers, broadcasts
 *   RESIZE_BILINEAR
 *   SVDF
 *   LSTM                 UNIDIRECTIONAL_SEQUENCE_LSTM
 *   signal               TFLite Micro's audio front end (its signal library's custom operators)
 *   detection            TFLite_Detection_PostProcess (SSD box decoding, non-max suppression)
 *   decode               TFLM_DECODE (constant tensors stored compressed: LUT, Huffman, pruning)
 *   Ethos-U              the NPU interface the application provides
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
 * - Output buffers may share bytes with their input only as the kernel's section below states (the
 *   memory contracts of mcudeploy's planner, kernels/contracts.py).
 *
 * Conventions every kernel follows:
 * - Integer kernels are bit-exact with TFLite Micro's reference kernels (int8, int16).
 * - No heap, no stdio, no asserts. Every buffer is given by the caller: tensors, and a scratch
 *   buffer of the size the family's *_get_buffer_size() returns (NULL where it returns 0).
 * - Parameters (the md_*_params structs) are checked when mcudeploy generates the code calling
 *   the kernels; a kernel trusts them. Shapes are NHWC, int32 dimensions.
 * - Every entry point returns an md_status: MD_OK, or MD_ERROR_RANGE when values met at run time
 *   leave the integer arithmetic's range (where TFLite Micro aborts), or (CIRCULAR_BUFFER only)
 *   MD_WAITING when the layers after it are not to run yet.
 * - One set of sources builds for every Cortex-M core: the compiler's target macros select the
 *   Helium (MVE), DSP-extension or portable path of each family (MD_PATH_* in md_nn_support.h).
 */
#ifndef MD_NN_H
#define MD_NN_H

#include <stddef.h>
#include <stdint.h>

/* ---- common: types, status codes and attributes of generated code.
 *
 * Portable C99. No heap, no stdio, no asserts: every buffer is placed by the
 * generated code, and every parameter was checked when the code was generated.
 * The library relies on two properties C99 leaves to the implementation, both
 * true of GCC, Clang and Arm Compiler: a right shift of a negative value is
 * arithmetic, and converting an out-of-range unsigned value to a signed type
 * wraps modulo 2^N. The first is checked at compile time (md_nn_support.h).
 */

/* What every kernel returns. The values are those of the generated network's status codes. */
typedef enum {
    MD_OK = 0,
    /* The kernel met values its integer arithmetic cannot represent (where TFLite Micro aborts). */
    MD_ERROR_RANGE = -3,
    /* Not an error: the kernel wrote its output and the layers after it must not run on this
     * inference (TFLite Micro's kTfLiteAbort: a CIRCULAR_BUFFER awaiting new frames). */
    MD_WAITING = 1
} md_status;

#define MD_MAX_DIMS 6

#if defined(__GNUC__)
#define MD_ALIGNED(n) __attribute__((aligned(n)))
#define MD_SECTION(name) __attribute__((section(name)))
#else
#define MD_ALIGNED(n)
#define MD_SECTION(name)
#endif

/* The profiling hook of generated layer functions, compiled out unless asked: with MD_PROFILE_LAYERS
 * defined they stay separate functions (one ELF symbol each, so a profiler can attribute costs per
 * layer), never inlined, cloned or merged; otherwise the compiler treats them as any function. */
#if defined(MD_PROFILE_LAYERS) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define MD_LAYER __attribute__((noipa))
#elif defined(MD_PROFILE_LAYERS) && defined(__GNUC__)
#define MD_LAYER __attribute__((noinline))
#else
#define MD_LAYER
#endif

/* Compile-time check: an array of negative size when `condition` is false. */
#define MD_STATIC_CHECK(name, condition) typedef char md_check_##name[(condition) ? 1 : -1]

/* Element types of tensors, for the kernels that move bytes or convert between types. */
typedef enum {
    MD_INT8 = 0,
    MD_UINT8 = 1,
    MD_INT16 = 2,
    MD_INT32 = 3,
    MD_FLOAT32 = 4,
    MD_INT64 = 5,
    MD_UINT32 = 6
} md_dtype;

/* ---- the sliding-window geometry convolutions and pooling share (NHWC). */

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t filter_c; /* CONV_2D: input channels per group (input_c when not grouped) */
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t input_offset;  /* added to every input value: -zero point for int8, 0 for int16 */
    int32_t output_offset; /* added after requantization */
    int32_t act_min, act_max;
    int32_t per_channel;   /* 1: a multiplier and shift per output channel, 0: one for every channel */
    int32_t accumulator64; /* 16x8 kernels: int64 accumulator and bias (else int32, wrapping) */
} md_window_params;

/* Along one axis, the size of an input with the padding its windows reach: `pad` before it, and
 * after it as far as the last window reads (kernels/contracts.py padded_plane_pixels). */
static inline int32_t md_padded_extent(int32_t size, int32_t out, int32_t stride, int32_t pad, int32_t filter,
                                       int32_t dilation)
{
    const int32_t reach = (out - 1) * stride - pad + (filter - 1) * dilation + 1;
    return pad + (reach > size ? reach : size);
}

/* ---- int4 filters of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int8 activations).
 *
 * Kept in flash packed as TFLite stores them: value 2i in the low nibble of byte i, value 2i + 1 in
 * its high nibble, over the whole tensor (rows are not padded, so a row may start mid-byte); an
 * odd count leaves the last high nibble unused. Each kernel unpacks into its scratch buffer (the
 * values sign-extended to int8, as TFLite Micro's UnpackDenseInt4IntoInt8) and runs its int8 kernel
 * on the copy: the results are the int8 kernel's, bit for bit.
 */

/* Values first .. first + count - 1 of a packed int4 tensor, as int8. */
void md_unpack_s4(const int8_t *packed, int32_t first, int32_t count, int8_t *output);

/* Bytes a whole unpacked int4 filter of `count` values takes at the start of a kernel's scratch: the
 * kernel's own scratch follows, 16-byte aligned. */
static inline int32_t md_s4_unpacked_bytes(int32_t count)
{
    return (count + 15) & ~15;
}

/* ---- CONV_2D (int8, 16x8, float32, hybrid float32 x int8).
 *
 * Two output pixels at a time, as the memory contract declares: the receptive
 * fields of two consecutive output pixels (all input channels) are copied into
 * the two columns of the scratch buffer, then every output channel of both
 * pixels is computed from the columns and written. So the output may overlap
 * the part of the input no later pixel pair reads.
 *
 * Scratch: 2 columns of filter_h * filter_w * input_c values, int16 for the
 * integer kernels, float32 (int32 for the hybrid kernel) for the float ones.
 * Without scratch (NULL: the contract's direct path, chosen where the columns
 * would cost more bytes than they let the output share, or a plan that reserves
 * none, such as TFLite Micro's), each output value is computed straight from the
 * input, pixel by pixel, output channel by output channel, and written before the
 * next one is computed: the output may overlap the part of the input no later
 * value reads (every variant runs the portable direct kernel then).
 */

/* Bytes of scratch the im2col path takes: two columns (one when the output has a single pixel) of
 * filter_h x filter_w x input_c values, `value_bytes` each. kernels/contracts.py plans this size. */
static inline int32_t md_conv_im2col_bytes(const md_window_params *p, int32_t value_bytes)
{
    const int32_t columns = p->output_h * p->output_w < 2 ? p->output_h * p->output_w : 2;
    return columns * p->filter_h * p->filter_w * p->input_c * value_bytes;
}

/* Scratch of each kernel's im2col path, in bytes (int16 columns for the integer kernels, float32
 * for the float one, int32 for the hybrid one). Pass NULL instead for the direct path. */
static inline int32_t md_conv_s8_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 2);
}

static inline int32_t md_conv_s16_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 2);
}

static inline int32_t md_conv_f32_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 4);
}

static inline int32_t md_conv_hybrid_f32_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 4);
}

/* int8 input and output, int32 bias (or NULL), int32 multipliers and shifts. */
md_status md_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch);

/* int8 activations with an int4 filter (packed, see above): the whole filter unpacked at the start of
 * `scratch`, then md_conv_s8 with the rest of it as its im2col columns (`columns` 1) or none (the
 * direct path, `columns` 0). Every output pixel (pair) reads every channel's filter, so the filter is
 * unpacked once per call, not once per pixel. */
static inline int32_t md_conv_s4_get_buffer_size(const md_window_params *p, int32_t columns)
{
    const int32_t filter = md_s4_unpacked_bytes(p->output_c * p->filter_h * p->filter_w * p->filter_c);
    return filter + (columns ? md_conv_s8_get_buffer_size(p) : 0);
}

md_status md_conv_s4(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch,
                     int32_t columns);

/* md_conv_s8 given, on MVE builds (MD_CONV_FOLDS_OFFSET 1), the input offset folded into the bias:
 * `starts`[c] = bias[c] + input_offset * (the sum of channel c's weights), wrapping int32, which
 * TFLite's sum((x + input_offset) * w) + bias equals modulo 2^32 (padding taps read the zero point,
 * -input_offset), so the kernel sums no weights. For an ungrouped convolution with scratch, or a 1x1
 * unpadded one; other builds take the plain bias (md_conv_s8 itself). Generated code stores the
 * array its build reads: both have one int32 per output channel. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MD_PORTABLE)
#define MD_CONV_FOLDS_OFFSET 1
md_status md_conv_s8_folded(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *starts,
                            const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch);
#else
#define MD_CONV_FOLDS_OFFSET 0
#define md_conv_s8_folded md_conv_s8
#endif

/* md_conv_s8 of a pointwise layer (1x1, stride 1, unpadded, input channels a multiple of 4) with
 * all-zero filter rows (pruned channels), given their list made when the code is generated
 * (params/requantization.py `live_records`), which the DSP path reads instead of scanning the filter
 * at every call: `live`[0] = n, the live (not all-zero) channels; then their indices as bytes, in
 * order, an odd n's last twice, padded to whole words (md_conv_live_list_words); then one byte per
 * output channel: a pruned channel's output (its requantized bias), 0 for a live one; bytes in
 * memory order (little-endian words). Given only where every live channel is narrow (|bias| +
 * input_c * 255 * 128 < 2^30, a right shift of 1 to 31), the scales per channel, a bias, an output
 * range of all int8 and 256 output channels or fewer. Other paths (and a NULL record) take md_conv_s8. */
static inline int32_t md_conv_live_list_words(int32_t live_count)
{
    return (live_count + (live_count & 1) + 3) / 4;
}

/* Helium builds read no record: md_conv_s8_live is md_conv_s8, md_conv_s8_folded_live (the bias of
 * md_conv_s8_folded) md_conv_s8_folded. */
#if MD_CONV_FOLDS_OFFSET
#define md_conv_s8_live(p, input, filter, bias, multipliers, shifts, live, output, scratch)                        \
    md_conv_s8(p, input, filter, bias, multipliers, shifts, output, scratch)
#define md_conv_s8_folded_live(p, input, filter, starts, multipliers, shifts, live, output, scratch)                \
    md_conv_s8_folded(p, input, filter, starts, multipliers, shifts, output, scratch)
#else
md_status md_conv_s8_live(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, const int32_t *live, int8_t *output,
                          int16_t *scratch);
#define md_conv_s8_folded_live md_conv_s8_live
#endif

/* 16x8: int16 input and output; bias int64 when p->accumulator64, else int32 (or NULL). The DSP and
 * Helium paths (ungrouped layers) sum in int32 only where that is exact for the layer's weights
 * (sum of |w| below 2^16 for every channel), in int64 otherwise. */
md_status md_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const void *bias,
                      const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch);

/* Bytes after md_conv_s8_w16's columns of a pointwise layer with few input channels (1x1, unpadded,
 * 4 to 16 input channels, a multiple of 4, 32 or 64; an even output channel count; 0 for other layers):
 * per pair of output channels a record of (input_c + 8) words, its doubled biases, weights and
 * requantization constants side by side in RAM (md_conv_1x1_narrow_dsp.c). */
static inline int32_t md_conv_s8_w16_records_bytes(const md_window_params *p)
{
    if (p->filter_h != 1 || p->filter_w != 1 || p->pad_top != 0 || p->pad_left != 0 || (p->input_c & 3) != 0 ||
        (p->input_c > 16 && p->input_c != 32 && p->input_c != 64) || (p->output_c & 1) != 0) {
        return 0;
    }
    return p->output_c / 2 * (p->input_c + 8) * 4;
}

/* Bytes after md_conv_s8_w16's columns of a 3x3 filter over one input channel (a stem over a grey
 * image, 8 output channels: person_detect's; 0 for other layers): per pair of output channels a record of
 * 17 words, its doubled biases, weights (as the filter holds them) and requantization
 * constants side by side in RAM (md_conv_w16_dsp.c's stem walk reads them). */
static inline int32_t md_conv_s8_w16_stem_records_bytes(const md_window_params *p)
{
    if (p->filter_h != 3 || p->filter_w != 3 || p->input_c != 1 || p->output_c != 8) {
        return 0;
    }
    return p->output_c / 2 * 17 * 4;
}

/* int8 with the filter pre-expanded to int16: the same outputs as md_conv_s8, without unpacking the
 * weights on DSP cores, each weight read once for 4 output pixels. The im2col path only (scratch:
 * md_conv_s8_w16_get_buffer_size), int32 accumulator, not grouped; otherwise MD_ERROR_RANGE. The
 * filter's depth = filter_h * filter_w * input_c values of each output channel are stored two
 * channels at a time: per pair of values the two channels' pairs side by side (in each whole group
 * of 4 values the pairs {v0, v2} and {v1, v3}), then an odd depth's last value of both; an odd last
 * channel's row as it is (md_w16_index, md_conv_int.h). `walk` (NULL: none) holds each pair of
 * channels' constants as the DSP path's walk reads them, 8 int32 a pair: {bias0, bias1, addend0,
 * exponent0, multiplier0, addend1, exponent1, multiplier1}, exponent = -shift, addend =
 * (2 * output_offset + 1) << (exponent - 1) (params/requantization.py `walk_records`). Given only
 * where every channel's output is the walk's exactly: an int8 output range of all int8, per-channel
 * scales, a bias, 2 channels and a depth of 2 or more, each channel narrow (|bias| + depth * 255 * 128
 * < 2^30, exponent 1 to 22) or with an all-zero filter (its record: bias 0, multiplier 0, exponent 1,
 * addend twice its constant output). The portable path does not read it. */
static inline int32_t md_conv_s8_w16_get_buffer_size(const md_window_params *p)
{
    const int32_t depth = p->filter_h * p->filter_w * p->input_c;
    return 4 * (depth + (depth & 1)) * 2 + md_conv_s8_w16_records_bytes(p) + /* four int16 columns, even lengths */
           md_conv_s8_w16_stem_records_bytes(p);
}

md_status md_conv_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter, const int32_t *bias,
                         const int32_t *multipliers, const int32_t *shifts, const int32_t *walk, int8_t *output,
                         int16_t *scratch);
/* md_conv_s8_w16 with its hot loop rolled where the DSP path has it both ways (ir/variants.py Loops): a
 * narrow pointwise layer whose walk has its channel counts built in (walk_8_to_16 unrolls the 8 pairs of
 * output channels, 3.4 KB on the M4) takes the general walk (a loop over the pairs, 0.7 KB), faster
 * behind a small flash cache. The same results. */
md_status md_conv_s8_w16_rolled(const md_window_params *p, const int8_t *input, const int16_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                const int32_t *walk, int8_t *output, int16_t *scratch);

/* float32; act_min/act_max of the params are unused: the float clamp bounds are given. */
md_status md_conv_f32(const md_window_params *p, const float *input, const float *filter, const float *bias,
                      float act_low, float act_high, float *output, float *scratch);

/* Hybrid (float32 input and output, int8 filter with one scale, batch 1): the input is quantized
 * symmetrically at run time, convolved in integers, and the sums scaled back to float32. */
md_status md_conv_hybrid_f32(const md_window_params *p, const float *input, const int8_t *filter, float filter_scale,
                             const float *bias, float act_low, float act_high, float *output, int32_t *scratch);

/* ---- DEPTHWISE_CONV_2D (int8, 16x8, float32).
 *
 * Two loop orders, chosen by the generator as the memory contract declares:
 * - streaming (scratch NULL): pixel by pixel, channel by channel, reading the
 *   input in place; all output channels fed by input channel c of a pixel are
 *   computed before any of them is written (at most MD_DEPTHWISE_CHUNK at a time:
 *   the generator refuses a larger depth multiplier when input and output overlap);
 * - planes (depth multiplier 1): plane c is copied to the scratch buffer, then output
 *   plane c is computed from the copy. The scratch holds the plane with the padding its
 *   windows reach (md_padded_extent along each axis) and MD_PLANE_SLACK bytes more (one plane:
 *   the least memory). int8 may take more planes for speed through md_depthwise_s8_grouped: at
 *   stride 1 over a depth of 4k, 4 such planes, a group of 4 channels copied at once
 *   (md_depthwise_s8_planes); under undilated 3x3 windows at stride 2, two or four wide planes.
 * Filter layout [1, filter_h, filter_w, output_c].
 */

#define MD_DEPTHWISE_CHUNK 16
#define MD_PLANE_SLACK 4 /* kernels/contracts.py PLANE_SLACK */

/* Bytes of scratch the channel-plane path takes: one input plane with the padding its windows reach,
 * `element_bytes` per value, and MD_PLANE_SLACK bytes more. kernels/contracts.py plans this size. */
static inline int32_t md_depthwise_plane_bytes(const md_window_params *p, int32_t element_bytes)
{
    const int32_t rows =
        md_padded_extent(p->input_h, p->output_h, p->stride_h, p->pad_top, p->filter_h, p->dilation_h);
    const int32_t columns =
        md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, p->dilation_w);
    return rows * columns * element_bytes + MD_PLANE_SLACK;
}

/* Planes md_depthwise_s8_grouped holds at once: 4 at stride 1 over a depth of 4k (the DSP path
 * copies a group of 4 channels from one word load a pixel), else 1. kernels/contracts.py
 * planes_at_once. */
static inline int32_t md_depthwise_s8_planes(const md_window_params *p)
{
    return p->stride_h == 1 && p->stride_w == 1 && p->input_c % 4 == 0 ? 4 : 1;
}

/* Whether md_depthwise_s8_grouped's scratch holds wide channel planes (md_depthwise_s8_wide_planes of
 * them): undilated 3x3 windows at stride 2, whose DSP blocks read a window row's pairs as aligned
 * words of int16 values and whose copy takes two or four channels at a time. A wide plane's rows
 * are an even count of values apart (md_depthwise_wide_pitch); the last blocks' words reach MD_PLANE_SLACK bytes further. */
static inline int32_t md_depthwise_s8_wide_plane(const md_window_params *p)
{
    return p->filter_h == 3 && p->filter_w == 3 && p->stride_h == 2 && p->stride_w == 2 && p->dilation_h == 1 &&
           p->dilation_w == 1;
}

/* Wide planes md_depthwise_s8_grouped holds at stride 2 (md_depthwise_s8_wide_plane): 4 over a depth
 * of 4k (the DSP copy widens a group of 4 channels from one word load a pixel), else 2.
 * kernels/contracts.py wide_planes. */
static inline int32_t md_depthwise_s8_wide_planes(const md_window_params *p)
{
    return p->input_c % 4 == 0 ? 4 : 2;
}

/* Values from one row of a wide plane to the next: MD_WIDE_PITCH for a padded width up to it (the
 * DSP blocks then reach every plane row at a constant offset), else the width rounded up to even. */
#define MD_WIDE_PITCH 64 /* kernels/contracts.py WIDE_PITCH */
static inline int32_t md_depthwise_wide_pitch(int32_t columns)
{
    return columns <= MD_WIDE_PITCH ? MD_WIDE_PITCH : (columns + 1) & ~1;
}

/* Scratch of each kernel's channel-plane path (depth multiplier 1), in bytes: one padded plane.
 * Pass NULL instead for the streaming path. */
static inline int32_t md_depthwise_s8_get_buffer_size(const md_window_params *p)
{
    return md_depthwise_plane_bytes(p, 1);
}

/* Scratch of md_depthwise_s8_grouped: md_depthwise_s8_planes planes, MD_PLANE_SLACK after the last;
 * or md_depthwise_s8_wide_planes wide planes (md_depthwise_s8_wide_plane) in either orientation
 * (the DSP path transposes a tall image), which hold one int8 plane as well. The same size on every build (the generated code
 * plans it once). */
static inline int32_t md_depthwise_s8_grouped_get_buffer_size(const md_window_params *p)
{
    if (md_depthwise_s8_wide_plane(p)) {
        const int32_t rows =
            md_padded_extent(p->input_h, p->output_h, p->stride_h, p->pad_top, p->filter_h, p->dilation_h);
        const int32_t columns =
            md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, p->dilation_w);
        const int32_t along = rows * md_depthwise_wide_pitch(columns);
        const int32_t across = columns * md_depthwise_wide_pitch(rows);
        const int32_t values = along > across ? along : across;
        return md_depthwise_s8_wide_planes(p) * (values * 2 + 2 * MD_PLANE_SLACK);
    }
    return md_depthwise_s8_planes(p) * (md_depthwise_plane_bytes(p, 1) - MD_PLANE_SLACK) + MD_PLANE_SLACK;
}

static inline int32_t md_depthwise_s16_get_buffer_size(const md_window_params *p)
{
    return md_depthwise_plane_bytes(p, 2);
}

static inline int32_t md_depthwise_f32_get_buffer_size(const md_window_params *p)
{
    return md_depthwise_plane_bytes(p, 4);
}

/* int8; int32 bias or NULL. */
md_status md_depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch);

/* int8 channel planes several channels at a time (the DSP path; scratch
 * md_depthwise_s8_grouped_get_buffer_size): faster than one plane, more memory. Other builds hold one
 * plane in it: md_depthwise_s8. */
#if defined(__ARM_FEATURE_DSP) && !(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)) && !defined(MD_PORTABLE)
md_status md_depthwise_s8_grouped(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                  const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                  int8_t *output, int8_t *scratch);
/* md_depthwise_s8_grouped with the layer's 3x3 constants folded at generate time
 * (params/requantization.py fold_records: 9 int32 a channel, the DSP path's folded 3x3 filter and
 * requantization in the planes' orientation), which also says the layer is narrow (its sums below
 * 2^30, shifts in [-22, -1]) and its multipliers >= 0: nothing of it is checked or folded at run time. */
md_status md_depthwise_s8_grouped_folded(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                         const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                         const int32_t *folds, int8_t *output, int8_t *scratch);

/* Routines of the DSP path made for one shape, which only the generated code of a layer that takes one
 * names (kernels/depthwise_routines.py decides as the kernel would), so that a model links none its
 * layers do not take. */
struct md_dw_folded;    /* a channel's folded record (fold_records) */
struct md_dw_wide_copy; /* md_dw_copy_wide_4's geometry */
/* Stride 1, rows of 12k outputs at a fixed width and depth: a group of 4 planes in one call; `_rolled`:
 * in shorter chunks, for a small flash cache. */
typedef void md_dw_rows_routine(const int8_t *planes, const struct md_dw_folded *folded, int8_t *out,
                                int32_t row_pairs);
md_dw_rows_routine md_dw_fused_rows_12_64, md_dw_fused_rows_12_64_rolled, md_dw_fused_rows_24_32,
    md_dw_fused_rows_24_32_rolled, md_dw_fused_rows_48_8, md_dw_fused_rows_48_8_rolled;
/* The same over a tall image's transposed planes (rows of 12k + 1 outputs, an odd count of them), named
 * by the image's output height, width and depth. */
md_dw_rows_routine md_dw_fused_tall_25x5_64, md_dw_fused_tall_25x5_64_rolled;
/* Stride 2: channels c..c+3 of an image whose width is a multiple of 4 into 4 wide planes. */
typedef void md_dw_copy_routine(const int8_t *from, int16_t *plane, const struct md_dw_wide_copy *k);
md_dw_copy_routine md_dw_copy_wide_4;

/* md_depthwise_s8_grouped_folded whose grouped planes' rows (stride 1) take `rows`. */
md_status md_depthwise_s8_grouped_rows(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                       const int32_t *folds, md_dw_rows_routine *rows, int8_t *output,
                                       int8_t *scratch);
/* md_depthwise_s8_grouped_folded whose 4 wide planes (stride 2) are copied by `copy`. */
md_status md_depthwise_s8_grouped_wide(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                       const int32_t *folds, md_dw_copy_routine *copy, int8_t *output,
                                       int8_t *scratch);
/* md_depthwise_s8_grouped_folded whose grouped 6x6 planes (stride 1, from 8x8 padded planes) take
 * md_dw_fused_6x6, the 9 blocks unrolled (2.3 KB); `_rolled`: md_dw_fused_6x6_rolled, the blocks in a
 * loop (0.4 KB), faster behind a small flash cache (ir/variants.py Loops). */
md_status md_depthwise_s8_grouped_six(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                      const int32_t *folds, int8_t *output, int8_t *scratch);
md_status md_depthwise_s8_grouped_six_rolled(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                             const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                             const int32_t *folds, int8_t *output, int8_t *scratch);
/* md_depthwise_s8_grouped_folded of a 3x3 output from a 3x3 image at stride 1 or a 6x6 one at stride 2
 * (SMALL_RECORD): computed from the image in place, the scratch unused. */
md_status md_depthwise_s8_small(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                const int32_t *folds, int8_t *output, int8_t *scratch);
/* The same whose 6x6 images (stride 2) take the layer's loops rolled (0.7 KB, under a 1 KB flash cache). */
md_status md_depthwise_s8_small_rolled(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                       const int32_t *folds, int8_t *output, int8_t *scratch);
#else /* one plane; no record or routine read */
#define md_depthwise_s8_grouped md_depthwise_s8
#define md_depthwise_s8_grouped_folded(p, input, filter, bias, multipliers, shifts, folds, output, scratch)          \
    md_depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch)
#define md_depthwise_s8_grouped_rows(p, input, filter, bias, multipliers, shifts, folds, rows, output, scratch)      \
    md_depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch)
#define md_depthwise_s8_grouped_wide(p, input, filter, bias, multipliers, shifts, folds, copy, output, scratch)      \
    md_depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch)
#define md_depthwise_s8_small md_depthwise_s8_grouped_folded
#define md_depthwise_s8_small_rolled md_depthwise_s8_grouped_folded
#define md_depthwise_s8_grouped_six md_depthwise_s8_grouped_folded
#define md_depthwise_s8_grouped_six_rolled md_depthwise_s8_grouped_folded
#endif

/* int8 activations with an int4 filter (packed, see above): the whole filter unpacked at the start of
 * `scratch` (every pixel reads every channel's taps), then md_depthwise_s8 with the rest of it as its
 * channel plane (`planes` 1) or streaming (`planes` 0). */
static inline int32_t md_depthwise_s4_get_buffer_size(const md_window_params *p, int32_t planes)
{
    const int32_t filter = md_s4_unpacked_bytes(p->filter_h * p->filter_w * p->output_c);
    return filter + (planes ? md_depthwise_s8_get_buffer_size(p) : 0);
}

md_status md_depthwise_s4(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch,
                          int32_t planes);

/* 16x8: int64 bias or NULL, int64 accumulator (the DSP and Helium paths, depth multiplier 1, sum in
 * int32 where that is exact: at most 511 taps, or a sum of |w| below 2^16 for every channel). */
md_status md_depthwise_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                           const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch);

md_status md_depthwise_f32(const md_window_params *p, const float *input, const float *filter, const float *bias,
                           float act_low, float act_high, float *output, float *scratch);

/* ---- TRANSPOSE_CONV (int8, 16x8, float32).
 *
 * The parameters are md_window_params: input_* the data input's size, output_* the output's,
 * filter [output_c, filter_h, filter_w, input_c], stride_*, and pad_top/pad_left as TFLite Micro
 * derives them (the padding of a convolution over the output size); dilation 1. Input pixel y
 * feeds output row y * stride_h - pad_top + fy through filter row fy (columns alike).
 *
 * Gathered, not scattered as TFLite Micro's reference kernel does into an arena buffer as large as
 * the output: each output value sums the input values that reach it, input row, column and
 * channel ascending (the reference's order, so float sums round alike), and is written before the
 * next one is computed. No scratch; the output must not overlap the input. The int8 and 16x8
 * kernels have DSP and Helium paths: each input value loaded feeds two output channels' sums
 * (int8's wrapping in int32, 16x8's exact in int64, as the reference's).
 */
/* int8 input and output, int32 bias (or NULL), int32 multipliers and shifts. */
md_status md_transpose_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                               int8_t *output);

/* 16x8: int16 input and output, int64 bias (or NULL), an int64 accumulator. */
md_status md_transpose_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter,
                                const int64_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                int16_t *output);

/* float32; the fused activation's clamp bounds are given. */
md_status md_transpose_conv_f32(const md_window_params *p, const float *input, const float *filter,
                                const float *bias, float act_low, float act_high, float *output);

/* ---- FULLY_CONNECTED (int8, 16x8, float32).
 *
 * The input is read as [batches, accum_depth], the filter as [output_depth,
 * accum_depth]; each output is one dot product reading the input row in place
 * (the output never overlaps the input).
 */

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t output_depth;
    int32_t input_offset;  /* -input zero point */
    int32_t filter_offset; /* -filter zero point for per-tensor filters, 0 per channel */
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t per_channel;   /* 1: a multiplier and shift per output, 0: one for all */
    int32_t accumulator64; /* 16x8: int64 accumulator and bias */
} md_fully_connected_params;

md_status md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output);

/* int8 activations with an int4 filter (packed, see above), unpacked a block of output rows at a time
 * into `scratch` (rows are independent: each block runs md_fully_connected_s8 on every batch row), so
 * the scratch holds at most MD_FULLY_CONNECTED_S4_BLOCK_BYTES, or 4 rows, instead of the whole filter
 * TFLite Micro unpacks. Blocks of 4 rows keep the int8 kernels' 4-row paths busy. */
#define MD_FULLY_CONNECTED_S4_BLOCK_BYTES 1024

static inline int32_t md_fully_connected_s4_block_rows(const md_fully_connected_params *p)
{
    int32_t rows = (MD_FULLY_CONNECTED_S4_BLOCK_BYTES / p->accum_depth) & ~3;
    rows = rows < 4 ? 4 : rows;
    return rows < p->output_depth ? rows : p->output_depth;
}

static inline int32_t md_fully_connected_s4_get_buffer_size(const md_fully_connected_params *p)
{
    return md_fully_connected_s4_block_rows(p) * p->accum_depth;
}

md_status md_fully_connected_s4(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output,
                                int8_t *scratch);

/* int8 with the filter pre-expanded to int16, the rows in blocks of 4 (per block, the 4 rows' values
 * 4k to 4k + 3 side by side, group after group, then the 4 rows' last accum_depth % 4 values; the
 * rows after the last whole block as they are): the same outputs as md_fully_connected_s8, one
 * pointer walking 4 rows with nothing to unpack on DSP cores. A symmetric filter (filter_offset 0)
 * and an int32 accumulator only; otherwise MD_ERROR_RANGE. */
md_status md_fully_connected_s8_w16(const md_fully_connected_params *p, const int8_t *input, const int16_t *filter,
                                    const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                    int8_t *output);

/* bias int64 when p->accumulator64, else int32 (or NULL) */
md_status md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                 const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output);

md_status md_fully_connected_f32(const md_fully_connected_params *p, const float *input, const float *filter,
                                 const float *bias, float act_low, float act_high, float *output);

/* ---- AVERAGE_POOL_2D and MAX_POOL_2D (int8, int16, float32), L2_POOL_2D (float32).
 *
 * Pixel by pixel, channel by channel (md_window_stream): output (pixel, c) is
 * written right after channel c of its window is read. Taps outside the image
 * are skipped: an average divides by the number of taps inside.
 */

/* `element_bytes` 1 (int8) or 2 (int16); act_min/act_max of the params clamp the result. */
md_status md_average_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes);
md_status md_max_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes);

md_status md_average_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high,
                              float *output);
md_status md_max_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high,
                          float *output);

/* L2_POOL_2D (float32 only, as TFLite Micro): sqrtf of the mean of the squares of the taps inside. */
md_status md_l2_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high,
                         float *output);

/* ---- ADD, SUB, MUL and SQUARED_DIFFERENCE with broadcasting (int8, int16, int32, float32),
 * DIV (int8, float32), FLOOR_DIV and FLOOR_MOD (float32).
 *
 * One pass in output element order: output element k is computed from, then
 * written after, element k of each input of the output's shape (so such an input
 * may share the output's bytes). Broadcasting is described by element strides
 * per output dimension, 0 along a broadcast dimension.
 */

typedef enum {
    MD_OP_ADD = 0,
    MD_OP_SUB = 1,
    MD_OP_MUL = 2,
    MD_OP_SQUARED_DIFFERENCE = 3,
    MD_OP_DIV = 4,       /* by zero (undefined in TFLite Micro): int8 the extreme of the dividend's sign, int32 0 */
    MD_OP_FLOOR_DIV = 5, /* float32 only: the floor of the quotient taken in double */
    MD_OP_FLOOR_MOD = 6  /* float32 only: fmodf moved into the divisor's sign */
} md_arith_op;

typedef struct {
    int32_t rank; /* 1 .. MD_MAX_DIMS */
    int32_t shape[MD_MAX_DIMS];
    int32_t strides1[MD_MAX_DIMS];
    int32_t strides2[MD_MAX_DIMS];
} md_broadcast;

typedef struct {
    md_arith_op op;
    md_dtype dtype;          /* MD_INT8, MD_INT16 or MD_INT32 */
    int32_t input1_offset;   /* -zero points */
    int32_t input2_offset;
    int32_t output_offset;   /* +zero point */
    int32_t left_shift;      /* ADD/SUB headroom: 20 (int8) or 15 (int16); SQUARED_DIFFERENCE: 7 or 0 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} md_arith_params;

md_status md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                       void *output);

typedef struct {
    md_arith_op op;
    float act_low;
    float act_high;
} md_arith_f32_params;

md_status md_arith_f32(const md_arith_f32_params *p, const md_broadcast *shape, const float *input1,
                       const float *input2, float *output);

/* ADD_N and CUMSUM of int8 values sharing one quantization (md_arith_params' input1 fields, the
 * output's and the clamp): each centred value shifted left by left_shift and scaled, the int32 sum
 * (wrapping) started from the scaled input offset, as TFLite Micro starts it, then requantized. */
md_status md_add_n_s8(const md_arith_params *p, int32_t count, const int8_t *const *inputs, int8_t *output,
                      int32_t size);
md_status md_add_n_f32(int32_t count, const float *const *inputs, float *output, int32_t size);

/* CUMSUM along the middle axis of (outer, depth, inner), backwards when reverse is 1; with
 * exclusive 1 each output sums the values before its own. */
typedef struct {
    int32_t outer, depth, inner;
    int32_t exclusive, reverse;
} md_cumsum_params;

md_status md_cumsum_s8(const md_arith_params *p, const md_cumsum_params *c, const int8_t *input, int8_t *output);
md_status md_cumsum_f32(const md_cumsum_params *c, const float *input, float *output);

/* ---- MAXIMUM, MINIMUM, the comparisons, LOGICAL_AND/OR/NOT and SELECT_V2
 * with broadcasting (int8, int16, int32, float32 values; bool as uint8_t 0 or 1).
 *
 * One pass in output element order, as the element-wise kernels: an input of the output's shape and
 * element size may share the output's bytes.
 */

typedef enum {
    MD_CMP_EQUAL = 0,
    MD_CMP_NOT_EQUAL = 1,
    MD_CMP_LESS = 2,
    MD_CMP_LESS_EQUAL = 3,
    MD_CMP_GREATER = 4,
    MD_CMP_GREATER_EQUAL = 5,
    MD_CMP_MAXIMUM = 6, /* a > b ? a : b, in the inputs' type */
    MD_CMP_MINIMUM = 7, /* a < b ? a : b */
    MD_CMP_LOGICAL_AND = 8,
    MD_CMP_LOGICAL_OR = 9
} md_compare_op;

typedef struct {
    md_compare_op op;
    md_dtype dtype;         /* of the inputs: MD_INT8, MD_UINT8 (bool), MD_INT16, MD_INT32, MD_INT64 or MD_FLOAT32 */
    int32_t input1_offset;  /* int8 comparisons: -zero points, ... */
    int32_t input2_offset;
    int32_t left_shift;     /* ... 8, each input's scale; 0 elsewhere: raw values compared */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
} md_compare_params;

/* Comparisons write 0 or 1 (uint8_t); MAXIMUM and MINIMUM the inputs' type. */
md_status md_compare(const md_compare_params *p, const md_broadcast *shape, const void *input1,
                     const void *input2, void *output);

/* LOGICAL_NOT of `count` bools. */
md_status md_logical_not(const uint8_t *input, uint8_t *output, int32_t count);

typedef struct {
    int32_t rank; /* 1 .. MD_MAX_DIMS */
    int32_t shape[MD_MAX_DIMS];
    int32_t strides1[MD_MAX_DIMS]; /* condition */
    int32_t strides2[MD_MAX_DIMS]; /* x */
    int32_t strides3[MD_MAX_DIMS]; /* y */
} md_broadcast3;

/* SELECT_V2: output = condition ? x : y, elements of `element_size` bytes (1, 2 or 4). */
md_status md_select(const md_broadcast3 *shape, int32_t element_size, const uint8_t *condition, const void *x,
                    const void *y, void *output);

/* ---- BATCH_MATMUL (int8, int16, float32).
 *
 * output[..., i, j] = sum over k of lhs'[..., i, k] * rhs'[..., k, j], where lhs' and rhs' are the
 * operands read through element steps (an adjoint operand is read transposed in place, not copied
 * as TFLite Micro does). The batch axes broadcast as md_broadcast describes them, one "element"
 * being a whole matrix. Matrix by matrix, row by row: each output value is summed (k ascending, as
 * the reference kernels do) and written before the next; on the DSP and Helium paths in small
 * blocks (int8 2x2, or 2x8 on Helium but with adj_y alone; int16 1x2), int8's int32 sums wrapping as
 * TFLite Micro's and int16's int64 sums exact, so in any order the same. No scratch; the output
 * must not overlap an operand.
 */
typedef struct {
    int32_t rows, cols, depth;            /* the output matrix's rows and columns, the summed length */
    int32_t lhs_row_step, lhs_depth_step; /* lhs'[i, k] at i * lhs_row_step + k * lhs_depth_step */
    int32_t rhs_depth_step, rhs_col_step; /* rhs'[k, j] at k * rhs_depth_step + j * rhs_col_step */
    int32_t lhs_offset, rhs_offset;       /* -zero points, added before multiplying */
    int32_t output_offset;                /* the output zero point */
    int32_t multiplier, shift;            /* lhs scale * rhs scale / output scale */
    int32_t act_min, act_max;             /* the output type's range */
} md_batch_matmul_params;

/* int8: an int32 accumulator (wrapping, as TFLite Micro's). */
md_status md_batch_matmul_s8(const md_batch_matmul_params *p, const md_broadcast *batches, const int8_t *lhs,
                             const int8_t *rhs, int8_t *output);

/* int16 (zero points 0): an int64 accumulator. */
md_status md_batch_matmul_s16(const md_batch_matmul_params *p, const md_broadcast *batches, const int16_t *lhs,
                              const int16_t *rhs, int16_t *output);

/* float32; the params' integer fields are unused. */
md_status md_batch_matmul_f32(const md_batch_matmul_params *p, const md_broadcast *batches, const float *lhs,
                              const float *rhs, float *output);

/* ---- ABS, NEG, CAST and the float32 math of TFLite Micro's element-wise kernels.
 * Element k is read, then written: the output may share the input's bytes. */

typedef enum {
    MD_UNARY_ABS = 0,
    MD_UNARY_NEG = 1,
    MD_UNARY_SIN = 2,
    MD_UNARY_COS = 3,
    MD_UNARY_EXP = 4,
    MD_UNARY_LOG = 5,
    MD_UNARY_SQRT = 6,
    MD_UNARY_RSQRT = 7,
    MD_UNARY_SQUARE = 8,
    MD_UNARY_FLOOR = 9,
    MD_UNARY_CEIL = 10,
    MD_UNARY_ROUND = 11, /* half to even */
    MD_UNARY_ELU = 12    /* expm1 below 0 */
} md_unary_op;

md_status md_unary_f32(md_unary_op op, const float *input, float *output, int32_t count);

typedef struct {
    md_dtype dtype;        /* MD_INT8 or MD_INT16 */
    int32_t input_offset;  /* the input's zero point, subtracted */
    int32_t output_offset;
    int32_t rescale;       /* 0: the scales are equal */
    int32_t multiplier, shift;
    int32_t saturate;      /* 0: no quantization, |-32768| wraps to itself */
} md_abs_params;

/* ABS of int8 or int16: |x - input_offset|, requantized when `rescale`, plus output_offset. */
md_status md_abs_int(const md_abs_params *p, const void *input, void *output, int32_t count);

typedef struct {
    int32_t input_offset; /* the input's zero point, subtracted */
    int32_t output_offset;
    int32_t multiplier, shift; /* 1 / (sqrt(input scale) x output scale) */
} md_rsqrt_s8_params;

/* int8 RSQRT with TFLite's fixed-point inverse square root; a centred input of 0 gives 127.
 * Returns MD_ERROR_RANGE (having written every output) when an input is below the zero point:
 * TFLite Micro fails the inference there. */
md_status md_rsqrt_s8(const md_rsqrt_s8_params *p, const int8_t *input, int8_t *output, int32_t count);

/* CAST, C's conversion of each element from `from` to `to` (MD_INT8, MD_INT16, MD_INT32, MD_FLOAT32;
 * `from` also MD_UINT8 for bool; MD_UINT32 to or from MD_FLOAT32): integers wrap, float32 truncates,
 * saturated to int32 (uint32 for MD_UINT32) first (NaN to 0) as Cortex-M's VCVT. */
md_status md_cast(md_dtype from, md_dtype to, const void *input, void *output, int32_t count);

/* An int8 function by its table of 256 outputs, the entry of x at (uint8_t)x (int8 ELU). */
md_status md_lookup_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t count);

/* ---- element-wise activations (int8, int16, float32).
 *
 * One pass in element order: element k is read, then output k written (so the
 * output may share the input's bytes).
 */

/* Field use by kernel:
 * - relu (RELU, RELU_N1_TO_1): output = clamp(zero point out + scale(x - zero point in), act_min, act_max)
 *   with scale = (multiplier, shift);
 * - relu6: clamp(x, act_min = input zero point, act_max = quantized 6), in the input's quantization;
 * - leaky relu: x >= 0 scaled by (multiplier, shift), below by (multiplier2, shift2), negated when
 *   `negate` (negative alpha);
 * - hard swish (int8): output (multiplier, shift) and "reluish" (multiplier2, shift2) as 16-bit multipliers;
 * - logistic/tanh (int8): input to Q4.27 by (multiplier, shift), saturating beyond `radius`,
 *   result shifted right by `output_shift` plus `output_offset`;
 * - logistic/tanh (int16): input scaled by (multiplier, shift) onto the sigmoid table. */
typedef struct {
    int32_t count;
    md_dtype dtype; /* MD_INT8 or MD_INT16, input and output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift;
    int32_t multiplier2, shift2;
    int32_t negate;
    int32_t act_min, act_max;
    int32_t radius;
    int32_t output_shift;
    int32_t output_offset;
} md_activation_params;

md_status md_relu_int(const md_activation_params *p, const void *input, void *output);
md_status md_relu6_int(const md_activation_params *p, const void *input, void *output);
md_status md_leaky_relu_int(const md_activation_params *p, const void *input, void *output);
md_status md_hard_swish_s8(const md_activation_params *p, const int8_t *input, int8_t *output);
md_status md_logistic_s8(const md_activation_params *p, const int8_t *input, int8_t *output);
md_status md_tanh_s8(const md_activation_params *p, const int8_t *input, int8_t *output);
md_status md_logistic_s16(const md_activation_params *p, const int16_t *input, int16_t *output);
md_status md_tanh_s16(const md_activation_params *p, const int16_t *input, int16_t *output);

typedef enum {
    MD_RELU_F32 = 0,  /* clamp to [low, high] (high may be +infinity) */
    MD_LEAKY_RELU_F32 = 1,
    MD_HARD_SWISH_F32 = 2,
    MD_LOGISTIC_F32 = 3,
    MD_TANH_F32 = 4
} md_activation_f32;

typedef struct {
    int32_t count;
    md_activation_f32 function;
    float low, high; /* relu */
    float alpha;     /* leaky relu */
} md_activation_f32_params;

md_status md_activation_f32_run(const md_activation_f32_params *p, const float *input, float *output);

/* PRELU: x where x >= 0, else x * alpha, alpha broadcast as `shape` describes (input 1 the input,
 * input 2 alpha). Integer kernels scale the centred x by the positive multiplier, or its product with
 * the centred alpha by the negative one, add the output offset and saturate to the type. */
typedef struct {
    md_dtype dtype;       /* MD_INT8, MD_INT16 or MD_FLOAT32: input and output */
    md_dtype alpha_dtype; /* the input's, MD_INT8 with int16 input */
    int32_t input_offset, alpha_offset, output_offset;
    int32_t positive_multiplier, positive_shift;
    int32_t negative_multiplier, negative_shift;
} md_prelu_params;

md_status md_prelu(const md_prelu_params *p, const md_broadcast *shape, const void *input, const void *alpha,
                   void *output);

/* ---- SOFTMAX over the last axis (int8 to int8/int16, int16, float32), and
 * LOG_SOFTMAX (int8, float32).
 *
 * Row by row, as the memory contract declares: the row maximum and the sum of
 * exponentials read the whole row first, then a last pass reads element j and
 * writes output j (recomputing its exponential: no scratch).
 */

typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t input_multiplier; /* beta * input scale * 2^26 as a quantized multiplier (int8) or onto the */
    int32_t input_shift;      /* exp table's input range (int16) */
    int32_t diff_min;         /* int8: differences to the row maximum below this give 0 */
    int32_t reverse_multiplier;  /* LOG_SOFTMAX int8: Q5.26 back to input steps, a multiplier below */
    int32_t reverse_right_shift; /* one and a right shift */
} md_softmax_params;

/* int8 input; output int8 (zero point -128, scale 1/256) or int16 (zero point -32768, scale 1/65536).
 * Returns MD_ERROR_RANGE when a row's sum of exponentials reaches 512 with int8 output. */
md_status md_softmax_s8(const md_softmax_params *p, const int8_t *input, void *output, int output_is16);

/* int16 input and output (zero points 0, output scale 1/32768), through interpolated tables. */
md_status md_softmax_s16(const md_softmax_params *p, const int16_t *input, int16_t *output);

md_status md_softmax_f32(const md_softmax_params *p, float beta, const float *input, float *output);

/* int8 LOG_SOFTMAX (beta 1; output scale 16/256, zero point 127). */
md_status md_log_softmax_s8(const md_softmax_params *p, const int8_t *input, int8_t *output);

/* float32 LOG_SOFTMAX: x - max - log(sum of exp(x - max)). */
md_status md_log_softmax_f32(const md_softmax_params *p, const float *input, float *output);

/* ---- L2_NORMALIZATION along the last axis (int8, float32).
 *
 * Row by row: the row's sum of squares first (every value of the row read), then each value read
 * and its output written, in order (so the output may share the input's bytes, as softmax's).
 * float32: x / max(sqrt(sum, added in order), 1e-6). int8: the centred values times the inverse
 * square root of their sum of squares, in units of 2^-7 whatever the output's quantization
 * (TFLite Micro's kernel), saturated.
 */
md_status md_l2_normalization_s8(int32_t rows, int32_t depth, int32_t input_zero_point, const int8_t *input,
                                 int8_t *output);

md_status md_l2_normalization_f32(int32_t rows, int32_t depth, const float *input, float *output);

/* ---- QUANTIZE and DEQUANTIZE.
 *
 * One pass in element order (element k read, then output k written).
 */

typedef struct {
    int32_t count;
    md_dtype input_dtype;
    md_dtype output_dtype;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift; /* requantization between integer types */
    float scale;               /* float32 conversions: the quantized side's scale */
} md_quantize_params;

/* Integer to integer: (x - input zero point) rescaled, plus the output zero point, saturated. */
md_status md_requantize(const md_quantize_params *p, const void *input, void *output);

/* float32 to int8, uint8 or int16: round(x / scale) + zero point, saturated. */
md_status md_quantize_f32(const md_quantize_params *p, const float *input, void *output);

/* int8, uint8 or int16 to float32: scale * (x - zero point). */
md_status md_dequantize_f32(const md_quantize_params *p, const void *input, float *output);

/* float16 (IEEE half bits) to float32, exactly. */
md_status md_dequantize_f16(const md_quantize_params *p, const uint16_t *input, float *output);

/* ---- MEAN, SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_ALL over any set of axes; ARG_MAX and ARG_MIN along
 * one axis.
 *
 * One pass over the input in element order: each value is added to (or compared
 * with) the accumulator of the output element it reduces into, so every output
 * sees its values in input order. MEAN and SUM accumulate in the scratch buffer
 * (one int32 or float32 per output element), then scale each output.
 */

typedef struct {
    int32_t rank;
    int32_t input_shape[MD_MAX_DIMS];
    int32_t output_strides[MD_MAX_DIMS]; /* output element stride per input dimension, 0 along reduced ones */
    int32_t output_count;
    int32_t reduced_count; /* input values per output value */
    md_dtype dtype;        /* input and output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift; /* integer MEAN/SUM: input to output scale (the mean's 1/count folded in) */
    int32_t mean;              /* float32: divide the sums by reduced_count */
} md_reduce_params;

/* Bytes of scratch md_sum_int takes: one int32 accumulator per output element (the float kernel
 * accumulates in its output). kernels/contracts.py plans this size. */
static inline int32_t md_sum_int_get_buffer_size(const md_reduce_params *p) { return 4 * p->output_count; }

/* int8/int16 MEAN and SUM. */
md_status md_sum_int(const md_reduce_params *p, const void *input, void *output, int32_t *scratch);
/* int8 REDUCE_MAX (maximum != 0) and REDUCE_MIN. */
md_status md_extreme_int8(const md_reduce_params *p, const int8_t *input, int8_t *output, int maximum);

/* REDUCE_ALL of bool (one byte, 0 or 1): the minimum from 1, a logical AND. */
md_status md_all_bool(const md_reduce_params *p, const uint8_t *input, uint8_t *output);

md_status md_sum_f32(const md_reduce_params *p, const float *input, float *output);
md_status md_extreme_f32(const md_reduce_params *p, const float *input, float *output, int maximum);

/* ARG_MAX (maximum != 0) and ARG_MIN: for each (outer, inner) position, the int32 index along the
 * axis of its largest (smallest) value, the first of equal ones; a float NaN never compares. */
typedef struct {
    int32_t outer, axis_size, inner;
    int32_t maximum;
} md_arg_params;

md_status md_arg_s8(const md_arg_params *p, const int8_t *input, int32_t *output);
md_status md_arg_f32(const md_arg_params *p, const float *input, int32_t *output);

/* ---- operators that move values without arithmetic, on any element type:
 * TRANSPOSE, STRIDED_SLICE, SLICE, REVERSE_V2, BROADCAST_TO, SPACE_TO_DEPTH and DEPTH_TO_SPACE
 * (strided copy), MIRROR_PAD and BATCH_TO_SPACE_ND (axis gather), SPACE_TO_BATCH_ND, GATHER,
 * GATHER_ND, CONCATENATION and PACK, SPLIT, SPLIT_V and UNPACK, PAD and PADV2,
 * RESIZE_NEAREST_NEIGHBOR, FILL and ZEROS_LIKE, BROADCAST_ARGS, and copies (a reshape of a
 * constant, SHAPE). None of them declares an overlap: the output never shares bytes with an input.
 */

/* Output element (i0, ..., i(rank-1)), row-major, is input element start + sum(i_d * strides[d]). */
typedef struct {
    int32_t rank;
    int32_t shape[MD_MAX_DIMS];   /* output shape */
    int32_t strides[MD_MAX_DIMS]; /* input element strides, negative for a reversed slice */
    int32_t start;
    int32_t element_bytes;
} md_strided_copy_params;

md_status md_strided_copy(const md_strided_copy_params *p, const void *input, void *output);

/* For each of `outer` blocks, piece i of `piece_bytes[i]` bytes of each input in turn. */
md_status md_concatenate(int32_t count, const void *const *inputs, const int32_t *piece_bytes, int32_t outer,
                         void *output);
md_status md_split(int32_t count, const void *input, void *const *outputs, const int32_t *piece_bytes, int32_t outer);

typedef struct {
    int32_t rank;
    int32_t input_shape[MD_MAX_DIMS];
    int32_t output_shape[MD_MAX_DIMS];
    int32_t before[MD_MAX_DIMS]; /* padding before each dimension, in elements */
    int32_t element_bytes;
    uint8_t value[8]; /* the pad value's bytes */
} md_pad_params;

md_status md_pad(const md_pad_params *p, const void *input, void *output);

/* NHWC nearest-neighbour resize: output (n, y, x, c) = input (n, rows[y], columns[x], c). */
typedef struct {
    int32_t batches, input_h, input_w, channels, output_h, output_w, element_bytes;
} md_resize_params;

md_status md_resize_nearest(const md_resize_params *p, const int32_t *rows, const int32_t *columns, const void *input,
                            void *output);

md_status md_copy(const void *input, void *output, int32_t bytes);

/* FILL: `count` copies of the `element_bytes` bytes at `value`. */
md_status md_fill(const void *value, void *output, int32_t count, int32_t element_bytes);

/* Output element (i0, ..., i(rank-1)), row-major, is input element tables[i0] + tables[shape[0] + i1]
 * + ...: one table of input element offsets per output axis, concatenated in axis order. */
typedef struct {
    int32_t rank;
    int32_t shape[MD_MAX_DIMS]; /* output shape */
    int32_t element_bytes;
} md_axis_gather_params;

md_status md_axis_gather(const md_axis_gather_params *p, const int32_t *tables, const void *input, void *output);

/* SPACE_TO_BATCH_ND, NHWC (NHC as NH1C): output batch (dy * block_w + dx) * batches + n, pixel
 * (y, x) is input pixel (n, y * block_h + dy - pad_top, x * block_w + dx - pad_left), or
 * pixel_bytes bytes of pad_byte outside the input. */
typedef struct {
    int32_t batches, input_h, input_w;
    int32_t output_batches, output_h, output_w;
    int32_t block_h, block_w, pad_top, pad_left;
    int32_t pixel_bytes;
    int32_t pad_byte;
} md_space_to_batch_params;

md_status md_space_to_batch(const md_space_to_batch_params *p, const void *input, void *output);

/* GATHER: output block (b, o, k) of `inner` elements is input block (b, o, coords[b * coords + k])
 * of the axis_size blocks along the gathered axis. MD_ERROR_RANGE for an index outside
 * [0, axis_size), before anything is written. */
typedef struct {
    int32_t batches, outer, axis_size, coords, inner, element_bytes;
} md_gather_params;

md_status md_gather(const md_gather_params *p, const void *input, const int32_t *coords, void *output);

/* GATHER_ND: output slice i of slice_size elements starts at input element
 * sum_j indices[i * index_length + j] * strides[j]. MD_ERROR_RANGE when a slice leaves the
 * input's `total` elements, before anything is written. */
typedef struct {
    int32_t slices, index_length;
    int32_t strides[MD_MAX_DIMS];
    int32_t slice_size, total, element_bytes;
} md_gather_nd_params;

md_status md_gather_nd(const md_gather_nd_params *p, const void *input, const int32_t *indices, void *output);

/* BROADCAST_ARGS on int32 (element_bytes 4) or int64 (8) shapes: output dimension i, counted from
 * the end, is the other's where one is 1 (a shorter shape counts as 1s), each as a 32-bit int.
 * MD_ERROR_RANGE where two dimensions other than 1 differ. */
md_status md_broadcast_args(const void *first, int32_t first_length, const void *second, int32_t second_length,
                            void *output, int32_t output_length, int32_t element_bytes);

/* EMBEDDING_LOOKUP of int8 rows into float32: the rows md_gather would copy (batches and outer 1),
 * each value times `scale`. */
md_status md_gather_dequantize_s8(const md_gather_params *p, const int8_t *input, const int32_t *coords, float scale,
                                  float *output);

/* DYNAMIC_UPDATE_SLICE: the operand copied to the output (unless they are one buffer), then the
 * update written over it from the start indices (int32, or int64 with index_bytes 8), each clamped
 * to [0, shape - update_shape] as TFLite Micro clamps them. */
typedef struct {
    int32_t rank;
    int32_t shape[MD_MAX_DIMS];
    int32_t update_shape[MD_MAX_DIMS];
    int32_t element_bytes;
    int32_t index_bytes;
} md_update_slice_params;

md_status md_dynamic_update_slice(const md_update_slice_params *p, const void *operand, const void *update,
                                  const void *starts, void *output);

/* ---- RESIZE_BILINEAR (int8, float32; TFLite Micro takes no other type), md_resize_params as above.
 *
 * Tables per axis (computed when the code is generated, as TFLite Micro's
 * ComputeInterpolationValues does per output index): the two input indices read and the source
 * position between them, float32 for the float kernel, in units of 2^-10 for the int8 one. Output
 * pixel by pixel, in output order; every output value is computed from the four input values
 * around it and written. No scratch; the output must not overlap the input.
 */
typedef struct {
    const int32_t *lower;    /* per output index: the first input index read */
    const int32_t *upper;    /* the second */
    const int32_t *fixed;    /* int8: the source position, 10 fractional bits (else NULL) */
    const float *position;   /* float32: the source position (else NULL) */
} md_interpolation_axis;

/* The 20-bit weighted sum rounded half away from zero (TFLite Micro's double rounding). */
md_status md_resize_bilinear_s8(const md_resize_params *p, const md_interpolation_axis *rows,
                                const md_interpolation_axis *columns, const int8_t *input, int8_t *output);

/* The four products summed left to right in float32, as the reference kernel does. */
md_status md_resize_bilinear_f32(const md_resize_params *p, const md_interpolation_axis *rows,
                                 const md_interpolation_axis *columns, const float *input, float *output);

/* ---- SVDF (int8 input with int8 or int16 state and time weights, float32).
 *
 * The state (a variable tensor outside the arena, kept across invocations) holds `memory`
 * past values per filter. Each call moves them one step left, writes the newest (the
 * input times the feature weights, rescaled to the state) last, then per unit sums the
 * time weights' dot products with the state of its `rank` filters, adds the bias and
 * rescales to the output. Batch by batch, without scratch: the int32 sums wrap as TFLM's
 * do, so summing per unit straight away gives TFLM's sums.
 */

typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters; /* units * rank */
    int32_t units;
    int32_t rank;
    int32_t memory;
    int32_t feature_multiplier; /* input * feature-weight scale onto the state's */
    int32_t feature_shift;
    int32_t output_multiplier; /* state * time-weight scale onto the output's */
    int32_t output_shift;
    int32_t input_zero_point;
    int32_t state_zero_point;
    int32_t output_zero_point;
    int32_t state_min; /* the state type's range, where each newest value is clamped */
    int32_t state_max;
} md_svdf_params;

/* state and time_weights are int16_t when state_is16, int8_t otherwise; bias may be NULL. */
md_status md_svdf_s8(const md_svdf_params *p, const int8_t *input, const int8_t *features, const void *time_weights,
                     const int32_t *bias, void *state, int state_is16, int8_t *output);

/* The fused activation as [low, high] (+-HUGE_VALF without a bound); bias may be NULL. */
md_status md_svdf_f32(const md_svdf_params *p, float low, float high, const float *input, const float *features,
                      const float *time_weights, const float *bias, float *state, float *output);

/* ---- UNIDIRECTIONAL_SEQUENCE_LSTM (float32; int8 and int16 with an int16 cell state).
 *
 * Step by step and, within a step, batch row by batch row (rows are independent): the
 * row's four gates in the scratch buffer (4 * cells floats), each the input times its
 * input weights plus the bias, plus the hidden state times its recurrent weights, summed in
 * TFLM's order; then the row's cell state (forget * cell + input * cell gate, clipped when
 * cell_clip > 0), hidden state (output gate * tanh(cell)) and output. The states are
 * static arrays outside the arena, kept across invocations.
 *
 * Integer (TFLM's 8x8_16 scheme for int8, 16x8 for int16): each gate's two products go to int16
 * in Q3.12 (saturated, then added saturating), the int16 logistic and tanh give Q0.15, the cell
 * state is int16 of scale 2^cell_scale_power, the hidden state of the sequence's type. The
 * scratch holds the four gates in int16. int8: int32 biases and sums; int16: int64 biases and
 * sums, zero points 0, rescaled as the 16x8 kernels do (md_mbqm64).
 */

typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_size;
    int32_t cells;
    int32_t time_major; /* the sequence is [time, batch, input] (else [batch, time, input]) */
    /* integer only: */
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

md_status md_lstm_s16(const md_lstm_params *p, const int16_t *input, const int8_t *const weights[8],
                      const int64_t *const biases[4], int16_t *hidden, int16_t *cell, int16_t *scratch,
                      int16_t *output);

/* ---- signal: TFLite Micro's audio front end, the custom operators of its signal library
 * (SignalWindow, SignalFftAutoScale, SignalRfft, SignalIrfft, SignalEnergy, SignalFilterBank*, SignalPCAN,
 * SignalDelay, SignalFramer, SignalStacker, SignalOverlapAdd),
 * bit-exact with TFLite Micro: int16 samples, uint32 energies and magnitudes, uint64 channel sums.
 * Unsigned arithmetic wraps as TFLite Micro's does; nothing saturates but where it says so.
 */

/* Each run of `weight_count` samples times the weights, shifted right by `shift`, saturated. */
md_status md_signal_window(const int16_t *input, const int16_t *weights, int32_t weight_count, int32_t count,
                           int32_t shift, int16_t *output);

/* The samples shifted left so that the largest magnitude reaches bit 14; the shift in *scale_bits. */
md_status md_signal_fft_auto_scale(const int16_t *input, int32_t count, int16_t *output, int32_t *scale_bits);

/* KISS FFT of `frames` real frames of `frame_length` samples each, zero-padded to fft_length (a
 * power of two, at least 4): fft_length / 2 + 1 (real, imaginary) bins per frame. twiddles: the
 * fft_length / 2 complex twiddles of the half-length complex FFT; super_twiddles: the fft_length / 4
 * of the real split (int16 pairs, Q15). scratch: 2 * fft_length int16. */
md_status md_signal_rfft_s16(const int16_t *twiddles, const int16_t *super_twiddles, int32_t fft_length,
                             const int16_t *input, int32_t frames, int32_t frame_length, int16_t *scratch,
                             int16_t *output);

/* The inverse: fft_length samples per frame from fft_length / 2 + 1 (real, imaginary) bins, not
 * normalised (each stage scales down by its radix, as the forward transform). twiddles and
 * super_twiddles: those of the inverse (conjugates of the forward ones); scratch: fft_length int16. */
md_status md_signal_irfft_s16(const int16_t *twiddles, const int16_t *super_twiddles, int32_t fft_length,
                              const int16_t *input, int32_t frames, int16_t *scratch, int16_t *output);

/* The same transforms in int32 (KISS FFT's 32-bit fixed point: Q31 twiddles, products rounded at bit 31)
 * and float32 (float twiddles; the inverse divides by fft_length, as TFLite Micro's float kernel).
 * Scratch: as above, in samples of the type. */
md_status md_signal_rfft_s32(const int32_t *twiddles, const int32_t *super_twiddles, int32_t fft_length,
                             const int32_t *input, int32_t frames, int32_t frame_length, int32_t *scratch,
                             int32_t *output);
md_status md_signal_irfft_s32(const int32_t *twiddles, const int32_t *super_twiddles, int32_t fft_length,
                              const int32_t *input, int32_t frames, int32_t *scratch, int32_t *output);
md_status md_signal_rfft_f32(const float *twiddles, const float *super_twiddles, int32_t fft_length,
                             const float *input, int32_t frames, int32_t frame_length, float *scratch, float *output);
md_status md_signal_irfft_f32(const float *twiddles, const float *super_twiddles, int32_t fft_length,
                              const float *input, int32_t frames, float *scratch, float *output);

/* real^2 + imag^2 of the `count` (real, imaginary) bins start..end-1, 0 for the others (which
 * TFLite Micro leaves as the arena held them). */
md_status md_signal_energy(const int16_t *input, int32_t count, int32_t start, int32_t end, uint32_t *output);

/* num_channels + 1 triangular channels over the spectrum (channel 0 computed and dropped). */
md_status md_signal_filter_bank(int32_t num_channels, const uint32_t *input, const int16_t *weights,
                                const int16_t *unweights, const int16_t *frequency_starts,
                                const int16_t *weight_starts, const int16_t *widths, uint64_t *output);

/* The rounded square root of each channel, shifted right by *scale_bits. */
md_status md_signal_filter_bank_sqrt(const uint64_t *input, int32_t count, const int32_t *scale_bits,
                                     uint32_t *output);

typedef struct {
    int32_t num_channels;
    uint32_t smoothing; /* even channels */
    uint32_t one_minus_smoothing;
    uint32_t alternate_smoothing; /* odd channels */
    uint32_t alternate_one_minus_smoothing;
    uint32_t smoothing_bits;
    uint32_t min_signal_remaining;
    uint32_t spectral_subtraction_bits;
    int32_t clamping; /* 1: the noise estimate never exceeds the signal */
} md_signal_spectral_subtraction_params;

/* Each channel less a running estimate of its noise (`noise`, kept across inferences, zero at
 * first), never below min_signal_remaining of the channel; noise_output: a copy of the estimates. */
md_status md_signal_spectral_subtraction(const md_signal_spectral_subtraction_params *p, const uint32_t *input,
                                         uint32_t *noise, uint32_t *output, uint32_t *noise_output);

/* ln(input << correction_bits) * output_scale / 2^16, at most INT16_MAX (0 for inputs of 0 or 1).
 * log_table: the 130 entries of log2(1 + x) - x by segments (mcudeploy derives them). */
md_status md_signal_filter_bank_log(const uint32_t *input, int32_t count, uint32_t output_scale,
                                    int32_t correction_bits, const uint16_t *log_table, int16_t *output);

/* Per-channel gain control: input times the gain gain_lut gives the noise estimate, compressed. */
md_status md_signal_pcan(const uint32_t *input, const uint32_t *noise, const int16_t *gain_lut, int32_t count,
                         int32_t snr_shift, uint32_t *output);

/* The operators with sample history. Each keeps it in `history`/`state`/`buffer`, zeroed before
 * the first inference (the generated init() does), of the size mcudeploy's memory contract for
 * the operator states. Frames not yet complete are written as zeros with *valid 0 (TFLite Micro
 * leaves them unwritten). */

/* Each of `rows` rows of `frame` samples delayed by `delay` samples (history: rows * delay int16). */
md_status md_signal_delay(const int16_t *input, int32_t rows, int32_t frame, int32_t delay, int16_t *history,
                          int16_t *output);

/* Frames of frame_size samples every frame_step samples of each row (prefill: the history starts
 * with frame_size - frame_step zeros). state: per row 4 bytes, then ceil(frame_size / frame_step)
 * * frame_step int16 rounded up to whole words. */
md_status md_signal_framer(const int16_t *input, int32_t rows, int32_t row_length, int32_t frame_size,
                           int32_t frame_step, int32_t prefill, uint8_t *state, int16_t *output, uint8_t *valid);

/* The last left + right + 1 frames of `channels` side by side every `step` frames, the first frame
 * repeated into the left context. state: 8 bytes, then channels * (left + right + 1) int16. */
md_status md_signal_stacker(const int16_t *input, int32_t channels, int32_t left_context, int32_t right_context,
                            int32_t step, uint8_t *state, int16_t *output, uint8_t *valid);

/* Frames added into a running buffer (rows * frame_size values), int16 saturating; each frame
 * gives the buffer's first frame_step values, then the buffer moves on by as many. */
md_status md_signal_overlap_add_s16(const int16_t *input, int32_t rows, int32_t frames, int32_t frame_size,
                                    int32_t frame_step, int16_t *buffer, int16_t *output);

md_status md_signal_overlap_add_f32(const float *input, int32_t rows, int32_t frames, int32_t frame_size,
                                    int32_t frame_step, float *buffer, float *output);

/* TFLite Micro's CIRCULAR_BUFFER (int8): the history of `slots` frames of `depth` values moves on
 * by one frame and `input` becomes its last; `output` gets the history. Returns MD_WAITING unless
 * this is the cycles_max-th frame since the last MD_OK. state: 4 bytes, then slots * depth int8
 * rounded up to whole words; an all-zero state starts the history at `zero_point`. */
md_status md_circular_buffer_s8(const int8_t *input, int32_t slots, int32_t depth, int32_t cycles_max,
                                int32_t zero_point, uint8_t *state, int8_t *output);

/* ---- detection: TFLite Micro's TFLite_Detection_PostProcess custom operator (float32).
 *
 * Box encodings [1, num_boxes, box_stride] (y, x, h, w first) decoded against anchors
 * [num_boxes, 4] (y, x, h, w) into corners, then non-max suppression over scores
 * [1, num_boxes, scores_per_box] (a background class first when scores_per_box is num_classes + 1):
 * fast NMS ranks each box by its best class, regular NMS runs per class and keeps the best
 * max_detections overall. Outputs: boxes [output_rows][4] (ymin, xmin, ymax, xmax), classes and
 * scores [output_rows], the count; the rows after the count are zeros. Bit-exact with TFLite Micro
 * where the C library's exp() is (double-precision, the only libm call). Returns MD_ERROR_RANGE,
 * outputs unwritten, when a decoded box has ymin >= ymax or xmin >= xmax (TFLite Micro fails). */
typedef struct {
    int32_t num_boxes;
    int32_t box_stride;
    int32_t scores_per_box;
    int32_t num_classes;
    int32_t max_detections;
    int32_t detections_per_class;  /* regular NMS: the picks per class */
    int32_t output_rows;
    int32_t regular_nms;           /* 1: regular NMS, 0: fast NMS (one class per detection) */
    float score_threshold;
    float iou_threshold;           /* in (0, 1] */
    float y_scale;
    float x_scale;
    float h_scale;
    float w_scale;
} md_detection_params;

/* Per box: the decoded corners (16 bytes) and five 4-byte entries (score, best class, candidate,
 * merge slot, pick), a candidate flag (1 byte, rounded up to words); regular NMS also its top list
 * and a merge of it (16 bytes per detection). */
static inline int32_t md_detection_postprocess_get_buffer_size(const md_detection_params *p)
{
    return 36 * p->num_boxes + (p->num_boxes + 3) / 4 * 4 + (p->regular_nms ? 16 * p->max_detections : 0);
}

md_status md_detection_postprocess_f32(const md_detection_params *p, const float *encodings, const float *scores,
                                       const float *anchors, float *boxes, float *classes, float *detection_scores,
                                       float *count, void *scratch);

/* ---- decode: TFLite Micro's TFLM_DECODE custom operator, a constant tensor stored compressed
 * (encoded data, and ancillary data: a 16-byte header, then the tables) decoded into `output`
 * (count elements of element_bytes) on every inference, as TFLite Micro decodes it:
 * - MD_DECODE_LUT: one bit_width-bit index per element (a big-endian bit string) into its channel's
 *   value table (table_stride entries of the element type per channel).
 * - MD_DECODE_HUFFMAN: int8 or int16 symbols from the code words' big-endian bit string through the
 *   tables (16- or 32-bit entries, little-endian), the first lookup initial_bits wide.
 * - MD_DECODE_PRUNING: one bit per element (big-endian), 1 the next kept value, 0 the zero point:
 *   zero_points[channel] (int8 outputs) or, with zero_points NULL, zero bytes.
 * Channels: element k's is k % channels along the last axis (alternate_axis), else
 * k / (count / channels). Parameters are checked by mcudeploy: the kernel reads nothing outside
 * encoded_bytes and the tables the model holds. */
#define MD_DECODE_HEADER_BYTES 16
#define MD_DECODE_LUT 0
#define MD_DECODE_HUFFMAN 1
#define MD_DECODE_PRUNING 2

typedef struct {
    int32_t kind;
    int32_t count;
    int32_t element_bytes;
    int32_t channels;
    int32_t alternate_axis;
    int32_t bit_width;     /* LUT */
    int32_t table_stride;  /* LUT */
    int32_t huffman_32bit; /* Huffman */
    int32_t initial_bits;  /* Huffman */
    int32_t encoded_bytes;
} md_decode_params;

md_status md_decode(const md_decode_params *p, const uint8_t *encoded, const uint8_t *ancillary,
                    const int8_t *zero_points, void *output);

/* ---- the hand-over of one NPU segment to an Arm Ethos-U.
 *
 * The generated network does not drive the NPU itself: each `ethos-u` layer fills an
 * md_ethosu_job and calls md_ethosu_invoke(), which the application provides. On hardware
 * it wraps the Ethos-U driver (e.g. Arm's ethos-u-core-driver):
 *
 *     int md_ethosu_invoke(const md_ethosu_job *job)
 *     {
 *         int count = job->base_count < MD_ETHOSU_MAX_BASES ? job->base_count : MD_ETHOSU_MAX_BASES;
 *         return ethosu_invoke_v3(driver, job->command_stream, (int)job->command_stream_bytes,
 *                                 job->base_addresses, job->base_bytes, count, NULL)
 *             == 0 ? MD_OK : MD_ERROR_NPU;
 *     }
 *
 * The base addresses follow Vela's convention (as TensorFlow Lite Micro passes them): the
 * read-only data (encoded weights), the scratch (the arena Vela planned: the segment's feature
 * maps live in it at the offsets Vela chose), the fast scratch, then the segment's inputs and
 * outputs. The job lists them all, however many inputs and outputs the segment has; the NPU has
 * MD_ETHOSU_MAX_BASES base pointer registers, and Vela puts every base its command stream uses
 * among the first of them, so the driver is given at most that many (TensorFlow Lite Micro does
 * the same). The command stream and the read-only data must stay 16-byte aligned.
 */

/* The NPU reported a failure. */
#define MD_ERROR_NPU (-4)

/* The Ethos-U55/U65/U85's base pointer registers (BASEP0-7). */
#define MD_ETHOSU_MAX_BASES 8

typedef struct {
    const uint8_t *command_stream;
    size_t command_stream_bytes;
    /* base_count addresses and sizes in Vela's order. */
    const uint64_t *base_addresses;
    const size_t *base_bytes;
    int base_count;
    /* Index in base_addresses of the segment's first output (those after it are outputs too). */
    int first_output;
} md_ethosu_job;

/* Runs one NPU segment to completion; MD_OK on success. Provided by the application. */
int md_ethosu_invoke(const md_ethosu_job *job);

#endif /* MD_NN_H */
