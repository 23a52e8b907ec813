/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D int8, 1x1, with few input channels (4 to 16, a multiple of 4)
 * and the filter pre-expanded to int16 (md_conv_s8_w16's layout), for cores with the DSP extension.
 *
 * Short columns leave nothing to amortise a pixel's or a channel's overhead over, so:
 * - a pixel's input channels are its column: four pixels' words read straight from the input and
 *   widened once (SXTAB16 with the input offset) into md_conv_s8_w16's 4-column scratch, in the
 *   same assembly as the walk (no im2col of windows); stride 2 only picks other pixels;
 * - each pair of output channels has a record in the scratch after the columns, written once per
 *   call (md_conv_s8_w16_records_bytes): its biases and weights doubled (each sum 2 x TFLite's, the
 *   doubling SMMLAR's requantization needs: an output costs the SMMLAR, the sign correction, the
 *   shift, the SSAT and the store) and its channels' requantization constants, one pointer's LDRD
 *   and LDMs from RAM instead of four arrays' loads from flash;
 * - one copy of the walk per column length, its products unrolled, the first pair of values
 *   adding to the biases in place of copying them into the sums.
 * The layers md_conv_s8_w16's walk takes (walk_pairs_int8: per-channel, narrow, right shifts of 1
 * to 22, a bias, int8's whole range).
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

#define COLUMNS 4 /* md_conv_s8_w16_get_buffer_size */

/* The walk's arguments: offsets fixed by the assembly. */
typedef struct {
    const int32_t *records;       /* #0: the first pair's */
    int16_t *columns;             /* #4: the four interleaved columns (the scratch) */
    int8_t *out;                  /* #8: pixel a's output of the first channel */
    int32_t stride;               /* #12: from a pixel's outputs to the next's (0: one pixel 4 times) */
    const int8_t *end;            /* #16: out after the last pair */
    const int8_t *pixels[COLUMNS]; /* #20: the four pixels' input channels */
    int16x2_t offsets;            /* #36: the input offset in both halves */
} narrow_walk;

MD_STATIC_CHECK(narrow_walk_layout, sizeof(void *) == 4 && sizeof(narrow_walk) == 40);

/* A record of a pair of channels (oc, oc + 1): their biases and weights doubled, the weights as the
 * filter holds them (md_w16_index), then per channel its requantization constants as the walk loads
 * them: (2 x output offset + 1) << (e - 1), the exponent e (a right shift), the multiplier. */
#define RECORD_CONSTANTS 3

/* One word of each of the four pixels (r6..r9, advanced), plus the input offsets (r10), into the
 * columns at r0 (advanced): the even pairs of the four, then the odd ones (md_w16_index's order). */
#define FILL_WORD                                                                                                 \
    "ldr r2, [r6], #4\n\t"                                                                                     \
    "ldr r3, [r7], #4\n\t"                                                                                     \
    "ldr r4, [r8], #4\n\t"                                                                                     \
    "ldr r5, [r9], #4\n\t"                                                                                     \
    "sxtab16 r1, r10, r2\n\t"                                                                                  \
    "sxtab16 r11, r10, r3\n\t"                                                                                 \
    "sxtab16 r12, r10, r4\n\t"                                                                                 \
    "sxtab16 lr, r10, r5\n\t"                                                                                  \
    "stm r0!, {r1, r11, r12, lr}\n\t"                                                                          \
    "sxtab16 r1, r10, r2, ror #8\n\t"                                                                          \
    "sxtab16 r11, r10, r3, ror #8\n\t"                                                                         \
    "sxtab16 r12, r10, r4, ror #8\n\t"                                                                         \
    "sxtab16 lr, r10, r5, ror #8\n\t"                                                                          \
    "stm r0!, {r1, r11, r12, lr}\n\t"

/* The products of the pairs of values of a pair of channels' weight words from r1 by the four
 * columns' words from r0, into the sums r2..r9 {a0, a1, b0, b1, c0, c1, d0, d1}, the first pair
 * added to the biases in r2 and r3 (both pointers advanced past what they read). Cortex-M4 and
 * M33: loads grouped (an LDRD after a load pipelines), 16 cycles per 16 MACs. Cortex-M7 (told as
 * md_conv_w16_dsp.c tells it): each load beside an SMLAD, the next pair's first words loaded during
 * this pair's last products, 8 cycles per 16 MACs; the biases copied first (dual-issued). */
#if defined(__ARM_FP) && (__ARM_FP & 8) && defined(__ARM_ARCH) && __ARM_ARCH == 7
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
/* `pairs` pairs of values (a string). */
#define DOT(pairs)                                                                                                \
    "mov r4, r2\n\t"                                                                                           \
    "mov r5, r3\n\t"                                                                                           \
    "mov r6, r2\n\t"                                                                                           \
    "mov r7, r3\n\t"                                                                                           \
    "mov r8, r2\n\t"                                                                                           \
    "mov r9, r3\n\t"                                                                                           \
    "ldr r10, [r0]\n\t"                                                                                        \
    "ldr r12, [r1]\n\t"                                                                                        \
    "ldr lr, [r1, #4]\n\t"                                                                                     \
    ".rept " pairs " - 1\n\t" PRODUCTS ".endr\n\t" PRODUCTS_HEAD "smlad r8, r11, r12, r8\n\t"                 \
    "smlad r9, r11, lr, r9\n\t"                                                                               \
    "add r1, r1, #8\n\t"
#else
#define PRODUCTS_FROM_BIASES                                                                                      \
    "ldrd r12, lr, [r1], #8\n\t"                                                                               \
    "ldrd r10, r11, [r0, #8]\n\t"                                                                              \
    "smlad r6, r10, r12, r2\n\t"                                                                               \
    "smlad r7, r10, lr, r3\n\t"                                                                                \
    "smlad r8, r11, r12, r2\n\t"                                                                               \
    "smlad r9, r11, lr, r3\n\t"                                                                                \
    "ldrd r10, r11, [r0], #16\n\t"                                                                             \
    "smlad r4, r11, r12, r2\n\t"                                                                               \
    "smlad r5, r11, lr, r3\n\t"                                                                                \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"
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
#define DOT(pairs) PRODUCTS_FROM_BIASES ".rept " pairs " - 1\n\t" PRODUCTS ".endr\n\t"
#endif

/* The output of the doubled sum `sum` with addend r10 (half + (offset << e)), exponent r11,
 * multiplier r12, stored at `at`; r0 is scratch. */
#define OUTPUT(sum, at)                                                                                           \
    "smmlar r0, " sum ", r12, r10\n\t"                                                                       \
    "add r0, r0, " sum ", asr #31\n\t"                                                                       \
    "asr r0, r0, r11\n\t"                                                                                    \
    "ssat r0, #8, r0\n\t"                                                                                    \
    "strb r0, " at "\n\t"

/* A channel's four outputs from the sums a..d, pixel a's at r1, the next `lr` bytes apart (a, once
 * stored, the address of c's). */
#define CHANNEL_OUTPUTS(a, b, c, d)                                                                               \
    OUTPUT(a, "[r1]") OUTPUT(b, "[r1, lr]") "add " a ", r1, lr, lsl #1\n\t" OUTPUT(c, "[" a "]")               \
    OUTPUT(d, "[" a ", lr]")

/* The columns filled, then the walk over the records: `words` words a pixel, `pairs` = 2 x words
 * pairs of values a column (strings). The record pointer, columns, outputs, stride and end stay on
 * the stack (#0 to #16, narrow_walk's first five). */
#define WALK(words, pairs)                                                                                        \
    __asm__("push {r4-r11, lr}\n\t"                                                                           \
            "ldm r0!, {r1-r5}\n\t"                                                                            \
            "push {r1-r5}\n\t"                                                                                \
            "ldm r0, {r6-r10}\n\t" /* the pixels, the input offsets */                                        \
            "mov r0, r2\n\t"                                                                                  \
            ".rept " words "\n\t" FILL_WORD ".endr\n\t"                                                       \
            "1:\n\t"                                                                                          \
            "ldr r1, [sp]\n\t"                                                                                \
            "ldr r0, [sp, #4]\n\t"                                                                            \
            "ldrd r2, r3, [r1], #8\n\t" DOT(pairs) "ldm r1!, {r10-r12}\n\t"                                  \
            "str r1, [sp]\n\t"                                                                                \
            "ldr r1, [sp, #8]\n\t"                                                                            \
            "ldr lr, [sp, #12]\n\t" CHANNEL_OUTPUTS("r2", "r4", "r6", "r8") "ldr r2, [sp]\n\t"               \
            "ldm r2!, {r10-r12}\n\t"                                                                          \
            "str r2, [sp]\n\t"                                                                                \
            "add r1, r1, #1\n\t" CHANNEL_OUTPUTS("r3", "r5", "r7", "r9") "add r1, r1, #1\n\t"                \
            "str r1, [sp, #8]\n\t"                                                                            \
            "ldr r0, [sp, #16]\n\t"                                                                           \
            "cmp r1, r0\n\t"                                                                                  \
            "bne 1b\n\t"                                                                                      \
            "add sp, sp, #20\n\t"                                                                             \
            "pop {r4-r11, pc}")

typedef void (*walk_function)(const narrow_walk *walk);

#define WALK_FUNCTION(name, words, pairs)                                                                         \
    __attribute__((naked, noinline)) static void name(const narrow_walk *walk __attribute__((unused)))     \
    {                                                                                                           \
        WALK(words, pairs);                                                                                     \
    }
WALK_FUNCTION(walk_4, "1", "2")
WALK_FUNCTION(walk_8, "2", "4")
WALK_FUNCTION(walk_12, "3", "6")
WALK_FUNCTION(walk_16, "4", "8")
#undef WALK_FUNCTION
#undef WALK
#undef CHANNEL_OUTPUTS
#undef OUTPUT
#undef DOT
#undef PRODUCTS
#undef PRODUCTS_FROM_BIASES
#undef PRODUCTS_HEAD
#undef FILL_WORD

/* The records of the layer's pairs of channels from `record` on. */
static void pack_records(const md_window_params *p, const int16_t *filter, const int32_t *bias,
                         const int32_t *multipliers, const int32_t *shifts, int32_t *record)
{
    const int32_t depth = p->input_c;
    const uint32_t offset = 2u * (uint32_t)p->output_offset + 1u;
    int32_t oc;
    int32_t k;
    for (oc = 0; oc < p->output_c; oc += 2, record += depth + 2 + 2 * RECORD_CONSTANTS) {
        const int16_t *weights = filter + oc * depth;
        int16_t *doubled = (int16_t *)(void *)(record + 2);
        int32_t *constants = record + 2 + depth;
        record[0] = (int32_t)((uint32_t)bias[oc] << 1);
        record[1] = (int32_t)((uint32_t)bias[oc + 1] << 1);
        for (k = 0; k < 2 * depth; ++k) {
            doubled[k] = (int16_t)(2 * weights[k]);
        }
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
    const walk_function walk_pairs = walks[p->input_c / 4 - 1];
    const int32_t pixels = p->output_h * p->output_w;
    const int32_t step = p->stride_w * p->input_c;
    const int32_t row_step = p->stride_h * p->input_w * p->input_c;
    int32_t *records = (int32_t *)(void *)(scratch + COLUMNS * p->input_c);
    narrow_walk walk;
    int32_t batch;
    int32_t pixel;
    int32_t column;
    pack_records(p, filter, bias, multipliers, shifts, records);
    walk.records = records;
    walk.columns = scratch;
    walk.offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *row = input + batch * p->input_h * p->input_w * p->input_c;
        const int8_t *at = row;
        int32_t x = 0;
        for (pixel = 0; pixel < pixels;) {
            /* four pixels, then a last few one at a time (its column 4 times, its outputs in one place) */
            const int32_t count = pixels - pixel >= COLUMNS ? COLUMNS : 1;
            for (column = 0; column < COLUMNS; ++column) {
                walk.pixels[column] = at;
                if (column < count) { /* the next output pixel's input: along the row, or the next row's first */
                    if (++x == p->output_w) {
                        x = 0;
                        row += row_step;
                        at = row;
                    } else {
                        at += step;
                    }
                }
            }
            if (count == 1) {
                walk.pixels[1] = walk.pixels[2] = walk.pixels[3] = walk.pixels[0];
            }
            walk.out = output + (batch * pixels + pixel) * p->output_c;
            walk.stride = count == COLUMNS ? p->output_c : 0;
            walk.end = walk.out + p->output_c;
            walk_pairs(&walk);
            pixel += count;
        }
    }
}

#endif /* MD_PATH_DSP */
