/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D int8, 1x1, with few input channels (4 to 16, a multiple of 4)
 * and the filter pre-expanded to int16 (md_conv_s8_w16's layout), for cores with the DSP extension.
 *
 * A pixel's input channels are its column: no im2col of windows, four pixels' words read straight
 * from the input, each widened once (SXTAB16 with the input offset) and doubled into md_conv_s8_w16's
 * 4-column scratch, then every pair of output channels of the four walked in assembly, one copy of
 * the walk per column length, its products unrolled: short columns leave no loop to amortise. The
 * doubled columns (and biases) make each sum 2 x TFLite's, the doubling SMMLAR's requantization
 * needs, so an output costs the SMMLAR, the sign correction, the shift, the SSAT and the store.
 * Stride 2 is the same walk over other pixels. The layers md_conv_s8_w16's walk takes
 * (walk_pairs_int8: per-channel, narrow, right shifts of 1 to 22, a bias, int8's whole range), with
 * an even output channel count (md_conv_1x1_narrow_fits).
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

#define COLUMNS 4 /* md_conv_s8_w16_get_buffer_size */

/* The walk's state, copied onto its stack: offsets fixed by the assembly. */
typedef struct {
    const int32_t *records; /* #0: the next pair's (md_conv_s8_w16_records_bytes) */
    const int16_t *columns; /* #4: the four interleaved, doubled columns */
    int8_t *out;            /* #8: pixel a's output of the next pair's first channel */
    int32_t stride;         /* #12: from a pixel's outputs to the next's (0: one pixel 4 times) */
    const int8_t *end;      /* #16: out after the last pair */
} narrow_walk;

MD_STATIC_CHECK(narrow_walk_layout, sizeof(void *) == 4 && sizeof(narrow_walk) == 20);

/* A record of a pair of channels (oc, oc + 1): their biases doubled, their weights as the filter
 * holds them (md_w16_index), then per channel its requantization constants as the walk loads them:
 * (2 x output offset + 1) << (e - 1), the exponent e (a right shift of 1 to 22: walk_pairs_int8's
 * layers), the multiplier. */
#define RECORD_CONSTANTS 3

/* The products of one pair of values, a pair of channels' weight words from r1 by the four columns'
 * words from r0, into the sums r2..r9 {a0, a1, b0, b1, c0, c1, d0, d1}. Cortex-M4 and M33: loads
 * grouped (an LDRD after a load pipelines), 16 cycles per 16 MACs. Cortex-M7 (told as
 * md_conv_w16_dsp.c tells it): each load beside an SMLAD, the next pair's first words loaded during
 * this pair's last products, 8 cycles per 16 MACs. */
#if defined(__ARM_FP) && (__ARM_FP & 8) && defined(__ARM_ARCH) && __ARM_ARCH == 7
#define PRODUCTS_FIRST                                                                                            \
    "ldr r10, [r0]\n\t"                                                                                        \
    "ldr r12, [r1]\n\t"                                                                                        \
    "ldr lr, [r1, #4]\n\t"
#define PRODUCTS_HEAD                                                                                             \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "ldr r11, [r0, #4]\n\t"                                                                                    \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "ldr r10, [r0, #8]\n\t"                                                                                    \
    "smlad r4, r11, r12, r4\n\t"                                                                               \
    "smlad r5, r11, lr, r5\n\t"                                                                                \
    "ldr r11, [r0, #12]\n\t"                                                                                   \
    "smlad r6, r10, r12, r6\n\t"                                                                               \
    "smlad r7, r10, lr, r7\n\t"
#define PRODUCTS                                                                                                  \
    PRODUCTS_HEAD "ldr r10, [r0, #16]!\n\t"                                                                    \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "ldr r12, [r1, #8]!\n\t"                                                                                   \
    "smlad r9, r11, lr, r9\n\t"                                                                                \
    "ldr lr, [r1, #4]\n\t"
#define PRODUCTS_LAST                                                                                             \
    PRODUCTS_HEAD "smlad r8, r11, r12, r8\n\t"                                                                 \
    "smlad r9, r11, lr, r9\n\t"                                                                                \
    "add r1, r1, #8\n\t"
/* `pairs` pairs of values (a string): the first words, all but the last pipelined, the last. */
#define DOT(pairs) PRODUCTS_FIRST ".rept " pairs " - 1\n\t" PRODUCTS ".endr\n\t" PRODUCTS_LAST
#else
#define PRODUCTS                                                                                                  \
    "ldrd r12, lr, [r1], #8\n\t"                                                                               \
    "ldrd r10, r11, [r0], #8\n\t"                                                                              \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "smlad r4, r11, r12, r4\n\t"                                                                               \
    "smlad r5, r11, lr, r5\n\t"                                                                                \
    "ldrd r10, r11, [r0], #8\n\t"                                                                              \
    "smlad r6, r10, r12, r6\n\t"                                                                               \
    "smlad r7, r10, lr, r7\n\t"                                                                                \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "smlad r9, r11, lr, r9\n\t"
#define DOT(pairs) ".rept " pairs "\n\t" PRODUCTS ".endr\n\t"
#endif

/* The output of the doubled sum `sum` with addend r10 (half + (offset << e)), exponent r11,
 * multiplier r12, stored at `at`; r0 is scratch. */
#define OUTPUT(sum, at)                                                                                           \
    "smmlar r0, " sum ", r12, r10\n\t"                                                                       \
    "add r0, r0, " sum ", asr #31\n\t"                                                                       \
    "asr r0, r0, r11\n\t"                                                                                    \
    "ssat r0, #8, r0\n\t"                                                                                    \
    "strb r0, " at "\n\t"

/* A channel's four outputs from the sums a..d (c and d free: c used for the address), pixel a's at
 * r1, the next `lr` bytes apart. */
#define CHANNEL_OUTPUTS(a, b, c, d)                                                                               \
    OUTPUT(a, "[r1]") OUTPUT(b, "[r1, lr]") "add " a ", r1, lr, lsl #1\n\t" OUTPUT(c, "[" a "]")             \
    OUTPUT(d, "[" a ", lr]")

/* The walk over the records, `pairs` pairs of values a column (a string). */
#define WALK(pairs)                                                                                               \
    __asm__("push {r4-r11, lr}\n\t"                                                                           \
            "ldm r0, {r1-r5}\n\t"                                                                             \
            "push {r1-r5}\n\t" /* the narrow_walk at sp */                                                    \
            "1:\n\t"                                                                                          \
            "ldr r1, [sp]\n\t"                                                                                \
            "ldr r0, [sp, #4]\n\t"                                                                            \
            "ldrd r2, r3, [r1], #8\n\t"                                                                       \
            "mov r4, r2\n\t"                                                                                  \
            "mov r5, r3\n\t"                                                                                  \
            "mov r6, r2\n\t"                                                                                  \
            "mov r7, r3\n\t"                                                                                  \
            "mov r8, r2\n\t"                                                                                  \
            "mov r9, r3\n\t" DOT(pairs) "ldm r1!, {r10-r12}\n\t"                                            \
            "str r1, [sp]\n\t"                                                                                \
            "ldr r1, [sp, #8]\n\t"                                                                            \
            "ldr lr, [sp, #12]\n\t" CHANNEL_OUTPUTS("r2", "r4", "r6", "r8") "ldr r2, [sp]\n\t"             \
            "ldm r2!, {r10-r12}\n\t"                                                                          \
            "str r2, [sp]\n\t"                                                                                \
            "add r1, r1, #1\n\t" CHANNEL_OUTPUTS("r3", "r5", "r7", "r9") "add r1, r1, #1\n\t"              \
            "str r1, [sp, #8]\n\t"                                                                            \
            "ldr r0, [sp, #16]\n\t"                                                                           \
            "cmp r1, r0\n\t"                                                                                  \
            "bne 1b\n\t"                                                                                      \
            "add sp, sp, #20\n\t"                                                                             \
            "pop {r4-r11, pc}")

typedef void (*walk_function)(const narrow_walk *walk);

#define WALK_FUNCTION(name, pairs)                                                                                \
    __attribute__((naked, noinline)) static void name(const narrow_walk *walk __attribute__((unused)))     \
    {                                                                                                           \
        WALK(pairs);                                                                                            \
    }
WALK_FUNCTION(walk_4, "2")
WALK_FUNCTION(walk_8, "4")
WALK_FUNCTION(walk_12, "6")
WALK_FUNCTION(walk_16, "8")
#undef WALK_FUNCTION
#undef WALK
#undef CHANNEL_OUTPUTS
#undef OUTPUT
#undef DOT
#undef PRODUCTS
#undef PRODUCTS_FIRST
#undef PRODUCTS_HEAD
#undef PRODUCTS_LAST

/* Column `column` of the scratch from the pixel at `pixel` (`words` words): each word's two pairs
 * plus the input offset, doubled, where md_conv_s8_w16's column order puts them. */
static MD_ALWAYS_INLINE void fill_column(int16x2_t offsets, const int8_t *pixel, int32_t words, int16_t *scratch,
                                         int32_t column)
{
    int16_t *values = scratch + 2 * column;
    int32_t i;
    for (i = 0; i < words; ++i, pixel += 4, values += 4 * COLUMNS) {
        const uint32_t word = md_read32(pixel);
        const int16x2_t even = md_even_pair_add(offsets, word);
        const int16x2_t odd = md_odd_pair_add(offsets, word);
        md_write32(values, (uint32_t)__sadd16(even, even));
        md_write32(values + 2 * COLUMNS, (uint32_t)__sadd16(odd, odd));
    }
}

/* The input pixels of a batch's output pixels in order: a row's next `step` bytes on, the next
 * row's first `row_step` bytes after this row's. */
typedef struct {
    const int8_t *row;
    const int8_t *at;
    int32_t x;
} pixel_cursor;

static MD_ALWAYS_INLINE const int8_t *next_pixel(pixel_cursor *cursor, int32_t width, int32_t step, int32_t row_step)
{
    const int8_t *pixel = cursor->at;
    if (++cursor->x == width) {
        cursor->x = 0;
        cursor->row += row_step;
        cursor->at = cursor->row;
    } else {
        cursor->at += step;
    }
    return pixel;
}

/* The records of the layer's pairs of channels from `record` on. */
static void pack_records(const md_window_params *p, const int16_t *filter, const int32_t *bias,
                         const int32_t *multipliers, const int32_t *shifts, int32_t *record)
{
    const int32_t depth = p->input_c;
    const uint32_t offset = 2u * (uint32_t)p->output_offset + 1u;
    int32_t oc;
    int32_t k;
    for (oc = 0; oc < p->output_c; oc += 2, record += depth + 2 + 2 * RECORD_CONSTANTS) {
        int32_t *constants = record + 2 + depth;
        record[0] = (int32_t)((uint32_t)bias[oc] << 1);
        record[1] = (int32_t)((uint32_t)bias[oc + 1] << 1);
        memcpy(record + 2, filter + oc * depth, (size_t)depth * 4u);
        for (k = 0; k < 2; ++k, constants += RECORD_CONSTANTS) {
            const int32_t exponent = -shifts[oc + k];
            constants[0] = (int32_t)(offset << (exponent - 1));
            constants[1] = exponent;
            constants[2] = multipliers[oc + k];
        }
    }
}

void md_conv_1x1_narrow_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter,
                               const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                               int8_t *output, int16_t *scratch)
{
    static const walk_function walks[4] = {walk_4, walk_8, walk_12, walk_16};
    const int32_t words = p->input_c / 4;
    const walk_function walk_pairs = walks[words - 1];
    const int32_t pixels = p->output_h * p->output_w;
    const int32_t step = p->stride_w * p->input_c;
    const int32_t row_step = p->stride_h * p->input_w * p->input_c;
    const int16x2_t offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    int32_t *records = (int32_t *)(void *)(scratch + COLUMNS * p->input_c);
    narrow_walk walk;
    int32_t batch;
    int32_t pixel;
    int32_t column;
    pack_records(p, filter, bias, multipliers, shifts, records);
    walk.columns = scratch;
    for (batch = 0; batch < p->batches; ++batch) {
        pixel_cursor cursor;
        cursor.row = input + batch * p->input_h * p->input_w * p->input_c;
        cursor.at = cursor.row;
        cursor.x = 0;
        for (pixel = 0; pixel < pixels;) {
            /* four pixels, then a last few one at a time (its column 4 times, its outputs in one place) */
            const int32_t count = pixels - pixel >= COLUMNS ? COLUMNS : 1;
            if (count == COLUMNS) {
                for (column = 0; column < COLUMNS; ++column) {
                    fill_column(offsets, next_pixel(&cursor, p->output_w, step, row_step), words, scratch, column);
                }
            } else {
                const int8_t *lone = next_pixel(&cursor, p->output_w, step, row_step);
                for (column = 0; column < COLUMNS; ++column) {
                    fill_column(offsets, lone, words, scratch, column);
                }
            }
            walk.records = records;
            walk.out = output + (batch * pixels + pixel) * p->output_c;
            walk.stride = count == COLUMNS ? p->output_c : 0;
            walk.end = walk.out + p->output_c;
            walk_pairs(&walk);
            pixel += count;
        }
    }
}

#endif /* MD_PATH_DSP */
