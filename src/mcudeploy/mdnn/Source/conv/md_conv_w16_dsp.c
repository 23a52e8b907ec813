/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D int8 with the filter pre-expanded to int16, for cores with the
 * DSP extension (see md_nn.h; the DSP helpers of md_nn_support.h).
 *
 * The contract's im2col schedule with four pixels: four output pixels' receptive fields copied
 * (plus the input offset, as int16) into the 4-column scratch, then every output channel of the
 * four computed and written, 4 columns x 2 output channels at a time. Four pixels of one output
 * row (any four consecutive ones for a 1x1 filter at stride 1) are filled input pixel by input
 * pixel, each word widened once and stored into every column that reads it. The weights are already
 * int16, two channels interleaved (md_w16_index): per pair of values, one LDRD of both channels'
 * weight words and two LDRDs of the four columns' words feed eight SMLADs, nothing to unpack, and
 * each weight word read from flash serves four pixels (the int8 kernel's unpacked word serves two).
 * The requantization mode (md_dsp_mode) is chosen once per call, each channel's constants read
 * once for its four outputs.
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_w16_dsp);

#define COLUMNS 4 /* md_conv_s8_w16_get_buffer_size */

typedef struct {
    const md_window_params *p;
    const int8_t *input;
    const int16_t *filter;
    const int32_t *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    int32_t depth; /* column length: filter_h * filter_w * input_c */
} conv_w16_job;

/* The input offset in both halves of a word, as SXTAB16 adds it. */
static inline int16x2_t offset_pairs(const md_window_params *p)
{
    return (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
}

/* Index in the scratch of value j of column `column`: per pair of values, the four columns' words
 * side by side, so one pointer walks all four; in each whole group of 4 values the pairs in SMLAD
 * pair order (md_w16_index's), an odd depth's last value with a zero beside it. */
static inline int32_t column_index(int32_t depth, int32_t column, int32_t j)
{
    if (j < (depth & ~3)) {
        j = md_dsp_pair_order(j);
    }
    return ((j >> 1) * COLUMNS + column) * 2 + (j & 1);
}

/* A word of 4 values plus the input offset into the column at `values`: its two pairs as SXTAB16
 * gives them. */
static MD_ALWAYS_INLINE void fill_word(int16x2_t offsets, uint32_t word, int16_t *values)
{
    md_write32(values, (uint32_t)md_even_pair_add(offsets, word));
    md_write32(values + 2 * COLUMNS, (uint32_t)md_odd_pair_add(offsets, word));
}

/* `count` values from `bytes` on (a multiple of 4), plus the input offset, into a column from
 * `values` on: one word, then two, where the count has them, then four words a pass; the next
 * value's place returned. */
static MD_ALWAYS_INLINE int16_t *fill_words(int16x2_t offsets, const int8_t *bytes, int32_t count, int16_t *values)
{
    const int8_t *end = bytes + count;
    if (count & 4) {
        fill_word(offsets, md_read32(bytes), values);
        bytes += 4;
        values += 4 * COLUMNS;
    }
    if (count & 8) {
        const uint32_t word_0 = md_read32(bytes);
        const uint32_t word_1 = md_read32(bytes + 4);
        fill_word(offsets, word_0, values);
        fill_word(offsets, word_1, values + 4 * COLUMNS);
        bytes += 8;
        values += 8 * COLUMNS;
    }
    for (; bytes < end; bytes += 16, values += 16 * COLUMNS) {
        const uint32_t word_0 = md_read32(bytes);
        const uint32_t word_1 = md_read32(bytes + 4);
        const uint32_t word_2 = md_read32(bytes + 8);
        const uint32_t word_3 = md_read32(bytes + 12);
        fill_word(offsets, word_0, values);
        fill_word(offsets, word_1, values + 4 * COLUMNS);
        fill_word(offsets, word_2, values + 8 * COLUMNS);
        fill_word(offsets, word_3, values + 12 * COLUMNS);
    }
    return values;
}

/* Column `column` with the receptive field of output `pixel` of `batch`, input_c a multiple of 4: a
 * window inside the image row by row (each filter row one run of bytes), others tap by tap (a
 * padding tap adds nothing: zeros). */
static MD_NOINLINE void fill_column_words(const conv_w16_job *job, int32_t batch, int32_t pixel, int16_t *values)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel - oy * p->output_w;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    const int16x2_t offsets = offset_pairs(p);
    int32_t fy;
    int32_t fx;
    int32_t c;
    if (p->dilation_w == 1 && y0 >= 0 && x0 >= 0 && y0 + (p->filter_h - 1) * p->dilation_h < p->input_h &&
        x0 + p->filter_w <= p->input_w) {
        const int32_t run = p->filter_w * channels;
        const int32_t row_step = p->dilation_h * p->input_w * channels;
        const int8_t *row = job->input + md_tap_index(p, batch, oy, ox, 0, 0);
        for (fy = 0; fy < p->filter_h; ++fy, row += row_step) {
            values = fill_words(offsets, row, run, values);
        }
        return;
    }
    for (fy = 0; fy < p->filter_h; ++fy) {
        for (fx = 0; fx < p->filter_w; ++fx) {
            const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
            if (first >= 0) {
                values = fill_words(offsets, job->input + first, channels, values);
                continue;
            }
            for (c = 0; c < channels; c += 4, values += 4 * COLUMNS) {
                md_write32(values, 0);
                md_write32(values + 2 * COLUMNS, 0);
            }
        }
    }
}

/* Column `column` of other layers (input channels not a multiple of 4): the packed bytes of its taps
 * (column_packer), filter row by filter row (pack_window), the last depth % 4 values as they are (an
 * odd depth's last with a zero beside it). */
static MD_NOINLINE void fill_column_bytes(const conv_w16_job *job, int32_t batch, int32_t pixel, int16_t *scratch,
                                          int32_t column)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel - oy * p->output_w;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    const int16x2_t offsets = offset_pairs(p);
    const int32_t step = 4 * COLUMNS;
    const int32_t pair = 2 * COLUMNS;
    column_packer packer;
    int32_t i;
    packer.word = 0;
    packer.shift = 0;
    packer.group = scratch + 2 * column;
    pack_window(&packer, p, (const uint8_t *)job->input + batch * p->input_h * p->input_w * channels, y0, x0, offsets,
                step, pair);
    for (i = 0; packer.shift > 0; ++i, packer.word >>= 8, packer.shift -= 8) {
        scratch[column_index(job->depth, column, (job->depth & ~3) + i)] = (int16_t)((int8_t)packer.word +
                                                                                    p->input_offset);
    }
    if (job->depth & 1) {
        scratch[column_index(job->depth, column, job->depth)] = 0;
    }
}

static void fill_column(const conv_w16_job *job, int32_t batch, int32_t pixel, int16_t *scratch, int32_t column)
{
    if ((job->p->input_c & 3) == 0) {
        fill_column_words(job, batch, pixel, scratch + 2 * column);
    } else {
        fill_column_bytes(job, batch, pixel, scratch, column);
    }
}

/* The `n` columns' slots (a constant) that read an input pixel. */
typedef struct {
    int16_t *slot[COLUMNS];
} column_slots;

/* Word `word` (`at` words into the pixel) plus the input offset, stored into every slot. */
static MD_ALWAYS_INLINE void store_widened(int16x2_t offsets, uint32_t word, const column_slots *s, int32_t at, int n)
{
    const uint32_t even = (uint32_t)md_even_pair_add(offsets, word);
    const uint32_t odd = (uint32_t)md_odd_pair_add(offsets, word);
    const int32_t place = 4 * COLUMNS * at;
    md_write32(s->slot[0] + place, even);
    md_write32(s->slot[0] + place + 2 * COLUMNS, odd);
    if (n > 1) {
        md_write32(s->slot[1] + place, even);
        md_write32(s->slot[1] + place + 2 * COLUMNS, odd);
    }
    if (n > 2) {
        md_write32(s->slot[2] + place, even);
        md_write32(s->slot[2] + place + 2 * COLUMNS, odd);
    }
    if (n > 3) {
        md_write32(s->slot[3] + place, even);
        md_write32(s->slot[3] + place + 2 * COLUMNS, odd);
    }
}

static MD_ALWAYS_INLINE void advance_slots(column_slots *s, int32_t values)
{
    s->slot[0] += values;
    s->slot[1] += values;
    s->slot[2] += values;
    s->slot[3] += values;
}

/* One input pixel's `words` words plus the input offset into the `n` columns that read it (a
 * constant): the first's slot at `slot`, each next one's `apart` values before. Each word is
 * widened once and stored n times; four words a pass after words % 4 single ones. */
static MD_ALWAYS_INLINE void widen_into(int16x2_t offsets, const int8_t *bytes, int32_t words, int16_t *slot,
                                        int32_t apart, int n)
{
    const int8_t *end = bytes + 4 * (words & 3);
    column_slots s;
    s.slot[0] = slot;
    s.slot[1] = n > 1 ? slot - apart : slot;
    s.slot[2] = n > 2 ? slot - 2 * apart : slot;
    s.slot[3] = n > 3 ? slot - 3 * apart : slot;
    for (; bytes < end; bytes += 4) {
        store_widened(offsets, md_read32(bytes), &s, 0, n);
        advance_slots(&s, 4 * COLUMNS);
    }
    end = bytes + 4 * (words & ~3);
    for (; bytes < end; bytes += 16) {
        store_widened(offsets, md_read32(bytes), &s, 0, n);
        store_widened(offsets, md_read32(bytes + 4), &s, 1, n);
        store_widened(offsets, md_read32(bytes + 8), &s, 2, n);
        store_widened(offsets, md_read32(bytes + 12), &s, 3, n);
        advance_slots(&s, 16 * COLUMNS);
    }
}

/* Zeros (a padding pixel) into the `n` columns that read it, laid out as widen_into's. */
static MD_NOINLINE void zero_into(int32_t words, int16_t *slot, int32_t apart, int32_t n)
{
    int32_t column;
    int32_t word;
    for (column = 0; column < n; ++column, slot -= apart) {
        for (word = 0; word < words; ++word) {
            md_write32(slot + 4 * COLUMNS * word, 0);
            md_write32(slot + 4 * COLUMNS * word + 2 * COLUMNS, 0);
        }
    }
}

/* One filter row of a block (fill_block_words): the span of input pixels under its four windows. */
typedef struct {
    const int8_t *input;
    int32_t at;       /* the span's first value in the input (its pixel may lie outside the image) */
    int32_t channels; /* a multiple of 4 */
    int32_t tap;      /* a tap's values in the scratch, four columns */
    int32_t apart;    /* from a column's slot for pixel k to the next column's */
    int32_t first;    /* the span's pixels inside the image: first <= k < last */
    int32_t last;
    int16x2_t offsets;
} block_row;

/* Pixel k of the span, inside the image, into the `n` columns (a constant) from `low` on that
 * read it (fill_block_words's slots). */
static MD_ALWAYS_INLINE void widen_pixel(const block_row *r, int16_t *row, int32_t k, int32_t low, int n)
{
    widen_into(r->offsets, r->input + r->at + k * r->channels, r->channels >> 2, row + k * r->tap - low * r->apart,
               r->apart, n);
}

/* ... or zeros where the pixel lies outside the image. */
static MD_ALWAYS_INLINE void span_pixel(const block_row *r, int16_t *row, int32_t k, int32_t low, int n)
{
    if (k >= r->first && k < r->last) {
        widen_pixel(r, row, k, low, n);
    } else {
        zero_into(r->channels >> 2, row + k * r->tap - low * r->apart, r->apart, n);
    }
}

/* Filter rows of width 3, input_c a multiple of 16, the input word-aligned, in assembly (the
 * compiler keeps a row's pointers on the stack between pixels): r0 the source (pixel after
 * pixel), r1 column low's slot, r2 input_c, r3 the offsets pair, lr `apart` in bytes, r4-r7 a
 * pass's 4 words (one LDM), r8 and r9 a word's even and odd pairs, r10 and r11 the next columns'
 * slots, r12 the pixel's end: per pass 5 + 8 + 8n cycles on the M4 for 8n values stored. The
 * span's first and last pixels (one column each) may lie outside the image: bits 30 and 31 of
 * the third argument skip them (fill_block_words zeros their slots), the first argument being
 * pixel 1's values. */
#define ROW_WORD_1(word, even_at, odd_at)                                                                        \
    "sxtab16 r8, r3, " word "\n\t"                                                                          \
    "sxtab16 r9, r3, " word ", ror #8\n\t"                                                                  \
    "str r8, [r1, #" even_at "]\n\t"                                                                        \
    "str r9, [r1, #" odd_at "]\n\t"
#define ROW_WORD_2(word, even_at, odd_at)                                                                        \
    ROW_WORD_1(word, even_at, odd_at)                                                                            \
    "str r8, [r10, #" even_at "]\n\t"                                                                       \
    "str r9, [r10, #" odd_at "]\n\t"
#define ROW_WORD_3(word, even_at, odd_at)                                                                        \
    ROW_WORD_2(word, even_at, odd_at)                                                                            \
    "str r8, [r11, #" even_at "]\n\t"                                                                       \
    "str r9, [r11, #" odd_at "]\n\t"
#define ROW_SLOTS_1 ""
#define ROW_SLOTS_2 "sub r10, r1, lr\n\t"
#define ROW_SLOTS_3 ROW_SLOTS_2 "sub r11, r10, lr\n\t"
#define ROW_ADVANCE_1 "add r1, r1, #128\n\t"
#define ROW_ADVANCE_2 ROW_ADVANCE_1 "add r10, r10, #128\n\t"
#define ROW_ADVANCE_3 ROW_ADVANCE_2 "add r11, r11, #128\n\t"
/* One pixel into the `n` columns from low on (local label `label`): column low's slot ends a tap
 * on, the next pixel's. */
#define ROW_PIXEL(label, n)                                                                                      \
    "add r12, r0, r2\n\t" ROW_SLOTS_##n label ":\n\t"                                                         \
    "ldm r0!, {r4-r7}\n\t" ROW_WORD_##n("r4", "0", "16") ROW_WORD_##n("r5", "32", "48")                      \
        ROW_WORD_##n("r6", "64", "80") ROW_WORD_##n("r7", "96", "112") ROW_ADVANCE_##n "cmp r0, r12\n\t"    \
    "bne " label "b\n\t"
/* Column low moves on: its slot for the next pixel `apart` back. */
#define ROW_NEXT_LOW "sub r1, r1, lr\n\t"

/* The edges' flags out of r2 into a stack slot, `apart` (8 << the stride's log) into lr, pixel 0
 * unless skipped (the source one pixel back), its slot left a tap on in any case. */
#define ROW_START(stride_log)                                                                                    \
    "push {r4-r11, lr}\n\t"                                                                                   \
    "lsr r4, r2, #30\n\t"                                                                                     \
    "bic r2, r2, #0xC0000000\n\t"                                                                             \
    "push {r4, r5}\n\t" /* [sp]: the edges */                                                                 \
    "lsl lr, r2, #(3 + " stride_log ")\n\t"                                                                   \
    "sub lr, lr, #4\n\t"                                                                                      \
    "tst r4, #1\n\t"                                                                                          \
    "bne 31f\n\t"                                                                                             \
    "sub r0, r0, r2\n\t" ROW_PIXEL("20", 1) "b 32f\n\t"                                                       \
    "31:\n\t"                                                                                                 \
    "add r1, r1, r2, lsl #3\n\t"                                                                              \
    "32:\n\t"
/* The last pixel unless skipped. */
#define ROW_END                                                                                                  \
    "ldr r4, [sp]\n\t"                                                                                        \
    "tst r4, #2\n\t"                                                                                          \
    "bne 33f\n\t" ROW_PIXEL("29", 1) "33:\n\t"                                                                \
    "pop {r4, r5}\n\t"                                                                                        \
    "pop {r4-r11, pc}"

/* Stride 1: six pixels read by 1, 2, 3, 3, 2, 1 columns; apart 8 * input_c - 4 bytes. */
__attribute__((naked, noinline)) static void row_3_1(const int8_t *source __attribute__((unused)),
                                                     int16_t *row __attribute__((unused)),
                                                     uint32_t channels_edges __attribute__((unused)),
                                                     int16x2_t offsets __attribute__((unused)))
{
    __asm__(ROW_START("0") ROW_PIXEL("22", 2) ROW_PIXEL("23", 3) ROW_NEXT_LOW ROW_PIXEL("24", 3) ROW_NEXT_LOW
                ROW_PIXEL("25", 2) ROW_NEXT_LOW ROW_END);
}

/* Stride 2: nine pixels read by 1, 1, 2, 1, 2, 1, 2, 1, 1 columns; apart 16 * input_c - 4 bytes. */
__attribute__((naked, noinline)) static void row_3_2(const int8_t *source __attribute__((unused)),
                                                     int16_t *row __attribute__((unused)),
                                                     uint32_t channels_edges __attribute__((unused)),
                                                     int16x2_t offsets __attribute__((unused)))
{
    __asm__(ROW_START("1") ROW_PIXEL("21", 1) ROW_PIXEL("22", 2) ROW_NEXT_LOW ROW_PIXEL("23", 1)
                ROW_PIXEL("24", 2) ROW_NEXT_LOW ROW_PIXEL("25", 1) ROW_PIXEL("26", 2) ROW_NEXT_LOW
                    ROW_PIXEL("27", 1) ROW_END);
}

/* Four consecutive input pixels, one a column (a 1x1 filter at stride 1 reads the block's pixels
 * as they lie in memory, across rows too): apart 8 * input_c - 4 bytes, so column k + 1's slot is
 * column k's a word on. PIXELS_1X1_ENTRY: that distance in lr (r2 the channels). */
#define PIXELS_1X1_ENTRY "push {r4-r11, lr}\n\tlsl lr, r2, #3\n\tsub lr, lr, #4\n\t"
__attribute__((naked, noinline)) static void pixels_1x1(const int8_t *source __attribute__((unused)),
                                                        int16_t *scratch __attribute__((unused)),
                                                        int32_t channels __attribute__((unused)),
                                                        int16x2_t offsets __attribute__((unused)))
{
    __asm__(PIXELS_1X1_ENTRY ROW_PIXEL("21", 1) ROW_NEXT_LOW ROW_PIXEL("22", 1) ROW_NEXT_LOW
                ROW_PIXEL("23", 1) ROW_NEXT_LOW ROW_PIXEL("24", 1)
            "pop {r4-r11, pc}");
}


#if !MD_W16_DUAL_ISSUE
/* md_conv_s8_w16_rolled's fill of a group of one output row (input_c a multiple of 16, no horizontal
 * dilation, the input word-aligned): run after run, each a column's pixels inside the image in each
 * window row, contiguous in the input, widened into the column's slots, or zeros into the slots of
 * its pixels outside. Every shared pixel is widened once per column that reads it (fill_block_words
 * widens it once), but the loop is 0.15 KB: with walk_pairs_rolled and the group loop it stays in a
 * 1 KB flash cache, where fill_block_words's 1.1 KB evicts the walk once per group. */
typedef struct {
    const int8_t *source; /* the first value read, in the first window row inside the image */
    int16_t *slot;        /* where it goes */
    int32_t run;          /* the values read a row, a multiple of 16; zeros: minus the slots' bytes a row */
    int16x2_t offsets;
    int32_t row_gap;  /* from a row's last value read to the next row's first, in bytes */
    int32_t slot_gap; /* from a row's last slot written to the next row's first, in bytes */
} fill_run;

#define FILL_RUNS (COLUMNS + 2) /* a column's pixels inside, and the first's and last's outside */

typedef struct {
    int32_t count; /* of runs */
    int32_t rows;  /* the window rows inside the image: at least 1 */
    fill_run run[FILL_RUNS];
} group_fill;

MD_STATIC_CHECK(group_fill_layout, sizeof(fill_run) == 24 && sizeof(group_fill) == 8 + FILL_RUNS * 24);

/* A word's two pairs of values, widened, into the slot (r1) at `even_at` and `odd_at`: low registers
 * throughout, so that the stores take 16-bit encodings (the loop in fewer flash cache lines). */
#define FILL_WORD(word, even_at, odd_at)                                                                         \
    "sxtab16 r4, r3, " word "\n\t"                                                                          \
    "sxtab16 r5, r3, " word ", ror #8\n\t"                                                                  \
    "str r4, [r1, #" even_at "]\n\t"                                                                        \
    "str r5, [r1, #" odd_at "]\n\t"

/* `shift` bytes on from the group `fill` describes (a run of groups at the same rows and pixels of
 * their windows, fill_and_walk's). r0 the source, r1 the slot, r2 the run, r3 the offsets, r4 and r5
 * a word's pairs, r6 row_gap, r7 slot_gap, r8-r11 a pass's 16 values, r12 the row's end, lr the rows
 * left; [sp] the next run's record, [sp, #4] the shift, [sp, #8] the runs left, [sp, #12] the rows. */
__attribute__((naked, noinline)) static void fill_group_rolled(const group_fill *fill __attribute__((unused)),
                                                               int32_t shift __attribute__((unused)))
{
    __asm__("push {r4-r11, lr}\n\t"
            "ldm r0!, {r3, r4}\n\t"
            "push {r0, r1, r3, r4}\n\t"
            "41:\n\t"
            "ldr r4, [sp]\n\t"
            "ldm r4!, {r0, r1, r2, r3, r6, r7}\n\t"
            "str r4, [sp]\n\t"
            "ldr lr, [sp, #12]\n\t"
            "cmp r2, #0\n\t"
            "blt 46f\n\t"
            "ldr r4, [sp, #4]\n\t"
            "add r0, r4\n\t"
            "42:\n\t"
            "add r12, r0, r2\n\t"
            "43:\n\t"
            "ldm r0!, {r8-r11}\n\t" FILL_WORD("r8", "0", "16") FILL_WORD("r9", "32", "48")
                FILL_WORD("r10", "64", "80") FILL_WORD("r11", "96", "112")
            "adds r1, #128\n\t"
            "cmp r0, r12\n\t"
            "bne 43b\n\t"
            "add r0, r6\n\t"
            "add r1, r7\n\t"
            "subs lr, lr, #1\n\t"
            "bne 42b\n\t"
            "44:\n\t"
            "ldr r4, [sp, #8]\n\t"
            "subs r4, #1\n\t"
            "str r4, [sp, #8]\n\t"
            "bne 41b\n\t"
            "add sp, #16\n\t"
            "pop {r4-r11, pc}\n\t"
            "46:\n\t" /* zeros */
            "movs r4, #0\n\t"
            "47:\n\t"
            "sub r12, r1, r2\n\t"
            "48:\n\t"
            "str r4, [r1, #0]\n\t"
            "str r4, [r1, #16]\n\t"
            "str r4, [r1, #32]\n\t"
            "str r4, [r1, #48]\n\t"
            "str r4, [r1, #64]\n\t"
            "str r4, [r1, #80]\n\t"
            "str r4, [r1, #96]\n\t"
            "str r4, [r1, #112]\n\t"
            "adds r1, #128\n\t"
            "cmp r1, r12\n\t"
            "bne 48b\n\t"
            "add r1, r7\n\t"
            "subs lr, lr, #1\n\t"
            "bne 47b\n\t"
            "b 44b");
}
#undef FILL_WORD
#endif


/* A filter row row_3_1 and row_3_2 do not take, pixel by pixel: column `high` starts at pixel
 * high * stride, column `low` ends after pixel low * stride + width - 1. */
static MD_NOINLINE void fill_row_pixels(const block_row *shared, int16_t *row, int32_t stride, int32_t width)
{
    const block_row r = *shared;
    const int32_t span = (COLUMNS - 1) * stride + width;
    int32_t low = 0; /* the columns low..high read pixel k */
    int32_t high = 0;
    int32_t k;
    for (k = 0; k < span; ++k) {
        const int32_t n = high - low + 1;
        if (n == 1) {
            span_pixel(&r, row, k, low, 1);
        } else if (n == 2) {
            span_pixel(&r, row, k, low, 2);
        } else if (n == 3) {
            span_pixel(&r, row, k, low, 3);
        } else if (n == 4) {
            span_pixel(&r, row, k, low, 4);
        }
        if (high < COLUMNS - 1 && k + 1 == (high + 1) * stride) {
            ++high;
        }
        if (k + 1 == low * stride + width) {
            ++low;
        }
    }
}

/* The four columns of four consecutive output pixels of one output row (input_c a multiple of 4,
 * no horizontal dilation), filter row by filter row: each input pixel of the span under the four
 * windows widened once into every column that reads it (at stride 1 and a width of 3, six pixels
 * for twelve taps). Column c reads pixels c * stride_w .. c * stride_w + filter_w - 1 of the span,
 * its tap fx = k - c * stride_w at row + (c * stride_w + fx) * tap + 2 * c = row + k * tap - c * apart.
 * A row outside the image is zeros in all four columns. */
static MD_NOINLINE void fill_block_words(const conv_w16_job *job, int32_t batch, int32_t pixel, int16_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel - oy * p->output_w;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    const int32_t stride = p->stride_w;
    const int32_t width = p->filter_w;
    const int32_t row_values = width * 4 * p->input_c;
    const int32_t span = (COLUMNS - 1) * stride + width;
    block_row r;
    uint32_t edges = 0; /* row_3_1's and row_3_2's, or 0 when they cannot take the block */
    int32_t fy;
    r.input = job->input;
    r.channels = p->input_c;
    r.tap = 4 * p->input_c;
    r.apart = stride * r.tap - 2;
    r.first = md_max_i32(-x0, 0);
    r.last = md_min_i32(p->input_w - x0, span);
    r.offsets = offset_pairs(p);
    if (width == 3 && (stride == 1 || stride == 2) && (p->input_c & 15) == 0 && ((uintptr_t)job->input & 3) == 0 &&
        r.first <= 1 && r.last >= span - 1) {
        edges = (uint32_t)p->input_c | (r.first == 1 ? 1u << 30 : 0) | (r.last < span ? 1u << 31 : 0);
    }
    for (fy = 0; fy < p->filter_h; ++fy, scratch += row_values) {
        const int32_t iy = y0 + fy * p->dilation_h;
        if (!md_inside(iy, p->input_h)) {
            memset(scratch, 0, (size_t)row_values * sizeof *scratch);
            continue;
        }
        r.at = ((batch * p->input_h + iy) * p->input_w + x0) * r.channels;
        if (edges == 0) {
            fill_row_pixels(&r, scratch, stride, width);
            continue;
        }
        if (stride == 1) {
            row_3_1(r.input + r.at + r.channels, scratch, edges, r.offsets);
        } else {
            row_3_2(r.input + r.at + r.channels, scratch, edges, r.offsets);
        }
        if (r.first == 1) {
            zero_into(r.channels >> 2, scratch, r.apart, 1);
        }
        if (r.last < span) {
            zero_into(r.channels >> 2, scratch + (span - 1) * r.tap - (COLUMNS - 1) * r.apart, r.apart, 1);
        }
    }
}

/* Whether pixels_1x1 fills the layer's groups: a 1x1 filter at stride 1 over whole words of 16k channels. */
static inline int pixels_1x1_fit(const conv_w16_job *job)
{
    const md_window_params *p = job->p;
    return (p->input_c & 15) == 0 && ((uintptr_t)job->input & 3) == 0 && p->filter_h == 1 && p->filter_w == 1 &&
           p->stride_h == 1 && p->stride_w == 1 && p->input_h == p->output_h && p->input_w == p->output_w;
}

/* The four columns of `count` pixels from `pixel` on, the last one again past the end (inlined: a call
 * more a group in conv_s8_w16 costs its 3x3 layers 0.3%). */
static MD_ALWAYS_INLINE void fill_columns(const conv_w16_job *job, int32_t batch, int32_t pixel, int32_t count,
                                          int16_t *scratch)
{
    const md_window_params *p = job->p;
    int32_t column;
    if (count == COLUMNS && pixels_1x1_fit(job)) {
        pixels_1x1(job->input + (batch * p->input_h * p->input_w + pixel) * p->input_c, scratch, p->input_c,
                   offset_pairs(p));
        return;
    }
    if (count == COLUMNS && (p->input_c & 3) == 0 && p->dilation_w == 1 &&
        pixel % p->output_w + COLUMNS <= p->output_w) {
        fill_block_words(job, batch, pixel, scratch);
        return;
    }
    for (column = 0; column < COLUMNS; ++column) {
        fill_column(job, batch, pixel + (column < count ? column : count - 1), scratch, column);
    }
}

/* The products of a pair of channels' weights from r1 (md_w16_index's layout) by the four interleaved
 * columns from r0, into the sums r2..r9 {a0, a1, b0, b1, c0, c1, d0, d1} (pixel a..d, channel 0 or
 * 1), r10 holding their bytes (8 a pair of values, at least one pair), `end` (a stack slot) where r1
 * ends; r10-r12 and lr are scratch. 4 pixels x 2 channels take all 14 registers (8 sums, 2 column
 * words, 2 weight words, 2 pointers). Local labels 11 to 19. Two schedules of the same products:
 * - Cortex-M4 and M33 (a load pipelines into the next one, SMLAD 1 cycle): per pair of values both
 *   weight words and two columns' words (two LDRDs, the second pipelined), four SMLADs, the other
 *   two columns' words (one LDRD), four SMLADs: 16 cycles per 16 MACs;
 * - Cortex-M7 (dual issue: a load pairs with the SMLAD before it; a load's result a cycle late):
 *   software-pipelined, each word loaded by an LDR beside an SMLAD, the next pair's first column
 *   and weight words during this pair's last SMLADs (not after the last pair: nothing read past
 *   the weights or the columns): 8 cycles per 16 MACs.
 * The pair's products are md_conv_int.h's MD_W16_PAIR (an M7 build without a double-precision FPU
 * takes the first schedule: the same sums). */

#if !MD_W16_DUAL_ISSUE
/* `count` pairs at immediate offsets (MD_W16_PAIR_AT), both pointers advanced during the last one:
 * 16 cycles a pair and 2 a block, where MD_W16_PAIR's LDRDs take 17 a pair. */
#define COLUMNS_PAIRS_AT(count)                                                                                  \
    ".set md_at, 0\n\t"                                                                                         \
    ".rept " count " - 1\n\t" MD_W16_PAIR_AT("") ".set md_at, md_at + 1\n\t"                                   \
    ".endr\n\t" MD_W16_PAIR_AT("add r0, r0, #(16 * " count ")\n\tadd r1, r1, #(8 * " count ")\n\t")
#define COLUMNS_PAIRS_4 COLUMNS_PAIRS_AT("4")
/* Eight pairs with no pointer arithmetic (pair 0's loads post-indexed): 16 cycles a pair, where
 * COLUMNS_PAIRS_AT's adds take 2 more a block. */
#define COLUMNS_EIGHT MD_W16_PASS_FIRST MD_W16_PASS_SEVEN
/* Sixteen pairs a pass, two COLUMNS_EIGHTs (the end's load, compare and branch, 6 cycles, once per
 * 256 MACs). A whole number of sixteens (depths of 32k) falls through to the loop, an odd eight
 * enters it at its second eight; other counts take the odd pair, two more, four more first. */
#define DOT_LOOP(end)                                                                                         \
    "lsls r11, r10, #26\n\t" /* Z: whole eights; C: an odd eight */                                           \
    "bne 18f\n\t"                                                                                             \
    "bcs 17f\n\t"                                                                                             \
    "16:\n\t" COLUMNS_EIGHT "17:\n\t" COLUMNS_EIGHT "ldr r10, " end "\n\t"                                    \
    "cmp r1, r10\n\t"                                                                                         \
    "bne 16b\n\t"                                                                                             \
    "b 14f\n\t"                                                                                               \
    "18:\n\t"                                                                                                 \
    "lsls r10, r10, #28\n\t" /* N: bit 3, an odd count; C: bit 4, 2 more (the pairs leave the flags) */       \
    "bpl 11f\n\t" MD_W16_PAIR "11:\n\t"                                                                      \
    "bcc 12f\n\t" MD_W16_PAIR MD_W16_PAIR "12:\n\t"                                                         \
    "ldr r10, " end "\n\t"                                                                                    \
    "subs r10, r10, r1\n\t"                                                                                   \
    "lsrs r10, r10, #6\n\t" /* C: bit 5, 4 more; Z: nothing after them */                                    \
    "bcc 13f\n\t" COLUMNS_PAIRS_4 "13:\n\t"                                                                   \
    "beq 14f\n\t"                                                                                             \
    "ldr r10, " end "\n\t"                                                                                    \
    "subs r10, r10, r1\n\t"                                                                                   \
    "lsrs r10, r10, #7\n\t" /* C: an odd eight; Z: no sixteen */                                             \
    "bcs 17b\n\t"                                                                                             \
    "bne 16b\n\t"                                                                                             \
    "14:\n\t"
#else
#define COLUMNS_PAIRS_4 MD_W16_PAIR MD_W16_PAIR MD_W16_PAIR MD_W16_PAIR
/* The count less one as the first schedule's loop (the end slot moved to the last pair), then the
 * last pair without loads. */
#define DOT_LOOP(end)                                                                                             \
    "sub r11, r10, #8\n\t"                                                                                    \
    "ldr r10, " end "\n\t"                                                                                    \
    "sub r10, r10, #8\n\t"                                                                                    \
    "str r10, " end "\n\t"                                                                                    \
    "ldr r10, [r0]\n\t"                                                                                       \
    "ldr r12, [r1]\n\t"                                                                                       \
    "ldr lr, [r1, #4]\n\t"                                                                                    \
    "lsls r11, r11, #28\n\t"                                                                                  \
    "bpl 11f\n\t" MD_W16_PAIR "11:\n\t"                                                                      \
    "bcc 12f\n\t" MD_W16_PAIR MD_W16_PAIR "12:\n\t"                                                         \
    "ldr r11, " end "\n\t"                                                                                    \
    "subs r11, r11, r1\n\t"                                                                                   \
    "lsrs r11, r11, #6\n\t" /* C: bit 5, 4 more; Z: no eight */                                              \
    "bcc 13f\n\t" COLUMNS_PAIRS_4 "13:\n\t"                                                                   \
    "beq 14f\n\t"                                                                                             \
    "15:\n\t" COLUMNS_PAIRS_4 COLUMNS_PAIRS_4 "ldr r11, " end "\n\t"                                           \
    "cmp r1, r11\n\t"                                                                                         \
    "bne 15b\n\t"                                                                                             \
    "14:\n\t" MD_W16_PAIR_START "smlad r8, r11, r12, r8\n\t"                                                \
    "smlad r9, r11, lr, r9\n\t"                                                                               \
    "add r0, r0, #16\n\t"                                                                                     \
    "add r1, r1, #8\n\t"
#endif

/* sums {a0, a1, b0, b1, c0, c1, d0, d1} of the four interleaved columns in `values` with a pair of
 * channels' weights from `weights` to `end` (DOT_LOOP): the end and the sums' address wait on the
 * stack. */
__attribute__((naked, noinline)) static void dot_4x2(const int16_t *values __attribute__((unused)),
                                                     const int16_t *weights __attribute__((unused)),
                                                     const int16_t *end __attribute__((unused)),
                                                     int32_t *sums __attribute__((unused)))
{
    __asm__("push {r2, r3, r4-r11, lr}\n\t" /* [sp]: end, [sp, #4]: sums */
            "subs r10, r2, r1\n\t"
            "ldm r3, {r2-r9}\n\t" DOT_LOOP("[sp]")
            "ldr r10, [sp, #4]\n\t"
            "stm r10, {r2-r9}\n\t"
            "add sp, sp, #8\n\t"
            "pop {r4-r11, pc}");
}

/* A channel's outputs of `pixels` pixels (from out, `stride` apart) from their sums (`sums`, every
 * other one): `mode` a constant in each copy, md_dsp_mode's, a narrow mode by narrow_product. */
static MD_ALWAYS_INLINE void store_channel_sums(const md_dsp_requant *r, int mode, int32_t multiplier, int32_t shift,
                                                const int32_t *sums, int32_t pixels, int8_t *out, int32_t stride)
{
    const int32_t half = mode == MD_DSP_GENERAL ? 0 : (int32_t)(1u << (-shift - 1));
    int32_t column;
    for (column = 0; column < pixels; ++column, out += stride) {
        const int32_t sum = sums[2 * column];
        int32_t value;
        if (mode == MD_DSP_GENERAL) {
            value = md_requantize32(sum, multiplier, shift, r->offset, r->low, r->high);
        } else {
            value = narrow_shift(narrow_product(sum, multiplier, half), sum, -shift) + r->offset;
            value = mode == MD_DSP_NARROW_INT8 ? __ssat(value, 8) : md_clamp_i32(value, r->low, r->high);
        }
        *out = (int8_t)value;
    }
}

/* The output channels from `first` (even) on of `pixels` (1 to 4) pixels from the four columns in
 * `scratch`, written from `out` on (a pixel's outputs after the other's), a pair of channels at a
 * time, then an odd last one: layers the walk does not take (walk_pairs_int8). */
static MD_ALWAYS_INLINE void compute_pixels(const conv_w16_job *job, int mode, const int16_t *scratch,
                                            int32_t pixels, int8_t *out, int32_t first)
{
    const md_dsp_requant r = md_dsp_requant_of(NULL, NULL, NULL, 0, job->p->output_offset, job->p->act_min,
                                               job->p->act_max);
    const int32_t *bias = job->bias;
    const int32_t *multipliers = job->multipliers;
    const int32_t *shifts = job->shifts;
    const int32_t step = job->p->per_channel ? 1 : 0;
    const int32_t depth = job->depth;
    const int32_t even = depth & ~1;
    const int32_t channels = job->p->output_c;
    int32_t sums[2 * COLUMNS];
    int32_t oc;
    int32_t column;
    int32_t k;
    for (oc = first; oc + 2 <= channels; oc += 2) {
        const int16_t *weights = job->filter + oc * depth;
        const int32_t bias0 = bias ? bias[oc] : 0, bias1 = bias ? bias[oc + 1] : 0;
        for (column = 0; column < COLUMNS; ++column) {
            sums[column * 2] = bias0;
            sums[column * 2 + 1] = bias1;
        }
        if (even > 0) {
            dot_4x2(scratch, weights, weights + even * 2, sums);
        }
        if (depth & 1) { /* the last value: its weights side by side after the pairs */
            const int32_t w0 = weights[even * 2], w1 = weights[even * 2 + 1];
            for (column = 0; column < COLUMNS; ++column) {
                const int32_t x = scratch[column_index(depth, column, even)];
                sums[column * 2] = md_wrap_add(sums[column * 2], x * w0);
                sums[column * 2 + 1] = md_wrap_add(sums[column * 2 + 1], x * w1);
            }
        }
        store_channel_sums(&r, mode, multipliers[oc * step], shifts[oc * step], sums, pixels, out + oc, channels);
        store_channel_sums(&r, mode, multipliers[(oc + 1) * step], shifts[(oc + 1) * step], sums + 1, pixels,
                           out + oc + 1, channels);
    }
    if (oc < channels) { /* an odd last channel: its row as it is */
        const int16_t *row = job->filter + oc * depth;
        for (column = 0; column < COLUMNS; ++column) {
            int32_t sum = bias ? bias[oc] : 0;
            for (k = 0; k < depth; ++k) {
                sum = md_wrap_add(sum, scratch[column_index(depth, column, k)] * row[k]);
            }
            sums[column * 2] = sum;
        }
        store_channel_sums(&r, mode, multipliers[oc * step], shifts[oc * step], sums, pixels, out + oc, channels);
    }
}

/* compute_pixels in each mode. */
#define COMPUTE_COPY(name, mode)                                                                                \
    static MD_NOINLINE void name(const conv_w16_job *job, const int16_t *scratch, int32_t pixels, int8_t *out,  \
                                 int32_t first)                                                                 \
    {                                                                                                           \
        compute_pixels(job, mode, scratch, pixels, out, first);                                                 \
    }
COMPUTE_COPY(compute_general, MD_DSP_GENERAL)
COMPUTE_COPY(compute_narrow, MD_DSP_NARROW)
COMPUTE_COPY(compute_int8, MD_DSP_NARROW_INT8)
#undef COMPUTE_COPY

/* The copy of compute_pixels for `mode`. */
static void compute(int mode, const conv_w16_job *job, const int16_t *scratch, int32_t pixels, int8_t *out,
                    int32_t first)
{
    if (mode == MD_DSP_NARROW_INT8) {
        compute_int8(job, scratch, pixels, out, first);
    } else if (mode == MD_DSP_NARROW) {
        compute_narrow(job, scratch, pixels, out, first);
    } else {
        compute_general(job, scratch, pixels, out, first);
    }
}

/* The channel pairs of a group of 4 pixels in assembly (a layer the code generator gave records:
 * md_nn.h's `walk` says which; each channel narrow with a right shift e of at most 22, WALK_SHIFT in
 * params/requantization.py: with |offset| <= 128, |v| <= 2^30 and half + |offset << e| <= 2^21 + 2^29,
 * no overflow; or its constant output folded into its record): the C compiler keeps the
 * loop's state on the stack in ways that cost more than the products of a short column. The walk is
 * on the stack; each pair reloads what it needs around the 4 x 2 block of dot_4x2 (all 14 registers)
 * and writes back the pointers it advanced. A pair's constants are one record computed when the code
 * is generated, read with an LDM for the biases and one per channel: a channel's output offset is
 * folded into SMMLAR's addend, half + (offset << e), so that each output costs a doubling, the
 * SMMLAR, the sign correction, the shift, the SSAT and the store. */
typedef struct {
    const int16_t *values;      /* the four interleaved columns */
    const int16_t *weights;     /* the next pair's */
    int32_t pair_bytes;         /* a pair's weights' pairs of values: 4 * (depth & ~1) bytes */
    const int32_t *records;     /* the next constants: {bias0, bias1}, then {addend, exponent, multiplier} a channel */
    int8_t *out;                /* pixel a's output of the next pair's first channel */
    int32_t stride;             /* output_c: from a pixel's outputs to the next's */
    const int8_t *end;          /* out after the last pair */
} pair_walk;

MD_STATIC_CHECK(pair_walk_layout, sizeof(void *) == 4 && sizeof(pair_walk) == 28);

/* The output of `sum` (a register, doubled in place) with multiplier r12, addend r10, exponent r11,
 * stored at `at`; `then` (a string) runs between the SMMLAR and the shift of its result (the M33
 * waits a cycle for a multiply-accumulate's result read by the next instruction as other than an
 * accumulator); r0 is scratch. The sum's sign correction is added to the addend before the SMMLAR,
 * which takes it as its accumulator at once: (v + sign) is SMMLAR's with the addend plus sign exactly. */
#define WALK_OUTPUT(sum, at, then) WALK_OUTPUT_OF(DOUBLING, sum, at, then)
/* ... `kind` DOUBLING (the sum doubled first, SMMLAR's requantization needs 2 x TFLite's sum) or
 * DOUBLED (a sum of doubled biases and weights: md_conv_stem_records'). */
#define WALK_OUTPUT_OF(kind, sum, at, then)                                                                     \
    "add r0, r10, " sum ", asr #31\n\t" WALK_DOUBLE_##kind(sum)                                               \
    "smmlar r0, " sum ", r12, r0\n\t" then "asr r0, r0, r11\n\t"                                          \
    "ssat r0, #8, r0\n\t"                                                                                    \
    "strb r0, " at "\n\t"
#define WALK_DOUBLE_DOUBLING(sum) "lsl " sum ", " sum ", #1\n\t"
#define WALK_DOUBLE_DOUBLED(sum) ""
/* Two WALK_OUTPUTs, `a` at `at_a` (r0 scratch) and `b` at `at_b` (`spare` scratch), step by step
 * interleaved: no result read by the instruction right after it (the same instructions). */
#define WALK_OUTPUT_PAIR(a, at_a, b, at_b, spare) WALK_OUTPUT_PAIR_OF(DOUBLING, a, at_a, b, at_b, spare)
#define WALK_OUTPUT_PAIR_OF(kind, a, at_a, b, at_b, spare)                                                      \
    "add r0, r10, " a ", asr #31\n\t" WALK_DOUBLE_##kind(a)                                                   \
    "add " spare ", r10, " b ", asr #31\n\t"                                                                 \
    "smmlar r0, " a ", r12, r0\n\t" WALK_DOUBLE_##kind(b)                                                     \
    "smmlar " spare ", " b ", r12, " spare "\n\t"                                                            \
    "asr r0, r0, r11\n\t"                                                                                    \
    "asr " spare ", " spare ", r11\n\t"                                                                      \
    "ssat r0, #8, r0\n\t"                                                                                    \
    "ssat " spare ", #8, " spare "\n\t"                                                                      \
    "strb r0, " at_a "\n\t"                                                                                  \
    "strb " spare ", " at_b "\n\t"
/* ... the next pixel's, `sum` at `from` + lr (the stride), the address left in `sum`'s register for
 * the pair's second channel (computed early: an address written by the instruction before a store
 * costs the M4 a cycle). */
#define WALK_OUTPUT_NEXT(sum, from) WALK_OUTPUT(sum, "[" sum "]", "add " sum ", " from ", lr\n\t")

#if MD_W16_DUAL_ISSUE
/* Cortex-M7: four WALK_OUTPUTs (sums a..d stored at a_at..d_at, `after_b` and `after_c` run after
 * b's and c's stores) interleaved, each sum requantized in
 * place with its sign correction added to the addend (into r0) before its SMMLAR (exactly SMMLAR's
 * result plus the sign), so that an SMMLAR or a store issues beside another chain's ALU instruction. */
#define WALK_OUTPUTS_4(a, b, c, d, a_at, b_at, c_at, d_at, after_b, after_c)                                    \
    WALK_OUTPUTS_4_OF(DOUBLING, a, b, c, d, a_at, b_at, c_at, d_at, after_b, after_c)
/* ... of sums `kind` (WALK_OUTPUT_OF's). */
#define WALK_OUTPUTS_4_OF(kind, a, b, c, d, a_at, b_at, c_at, d_at, after_b, after_c)                                              \
    "add r0, r10, " a ", asr #31\n\t" WALK_DOUBLE_##kind(a)                                                 \
    "smmlar " a ", " a ", r12, r0\n\t"                                                                      \
    "add r0, r10, " b ", asr #31\n\t" WALK_DOUBLE_##kind(b)                                                 \
    "smmlar " b ", " b ", r12, r0\n\t"                                                                      \
    "asr " a ", " a ", r11\n\t"                                                                             \
    "add r0, r10, " c ", asr #31\n\t" WALK_DOUBLE_##kind(c)                                                 \
    "smmlar " c ", " c ", r12, r0\n\t"                                                                      \
    "ssat " a ", #8, " a "\n\t"                                                                             \
    "asr " b ", " b ", r11\n\t"                                                                             \
    "strb " a ", " a_at "\n\t"                                                                              \
    "add r0, r10, " d ", asr #31\n\t" WALK_DOUBLE_##kind(d)                                                 \
    "smmlar " d ", " d ", r12, r0\n\t"                                                                      \
    "ssat " b ", #8, " b "\n\t"                                                                             \
    "asr " c ", " c ", r11\n\t"                                                                             \
    "strb " b ", " b_at "\n\t" after_b                                                                      \
    "ssat " c ", #8, " c "\n\t"                                                                             \
    "asr " d ", " d ", r11\n\t"                                                                             \
    "strb " c ", " c_at "\n\t" after_c                                                                      \
    "ssat " d ", #8, " d "\n\t"                                                                             \
    "strb " d ", " d_at "\n\t"
#endif

/* A pair's first channel's outputs (sums r2, r4, r6, r8; pixel a's at r1), pixels b to d's output
 * addresses left in r4, r6, r8, then r2 channel 1's constants. */
#if MD_W16_DUAL_ISSUE
#define WALK_CHANNEL_0                                                                                            \
    WALK_OUTPUTS_4("r2", "r4", "r6", "r8", "[r1]", "[r1, lr]", "[r4, lr]", "[r6, lr]", "add r4, r1, lr\n\t",     \
                   "add r6, r4, lr\n\t")                                                                        \
    "add r8, r6, lr\n\t"                                                                                        \
    "ldr r2, [sp, #12]\n\t"
#else
#define WALK_CHANNEL_0                                                                                            \
    WALK_OUTPUT("r2", "[r1]", "") "ldr r2, [sp, #12]\n\t" WALK_OUTPUT_NEXT("r4", "r1") WALK_OUTPUT_NEXT("r6", "r4") \
    WALK_OUTPUT_NEXT("r8", "r6")
#endif

/* A pair's second channel's outputs (sums r3, r5, r7, r9) next to the first's (pixels' addresses
 * r1, r4, r6, r8); r2 is free. */
#if MD_W16_DUAL_ISSUE
#define WALK_CHANNEL_1 WALK_OUTPUTS_4("r3", "r5", "r7", "r9", "[r1, #1]", "[r4, #1]", "[r6, #1]", "[r8, #1]", "", "")
#else
#define WALK_CHANNEL_1                                                                                            \
    WALK_OUTPUT_PAIR("r3", "[r1, #1]", "r5", "[r4, #1]", "r2") WALK_OUTPUT_PAIR("r7", "[r6, #1]", "r9", "[r8, #1]", "r2")
#endif

/* An odd depth's last value: both channels' weights in one word, each column's value beside a zero;
 * SMLADX crosses the halves for channel 1. */
#define WALK_ODD_VALUE                                                                                            \
    "ldr r12, [r1], #4\n\t"                                                                                    \
    "ldrd r10, r11, [r0]\n\t"                                                                                  \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smladx r3, r10, r12, r3\n\t"                                                                              \
    "smlad r4, r11, r12, r4\n\t"                                                                               \
    "smladx r5, r11, r12, r5\n\t"                                                                              \
    "ldrd r10, r11, [r0, #8]\n\t"                                                                              \
    "smlad r6, r10, r12, r6\n\t"                                                                               \
    "smladx r7, r10, r12, r7\n\t"                                                                              \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "smladx r9, r11, r12, r9\n\t"

/* The walk, `odd` WALK_ODD_VALUE for an odd depth (a copy each: no test per pair), its pair_walk
 * copied onto the stack (then the end of the pair's weights, DOT_LOOP's). A channel's constants are
 * LDM'd into r10 (the addend), r11 (the exponent), r12 (the multiplier); pixels b to d's output
 * addresses are computed once a pair, in the sum registers the first channel frees. No load's
 * address or result is used by the instruction right after it (the M4 pipelines the loads, the M7
 * does not stall). */
#define WALK_PAIRS(odd) WALK_PAIRS_OF(DOT_LOOP("[sp, #28]"), odd)
/* ... its products by `dot` (a string: DOT_LOOP's or DOT_EIGHTS', the end slot at [sp, #28]). */
#define WALK_PAIRS_OF(dot, odd)                                                                                   \
    __asm__("push {r4-r11, lr}\n\t"                                                                          \
            "ldm r0, {r1-r7}\n\t"                                                                           \
            "push {r1-r8}\n\t" /* the walk at sp, the end slot at [sp, #28] */                              \
            "1:\n\t"                                                                                         \
            "ldr r1, [sp, #4]\n\t" /* weights */                                                            \
            "ldr r10, [sp, #8]\n\t" /* pair bytes */                                                        \
            "ldr r12, [sp, #12]\n\t" /* records */                                                          \
            "ldr r0, [sp]\n\t" /* columns */                                                                \
            "add r11, r1, r10\n\t"                                                                           \
            "str r11, [sp, #28]\n\t"                                                                         \
            "ldm r12!, {r2, r3}\n\t" /* the biases */                                                       \
            "str r12, [sp, #12]\n\t"                                                                         \
            "mov r4, r2\n\t"                                                                                 \
            "mov r5, r3\n\t"                                                                                 \
            "mov r6, r2\n\t"                                                                                 \
            "mov r7, r3\n\t"                                                                                 \
            "mov r8, r2\n\t"                                                                                 \
            "mov r9, r3\n\t" dot odd "str r1, [sp, #4]\n\t" /* the next pair's weights */                   \
            "ldr r0, [sp, #12]\n\t" /* channel 0's constants */                                             \
            "ldr r1, [sp, #16]\n\t" /* pixel a's output */                                                  \
            "ldr lr, [sp, #20]\n\t" /* the stride */                                                        \
            "ldm r0!, {r10, r11, r12}\n\t"                                                                   \
            "str r0, [sp, #12]\n\t" WALK_CHANNEL_0                                                          \
            "ldm r2!, {r10, r11, r12}\n\t"                                                                   \
            "str r2, [sp, #12]\n\t" /* the next pair's record */                                            \
            "ldr r0, [sp, #24]\n\t" /* the end (not read by the next instruction: the M33 waits for it) */   \
            "add r2, r1, #2\n\t"                                                                             \
            "str r2, [sp, #16]\n\t" /* the next pair's outputs */                                           \
            "cmp r2, r0\n\t" /* Z: the last pair (nothing sets the flags before the branch) */                \
            WALK_CHANNEL_1                                                                                     \
            "bne 1b\n\t"                                                                                     \
            "add sp, sp, #32\n\t"                                                                            \
            "pop {r4-r11, pc}")

__attribute__((naked, noinline)) static void walk_pairs_int8(pair_walk *walk __attribute__((unused)))
{
    WALK_PAIRS("");
}

__attribute__((naked, noinline)) static void walk_pairs_int8_odd(pair_walk *walk __attribute__((unused)))
{
    WALK_PAIRS(WALK_ODD_VALUE);
}

#if !MD_W16_DUAL_ISSUE
/* md_conv_s8_w16_rolled's walk of the M4 and M33 (kernels/loops.py ROLLED_WALK_DEPTH): depths of 16k
 * values, the products one eight a pass (COLUMNS_EIGHT, the end's load, compare and branch once per
 * 128 MACs) in place of DOT_LOOP's sixteen and its odd counts' copies: the walk in well under a 1 KB
 * flash cache beside the fill, where walk_pairs_int8's 1.6 KB misses it on every pair of channels. */
#define DOT_EIGHTS(end)                                                                                         \
    "16:\n\t" COLUMNS_EIGHT "ldr r10, " end "\n\t"                                                          \
    "cmp r1, r10\n\t"                                                                                         \
    "bne 16b\n\t"

__attribute__((naked, noinline)) static void walk_pairs_rolled(pair_walk *walk __attribute__((unused)))
{
    WALK_PAIRS_OF(DOT_EIGHTS("[sp, #28]"), "");
}
#undef DOT_EIGHTS

/* Cortex-M4 and M33: walk_pairs_int8 (an even depth) of a layer of `stride` output channels (a
 * string: 128 or 256, MobileNet's deep layers), each output stored at an immediate offset from pixel
 * a's first (no address computed per pixel, no stride loaded), the pair's record read by single
 * loads in runs (the biases, each channel's constants: the second's while the first's last outputs
 * are stored) and moved on once a pair; depths of 32k values (whole passes of sixteen pairs): 19
 * cycles a pair fewer. */
#define WALK_STORE_AT(sum, stride, pixel, channel) "strb " sum ", [r0, #" #pixel " * " stride " + " channel "]\n\t"
/* A channel's four outputs (sums a..d, each doubled in place) interleaved (lr the addend's scratch: no
 * result read by the next instruction but as an SMMLAR's addend), `then` after the last read of
 * r10-r12. */
#define WALK_CHANNEL_AT(a, b, c, d, stride, channel, then)                                                    \
    "add lr, r10, " a ", asr #31\n\t"                                                                         \
    "lsl " a ", " a ", #1\n\t"                                                                                \
    "smmlar " a ", " a ", r12, lr\n\t"                                                                        \
    "add lr, r10, " b ", asr #31\n\t"                                                                         \
    "lsl " b ", " b ", #1\n\t"                                                                                \
    "smmlar " b ", " b ", r12, lr\n\t"                                                                        \
    "asr " a ", " a ", r11\n\t"                                                                               \
    "add lr, r10, " c ", asr #31\n\t"                                                                         \
    "ssat " a ", #8, " a "\n\t"                                                                               \
    "lsl " c ", " c ", #1\n\t"                                                                                \
    "smmlar " c ", " c ", r12, lr\n\t"                                                                        \
    "asr " b ", " b ", r11\n\t" WALK_STORE_AT(a, stride, 0, channel)                                          \
    "add lr, r10, " d ", asr #31\n\t"                                                                         \
    "ssat " b ", #8, " b "\n\t"                                                                               \
    "lsl " d ", " d ", #1\n\t"                                                                                \
    "smmlar " d ", " d ", r12, lr\n\t"                                                                        \
    "asr " c ", " c ", r11\n\t" WALK_STORE_AT(b, stride, 1, channel)                                          \
    "ssat " c ", #8, " c "\n\t"                                                                               \
    "asr " d ", " d ", r11\n\t" then WALK_STORE_AT(c, stride, 2, channel)                                     \
    "ssat " d ", #8, " d "\n\t" WALK_STORE_AT(d, stride, 3, channel)
/* Z: r0 at the end of the columns ([sp, #28], set once a call: no end computed a pair). */
#define COLUMNS_ENDED "ldr r10, [sp, #28]\n\tcmp r0, r10\n\t"
/* Depths of 32k: the first eight from the biases, then passes of sixteen. */
#define DOT_SIXTEENS                                                                                          \
    MD_W16_DOT_ENTERED(MD_W16_PASS_FIRST_FROM_BIASES MD_W16_PASS_SEVEN, COLUMNS_EIGHT, COLUMNS_EIGHT, COLUMNS_ENDED)
/* Depths of 16k, for a small flash cache: the first pair from the biases, then passes of eight. */
#define DOT_EIGHTS_FROM_BIASES                                                                                \
    MD_W16_DOT_ENTERED(MD_W16_PASS_FIRST_FROM_BIASES, MD_W16_PASS_FIRST, MD_W16_PASS_SEVEN, COLUMNS_ENDED)
/* The walk, its products by `dot` (a string: MD_W16_DOT_ENTERED's). */
#define WALK_PAIRS_AT(stride, dot)                                                                            \
    __asm__("push {r4-r11, lr}\n\t"                                                                           \
            "ldm r0, {r1-r7}\n\t"                                                                             \
            "add r8, r1, r3, lsl #1\n\t" /* the columns' end: 2 x a pair's weights */                         \
            "push {r1-r8}\n\t" /* the walk at sp, the columns' end at [sp, #28] */                            \
            "1:\n\t"                                                                                          \
            "ldr r12, [sp, #12]\n\t" /* records */                                                            \
            "ldr r1, [sp, #4]\n\t" /* weights */                                                              \
            "ldr r0, [sp]\n\t" /* columns */                                                                  \
            "ldr r2, [r12]\n\t" /* the biases */                                                              \
            "ldr r3, [r12, #4]\n\t" dot                                                                       \
            "str r1, [sp, #4]\n\t" /* the next pair's weights */                                              \
            "ldr r1, [sp, #12]\n\t" /* the record */                                                          \
            "ldr r0, [sp, #16]\n\t" /* pixel a's output */                                                    \
            "ldr r10, [r1, #8]\n\t" /* channel 0's constants */                                               \
            "ldr r11, [r1, #12]\n\t"                                                                          \
            "ldr r12, [r1, #16]\n\t"                                                                          \
            WALK_CHANNEL_AT("r2", "r4", "r6", "r8", stride, "0",                                              \
                            "ldr r10, [r1, #20]\n\tldr r11, [r1, #24]\n\tldr r12, [r1, #28]\n\t")             \
            "add r1, r1, #32\n\t"                                                                             \
            "str r1, [sp, #12]\n\t" /* the next pair's record */                                              \
            "ldr r1, [sp, #24]\n\t" /* the end */                                                             \
            "add r2, r0, #2\n\t"                                                                              \
            "str r2, [sp, #16]\n\t" /* the next pair's outputs */                                             \
            "cmp r2, r1\n\t" /* Z: the last pair (nothing sets the flags before the branch) */                \
            WALK_CHANNEL_AT("r3", "r5", "r7", "r9", stride, "1", "")                                          \
            "bne 1b\n\t"                                                                                      \
            "add sp, sp, #32\n\t"                                                                             \
            "pop {r4-r11, pc}")

__attribute__((naked, noinline)) static void walk_pairs_int8_128(pair_walk *walk __attribute__((unused)))
{
    WALK_PAIRS_AT("128", DOT_SIXTEENS);
}

__attribute__((naked, noinline)) static void walk_pairs_int8_256(pair_walk *walk __attribute__((unused)))
{
    WALK_PAIRS_AT("256", DOT_SIXTEENS);
}

/* walk_pairs_rolled's copies with the stride built in (depths of 16k): 0.8 KB, in a 1 KB flash cache. */
__attribute__((naked, noinline)) static void walk_pairs_rolled_128(pair_walk *walk __attribute__((unused)))
{
    WALK_PAIRS_AT("128", DOT_EIGHTS_FROM_BIASES);
}

__attribute__((naked, noinline)) static void walk_pairs_rolled_256(pair_walk *walk __attribute__((unused)))
{
    WALK_PAIRS_AT("256", DOT_EIGHTS_FROM_BIASES);
}
#undef WALK_PAIRS_AT
#undef DOT_EIGHTS_FROM_BIASES
#undef DOT_SIXTEENS
#undef COLUMNS_ENDED
#undef WALK_CHANNEL_AT
#undef WALK_STORE_AT
#endif

/* A lone pixel (a last group of 1 to 3 pixels, pixel by pixel: 3x3 images leave one after two groups
 * of 4), its column in column 0 of the scratch, through the pairs of channels two pairs at a time:
 * 1 pixel x 4 channels, where the 4-pixel walk would compute the pixel four times (12 of its 16 MACs
 * a pair of values copies). Per pair of values the column word, both pairs' two weight words and
 * four SMLADs, 8 pairs of values a block (a depth of 16 values a block). A pair's records as the
 * walk's. */
typedef struct {
    const int16_t *values;  /* column 0 of the scratch: a pair of values every 16 bytes */
    const int16_t *weights; /* the next two pairs' first: the second pair_bytes on */
    int32_t pair_bytes;     /* a pair's weights: 4 * depth bytes, depth a multiple of 16 */
    const int32_t *records; /* the next two pairs' (8 words each) */
    int8_t *out;            /* the pixel's output of the next pairs' first channel */
    const int8_t *end;      /* out after the last pair (pairs of pairs) */
} lone_walk;

MD_STATIC_CHECK(lone_walk_layout, sizeof(void *) == 4 && sizeof(lone_walk) == 24);

#if !MD_W16_DUAL_ISSUE
/* Cortex-M4 and M33: per pair of values one run of five loads (6 cycles) and four SMLADs; each block's
 * first pair loads through the pointers and moves them on (post-indexed), the other seven at
 * offsets back from there (md_at 1 to 7); two blocks a pass, an odd count of blocks entering at the
 * second. r1 and r2 end on the second pair's weights and the next pair's. */
#define LONE_PRODUCTS                                                                                             \
    "smlad r4, r12, r8, r4\n\t"                                                                               \
    "smlad r5, r12, r9, r5\n\t"                                                                               \
    "smlad r6, r12, r10, r6\n\t"                                                                              \
    "smlad r7, r12, r11, r7\n\t"
#define LONE_FIRST                                                                                                \
    "ldr r8, [r1], #64\n\t"                                                                                   \
    "ldr r10, [r2], #64\n\t"                                                                                  \
    "ldr r12, [r0], #128\n\t"                                                                                 \
    "ldr r9, [r1, #-60]\n\t"                                                                                  \
    "ldr r11, [r2, #-60]\n\t" LONE_PRODUCTS
#define LONE_AT                                                                                                   \
    "ldr r8, [r1, #(md_at * 8 - 64)]\n\t"                                                                     \
    "ldr r9, [r1, #(md_at * 8 - 60)]\n\t"                                                                     \
    "ldr r10, [r2, #(md_at * 8 - 64)]\n\t"                                                                    \
    "ldr r11, [r2, #(md_at * 8 - 60)]\n\t"                                                                    \
    "ldr r12, [r0, #(md_at * 16 - 128)]\n\t" LONE_PRODUCTS
#define LONE_BLOCK LONE_FIRST ".set md_at, 1\n\t.rept 7\n\t" LONE_AT ".set md_at, md_at + 1\n\t.endr\n\t"
#define LONE_DOT                                                                                                  \
    "tst r3, #64\n\t"                                                                                         \
    "mov r3, r2\n\t"                                                                                          \
    "bne 3f\n\t"                                                                                              \
    "2:\n\t" LONE_BLOCK "3:\n\t" LONE_BLOCK "cmp r1, r3\n\t"                                                  \
    "bne 2b\n\t"
#else
/* Cortex-M7: software-pipelined, each SMLAD beside the load of a word of the next pair of values
 * (the fifth load alone: 5 cycles a pair of values), the column word in r12 and lr by turns (lr
 * holds the records again after the products); the last block apart, its last pair without loads
 * (nothing read past the weights or the column). Pair md_at of a block with its column word in
 * `word`, the next one's into `next`. */
#define LONE_PAIR(word, next)                                                                                     \
    "smlad r4, " word ", r8, r4\n\t"                                                                         \
    "ldr " next ", [r0, #(md_at * 16 + 16)]\n\t"                                                             \
    "smlad r5, " word ", r9, r5\n\t"                                                                         \
    "ldr r8, [r1, #(md_at * 8 + 8)]\n\t"                                                                      \
    "smlad r6, " word ", r10, r6\n\t"                                                                        \
    "ldr r9, [r1, #(md_at * 8 + 12)]\n\t"                                                                     \
    "smlad r7, " word ", r11, r7\n\t"                                                                        \
    "ldr r10, [r2, #(md_at * 8 + 8)]\n\t"                                                                     \
    "ldr r11, [r2, #(md_at * 8 + 12)]\n\t"                                                                    \
    ".set md_at, md_at + 1\n\t"
/* A block's pairs 0 to 6; pair 7 (column word in lr) with `loads` (strings) beside its SMLADs. */
#define LONE_BLOCK(load_0, load_1, load_2, load_3, load_4)                                                        \
    ".set md_at, 0\n\t"                                                                                       \
    ".rept 3\n\t" LONE_PAIR("r12", "lr") LONE_PAIR("lr", "r12") ".endr\n\t" LONE_PAIR("r12", "lr")              \
    "smlad r4, lr, r8, r4\n\t" load_0 "smlad r5, lr, r9, r5\n\t" load_1 "smlad r6, lr, r10, r6\n\t" load_2     \
    "smlad r7, lr, r11, r7\n\t" load_3 load_4
/* r3: the first pair's last block; the blocks before it load the next block's first pair and move
 * the pointers on (pre-indexed). */
#define LONE_DOT                                                                                                  \
    "sub r3, r2, #64\n\t"                                                                                     \
    "ldr r12, [r0]\n\t"                                                                                       \
    "ldr r8, [r1]\n\t"                                                                                        \
    "ldr r9, [r1, #4]\n\t"                                                                                    \
    "ldr r10, [r2]\n\t"                                                                                       \
    "ldr r11, [r2, #4]\n\t"                                                                                   \
    "cmp r1, r3\n\t"                                                                                          \
    "beq 3f\n\t"                                                                                              \
    "2:\n\t" LONE_BLOCK("ldr r12, [r0, #128]!\n\t", "ldr r8, [r1, #64]!\n\t", "ldr r9, [r1, #4]\n\t",          \
                        "ldr r10, [r2, #64]!\n\t", "ldr r11, [r2, #4]\n\t") "cmp r1, r3\n\t"                  \
    "bne 2b\n\t"                                                                                              \
    "3:\n\t" LONE_BLOCK("", "", "", "", "") "add r2, r2, #64\n\t"                                             \
    "ldr lr, [sp, #12]\n\t"
#endif
/* A channel's constants (at word `at` of the records at lr) and the output of `sum` at `out`. */
#define LONE_OUTPUT(sum, at, out)                                                                                 \
    "ldr r10, [lr, #(4 * " at ")]\n\t"                                                                        \
    "ldr r11, [lr, #(4 * " at " + 4)]\n\t"                                                                    \
    "ldr r12, [lr, #(4 * " at " + 8)]\n\t" WALK_OUTPUT(sum, out, "")

/* The walk at sp; per two pairs their biases (the second's 8 words on), the products, the four
 * outputs, the records and the outputs moved on. */
__attribute__((naked, noinline)) static void walk_lone_pixel(const lone_walk *walk __attribute__((unused)))
{
    __asm__("push {r4-r11, lr}\n\t"
            "ldm r0, {r1-r6}\n\t"
            "push {r1-r6}\n\t"
            "1:\n\t"
            "ldr r1, [sp, #4]\n\t"  /* the first pair's weights */
            "ldr r3, [sp, #8]\n\t"  /* pair bytes */
            "ldr lr, [sp, #12]\n\t" /* the records */
            "ldr r0, [sp]\n\t"      /* the column */
            "add r2, r1, r3\n\t"    /* the second pair's weights, where the first's end */
            "ldm lr, {r4, r5}\n\t"
            "ldrd r6, r7, [lr, #32]\n\t" LONE_DOT "str r2, [sp, #4]\n\t" /* the next two pairs' weights */
            "ldr r1, [sp, #16]\n\t" LONE_OUTPUT("r4", "2", "[r1]") LONE_OUTPUT("r5", "5", "[r1, #1]")
                LONE_OUTPUT("r6", "10", "[r1, #2]") LONE_OUTPUT("r7", "13", "[r1, #3]")
            "add lr, lr, #64\n\t"
            "str lr, [sp, #12]\n\t"
            "add r1, r1, #4\n\t"
            "str r1, [sp, #16]\n\t"
            "ldr r0, [sp, #20]\n\t"
            "cmp r1, r0\n\t"
            "bne 1b\n\t"
            "add sp, sp, #24\n\t"
            "pop {r4-r11, pc}");
}

#undef LONE_OUTPUT
#undef LONE_DOT
#undef LONE_BLOCK
#undef LONE_PAIR
#undef LONE_AT
#undef LONE_FIRST
#undef LONE_PRODUCTS

/* Whether walk_lone_pixel takes the layer's last pixels: a depth of 16k values, two pairs of
 * channels or more. */
static int lone_walk_fits(const conv_w16_job *job)
{
    return (job->depth & 15) == 0 && job->p->output_c >= 4;
}

/* The lone pixel in column 0 through every pair of channels (an odd count of pairs: the last two
 * again, the pair before the last computed twice), an odd last channel by the C path. */
static void walk_lone(const conv_w16_job *job, int mode, const int32_t *records, int8_t *out, const int16_t *scratch)
{
    const int32_t pairs = job->p->output_c >> 1;
    lone_walk walk;
    walk.values = scratch;
    walk.weights = job->filter;
    walk.pair_bytes = 4 * job->depth;
    walk.records = records;
    walk.out = out;
    walk.end = out + 2 * (pairs & ~1);
    walk_lone_pixel(&walk);
    if (pairs & 1) {
        walk.weights = job->filter + (pairs - 2) * 2 * job->depth;
        walk.records = records + (pairs - 2) * 8;
        walk.out = out + 2 * (pairs - 2);
        walk.end = out + 2 * pairs;
        walk_lone_pixel(&walk);
    }
    if (job->p->output_c & 1) {
        compute(mode, job, scratch, 1, out, job->p->output_c & ~1);
    }
}

/* The last `count` (1 to 3) pixels from `pixel` on, one at a time through walk_lone. */
static void lone_pixels(const conv_w16_job *job, int mode, const int32_t *records, int32_t batch, int32_t pixel,
                        int32_t count, int8_t *out, int16_t *scratch)
{
    int32_t k;
    for (k = 0; k < count; ++k, out += job->p->output_c) {
        fill_column(job, batch, pixel + k, scratch, 0);
        walk_lone(job, mode, records, out, scratch);
    }
}

/* The stems' walk (md_conv_stem_fits: depths of 27, 9 and 40 values): walk_pairs_int8 with the
 * column's pairs unrolled (a copy per depth: no count, no loop, no branch around the products), the
 * four pixels' output addresses computed once for both channels. A stem's short columns make the
 * work around the products a large part of a pair's cycles (27 values per pixel for vww's 8
 * channels). Any layer of these depths takes it: the walk does not depend on how columns are filled. */
#if !MD_W16_DUAL_ISSUE
/* The first pair's products added to the biases (r2, r3) as they are read: pixel a's last, its
 * column word kept (no copy of the biases into the other pixels' sums); pixels c and d's words
 * loaded into the sums they start (channel 1's product first), so that the six loads run back to
 * back (the M4 pipelines them) and no load is read by the instruction right after it (the M33
 * waits a cycle). */
#define STEM_START                                                                                                \
    "ldr r12, [r1]\n\t"                                                                                       \
    "ldr lr, [r1, #4]\n\t"                                                                                    \
    "ldr r6, [r0, #8]\n\t"                                                                                    \
    "ldr r8, [r0, #12]\n\t"                                                                                   \
    "ldr r11, [r0, #4]\n\t"                                                                                   \
    "ldr r10, [r0]\n\t"                                                                                       \
    "smlad r4, r11, r12, r2\n\t"                                                                              \
    "smlad r5, r11, lr, r3\n\t"                                                                               \
    "smlad r7, r6, lr, r3\n\t"                                                                                \
    "smlad r6, r6, r12, r2\n\t"                                                                               \
    "smlad r9, r8, lr, r3\n\t"                                                                                \
    "smlad r8, r8, r12, r2\n\t"                                                                               \
    "smlad r2, r10, r12, r2\n\t"                                                                              \
    "smlad r3, r10, lr, r3\n\t"
/* The other pairs at immediate offsets (MD_W16_PAIR_AT: a load writing back its base would hold
 * the next one up). */
#define STEM_DOT(pairs)                                                                                           \
    ".set md_at, 1\n\t"                                                                                       \
    ".rept " #pairs " - 1\n\t" MD_W16_PAIR_AT("") ".set md_at, md_at + 1\n\t"                                \
    ".endr\n\t"
/* STEM_DOT for a small flash cache (STEM_WALK's rolled copies): the pairs after the first in a loop
 * of `unroll` (those left over by it first), the pointers advanced a pass and left at the last pair
 * (STEM_END(1) and STEM_END_ODD(1) follow), the loop's end the last pair's values (STEM_ROLLED_WALK's,
 * at [sp, #4]). At least `unroll` pairs after the first. */
#define STEM_DOT_ROLLED(pairs, unroll)                                                                            \
    ".set md_at, 1\n\t"                                                                                       \
    ".rept (" #pairs " - 1) % " #unroll "\n\t" MD_W16_PAIR_AT("") ".set md_at, md_at + 1\n\t"                  \
    ".endr\n\t"                                                                                               \
    ".if (" #pairs " - 1) % " #unroll "\n\t"                                                                  \
    "add r0, r0, #16 * ((" #pairs " - 1) % " #unroll ")\n\t"                                                   \
    "add r1, r1, #8 * ((" #pairs " - 1) % " #unroll ")\n\t"                                                    \
    ".endif\n\t"                                                                                              \
    "2:\n\t"                                                                                                  \
    ".set md_at, 1\n\t"                                                                                       \
    ".rept " #unroll "\n\t" MD_W16_PAIR_AT("") ".set md_at, md_at + 1\n\t"                                     \
    ".endr\n\t"                                                                                               \
    "ldr r10, [sp, #4]\n\t" /* the values' end */                                                           \
    "add r0, r0, #16 * " #unroll "\n\t"                                                                       \
    "add r1, r1, #8 * " #unroll "\n\t"                                                                        \
    "cmp r0, r10\n\t"                                                                                         \
    "bne 2b\n\t"
/* The weights' pointer past the pair's (the columns' is read again for the next pair). */
#define STEM_END(pairs) "add r1, r1, #8 * " #pairs "\n\t"
/* ... or past an odd depth's last value, its products (WALK_ODD_VALUE's) by single loads first. */
#define STEM_END_ODD(pairs)                                                                                       \
    "ldr r12, [r1, #8 * " #pairs "]\n\t"                                                                      \
    "ldr r10, [r0, #16 * " #pairs "]\n\t"                                                                     \
    "ldr r11, [r0, #16 * " #pairs " + 4]\n\t"                                                                 \
    "smlad r2, r10, r12, r2\n\t"                                                                              \
    "smladx r3, r10, r12, r3\n\t"                                                                             \
    "smlad r4, r11, r12, r4\n\t"                                                                              \
    "smladx r5, r11, r12, r5\n\t"                                                                             \
    "ldr r10, [r0, #16 * " #pairs " + 8]\n\t"                                                                 \
    "ldr r11, [r0, #16 * " #pairs " + 12]\n\t"                                                                \
    "smlad r6, r10, r12, r6\n\t"                                                                              \
    "smladx r7, r10, r12, r7\n\t"                                                                             \
    "smlad r8, r11, r12, r8\n\t"                                                                              \
    "smladx r9, r11, r12, r9\n\t"                                                                             \
    "add r1, r1, #8 * " #pairs " + 4\n\t"
#else
/* The first pair's words loaded before the biases are copied into the other pixels' sums, the last
 * pair without loads (DOT_LOOP's). */
#define STEM_START                                                                                                \
    "ldr r10, [r0]\n\t"                                                                                       \
    "ldr r12, [r1]\n\t"                                                                                       \
    "ldr lr, [r1, #4]\n\t"                                                                                    \
    "mov r4, r2\n\t"                                                                                          \
    "mov r5, r3\n\t"                                                                                          \
    "mov r6, r2\n\t"                                                                                          \
    "mov r7, r3\n\t"                                                                                          \
    "mov r8, r2\n\t"                                                                                          \
    "mov r9, r3\n\t"
#define STEM_DOT(pairs)                                                                                           \
    ".rept " #pairs " - 1\n\t" MD_W16_PAIR ".endr\n\t" MD_W16_PAIR_START "smlad r8, r11, r12, r8\n\t"         \
    "smlad r9, r11, lr, r9\n\t"                                                                               \
    "add r0, r0, #16\n\t"                                                                                     \
    "add r1, r1, #8\n\t"
#define STEM_END(pairs) ""
#define STEM_END_ODD(pairs) WALK_ODD_VALUE
#endif

/* WALK_OUTPUT of `sum` stored at `address`. */
#define STEM_OUTPUT(sum, address) WALK_OUTPUT(sum, address, "")

/* The walk over `pairs` pairs of values, `end` STEM_END or STEM_END_ODD: the pair_walk at [sp] and
 * in lr at the top of the loop, its values and weights read by one LDRD, its records advanced a
 * channel at a time. Channel
 * 0's outputs give their sums' registers to the four pixels' addresses (r1, r2, r4, r6: stores at
 * immediate offsets, one add per pixel), which channel 1's outputs reuse. */
#define STEM_WALK(dot, end) STEM_WALK_FRAMED("", "r0", dot, end)
/* ... the registers `frame` (from r0, the walk at [sp]) pushed below r4, after `setup`. */
#define STEM_WALK_FRAMED(setup, frame, dot, end)                                                                  \
    __asm__(setup "push {" frame ", r4-r11, lr}\n\t"                                                         \
            "mov lr, r0\n\t"                                                                                  \
            "1:\n\t"                                                                                          \
            "ldr r11, [lr, #12]\n\t" /* the records */                                                        \
            "ldrd r0, r1, [lr]\n\t"  /* the values, the weights */                                            \
            "ldm r11!, {r2, r3}\n\t" /* the biases */                                                         \
            "str r11, [lr, #12]\n\t" STEM_START dot end "ldr lr, [sp]\n\t"                        \
            "ldr r0, [lr, #12]\n\t" /* channel 0's constants */                                               \
            "str r1, [lr, #4]\n\t"  /* the next pair's weights */                                             \
            "ldr r1, [lr, #16]\n\t"                                                                           \
            "ldm r0!, {r10, r11, r12}\n\t"                                                                    \
            "str r0, [lr, #12]\n\t"                                                                           \
            "ldr lr, [lr, #20]\n\t" WALK_OUTPUT("r2", "[r1]", "add r2, r1, lr\n\t")                          \
            WALK_OUTPUT("r4", "[r2]", "add r4, r2, lr\n\t") WALK_OUTPUT("r6", "[r4]", "add r6, r4, lr\n\t") \
            WALK_OUTPUT("r8", "[r6]", "ldr lr, [sp]\n\t")                                                    \
            "ldr r8, [lr, #12]\n\t" /* channel 1's constants */                                               \
            "ldm r8!, {r10, r11, r12}\n\t"                                                                    \
            "str r8, [lr, #12]\n\t" WALK_OUTPUT_PAIR("r3", "[r1, #1]", "r5", "[r2, #1]", "r8")                \
            WALK_OUTPUT_PAIR("r7", "[r4, #1]", "r9", "[r6, #1]", "r8") "add r1, r1, #2\n\t"               \
            "ldr r0, [lr, #24]\n\t" /* the end */                                                             \
            "str r1, [lr, #16]\n\t" /* the next pair's outputs */                                             \
            "cmp r1, r0\n\t"                                                                                  \
            "bne 1b\n\t"                                                                                      \
            "pop {" frame ", r4-r11, pc}")
/* STEM_WALK over `pairs` pairs by STEM_DOT_ROLLED, the last pair's values' address at [sp, #4]. */
#define STEM_ROLLED_WALK(pairs, unroll, end)                                                                      \
    STEM_WALK_FRAMED("ldr r1, [r0]\n\t" /* the values */                                                       \
                     "add r1, r1, #16 * (" #pairs " - 1)\n\t",                                                 \
                     "r0, r1", STEM_DOT_ROLLED(pairs, unroll), end)

__attribute__((naked, noinline)) static void walk_stem_27(pair_walk *walk __attribute__((unused)))
{
    STEM_WALK(STEM_DOT(13), STEM_END_ODD(13));
}

__attribute__((naked, noinline)) static void walk_stem_9(pair_walk *walk __attribute__((unused)))
{
    STEM_WALK(STEM_DOT(4), STEM_END_ODD(4));
}

__attribute__((naked, noinline)) static void walk_stem_40(pair_walk *walk __attribute__((unused)))
{
    STEM_WALK(STEM_DOT(20), STEM_END(20));
}

#if !MD_W16_DUAL_ISSUE
/* md_conv_s8_w16_rolled's copies of walk_stem_27 and walk_stem_40 (STEM_DOT_ROLLED): 0.6 and 0.9 KB
 * on the M4 where they take 1 and 1.4 KB, so that the walk and a stem's fill fit a 1 KB flash cache
 * (the RGB walk 4 pairs a pass: with rgb_block_rolled and the group loop it fits; the 10x4's 9, its
 * fill run once every 32 channel pairs of kws's 64 channels). */
__attribute__((naked, noinline)) static void walk_stem_27_rolled(pair_walk *walk __attribute__((unused)))
{
    STEM_ROLLED_WALK(13, 4, STEM_END_ODD(1));
}

__attribute__((naked, noinline)) static void walk_stem_40_rolled(pair_walk *walk __attribute__((unused)))
{
    STEM_ROLLED_WALK(20, 9, STEM_END(1));
}
#endif

/* STEM_RECORDS_WALK_OF's loads of a pair's biases (and the values' address into r0), and after its
 * products of out (into lr) and channel 0's constants: on the M4 and M33 the biases by single loads
 * in the run of the products' (after an LDRD a load does not pipeline), out first (`end` computed
 * r1 the instruction before: the LDM waits a cycle for it). */
#if MD_W16_DUAL_ISSUE
#define STEM_RECORD_BIASES "ldrd r2, r3, [r1], #8\n\t" "ldr r0, [sp]\n\t"
#define STEM_RECORD_OUT "ldm r1!, {r10, r11, r12}\n\t" "ldr lr, [sp, #4]\n\t"
#else
#define STEM_RECORD_BIASES "ldr r2, [r1], #8\n\t" "ldr r0, [sp]\n\t" "ldr r3, [r1, #-4]\n\t"
#define STEM_RECORD_OUT "ldr lr, [sp, #4]\n\t" "ldm r1!, {r10, r11, r12}\n\t"
#endif

/* A channel pair's outputs (sums r2..r9, channel 0's constants in r10..r12, channel 1's next at
 * `records`, a string: lr) at immediate offsets from pixel a's first (`out`: r1), `channels` (a
 * string) bytes between pixels; of sums `kind` (WALK_OUTPUT_OF's). */
#define STEM_CHANNELS(channels) STEM_CHANNELS_OF(DOUBLING, channels, "r1", "lr")
#if MD_W16_DUAL_ISSUE
#define STEM_CHANNELS_OF(kind, channels, out, records)                                                            \
    WALK_OUTPUTS_4_OF(kind, "r2", "r4", "r6", "r8", "[" out ", #2 * md_pair]", "[" out ", #" channels " + 2 * md_pair]", \
                      "[" out ", #2 * " channels " + 2 * md_pair]", "[" out ", #3 * " channels " + 2 * md_pair]", "",  \
                      "")                                                                                       \
    "ldm " records "!, {r10, r11, r12}\n\t" /* channel 1's */                                                  \
    WALK_OUTPUTS_4_OF(kind, "r3", "r5", "r7", "r9", "[" out ", #2 * md_pair + 1]",                              \
                      "[" out ", #" channels " + 2 * md_pair + 1]", "[" out ", #2 * " channels " + 2 * md_pair + 1]", \
                      "[" out ", #3 * " channels " + 2 * md_pair + 1]", "", "")
#else
/* Two at a time where a register is free (WALK_OUTPUT_PAIR). */
#define STEM_CHANNELS_OF(kind, channels, out, records)                                                            \
    WALK_OUTPUT_OF(kind, "r2", "[" out ", #2 * md_pair]", "")                                                   \
    WALK_OUTPUT_PAIR_OF(kind, "r4", "[" out ", #" channels " + 2 * md_pair]", "r6",                              \
                        "[" out ", #2 * " channels " + 2 * md_pair]", "r2")                                      \
    WALK_OUTPUT_OF(kind, "r8", "[" out ", #3 * " channels " + 2 * md_pair]", "")                                \
    "ldm " records "!, {r10, r11, r12}\n\t" /* channel 1's */                                                  \
    WALK_OUTPUT_PAIR_OF(kind, "r3", "[" out ", #2 * md_pair + 1]", "r5", "[" out ", #" channels " + 2 * md_pair + 1]", \
                        "r2")                                                                                   \
    WALK_OUTPUT_PAIR_OF(kind, "r7", "[" out ", #2 * " channels " + 2 * md_pair + 1]", "r9",                      \
                        "[" out ", #3 * " channels " + 2 * md_pair + 1]", "r4")
#endif

/* The walk of a group of 4 pixels of a layer with `channels` output channels (a constant: each
 * channel pair unrolled, its outputs at immediate offsets from pixel a's first): the values' and
 * out's addresses on the stack at [sp] and [sp, #12], the next pair's weights and records at [sp, #4]
 * and [sp, #8]; lr the records from one channel's constants to the next. */
#define STEM_WALK_OF(pairs, end, channels)                                                                        \
    __asm__("push {r4-r11, lr}\n\t"                                                                          \
            "ldm r0, {r0-r4}\n\t" /* values, weights, pair bytes, records, out */                              \
            "push {r0, r1, r3, r4}\n\t"                                                                       \
            "mov lr, r3\n\t"                                                                                  \
            ".set md_pair, 0\n\t"                                                                             \
            ".rept " #channels " / 2\n\t"                                                                     \
            "ldrd r2, r3, [lr], #8\n\t" /* the biases */                                                      \
            "str lr, [sp, #8]\n\t"                                                                            \
            "ldr r0, [sp]\n\t"                                                                                \
            "ldr r1, [sp, #4]\n\t" STEM_START STEM_DOT(pairs) end "str r1, [sp, #4]\n\t"                       \
            "ldr lr, [sp, #8]\n\t"                                                                            \
            "ldr r1, [sp, #12]\n\t"                                                                           \
            "ldm lr!, {r10, r11, r12}\n\t" /* channel 0's constants */                                        \
            STEM_CHANNELS(#channels)                                                                           \
            ".set md_pair, md_pair + 1\n\t"                                                                   \
            ".endr\n\t"                                                                                       \
            "add sp, sp, #16\n\t"                                                                             \
            "pop {r4-r11, pc}")

/* STEM_WALK_OF over md_conv_stem_records' records (r2; r0 the values, r1 out): each pair's doubled
 * biases, weights and constants one after the other from one pointer (r1 in the products, lr pixel
 * a's outputs), the sums doubled (no shift before each SMMLAR). */
#define STEM_RECORDS_WALK_OF(pairs, end, channels)                                                                \
    __asm__("push {r4-r11, lr}\n\t"                                                                          \
            "push {r0, r1}\n\t" /* the values at [sp], out at [sp, #4] */                                      \
            "mov r1, r2\n\t"                                                                                  \
            ".set md_pair, 0\n\t"                                                                             \
            ".rept " #channels " / 2\n\t"                                                                     \
            STEM_RECORD_BIASES STEM_START STEM_DOT(pairs) end STEM_RECORD_OUT                                  \
            STEM_CHANNELS_OF(DOUBLED, #channels, "lr", "r1")                                                   \
            ".set md_pair, md_pair + 1\n\t"                                                                   \
            ".endr\n\t"                                                                                       \
            "add sp, sp, #8\n\t"                                                                              \
            "pop {r4-r11, pc}")

/* The grey stem's walk of 8 channels over records (md_conv_s8_w16_stem_records_bytes). */
__attribute__((naked, noinline)) static void walk_grey_records_of_8(const int16_t *values __attribute__((unused)),
                                                                   int8_t *out __attribute__((unused)),
                                                                   const int32_t *records __attribute__((unused)))
{
    STEM_RECORDS_WALK_OF(4, STEM_END_ODD(4), 8);
}

#if !MD_W16_DUAL_ISSUE
/* walk_grey_records_of_8 for a small flash cache (md_conv_s8_w16_rolled's): its channel pairs in a loop
 * (0.4 KB where it takes 1.6 KB on the M4), out advanced a pair and compared with its end at [sp, #8],
 * so that it fits the L4R5's 1 KB ART beside grey_block and the group loop. */
__attribute__((naked, noinline)) static void walk_grey_records_rolled_of_8(
    const int16_t *values __attribute__((unused)), int8_t *out __attribute__((unused)),
    const int32_t *records __attribute__((unused)))
{
    __asm__("push {r4-r11, lr}\n\t"
            "add r3, r1, #8\n\t"
            "push {r0, r1, r3}\n\t" /* the values at [sp], out at [sp, #4], its end at [sp, #8] */
            "mov r1, r2\n\t"
            ".set md_pair, 0\n\t"
            "1:\n\t" STEM_RECORD_BIASES STEM_START STEM_DOT(4) STEM_END_ODD(4) STEM_RECORD_OUT
            STEM_CHANNELS_OF(DOUBLED, "8", "lr", "r1")
            "ldr r0, [sp, #8]\n\t"
            "add lr, lr, #2\n\t"
            "str lr, [sp, #4]\n\t"
            "cmp lr, r0\n\t"
            "bne 1b\n\t"
            "add sp, sp, #12\n\t"
            "pop {r4-r11, pc}");
}
#endif

/* Copies for 8 output channels (vww's and person_detect's stems; groups of 4 pixels only: a lone
 * pixel's outputs are 0 apart). */
__attribute__((naked, noinline)) static void walk_stem_27_of_8(pair_walk *walk __attribute__((unused)))
{
    STEM_WALK_OF(13, STEM_END_ODD(13), 8);
}

__attribute__((naked, noinline)) static void walk_stem_9_of_8(pair_walk *walk __attribute__((unused)))
{
    STEM_WALK_OF(4, STEM_END_ODD(4), 8);
}

/* The grey stem's records walk: rolled where there is a rolled copy (the M4 and M33) and `rolled`. */
static void (*grey_records_walk_for(int rolled))(const int16_t *, int8_t *, const int32_t *)
{
#if !MD_W16_DUAL_ISSUE
    if (rolled) {
        return walk_grey_records_rolled_of_8;
    }
#else
    (void)rolled;
#endif
    return walk_grey_records_of_8;
}

/* The stems' walk of a column of `depth` values (md_conv_stem_fits' shapes: 27, 9 or 40), or NULL. */
static void (*stem_walk_for(int32_t depth))(pair_walk *)
{
    if (depth == 27) {
        return walk_stem_27;
    }
    if (depth == 9) {
        return walk_stem_9;
    }
    return depth == 40 ? walk_stem_40 : NULL;
}

/* stem_walk_for's rolled copy where there is one (the M4 and M33: the M7 takes its one walk). */
static void (*stem_rolled_walk_for(int32_t depth))(pair_walk *)
{
#if !MD_W16_DUAL_ISSUE
    if (depth == 27) {
        return walk_stem_27_rolled;
    }
    if (depth == 40) {
        return walk_stem_40_rolled;
    }
#endif
    return stem_walk_for(depth);
}

/* The stems' walk of 4 pixels `channels` apart: a copy with the stride built in, or stem_walk_for's. */
static void (*stem_block_walk_for(int32_t depth, int32_t channels))(pair_walk *)
{
    if (channels == 8 && depth == 27) {
        return walk_stem_27_of_8;
    }
    if (channels == 8 && depth == 9) {
        return walk_stem_9_of_8;
    }
    return stem_walk_for(depth);
}

typedef void (*walk_function)(pair_walk *pairs);

/* The walk of a column of `depth` values into outputs `stride` apart, chosen once a call: a stem's, or
 * walk_pairs_int8's (on the M4 and M33 its copy with the stride built in where there is one, or
 * `rolled` its compact one where the depth is 16k values). */
static MD_NOINLINE walk_function walk_for(int32_t depth, int32_t stride, int rolled)
{
    const walk_function stem = stem_walk_for(depth);
    (void)stride; /* the M7's one dual-issue walk whatever the stride, rolled or not */
    (void)rolled;
    if (stem != NULL) {
        return stem;
    }
    if (depth & 1) {
        return walk_pairs_int8_odd;
    }
#if !MD_W16_DUAL_ISSUE
    if (rolled && (depth & 15) == 0) {
        return stride == 128 ? walk_pairs_rolled_128 : stride == 256 ? walk_pairs_rolled_256 : walk_pairs_rolled;
    }
    if ((stride == 128 || stride == 256) && (depth & 31) == 0) { /* whole passes of sixteen pairs */
        return stride == 128 ? walk_pairs_int8_128 : walk_pairs_int8_256;
    }
#endif
    return walk_pairs_int8;
}

#undef STEM_RECORDS_WALK_OF
#undef STEM_WALK_OF
#undef STEM_WALK
#undef STEM_WALK_FRAMED
#undef STEM_ROLLED_WALK
#undef WALK_OUTPUTS_4_OF
#undef WALK_OUTPUTS_4
#undef WALK_CHANNEL_0
#undef WALK_CHANNEL_1
#undef STEM_CHANNELS_OF
#undef STEM_CHANNELS
#undef STEM_OUTPUT
#undef STEM_DOT
#undef STEM_DOT_ROLLED
#undef STEM_END
#undef STEM_END_ODD
#undef STEM_START

#undef WALK_PAIRS
#undef WALK_PAIRS_OF
#undef WALK_ODD_VALUE
#undef WALK_OUTPUT_NEXT
#undef WALK_OUTPUT_PAIR_OF
#undef WALK_OUTPUT_PAIR
#undef WALK_DOUBLE_DOUBLED
#undef WALK_DOUBLE_DOUBLING
#undef WALK_OUTPUT_OF
#undef STEM_RECORD_BIASES
#undef STEM_RECORD_OUT
#undef WALK_OUTPUT

/* md_dsp_mode of the layer: narrow when every channel is (narrow_channel: its sums below 2^30, a
 * right shift of 1 to 31). */
static int layer_mode(const md_window_params *p, const int32_t *bias, const int32_t *shifts, int32_t depth)
{
    const int32_t room = (int32_t)md_max_i32(
        (1 << 30) - md_min_i32(depth, (1 << 30) / MD_DSP_PRODUCT_BOUND) * MD_DSP_PRODUCT_BOUND, 0);
    int32_t oc;
    for (oc = 0; oc < p->output_c; ++oc) {
        if (!narrow_channel(bias ? bias[oc] : 0, shifts[p->per_channel ? oc : 0], room)) {
            return MD_DSP_GENERAL;
        }
    }
    return md_dsp_mode(1, p->act_min, p->act_max);
}

/* The output columns from `*first` to `*last` whose groups of 4 windows, `stride` apart from
 * md_window_origin's, lie inside an image `size` wide for a filter `reach` wide (none: last < first). */
static void inside_columns(int32_t size, int32_t reach, int32_t stride, int32_t pad, int32_t *first, int32_t *last)
{
    const int32_t room = size - reach + pad - (COLUMNS - 1) * stride; /* the first window's last origin + pad */
    *first = (pad + stride - 1) / stride;
    *last = room >= 0 ? room / stride : -1;
}

/* stem_groups' `rows` output rows of a grey stem from the one at `row` (its windows' first input
 * row) and `out` on, when each row's groups start at its first pixel, every window's first byte is in
 * the row and its rows are not the image's last: each group by the grey `block` read from the image
 * (the last one's bytes past the row's end then the padding's) and walked over `records`. Kept apart
 * and small, so that this loop, the rolled block and walk fit a 1 KB flash cache together. */
static MD_NOINLINE void grey_rows(const md_window_params *p, md_stem_block block,
                                  void (*walk)(const int16_t *, int8_t *, const int32_t *), const int32_t *records,
                                  const uint8_t *row, int8_t *out, int32_t rows, int16_t *scratch)
{
    const int32_t row_step = p->dilation_h * p->input_w;
    const int32_t last = p->output_w - COLUMNS; /* the row's last group's first pixel */
    const int16x2_t offsets = offset_pairs(p);
    int32_t ox;
    for (; rows > 0; --rows, row += p->stride_h * p->input_w) {
        for (ox = 0; ox <= last; ox += COLUMNS, out += COLUMNS * p->output_c) {
            block(row + ox * p->stride_w, row_step, p->stride_w, offsets, scratch);
            if (ox == last) {
                md_conv_stem_zero_past_row_end(scratch, last * p->stride_w, p->stride_w, p->input_w);
            }
            walk(scratch, out, records);
        }
    }
}

/* md_conv_s8_w16 of a stem (md_conv_stem_fits) whose channels the walk takes, in pairs (an even
 * output_c): per group of 4 pixels the shape's fill and the depth's walk, both chosen once, the
 * group's output row and column followed (no division per group). A group of 4 windows of one output
 * row inside the image takes the shape's md_stem_block where there is one, the bounds known here.
 * `rolled`: the rolled block and walk (md_conv_s8_w16_rolled's), which fit a 1 KB flash cache together. */
static MD_NOINLINE void stem_groups(const conv_w16_job *job, int mode, const int32_t *records, int8_t *output,
                                    int16_t *scratch, int rolled)
{
    const md_window_params *p = job->p;
    const md_stem_fill fill = md_conv_stem_fill(p, rolled);
    const md_stem_block block = md_conv_stem_block(p, rolled);
    void (*const grey_walk)(const int16_t *, int8_t *, const int32_t *) = grey_records_walk_for(rolled);
    void (*const lone)(pair_walk *) = stem_walk_for(job->depth);
    void (*const walk)(pair_walk *) =
        rolled ? stem_rolled_walk_for(job->depth) : stem_block_walk_for(job->depth, p->output_c);
    const int32_t channels = p->output_c;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    const int32_t row_step = p->dilation_h * p->input_w * p->input_c;
    const int32_t pixel_step = p->stride_w * p->input_c;
    const int32_t last_row = p->input_h - (p->filter_h - 1) * p->dilation_h; /* a window's rows from y0 < it */
    const int16x2_t offsets = offset_pairs(p);
    const int8_t *input = job->input;
    /* a 3x3 over one channel to 8: its groups walked over records in the scratch after the columns */
    int32_t *const grey = md_conv_s8_w16_stem_records_bytes(p) > 0
                              ? (int32_t *)(void *)(scratch + COLUMNS * (job->depth + 1))
                              : NULL;
    pair_walk pairs;
    int32_t first_ox = 0;
    int32_t last_ox = -1;
    int whole_rows;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    if (grey != NULL) {
        md_conv_stem_records(p, job->filter, records, grey);
    }
    if (block != NULL) {
        inside_columns(p->input_w, p->filter_w, p->stride_w, p->pad_left, &first_ox, &last_ox);
        last_ox = md_min_i32(last_ox, p->output_w - COLUMNS);
    }
    /* grey_rows': each row's groups from its first pixel, its last window's first byte in the row */
    whole_rows = grey != NULL && p->output_w % COLUMNS == 0 && p->pad_left == 0 &&
                 (p->output_w - 1) * p->stride_w < p->input_w;
    pairs.values = scratch;
    pairs.pair_bytes = 4 * (job->depth & ~1);
    for (batch = 0; batch < p->batches; ++batch, input += image) {
        int32_t left = p->output_h * p->output_w;
        int8_t *out = output + batch * left * channels;
        for (oy = 0, ox = 0; left > 0; left -= COLUMNS, out += COLUMNS * channels) {
            const int32_t count = left < COLUMNS ? left : COLUMNS;
            if (md_unlikely(whole_rows && ox == 0) &&
                md_inside(md_window_origin(oy, p->stride_h, p->pad_top), last_row - 1)) { /* all its rows at once */
                const int32_t rows = md_min_i32((last_row - 2 + p->pad_top) / p->stride_h + 1 - oy, left / p->output_w);
                grey_rows(p, block, grey_walk, grey,
                          (const uint8_t *)input + md_window_origin(oy, p->stride_h, p->pad_top) * p->input_w, out,
                          rows, scratch);
                oy += rows;
                left -= rows * p->output_w - COLUMNS; /* the loop's step takes the last group */
                out += (rows * p->output_w - COLUMNS) * channels;
                continue;
            }
            if (block != NULL && count == COLUMNS && ox >= first_ox && ox <= last_ox &&
                md_inside(md_window_origin(oy, p->stride_h, p->pad_top), last_row)) {
                /* the run of the row's groups inside the image from here to `last_ox`: all but the
                 * last one block and walk here (no checks, no division), the last as any group */
                const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
                const uint8_t *row = (const uint8_t *)input +
                                     (y0 * p->input_w + md_window_origin(ox, p->stride_w, p->pad_left)) * p->input_c;
                const int32_t more = md_min_i32((last_ox - ox) / COLUMNS, (left - COLUMNS) / COLUMNS);
                int32_t k;
                pairs.stride = channels;
                for (k = 0; k < more; ++k, row += COLUMNS * pixel_step, out += COLUMNS * channels) {
                    block(row, row_step, pixel_step, offsets, scratch);
                    if (grey != NULL) {
                        grey_walk(scratch, out, grey);
                        continue;
                    }
                    pairs.weights = job->filter; /* the walk of other than 8 channels advances them */
                    pairs.records = records;
                    pairs.out = out;
                    pairs.end = out + channels;
                    walk(&pairs);
                }
                ox += more * COLUMNS;
                left -= more * COLUMNS;
                block(row, row_step, pixel_step, offsets, scratch);
            } else {
                fill(p, input, oy, ox, count, scratch);
            }
            if (count == COLUMNS && grey != NULL) {
                grey_walk(scratch, out, grey);
            } else if (count == COLUMNS || count == 1) { /* a lone pixel: its 4 copies stored in one place */
                pairs.weights = job->filter;
                pairs.records = records;
                pairs.out = out;
                pairs.stride = count == 1 ? 0 : channels;
                pairs.end = out + channels;
                (count == 1 ? lone : walk)(&pairs);
            } else {
                compute(mode, job, scratch, count, out, 0);
            }
            for (ox += COLUMNS; ox >= p->output_w && left > COLUMNS; ++oy) {
                ox -= p->output_w;
            }
        }
    }
}

#if !MD_W16_DUAL_ISSUE
/* md_conv_s8_w16_rolled's run of `count` groups of one output row (pairs->out group 0's), their windows
 * at the same rows and pixels, `shift` and then each `step` input bytes on from `fill`'s group: each filled by fill_group_rolled
 * and walked by walk_pairs_rolled, the two and this loop in a 1 KB flash cache together. */
static MD_NOINLINE void fill_and_walk(const group_fill *fill, int32_t shift, int32_t step, pair_walk *pairs,
                                      int32_t count)
{
    const int16_t *const weights = pairs->weights;
    const int32_t *const records = pairs->records;
    const int32_t outputs = COLUMNS * pairs->stride;
    for (; count > 0; --count, shift += step, pairs->out += outputs, pairs->end += outputs) {
        fill_group_rolled(fill, shift);
        pairs->weights = weights;
        pairs->records = records;
        walk_pairs_rolled(pairs);
    }
}

/* pixels_1x1 for a small flash cache (md_conv_s8_w16_rolled's): its pixels in a loop ending at the
 * fourth's end (r11), 0.1 KB where the unrolled 0.34 KB with a deep walk (0.8 KB) and their loop misses a
 * 1 KB cache on every group. */
__attribute__((naked, noinline)) static void pixels_1x1_rolled(const int8_t *source __attribute__((unused)),
                                                               int16_t *scratch __attribute__((unused)),
                                                               int32_t channels __attribute__((unused)),
                                                               int16x2_t offsets __attribute__((unused)))
{
    __asm__(PIXELS_1X1_ENTRY "add r11, r0, r2, lsl #2\n\t"
            "25:\n\t" ROW_PIXEL("21", 1) ROW_NEXT_LOW "cmp r0, r11\n\t"
            "bne 25b\n\t"
            "pop {r4-r11, pc}");
}

/* md_conv_s8_w16_rolled's whole groups of a batch's image where pixels_1x1 fills them (pixels_1x1_fit),
 * `walk` the layer's group walk: each filled by pixels_1x1_rolled, the two and this loop in a 1 KB flash
 * cache together (conv_s8_w16's loop, fill_columns and pixels_1x1 beside a deep walk miss it on every
 * group). The groups' count. */
static MD_NOINLINE int32_t groups_1x1_rolled(const conv_w16_job *job, int32_t batch, walk_function walk,
                                             const int32_t *records, int8_t *out, int16_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t groups = p->output_h * p->output_w / COLUMNS;
    const int32_t step = COLUMNS * p->input_c;
    const int32_t outputs = COLUMNS * p->output_c;
    const int16x2_t offsets = offset_pairs(p);
    const int8_t *source = job->input + batch * p->input_h * p->input_w * p->input_c;
    pair_walk pairs;
    int32_t group;
    pairs.values = scratch;
    pairs.weights = job->filter;
    pairs.pair_bytes = 4 * job->depth;
    pairs.records = records;
    pairs.stride = p->output_c;
    pairs.out = out;
    pairs.end = out + p->output_c;
    for (group = 0; group < groups; ++group, source += step, pairs.out += outputs, pairs.end += outputs) {
        pixels_1x1_rolled(source, scratch, p->input_c, offsets);
        walk(&pairs);
    }
    return groups;
}

/* The window rows inside the image of output row `oy`'s groups into `fill`, the others' slots zeroed
 * (no fill of the row writes them), the columns those of the group at output column `first_ox` as if
 * every pixel of its windows lay inside the image: the count of rows (0: none, fill_group_rolled does
 * not take the row). */
static MD_NOINLINE int32_t row_fill_at(const conv_w16_job *job, int32_t batch, int32_t oy, int32_t first_ox,
                                       group_fill *fill, int16_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t row_values = p->filter_w * COLUMNS * p->input_c;
    int32_t first_row = 0;
    int32_t fy;
    int32_t c;
    fill->rows = 0;
    for (fy = 0; fy < p->filter_h; ++fy) {
        if (!md_inside(y0 + fy * p->dilation_h, p->input_h)) {
            memset(scratch + fy * row_values, 0, (size_t)row_values * sizeof *scratch);
        } else if (fill->rows++ == 0) {
            first_row = fy;
        }
    }
    fill->count = COLUMNS;
    for (c = 0; c < COLUMNS; ++c) {
        fill_run *const column = &fill->run[c];
        column->source = job->input + ((batch * p->input_h + y0 + first_row * p->dilation_h) * p->input_w +
                                       md_window_origin(first_ox + c, p->stride_w, p->pad_left)) *
                                          p->input_c;
        column->slot = scratch + first_row * row_values + 2 * c;
        column->run = p->filter_w * p->input_c;
        column->row_gap = p->dilation_h * p->input_w * p->input_c - column->run;
        column->offsets = offset_pairs(p);
        column->slot_gap = 0;
    }
    return fill->rows;
}

/* Into `edge` a run of zeros into the slots of pixels `from` to `to` (excluded) of `column`'s window
 * rows (its slot the first row's pixel 0's), unless there is none; 0 where `edge` has no room for it. */
static int zeros_run(const md_window_params *p, const fill_run *column, int32_t from, int32_t to, group_fill *edge)
{
    fill_run *const zeros = &edge->run[edge->count];
    const int32_t pixel_bytes = 8 * p->input_c; /* a pixel's slots in a column, in bytes */
    if (from == to) {
        return 1;
    }
    if (edge->count == FILL_RUNS) {
        return 0;
    }
    zeros->slot = (int16_t *)(void *)((uint8_t *)column->slot + from * pixel_bytes);
    zeros->run = -(to - from) * pixel_bytes;
    zeros->slot_gap = (p->filter_w - (to - from)) * pixel_bytes;
    zeros->source = NULL;
    zeros->offsets = 0;
    zeros->row_gap = 0;
    ++edge->count;
    return 1;
}

/* The group at output column `ox` of `row`'s output row (row_fill_at's, for `first_ox`) into `edge`,
 * each column's pixels outside the image left out and zeros into their slots: 0 where a column reads
 * none of a window row's pixels or the runs take more than FILL_RUNS (fill_group_rolled does not take
 * the group). */
static MD_NOINLINE int edge_fill_at(const md_window_params *p, const group_fill *row, int32_t first_ox, int32_t ox,
                                    group_fill *edge)
{
    const int32_t channels = p->input_c;
    int32_t c;
    edge->count = COLUMNS;
    edge->rows = row->rows;
    for (c = 0; c < COLUMNS; ++c) {
        const fill_run *const inside = &row->run[c];
        fill_run *const column = &edge->run[c];
        const int32_t x = md_window_origin(ox + c, p->stride_w, p->pad_left);
        const int32_t low = md_max_i32(-x, 0); /* the column's pixels outside, before and after */
        const int32_t high = md_max_i32(x + p->filter_w - p->input_w, 0);
        if (low + high >= p->filter_w || !zeros_run(p, inside, 0, low, edge) ||
            !zeros_run(p, inside, p->filter_w - high, p->filter_w, edge)) {
            return 0;
        }
        *column = *inside;
        column->source += ((ox - first_ox) * p->stride_w + low) * channels;
        column->slot += low * COLUMNS * channels;
        column->run -= (low + high) * channels;
        column->row_gap += (low + high) * channels;
        column->slot_gap = 8 * channels * (low + high);
    }
    return 1;
}

/* md_conv_s8_w16_rolled's groups of a batch's image (output_w a multiple of 4): output row after output
 * row, the run of groups inside the image filled and walked by fill_and_walk, its first and last groups
 * too where fill_group_rolled takes them, any other (a padding wider than 4 windows) by fill_columns.
 * The fills of the row's group inside the image and of its first and last groups are set once for
 * every output row whose window rows all lie inside the image (`shift` on from the first's), so that
 * such a row runs through little more code than fill_and_walk's. */
static MD_NOINLINE void rolled_rows(const conv_w16_job *job, int32_t batch, const int32_t *records, int8_t *output,
                                    int16_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t step = COLUMNS * p->stride_w * p->input_c;
    const int32_t outputs = COLUMNS * p->output_c;
    const int32_t last_row = p->input_h - (p->filter_h - 1) * p->dilation_h; /* a window's rows from y0 < it */
    const int32_t last_group = p->output_w - COLUMNS;
    int8_t *out = output + batch * p->output_h * p->output_w * p->output_c;
    group_fill row;
    group_fill left;
    group_fill right;
    pair_walk pairs;
    int32_t first_ox;
    int32_t last_ox;
    int32_t base_y0 = 0; /* the output row the fills were set for */
    int32_t rows = 0;
    int set_inside = 0; /* they were set for a row whose window rows lie inside the image */
    int left_fits = 0;
    int right_fits = 0;
    int32_t oy;
    inside_columns(p->input_w, p->filter_w, p->stride_w, p->pad_left, &first_ox, &last_ox);
    last_ox = md_min_i32(last_ox, last_group);
    pairs.values = scratch;
    pairs.weights = job->filter;
    pairs.pair_bytes = 4 * job->depth;
    pairs.records = records;
    pairs.stride = p->output_c;
    for (oy = 0; oy < p->output_h; ++oy) {
        const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
        const int inside = md_inside(y0, last_row);
        int32_t shift;
        int32_t ox;
        if (!(inside && set_inside)) {
            rows = row_fill_at(job, batch, oy, first_ox, &row, scratch);
            left_fits = rows > 0 && edge_fill_at(p, &row, first_ox, 0, &left);
            right_fits = rows > 0 && edge_fill_at(p, &row, first_ox, last_group, &right);
            base_y0 = y0;
            set_inside = inside;
        }
        shift = (y0 - base_y0) * p->input_w * p->input_c;
        for (ox = 0; ox < p->output_w; ox += COLUMNS, out += outputs) {
            pairs.out = out;
            pairs.end = out + p->output_c;
            if (rows > 0 && ox >= first_ox && ox <= last_ox) {
                const int32_t count = (last_ox - ox) / COLUMNS + 1;
                fill_and_walk(&row, shift + (ox - first_ox) * p->stride_w * p->input_c, step, &pairs, count);
                ox += (count - 1) * COLUMNS;
                out += (count - 1) * outputs;
            } else if ((ox == 0 && left_fits) || (ox == last_group && right_fits)) {
                fill_and_walk(ox == 0 ? &left : &right, shift, step, &pairs, 1);
            } else {
                fill_columns(job, batch, oy * p->output_w + ox, COLUMNS, scratch);
                walk_pairs_rolled(&pairs);
            }
        }
    }
}

/* fill_and_walk takes the layer's groups: walk_pairs_rolled's, group_fill's shapes, and a group of each
 * row inside the image (where every group is at an edge, as in an 8 wide image, fill_block_words's
 * shared widening costs fewer cycles than the cache misses it adds). */
static int fill_and_walk_fits(const conv_w16_job *job, walk_function walk)
{
    const md_window_params *p = job->p;
    int32_t first_ox;
    int32_t last_ox;
    inside_columns(p->input_w, p->filter_w, p->stride_w, p->pad_left, &first_ox, &last_ox);
    return walk == walk_pairs_rolled && (p->output_c & 1) == 0 && (p->input_c & 15) == 0 && p->dilation_w == 1 &&
           p->output_w % COLUMNS == 0 && ((uintptr_t)job->input & 3) == 0 &&
           (first_ox + COLUMNS - 1) / COLUMNS * COLUMNS <= md_min_i32(last_ox, p->output_w - COLUMNS);
}
#endif
#undef ROW_END
#undef ROW_START
#undef ROW_NEXT_LOW
#undef ROW_PIXEL
#undef PIXELS_1X1_ENTRY
#undef ROW_ADVANCE_3
#undef ROW_ADVANCE_2
#undef ROW_ADVANCE_1
#undef ROW_SLOTS_3
#undef ROW_SLOTS_2
#undef ROW_SLOTS_1
#undef ROW_WORD_3
#undef ROW_WORD_2
#undef ROW_WORD_1

static md_status conv_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter,
                             const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                             const int32_t *walk_records, int8_t *output, int16_t *scratch, int rolled)
{
    const int32_t pixels = p->output_h * p->output_w;
    conv_w16_job job;
    walk_function group_walk;
    walk_function lone_walk;
    int mode;
    int walk;
    int stem;
#if !MD_W16_DUAL_ISSUE
    int rolled_fill;
    int rolled_1x1;
#endif
    int32_t batch;
    int32_t pixel;
    if (scratch == NULL || p->filter_c != p->input_c || p->accumulator64) {
        return md_conv_s8_w16_portable(p, input, filter, bias, multipliers, shifts, output, scratch);
    }
    job.p = p;
    job.input = input;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.depth = p->filter_h * p->filter_w * p->input_c;
    walk = walk_records != NULL;
    if (walk && md_conv_s8_w16_records_bytes(p) > 0) {
        md_conv_1x1_narrow_s8_w16(p, input, filter, walk_records, output, scratch, rolled);
        return MD_OK;
    }
    stem = md_conv_stem_fits(p);
    if (stem && walk && (p->output_c & 1) == 0) {
        stem_groups(&job, layer_mode(p, bias, shifts, job.depth), walk_records, output, scratch, rolled);
        return MD_OK;
    }
    group_walk = walk_for(job.depth, p->output_c, rolled);
    lone_walk = walk_for(job.depth, 0, rolled);
#if !MD_W16_DUAL_ISSUE
    rolled_fill = fill_and_walk_fits(&job, lone_walk); /* rolled: walk_pairs_rolled, no stride built in */
    rolled_1x1 = rolled && walk && !rolled_fill && (p->output_c & 1) == 0 && pixels_1x1_fit(&job);
    /* The walks take every pixel and channel (no compute): no test of each channel's range. */
    mode = rolled_1x1 && lone_walk_fits(&job) ? MD_DSP_GENERAL : layer_mode(p, bias, shifts, job.depth);
#else
    mode = layer_mode(p, bias, shifts, job.depth);
#endif
    for (batch = 0; batch < p->batches; ++batch) {
        pixel = 0;
#if !MD_W16_DUAL_ISSUE
        if (walk && rolled_fill) {
            rolled_rows(&job, batch, walk_records, output, scratch);
            continue;
        }
        if (rolled_1x1) {
            pixel = COLUMNS * groups_1x1_rolled(&job, batch, group_walk, walk_records,
                                                output + batch * pixels * p->output_c, scratch);
        }
#endif
        for (; pixel < pixels; pixel += COLUMNS) {
            const int32_t count = pixels - pixel < COLUMNS ? pixels - pixel : COLUMNS;
            int8_t *out = output + (batch * pixels + pixel) * p->output_c;
            if (walk && count < COLUMNS && !stem && lone_walk_fits(&job)) {
                lone_pixels(&job, mode, walk_records, batch, pixel, count, out, scratch);
                continue;
            }
            if (stem) {
                md_conv_stem_fill(p, rolled)(p, input + batch * p->input_h * p->input_w * p->input_c, pixel / p->output_w,
                                     pixel % p->output_w, count, scratch);
            } else {
                fill_columns(&job, batch, pixel, count, scratch);
            }
            if (walk && (count == COLUMNS || count == 1)) { /* a lone pixel: its 4 copies stored in one place */
                pair_walk pairs;
                pairs.values = scratch;
                pairs.weights = filter;
                pairs.pair_bytes = 4 * (job.depth & ~1);
                pairs.records = walk_records;
                pairs.out = out;
                pairs.stride = count == 1 ? 0 : p->output_c;
                pairs.end = out + (p->output_c & ~1);
                (count == 1 ? lone_walk : group_walk)(&pairs);
                if (p->output_c & 1) {
                    compute(mode, &job, scratch, count, out, p->output_c & ~1);
                }
            } else {
                compute(mode, &job, scratch, count, out, 0);
            }
        }
    }
    return MD_OK;
}

md_status md_conv_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter, const int32_t *bias,
                         const int32_t *multipliers, const int32_t *shifts, const int32_t *walk_records,
                         int8_t *output, int16_t *scratch)
{
    return conv_s8_w16(p, input, filter, bias, multipliers, shifts, walk_records, output, scratch, 0);
}

md_status md_conv_s8_w16_rolled(const md_window_params *p, const int8_t *input, const int16_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                const int32_t *walk_records, int8_t *output, int16_t *scratch)
{
    return conv_s8_w16(p, input, filter, bias, multipliers, shifts, walk_records, output, scratch, 1);
}

#undef COLUMNS_EIGHT
#undef COLUMNS_PAIRS_AT
#undef COLUMNS_PAIRS_4
#undef DOT_LOOP

#endif /* MD_PATH_DSP */
