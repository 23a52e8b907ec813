/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: md_depthwise_s8_small (md_nn.h), int8 depthwise layers whose output is 3x3,
 * on cores with the DSP extension: called only by the generated code of such a layer. */
#include "md_depthwise_dsp_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_small_dsp);

/* ------------------------------------------------------------------ 3x3 output images */

/* Narrow 3x3 layers whose output is 3x3 (vww's and person_detect's 3x3x256 at stride 1 and 6x6 -> 3x3 at
 * stride 2), with their generate-time record (md_depthwise_s8_grouped_folded's `folds`: SMALL_RECORD of
 * params/requantization.py fold_records), straight from the NHWC image, no padded plane: a group of 4
 * channels' pixels unpacked once into int16 pairs of one channel (the input offset added: SXTAB16), then each
 * channel's 9 outputs from the taps inside the image only (each output position with its own, unrolled),
 * two taps an SMLAD, requantized as md_dw_fused_blocks does (doubled weights, one SMMLAR). */

/* One channel's record (params/requantization.py SMALL_RECORD int32): each row of the doubled weights as the
 * pairs {2 w0, 2 w1} (low) and {2 w1, 2 w2} (high), the doubled bias (the offset is in the values), the
 * multiplier (>= 0), the exponent (the shift's negation, in 1..22) and folded_addend. 40 bytes: the
 * assembly reads the row pairs at #8 u, the requantization at #24..#36. */
typedef struct {
    int32_t row[3][2];
    int32_t start, multiplier, exponent, addend;
} dw_small_folded;

/* The pairs of channels c and c + 2 ({a, b}: even) or c + 1 and c + 3 (odd) of pixels a and b, each
 * {channel of a, channel of b} (PKHBT, PKHTB). */
static MD_ALWAYS_INLINE void pixel_pairs(uint32_t a, uint32_t b, uint32_t offsets, int32_t *to, int32_t step)
{
    const int32_t even_a = (int32_t)md_even_pair_add((int16x2_t)offsets, a);
    const int32_t even_b = (int32_t)md_even_pair_add((int16x2_t)offsets, b);
    const int32_t odd_a = (int32_t)md_odd_pair_add((int16x2_t)offsets, a);
    const int32_t odd_b = (int32_t)md_odd_pair_add((int16x2_t)offsets, b);
    to[0] = bottoms((int16x2_t)even_a, (int16x2_t)even_b);
    to[step] = bottoms((int16x2_t)odd_a, (int16x2_t)odd_b);
    to[2 * step] = tops((int16x2_t)even_a, (int16x2_t)even_b);
    to[3 * step] = tops((int16x2_t)odd_a, (int16x2_t)odd_b);
}

/* One output from its doubled sum (folded_output's rounding with the sum's sign, one SMMLAR), clamped. */
static MD_ALWAYS_INLINE int8_t small_output(int32_t sum, const dw_small_folded *f, int32_t low, int32_t high)
{
    int32_t y;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(y) : "r"(sum), "r"(f->multiplier), "r"(f->addend + (sum >> 31)));
    return (int8_t)md_clamp_i32(__ssat(y >> f->exponent, 8), low, high);
}

/* Stride 1, 3x3 image: the pairs {x0, x1} and {x1, x2} of each image row, 6 words a channel. */
static void small_pairs_s1(const int8_t *image, int32_t channels, uint32_t offsets, int32_t *pairs)
{
    int32_t y;
    for (y = 0; y < 3; ++y, image += 3 * channels, pairs += 2) {
        const uint32_t x0 = md_read32(image), x1 = md_read32(image + channels), x2 = md_read32(image + 2 * channels);
        pixel_pairs(x0, x1, offsets, pairs, 6);
        pixel_pairs(x1, x2, offsets, pairs + 1, 6);
    }
}

/* Output (r, s) of image row y under filter row u, stride 1: {x0, x1} . {w1, w2} (s 0); {x0, x1} . {w0, w1}
 * + x2 w2 (s 1); {x1, x2} . {w0, w1} (s 2). */
#define DW_S1_TERMS(y, u) \
    s0 = __smlad(x[2 * (y)], f->row[u][1], s0); \
    s1 = __smlad(x[2 * (y)], f->row[u][0], s1); \
    s1 = __smlatt(x[2 * (y) + 1], f->row[u][1], s1); \
    s2 = __smlad(x[2 * (y) + 1], f->row[u][0], s2);

/* An output row's three sums requantized to out, out + channels and out + 2 channels; the next row's out. */
static MD_ALWAYS_INLINE int8_t *small_row_s1(int8_t *out, int32_t channels, int32_t s0, int32_t s1, int32_t s2,
                                             const dw_small_folded *f, int32_t low, int32_t high)
{
    out[0] = small_output(s0, f, low, high);
    out[channels] = small_output(s1, f, low, high);
    out[2 * channels] = small_output(s2, f, low, high);
    return out + 3 * channels;
}

static void small_channel_s1(const int32_t *values, const dw_small_folded *folded, int8_t *out, int32_t channels,
                             int32_t low, int32_t high)
{
    /* Locals: the int8 stores may alias the record and the values. */
    const dw_small_folded record = *folded;
    const dw_small_folded *f = &record;
    const int32_t x[6] = {values[0], values[1], values[2], values[3], values[4], values[5]};
    int32_t s0 = f->start, s1 = f->start, s2 = f->start;
    DW_S1_TERMS(0, 1)
    DW_S1_TERMS(1, 2)
    out = small_row_s1(out, channels, s0, s1, s2, f, low, high);
    s0 = s1 = s2 = f->start;
    DW_S1_TERMS(0, 0)
    DW_S1_TERMS(1, 1)
    DW_S1_TERMS(2, 2)
    out = small_row_s1(out, channels, s0, s1, s2, f, low, high);
    s0 = s1 = s2 = f->start;
    DW_S1_TERMS(1, 0)
    DW_S1_TERMS(2, 1)
    small_row_s1(out, channels, s0, s1, s2, f, low, high);
}

/* The sums of an output row from the terms of image row y under filter row u (DW_S1_TERMS): the first
 * from start (r3), the others (`next`) added. */
#define DW_SMALL_S1_LOADS(y, u) \
    "ldrd r4, r5, [r0, #" #y " * 8]\n\t" \
    "ldrd r6, r7, [r1, #" #u " * 8]\n\t"
#define DW_SMALL_S1_FIRST \
    "smlad r8, r4, r7, r3\n\t" \
    "smlad r9, r4, r6, r3\n\t" \
    "smlad r10, r5, r6, r3\n\t" \
    "smlatt r9, r5, r7, r9\n\t"
#define DW_SMALL_S1_NEXT \
    "smlad r8, r4, r7, r8\n\t" \
    "smlad r9, r4, r6, r9\n\t" \
    "smlad r10, r5, r6, r10\n\t" \
    "smlatt r9, r5, r7, r9\n\t"

/* r8..r10 requantized (DW_FUSED_TERM, the exponent, SSAT; no result read by the next instruction: the
 * M33 waits for them) with the temporaries t and u (the term's filter row: its values stay for the next
 * output row's first term), stored at `base` + `at` (an expression), 4 and 8 bytes on (an output row's 3
 * pixels in byte k of the output words), `then` between the first store and the others. */
#define DW_SMALL_OUTPUTS_3(base, at, t, u, then) \
    "add " t ", lr, r8, asr #31\n\t" \
    "add " u ", lr, r9, asr #31\n\t" \
    "smmlar r8, r8, r11, " t "\n\t" \
    "add " t ", lr, r10, asr #31\n\t" \
    "smmlar r9, r9, r11, " u "\n\t" \
    "smmlar r10, r10, r11, " t "\n\t" \
    "asr r8, r8, r12\n\t" \
    "asr r9, r9, r12\n\t" \
    "asr r10, r10, r12\n\t" \
    "ssat r8, #8, r8\n\t" \
    "ssat r9, #8, r9\n\t" \
    "ssat r10, #8, r10\n\t" \
    "strb r8, [" base ", #(" at ")]\n\t" \
    then \
    "strb r9, [" base ", #(" at ") + 4]\n\t" \
    "strb r10, [" base ", #(" at ") + 8]\n\t"

/* small_s8's layer at the whole of int8's range, in assembly, a group of 4 channels a loop: the group's
 * pairs (small_pairs_s1 / small_pairs_s2) on the stack, then each channel's outputs into byte k of 9 words
 * on the stack (a pixel a word), then the 9 words to the output. */
typedef struct {
    const int8_t *image;  /* at channel 0 of pixel 0 */
    int8_t *out;          /* likewise */
    const dw_small_folded *folds;
    int32_t channels;     /* a multiple of 4 */
    uint32_t offsets;     /* the input offset in each halfword */
    int32_t groups;       /* channels / 4 */
} dw_small_args;

/* The stack: 4 channels' pairs (DW_SMALL_PAIRS bytes), the 9 output words, then the dw_small_args. */
#define DW_SMALL_FRAME_S1 "160"
#define DW_SMALL_FRAME_S2 "352"

void md_dw_small_s1_layer(const dw_small_args *args);

/* One image row's pairs from the pixels at `base`, base + r1, base + 2 r1 (r2 the offsets): channel k's
 * {x0, x1} at sp + 24 k + 8 y, its {x1, x2} 4 bytes on. */
#define DW_SMALL_S1_ROW(base, y) \
    "ldr r4, [" base "]\n\t" \
    "ldr r5, [" base ", r1]\n\t" \
    "ldr r6, [" base ", r1, lsl #1]\n\t" \
    "sxtab16 r7, r2, r4\n\t" \
    "sxtab16 r4, r2, r4, ror #8\n\t" \
    "sxtab16 r8, r2, r5\n\t" \
    "sxtab16 r5, r2, r5, ror #8\n\t" \
    "sxtab16 r9, r2, r6\n\t" \
    "sxtab16 r6, r2, r6, ror #8\n\t" \
    "pkhbt r10, r7, r8, lsl #16\n\t" \
    "pkhbt r11, r8, r9, lsl #16\n\t" \
    "pkhtb r7, r8, r7, asr #16\n\t" \
    "pkhtb r8, r9, r8, asr #16\n\t" \
    "str r10, [sp, #" #y " * 8]\n\t" \
    "str r11, [sp, #" #y " * 8 + 4]\n\t" \
    "pkhbt r10, r4, r5, lsl #16\n\t" \
    "pkhbt r11, r5, r6, lsl #16\n\t" \
    "str r7, [sp, #" #y " * 8 + 48]\n\t" \
    "str r8, [sp, #" #y " * 8 + 52]\n\t" \
    "pkhtb r4, r5, r4, asr #16\n\t" \
    "pkhtb r5, r6, r5, asr #16\n\t" \
    "str r10, [sp, #" #y " * 8 + 24]\n\t" \
    "str r11, [sp, #" #y " * 8 + 28]\n\t" \
    "str r4, [sp, #" #y " * 8 + 72]\n\t" \
    "str r5, [sp, #" #y " * 8 + 76]\n\t"

/* One channel's 9 outputs at stride 1 (md_dw_small_s1's loop body): r0 its pairs, r1 its record, r2 its
 * byte of the output words. */
#define DW_SMALL_S1_CHANNEL \
    "ldrd r3, r11, [r1, #24]\n\t" /* start, multiplier */ \
    "ldrd r12, lr, [r1, #32]\n\t" /* exponent, addend */ \
    DW_SMALL_S1_LOADS(0, 1) DW_SMALL_S1_FIRST \
    DW_SMALL_S1_LOADS(1, 2) DW_SMALL_S1_NEXT \
    DW_SMALL_OUTPUTS_3("r2", "0", "r6", "r7", "") \
    "ldrd r6, r7, [r1, #8]\n\t" DW_SMALL_S1_FIRST /* image row 1 kept: filter row 1 */ \
    DW_SMALL_S1_LOADS(0, 0) DW_SMALL_S1_NEXT \
    DW_SMALL_S1_LOADS(2, 2) DW_SMALL_S1_NEXT \
    DW_SMALL_OUTPUTS_3("r2", "12", "r6", "r7", "") \
    "ldrd r6, r7, [r1, #8]\n\t" DW_SMALL_S1_FIRST /* image row 2 kept: filter row 1 */ \
    DW_SMALL_S1_LOADS(1, 0) DW_SMALL_S1_NEXT \
    DW_SMALL_OUTPUTS_3("r2", "24", "r6", "r7", "")

/* The 9 output words at sp + `words` to the output (r1 the channels), the group's image, output and
 * record moved on, and the next group (1b) while any is left. */
#define DW_SMALL_GROUP_END(words, args) \
    "str r1, [sp, #" args " + 8]\n\t" /* the next group's records */ \
    "add r0, sp, #" words "\n\t" \
    "ldm r0, {r3-r11}\n\t" \
    "ldr r0, [sp, #" args " + 4]\n\t" /* out */ \
    "ldr r1, [sp, #" args " + 12]\n\t" /* channels */ \
    "add r12, r1, r1, lsl #1\n\t" \
    "str r3, [r0]\n\t" \
    "add lr, r0, r12\n\t" \
    "str r4, [r0, r1]\n\t" \
    "add r2, lr, r12\n\t" \
    "str r5, [r0, r1, lsl #1]\n\t" \
    "str r6, [lr]\n\t" \
    "str r7, [lr, r1]\n\t" \
    "str r8, [lr, r1, lsl #1]\n\t" \
    "str r9, [r2]\n\t" \
    "str r10, [r2, r1]\n\t" \
    "str r11, [r2, r1, lsl #1]\n\t" \
    "ldr r2, [sp, #" args "]\n\t" /* image */ \
    "adds r0, r0, #4\n\t" \
    "ldr r3, [sp, #" args " + 20]\n\t" /* groups left */ \
    "str r0, [sp, #" args " + 4]\n\t" \
    "adds r2, r2, #4\n\t" \
    "str r2, [sp, #" args "]\n\t" \
    "subs r3, r3, #1\n\t" \
    "str r3, [sp, #" args " + 20]\n\t" \
    "bne 1b\n\t"

__asm__(MD_ASM_FUNCTION("md_dw_small_s1_layer")
                "push {r4-r11, lr}\n\t"
        "sub sp, sp, #" DW_SMALL_FRAME_S1 "\n\t"
        "ldm r0, {r1-r6}\n\t"
        "add r7, sp, #132\n\t"
        "stm r7, {r1-r6}\n"
        "1:\n\t"
        "ldr r0, [sp, #132]\n\t" /* image */
        "ldrd r1, r2, [sp, #144]\n\t" /* channels, offsets */
        "add r12, r1, r1, lsl #1\n\t"
        "add r3, r0, r12\n\t"
        "add r12, r3, r12\n\t"
        DW_SMALL_S1_ROW("r0", 0)
        DW_SMALL_S1_ROW("r3", 1)
        DW_SMALL_S1_ROW("r12", 2)
        "mov r0, sp\n\t"
        "ldr r1, [sp, #140]\n\t" /* the group's records */
        "add r2, sp, #96\n"
        "2:\n\t"
        DW_SMALL_S1_CHANNEL
        "adds r0, r0, #24\n\t"
        "adds r1, r1, #40\n\t"
        "adds r2, r2, #1\n\t"
        "tst r2, #3\n\t" /* past channel 3's byte */
        "bne 2b\n\t"
        DW_SMALL_GROUP_END("96", "132")
        "add sp, sp, #" DW_SMALL_FRAME_S1 "\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_small_s1_layer, .-md_dw_small_s1_layer\n\t"
        ".popsection");

void md_dw_small_s2_layer(const dw_small_args *args);
/* The same with its loops rolled (672 B on the M4 where it takes 2,692 B): behind a small flash cache (ST's
 * 1 KB ART), which misses the unrolled one's every line on every group. */
void md_dw_small_s2_rolled(const dw_small_args *args);

/* The pairs of pixels 2 i .. 2 i + 3 from r0 on (r1 the channels, r3 three times them, r2 the offsets, r0
 * moved 4 pixels on): channel k's pair i at `base` + 72 k + 4 i, each pixel pair's bytes of channels 0 and 1
 * and of 2 and 3 packed into a word (PKHBT, PKHTB), then SXTAB16 (with the offset) of either byte pair. */
/* The entry of a stride-2 routine `name` (its own section): the registers and the frame pushed, the
 * group's arguments (r0) kept on the stack at 324, then each group's image (r0), channels and offsets
 * (r1, r2) and 3 x the channels (r3) at label 1. */
#define DW_SMALL_S2_ENTRY(name) \
    MD_ASM_FUNCTION(name) \
        "push {r4-r11, lr}\n\t" \
    "sub sp, sp, #" DW_SMALL_FRAME_S2 "\n\t" \
    "ldm r0, {r1-r6}\n\t" \
    "add r7, sp, #324\n\t" \
    "stm r7, {r1-r6}\n" \
    "1:\n\t" \
    "ldr r0, [sp, #324]\n\t" \
    "ldrd r1, r2, [sp, #336]\n\t" \
    "add r3, r1, r1, lsl #1\n\t"

#define DW_SMALL_S2_PAIR(a, b, base, i) \
    "pkhbt r8, " a ", " b ", lsl #16\n\t" /* bytes {a0, a1, b0, b1} */ \
    "pkhtb r9, " b ", " a ", asr #16\n\t" /* {a2, a3, b2, b3} */ \
    "sxtab16 r10, r2, r8\n\t" \
    "sxtab16 r11, r2, r8, ror #8\n\t" \
    "sxtab16 r8, r2, r9\n\t" \
    "sxtab16 r9, r2, r9, ror #8\n\t" \
    "str r10, [" base ", #4 * (" #i ")]\n\t" \
    "str r11, [" base ", #4 * (" #i ") + 72]\n\t" \
    "str r8, [" base ", #4 * (" #i ") + 144]\n\t" \
    "str r9, [" base ", #4 * (" #i ") + 216]\n\t"
#define DW_SMALL_S2_PAIRS(base, i) \
    "ldr r4, [r0]\n\t" \
    "ldr r5, [r0, r1]\n\t" \
    "ldr r6, [r0, r1, lsl #1]\n\t" \
    "ldr r7, [r0, r3]\n\t" \
    "add r0, r0, r1, lsl #2\n\t" \
    DW_SMALL_S2_PAIR("r4", "r5", base, i) \
    DW_SMALL_S2_PAIR("r6", "r7", base, i + 1)

/* The words at `base` + `at` (immediate offsets, strings) and 4 bytes on into `a` and `b`: an LDRD on the
 * Cortex-M7 (MD_DUAL_ISSUE: fewer cycles there), two LDRs elsewhere (the M4 takes an LDRD in 3 cycles and
 * pipelines it with no load beside it, N consecutive LDRs in N + 1; the M33 the same either way). */
#if MD_DUAL_ISSUE
#define DW_SMALL_LOAD_PAIR(a, b, base, at) "ldrd " a ", " b ", [" base ", #(" at ")]\n\t"
#else
#define DW_SMALL_LOAD_PAIR(a, b, base, at) \
    "ldr " a ", [" base ", #(" at ")]\n\t" \
    "ldr " b ", [" base ", #(" at ") + 4]\n\t"
#endif

/* The terms of image row y under filter row u at stride 2 (DW_S2_TERMS) for channel k of the group, whose
 * pairs are at `pairs` + 72 k and record at r1 + 40 k: r4..r6 the image row's pairs, the filter row's in
 * `lo` and `hi` (row 0: r0 and r2, loaded once a channel, or r7 and r3 reloaded, `reload`) or r7 and r3;
 * the first of an output row from start (r8), each load two instructions before its use. Unrolled, the
 * channels at sp (every address an immediate offset); rolled, one at r0 a pass (r1, r2 moved on). */
__asm__(".macro md_dws2_first pairs, k, y\n\t"
        "ldr r8, [r1, #(40 * \\k + 24)]\n\t"
        DW_SMALL_LOAD_PAIR("r5", "r6", "\\pairs", "72 * \\k + 12 * \\y + 4")
        "ldr r4, [\\pairs, #(72 * \\k + 12 * \\y)]\n\t"
        ".endm\n\t"
        /* the first term's products from start, the image row's values loaded (or kept) */
        ".macro md_dws2_start lo, hi\n\t"
        "smlad r9, r5, \\lo, r8\n\t"
        "smlad r10, r6, \\lo, r8\n\t"
        "smlad r8, r4, \\lo, r8\n\t"
        "smlabt r8, r5, \\hi, r8\n\t"
        "smlabt r9, r6, \\hi, r9\n\t"
        ".endm\n\t"
        ".macro md_dws2_next pairs, k, y, u\n\t"
        DW_SMALL_LOAD_PAIR("r5", "r6", "\\pairs", "72 * \\k + 12 * \\y + 4")
        DW_SMALL_LOAD_PAIR("r7", "r3", "r1", "40 * \\k + 8 * \\u")
        "ldr r4, [\\pairs, #(72 * \\k + 12 * \\y)]\n\t"
        "smlad r9, r5, r7, r9\n\t"
        "smlad r10, r6, r7, r10\n\t"
        "smlad r8, r4, r7, r8\n\t"
        "smlabt r8, r5, r3, r8\n\t"
        "smlabt r9, r6, r3, r9\n\t"
        ".endm\n\t"
        /* the next output row's start loaded between the stores (r8 stored) to byte k of the output words at
         * `out` + `at` */
        ".macro md_dws2_outputs out, at, k, pixel\n\t"
        DW_SMALL_OUTPUTS_3("\\out", "\\at + \\k + 4 * \\pixel", "r7", "r3", "ldr r8, [r1, #(40 * \\k + 24)]\n\t")
        ".endm\n\t"
        ".macro md_dws2_row0 k, lo, hi\n\t"
        DW_SMALL_LOAD_PAIR("\\lo", "\\hi", "r1", "40 * \\k") /* filter row 0 */
        ".endm\n\t"
        ".macro md_dws2_channel pairs, k, out, at, lo, hi, reload\n\t"
        DW_SMALL_LOAD_PAIR("r11", "r12", "r1", "40 * \\k + 28") /* multiplier, exponent */
        "ldr lr, [r1, #(40 * \\k + 36)]\n\t" /* addend */
        "md_dws2_row0 \\k, \\lo, \\hi\n\t"
        "md_dws2_first \\pairs, \\k, 0\n\t"
        "md_dws2_start \\lo, \\hi\n\t"
        "md_dws2_next \\pairs, \\k, 1, 1\n\t"
        "md_dws2_next \\pairs, \\k, 2, 2\n\t"
        "md_dws2_outputs \\out, \\at, \\k, 0\n\t"
        ".if \\reload\n\tmd_dws2_row0 \\k, \\lo, \\hi\n\t.endif\n\t"
        "md_dws2_start \\lo, \\hi\n\t" /* image row 2 kept */
        "md_dws2_next \\pairs, \\k, 3, 1\n\t"
        "md_dws2_next \\pairs, \\k, 4, 2\n\t"
        "md_dws2_outputs \\out, \\at, \\k, 3\n\t"
        ".if \\reload\n\tmd_dws2_row0 \\k, \\lo, \\hi\n\t.endif\n\t"
        "md_dws2_start \\lo, \\hi\n\t" /* image row 4 kept */
        "md_dws2_next \\pairs, \\k, 5, 1\n\t"
        "md_dws2_outputs \\out, \\at, \\k, 6\n\t"
        ".endm\n\t"
        DW_SMALL_S2_ENTRY("md_dw_small_s2_layer")
        DW_SMALL_S2_PAIRS("sp", 0) DW_SMALL_S2_PAIRS("sp", 2) DW_SMALL_S2_PAIRS("sp", 4)
        DW_SMALL_S2_PAIRS("sp", 6) DW_SMALL_S2_PAIRS("sp", 8) DW_SMALL_S2_PAIRS("sp", 10)
        DW_SMALL_S2_PAIRS("sp", 12) DW_SMALL_S2_PAIRS("sp", 14) DW_SMALL_S2_PAIRS("sp", 16)
        "ldr r1, [sp, #332]\n\t" /* the group's records */
        "md_dws2_channel sp, 0, sp, 288, r0, r2, 0\n\t"
        "md_dws2_channel sp, 1, sp, 288, r0, r2, 0\n\t"
        "md_dws2_channel sp, 2, sp, 288, r0, r2, 0\n\t"
        "md_dws2_channel sp, 3, sp, 288, r0, r2, 0\n\t"
        "add r1, r1, #160\n\t"
        DW_SMALL_GROUP_END("288", "324")
        "add sp, sp, #" DW_SMALL_FRAME_S2 "\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_small_s2_layer, .-md_dw_small_s2_layer\n\t"
        ".popsection\n\t"
        /* rolled: the pairs 2 pixels a pass (r12 where they go, lr past them), a channel a pass (r0 its
         * pairs, r1 its record, r2 its byte of the output words) */
        DW_SMALL_S2_ENTRY("md_dw_small_s2_rolled")
        "mov r12, sp\n\t"
        "add lr, sp, #72\n"
        "3:\n\t"
        DW_SMALL_S2_PAIRS("r12", 0)
        "adds r12, r12, #8\n\t"
        "cmp r12, lr\n\t"
        "bne 3b\n\t"
        "ldr r1, [sp, #332]\n\t" /* the group's records */
        "mov r0, sp\n\t"
        "add r2, sp, #288\n"
        "2:\n\t"
        "md_dws2_channel r0, 0, r2, 0, r7, r3, 1\n\t"
        "adds r0, r0, #72\n\t"
        "adds r1, r1, #40\n\t"
        "adds r2, r2, #1\n\t"
        "tst r2, #3\n\t" /* past channel 3's byte */
        "bne 2b\n\t"
        DW_SMALL_GROUP_END("288", "324")
        "add sp, sp, #" DW_SMALL_FRAME_S2 "\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_small_s2_rolled, .-md_dw_small_s2_rolled\n\t"
        ".popsection\n\t"
        ".purgem md_dws2_row0\n\t"
        ".purgem md_dws2_first\n\t"
        ".purgem md_dws2_start\n\t"
        ".purgem md_dws2_next\n\t"
        ".purgem md_dws2_outputs\n\t"
        ".purgem md_dws2_channel");

/* Stride 2, 6x6 image: the pairs {x0, x1}, {x2, x3}, {x4, x5} of each image row, 18 words a channel. */
static void small_pairs_s2(const int8_t *image, int32_t channels, uint32_t offsets, int32_t *pairs)
{
    int32_t i;
    for (i = 0; i < 18; ++i, image += 2 * channels) {
        pixel_pairs(md_read32(image), md_read32(image + channels), offsets, pairs + i, 18);
    }
}

/* Output (r, s) of image row y under filter row u, stride 2: {x2s, x2s+1} . {w0, w1} + x2s+2 w2 (x6 outside). */
#define DW_S2_TERMS(y, u) \
    s0 = __smlad(x[3 * (y)], f->row[u][0], s0); \
    s0 = __smlabt(x[3 * (y) + 1], f->row[u][1], s0); \
    s1 = __smlad(x[3 * (y) + 1], f->row[u][0], s1); \
    s1 = __smlabt(x[3 * (y) + 2], f->row[u][1], s1); \
    s2 = __smlad(x[3 * (y) + 2], f->row[u][0], s2);

static void small_channel_s2(const int32_t *values, const dw_small_folded *folded, int8_t *out, int32_t channels,
                             int32_t low, int32_t high)
{
    const dw_small_folded record = *folded; /* the int8 stores may alias it */
    const dw_small_folded *f = &record;
    int32_t r;
    for (r = 0; r < 3; ++r, values += 6, out += 3 * channels) {
        const int32_t x[9] = {values[0], values[1], values[2], values[3], values[4],
                              values[5], values[6], values[7], values[8]};
        int32_t s0 = f->start, s1 = f->start, s2 = f->start;
        DW_S2_TERMS(0, 0)
        DW_S2_TERMS(1, 1)
        if (r < 2) {
            DW_S2_TERMS(2, 2)
        }
        out[0] = small_output(s0, f, low, high);
        out[channels] = small_output(s1, f, low, high);
        out[2 * channels] = small_output(s2, f, low, high);
    }
}

/* The layer a group of 4 channels at a time: all of the group's pixels read before any of its outputs is
 * written (as the channel-plane contract declares). */
static MD_ALWAYS_INLINE void small_s8(const md_window_params *p, const int8_t *input, const dw_small_folded *folds,
                                      int8_t *output, int rolled)
{
    const int32_t channels = p->input_c;
    const uint32_t offsets = offset_pair(p);
    const int stride_1 = p->stride_w == 1;
    const int full_range = p->act_min == -128 && p->act_max == 127;
    int32_t pairs[4 * 18];
    int32_t batch;
    int32_t c;
    int32_t k;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * channels;
        int8_t *out = output + batch * 9 * channels;
        if (full_range) {
            const dw_small_args args = {image, out, folds, channels, offsets, channels / 4};
            if (stride_1) { /* direct calls: the stack bound follows them (emulation/stack_usage.py) */
                md_dw_small_s1_layer(&args);
            } else if (rolled) {
                md_dw_small_s2_rolled(&args);
            } else {
                md_dw_small_s2_layer(&args);
            }
            continue;
        }
        for (c = 0; c < channels; c += 4) {
            if (stride_1) {
                small_pairs_s1(image + c, channels, offsets, pairs);
                for (k = 0; k < 4; ++k) {
                    small_channel_s1(pairs + 6 * k, folds + c + k, out + c + k, channels, p->act_min, p->act_max);
                }
            } else {
                small_pairs_s2(image + c, channels, offsets, pairs);
                for (k = 0; k < 4; ++k) {
                    small_channel_s2(pairs + 18 * k, folds + c + k, out + c + k, channels, p->act_min, p->act_max);
                }
            }
        }
    }
}

md_status md_depthwise_s8_small(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                const int32_t *folds, int8_t *output, int8_t *scratch)
{
    (void)filter, (void)bias, (void)multipliers, (void)shifts, (void)scratch;
    small_s8(p, input, (const dw_small_folded *)folds, output, 0);
    return MD_OK;
}

md_status md_depthwise_s8_small_rolled(const md_window_params *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                       const int32_t *folds, int8_t *output, int8_t *scratch)
{
    (void)filter, (void)bias, (void)multipliers, (void)shifts, (void)scratch;
    small_s8(p, input, (const dw_small_folded *)folds, output, 1);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
