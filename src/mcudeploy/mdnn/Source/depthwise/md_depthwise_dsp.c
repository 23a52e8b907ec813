/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: DEPTHWISE_CONV_2D for cores with the DSP extension (see md_nn.h).
 *
 * int8, in the loop order the memory contract declares:
 * - copied planes (with scratch): channel c is copied into a plane padded with the input zero
 *   point (a padding value plus the input offset is 0, so it adds nothing) and every window lies
 *   inside. Undilated 3x3 windows read each filter row as one word of the plane (SXTAB16 adds the
 *   input offset while unpacking, two SMLAD per row); at stride 1 the same word serves the next
 *   output too, its weights one byte on (SMLADX). Narrow layers fold the constants (dw_folded):
 *   at stride 1 they go in 2x2 blocks of outputs (4 row words for 4 windows) in assembly, each
 *   block requantized as it is summed (over the whole of int8's range; else sums, then outputs);
 *   at stride 2 grouped over the whole of int8's range, from wide (int16) planes, a group of 2 or 4
 *   channels copied at a time (planes_wide), in 2x2 blocks requantized as they are summed, the
 *   group's planes in one call (md_dw_fused_blocks_s2: 15 row words and 22 multiplies a block); else
 *   in 2x2 blocks of sums (10 row words, a window's row its word's bytes 0..2), then outputs; along
 *   the image's longer side (a tall image's planes transposed, dw_steps).
 *   Other windows take every tap.
 * - streaming (no scratch): four channels of a pixel at a time, one word of values and one of
 *   weights per tap, written as one word once their windows are read; with a depth multiplier
 *   (a multiple of 4), four outputs of one input channel at a time, the value shared. Undilated
 *   3x3 windows of a multiple of 4 channels go pixel by pixel, 64 channels at a time: their sums
 *   over the window's rows and columns inside the image (3 or 2 of each: the padded edges too)
 *   in assembly, 10 instructions a tap for 4 channels, then their outputs, a narrow layer's in
 *   assembly (7 instructions an output, 4 clamped at once); with a depth multiplier, the windows
 *   inside the image's columns a run of a row at a time. Narrow layers requantize as the folded
 *   planes do (folded_output).
 * Other cases run the portable kernel. The routines made for one shape, which only the generated code of
 * a layer taking one names (md_nn.h), are in sources of their own: md_depthwise_rows_dsp.c (stride-1
 * rows at a fixed width and depth, or of a tall image's transposed planes with their last column and odd
 * last row, given to md_depthwise_s8_grouped_rows), md_depthwise_copy_dsp.c (the
 * 4 wide planes' copy, given to md_depthwise_s8_grouped_wide) and md_depthwise_small_dsp.c (a 3x3
 * output from the image in place, md_depthwise_s8_small).
 */
#include "md_depthwise_dsp_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_dsp);

/* The requantization of one output channel (its bias is where its sums start). */
typedef struct {
    int32_t bias, multiplier, shift, offset, low, high;
} dw_requant;

static dw_requant channel_requant(const depthwise_int_job *job, int32_t channel)
{
    const md_window_params *p = job->p;
    const int32_t q = p->per_channel ? channel : 0;
    dw_requant r;
    r.bias = job->bias ? ((const int32_t *)job->bias)[channel] : 0;
    r.multiplier = job->multipliers[q];
    r.shift = job->shifts[q];
    r.offset = p->output_offset;
    r.low = p->act_min;
    r.high = p->act_max;
    return r;
}

static inline int8_t requantize(const dw_requant *r, int32_t sum)
{
    return (int8_t)md_requantize32(sum, r->multiplier, r->shift, r->offset, r->low, r->high);
}

/* ------------------------------------------------------------------ folded requantization */

#define DW_FOLD_SHIFT 22 /* |output offset| * 2^22 + 2^30 + 2^21 < 2^31: the folded rounding fits */

/* Whether every channel's shift is in [-DW_FOLD_SHIFT, -1]: with md_dsp_narrow_layer, the
 * folded requantization (folded_output). */
static int foldable_shifts(const int32_t *shifts, int32_t channels)
{
    int32_t c;
    for (c = 0; c < channels; ++c) {
        if (shifts[c] < -DW_FOLD_SHIFT) {
            return 0;
        }
    }
    return 1;
}

/* The addend of folded_output: the rounding shift's half and the output offset, 2^(e-1) + offset * 2^e. */
static inline int32_t folded_addend(int32_t exponent, int32_t offset)
{
    return (int32_t)((uint32_t)(2 * offset + 1) << (exponent - 1));
}

/* One output from its doubled sum: SMMULR, the rounding shift with the output offset,
 * the clamp (SSAT when the range is all of int8), as an int32 within int8. */
static MD_ALWAYS_INLINE int32_t folded_value(int32_t doubled, int32_t multiplier, int32_t exponent, int32_t addend,
                                            int32_t low, int32_t high, int full_range)
{
    int32_t y;
    __asm__("smmulr %0, %1, %2" : "=r"(y) : "r"(doubled), "r"(multiplier));
    y = (y + (y >> 31) + addend) >> exponent;
    if (full_range) {
        return __ssat(y, 8);
    }
    /* The clamp without branches (GCC branches around md_clamp_i32's moves). */
    __asm__("cmp %0, %1\n\tit lt\n\tmovlt %0, %1\n\tcmp %0, %2\n\tit gt\n\tmovgt %0, %2"
            : "+r"(y)
            : "r"(low), "r"(high)
            : "cc");
    return y;
}

static MD_ALWAYS_INLINE int8_t folded_output(int32_t doubled, int32_t multiplier, int32_t exponent, int32_t addend,
                                             int32_t low, int32_t high, int full_range)
{
    return (int8_t)folded_value(doubled, multiplier, exponent, addend, low, high, full_range);
}

/* ------------------------------------------------------------------ streaming */

/* The taps of one output pixel's window inside the image, for channel 0: the first value and
 * weight, the steps between columns and rows of each, and the counts (0 in the padding). */
typedef struct {
    const int8_t *values;
    const int8_t *weights;
    int32_t rows, columns;
    int32_t value_column_step, value_row_step;
    int32_t weight_column_step, weight_row_step;
} dw_pixel;

static dw_pixel pixel_taps(const depthwise_int_job *job, const int8_t *image, int32_t oy, int32_t ox)
{
    const md_window_params *p = job->p;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    dw_pixel px;
    px.value_column_step = p->dilation_w * p->input_c;
    px.value_row_step = p->dilation_h * p->input_w * p->input_c;
    px.weight_column_step = p->output_c;
    px.weight_row_step = p->filter_w * p->output_c;
    if (y0 >= 0 && x0 >= 0 && y0 + (p->filter_h - 1) * p->dilation_h < p->input_h &&
        x0 + (p->filter_w - 1) * p->dilation_w < p->input_w) { /* the usual case: the whole window */
        px.rows = p->filter_h;
        px.columns = p->filter_w;
        px.values = image + (y0 * p->input_w + x0) * p->input_c;
        px.weights = job->filter;
    } else {
        const md_taps taps = md_window_taps(p, oy, ox);
        px.rows = md_max_i32(taps.y_last - taps.y_first, 0);
        px.columns = px.rows ? md_max_i32(taps.x_last - taps.x_first, 0) : 0;
        px.rows = px.columns ? px.rows : 0;
        px.values = image + (px.rows ? md_taps_pixel(p, &taps, taps.y_first, taps.x_first) * p->input_c : 0);
        px.weights = job->filter + (px.rows ? (taps.y_first * p->filter_w + taps.x_first) * p->output_c : 0);
    }
    return px;
}

/* The sums of four adjacent channels. */
typedef struct {
    int32_t s0, s1, s2, s3;
} dw_quad;

/* One tap of channels c .. c + 3: the word of values at `value` unpacked by SXTAB16 with the input
 * offset added in the same instruction, the word of weights at `weight` unpacked into the values'
 * register once it is read, then one 16x16 MAC per channel (SMLABB/SMLATT wrap like the int32 sum).
 * Both words are loaded back to back (the M4 pipelines the second load) and neither is used by the
 * next instruction (the M7 waits a cycle for a loaded register). */
#define DW_QUAD_TAP(value, weight) \
    "ldr %[word], " value "\n\t" \
    "ldr %[weights], " weight "\n\t" \
    "sxtab16 %[even], %[offsets], %[word]\n\t" \
    "sxtab16 %[odd], %[offsets], %[word], ror #8\n\t" \
    "sxtb16 %[word], %[weights], ror #8\n\t" \
    "sxtb16 %[weights], %[weights]\n\t" \
    "smlabb %[s0], %[even], %[weights], %[s0]\n\t" \
    "smlatt %[s2], %[even], %[weights], %[s2]\n\t" \
    "smlabb %[s1], %[odd], %[word], %[s1]\n\t" \
    "smlatt %[s3], %[odd], %[word], %[s3]\n\t"

#define DW_QUAD_OPERANDS \
    [s0] "+r"(acc.s0), [s1] "+r"(acc.s1), [s2] "+r"(acc.s2), [s3] "+r"(acc.s3), [word] "=&r"(word), \
        [even] "=&r"(even), [odd] "=&r"(odd), [weights] "=&r"(weights)

/* acc plus one tap of channels c .. c + 3 (in assembly: in C, GCC spills the sums). */
static MD_ALWAYS_INLINE dw_quad quad_mac(dw_quad acc, const int8_t *value, const int8_t *weight, uint32_t offsets)
{
    uint32_t word, even, odd, weights;
    __asm__(DW_QUAD_TAP("[%[value]]", "[%[weight]]")
            : DW_QUAD_OPERANDS
            : [value] "r"(value), [weight] "r"(weight), [offsets] "r"(offsets)
            : "memory");
    return acc;
}

/* acc plus a row of 3 taps `step` bytes apart, both in the values and in the weights. */
static MD_ALWAYS_INLINE dw_quad quad_row_3(dw_quad acc, const int8_t *value, const int8_t *weight, int32_t step,
                                           uint32_t offsets)
{
    uint32_t word, even, odd, weights;
    __asm__(DW_QUAD_TAP("[%[value]]", "[%[weight]]")
            DW_QUAD_TAP("[%[value], %[step]]", "[%[weight], %[step]]")
            DW_QUAD_TAP("[%[value], %[step], lsl #1]", "[%[weight], %[step], lsl #1]")
            : DW_QUAD_OPERANDS
            : [value] "r"(value), [weight] "r"(weight), [step] "r"(step), [offsets] "r"(offsets)
            : "memory");
    return acc;
}

/* acc plus a row of 2 taps `step` bytes apart (a window's row cut by the image's edge). */
static MD_ALWAYS_INLINE dw_quad quad_row_2(dw_quad acc, const int8_t *value, const int8_t *weight, int32_t step,
                                           uint32_t offsets)
{
    uint32_t word, even, odd, weights;
    __asm__(DW_QUAD_TAP("[%[value]]", "[%[weight]]")
            DW_QUAD_TAP("[%[value], %[step]]", "[%[weight], %[step]]")
            : DW_QUAD_OPERANDS
            : [value] "r"(value), [weight] "r"(weight), [step] "r"(step), [offsets] "r"(offsets)
            : "memory");
    return acc;
}

/* Sums of channels c .. c + 3 over the pixel's taps, from their biases; rows of 3 and 2 taps unrolled. */
static inline dw_quad quad_sums(const dw_pixel *px, int32_t c, dw_quad acc, uint32_t offsets)
{
    const int8_t *value = px->values + c;
    const int8_t *weight = px->weights + c;
    /* Locals: the assembly's memory clobber would reload *px every row. */
    const int32_t value_step = px->value_column_step, weight_step = px->weight_column_step;
    const int32_t value_row = px->value_row_step, weight_row = px->weight_row_step;
    const int32_t rows = px->rows, columns = px->columns;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < rows; ++fy, value += value_row, weight += weight_row) {
        if (columns == 3 && value_step == weight_step) {
            acc = quad_row_3(acc, value, weight, value_step, offsets);
        } else if (columns == 2 && value_step == weight_step) {
            acc = quad_row_2(acc, value, weight, value_step, offsets);
        } else {
            for (fx = 0; fx < columns; ++fx) {
                acc = quad_mac(acc, value + fx * value_step, weight + fx * weight_step, offsets);
            }
        }
    }
    return acc;
}

/* quad_sums over `rows` undilated rows of 3 taps (a 3x3 window, or its rows inside the image): the
 * steps are the channel count and the row length. */
static MD_ALWAYS_INLINE dw_quad quad_sums_rows(const int8_t *value, const int8_t *weight, int32_t rows,
                                               int32_t channels, int32_t row_step, dw_quad acc, uint32_t offsets)
{
    int32_t fy;
    if (rows == 3) { /* the usual case, unrolled */
        acc = quad_row_3(acc, value, weight, channels, offsets);
        acc = quad_row_3(acc, value + row_step, weight + 3 * channels, channels, offsets);
        return quad_row_3(acc, value + 2 * row_step, weight + 6 * channels, channels, offsets);
    }
    for (fy = 0; fy < rows; ++fy, value += row_step, weight += 3 * channels) {
        acc = quad_row_3(acc, value, weight, channels, offsets);
    }
    return acc;
}

/* The sum of channel c over the pixel's taps, from its bias. */
static int32_t single_sum(const dw_pixel *px, int32_t c, int32_t sum, int32_t offset)
{
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < px->rows; ++fy) {
        const int8_t *value = px->values + fy * px->value_row_step + c;
        const int8_t *weight = px->weights + fy * px->weight_row_step + c;
        for (fx = 0; fx < px->columns; ++fx) {
            sum = md_wrap_add(sum, (value[fx * px->value_column_step] + offset) * weight[fx * px->weight_column_step]);
        }
    }
    return sum;
}

static md_dsp_requant layer_requant(const depthwise_int_job *job)
{
    const md_window_params *p = job->p;
    return md_dsp_requant_of((const int32_t *)job->bias, job->multipliers, job->shifts, p->per_channel,
                             p->output_offset, p->act_min, p->act_max);
}

/* The sums of channels c .. c + 3 from their biases. */
static inline dw_quad quad_biases(const md_dsp_requant *layer, int32_t c)
{
    const dw_quad quad = {md_dsp_bias(layer, c), md_dsp_bias(layer, c + 1), md_dsp_bias(layer, c + 2),
                          md_dsp_bias(layer, c + 3)};
    return quad;
}

/* One streamed output from its sum: md_requantize32 (GENERAL), else folded_output of the doubled sum
 * saturated to int8 (a narrow layer with foldable shifts: stream_s8; quad_word clamps). */
static MD_ALWAYS_INLINE int32_t quad_output(int mode, int32_t sum, int32_t multiplier, int32_t shift, int32_t offset,
                                            int32_t low, int32_t high)
{
    if (mode == MD_DSP_GENERAL) {
        return md_requantize32(sum, multiplier, shift, offset, low, high);
    }
    return folded_value((int32_t)((uint32_t)sum << 1), multiplier, -shift, folded_addend(-shift, offset), low, high, 1);
}

/* {low's bottom half, high's bottom half} in one PKHBT (GCC masks and ORs). */
static MD_ALWAYS_INLINE uint32_t low_high(int32_t low, int32_t high)
{
    uint32_t pair;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(pair) : "r"(low), "r"(high));
    return pair;
}

/* The 4 int8 bytes of `word` clamped to [low, high]: SSUB8 sets each byte's GE flag where it is
 * not below the bound's byte, SEL picks per byte. */
static MD_ALWAYS_INLINE uint32_t clamp_bytes(uint32_t word, int32_t low, int32_t high)
{
    const uint32_t lows = (uint32_t)(uint8_t)low * 0x01010101u, highs = (uint32_t)(uint8_t)high * 0x01010101u;
    uint32_t difference;
    __asm__("ssub8 %[d], %[w], %[lo]\n\t"
            "sel %[w], %[w], %[lo]\n\t"
            "ssub8 %[d], %[w], %[hi]\n\t"
            "sel %[w], %[hi], %[w]"
            : [w] "+r"(word), [d] "=&r"(difference)
            : [lo] "r"(lows), [hi] "r"(highs)
            : "cc");
    return word;
}

/* Channels c .. c + 3 from their sums, as one word of int8 outputs: each channel's constants
 * fetched from one base (c times the layer's channel step); the outputs, all within int8, packed
 * as {o0, o2} and {o1, o3} halfword pairs (PKHBT), their low bytes (UXTB16), one ORR; a narrow
 * layer's clamped four at a time (clamp_bytes). */
static MD_ALWAYS_INLINE uint32_t quad_word(const md_dsp_requant *layer, int32_t c, dw_quad quad, int mode)
{
    const int32_t step = layer->channel_step;
    const int32_t *multipliers = layer->multipliers + c * step;
    const int32_t *shifts = layer->shifts + c * step;
    const int32_t offset = layer->offset, low = layer->low, high = layer->high;
    const int32_t o0 = quad_output(mode, quad.s0, multipliers[0], shifts[0], offset, low, high);
    const int32_t o1 = quad_output(mode, quad.s1, multipliers[step], shifts[step], offset, low, high);
    const int32_t o2 = quad_output(mode, quad.s2, multipliers[2 * step], shifts[2 * step], offset, low, high);
    const int32_t o3 = quad_output(mode, quad.s3, multipliers[3 * step], shifts[3 * step], offset, low, high);
    const uint32_t word = __uxtb16(low_high(o0, o2)) | (__uxtb16(low_high(o1, o3)) << 8);
    return mode == MD_DSP_NARROW ? clamp_bytes(word, low, high) : word;
}

/* One output pixel: four channels at a time, each written as one word once its windows are
 * read, then the rest one by one. */
static MD_ALWAYS_INLINE void stream_pixel_with(const depthwise_int_job *job, const md_dsp_requant *layer,
                                               const dw_pixel *px, int8_t *out, int mode)
{
    const int32_t channels = job->p->input_c;
    const uint32_t offsets = offset_pair(job->p);
    const int whole_3x3 = px->rows == 3 && px->columns == 3 && px->value_column_step == channels;
    int32_t c;
    for (c = 0; c + 4 <= channels; c += 4) {
        dw_quad quad = quad_biases(layer, c);
        if (whole_3x3) {
            quad = quad_sums_rows(px->values + c, px->weights + c, 3, channels, px->value_row_step, quad, offsets);
        } else {
            quad = quad_sums(px, c, quad, offsets);
        }
        md_write32(out + c, quad_word(layer, c, quad, mode));
    }
    for (; c < channels; ++c) {
        out[c] = (int8_t)md_dsp_requantize(layer, c, single_sum(px, c, md_dsp_bias(layer, c), job->p->input_offset));
    }
}

/* stream_pixel_with, `mode` (md_dsp_mode) a constant in each copy. */
static MD_NOINLINE void stream_pixel(const depthwise_int_job *job, const md_dsp_requant *layer, const dw_pixel *px,
                                     int8_t *out, int mode)
{
    switch (mode) {
    case MD_DSP_NARROW_INT8:
        stream_pixel_with(job, layer, px, out, MD_DSP_NARROW_INT8);
        break;
    case MD_DSP_NARROW:
        stream_pixel_with(job, layer, px, out, MD_DSP_NARROW);
        break;
    default:
        stream_pixel_with(job, layer, px, out, MD_DSP_GENERAL);
        break;
    }
}

/* One tap of output channels oc .. oc + 3 fed by one value: the value plus the input offset, in the
 * bottom half of a register, meets the halves of the unpacked weight pairs (SMLABB/SMLABT); loads
 * back to back, as in DW_QUAD_TAP. */
#define DW_SHARED_TAP(value, weight) \
    "ldrsb %[both], " value "\n\t" \
    "ldr %[word], " weight "\n\t" \
    "add %[both], %[both], %[offset]\n\t" \
    "sxtb16 %[weights], %[word]\n\t" \
    "sxtb16 %[word], %[word], ror #8\n\t" \
    "smlabb %[s0], %[both], %[weights], %[s0]\n\t" \
    "smlabt %[s2], %[both], %[weights], %[s2]\n\t" \
    "smlabb %[s1], %[both], %[word], %[s1]\n\t" \
    "smlabt %[s3], %[both], %[word], %[s3]\n\t"

/* acc plus a row of 3 taps of one value each, `value_step` and `weight_step` bytes apart. */
static MD_ALWAYS_INLINE dw_quad quad_row_3_shared(dw_quad acc, const int8_t *value, int32_t value_step,
                                                  const int8_t *weight, int32_t weight_step, int32_t offset)
{
    uint32_t word, both, weights;
    __asm__(DW_SHARED_TAP("[%[value]]", "[%[weight]]")
            DW_SHARED_TAP("[%[value], %[value_step]]", "[%[weight], %[weight_step]]")
            DW_SHARED_TAP("[%[value], %[value_step], lsl #1]", "[%[weight], %[weight_step], lsl #1]")
            : [s0] "+r"(acc.s0), [s1] "+r"(acc.s1), [s2] "+r"(acc.s2), [s3] "+r"(acc.s3), [word] "=&r"(word),
              [both] "=&r"(both), [weights] "=&r"(weights)
            : [value] "r"(value), [value_step] "r"(value_step), [weight] "r"(weight),
              [weight_step] "r"(weight_step), [offset] "r"(offset)
            : "memory");
    return acc;
}

/* The sums of output channels oc .. oc + 3, all fed by the value of channel c under each tap:
 * the value (plus the input offset) meets the halves of each weight pair; rows of 3 taps in
 * assembly. */
static inline dw_quad quad_sums_shared(const dw_pixel *px, int32_t c, int32_t oc, dw_quad acc, int32_t offset)
{
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < px->rows; ++fy) {
        const int8_t *value = px->values + fy * px->value_row_step + c;
        const int8_t *weight = px->weights + fy * px->weight_row_step + oc;
        if (px->columns == 3) {
            acc = quad_row_3_shared(acc, value, px->value_column_step, weight, px->weight_column_step, offset);
            continue;
        }
        for (fx = 0; fx < px->columns; ++fx, value += px->value_column_step, weight += px->weight_column_step) {
            const int32_t both = (int32_t)(((uint32_t)(*value + offset) & 0xFFFFu) * 0x10001u);
            const uint32_t weights = md_read32(weight);
            const int16x2_t weights_even = md_even_pair(weights);
            const int16x2_t weights_odd = md_odd_pair(weights);
            acc.s0 = __smlabb(both, (int32_t)weights_even, acc.s0);
            acc.s2 = __smlatt(both, (int32_t)weights_even, acc.s2);
            acc.s1 = __smlabb(both, (int32_t)weights_odd, acc.s1);
            acc.s3 = __smlatt(both, (int32_t)weights_odd, acc.s3);
        }
    }
    return acc;
}

/* One output pixel of a depth multiplier m (a multiple of 4, at most MD_DEPTHWISE_CHUNK): for each
 * input channel, its m outputs four at a time, all computed before any is written. */
static MD_ALWAYS_INLINE void stream_pixel_multiplier_with(const depthwise_int_job *job, const md_dsp_requant *layer,
                                                          const dw_pixel *px, int8_t *out, int mode)
{
    const int32_t channels = job->p->input_c;
    const int32_t multiplier = job->p->output_c / channels;
    const int32_t offset = job->p->input_offset;
    uint32_t words[MD_DEPTHWISE_CHUNK / 4];
    int32_t c;
    int32_t k;
    for (c = 0; c < channels; ++c) {
        for (k = 0; k < multiplier; k += 4) {
            const int32_t oc = c * multiplier + k;
            dw_quad quad = quad_biases(layer, oc);
            quad = quad_sums_shared(px, c, oc, quad, offset);
            words[k / 4] = quad_word(layer, oc, quad, mode);
        }
        for (k = 0; k < multiplier; k += 4) {
            md_write32(out + c * multiplier + k, words[k / 4]);
        }
    }
}

/* stream_pixel_multiplier_with, `mode` (md_dsp_mode) a constant in each copy. */
static MD_NOINLINE void stream_pixel_multiplier(const depthwise_int_job *job, const md_dsp_requant *layer,
                                                const dw_pixel *px, int8_t *out, int mode)
{
    switch (mode) {
    case MD_DSP_NARROW_INT8:
        stream_pixel_multiplier_with(job, layer, px, out, MD_DSP_NARROW_INT8);
        break;
    case MD_DSP_NARROW:
        stream_pixel_multiplier_with(job, layer, px, out, MD_DSP_NARROW);
        break;
    default:
        stream_pixel_multiplier_with(job, layer, px, out, MD_DSP_GENERAL);
        break;
    }
}

/* `count` output pixels of one row whose undilated 3x3 windows lie inside the image's columns:
 * their `rows` filter rows inside it from `weights` on, the first window's at `values`, the next
 * `step` bytes on. */
typedef struct {
    const int8_t *values;
    const int8_t *weights;
    int32_t rows, count, step;
} dw_run;

/* The sums held at a time (on the stack), a multiple of 4: a run of pixels' or a chunk of one pixel's channels. */
#define DW_SUMS_CHUNK 64

/* The sums of four channels at a time of `pixels` pixels (`pixel_step` bytes apart in the
 * image) whose undilated windows have rows of 3 or 2 taps inside the image, from their biases, in
 * assembly (every register in use, nothing spilled): md_dw_window_RxC for R rows of C taps. r0
 * the values of the window's first tap inside (channel c), r1 the sums (one pixel's after the
 * other's), r2 the channel count (the step between taps), r3 the rest (dw_window_args: r12 the
 * weights of the first tap inside, lr the step between rows of values, r3 then the input offset
 * pair; on the stack the pixel's sums' end, the biases, the pixels left and the step from a
 * pixel's last channel to the next window). Each tap: DW_QUAD_TAP's 10 instructions into r4..r7
 * (temporaries r8..r11). A pixel of more channels than DW_SUMS_CHUNK goes a chunk at a time (one
 * pixel a call). */
typedef struct {
    const int8_t *weights;
    int32_t row_step;
    const int32_t *end; /* of the first pixel's sums */
    const int32_t *biases;
    uint32_t offsets;
    int32_t pixels, pixel_step;
} dw_window_args;

void md_dw_window_3x3(const int8_t *values, int32_t *sums, int32_t channels, const dw_window_args *args);
void md_dw_window_3x2(const int8_t *values, int32_t *sums, int32_t channels, const dw_window_args *args);
void md_dw_window_2x3(const int8_t *values, int32_t *sums, int32_t channels, const dw_window_args *args);
void md_dw_window_2x2(const int8_t *values, int32_t *sums, int32_t channels, const dw_window_args *args);

#define DW_TAP(value, weight) \
    "ldr r8, " value "\n\t" \
    "ldr r11, " weight "\n\t" \
    "sxtab16 r9, r3, r8\n\t" \
    "sxtab16 r10, r3, r8, ror #8\n\t" \
    "sxtb16 r8, r11, ror #8\n\t" \
    "sxtb16 r11, r11\n\t" \
    "smlabb r4, r9, r11, r4\n\t" \
    "smlatt r6, r9, r11, r6\n\t" \
    "smlabb r5, r10, r8, r5\n\t" \
    "smlatt r7, r10, r8, r7\n\t"

/* A row of 3 or 2 taps from r0 (values) and r12 (weights). */
#define DW_ROW_3 DW_TAP("[r0]", "[r12]") DW_TAP("[r0, r2]", "[r12, r2]") DW_TAP("[r0, r2, lsl #1]", "[r12, r2, lsl #1]")
#define DW_ROW_2 DW_TAP("[r0]", "[r12]") DW_TAP("[r0, r2]", "[r12, r2]")

/* To the next row (values lr bytes on, weights 3 taps on) and back over one or two rows. */
#define DW_NEXT_ROW "add r0, r0, lr\n\tadd r12, r12, r2, lsl #1\n\tadd r12, r12, r2\n\t"
#define DW_BACK_1 "sub r0, r0, lr\n\tsub r12, r12, r2, lsl #1\n\tsub r12, r12, r2\n\t"
#define DW_BACK_2 "sub r0, r0, lr, lsl #1\n\tsub r12, r12, r2, lsl #2\n\tsub r12, r12, r2, lsl #1\n\t"

/* One function: its name and its taps (`rows`, then `back` to the first row). */
#define DW_WINDOW_FUNCTION(name, rows, back) \
    __asm__(MD_ASM_FUNCTION(name) \
                        "push {r4-r11, lr}\n\t" \
            "ldrd r4, r5, [r3, #8]\n\t" \
            "ldrd r6, r7, [r3, #20]\n\t" \
            "sub r7, r7, r2\n\t" \
            "push {r4-r7}\n\t" \
            "ldrd r12, lr, [r3]\n\t" \
            "ldr r3, [r3, #16]\n" \
            "1:\n\t" \
            "ldr r8, [sp, #4]\n\t" \
            "ldm r8!, {r4-r7}\n\t" \
            "str r8, [sp, #4]\n\t" rows back \
            "adds r0, r0, #4\n\t" \
            "add r12, r12, #4\n\t" \
            "stmia r1!, {r4-r7}\n\t" \
            "ldr r8, [sp]\n\t" \
            "cmp r1, r8\n\t" \
            "bne 1b\n\t" \
            "ldrd r8, r9, [sp, #8]\n\t" /* the next pixel: its window, channel 0's weights */ \
            "add r0, r0, r9\n\t" \
            "sub r12, r12, r2\n\t" \
            "subs r8, r8, #1\n\t" \
            "beq 2f\n\t" \
            "str r8, [sp, #8]\n\t" \
            "ldrd r9, r10, [sp]\n\t" \
            "add r9, r9, r2, lsl #2\n\t" \
            "sub r10, r10, r2, lsl #2\n\t" \
            "strd r9, r10, [sp]\n\t" \
            "b 1b\n" \
            "2:\n\t" \
            "add sp, sp, #16\n\t" \
            "pop {r4-r11, pc}\n\t" \
            ".size " name ", .-" name "\n\t" \
            ".popsection")

DW_WINDOW_FUNCTION("md_dw_window_3x3", DW_ROW_3 DW_NEXT_ROW DW_ROW_3 DW_NEXT_ROW DW_ROW_3, DW_BACK_2);
DW_WINDOW_FUNCTION("md_dw_window_3x2", DW_ROW_2 DW_NEXT_ROW DW_ROW_2 DW_NEXT_ROW DW_ROW_2, DW_BACK_2);
DW_WINDOW_FUNCTION("md_dw_window_2x3", DW_ROW_3 DW_NEXT_ROW DW_ROW_3, DW_BACK_1);
DW_WINDOW_FUNCTION("md_dw_window_2x2", DW_ROW_2 DW_NEXT_ROW DW_ROW_2, DW_BACK_1);

/* The sums of channels c .. c + count - 1 (a multiple of 4) of `pixels` pixels whose undilated
 * windows have `rows` rows of `columns` taps inside the image (`values` and `weights` at the first
 * pixel's first tap, of channel 0; the next window `pixel_step` bytes on), from their biases
 * (none: zeros in `sums` first), `count` sums a pixel: md_dw_window_RxC for 2 or 3 of each, else
 * quad_mac a tap at a time. */
static void window_sums(const int8_t *values, const int8_t *weights, int32_t rows, int32_t columns,
                        const dw_window_args *shared, int32_t channels, int32_t c, int32_t count, int32_t pixels,
                        const int32_t *bias, int32_t *sums)
{
    dw_window_args args = *shared;
    int32_t i;
    int32_t fy;
    int32_t fx;
    if (!bias) {
        memset(sums, 0, (size_t)count * sizeof *sums);
    }
    args.weights = weights + c;
    args.end = sums + count;
    args.biases = bias ? bias + c : sums;
    args.pixels = pixels;
    if (rows >= 2 && columns >= 2) {
        if (rows == 3) {
            (columns == 3 ? md_dw_window_3x3 : md_dw_window_3x2)(values + c, sums, channels, &args);
        } else {
            (columns == 3 ? md_dw_window_2x3 : md_dw_window_2x2)(values + c, sums, channels, &args);
        }
        return;
    }
    for (; pixels > 0; --pixels, values += args.pixel_step, sums += count) {
        /* windows of one row or one column: an image one pixel high or wide */
        for (i = 0; i < count; i += 4) {
            dw_quad quad = {args.biases[i], args.biases[i + 1], args.biases[i + 2], args.biases[i + 3]};
            for (fy = 0; fy < rows; ++fy) {
                for (fx = 0; fx < columns; ++fx) {
                    const int32_t tap = fy * args.row_step + fx * channels + c + i;
                    quad = quad_mac(quad, values + tap, weights + (fy * 3 + fx) * channels + c + i, args.offsets);
                }
            }
            sums[i] = quad.s0;
            sums[i + 1] = quad.s1;
            sums[i + 2] = quad.s2;
            sums[i + 3] = quad.s3;
        }
    }
}

/* Outputs c .. c + count - 1 (a multiple of 4) from their sums, a word of 4 at a time: the
 * layer's constants copied to locals first (the output stores may alias *layer). */
static MD_ALWAYS_INLINE void chunk_words_with(const md_dsp_requant *layer, int32_t c, const int32_t *sums,
                                              int32_t count, int8_t *out, int mode)
{
    md_dsp_requant local = *layer;
    const int32_t *end = sums + count;
    local.multipliers += c * local.channel_step;
    local.shifts += c * local.channel_step;
    for (; sums < end; sums += 4, out += 4) {
        const dw_quad quad = {sums[0], sums[1], sums[2], sums[3]};
        md_write32(out, quad_word(&local, 0, quad, mode));
        local.multipliers += 4 * local.channel_step;
        local.shifts += 4 * local.channel_step;
    }
}

static MD_NOINLINE void chunk_words(const md_dsp_requant *layer, int32_t c, const int32_t *sums, int32_t count,
                                    int8_t *out, int mode)
{
    switch (mode) {
    case MD_DSP_NARROW_INT8:
        chunk_words_with(layer, c, sums, count, out, MD_DSP_NARROW_INT8);
        break;
    case MD_DSP_NARROW:
        chunk_words_with(layer, c, sums, count, out, MD_DSP_NARROW);
        break;
    default:
        chunk_words_with(layer, c, sums, count, out, MD_DSP_GENERAL);
        break;
    }
}

/* Outputs from the sums of a narrow layer with per-channel constants (foldable shifts), four
 * channels at a time, in assembly: each output y from its sum x and its shift s in [-22, -1]:
 * z = SMMULR(2x, multiplier), z += z < 0 ? -1 : 0 (folded_value's rounding), then
 * y = SSAT8(((z >> (-s - 1)) + 2 * offset + 1) >> 1), which is folded_value's
 * ((z + 2^(-s-1)) >> -s) + offset saturated; the word of 4 then clamped (clamp_bytes). r0 the
 * sums, r1 the outputs, r2 the multipliers, r3 the shifts, lr 2 * offset + 1; the bounds'
 * bytes, the pixel's sums' end, the pixels left and 4 x the channels on the stack. */
typedef struct {
    const int32_t *multipliers, *shifts;
    int32_t rounded_offset; /* 2 * offset + 1 */
    uint32_t lows, highs;   /* the clamp's bounds in each byte */
    const int32_t *end;     /* of the first pixel's sums */
    int32_t pixels, count;  /* the pixels, one after the other, and their channels */
} dw_output_args;

void md_dw_narrow_outputs(const int32_t *sums, int8_t *out, const dw_output_args *args);

/* Output `sum` (register) with its multiplier `m` (register, then its shift). */
#define DW_NARROW_OUTPUT(sum, m) \
    "lsl " sum ", " sum ", #1\n\t" \
    "smmulr " sum ", " sum ", " m "\n\t" \
    "ldr " m ", [r3], #4\n\t" \
    "add " sum ", " sum ", " sum ", asr #31\n\t" \
    "mvn " m ", " m "\n\t" \
    "asr " sum ", " sum ", " m "\n\t" \
    "add " sum ", " sum ", lr\n\t" \
    "ssat " sum ", #8, " sum ", asr #1\n\t"

__asm__(MD_ASM_FUNCTION("md_dw_narrow_outputs")
                "push {r4-r11, lr}\n\t"
        "ldrd r4, r5, [r2, #12]\n\t"
        "ldrd r6, r7, [r2, #20]\n\t"
        "ldr r8, [r2, #28]\n\t"
        "lsl r8, r8, #2\n\t"
        "push {r4-r8}\n\t"
        "ldr lr, [r2, #8]\n\t"
        "ldrd r2, r3, [r2]\n"
        "1:\n\t"
        "ldm r0!, {r4-r7}\n\t"
        "ldm r2!, {r8-r11}\n\t"
        DW_NARROW_OUTPUT("r4", "r8")
        DW_NARROW_OUTPUT("r5", "r9")
        DW_NARROW_OUTPUT("r6", "r10")
        DW_NARROW_OUTPUT("r7", "r11")
        "pkhbt r4, r4, r6, lsl #16\n\t"
        "pkhbt r5, r5, r7, lsl #16\n\t"
        "uxtb16 r4, r4\n\t"
        "uxtb16 r5, r5\n\t"
        "orr r4, r4, r5, lsl #8\n\t"
        "ldrd r8, r9, [sp]\n\t"
        "ssub8 r12, r4, r8\n\t"
        "sel r4, r4, r8\n\t"
        "ssub8 r12, r4, r9\n\t"
        "sel r4, r9, r4\n\t"
        "str r4, [r1], #4\n\t"
        "ldr r12, [sp, #8]\n\t"
        "cmp r0, r12\n\t"
        "bne 1b\n\t"
        "ldrd r8, r9, [sp, #12]\n\t" /* the next pixel: channel c's constants again */
        "subs r8, r8, #1\n\t"
        "beq 2f\n\t"
        "str r8, [sp, #12]\n\t"
        "sub r2, r2, r9\n\t"
        "sub r3, r3, r9\n\t"
        "add r12, r12, r9\n\t"
        "str r12, [sp, #8]\n\t"
        "b 1b\n"
        "2:\n\t"
        "add sp, sp, #20\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_narrow_outputs, .-md_dw_narrow_outputs\n\t"
        ".popsection");

/* Outputs c .. c + count - 1 (a multiple of 4) of `pixels` pixels (`count` apart, in `sums` and
 * in `out`: all of a pixel's channels when there are more pixels than one) from their sums:
 * md_dw_narrow_outputs for a narrow layer with per-channel constants (`shared`: the layer's
 * constants of channel 0), else chunk_words a word of 4 at a time. */
static void chunk_outputs(const md_dsp_requant *layer, const dw_output_args *shared, int32_t c, const int32_t *sums,
                          int32_t count, int32_t pixels, int8_t *out, int mode)
{
    dw_output_args args = *shared;
    if (mode == MD_DSP_GENERAL || layer->channel_step == 0) {
        for (; pixels > 0; --pixels, sums += count, out += count) {
            chunk_words(layer, c, sums, count, out, mode);
        }
        return;
    }
    args.multipliers += c;
    args.shifts += c;
    args.end = sums + count;
    args.pixels = pixels;
    args.count = count;
    md_dw_narrow_outputs(sums, out, &args);
}

/* Output row oy of an undilated 3x3 layer (a multiple of 4 channels, depth multiplier 1): each
 * window's rows and columns inside the image settled (the padding adds nothing), then the sums of
 * a run of pixels whose windows have the same taps inside (as many as DW_SUMS_CHUNK sums hold; a
 * pixel of more channels a chunk at a time) before their outputs: each channel written after its
 * windows are read, as the streaming contract requires (a pixel's windows read early). */
static void stream_row_3x3(const depthwise_int_job *job, const md_dsp_requant *layer, const int8_t *image,
                           int32_t oy, int8_t *out, int mode)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t fy_first = md_max_i32(-y0, 0);
    const int32_t rows = md_max_i32(md_min_i32(3, p->input_h - y0) - fy_first, 0);
    /* pixels a run (one without biases: window_sums starts from zeros in its sums) */
    const int32_t most = layer->bias ? md_max_i32(DW_SUMS_CHUNK / channels, 1) : 1;
    int32_t sums[DW_SUMS_CHUNK];
    dw_window_args windows;
    dw_output_args outputs;
    int32_t ox;
    int32_t c;
    int32_t n;
    windows.row_step = p->input_w * channels;
    windows.offsets = offset_pair(p);
    windows.pixel_step = p->stride_w * channels;
    outputs.multipliers = layer->multipliers;
    outputs.shifts = layer->shifts;
    outputs.rounded_offset = 2 * layer->offset + 1;
    outputs.lows = (uint32_t)(uint8_t)layer->low * 0x01010101u;
    outputs.highs = (uint32_t)(uint8_t)layer->high * 0x01010101u;
    for (ox = 0; ox < p->output_w; ox += n, out += n * channels) {
        const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
        const int32_t fx_first = md_max_i32(-x0, 0);
        const int32_t columns = rows ? md_max_i32(md_min_i32(3, p->input_w - x0) - fx_first, 0) : 0;
        const int32_t taken = columns ? rows : 0;
        const int8_t *values = taken ? image + ((y0 + fy_first) * p->input_w + x0 + fx_first) * channels : image;
        const int8_t *weights = job->filter + (taken ? fy_first * 3 + fx_first : 0) * channels;
        n = 1; /* a run: windows of 3 columns inside the image's, one after the other */
        if (fx_first == 0 && columns == 3) {
            while (n < most && ox + n < p->output_w && x0 + n * p->stride_w + 3 <= p->input_w) {
                ++n;
            }
        }
        for (c = 0; c < channels; c += DW_SUMS_CHUNK) {
            const int32_t count = md_min_i32(DW_SUMS_CHUNK, channels - c);
            window_sums(values, weights, taken, columns, &windows, channels, c, count, n, layer->bias, sums);
            chunk_outputs(layer, &outputs, c, sums, count, n, out + c, mode);
        }
    }
}

/* A run with a depth multiplier m, as stream_pixel_multiplier does pixel by pixel: for each input
 * channel, its m outputs four at a time (the window's rows of 3 taps in assembly, the steps in
 * registers), all computed before any is written. */
static MD_ALWAYS_INLINE void stream_run_multiplier_with(const depthwise_int_job *job, const md_dsp_requant *layer,
                                                        const dw_run *run, int8_t *out, int mode)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t out_c = p->output_c;
    const int32_t multiplier = out_c / channels;
    const int32_t row_step = p->input_w * channels;
    const int32_t weight_row = 3 * out_c;
    const int32_t offset = p->input_offset;
    const int8_t *values = run->values;
    const int8_t *weights = run->weights;
    const int32_t rows = run->rows, count = run->count, step = run->step;
    uint32_t words[MD_DEPTHWISE_CHUNK / 4];
    int32_t i;
    int32_t c;
    int32_t k;
    int32_t fy;
    for (i = 0; i < count; ++i, values += step, out += out_c) {
        for (c = 0; c < channels; ++c) {
            const int8_t *value = values + c;
            for (k = 0; k < multiplier; k += 4) {
                const int32_t oc = c * multiplier + k;
                dw_quad quad = quad_biases(layer, oc);
                for (fy = 0; fy < rows; ++fy) {
                    quad = quad_row_3_shared(quad, value + fy * row_step, channels, weights + oc + fy * weight_row,
                                             out_c, offset);
                }
                words[k / 4] = quad_word(layer, oc, quad, mode);
            }
            for (k = 0; k < multiplier; k += 4) {
                md_write32(out + c * multiplier + k, words[k / 4]);
            }
        }
    }
}

static MD_NOINLINE void stream_run_multiplier(const depthwise_int_job *job, const md_dsp_requant *layer,
                                              const dw_run *run, int8_t *out, int mode)
{
    switch (mode) {
    case MD_DSP_NARROW_INT8:
        stream_run_multiplier_with(job, layer, run, out, MD_DSP_NARROW_INT8);
        break;
    case MD_DSP_NARROW:
        stream_run_multiplier_with(job, layer, run, out, MD_DSP_NARROW);
        break;
    default:
        stream_run_multiplier_with(job, layer, run, out, MD_DSP_GENERAL);
        break;
    }
}

/* The outputs [*first, *last) along one axis whose undilated 3-tap windows lie inside `size`. */
static void inside_3(int32_t outputs, int32_t stride, int32_t pad, int32_t size, int32_t *first, int32_t *last)
{
    *first = md_min_i32((pad + stride - 1) / stride, outputs);
    *last = md_max_i32(*first, md_min_i32(outputs, size - 3 + pad >= 0 ? (size - 3 + pad) / stride + 1 : 0));
}

/* The run of output row oy from column `first` to `last` (their windows inside the image's
 * columns): its filter rows inside the image (rows 0 when none is). */
static dw_run row_run(const depthwise_int_job *job, const int8_t *image, int32_t oy, int32_t first, int32_t last)
{
    const md_window_params *p = job->p;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(first, p->stride_w, p->pad_left);
    const int32_t fy_first = md_max_i32(-y0, 0);
    dw_run run;
    run.rows = md_max_i32(md_min_i32(3, p->input_h - y0) - fy_first, 0);
    run.values = run.rows ? image + ((y0 + fy_first) * p->input_w + x0) * p->input_c : image;
    run.weights = job->filter + fy_first * 3 * p->output_c;
    run.count = last - first;
    run.step = p->stride_w * p->input_c;
    return run;
}

/* Pixel by pixel; within a pixel, output channels are written after their windows are read, as
 * the streaming contract requires. Undilated 3x3 windows go a row at a time (a channel count that
 * is a multiple of 4: stream_row_3x3; a depth multiplier: a run of the windows inside the image's
 * columns over their filter rows inside it). */
static void stream_s8(const depthwise_int_job *job, const int8_t *input)
{
    const md_window_params *p = job->p;
    const md_dsp_requant layer = layer_requant(job);
    const int32_t taps = p->filter_h * p->filter_w;
    const int mode = md_dsp_mode(
        md_dsp_narrow_layer((const int32_t *)job->bias, job->shifts, p->output_c, p->per_channel, taps) &&
            foldable_shifts(job->shifts, p->per_channel ? p->output_c : 1),
        p->act_min, p->act_max);
    const int undilated_3x3 = p->filter_h == 3 && p->filter_w == 3 && p->dilation_h == 1 && p->dilation_w == 1;
    /* (a depth multiplier here is a multiple of 4: md_depthwise_s8) */
    const int multiplied = p->output_c != p->input_c;
    const int rows_3x3 = undilated_3x3 && !multiplied && p->input_c % 4 == 0;
    const int runs = undilated_3x3 && multiplied;
    int8_t *out = (int8_t *)job->output;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t x_first;
    int32_t x_last;
    inside_3(p->output_w, p->stride_w, p->pad_left, p->input_w, &x_first, &x_last);
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            if (rows_3x3) {
                stream_row_3x3(job, &layer, image, oy, out, mode);
                out += p->output_w * p->output_c;
                continue;
            }
            for (ox = 0; ox < p->output_w; ++ox, out += p->output_c) {
                if (runs && ox == x_first && x_last > x_first) {
                    const dw_run run = row_run(job, image, oy, x_first, x_last);
                    if (run.rows > 0) {
                        stream_run_multiplier(job, &layer, &run, out, mode);
                        ox += run.count - 1;
                        out += (run.count - 1) * p->output_c;
                        continue;
                    }
                }
                {
                    const dw_pixel px = pixel_taps(job, image, oy, ox);
                    if (multiplied) {
                        stream_pixel_multiplier(job, &layer, &px, out, mode);
                    } else {
                        stream_pixel(job, &layer, &px, out, mode);
                    }
                }
            }
        }
    }
}

/* ------------------------------------------------------------------ padded planes */

/* A channel plane with its padding: `width` bytes a row. */
typedef struct {
    int8_t *bytes;
    int32_t rows, width;
} dw_plane;

/* Where a plane's rows and columns lie in the layer's tensors: bytes between the values of one
 * channel along a plane row (column) and across rows, in the input and in the output, and
 * between the filter's taps. As the image is, or transposed (a plane row an image column: a tall
 * narrow image such as kws' 25x5 then takes rows of 2x2 blocks 25 wide, not 5). */
typedef struct {
    int32_t in_column, in_row;
    int32_t out_column, out_row;
    int32_t tap_column, tap_row;
} dw_steps;

static dw_steps image_steps(const md_window_params *p)
{
    dw_steps s;
    s.in_column = p->input_c;
    s.in_row = p->input_w * p->input_c;
    s.out_column = p->output_c;
    s.out_row = p->output_w * p->output_c;
    s.tap_column = p->output_c;
    s.tap_row = p->filter_w * p->output_c;
    return s;
}

static dw_steps transposed_steps(const dw_steps *s)
{
    dw_steps t;
    t.in_column = s->in_row;
    t.in_row = s->in_column;
    t.out_column = s->out_row;
    t.out_row = s->out_column;
    t.tap_column = s->tap_row;
    t.tap_row = s->tap_column;
    return t;
}

/* The layer's geometry with rows and columns swapped. */
static md_window_params transposed_params(const md_window_params *p)
{
    md_window_params t = *p;
    t.input_h = p->input_w, t.input_w = p->input_h;
    t.filter_h = p->filter_w, t.filter_w = p->filter_h;
    t.output_h = p->output_w, t.output_w = p->output_h;
    t.stride_h = p->stride_w, t.stride_w = p->stride_h;
    t.dilation_h = p->dilation_w, t.dilation_w = p->dilation_h;
    t.pad_top = p->pad_left, t.pad_left = p->pad_top;
    return t;
}

static dw_plane padded_plane(const md_window_params *p, int8_t *scratch)
{
    dw_plane plane;
    plane.bytes = scratch;
    plane.rows = md_padded_extent(p->input_h, p->output_h, p->stride_h, p->pad_top, p->filter_h, p->dilation_h);
    plane.width = md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, p->dilation_w);
    return plane;
}

/* Four values `channels` bytes apart into four bytes, as one word (the loads back to back). */
static MD_ALWAYS_INLINE void copy_4(int8_t *to, const int8_t *source, int32_t channels)
{
    const uint32_t a = (uint8_t)source[0], b = (uint8_t)source[channels];
    const uint32_t d = (uint8_t)source[2 * channels], e = (uint8_t)source[3 * channels];
    md_write32(to, (a | (b << 8)) | ((d | (e << 8)) << 16));
}

/* The values `step` bytes apart from *source on into `to` .. `end` (8 bytes at a time), *source moved
 * past them: in assembly, each word's 4 loads back to back after the last word's store (the M4
 * pipelines them all). */
#define DW_GATHER_WORD \
    "ldrb %[a], [%[from]]\n\t" \
    "ldrb %[b], [%[from], %[step]]\n\t" \
    "ldrb %[c], [%[from], %[step], lsl #1]\n\t" \
    "ldrb %[d], [%[from], %[step3]]\n\t" \
    "add %[from], %[from], %[step], lsl #2\n\t" \
    "orr %[a], %[a], %[b], lsl #8\n\t" \
    "orr %[c], %[c], %[d], lsl #8\n\t" \
    "orr %[a], %[a], %[c], lsl #16\n\t" \
    "str %[a], [%[to]], #4\n\t"

static MD_ALWAYS_INLINE int8_t *gather_8s(int8_t *to, const int8_t **source, int32_t step, int8_t *end)
{
    const int8_t *from = *source;
    uint32_t a;
    uint32_t b;
    uint32_t c;
    uint32_t d;
    __asm__ volatile("1:\n\t" DW_GATHER_WORD DW_GATHER_WORD "cmp %[to], %[end]\n\t"
                     "bne 1b\n"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [from] "+r"(from), [to] "+r"(to)
                     : [step] "r"(step), [step3] "r"(3 * step), [end] "r"(end)
                     : "memory", "cc");
    *source = from;
    return to;
}

/* The last `count` (1 to 7) values of a row, `step` bytes apart from `source` on, into `to`. */
static MD_ALWAYS_INLINE void copy_tail(int8_t *to, const int8_t *source, int32_t step, int32_t count)
{
    if (count >= 4) {
        copy_4(to, source, step);
        to += 4, source += 4 * step, count -= 4;
    }
    if (count >= 2) { /* two values as one halfword (vww's rows of 6) */
        const uint16_t pair = (uint16_t)((uint8_t)source[0] | ((uint32_t)(uint8_t)source[step] << 8));
        memcpy(to, &pair, sizeof pair);
        to += 2, source += 2 * step, count -= 2;
    }
    if (count) {
        *to = *source;
    }
}

/* Channel c of an image into the plane's inside (`p` and `steps` in the plane's orientation), eight
 * bytes of a row at a time, then the rest; the padding keeps what the layer set there. */
static MD_NOINLINE void copy_plane(const md_window_params *p, const dw_steps *steps, const int8_t *image, int32_t c,
                                   const dw_plane *plane)
{
    /* Locals: stores to int8 may alias *p, which would reload it every pixel. */
    const int32_t height = p->input_h;
    const int32_t whole = p->input_w & ~7, tail = p->input_w & 7;
    const int32_t step = steps->in_column, row_step = steps->in_row;
    const int32_t width = plane->width;
    const int8_t *first = image + c;
    int8_t *row = plane->bytes + p->pad_top * width + p->pad_left;
    int8_t *const last = row + height * width;
    for (; row != last; row += width, first += row_step) {
        const int8_t *source = first;
        int8_t *to = row;
        if (whole) {
            to = gather_8s(to, &source, step, row + whole);
        }
        if (md_unlikely(tail)) {
            copy_tail(to, source, step, tail);
        }
    }
}

/* Runs of 4 pixels' words at `from`, `step` bytes apart, into channel words at `to` (bytes 0 of the
 * pixels), `to` + size (bytes 1), `far` = `to` + 2 size (2) and `far` + size (3) until `to` is `end`
 * (at least one run): the bytes of pixels 0 and 1 (2 and 3) interleaved by SEL (GE set once to take
 * bytes 0 and 2 from its first operand, the other word shifted by a byte), then their halfwords
 * paired (PKHBT, PKHTB): 12 data instructions a run. */
static MD_ALWAYS_INLINE void transpose_runs(const int8_t *from, int8_t *to, int8_t *far, const int8_t *end,
                                            int32_t step, int32_t size)
{
    uint32_t a;
    uint32_t b;
    uint32_t d;
    uint32_t e;
    uint32_t x;
    uint32_t y;
    __asm__ volatile("mov %[a], #0x50000\n\t" /* GE = 0b0101 */
                     "msr APSR_g, %[a]\n"
                     "1:\n\t"
                     "add %[x], %[from], %[step], lsl #1\n\t" /* the loads back to back (the M4 pipelines them) */
                     "ldr %[a], [%[from]]\n\t"
                     "ldr %[d], [%[from], %[step]]\n\t"
                     "ldr %[b], [%[x]]\n\t"
                     "ldr %[e], [%[x], %[step]]\n\t"
                     "add %[from], %[from], %[step], lsl #2\n\t"
                     /* no shift or SEL result read by the instruction right after it (the M33 waits a cycle) */
                     "lsl %[y], %[d], #8\n\t"
                     "lsr %[x], %[a], #8\n\t"
                     "sel %[y], %[a], %[y]\n\t" /* {a0, d0, a2, d2} */
                     "sel %[x], %[x], %[d]\n\t" /* {a1, d1, a3, d3} */
                     "lsl %[d], %[e], #8\n\t"
                     "lsr %[a], %[b], #8\n\t"
                     "sel %[d], %[b], %[d]\n\t" /* {b0, e0, b2, e2} */
                     "sel %[a], %[a], %[e]\n\t" /* {b1, e1, b3, e3} */
                     "pkhbt %[e], %[y], %[d], lsl #16\n\t" /* channel 0 */
                     "pkhtb %[y], %[d], %[y], asr #16\n\t" /* 2 */
                     "pkhbt %[d], %[x], %[a], lsl #16\n\t" /* 1 */
                     "pkhtb %[a], %[a], %[x], asr #16\n\t" /* 3 */
                     "str %[d], [%[to], %[size]]\n\t"
                     "str %[e], [%[to]], #4\n\t"
                     "str %[a], [%[far], %[size]]\n\t"
                     "str %[y], [%[far]], #4\n\t"
                     "cmp %[to], %[end]\n\t"
                     "bne 1b\n\t"
                     : [a] "=&r"(a), [b] "=&r"(b), [d] "=&r"(d), [e] "=&r"(e), [x] "=&r"(x), [y] "=&r"(y),
                       [from] "+r"(from), [to] "+r"(to), [far] "+r"(far)
                     : [step] "r"(step), [size] "r"(size), [end] "r"(end)
                     : "memory", "cc");
}

/* Channels c..c+3 of an image (a depth of 4k: one word a pixel) into the insides of 4 planes `size`
 * bytes apart, as copy_plane does one: 4 pixels at a time (transpose_runs), a row's last 1 to 3 pixels a
 * word each, stored byte by byte. */
static MD_NOINLINE void copy_planes_4(const md_window_params *p, const dw_steps *steps, const int8_t *image,
                                      int32_t c, const dw_plane *plane, int32_t size)
{
    const int32_t height = p->input_h;
    const int32_t whole = p->input_w & ~3, tail = p->input_w & 3;
    const int32_t step = steps->in_column, row_step = steps->in_row;
    const int32_t width = plane->width;
    const int8_t *first = image + c;
    int8_t *row = plane->bytes + p->pad_top * width + p->pad_left;
    int8_t *const last = row + height * width;
    int32_t i;
    for (; row != last; row += width, first += row_step) {
        const int8_t *source = first;
        int8_t *to = row + whole;
        if (whole) {
            transpose_runs(first, row, row + 2 * size, to, step, size);
            source += whole * step;
        }
        for (i = 0; i < tail; ++i, ++to, source += step) {
            const uint32_t a = md_read32(source);
            to[0] = (int8_t)a;
            to[size] = (int8_t)(a >> 8);
            to[2 * size] = (int8_t)(a >> 16);
            to[3 * size] = (int8_t)(a >> 24);
        }
    }
}

static inline int32_t halfword_pair(int32_t low, int32_t high)
{
    return (int32_t)(((uint32_t)low & 0xFFFFu) | ((uint32_t)high << 16));
}

/* One channel's 3x3 weights as the SMLAD pairs of the word {x0, x1, x2, x3} read at a window's
 * first tap of each row: even {w0, w2}, odd {w1, 0}. */
typedef struct {
    int32_t even[3], odd[3];
} dw_filter_3x3;

static dw_filter_3x3 filter_3x3(const int8_t *weights, int32_t step)
{
    dw_filter_3x3 f;
    int32_t fy;
    for (fy = 0; fy < 3; ++fy) {
        f.even[fy] = halfword_pair(weights[3 * fy * step], weights[(3 * fy + 2) * step]);
        f.odd[fy] = halfword_pair(weights[(3 * fy + 1) * step], 0);
    }
    return f;
}

/* sum + the products of the 3 taps at the word's bytes 0..2 with one filter row. */
static inline int32_t row_mac(uint32_t word, uint32_t offsets, int32_t even, int32_t odd, int32_t sum)
{
    sum = __smlad(md_even_pair_add((int16x2_t)offsets, word), (int16x2_t)even, sum);
    return __smlad(md_odd_pair_add((int16x2_t)offsets, word), (int16x2_t)odd, sum);
}

/* Both outputs a word serves: taps at bytes 0..2 into *a, at bytes 1..3 into *b, whose pairs are
 * even {0, w1} (odd swapped: SMLADX) and odd {w0, w2} (even). */
static inline void row_mac_pair(uint32_t word, uint32_t offsets, int32_t even, int32_t odd, int32_t *a, int32_t *b)
{
    const int16x2_t values_even = md_even_pair_add((int16x2_t)offsets, word);
    const int16x2_t values_odd = md_odd_pair_add((int16x2_t)offsets, word);
    *a = __smlad(values_even, (int16x2_t)even, *a);
    *a = __smlad(values_odd, (int16x2_t)odd, *a);
    *b = __smladx(values_even, (int16x2_t)odd, *b);
    *b = __smlad(values_odd, (int16x2_t)even, *b);
}

/* Output plane of one channel from its padded plane, undilated 3x3 windows. */
/* Output plane of one channel from its padded plane, undilated 3x3 windows. */
static MD_NOINLINE void plane_3x3(const md_window_params *p, const dw_plane *plane, const dw_filter_3x3 *f,
                                  const dw_requant *requant, int8_t *output)
{
    const dw_requant r = *requant;
    const int32_t even0 = f->even[0], odd0 = f->odd[0];
    const int32_t even1 = f->even[1], odd1 = f->odd[1];
    const int32_t even2 = f->even[2], odd2 = f->odd[2];
    const uint32_t offsets = offset_pair(p);
    const int32_t width = plane->width;
    const int32_t out_w = p->output_w;
    const int32_t out_step = p->output_c;
    const int32_t stride_w = p->stride_w;
    const int32_t pairs = stride_w == 1 ? out_w / 2 : 0;
    const int32_t out_h = p->output_h;
    const int32_t row_step = p->stride_h * width;
    const int8_t *row = plane->bytes;
    int32_t oy;
    int32_t i;
    for (oy = 0; oy < out_h; ++oy, row += row_step) {
        const int8_t *window = row;
        int8_t *out = output + oy * out_w * out_step;
        for (i = 0; i < pairs; ++i, window += 2, out += 2 * out_step) {
            int32_t a = r.bias;
            int32_t b = r.bias;
            row_mac_pair(md_read32(window), offsets, even0, odd0, &a, &b);
            row_mac_pair(md_read32(window + width), offsets, even1, odd1, &a, &b);
            row_mac_pair(md_read32(window + 2 * width), offsets, even2, odd2, &a, &b);
            out[0] = requantize(&r, a);
            out[out_step] = requantize(&r, b);
        }
        for (i = 2 * pairs; i < out_w; ++i, window += stride_w, out += out_step) {
            int32_t sum = row_mac(md_read32(window), offsets, even0, odd0, r.bias);
            sum = row_mac(md_read32(window + width), offsets, even1, odd1, sum);
            *out = requantize(&r, row_mac(md_read32(window + 2 * width), offsets, even2, odd2, sum));
        }
    }
}

/* ---- planes of a narrow layer (md_dsp_narrow_layer, shifts down to -DW_FOLD_SHIFT): folded constants */

/* Outputs of a plane computed before any is requantized, then requantized in a loop of their own
 * (416 bytes of stack: two row pairs of 2x2 blocks 52 columns wide, kws' transposed 25 in one call). */
#define DW_CHUNK 104

/* One channel's 3x3 filter and requantization, folded so that each output costs a few instructions:
 * - the sums are doubled (weights doubled in their halfword pairs, which |2w| <= 256 fits), the
 *   doubled sum being what SMMULR takes (md_dsp_requantize_mode);
 * - the input offset times the weights' sum is in the start of each sum, so the plane's raw bytes
 *   are multiplied (its padding is the zero point, which then adds offset * w - offset * w = 0);
 * - the rounding shift's half and the output offset are one addend before the shift:
 *   floor((y - [y < 0] + 2^(e-1) + offset * 2^e) / 2^e) = md_rdbpot(y, e) + offset. */
typedef struct md_dw_folded {
    int32_t even[3];    /* rows 0..2: {2 w0, 2 w2} */
    int32_t middle01;   /* {2 w1} of rows 0 and 1 */
    int32_t middle2;    /* {2 w1, 0} of row 2 */
    int32_t start;      /* 2 * (bias + input offset * sum of the 9 weights) */
    int32_t multiplier, exponent, addend;
} dw_folded; /* 36 bytes: the assembly steps from one plane's to the next by #36; the clamp is the layer's */

/* `weights` at the channel's first tap, `steps` in the plane's orientation. Inlined in each caller
 * (a call a channel costs the small planes more than the copy of its code). */
static MD_ALWAYS_INLINE dw_folded fold_3x3(const md_window_params *p, const dw_steps *steps, const int8_t *weights, const dw_requant *r)
{
    const int32_t column = steps->tap_column, row = steps->tap_row;
    dw_folded f;
    int32_t total = 0;
    int32_t fy;
    for (fy = 0; fy < 3; ++fy) {
        const int8_t *taps = weights + fy * row;
        total += taps[0] + taps[column] + taps[2 * column];
        f.even[fy] = halfword_pair(2 * taps[0], 2 * taps[2 * column]);
    }
    f.middle01 = halfword_pair(2 * weights[column], 2 * weights[row + column]);
    f.middle2 = halfword_pair(2 * weights[2 * row + column], 0);
    f.start = 2 * (r->bias + p->input_offset * total);
    f.multiplier = r->multiplier;
    f.exponent = -r->shift;
    f.addend = folded_addend(f.exponent, r->offset);
    return f;
}

/* One filter row of 4 channels: the 3 taps' words (a byte a channel) as halfword pairs of channels
 * {c + half, c + half + 2} (`pairs` their SXTB16, rotated by a byte for half 1), doubled and paired
 * across taps into the two channels' dw_folded; the middle tap's doubled pair and the weights' sums
 * (|9 * -128| fits a halfword) returned. */
static MD_ALWAYS_INLINE int16x2_t fold_row_4(int16x2_t left, int16x2_t centre, int16x2_t right, dw_folded *low,
                                             dw_folded *high, int32_t fy, int16x2_t *total)
{
    const int16x2_t l = __sadd16(left, left), r = __sadd16(right, right);
    *total = __sadd16(*total, __sadd16(left, __sadd16(centre, right)));
    low->even[fy] = bottoms(l, r);
    high->even[fy] = tops(l, r);
    return __sadd16(centre, centre);
}

/* A pair of channels' middle taps and the start of their sums (the weights' sum until fold_3x3_4's end). */
static MD_ALWAYS_INLINE void fold_middles(const int16x2_t *middle, int16x2_t total, dw_folded *low, dw_folded *high)
{
    low->middle01 = bottoms(middle[0], middle[1]);
    high->middle01 = tops(middle[0], middle[1]);
    low->middle2 = (int32_t)((uint32_t)middle[2] & 0xFFFFu);
    high->middle2 = (int32_t)((uint32_t)middle[2] >> 16);
    low->start = (int16_t)((uint32_t)total & 0xFFFFu);
    high->start = (int16_t)((uint32_t)total >> 16);
}

/* fold_3x3 of channels c..c+3 at once (a depth of 4k): a tap's word holds the 4 channels' weights,
 * split into halfword pairs of channels {c, c+2} (SXTB16) and {c+1, c+3} (rotated by a byte). */
static MD_NOINLINE void fold_3x3_4(const md_window_params *p, const dw_steps *steps, const depthwise_int_job *job,
                                   int32_t c, dw_folded *f)
{
    const int32_t column = steps->tap_column, row = steps->tap_row;
    const int8_t *taps = job->filter + c;
    int16x2_t middle_even[3], middle_odd[3];
    int16x2_t total_even = (int16x2_t)0, total_odd = (int16x2_t)0;
    int32_t fy;
    int32_t j;
    for (fy = 0; fy < 3; ++fy, taps += row) {
        const uint32_t left = md_read32(taps), centre = md_read32(taps + column), right = md_read32(taps + 2 * column);
        middle_even[fy] = fold_row_4(md_even_pair(left), md_even_pair(centre), md_even_pair(right), f, f + 2, fy,
                                     &total_even);
        middle_odd[fy] = fold_row_4(md_odd_pair(left), md_odd_pair(centre), md_odd_pair(right), f + 1, f + 3, fy,
                                    &total_odd);
    }
    fold_middles(middle_even, total_even, f, f + 2);
    fold_middles(middle_odd, total_odd, f + 1, f + 3);
    for (j = 0; j < 4; ++j) {
        const dw_requant r = channel_requant(job, c + j);
        f[j].start = 2 * (r.bias + p->input_offset * f[j].start);
        f[j].multiplier = r.multiplier;
        f[j].exponent = -r.shift;
        f[j].addend = folded_addend(f[j].exponent, r.offset);
    }
}

/* The folded constants of channels c..c+count-1 (count 4 or 1): from `given`, the layer's record made
 * at generate time (params/requantization.py fold_records: dw_folded's values channel after channel,
 * in the planes' orientation), else folded here into `local`. */
static MD_ALWAYS_INLINE const dw_folded *channel_folds(const md_window_params *p, const dw_steps *steps,
                                                       const depthwise_int_job *job, const int32_t *given,
                                                       int32_t c, int32_t count, dw_folded *local)
{
    if (given) {
        return (const dw_folded *)(const void *)given + c;
    }
    if (count == 4) {
        fold_3x3_4(p, steps, job, c, local);
    } else {
        const dw_requant r = channel_requant(job, c);
        local[0] = fold_3x3(p, steps, job->filter + c, &r);
    }
    return local;
}

/* One row of a pair of windows: the word {x0, x1, x2, x3} at `load` unpacked to even {x0, x2} and
 * odd {x1, x3}; the window at x0 (a) adds even . {w0, w2} + x1 w1, the one at x1 (b) adds
 * odd . {w0, w2} + x2 w1, w1 in half `half` (b or t) of `middle`. */
#define DW_PAIR_ROW(load, from_a, from_b, row_even, middle, half) \
    "ldr %[odd], " load "\n\t" \
    "sxtb16 %[even], %[odd]\n\t" \
    "sxtb16 %[odd], %[odd], ror #8\n\t" \
    "smlad %[a], %[even], %[" row_even "], %[" from_a "]\n\t" \
    "smlad %[b], %[odd], %[" row_even "], %[" from_b "]\n\t" \
    "smlab" half " %[a], %[odd], %[" middle "], %[a]\n\t" \
    "smlat" half " %[b], %[even], %[" middle "], %[b]\n\t"

/* The doubled sums of `pairs` pairs of windows at stride 1 from `at` on, rows `width` bytes apart,
 * stored in order: a pair's 18 products from 3 words in 24 instructions
 * (in C, GCC spills the weights). */
static MD_NOINLINE void folded_pairs(const int8_t *at, int32_t *sums, int32_t pairs, int32_t width, const dw_folded *f)
{
    const int32_t even0 = f->even[0], even1 = f->even[1], even2 = f->even[2];
    const int32_t middle01 = f->middle01, middle2 = f->middle2;
    const int32_t *end = sums + 2 * pairs;
    int32_t a;
    int32_t b;
    int32_t even;
    int32_t odd;
    if (pairs <= 0) {
        return;
    }
    __asm__ volatile("1:\n\t"
                     DW_PAIR_ROW("[%[at]]", "start", "start", "even0", "middle01", "b")
                     DW_PAIR_ROW("[%[at], %[width]]", "a", "b", "even1", "middle01", "t")
                     DW_PAIR_ROW("[%[at], %[width], lsl #1]", "a", "b", "even2", "middle2", "b")
                     "strd %[a], %[b], [%[sums]], #8\n\t"
                     "adds %[at], %[at], #2\n\t"
                     "cmp %[sums], %[end]\n\t"
                     "bne 1b\n"
                     : [a] "=&r"(a), [b] "=&r"(b), [even] "=&r"(even), [odd] "=&r"(odd), [at] "+r"(at),
                       [sums] "+r"(sums)
                     : [width] "r"(width), [end] "r"(end), [even0] "r"(even0), [even1] "r"(even1),
                       [even2] "r"(even2), [middle01] "r"(middle01), [middle2] "r"(middle2), [start] "r"(f->start)
                     : "memory", "cc");
}

/* The doubled sum of the window at `at` (rows `width` bytes apart). */
static inline int32_t folded_single(const int8_t *at, int32_t width, const dw_folded *f)
{
    const uint32_t top = md_read32(at), middle = md_read32(at + width), bottom = md_read32(at + 2 * width);
    int32_t sum = __smlad(md_even_pair(top), (int16x2_t)f->even[0], f->start);
    sum = __smlabb((int32_t)md_odd_pair(top), f->middle01, sum);
    sum = __smlad(md_even_pair(middle), (int16x2_t)f->even[1], sum);
    sum = __smlabt((int32_t)md_odd_pair(middle), f->middle01, sum);
    sum = __smlad(md_even_pair(bottom), (int16x2_t)f->even[2], sum);
    return __smlabb((int32_t)md_odd_pair(bottom), f->middle2, sum);
}

/* The doubled sums of `count` windows `stride` bytes apart from `window` on,
 * rows `width` bytes apart: at stride 1 in pairs (folded_pairs: `count` rounded up to even), else
 * one by one. */
static MD_NOINLINE void folded_row(const int8_t *window, int32_t count, int32_t stride, int32_t width,
                                   const dw_folded *f, int32_t *sums)
{
    int32_t i;
    if (stride == 1) {
        folded_pairs(window, sums, (count + 1) / 2, width, f);
        return;
    }
    for (i = 0; i < count; ++i) {
        sums[i] = folded_single(window + i * stride, width, f);
    }
}

static MD_ALWAYS_INLINE void folded_outputs_with(const int32_t *sums, int32_t rows, int32_t count, int32_t pitch,
                                                 const dw_folded *f, int32_t low, int32_t high, int8_t *out,
                                                 int32_t step, int32_t out_row, int full_range)
{
    const int32_t multiplier = f->multiplier, exponent = f->exponent, addend = f->addend;
    int32_t y;
    for (y = 0; y < rows; ++y, sums += pitch, out += out_row) {
        const int32_t *at = sums;
        const int32_t *end = sums + count - 1;
        int8_t *to = out;
        for (; at < end; at += 2, to += 2 * step) { /* two a time: one LDRD, one loop test */
            const int32_t a = at[0], b = at[1];
            to[0] = folded_output(a, multiplier, exponent, addend, low, high, full_range);
            to[step] = folded_output(b, multiplier, exponent, addend, low, high, full_range);
        }
        if (at == end) {
            *to = folded_output(*at, multiplier, exponent, addend, low, high, full_range);
        }
    }
}

/* `rows` rows of `count` outputs `step` bytes apart (rows `out_row` apart) from their doubled sums,
 * `pitch` a row. */
static MD_NOINLINE void folded_outputs(const int32_t *sums, int32_t rows, int32_t count, int32_t pitch,
                                       const dw_folded *f, const md_window_params *p, int8_t *out, int32_t step,
                                       int32_t out_row)
{
    const int32_t low = p->act_min, high = p->act_max;
    if (low == -128 && high == 127) {
        folded_outputs_with(sums, rows, count, pitch, f, low, high, out, step, out_row, 1);
    } else {
        folded_outputs_with(sums, rows, count, pitch, f, low, high, out, step, out_row, 0);
    }
}

/* ---- stride 1: 2x2 blocks of outputs */

/* md_dw_folded_blocks' constants, in the order it loads them. */
typedef struct {
    int32_t even0, even1, even2, middle01, middle2; /* dw_folded's */
    const int32_t *row_end;                         /* past the first row pair's sums */
    int32_t skip;                                   /* bytes from past a row pair's last block to the next's first */
    int32_t row_bytes;                              /* of a row pair's sums */
    const int32_t *end;                             /* past the last row pair's sums */
} dw_block_constants;

/* The doubled sums, less f->start, of rows of 2x2 blocks of outputs at stride 1 from `at` on (the
 * first block's top left window), the next block 2 bytes on, plane rows `width` bytes apart: 4
 * words of rows 0..3 serve 4 windows (rows 1 and 2 both output rows), 36 products in 24
 * multiplies; stored {top left, top right, bottom left, bottom right} a block, row pair after row
 * pair. In assembly: the loop takes every register (r12 and lr the unpacked row, the row and end
 * pointers on the stack). */
void md_dw_folded_blocks(const int8_t *at, int32_t *sums, int32_t width, const dw_block_constants *constants);

/* One input row's word at `load` into lr, then (DW_BLOCK_UNPACK) even {x0, x2} in r12 and odd
 * {x1, x3} in lr. The next row's load goes inside the multiplies of the row before (`then`, once
 * they no longer read lr): the M7 issues it beside a multiply and unpacks it without a load-use stall. */
#define DW_BLOCK_LOAD(load) "ldr lr, " load "\n\t"
/* DW_BLOCK_MACS (md_depthwise_dsp_int.h) of the first row: SMUAD, no accumulator. */
#define DW_BLOCK_FIRST(left, right, pair, middle, half, then) \
    "smuad " left ", r12, " pair "\n\t" \
    "smuad " right ", lr, " pair "\n\t" \
    "smlab" half " " left ", lr, " middle ", " left "\n\t" \
    then \
    "smlat" half " " right ", r12, " middle ", " right "\n\t"

/* r0 at, r1 sums, r2 width; filter rows {w0, w2} in r3..r5, {w1 of rows 0, 1} in r6, w1 of row 2 in
 * r7's bottom; sums top left, top right, bottom left, bottom right in r8..r11 (STM's order). */
__asm__(MD_ASM_FUNCTION("md_dw_folded_blocks")
                "push {r4-r11, lr}\n\t"
        "sub sp, sp, #16\n\t"
        "ldrd r4, r5, [r3, #20]\n\t"
        "strd r4, r5, [sp]\n\t"
        "ldrd r4, r5, [r3, #28]\n\t"
        "strd r4, r5, [sp, #8]\n\t"
        "ldm r3, {r3-r7}\n"
        "1:\n\t"
        DW_BLOCK_LOAD("[r0]")
        DW_BLOCK_UNPACK
        DW_BLOCK_FIRST("r8", "r9", "r3", "r6", "b", DW_BLOCK_LOAD("[r0, r2]"))
        DW_BLOCK_UNPACK
        "add r0, r0, r2, lsl #1\n\t"
        DW_BLOCK_MACS("r8", "r9", "r4", "r6", "t", "")
        DW_BLOCK_FIRST("r10", "r11", "r3", "r6", "b", DW_BLOCK_LOAD("[r0]"))
        DW_BLOCK_UNPACK
        DW_BLOCK_MACS("r8", "r9", "r5", "r7", "b", "")
        DW_BLOCK_MACS("r10", "r11", "r4", "r6", "t", DW_BLOCK_LOAD("[r0, r2]"))
        DW_BLOCK_UNPACK
        "sub r0, r0, r2, lsl #1\n\t"
        DW_BLOCK_MACS("r10", "r11", "r5", "r7", "b", "")
        "adds r0, r0, #2\n\t"
        "stmia r1!, {r8-r11}\n\t"
        "ldr r12, [sp]\n\t" /* the row pair's end */
        "cmp r1, r12\n\t"
        "bne 1b\n\t"
        "ldrd r12, lr, [sp, #4]\n\t" /* skip, row bytes */
        "add r0, r0, r12\n\t"
        "ldr r12, [sp]\n\t"
        "add r12, r12, lr\n\t"
        "str r12, [sp]\n\t"
        "ldr r12, [sp, #12]\n\t"
        "cmp r1, r12\n\t"
        "bne 1b\n\t"
        "add sp, sp, #16\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_folded_blocks, .-md_dw_folded_blocks\n\t"
        ".popsection");

/* ---- stride 2: 2x2 blocks of outputs */

/* md_dw_folded_blocks at stride 2 (the same constants): a block's windows start 2 bytes apart in
 * plane rows 0 and 2 (plane rows 0..4, row 2 shared by both output rows), the next block 4 bytes
 * on, the next row pair 4 plane rows down. Each window row is the word at its first tap:
 * {x0, x2} . {w0, w2} (SMLAD) + x1 w1; 10 words for 4 windows, row 2's serving both output rows. */
void md_dw_folded_blocks_s2(const int8_t *at, int32_t *sums, int32_t width, const dw_block_constants *constants);

/* The word in lr unpacked: even {x0, x2} in r12, odd {x1, x3} in lr. */
#define DW_S2_UNPACK \
    "sxtb16 r12, lr\n\t" \
    "sxtb16 lr, lr, ror #8\n\t"

/* One window row into `sum`: x1 w1 (DW_S2_ODD: SMLABx, w1 in half `half` of `middle`; DW_S2_ODD_FIRST
 * for the window's first row, SMULBx), then {x0, x2} . {w0, w2} in `pair` (DW_S2_EVEN: SMLAD), the
 * next word's load between them (lr is free once the odd products are taken). */
#define DW_S2_ODD(sum, middle, half) "smlab" half " " sum ", lr, " middle ", " sum "\n\t"
#define DW_S2_ODD_FIRST(sum, middle, half) "smulb" half " " sum ", lr, " middle "\n\t"
#define DW_S2_EVEN(sum, pair) "smlad " sum ", r12, " pair ", " sum "\n\t"

/* One plane row of both windows of an output row (`left`, then `right` 2 bytes on; `odd` DW_S2_ODD
 * or DW_S2_ODD_FIRST), r0 stepped to the next plane row between them. */
#define DW_S2_ROW(odd, left, right, middle, half, pair) \
    DW_S2_UNPACK odd(left, middle, half) "ldr lr, [r0, #2]\n\t" DW_S2_EVEN(left, pair) "add r0, r0, r2\n\t" \
    DW_S2_UNPACK odd(right, middle, half) "ldr lr, [r0]\n\t" DW_S2_EVEN(right, pair)

/* Registers as md_dw_folded_blocks'. Each word is loaded into lr while the previous one's last
 * multiply runs (no load-use stall on the M7, which issues the load beside it) and r0 walks down
 * the block's plane rows, stepped an instruction or more before the load that reads it (no
 * address stall on the M4); the next block's first word is loaded before the loop test. */
__asm__(MD_ASM_FUNCTION("md_dw_folded_blocks_s2")
                "push {r4-r11, lr}\n\t"
        "sub sp, sp, #16\n\t"
        "ldrd r4, r5, [r3, #20]\n\t"
        "strd r4, r5, [sp]\n\t"
        "ldrd r4, r5, [r3, #28]\n\t"
        "strd r4, r5, [sp, #8]\n\t"
        "ldm r3, {r3-r7}\n\t"
        "ldr lr, [r0]\n"
        "1:\n\t"
        /* row 0: the top windows' first row */
        DW_S2_ROW(DW_S2_ODD_FIRST, "r8", "r9", "r6", "b", "r3")
        /* row 1 */
        DW_S2_ROW(DW_S2_ODD, "r8", "r9", "r6", "t", "r4")
        /* row 2: the top windows' last row, the bottom windows' first */
        DW_S2_UNPACK
        DW_S2_ODD("r8", "r7", "b")
        DW_S2_ODD_FIRST("r10", "r6", "b")
        "ldr lr, [r0, #2]\n\t"
        DW_S2_EVEN("r8", "r5")
        DW_S2_EVEN("r10", "r3")
        "add r0, r0, r2\n\t"
        DW_S2_UNPACK
        DW_S2_ODD("r9", "r7", "b")
        DW_S2_ODD_FIRST("r11", "r6", "b")
        "ldr lr, [r0]\n\t"
        DW_S2_EVEN("r9", "r5")
        DW_S2_EVEN("r11", "r3")
        /* row 3 */
        DW_S2_ROW(DW_S2_ODD, "r10", "r11", "r6", "t", "r4")
        /* row 4, then r0 at the next block (4 rows up, 4 bytes on) */
        DW_S2_UNPACK
        DW_S2_ODD("r10", "r7", "b")
        "ldr lr, [r0, #2]\n\t"
        DW_S2_EVEN("r10", "r5")
        "sub r0, r0, r2, lsl #2\n\t"
        DW_S2_UNPACK
        DW_S2_ODD("r11", "r7", "b")
        "adds r0, r0, #4\n\t"
        DW_S2_EVEN("r11", "r5")
        "stmia r1!, {r8-r11}\n\t"
        "ldr lr, [r0]\n\t" /* inside the row pair's first plane row (its next block, or past its last) */
        "ldr r12, [sp]\n\t" /* the row pair's end */
        "cmp r1, r12\n\t"
        "bne 1b\n\t"
        "ldrd r12, lr, [sp, #4]\n\t" /* skip, row bytes */
        "add r0, r0, r12\n\t"
        "ldr r12, [sp]\n\t"
        "add r12, r12, lr\n\t"
        "str r12, [sp]\n\t"
        "ldr r12, [sp, #12]\n\t"
        "cmp r1, r12\n\t"
        "beq 2f\n\t"
        "ldr lr, [r0]\n\t"
        "b 1b\n"
        "2:\n\t"
        "add sp, sp, #16\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_folded_blocks_s2, .-md_dw_folded_blocks_s2\n\t"
        ".popsection");

/* The outputs of `count` columns of `pairs` row pairs (rows `out_row` bytes apart) from their
 * blocks' sums: a clamp inside int8's range (the whole of it: md_dw_fused_blocks at stride 1,
 * md_dw_block_outputs at stride 2). */
static void block_outputs(const int32_t *sums, int32_t pairs, int32_t count, const dw_folded *f, int32_t low,
                          int32_t high, int8_t *out, int32_t step, int32_t out_row)
{
    const int32_t start = f->start, multiplier = f->multiplier, exponent = f->exponent, addend = f->addend;
    int32_t pair;
    for (pair = 0; pair < pairs; ++pair, out += 2 * out_row) {
        const int32_t *end = sums + 4 * (count / 2);
        int8_t *to = out;
        for (; sums < end; sums += 4, to += 2 * step) {
            to[0] = folded_output(md_wrap_add(sums[0], start), multiplier, exponent, addend, low, high, 0);
            to[step] = folded_output(md_wrap_add(sums[1], start), multiplier, exponent, addend, low, high, 0);
            to[out_row] = folded_output(md_wrap_add(sums[2], start), multiplier, exponent, addend, low, high, 0);
            to[out_row + step] = folded_output(md_wrap_add(sums[3], start), multiplier, exponent, addend, low, high, 0);
        }
        if (count % 2) {
            to[0] = folded_output(md_wrap_add(sums[0], start), multiplier, exponent, addend, low, high, 0);
            to[out_row] = folded_output(md_wrap_add(sums[2], start), multiplier, exponent, addend, low, high, 0);
            sums += 4;
        }
    }
}

/* md_dw_block_outputs' constants, in the order it loads them. */
typedef struct {
    int32_t start, multiplier, exponent, addend; /* dw_folded's */
    int32_t step;                                /* bytes between output columns */
    int32_t out_row;                             /* bytes between output rows */
    int32_t block_bytes;                         /* of a row pair's blocks of two columns */
    int32_t odd;                                 /* 1: a last block of one column */
    int32_t pairs;                               /* row pairs */
    int32_t skip; /* bytes from past a row pair's last block of two columns to the next pair's first output */
} dw_output_constants;

/* block_outputs for the whole of int8's range (SSAT), in assembly: a block's 4 sums from one
 * LDM (GCC reloads them one by one), each 6 instructions then a byte store. */
void md_dw_block_outputs(const int32_t *sums, int8_t *out, const dw_output_constants *constants);

/* One output in register `sum`: r4 start, r5 multiplier, r6 exponent, r7 addend (folded_output). */
#define DW_BLOCK_OUTPUT(sum) \
    "add " sum ", " sum ", r4\n\t" \
    "smmulr " sum ", " sum ", r5\n\t" \
    "add " sum ", " sum ", " sum ", asr #31\n\t" \
    "add " sum ", " sum ", r7\n\t" \
    "asr " sum ", " sum ", r6\n\t" \
    "ssat " sum ", #8, " sum "\n\t"

/* DW_BLOCK_OUTPUT of r8..r11 (a block), their steps interleaved: the M7 issues each multiply with an
 * independent add of another output. */
#define DW_BLOCK_OUTPUTS \
    "add r8, r8, r4\n\t" \
    "add r9, r9, r4\n\t" \
    "smmulr r8, r8, r5\n\t" \
    "add r10, r10, r4\n\t" \
    "smmulr r9, r9, r5\n\t" \
    "add r11, r11, r4\n\t" \
    "smmulr r10, r10, r5\n\t" \
    "add r8, r8, r8, asr #31\n\t" \
    "smmulr r11, r11, r5\n\t" \
    "add r9, r9, r9, asr #31\n\t" \
    "add r8, r8, r7\n\t" \
    "add r10, r10, r10, asr #31\n\t" \
    "add r9, r9, r7\n\t" \
    "add r11, r11, r11, asr #31\n\t" \
    "asr r8, r8, r6\n\t" \
    "add r10, r10, r7\n\t" \
    "asr r9, r9, r6\n\t" \
    "add r11, r11, r7\n\t" \
    "ssat r8, #8, r8\n\t" \
    "asr r10, r10, r6\n\t" \
    "ssat r9, #8, r9\n\t" \
    "asr r11, r11, r6\n\t" \
    "ssat r10, #8, r10\n\t" \
    "ssat r11, #8, r11\n\t"

/* r0 sums, r1 the top row's output, r2 the bottom row's, r3 step, r8..r11 a block's sums, r12 the
 * row pair's end of blocks, lr the constants, the row pairs left on the stack. */
__asm__(MD_ASM_FUNCTION("md_dw_block_outputs")
                "push {r4-r11, lr}\n\t"
        "sub sp, sp, #8\n\t"
        "mov lr, r2\n\t"
        "ldr r12, [lr, #32]\n\t"
        "str r12, [sp]\n\t"
        "ldm lr, {r4-r7}\n\t"
        "ldr r3, [lr, #16]\n"
        "2:\n\t"
        "ldrd r2, r12, [lr, #20]\n\t" /* out_row, block bytes */
        "add r2, r1, r2\n\t"
        "add r12, r0, r12\n\t"
        "cmp r0, r12\n\t"
        "beq 4f\n"
        "1:\n\t"
        "ldm r0!, {r8-r11}\n\t"
        DW_BLOCK_OUTPUTS
        "strb r8, [r1]\n\t"
        "strb r9, [r1, r3]\n\t"
        "add r1, r1, r3, lsl #1\n\t"
        "strb r10, [r2]\n\t"
        "strb r11, [r2, r3]\n\t"
        "add r2, r2, r3, lsl #1\n\t"
        "cmp r0, r12\n\t"
        "bne 1b\n"
        "4:\n\t"
        "ldr r12, [lr, #28]\n\t" /* odd */
        "cmp r12, #0\n\t"
        "beq 5f\n\t"
        "ldm r0!, {r8-r11}\n\t"
        DW_BLOCK_OUTPUT("r8")
        DW_BLOCK_OUTPUT("r10")
        "strb r8, [r1]\n\t"
        "strb r10, [r2]\n"
        "5:\n\t"
        "ldr r12, [lr, #36]\n\t" /* skip */
        "add r1, r1, r12\n\t"
        "ldr r12, [sp]\n\t"
        "subs r12, r12, #1\n\t"
        "str r12, [sp]\n\t"
        "bne 2b\n\t"
        "add sp, sp, #8\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_block_outputs, .-md_dw_block_outputs\n\t"
        ".popsection");

/* The calls of plane_3x3_blocks over one column chunk: the assembly routines' constants, the
 * geometry set once (block_plan, plan_pairs), each channel's folded constants filled in (plan_fold). */
typedef struct {
    dw_block_constants constants;
    dw_output_constants outputs;
    int32_t count;        /* the chunk's columns */
    int32_t pairs_a_call; /* row pairs the DW_CHUNK sums hold */
    void (*blocks)(const int8_t *, int32_t *, int32_t, const dw_block_constants *); /* the stride's sums */
} dw_block_plan;

/* The plan of the column chunk from output column `first` on, the sums in `sums`. */
static dw_block_plan block_plan(const md_window_params *p, const dw_steps *steps, const dw_plane *plane,
                                int32_t first, int32_t *sums)
{
    const int32_t count = md_min_i32(DW_CHUNK / 2, p->output_w - first);
    const int32_t blocks = (count + 1) / 2;
    const int32_t stride = p->stride_w;
    dw_block_plan plan;
    plan.count = count;
    plan.pairs_a_call = DW_CHUNK / 4 / blocks;
    plan.blocks = stride == 2 ? md_dw_folded_blocks_s2 : md_dw_folded_blocks;
    plan.constants.row_end = sums + 4 * blocks;
    plan.constants.skip = 2 * stride * (plane->width - blocks);
    plan.constants.row_bytes = 16 * blocks;
    plan.outputs.step = steps->out_column;
    plan.outputs.out_row = steps->out_row;
    plan.outputs.block_bytes = 16 * (count / 2);
    plan.outputs.odd = count % 2;
    plan.outputs.skip = 2 * steps->out_row - 2 * steps->out_column * (count / 2);
    return plan;
}

/* The next calls take `pairs` row pairs (at most pairs_a_call). */
static void plan_pairs(dw_block_plan *plan, int32_t pairs, int32_t *sums)
{
    plan->outputs.pairs = pairs;
    plan->constants.end = sums + plan->constants.row_bytes / 4 * pairs;
}

static MD_ALWAYS_INLINE void plan_fold(dw_block_plan *plan, const dw_folded *f)
{
    plan->constants.even0 = f->even[0];
    plan->constants.even1 = f->even[1];
    plan->constants.even2 = f->even[2];
    plan->constants.middle01 = f->middle01;
    plan->constants.middle2 = f->middle2;
    plan->outputs.start = f->start;
    plan->outputs.multiplier = f->multiplier;
    plan->outputs.exponent = f->exponent;
    plan->outputs.addend = f->addend;
}

/* The plan's row pairs from the window at `at` (their top left one) into `out` (its output). */
static MD_ALWAYS_INLINE void block_call(const md_window_params *p, const dw_block_plan *plan, const int8_t *at,
                                        int32_t width, const dw_folded *f, int8_t *out, int32_t *sums)
{
    plan->blocks(at, sums, width, &plan->constants);
    if (p->act_min == -128 && p->act_max == 127) {
        md_dw_block_outputs(sums, out, &plan->outputs);
    } else {
        block_outputs(sums, plan->outputs.pairs, plan->count, f, p->act_min, p->act_max, out, plan->outputs.step,
                      plan->outputs.out_row);
    }
}

/* The row pairs of one channel's output plane at stride 1 or 2 (along both axes) from its padded
 * plane, folded: up to DW_CHUNK / 2 columns of as many row pairs as the DW_CHUNK `sums` hold in 2x2
 * blocks, then their outputs (a block past an odd last column is computed and left unused: its
 * windows read up to 1 (stride 1) or 3 (stride 2) bytes past the row, in the plane or PLANE_SLACK). */
static MD_NOINLINE void plane_3x3_blocks(const md_window_params *p, const dw_steps *steps, const dw_plane *plane,
                                         const dw_folded *f, int8_t *output, int32_t *sums)
{
    const int32_t width = plane->width;
    const int32_t stride = p->stride_w;
    const int32_t all_pairs = p->output_h / 2;
    const int32_t pair_bytes = 2 * stride * width, pair_out = 2 * steps->out_row; /* a row pair's */
    int32_t first;
    int32_t pair;
    for (first = 0; first < p->output_w; first += DW_CHUNK / 2) {
        dw_block_plan plan = block_plan(p, steps, plane, first, sums);
        const int32_t per_call = plan.pairs_a_call; /* row pairs */
        const int8_t *at = plane->bytes + stride * first;
        int8_t *out = output + first * steps->out_column;
        plan_fold(&plan, f);
        for (pair = 0; pair < all_pairs; pair += per_call, at += per_call * pair_bytes, out += per_call * pair_out) {
            plan_pairs(&plan, md_min_i32(per_call, all_pairs - pair), sums);
            block_call(p, &plan, at, width, f, out, sums);
        }
    }
}

/* Whether a stride-1 plane's outputs fit one strip of windows (plane_3x3_folded). */
static int strip_fits(const md_window_params *p, int32_t width)
{
    return p->output_h < 4 && p->output_h * width <= DW_CHUNK;
}

/* Whether a plane's output rows go in 2x2 blocks (plane_3x3_blocks): undilated 3x3 windows at
 * stride 1 (more rows than a strip) or 2, the same along both axes. */
static int in_blocks(const md_window_params *p, int32_t width)
{
    return p->stride_h == p->stride_w && (p->stride_w == 2 || (p->stride_w == 1 && !strip_fits(p, width)));
}

/* Whether a plane's row pairs take one call of each block routine (at most DW_CHUNK / 2 columns, as
 * many row pairs as the sums hold): their plan can be set once a layer. */
static int one_block_call(const md_window_params *p, int32_t width)
{
    return in_blocks(p, width) && p->output_h >= 2 &&
           p->output_w <= DW_CHUNK / 2 && p->output_h / 2 <= DW_CHUNK / 4 / ((p->output_w + 1) / 2);
}

/* Output rows `oy` on of one channel's plane one at a time: DW_CHUNK sums of a row (in pairs at
 * stride 1), then their outputs. */
static MD_NOINLINE void plane_3x3_rows(const md_window_params *p, const dw_steps *steps, const dw_plane *plane,
                                       const dw_folded *f, int8_t *output, int32_t oy, int32_t *sums)
{
    const int32_t out_w = p->output_w;
    const int32_t out_step = steps->out_column;
    const int32_t stride = p->stride_w;
    const int32_t width = plane->width;
    int32_t first;
    for (; oy < p->output_h; ++oy) {
        const int8_t *row = plane->bytes + oy * p->stride_h * width;
        int8_t *out = output + oy * steps->out_row;
        for (first = 0; first < out_w; first += DW_CHUNK) {
            const int32_t count = md_min_i32(DW_CHUNK, out_w - first);
            folded_row(row + first * stride, count, stride, width, f, sums); /* DW_CHUNK is even */
            folded_outputs(sums, 1, count, count, f, p, out + first * out_step, out_step, 0);
        }
    }
}

/* Output plane of one channel from its padded plane, undilated 3x3 windows, folded: at stride 1,
 * up to 3 rows of DW_CHUNK bytes in all as one strip of windows (those past a row's last output
 * computed and left unused: the last reads one byte past the strip's windows, in the plane or
 * PLANE_SLACK), more rows in 2x2 blocks (plane_3x3_blocks), as at stride 2; the other rows one
 * at a time (plane_3x3_rows). `sums` holds DW_CHUNK. */
static MD_NOINLINE void plane_3x3_folded(const md_window_params *p, const dw_steps *steps, const dw_plane *plane,
                                         const dw_folded *f, int8_t *output, int32_t *sums)
{
    const int32_t width = plane->width;
    int32_t oy = 0;
    if (p->stride_w == 1 && p->stride_h == 1 && strip_fits(p, width)) {
        const int32_t windows = (p->output_h - 1) * width + p->output_w; /* + 1 <= rows * width: width >= out_w + 2 */
        folded_pairs(plane->bytes, sums, (windows + 1) / 2, width, f);
        folded_outputs(sums, p->output_h, p->output_w, width, f, p, output, steps->out_column, steps->out_row);
        return;
    }
    if (in_blocks(p, width)) {
        plane_3x3_blocks(p, steps, plane, f, output, sums);
        oy = p->output_h / 2 * 2;
    }
    plane_3x3_rows(p, steps, plane, f, output, oy, sums);
}

/* ---- stride 1, the whole of int8's range: 2x2 blocks requantized as they are summed */

/* md_dw_fused_blocks' geometry, set once a layer: the planes' filters and requantization are their
 * dw_folded. */
typedef struct {
    int8_t *out;         /* the first plane's top left output (plane i's is `i` bytes on) */
    int32_t step;        /* bytes between output columns */
    int32_t out_row;     /* bytes between output rows */
    int32_t skip;        /* plane bytes from past a row pair's last block to the next's first */
    int32_t out_skip;    /* output bytes from past a row pair's last block of two columns to the next's */
    int32_t pairs;       /* row pairs, at least 1 */
    int32_t odd;         /* 1: a last block of one column */
    int32_t block_bytes; /* plane bytes of a row pair's blocks of two columns (at least 1 block) */
    int32_t planes;      /* planes one after the other, at least 1 */
    int32_t plane_bytes; /* from one plane to the next */
} dw_fused_geometry;

/* The outputs of `pairs` rows of 2x2 blocks at stride 1 (folded_output, SSAT) from the plane at
 * `at` (the first block's top left window), plane rows `width` bytes apart: each block's 4 sums
 * as md_dw_folded_blocks makes them but from dw_folded's start, then requantized and stored with
 * no round trip through memory. folded_output's rounding term y + (y >> 31) + addend takes the
 * sum's sign for y's (SMMULR keeps a sum's sign for a multiplier >= 0, and y = 0 rounds alike
 * either way), added before the multiply: one SMMLAR. In assembly: the block's multiplies take
 * every register (the exponent shares r7 with a weight); the requantization and the stores borrow
 * r1 (start), r12 and lr, then reload start from the stack. Plane i (geometry->planes of them,
 * plane_bytes apart) with folded[i]. */
void md_dw_fused_blocks(const int8_t *at, const dw_fused_geometry *geometry, int32_t width, const dw_folded *folded);

/* A block's sums in r8..r11 (r1 start, r3..r7 the filter, w1 of row 2 in r7's top, lr the top row's
 * word: DW_FUSED_NEXT), then r1 the multiplier. */
#define DW_FUSED_SUMS \
    DW_BLOCK_UNPACK \
    DW_FUSED_FIRST("r8", "r9", "r3", "r6", "b", DW_BLOCK_LOAD("[r0, r2]")) \
    DW_BLOCK_UNPACK \
    DW_BLOCK_MACS("r8", "r9", "r4", "r6", "t", "") \
    DW_FUSED_FIRST("r10", "r11", "r3", "r6", "b", DW_BLOCK_LOAD("[r0, r2, lsl #1]")) \
    DW_BLOCK_UNPACK \
    DW_BLOCK_MACS("r8", "r9", "r5", "r7", "t", "") \
    DW_BLOCK_MACS("r10", "r11", "r4", "r6", "t", "add lr, r0, r2\n\t") \
    DW_BLOCK_LOAD("[lr, r2, lsl #1]") \
    "ldr r1, [sp, #16]\n\t" /* the multiplier (start is spent): the M33 waits a cycle to unpack a loaded word */ \
    DW_BLOCK_UNPACK \
    DW_BLOCK_MACS("r10", "r11", "r5", "r7", "t", "")

/* The next block's top row word and start, the second load right after the first (the M4 pipelines
 * it), the word first (the M33 waits a cycle for a loaded word unpacked by the next instruction). */
#define DW_FUSED_NEXT \
    "ldr lr, [r0]\n\t" \
    "ldr r1, [sp, #12]\n\t"

/* A block's outputs stored, `out` moved one block on. */
/* (A shifted add's result is a cycle late on the M33: two stores before it is stored.) */
#define DW_FUSED_STORES \
    "strb r8, [r1]\n\t" \
    "strb r9, [r1, r12]\n\t" \
    "add r1, r1, r12, lsl #1\n\t" \
    "strb r10, [lr]\n\t" \
    "strb r11, [lr, r12]\n\t" \
    "str r1, [sp]\n\t"

/* One sum requantized but for its exponent: lr the term, r1 multiplier, r12 addend. The M7 issues
 * each multiply beside the next output's add. */
#define DW_FUSED_TERM(sum) \
    "add lr, r12, " sum ", asr #31\n\t" \
    "smmlar " sum ", " sum ", r1, lr\n\t"

/* md_dw_fused_blocks' `load` (DW_FUSED_TERMS): the multiplier already in r1 (DW_FUSED_SUMS), the
 * addend, `at` moved one block on between the addend's load and its use. */
#define DW_FUSED_LOAD \
    "ldr r12, [sp, #20]\n\t" \
    "adds r0, r0, #2\n\t"

/* r8..r11 requantized but for their exponent. `load` puts the multiplier in r1 and the addend in r12
 * and moves `at` (r0) one block on (the M33 waits a cycle for a loaded register read by the next
 * instruction: something goes between the addend's load and its use). */
#define DW_FUSED_TERMS(load) \
    load \
    DW_FUSED_TERM("r8") \
    DW_FUSED_TERM("r9") \
    DW_FUSED_TERM("r10") \
    DW_FUSED_TERM("r11")

/* r8..r11 requantized (r7's bottom byte the exponent), then r1 the block's top left output, r12
 * step, lr its bottom left. */
#define DW_FUSED_OUTPUTS(load) \
    DW_FUSED_TERMS(load) \
    "ldm sp, {r1, r12, lr}\n\t" \
    "asr r8, r8, r7\n\t" \
    "asr r9, r9, r7\n\t" \
    "ssat r8, #8, r8\n\t" \
    "asr r10, r10, r7\n\t" \
    "ssat r9, #8, r9\n\t" \
    "asr r11, r11, r7\n\t" \
    "ssat r10, #8, r10\n\t" \
    "add lr, r1, lr\n\t" \
    "ssat r11, #8, r11\n\t"

/* A block of two columns' outputs requantized and stored (DW_FUSED_OUTPUTS, DW_FUSED_STORES). The
 * Cortex-M7's: the stores between the shifts and saturations, each issued beside one of another
 * output (2 cycles a block fewer; the M4 would pay an address computed right before a store). */
#if MD_DUAL_ISSUE
#define DW_FUSED_BLOCK_OUTPUTS(load) \
    DW_FUSED_TERMS(load) \
    "ldm sp, {r1, r12, lr}\n\t" \
    "asr r8, r8, r7\n\t" \
    "asr r9, r9, r7\n\t" \
    "ssat r8, #8, r8\n\t" \
    "asr r10, r10, r7\n\t" \
    "ssat r9, #8, r9\n\t" \
    "strb r8, [r1]\n\t" \
    "asr r11, r11, r7\n\t" \
    "add lr, r1, lr\n\t" \
    "ssat r10, #8, r10\n\t" \
    "strb r9, [r1, r12]\n\t" \
    "ssat r11, #8, r11\n\t" \
    "strb r10, [lr]\n\t" \
    "add r1, r1, r12, lsl #1\n\t" \
    "strb r11, [lr, r12]\n\t" \
    "str r1, [sp]\n\t"
#else
#define DW_FUSED_BLOCK_OUTPUTS(load) DW_FUSED_OUTPUTS(load) DW_FUSED_STORES
#endif

/* r0 at, r2 width, r3..r7 the filter (and exponent); on the stack: the next block's output, step,
 * out_row, start, multiplier, addend, the row end, skip, out_skip, the row pairs left, odd, block
 * bytes (words 0..11: what the loop reads), then the planes left, the next plane's dw_folded, the
 * next plane, each plane's row pairs, its output and plane bytes. */
__asm__(MD_ASM_FUNCTION("md_dw_fused_blocks")
                "push {r4-r11, lr}\n\t"
        "sub sp, sp, #72\n\t"
        "ldm r1!, {r4-r6}\n\t" /* out, step, out_row */
        "str r4, [sp, #64]\n\t"
        "strd r5, r6, [sp, #4]\n\t"
        "ldm r1!, {r4-r8}\n\t" /* skip, out_skip, pairs, odd, block bytes */
        "strd r4, r5, [sp, #28]\n\t"
        "str r6, [sp, #60]\n\t"
        "strd r7, r8, [sp, #40]\n\t"
        "ldm r1, {r4, r5}\n\t" /* planes, plane bytes */
        "str r4, [sp, #48]\n\t"
        "str r5, [sp, #68]\n"
        "6:\n\t" /* r0 the plane, r3 its dw_folded */
        "ldr r12, [sp, #68]\n\t"
        "add r12, r0, r12\n\t"
        "str r12, [sp, #56]\n\t" /* the next plane */
        "add r12, r3, #36\n\t"
        "str r12, [sp, #52]\n\t" /* its dw_folded */
        "ldr r12, [sp, #64]\n\t"
        "str r12, [sp]\n\t"
        "add r12, r12, #1\n\t"
        "str r12, [sp, #64]\n\t" /* its output */
        "ldr r12, [sp, #60]\n\t"
        "str r12, [sp, #36]\n\t" /* row pairs */
        "ldrd r8, r9, [r3, #20]\n\t" /* start, multiplier */
        "ldrd r10, r11, [r3, #28]\n\t" /* exponent, addend */
        "str r8, [sp, #12]\n\t"
        "strd r9, r11, [sp, #16]\n\t"
        "ldr r7, [r3, #16]\n\t" /* {2 w1 of row 2, 0} */
        "pkhbt r7, r10, r7, lsl #16\n\t" /* {exponent, 2 w1 of row 2}: ASR reads the bottom byte */
        "ldm r3, {r3-r6}\n" /* even0..2, middle01 */
        "2:\n\t"
        "ldr r12, [sp, #44]\n\t" /* block bytes */
        DW_FUSED_NEXT
        "tst r12, #2\n\t" /* an odd count of blocks: the first in the loop's second half */
        "add r12, r0, r12\n\t"
        "str r12, [sp, #24]\n\t" /* row end */
        "bne 3f\n"
        "1:\n\t"
        DW_FUSED_SUMS
        DW_FUSED_BLOCK_OUTPUTS(DW_FUSED_LOAD)
        DW_FUSED_NEXT
        "3:\n\t"
        DW_FUSED_SUMS
        DW_FUSED_BLOCK_OUTPUTS(DW_FUSED_LOAD)
        "ldr r12, [sp, #24]\n\t"
        DW_FUSED_NEXT
        "cmp r0, r12\n\t"
        "bne 1b\n"
        "4:\n\t"
        "ldr r12, [sp, #40]\n\t" /* odd */
        "cmp r12, #0\n\t"
        "beq 5f\n\t"
        DW_FUSED_SUMS
        DW_FUSED_OUTPUTS(DW_FUSED_LOAD)
        "strb r8, [r1]\n\t"
        "strb r10, [lr]\n"
        "5:\n\t"
        "ldrd r1, r12, [sp, #28]\n\t" /* skip, out skip */
        "add r0, r0, r1\n\t"
        "ldr r1, [sp]\n\t"
        "add r1, r1, r12\n\t"
        "str r1, [sp]\n\t"
        "ldr r12, [sp, #36]\n\t" /* pairs */
        "subs r12, r12, #1\n\t"
        "str r12, [sp, #36]\n\t"
        "bne 2b\n\t"
        "ldr r12, [sp, #48]\n\t"
        "subs r12, r12, #1\n\t"
        "beq 7f\n\t"
        "str r12, [sp, #48]\n\t"
        "ldrd r3, r0, [sp, #52]\n\t"
        "b 6b\n"
        "7:\n\t"
        "add sp, sp, #72\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_fused_blocks, .-md_dw_fused_blocks\n\t"
        ".popsection");

/* The geometry of md_dw_fused_blocks over planes `plane_bytes` apart at stride 1 (at least 2 output
 * rows), set once a layer. */
static dw_fused_geometry fused_plan(const md_window_params *p, const dw_steps *steps, const dw_plane *plane,
                                    int32_t plane_bytes)
{
    const int32_t full = p->output_w / 2;
    const int32_t odd = p->output_w % 2;
    dw_fused_geometry g;
    g.out = NULL;
    g.step = steps->out_column;
    g.out_row = steps->out_row;
    g.skip = 2 * plane->width - 2 * (full + odd);
    g.out_skip = 2 * steps->out_row - 2 * steps->out_column * full;
    g.pairs = p->output_h / 2;
    g.odd = odd;
    g.block_bytes = 2 * full;
    g.planes = 1;
    g.plane_bytes = plane_bytes;
    return g;
}

/* Whether a folded layer's planes go through md_dw_fused_blocks (stride 1, no strip) or
 * md_dw_fused_blocks_s2 (stride 2, channels two at a time): rows in 2x2 blocks, at least one block
 * of two columns, the whole of int8's range, multipliers >= 0 (NULL: known to be). */
static int fused_layer(const md_window_params *p, int32_t width, const int32_t *multipliers)
{
    int32_t c;
    if (!in_blocks(p, width) || (p->stride_w == 2 && p->input_c < 2) || p->output_h < 2 || p->output_w < 2 ||
        p->act_min != -128 || p->act_max != 127) {
        return 0;
    }
    for (c = 0; multipliers != NULL && c < (p->per_channel ? p->output_c : 1); ++c) {
        if (multipliers[c] < 0) {
            return 0;
        }
    }
    return 1;
}

/* One channel's output plane (`output` at its first output) from its padded plane: the row pairs
 * fused, an odd last row alone (plane_3x3_rows). */
static MD_NOINLINE void plane_3x3_fused(const md_window_params *p, const dw_steps *steps, const dw_plane *plane,
                                        const dw_fused_geometry *layer, const dw_folded *f, int8_t *output,
                                        int32_t *sums)
{
    dw_fused_geometry g = *layer;
    g.out = output;
    md_dw_fused_blocks(plane->bytes, &g, plane->width, f);
    if (p->output_h % 2) {
        plane_3x3_rows(p, steps, plane, f, output, p->output_h - 1, sums);
    }
}

/* ---- stride 1, 6x6 output planes (vww's and person_detect's 6x6x128 layers): a group of 4 planes in one call */

/* A routine of 4 channels' 6x6 outputs (md_dw_fused_6x6, md_dw_fused_6x6_rolled): from their 8x8 padded
 * planes (64 bytes apart from `planes` on, word aligned; `folded` their dw_folded) at stride 1, into the
 * 36 pixels `step` bytes apart from `out` on (4 bytes each: the 4 channels, `out` at the first). As
 * md_dw_fused_blocks sums and requantizes its 2x2 blocks, but a plane's constants kept in registers for
 * its 9 blocks and each block's outputs stored into a word a pixel on the stack (byte k for plane k),
 * which are written to `out` once the 4 planes are done: 2 constants reloaded a block
 * (md_dw_fused_blocks: 6), no row or pair loop. */
typedef void dw_six_routine(const int8_t *planes, const dw_folded *folded, int8_t *out, int32_t step);

/* The 9 blocks unrolled, their plane words and outputs at immediate offsets (2.3 KB). */
dw_six_routine md_dw_fused_6x6;

/* The 9 blocks in a loop, a block a pass (404 B on the M4, with md_dw_copy_6x6 and planes_six_rolled
 * 888 B: under the L4R5's 1 KB flash cache, ir/variants.py Loops; a block is 230 B, so a row of 3 a
 * pass would not leave them room): the plane's word and the stack's output word moved a block on a
 * pass, a block row on at a row's end. */
dw_six_routine md_dw_fused_6x6_rolled;

/* The stack of md_dw_fused_6x6 and md_dw_fused_6x6_rolled (its `frame` bytes): 36 words of outputs,
 * then the plane's start and addend, the output word's byte of the plane (rolled: of the block), the
 * next plane's dw_folded, `out` and `step`; rolled, the plane byte at which the block row ends. */
#define DW_SIX_START "144"
#define DW_SIX_ADDEND "148"
#define DW_SIX_BYTE "152"
#define DW_SIX_FOLDED "156"
#define DW_SIX_OUT "160"
#define DW_SIX_FRAME "168"
#define DW_SIX_ROW_END "168"
#define DW_SIX_ROLLED_FRAME "172"

/* The entry of a 6x6 routine `name`: the frame, `out` and `step` kept, plane 0's output byte and
 * dw_folded (r3); then at label 1 each plane (r0) with its dw_folded (r3) ... */
#define DW_SIX_ENTRY(name, frame) \
    MD_ASM_FUNCTION(name) \
        "push {r4-r11, lr}\n\t" \
    "sub sp, sp, #" frame "\n\t" \
    "strd r2, r3, [sp, #" DW_SIX_OUT "]\n\t" \
    "mov r3, r1\n\t" \
    "mov r12, sp\n\t" \
    "strd r12, r1, [sp, #" DW_SIX_BYTE "]\n" /* plane 0's byte, its dw_folded */ \
    "1:\n\t"

/* ... its constants: the start and addend on the stack, the multiplier in r2, the filter in r3..r6 and
 * {exponent, 2 w1 of row 2} in r7 (ASR reads the bottom byte), lr the plane's first word, the next
 * plane's dw_folded on the stack. */
#define DW_SIX_CONSTANTS \
    "ldrd r1, r2, [r3, #20]\n\t" /* start, multiplier */ \
    "ldrd r10, r11, [r3, #28]\n\t" /* exponent, addend */ \
    "str r1, [sp, #" DW_SIX_START "]\n\t" \
    "str r11, [sp, #" DW_SIX_ADDEND "]\n\t" \
    "ldr r7, [r3, #16]\n\t" /* {2 w1 of row 2, 0} */ \
    "ldr lr, [r0]\n\t" \
    "pkhbt r7, r10, r7, lsl #16\n\t" \
    "add r12, r3, #36\n\t" \
    "str r12, [sp, #" DW_SIX_FOLDED "]\n\t" \
    "ldm r3, {r3-r6}\n\t" /* even0..2, middle01 */

/* The next plane (r0 `skip` bytes on, r3 its dw_folded; r12 the stack's output word of the plane's last
 * block, moved by `to_next` onto the next plane's byte of the first): back to label 1 while the
 * output word is not done (sp is word aligned). */
#define DW_SIX_NEXT_PLANE(skip, to_next) \
    "ldr r3, [sp, #" DW_SIX_FOLDED "]\n\t" /* well before its use */ \
    "add r0, r0, #" skip "\n\t" \
    to_next \
    "str r12, [sp, #" DW_SIX_BYTE "]\n\t" \
    "tst r12, #3\n\t" \
    "bne 1b\n\t"

/* 4 of the stack's output words (r0 on) written to 4 pixels, 0 and 1 from r1, 2 and 3 from r7 (r2 step). */
#define DW_SIX_PIXELS \
    "ldm r0!, {r3-r6}\n\t" \
    "str r3, [r1]\n\t" \
    "str r4, [r1, r2]\n\t" \
    "str r5, [r7]\n\t" \
    "str r6, [r7, r2]\n\t" \
    "add r1, r1, r2, lsl #2\n\t" \
    "add r7, r7, r2, lsl #2\n\t"

/* The stack's output words to `out`, `pixels` the 36 of them; the return. */
#define DW_SIX_WRITE(pixels, frame) \
    "ldrd r1, r2, [sp, #" DW_SIX_OUT "]\n\t" \
    "mov r0, sp\n\t" \
    "add r7, r1, r2, lsl #1\n\t" \
    pixels \
    "add sp, sp, #" frame "\n\t" \
    "pop {r4-r11, pc}\n\t"

/* md_dw66_block row, column: md_dw_fused_block over an 8x8 plane, the block whose top left output
 * is pixel row * 6 + column (a word a pixel on the stack); the next block's (`next_row`,
 * `next_column`) top row word loaded on exit. */
__asm__(DW_FUSED_BLOCK_MACRO
        ".macro md_dw66_block row, column, next_row, next_column\n\t"
        "md_dw_fused_block (\\row*8+\\column), 8, (\\next_row*8+\\next_column), "
        "((\\row*6+\\column)*4), 4, 24, " DW_SIX_ADDEND ", " DW_SIX_START "\n\t"
        ".endm\n\t"
        DW_SIX_ENTRY("md_dw_fused_6x6", DW_SIX_FRAME)
        DW_SIX_CONSTANTS
        "md_dw66_block 0, 0, 0, 2\n\t"
        "md_dw66_block 0, 2, 0, 4\n\t"
        "md_dw66_block 0, 4, 2, 0\n\t"
        "md_dw66_block 2, 0, 2, 2\n\t"
        "md_dw66_block 2, 2, 2, 4\n\t"
        "md_dw66_block 2, 4, 4, 0\n\t"
        "md_dw66_block 4, 0, 4, 2\n\t"
        "md_dw66_block 4, 2, 4, 4\n\t"
        "md_dw66_block 4, 4, 0, 8\n\t" /* the next plane's first word */
        DW_SIX_NEXT_PLANE("64", "add r12, r12, #1\n\t")
        DW_SIX_WRITE(".rept 9\n\t" DW_SIX_PIXELS ".endr\n\t", DW_SIX_FRAME) /* 4 pixels each */
        ".size md_dw_fused_6x6, .-md_dw_fused_6x6\n\t"
        ".popsection\n\t"
        ".purgem md_dw66_block\n\t"
        /* r0 the block's plane word, r12 its output word's byte on the stack (the next block's at a pass's
         * end), r8 the row's end */
        DW_SIX_ENTRY("md_dw_fused_6x6_rolled", DW_SIX_ROLLED_FRAME)
        DW_SIX_CONSTANTS
        "add r8, r0, #6\n\t" /* past the row's third block */
        "str r8, [sp, #" DW_SIX_ROW_END "]\n"
        "2:\n\t"
        "md_dw_fused_block 0, 8, 2, 0, 4, 24, " DW_SIX_ADDEND ", " DW_SIX_START "\n\t"
        "ldr r8, [sp, #" DW_SIX_ROW_END "]\n\t"
        "adds r0, r0, #2\n\t"
        "add r12, r12, #8\n\t"
        "cmp r0, r8\n\t"
        "str r12, [sp, #" DW_SIX_BYTE "]\n\t"
        "bne 2b\n\t"
        "adds r0, r0, #(16-6)\n\t" /* the next block row: 2 plane rows on, 2 pixel rows */
        "add r9, sp, #144\n\t" /* past the output words: r12 - sp is below it at a row's end but the last */
        "ldr lr, [r0]\n\t"
        "add r8, r8, #16\n\t"
        "add r12, r12, #(48-24)\n\t"
        "str r8, [sp, #" DW_SIX_ROW_END "]\n\t"
        "str r12, [sp, #" DW_SIX_BYTE "]\n\t"
        "cmp r12, r9\n\t"
        "blo 2b\n\t"
        DW_SIX_NEXT_PLANE("(64-48)", "sub r12, r12, #(144-1)\n\t")
        DW_SIX_WRITE("add r8, sp, #144\n" "3:\n\t" DW_SIX_PIXELS "cmp r0, r8\n\t" "bne 3b\n\t",
                     DW_SIX_ROLLED_FRAME)
        ".size md_dw_fused_6x6_rolled, .-md_dw_fused_6x6_rolled\n\t"
        ".popsection\n\t"
        ".purgem md_dw_fused_block");

/* Whether a fused layer's grouped planes take md_dw_fused_6x6: 6x6 outputs at stride 1 from 8x8 planes. */
static inline int six_by_six(const md_window_params *p, const dw_plane *plane)
{
    return p->output_w == 6 && p->output_h == 6 && p->stride_w == 1 && p->stride_h == 1 && plane->width == 8 &&
           plane->rows == 8;
}

/* Channels c..c+3 of a 6x6 image (a depth of 4k, `from` at pixel 0's channel c, pixels `step` bytes
 * apart) into the 6 inside rows of 4 planes 8x8 padded by one pixel each side, 64 bytes apart (`to`
 * at plane 0's row 1): each plane row as 2 aligned words with its padding columns (`zeros`, the
 * padding in every byte), the words of {padding, pixels 0..2} and {pixels 3..5, padding} transposed
 * as transpose_runs does. Rows 0 and 7 keep the padding the layer set. */
void md_dw_copy_6x6(const int8_t *from, int32_t step, int8_t *to, uint32_t zeros);

/* The 4x4 byte transpose of words {a, d, b, e} (a pixel a word) into the channels' words at `at`,
 * `at` + 64, + 128, + 192 from r2, as transpose_runs does it (SEL, GE set by md_dw_copy_6x6); r8, r9
 * and lr taken, `d` and `b` as well (not `a` or `e`). */
#define DW_SIX_TRANSPOSE(a, d, b, e, at) \
    "lsl r8, " d ", #8\n\t" \
    "lsr r9, " a ", #8\n\t" \
    "sel r8, " a ", r8\n\t" \
    "sel r9, r9, " d "\n\t" \
    "lsl lr, " e ", #8\n\t" \
    "lsr " d ", " b ", #8\n\t" \
    "sel lr, " b ", lr\n\t" \
    "sel " d ", " d ", " e "\n\t" \
    "pkhbt " b ", r8, lr, lsl #16\n\t" \
    "pkhtb r8, lr, r8, asr #16\n\t" \
    "pkhbt lr, r9, " d ", lsl #16\n\t" \
    "pkhtb r9, " d ", r9, asr #16\n\t" \
    "str " b ", [r2, #" at "]\n\t" \
    "str lr, [r2, #" at " + 64]\n\t" \
    "str r8, [r2, #" at " + 128]\n\t" \
    "str r9, [r2, #" at " + 192]\n\t"

/* r0 from, r1 step, r2 to, r3 zeros; r7 5 steps, r10 pixel 2, r11 past row 6, r12 an image row. */
__asm__(MD_ASM_FUNCTION("md_dw_copy_6x6")
                "push {r4-r11, lr}\n\t"
        "mov r8, #0x50000\n\t" /* GE = 0b0101: SEL takes bytes 0 and 2 from its first operand */
        "msr APSR_g, r8\n\t"
        "add r7, r1, r1, lsl #2\n\t"
        "add r12, r7, r1\n\t"
        "add r11, r2, #48\n"
        "1:\n\t"
        "add r10, r0, r1, lsl #1\n\t"
        "ldr r4, [r0]\n\t"
        "ldr r5, [r0, r1]\n\t"
        "ldr r6, [r10]\n\t"
        DW_SIX_TRANSPOSE("r3", "r4", "r5", "r6", "0")
        "ldr r4, [r10, r1]\n\t"
        "ldr r5, [r10, r1, lsl #1]\n\t"
        "ldr r6, [r0, r7]\n\t"
        DW_SIX_TRANSPOSE("r4", "r5", "r6", "r3", "4")
        "add r0, r0, r12\n\t"
        "adds r2, r2, #8\n\t"
        "cmp r2, r11\n\t"
        "bne 1b\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_copy_6x6, .-md_dw_copy_6x6\n\t"
        ".popsection");

/* Whether a 6x6 layer's planes take md_dw_copy_6x6: a 6x6 image padded by one pixel each side. */
static int six_image(const md_window_params *p)
{
    return p->input_h == 6 && p->input_w == 6 && p->pad_top == 1 && p->pad_left == 1;
}

/* The geometry of md_dw_fused_blocks_s2's planes, set once a layer. */
typedef struct {
    int8_t *out;         /* the first plane's first output (plane i's: out + i) */
    int32_t step;        /* bytes between output columns */
    int32_t out_row;     /* bytes between output rows */
    int32_t skip;        /* plane bytes from past a row pair's last block to the next's first */
    int32_t out_skip;    /* output bytes from past a row pair's last block of two columns to the next's */
    int32_t pairs;       /* row pairs, at least 1 */
    int32_t odd;         /* 1: a last block of one column */
    int32_t block_bytes; /* plane bytes of a row pair's blocks of two columns (at least 1 block) */
    int32_t planes;      /* planes, at least 1 */
    int32_t plane_bytes; /* bytes between the planes */
} dw_wide_geometry;

/* A fused routine `name` (md_dw_fused_blocks_s2) whose block sums are `sums` (`terms`: DW_FUSED_OUTPUTS' `load`; `next` loads
 * the next block's start into r1 and what `sums` expects), its blocks `bit` plane bytes apart (`bit` set in a
 * row pair's block bytes for an odd count), over dw_wide_geometry's planes (r1), plane i from dw_folded
 * i (r3). In a plane's row pairs: r0 at, r2 bytes between plane rows, r3..r7 the filter (and exponent); on
 * the stack: the next block's output, step, out_row, start, multiplier, addend, the row end, skip,
 * out_skip, the row pairs left, odd, block bytes (words 0..11, as md_dw_fused_blocks keeps them:
 * DW_FUSED_OUTPUTS and DW_FUSED_STORES read them there), then the planes left, plane bytes, the next
 * plane's dw_folded, the next plane's first output, each plane's row pairs, the next plane. A plane's
 * filter from its dw_folded: the rows' {w0, w1} pairs (PKHBT of {w0, w2} and the w1s), w2 of rows 0
 * and 1 in one word (PKHTB), {exponent, w2 of row 2}. */
#define DW_WIDE_ROUTINE(name, sums, terms, next, bit) \
    MD_ASM_FUNCTION(name) \
    "push {r4-r11, lr}\n\t" \
    "sub sp, sp, #72\n\t" \
    "ldm r1, {r4-r12, lr}\n\t" /* out, step, out_row, skip, out_skip, pairs, odd, block bytes, planes, plane bytes */ \
    "str r4, [sp, #60]\n\t" \
    "strd r5, r6, [sp, #4]\n\t" \
    "strd r7, r8, [sp, #28]\n\t" \
    "str r9, [sp, #64]\n\t" \
    "strd r10, r11, [sp, #40]\n\t" \
    "strd r12, lr, [sp, #48]\n\t" \
    "str r3, [sp, #56]\n" \
    "6:\n\t" /* r0 the plane */ \
    "ldr r12, [sp, #52]\n\t" \
    "add r12, r0, r12\n\t" \
    "str r12, [sp, #68]\n\t" /* the next plane */ \
    "ldr r12, [sp, #60]\n\t" \
    "str r12, [sp]\n\t" \
    "add r12, r12, #1\n\t" \
    "str r12, [sp, #60]\n\t" /* the next plane's output */ \
    "ldr r12, [sp, #64]\n\t" \
    "str r12, [sp, #36]\n\t" /* row pairs */ \
    "ldr r12, [sp, #56]\n\t" \
    "ldm r12!, {r3-r11}\n\t" /* even0..2, middle01, middle2, start, multiplier, exponent, addend */ \
    "str r12, [sp, #56]\n\t" \
    "str r8, [sp, #12]\n\t" \
    "strd r9, r11, [sp, #16]\n\t" \
    "pkhtb r8, r4, r3, asr #16\n\t" /* {2 w2} of rows 0 and 1 */ \
    "pkhbt r3, r3, r6, lsl #16\n\t" \
    "pkhbt r4, r4, r6\n\t" \
    "pkhbt r10, r10, r5\n\t" /* {exponent, 2 w2 of row 2} */ \
    "pkhbt r5, r5, r7, lsl #16\n\t" \
    "mov r6, r8\n\t" \
    "mov r7, r10\n" \
    "2:\n\t" \
    "ldr r12, [sp, #44]\n\t" /* block bytes */ \
    next \
    "tst r12, #" bit "\n\t" /* an odd count of blocks: the first in the loop's second half */ \
    "add r12, r0, r12\n\t" \
    "str r12, [sp, #24]\n\t" /* row end */ \
    "bne 3f\n" \
    "1:\n\t" \
    sums \
    DW_FUSED_OUTPUTS(terms) \
    DW_FUSED_STORES \
    next \
    "3:\n\t" \
    sums \
    DW_FUSED_OUTPUTS(terms) \
    DW_FUSED_STORES \
    "ldr r12, [sp, #24]\n\t" \
    next \
    "cmp r0, r12\n\t" \
    "bne 1b\n" \
    "4:\n\t" \
    "ldr r12, [sp, #40]\n\t" /* odd */ \
    "cmp r12, #0\n\t" \
    "beq 5f\n\t" \
    sums \
    DW_FUSED_OUTPUTS(terms) \
    "strb r8, [r1]\n\t" \
    "strb r10, [lr]\n" \
    "5:\n\t" \
    "ldrd r1, r12, [sp, #28]\n\t" /* skip, out skip */ \
    "add r0, r0, r1\n\t" \
    "ldr r1, [sp]\n\t" \
    "add r1, r1, r12\n\t" \
    "str r1, [sp]\n\t" \
    "ldr r12, [sp, #36]\n\t" /* pairs */ \
    "subs r12, r12, #1\n\t" \
    "str r12, [sp, #36]\n\t" \
    "bne 2b\n\t" \
    "ldr r12, [sp, #48]\n\t" /* planes */ \
    "subs r12, r12, #1\n\t" \
    "beq 7f\n\t" \
    "str r12, [sp, #48]\n\t" \
    "ldr r0, [sp, #68]\n\t" \
    "b 6b\n" \
    "7:\n\t" \
    "add sp, sp, #72\n\t" \
    "pop {r4-r11, pc}\n\t" \
    ".size " name ", .-" name "\n\t" \
    ".popsection"


/* ---- stride 2, the whole of int8's range: 2x2 blocks requantized as they are summed, from a wide
 * plane (int16 values, rows md_depthwise_wide_pitch values apart: every word it reads is aligned) */

/* md_dw_fused_blocks at stride 2 over a wide plane: a block's windows start 2 values apart in plane
 * rows 0 and 2 (plane rows 0..4, row 2 shared by both output rows), the next block 4 values on. A
 * window row is the pair {x0, x1} . {w0, w1} (SMLAD) + x2 w2: the words {x0, x1}, {x2, x3}, {x4, x5}
 * serve both windows of a block row (no unpacking). The filter: rows' {w0, w1} pairs in even0..2,
 * w2 of rows 0 and 1 in middle01's halves, of row 2 in exponent_middle2's top (all doubled). */
void md_dw_fused_blocks_s2(const int16_t *at, const dw_wide_geometry *geometry, int32_t width, const dw_folded *folded);

/* One plane row of both windows of an output row (`left` and `right` from `from_left` and
 * `from_right`; pair `pair`, w2 in half `half` of `third`), `step` moving r0 between its loads. */
#define DW_WIDE_ROW(left, right, from_left, from_right, pair, third, half, step) \
    "ldr r12, [r0]\n\t" \
    "ldr lr, [r0, #4]\n\t" \
    "smlad " left ", r12, " pair ", " from_left "\n\t" \
    "smlab" half " " left ", lr, " third ", " left "\n\t" \
    "ldr r12, [r0, #8]\n\t" \
    "smlad " right ", lr, " pair ", " from_right "\n\t" \
    step \
    "smlab" half " " right ", r12, " third ", " right "\n\t"

#define DW_WIDE_DOWN "add r0, r0, r2\n\t"

/* Row 2: the top windows' last row (r5, r7's top) and the bottom ones' first (r3, r6's bottom, from r1). */
#define DW_WIDE_SHARED_ROW \
    "ldr r12, [r0]\n\t" \
    "ldr lr, [r0, #4]\n\t" \
    "smlad r8, r12, r5, r8\n\t" \
    "smlad r10, r12, r3, r1\n\t" \
    "smlabt r8, lr, r7, r8\n\t" \
    "smlabb r10, lr, r6, r10\n\t" \
    "smlad r9, lr, r5, r9\n\t" \
    "smlad r11, lr, r3, r1\n\t" \
    "ldr r12, [r0, #8]\n\t" \
    DW_WIDE_DOWN \
    "smlabt r9, r12, r7, r9\n\t" \
    "smlabb r11, r12, r6, r11\n\t"

#define DW_WIDE_SUMS \
    DW_WIDE_ROW("r8", "r9", "r1", "r1", "r3", "r6", "b", DW_WIDE_DOWN) \
    DW_WIDE_ROW("r8", "r9", "r8", "r9", "r4", "r6", "t", DW_WIDE_DOWN) \
    DW_WIDE_SHARED_ROW \
    DW_WIDE_ROW("r10", "r11", "r10", "r11", "r4", "r6", "t", DW_WIDE_DOWN) \
    DW_WIDE_ROW("r10", "r11", "r10", "r11", "r5", "r7", "t", "sub r0, r0, r2, lsl #2\n\t")

/* The multiplier and addend (DW_FUSED_OUTPUTS), `at` moved one block on. */
#define DW_WIDE_TERMS \
    "ldrd r1, r12, [sp, #16]\n\t" \
    "adds r0, r0, #8\n\t"

__asm__(DW_WIDE_ROUTINE("md_dw_fused_blocks_s2", DW_WIDE_SUMS, DW_WIDE_TERMS, "ldr r1, [sp, #12]\n\t", "8"));

/* md_dw_fused_blocks_s2 over a wide plane whose rows are MD_WIDE_PITCH values (128 bytes) apart:
 * every word of a block at a constant offset from r0 (no pointer moves between rows), a row's 3
 * words loaded back to back into r2, r12 and lr (the M4 pipelines the second and third). */
void md_dw_fused_blocks_s2_near(const int16_t *at, const dw_wide_geometry *geometry, int32_t unused,
                                const dw_folded *folded);

/* One plane row (`row` its byte offset) of both windows of an output row, as DW_WIDE_ROW. The
 * Cortex-M7's: the third load after the first multiply, issued beside it. */
#if MD_DUAL_ISSUE
#define DW_NEAR_ROW(left, right, from_left, from_right, pair, third, half, row) \
    "ldr r2, [r0, #" row "]\n\t" \
    "ldr r12, [r0, #" row "+4]\n\t" \
    "smlad " left ", r2, " pair ", " from_left "\n\t" \
    "ldr lr, [r0, #" row "+8]\n\t" \
    "smlab" half " " left ", r12, " third ", " left "\n\t" \
    "smlad " right ", r12, " pair ", " from_right "\n\t" \
    "smlab" half " " right ", lr, " third ", " right "\n\t"
#define DW_NEAR_SHARED_LOADS \
    "ldr r2, [r0, #256]\n\t" \
    "ldr r12, [r0, #260]\n\t" \
    "smlad r8, r2, r5, r8\n\t" \
    "ldr lr, [r0, #264]\n\t"
#else
#define DW_NEAR_ROW(left, right, from_left, from_right, pair, third, half, row) \
    "ldr r2, [r0, #" row "]\n\t" \
    "ldr r12, [r0, #" row "+4]\n\t" \
    "ldr lr, [r0, #" row "+8]\n\t" \
    "smlad " left ", r2, " pair ", " from_left "\n\t" \
    "smlab" half " " left ", r12, " third ", " left "\n\t" \
    "smlad " right ", r12, " pair ", " from_right "\n\t" \
    "smlab" half " " right ", lr, " third ", " right "\n\t"
#define DW_NEAR_SHARED_LOADS \
    "ldr r2, [r0, #256]\n\t" \
    "ldr r12, [r0, #260]\n\t" \
    "ldr lr, [r0, #264]\n\t" \
    "smlad r8, r2, r5, r8\n\t"
#endif

/* Row 2 (DW_WIDE_SHARED_ROW's). */
#define DW_NEAR_SHARED_ROW \
    DW_NEAR_SHARED_LOADS \
    "smlad r10, r2, r3, r1\n\t" \
    "smlabt r8, r12, r7, r8\n\t" \
    "smlabb r10, r12, r6, r10\n\t" \
    "smlad r9, r12, r5, r9\n\t" \
    "smlad r11, r12, r3, r1\n\t" \
    "smlabt r9, lr, r7, r9\n\t" \
    "smlabb r11, lr, r6, r11\n\t"

#define DW_NEAR_SUMS \
    DW_NEAR_ROW("r8", "r9", "r1", "r1", "r3", "r6", "b", "0") \
    DW_NEAR_ROW("r8", "r9", "r8", "r9", "r4", "r6", "t", "128") \
    DW_NEAR_SHARED_ROW \
    DW_NEAR_ROW("r10", "r11", "r10", "r11", "r4", "r6", "t", "384") \
    DW_NEAR_ROW("r10", "r11", "r10", "r11", "r5", "r7", "t", "512")

__asm__(DW_WIDE_ROUTINE("md_dw_fused_blocks_s2_near", DW_NEAR_SUMS, DW_WIDE_TERMS, "ldr r1, [sp, #12]\n\t", "8"));

/* The geometry of md_dw_fused_blocks_s2 over wide planes at stride 2 (at least 2 output rows, `pitch`
 * values between plane rows), set once a layer. */
static dw_wide_geometry wide_plan(const md_window_params *p, const dw_steps *steps, int32_t pitch, int32_t plane_bytes)
{
    const int32_t full = p->output_w / 2;
    const int32_t odd = p->output_w % 2;
    dw_wide_geometry k;
    k.out = NULL;
    k.planes = 1;
    k.plane_bytes = plane_bytes;
    k.step = steps->out_column;
    k.out_row = steps->out_row;
    k.block_bytes = 8 * full;
    k.skip = 8 * (pitch - (full + odd));
    k.out_skip = 2 * steps->out_row - 2 * steps->out_column * full;
    k.pairs = p->output_h / 2;
    k.odd = odd;
    return k;
}

/* Channels c and c + 1 of four pixels `step` bytes apart from `from` on as int16 into `first` and
 * `second` (both moved on): each pixel's two values one halfword (the 4 loads back to back, which
 * the M4 pipelines), two pixels' packed into a word, then split by channel as they sign-extend. */
#define DW_WIDE_GATHER \
    "ldrh %[a], [%[from]]\n\t" \
    "ldrh %[b], [%[from], %[step]]\n\t" \
    "ldrh %[c], [%[from], %[step], lsl #1]\n\t" \
    "ldrh %[d], [%[from], %[step3]]\n\t" \
    "add %[from], %[from], %[step], lsl #2\n\t" \
    "pkhbt %[a], %[a], %[b], lsl #16\n\t" \
    "pkhbt %[c], %[c], %[d], lsl #16\n\t" \
    "sxtb16 %[b], %[a]\n\t" \
    "sxtb16 %[d], %[c]\n\t" \
    "sxtb16 %[a], %[a], ror #8\n\t" \
    "sxtb16 %[c], %[c], ror #8\n\t" \
    "str %[d], [%[first], #4]\n\t" \
    "str %[b], [%[first]], #8\n\t" \
    "str %[c], [%[second], #4]\n\t" \
    "str %[a], [%[second]], #8\n\t"

/* DW_WIDE_GATHER of eight pixels a loop to `end` (`loop` 1), or of four once (`loop` 0). */
static MD_ALWAYS_INLINE void gather_wide(const int8_t **from, int16_t **first, int16_t **second, int32_t step,
                                         const int16_t *end, int loop)
{
    uint32_t a;
    uint32_t b;
    uint32_t c;
    uint32_t d;
    if (loop) {
        __asm__ volatile("1:\n\t" DW_WIDE_GATHER DW_WIDE_GATHER "cmp %[first], %[end]\n\t"
                         "bne 1b\n"
                         : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [from] "+r"(*from),
                           [first] "+r"(*first), [second] "+r"(*second)
                         : [step] "r"(step), [step3] "r"(3 * step), [end] "r"(end)
                         : "memory", "cc");
    } else {
        __asm__ volatile(DW_WIDE_GATHER
                         : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [from] "+r"(*from),
                           [first] "+r"(*first), [second] "+r"(*second)
                         : [step] "r"(step), [step3] "r"(3 * step)
                         : "memory");
    }
}

/* Channels c and c + 1 of an image into the insides of two wide planes, `distance` values apart
 * (`pitch` values between their rows), eight pixels of a row at a time, then four, then the rest;
 * the padding keeps what the layer set there. */
static MD_NOINLINE void copy_planes_wide(const md_window_params *p, const dw_steps *steps, const int8_t *image,
                                         int32_t c, int16_t *plane, int32_t distance, int32_t pitch)
{
    const int32_t height = p->input_h, width = p->input_w;
    const int32_t whole = width & ~7, four = width & 4, rest = width & 3;
    const int32_t step = steps->in_column, row_step = steps->in_row;
    const int8_t *source = image + c;
    int16_t *row = plane + p->pad_top * pitch + p->pad_left;
    int16_t *const last = row + height * pitch;
    for (; row != last; row += pitch, source += row_step) {
        const int8_t *from = source;
        int16_t *first = row;
        int16_t *second = row + distance;
        int32_t x;
        if (whole) {
            gather_wide(&from, &first, &second, step, row + whole, 1);
        }
        if (four) {
            gather_wide(&from, &first, &second, step, row, 0);
        }
        for (x = 0; x < rest; ++x, from += step) {
            first[x] = from[0];
            second[x] = from[1];
        }
    }
}

/* DW_WIDE_GATHER over whole rows (`group` one or two of it a loop: a width of a multiple of 4 or
 * 8), the row loop in assembly too: `rows` rows, k = {inside row bytes of a plane, source bytes from
 * past a row to the next, plane bytes from past a row's inside to the next's}. */
#define DW_WIDE_ROWS(group) \
    "1:\n\t" \
    "ldr %[a], [%[k]]\n\t" \
    "add %[end], %[first], %[a]\n" \
    "2:\n\t" group "cmp %[first], %[end]\n\t" \
    "bne 2b\n\t" \
    "ldrd %[a], %[b], [%[k], #4]\n\t" \
    "add %[from], %[from], %[a]\n\t" \
    "add %[first], %[first], %[b]\n\t" \
    "add %[second], %[second], %[b]\n\t" \
    "subs %[rows], %[rows], #1\n\t" \
    "bne 1b\n"

/* copy_planes_wide of an image whose width is a multiple of 4: every row's pixels four or eight at
 * a time, the rows in the same loop (no per-row call). */
static MD_NOINLINE void copy_planes_wide_4(const md_window_params *p, const dw_steps *steps, const int8_t *image,
                                           int32_t c, int16_t *plane, int32_t distance, int32_t pitch)
{
    const int32_t step = steps->in_column;
    const int32_t k[3] = {2 * p->input_w, steps->in_row - p->input_w * step, 2 * (pitch - p->input_w)};
    const int8_t *from = image + c;
    int16_t *first = plane + p->pad_top * pitch + p->pad_left;
    int16_t *second = first + distance;
    int16_t *end;
    int32_t rows = p->input_h;
    uint32_t a;
    uint32_t b;
    uint32_t cc;
    uint32_t d;
    if (p->input_w % 8 == 0) {
        __asm__ volatile(DW_WIDE_ROWS(DW_WIDE_GATHER DW_WIDE_GATHER)
                         : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(cc), [d] "=&r"(d), [end] "=&r"(end),
                           [from] "+r"(from), [first] "+r"(first), [second] "+r"(second), [rows] "+r"(rows)
                         : [step] "r"(step), [step3] "r"(3 * step), [k] "r"(k)
                         : "memory", "cc");
    } else {
        __asm__ volatile(DW_WIDE_ROWS(DW_WIDE_GATHER)
                         : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(cc), [d] "=&r"(d), [end] "=&r"(end),
                           [from] "+r"(from), [first] "+r"(first), [second] "+r"(second), [rows] "+r"(rows)
                         : [step] "r"(step), [step3] "r"(3 * step), [k] "r"(k)
                         : "memory", "cc");
    }
}

/* Channels c..c+3 of an image into the insides of 4 wide planes `distance` values apart (`pitch`
 * values between their rows): by `copy` (md_dw_copy_wide_4, given for a width of a multiple of 4),
 * else two copy_planes_wide. */
static MD_NOINLINE void copy_planes_wide_quad(const md_window_params *p, const dw_steps *steps, const int8_t *image,
                                              int32_t c, int16_t *plane, int32_t distance, int32_t pitch,
                                              md_dw_copy_routine *copy)
{
    dw_wide_copy k;
    if (copy == NULL) {
        copy_planes_wide(p, steps, image, c, plane, distance, pitch);
        copy_planes_wide(p, steps, image, c + 2, plane + 2 * distance, distance, pitch);
        return;
    }
    k.step = steps->in_column;
    k.distance = 2 * distance;
    k.rows = p->input_h;
    k.inside = 2 * p->input_w;
    k.source_skip = steps->in_row - p->input_w * steps->in_column;
    k.plane_skip = 2 * (pitch - p->input_w);
    copy(image + c, plane + p->pad_top * pitch + p->pad_left, &k);
}

/* `count` values from `at` on the zero point. */
static void fill_values(int16_t *at, int32_t count, int16_t zero)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        at[i] = zero;
    }
}

/* `count` wide planes' padding (`values` apart, rows `pitch` values apart, `width` of them the padded
 * plane's): the values the windows read that the copies do not write, the zero point, set once a
 * layer (past `width` a row's values are loaded, never multiplied). */
static void fill_wide(const md_window_params *p, int16_t *planes, int32_t count, int32_t values, int32_t width,
                      int32_t pitch)
{
    const int16_t zero = (int16_t)-p->input_offset;
    const int32_t bottom = p->pad_top + p->input_h; /* the first row below the image */
    const int32_t right = p->pad_left + p->input_w; /* the first column right of it */
    const int32_t rows = (values - MD_PLANE_SLACK) / pitch;
    int32_t plane;
    int32_t y;
    for (plane = 0; plane < count; ++plane) {
        int16_t *const at = planes + plane * values;
        for (y = 0; y < rows; ++y) {
            if (y < p->pad_top || y >= bottom) {
                fill_values(at + y * pitch, width, zero);
            } else {
                fill_values(at + y * pitch, p->pad_left, zero);
                fill_values(at + y * pitch + right, width - right, zero);
            }
        }
    }
}

/* Output row `oy` of a wide plane at stride 2 (`pitch` values between plane rows), window by window. */
static MD_NOINLINE void wide_row(const md_window_params *p, const dw_steps *steps, const int16_t *plane,
                                 int32_t pitch, const dw_folded *f, int8_t *output, int32_t oy)
{
    const int16_t *row = plane + 2 * oy * pitch;
    int8_t *out = output + oy * steps->out_row;
    const int32_t middle[3] = {(int16_t)f->middle01, f->middle01 >> 16, (int16_t)f->middle2};
    int32_t ox;
    int32_t fy;
    for (ox = 0; ox < p->output_w; ++ox, out += steps->out_column) {
        int32_t products = 0;
        for (fy = 0; fy < 3; ++fy) {
            const int16_t *x = row + fy * pitch + 2 * ox;
            products += x[0] * (int16_t)f->even[fy] + x[1] * middle[fy] + x[2] * (f->even[fy] >> 16);
        }
        *out = folded_output(md_wrap_add(f->start, products), f->multiplier, f->exponent, f->addend, p->act_min,
                             p->act_max, 1);
    }
}

/* The output planes of `count` channels from their wide planes (`values` apart, from `plane` on;
 * `f` their dw_folded): the row pairs of all of them in one call (md_dw_fused_blocks_s2, which packs
 * each plane's filter as {w0, w1} pairs and w2s from its dw_folded), an odd last row alone
 * (wide_row). */
static MD_NOINLINE void planes_3x3_wide(const md_window_params *p, const dw_steps *steps, const int16_t *plane,
                                        int32_t pitch, int32_t values, const dw_wide_geometry *layer,
                                        const dw_folded *f, int32_t count, int8_t *output)
{
    dw_wide_geometry k = *layer;
    int32_t i;
    k.out = output;
    k.planes = count;
    if (pitch == MD_WIDE_PITCH) {
        md_dw_fused_blocks_s2_near(plane, &k, 0, f);
    } else {
        md_dw_fused_blocks_s2(plane, &k, 2 * pitch, f);
    }
    for (i = 0; p->output_h % 2 && i < count; ++i) {
        wide_row(p, steps, plane + i * values, pitch, f + i, output + i, p->output_h - 1);
    }
}

/* Output plane of one channel from its padded plane, any window: every tap. */
static MD_NOINLINE void plane_any(const md_window_params *p, const dw_plane *plane, const int8_t *weights,
                                      const dw_requant *r, int8_t *output)
{
    const int32_t width = plane->width;
    int32_t oy;
    int32_t ox;
    int32_t fy;
    int32_t fx;
    for (oy = 0; oy < p->output_h; ++oy) {
        for (ox = 0; ox < p->output_w; ++ox) {
            const int8_t *origin = plane->bytes + oy * p->stride_h * width + ox * p->stride_w;
            int32_t sum = r->bias;
            for (fy = 0; fy < p->filter_h; ++fy) {
                for (fx = 0; fx < p->filter_w; ++fx) {
                    const int32_t value = origin[fy * p->dilation_h * width + fx * p->dilation_w] + p->input_offset;
                    sum = md_wrap_add(sum, value * weights[(fy * p->filter_w + fx) * p->output_c]);
                }
            }
            output[(oy * p->output_w + ox) * p->output_c] = requantize(r, sum);
        }
    }
}

/* A fused layer's 6x6 planes (six_by_six, `p` and `steps` in their orientation, `planes` the 4 planes
 * with their padding set): a group of 4 channels at a time copied (md_dw_copy_6x6 from a 6x6 image
 * padded by one pixel, else copy_planes_4), folded, and computed in one call of `fused`. */
static MD_ALWAYS_INLINE void six_groups(const depthwise_int_job *job, const md_window_params *p,
                                        const dw_steps *steps, const int8_t *input, int8_t *planes,
                                        const int32_t *given, dw_six_routine *fused)
{
    const int32_t image_bytes = p->input_h * p->input_w * p->input_c;
    const int32_t output_bytes = p->output_h * p->output_w * p->output_c;
    const uint32_t zeros = (uint8_t)-p->input_offset * 0x01010101u; /* the padding in every byte */
    const int whole_rows = six_image(p);
    const dw_plane plane = padded_plane(p, planes);
    dw_folded folds[4];
    int32_t batch;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * image_bytes;
        int8_t *output = (int8_t *)job->output + batch * output_bytes;
        for (c = 0; c < p->input_c; c += 4) {
            if (whole_rows) {
                md_dw_copy_6x6(image + c, steps->in_column, planes + 8, zeros);
            } else {
                copy_planes_4(p, steps, image, c, &plane, 64);
            }
            fused(planes, channel_folds(p, steps, job, given, c, 4, folds), output + c, steps->out_column);
        }
    }
}

/* six_groups through md_dw_fused_6x6, and through md_dw_fused_6x6_rolled: a direct call each (through a
 * pointer, the M7 would mispredict a branch a group). */
static MD_NOINLINE void planes_six(const depthwise_int_job *job, const md_window_params *p, const dw_steps *steps,
                                   const int8_t *input, int8_t *planes, const int32_t *given)
{
    six_groups(job, p, steps, input, planes, given, md_dw_fused_6x6);
}

static MD_NOINLINE void planes_six_rolled(const depthwise_int_job *job, const md_window_params *p,
                                          const dw_steps *steps, const int8_t *input, int8_t *planes,
                                          const int32_t *given)
{
    six_groups(job, p, steps, input, planes, given, md_dw_fused_6x6_rolled);
}

/* A fused layer's grouped planes through its md_dw_fused_rows routine (`p`, `steps`
 * and `plane` in their orientation, the padding set): a group of 4 channels at a time copied
 * (copy_planes_4), folded, and computed in one call. */
static MD_NOINLINE void planes_rows(const depthwise_int_job *job, const md_window_params *p, const dw_steps *steps,
                                    const dw_plane *plane, const int8_t *input, const int32_t *given,
                                    md_dw_rows_routine *routine)
{
    const int32_t image_bytes = p->input_h * p->input_w * p->input_c;
    const int32_t output_bytes = p->output_h * p->output_w * p->output_c;
    const int32_t plane_size = plane->rows * plane->width;
    dw_folded folds[4];
    int32_t batch;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * image_bytes;
        int8_t *output = (int8_t *)job->output + batch * output_bytes;
        for (c = 0; c < p->input_c; c += 4) {
            copy_planes_4(p, steps, image, c, plane, plane_size);
            routine(plane->bytes, channel_folds(p, steps, job, given, c, 4, folds), output + c, p->output_h / 2);
        }
    }
}

/* A fused layer's planes at stride 2 (`p` in the planes' orientation, `plane` the int8 plane's
 * geometry): a group of channels copied at a time into as many wide planes (md_depthwise_s8_wide_planes:
 * the scratch holds them; 4 over a depth of 4k, else 2, the last of an odd count with the one
 * before), each plane's outputs from md_dw_fused_blocks_s2. */
static MD_NOINLINE void planes_wide(const depthwise_int_job *job, const md_window_params *p, const dw_steps *steps,
                                    const dw_plane *plane, const int8_t *input, int8_t *scratch,
                                    const int32_t *given, md_dw_copy_routine *copy)
{
    const int32_t image_bytes = p->input_h * p->input_w * p->input_c;
    const int32_t output_bytes = p->output_h * p->output_w * p->output_c;
    const int32_t pitch = md_depthwise_wide_pitch(plane->width);
    const int32_t values = plane->rows * pitch + MD_PLANE_SLACK; /* a wide plane and its slack */
    int16_t *const planes = (int16_t *)(void *)scratch;
    const dw_wide_geometry k = wide_plan(p, steps, pitch, 2 * values);
    /* 4 channels at once (md_depthwise_s8_wide_planes): copied (copy_planes_wide_quad), folded (fold_3x3_4) */
    const int quads = md_depthwise_s8_wide_planes(p) == 4;
    dw_folded folds[4];
    int32_t first = 0; /* the first of the two channels the planes hold */
    int32_t batch;
    int32_t c;
    fill_wide(p, planes, quads ? 4 : 2, values, plane->width, pitch); /* the padding: every channel's zero point */
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * image_bytes;
        int8_t *output = (int8_t *)job->output + batch * output_bytes;
        for (c = 0; c < p->input_c; c += quads ? 4 : 1) {
            if (quads) {
                const dw_folded *f = channel_folds(p, steps, job, given, c, 4, folds);
                copy_planes_wide_quad(p, steps, image, c, planes, values, pitch, copy);
                planes_3x3_wide(p, steps, planes, pitch, values, &k, f, 4, output + c);
                continue;
            }
            if (c % 2 == 0) {
                first = md_min_i32(c, p->input_c - 2);
                if (p->input_w % 4 == 0) {
                    copy_planes_wide_4(p, steps, image, first, planes, values, pitch);
                } else {
                    copy_planes_wide(p, steps, image, first, planes, values, pitch);
                }
            }
            planes_3x3_wide(p, steps, planes + (c - first) * values, pitch, values, &k,
                            channel_folds(p, steps, job, given, c, 1, folds), 1, output + c);
        }
    }
}


/* A fused layer's grouped 6x6 planes, a group a call of a 6x6 routine (planes_six, planes_six_rolled). */
typedef void dw_six_planes(const depthwise_int_job *job, const md_window_params *p, const dw_steps *steps,
                           const int8_t *input, int8_t *planes, const int32_t *given);

/* The routines made for one shape that a layer's generated code gives (md_nn.h); NULL: none. */
typedef struct {
    md_dw_rows_routine *rows; /* md_depthwise_s8_grouped_rows' */
    md_dw_copy_routine *copy; /* md_depthwise_s8_grouped_wide's */
    dw_six_planes *six;       /* md_depthwise_s8_grouped_six's, its _rolled twin's (without: md_dw_fused_blocks) */
} dw_routines;

/* The channel-plane path: one plane at a time (md_depthwise_s8's scratch, the least memory) or, when
 * `grouped` (md_depthwise_s8_grouped's), md_depthwise_s8_planes planes a group of channels at a time
 * at stride 1 and two wide planes at stride 2 (faster). */
static void planes_s8(const depthwise_int_job *job, const int8_t *input, int8_t *scratch, int grouped,
                      const int32_t *given, const dw_routines *routines)
{
    const md_window_params *p = job->p;
    const int32_t image_bytes = p->input_h * p->input_w * p->input_c;
    const int32_t output_bytes = p->output_h * p->output_w * p->output_c;
    const int fast = p->filter_h == 3 && p->filter_w == 3 && p->dilation_h == 1 && p->dilation_w == 1;
    /* A record of folded constants (`given`): the layer is narrow with foldable shifts and multipliers
     * >= 0, checked at generate time. */
    const int folded = given != NULL ||
                       (fast &&
                        md_dsp_narrow_layer((const int32_t *)job->bias, job->shifts, p->output_c, p->per_channel, 9) &&
                        foldable_shifts(job->shifts, p->per_channel ? p->output_c : 1));
    /* Folded 2x2 blocks along the longer side: a tall image's planes transposed (same size). */
    const int transposed = folded && p->stride_h == p->stride_w && p->output_h > p->output_w;
    const md_window_params oriented = transposed ? transposed_params(p) : *p;
    const dw_steps image = image_steps(p);
    const dw_steps steps = transposed ? transposed_steps(&image) : image;
    const dw_plane first_plane = padded_plane(&oriented, scratch);
    const int32_t plane_size = first_plane.rows * first_plane.width;
    /* Channels copied a group at a time into as many planes (md_depthwise_s8_planes). */
    const int32_t group = grouped ? md_depthwise_s8_planes(p) : 1;
    /* A plane whose row pairs take one call of each block routine (vww's 6x6, kws' 25x5): their
     * plan set here, once for every channel. */
    const int one_call = folded && one_block_call(&oriented, first_plane.width);
    /* The whole of int8's range: the row pairs of every plane summed and requantized in one call (at
     * stride 2 from wide planes only: one int8 plane takes md_dw_folded_blocks_s2). */
    const int fused = folded && (grouped || oriented.stride_w == 1) &&
                      fused_layer(&oriented, first_plane.width, given ? NULL : job->multipliers);
    int32_t sums[DW_CHUNK];
    dw_folded local[4]; /* the group's, folded here */
    const dw_folded *folds = local;
    dw_block_plan plan = block_plan(&oriented, &steps, &first_plane, 0, sums);
    dw_fused_geometry fused_geometry = fused_plan(&oriented, &steps, &first_plane, plane_size);
    int32_t batch;
    int32_t c;
    int32_t k;
    if (fused && oriented.stride_w == 2) { /* from wide planes */
        planes_wide(job, &oriented, &steps, &first_plane, input, scratch, given, routines->copy);
        return;
    }
    plan_pairs(&plan, oriented.output_h / 2, sums);
    /* The padding, the same zero point for every channel, is set once. */
    memset(first_plane.bytes, (int8_t)-p->input_offset, (size_t)(group * plane_size + MD_PLANE_SLACK));
    if (routines->six != NULL && six_by_six(&oriented, &first_plane) && fused && group == 4) {
        routines->six(job, &oriented, &steps, input, first_plane.bytes, given);
        return;
    }
    if (routines->rows != NULL) { /* given for a fused layer of 4 planes whose rows it was made for */
        planes_rows(job, &oriented, &steps, &first_plane, input, given, routines->rows);
        return;
    }
    for (batch = 0; batch < p->batches; ++batch) {
        int8_t *output = (int8_t *)job->output + batch * output_bytes;
        for (c = 0; c < p->input_c; c += group) {
            if (group == 4) {
                copy_planes_4(&oriented, &steps, input + batch * image_bytes, c, &first_plane, plane_size);
            } else {
                copy_plane(&oriented, &steps, input + batch * image_bytes, c, &first_plane);
            }
            if (folded && group == 4) {
                folds = channel_folds(&oriented, &steps, job, given, c, 4, local);
                if (fused && oriented.output_h % 2 == 0) { /* the 4 planes in one call */
                    dw_fused_geometry group_geometry = fused_geometry;
                    group_geometry.out = output + c;
                    group_geometry.planes = 4;
                    md_dw_fused_blocks(first_plane.bytes, &group_geometry, first_plane.width, folds);
                    continue;
                }
            } else if (folded) {
                folds = channel_folds(&oriented, &steps, job, given, c, 1, local);
            }
            for (k = 0; k < group; ++k) {
                const dw_requant r = channel_requant(job, c + k);
                const dw_folded *f = folds + k;
                dw_plane plane = first_plane;
                plane.bytes += k * plane_size;
                if (folded) {
                    if (fused) {
                        plane_3x3_fused(&oriented, &steps, &plane, &fused_geometry, f, output + c + k, sums);
                    } else if (one_call) {
                        plan_fold(&plan, f);
                        block_call(&oriented, &plan, plane.bytes, plane.width, f, output + c + k, sums);
                        if (oriented.output_h % 2) {
                            plane_3x3_rows(&oriented, &steps, &plane, f, output + c + k, oriented.output_h - 1,
                                           sums);
                        }
                    } else {
                        plane_3x3_folded(&oriented, &steps, &plane, f, output + c + k, sums);
                    }
                } else if (fast) {
                    const dw_filter_3x3 f = filter_3x3(job->filter + c + k, p->output_c);
                    plane_3x3(p, &plane, &f, &r, output + c + k);
                } else {
                    plane_any(p, &plane, job->filter + c + k, &r, output + c + k);
                }
            }
        }
    }
}

static md_status depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter,
                              const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output,
                              int8_t *scratch, int grouped, const int32_t *folds, const dw_routines *routines)
{
    const int32_t multiplier = p->output_c / p->input_c;
    depthwise_int_job job;
    if (p->accumulator64 ||
        (multiplier != 1 && (scratch || multiplier % 4 != 0 || multiplier > MD_DEPTHWISE_CHUNK))) {
        md_depthwise_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
        return MD_OK;
    }
    job.p = p;
    job.dtype = MD_INT8;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    if (scratch) {
        planes_s8(&job, input, scratch, grouped, folds, routines);
    } else {
        stream_s8(&job, input);
    }
    return MD_OK;
}

/* No routine made for one shape: md_nn.h's entries that take one name it. */
static const dw_routines general = {NULL, NULL, NULL};

md_status md_depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch)
{
    return depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch, 0, NULL, &general);
}

md_status md_depthwise_s8_grouped(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                  const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                  int8_t *output, int8_t *scratch)
{
    return depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch, 1, NULL, &general);
}

md_status md_depthwise_s8_grouped_folded(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                         const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                         const int32_t *folds, int8_t *output, int8_t *scratch)
{
    return depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch, 1, folds, &general);
}

md_status md_depthwise_s8_grouped_rows(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                       const int32_t *folds, md_dw_rows_routine *rows, int8_t *output,
                                       int8_t *scratch)
{
    const dw_routines routines = {rows, NULL, NULL};
    return depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch, 1, folds, &routines);
}

md_status md_depthwise_s8_grouped_wide(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                       const int32_t *folds, md_dw_copy_routine *copy, int8_t *output,
                                       int8_t *scratch)
{
    const dw_routines routines = {NULL, copy, NULL};
    return depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch, 1, folds, &routines);
}

md_status md_depthwise_s8_grouped_six(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                      const int32_t *folds, int8_t *output, int8_t *scratch)
{
    static const dw_routines routines = {NULL, NULL, planes_six};
    return depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch, 1, folds, &routines);
}

md_status md_depthwise_s8_grouped_six_rolled(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                             const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                             const int32_t *folds, int8_t *output, int8_t *scratch)
{
    static const dw_routines routines = {NULL, NULL, planes_six_rolled};
    return depthwise_s8(p, input, filter, bias, multipliers, shifts, output, scratch, 1, folds, &routines);
}

#endif /* MD_PATH_DSP */
