/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the im2col columns of md_conv_s8_w16 for stems (input channels not a
 * multiple of 4: 1 to 3 in image and audio models), on cores with the DSP extension.
 *
 * In NHWC each filter row of a window is one run of filter_w * input_c bytes. A column streams the
 * window's rows 4 bytes to a word with word loads (unaligned ones: the DSP cores allow them), a
 * row's bytes joined to the previous row's last ones by shifts, and each word gives the column its
 * two pair-order words by SXTAB16, which adds the input offset. With the shape a constant (a copy
 * per stem shape) every shift and store offset is one: no byte-by-byte packing, no loop. A window
 * touching the padding has its rows assembled on the stack first (md_conv_int.h's assemble_row).
 * A last partial group of values is rearranged into plain pairs by halfword packing (md_w16_index
 * keeps it out of pair order).
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_stem_dsp);

#define COLUMNS 4 /* md_conv_s8_w16's */

/* A word's 4 values plus the input offset into group `group` of a column: its two pair-order words. */
static MD_ALWAYS_INLINE void widen_group(uint32_t word, int16x2_t offsets, uint32_t *column, int32_t group)
{
    column[2 * group * COLUMNS] = (uint32_t)md_even_pair_add(offsets, word);
    column[(2 * group + 1) * COLUMNS] = (uint32_t)md_odd_pair_add(offsets, word);
}

/* The last `count` (1 to 3) values of a column, in word `word`'s low bytes, as plain pairs {v0, v1},
 * {v2, 0} (md_w16_index keeps a last partial group out of pair order; the values past the depth
 * are zeros). */
static MD_ALWAYS_INLINE void widen_tail(uint32_t word, int32_t count, int16x2_t offsets, uint32_t *column,
                                        int32_t group)
{
    const uint32_t even = (uint32_t)md_even_pair_add(offsets, word); /* {v0, v2} */
    const uint32_t odd = (uint32_t)md_odd_pair_add(offsets, word);   /* {v1, v3} */
    column[2 * group * COLUMNS] = (even & 0xFFFFu) | (count > 1 ? odd << 16 : 0);
    if (count == 3) {
        column[(2 * group + 1) * COLUMNS] = even >> 16;
    }
}

/* How a row shorter than a word may be read: byte by byte, or a word from its first byte on (the
 * bytes after it readable), or a word ending with its last byte (the bytes before it readable). */
enum { READ_BYTES, READ_AHEAD, READ_BEHIND };

/* The first `count` (1 to 3) bytes of a row shorter than a word, in the low bytes (the rest zeros). */
static MD_ALWAYS_INLINE uint32_t short_run(const uint8_t *row, int32_t count, int reach)
{
    const uint32_t first = count > 1 ? (uint32_t)row[0] | (uint32_t)row[1] << 8 : row[0];
    if (reach == READ_AHEAD) {
        return md_read32(row) & (0xFFFFFFFFu >> (32 - 8 * count));
    }
    if (reach == READ_BEHIND) {
        return md_read32(row + count - 4) >> (32 - 8 * count);
    }
    return count == 3 ? first | (uint32_t)row[2] << 16 : first;
}

/* A column from `filter_h` rows of `run` bytes, `row_step` apart from `row` on, in tap order: the
 * bytes streamed 4 to a word as they come (`pending` holds `count` bytes not yet in a group), each
 * whole word widened. A row's last run % 4 bytes are the top of the word that ends the row (read
 * within the row) or, in a row shorter than a word, read as `reach` allows (short_run). With the
 * shapes constant (the unrolled copies md_conv_stem_fill chooses), every shift and index is one. */
static MD_ALWAYS_INLINE void stem_column(const uint8_t *row, int32_t row_step, int32_t filter_h, int32_t run,
                                         int16x2_t offsets, uint32_t *column, int reach)
{
    const int32_t tail = run & 3;
    uint32_t pending = 0;
    int32_t count = 0;
    int32_t group = 0;
    int32_t fy;
    int32_t i;
#pragma GCC unroll 16
    for (fy = 0; fy < filter_h; ++fy, row += row_step) {
#pragma GCC unroll 16
        for (i = 0; i + 4 <= run; i += 4) {
            const uint32_t word = md_read32(row + i);
            widen_group(pending | (word << (8 * count)), offsets, column, group++);
            pending = count ? word >> (32 - 8 * count) : 0;
        }
        if (tail) {
            const uint32_t word = run >= 4 ? md_read32(row + run - 4) >> (32 - 8 * tail) : short_run(row, tail, reach);
            pending |= word << (8 * count);
            count += tail;
            if (count >= 4) {
                widen_group(pending, offsets, column, group++);
                count -= 4;
                pending = count ? word >> (8 * (tail - count)) : 0;
            }
        }
    }
    if (count) {
        widen_tail(pending, count, offsets, column, group);
    }
}

/* A word's two pair-order words (SXTAB16s adding the offsets) stored as group `group` of a column. */
#define RGB_WIDEN(word, group)                                                                                    \
    "sxtab16 %[even], %[offsets], " word "\n\t"                                                               \
    "sxtab16 " word ", %[offsets], " word ", ror #8\n\t"                                                     \
    "str %[even], [%[column], #32 * " #group "]\n\t"                                                          \
    "str " word ", [%[column], #32 * " #group " + 16]\n\t"

/* stem_column of a window of 3 rows of 9 bytes (a 3x3 over RGB) inside the image, in assembly (the
 * compiler spreads the loads and spills): each row's three words read one after the other (on the
 * M4 and M33 a load right after a load takes one cycle), words whose bytes fall in place: row 0's
 * 0-3, 4-7 and 8-11 (byte 8 put below row 1's 0-2, read with the byte before them: a bit-field
 * insert), row 1's 3-6 as they are, row 1's 7-8 beside row 2's 0-1 (a halfword pack), row 2's 2-5
 * as they are, its 6-8 the top of its 5-8 as widen_tail's plain pairs. Nothing is read outside the
 * image: the bytes before rows 1 and 2 and after rows 0 and 1 are the image's. */
static MD_ALWAYS_INLINE void rgb_column(const uint8_t *row, int32_t row_step, int16x2_t offsets, uint32_t *column)
{
    uint32_t even;
    uint32_t a;
    uint32_t b;
    uint32_t c;
    uint32_t d;
    const uint8_t *next;
    __asm__ volatile("add %[next], %[row], %[step]\n\t"
            "ldr %[a], [%[row]]\n\t"
            "ldr %[b], [%[row], #4]\n\t"
            "ldr %[c], [%[row], #8]\n\t" RGB_WIDEN("%[a]", 0) RGB_WIDEN("%[b]", 1)
            "ldr %[a], [%[next], #-1]\n\t"
            "ldr %[b], [%[next], #3]\n\t"
            "ldr %[d], [%[next], #7]\n\t"
            "bfi %[a], %[c], #0, #8\n\t"
            "add %[next], %[next], %[step]\n\t" RGB_WIDEN("%[a]", 2) RGB_WIDEN("%[b]", 3)
            "ldr %[a], [%[next], #-2]\n\t"
            "ldr %[b], [%[next], #2]\n\t"
            "ldr %[c], [%[next], #5]\n\t"
            "pkhbt %[a], %[d], %[a]\n\t" RGB_WIDEN("%[a]", 4) RGB_WIDEN("%[b]", 5)
            "lsr %[c], %[c], #8\n\t"
            "sxtab16 %[even], %[offsets], %[c]\n\t"            /* {v24, v26} */
            "sxtab16 %[c], %[offsets], %[c], ror #8\n\t"       /* {v25, the offset} */
            "pkhbt %[c], %[even], %[c], lsl #16\n\t"
            "lsr %[even], %[even], #16\n\t"
            "str %[c], [%[column], #192]\n\t"
            "str %[even], [%[column], #208]"
            : [even] "=&r"(even), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [next] "=&r"(next)
            : [row] "r"(row), [step] "r"(row_step), [offsets] "r"(offsets), [column] "r"(column)
            : "memory");
}

/* stem_column of a window of 3 rows of 3 bytes (a 3x3 over a grey image) inside the image, as
 * rgb_column: row 0's 0-2 below the byte before row 1 (a bit-field insert into the word ending
 * with it), row 1's 1-2 beside row 2's 0-1 (a halfword pack), row 2's 2 (the top of the word ending
 * with it) beside a zero. Nothing is read outside the image: the bytes around rows 0 and 1 and
 * before row 2 are the image's. */
static MD_ALWAYS_INLINE void grey_column(const uint8_t *row, int32_t row_step, int16x2_t offsets, uint32_t *column)
{
    uint32_t even;
    uint32_t a;
    uint32_t b;
    uint32_t c;
    uint32_t d;
    const uint8_t *next;
    __asm__ volatile("add %[next], %[row], %[step]\n\t"
                     "ldr %[a], [%[row]]\n\t"
                     "ldr %[b], [%[next], #-3]\n\t"
                     "ldr %[c], [%[next], #1]\n\t"
                     "add %[next], %[next], %[step]\n\t"
                     "ldr %[d], [%[next], #-2]\n\t"
                     "bfi %[b], %[a], #0, #24\n\t"
                     "ldr %[a], [%[next], #-1]\n\t" RGB_WIDEN("%[b]", 0)
                     "pkhbt %[c], %[c], %[d]\n\t" RGB_WIDEN("%[c]", 1)
                     "sxtab16 %[a], %[offsets], %[a], ror #24\n\t" /* {v8, the byte before} */
                     "uxth %[a], %[a]\n\t"
                     "str %[a], [%[column], #64]"
                     : [even] "=&r"(even), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [next] "=&r"(next)
                     : [row] "r"(row), [step] "r"(row_step), [offsets] "r"(offsets), [column] "r"(column)
                     : "memory");
}

#undef RGB_WIDEN

/* The column of a window whose rows' bytes around it may be read (rgb_column's and grey_column's
 * reads: the image's for a window inside it, or rows assembled on the stack): the assembly copy
 * for a 3x3 over RGB or grey, else stem_column as `reach` allows. */
static MD_ALWAYS_INLINE void window_column(const uint8_t *row, int32_t row_step, int32_t filter_h, int32_t run,
                                           int16x2_t offsets, uint32_t *column, int reach)
{
    if (filter_h == 3 && run == 9) {
        rgb_column(row, row_step, offsets, column);
    } else if (filter_h == 3 && run == 3) {
        grey_column(row, row_step, offsets, column);
    } else {
        stem_column(row, row_step, filter_h, run, offsets, column, reach);
    }
}

/* md_stem_block of the 3x3 stems over RGB images. */
#define STEM_BLOCK(name, column)                                                                                  \
    static MD_NOINLINE void name(const uint8_t *row, int32_t row_step, int32_t pixel_step, int16x2_t offsets,   \
                                 int16_t *scratch)                                                              \
    {                                                                                                           \
        uint32_t *values = (uint32_t *)scratch;                                                                 \
        column(row, row_step, offsets, values);                                                                 \
        column(row + pixel_step, row_step, offsets, values + 1);                                                \
        column(row + 2 * pixel_step, row_step, offsets, values + 2);                                            \
        column(row + 3 * pixel_step, row_step, offsets, values + 3);                                            \
    }
STEM_BLOCK(rgb_block, rgb_column)
#undef STEM_BLOCK

/* rgb_block with its windows in a loop: one rgb_column's code (its loop a few cycles a window). */
static MD_NOINLINE void rgb_block_rolled(const uint8_t *row, int32_t row_step, int32_t pixel_step,
                                         int16x2_t offsets, int16_t *scratch)
{
    uint32_t *values = (uint32_t *)scratch;
    int32_t column;
#pragma GCC unroll 1
    for (column = 0; column < COLUMNS; ++column, row += pixel_step) {
        rgb_column(row, row_step, offsets, values + column);
    }
}

/* A pixel of grey_block: its rows' words from `at`, `step` and `step2` bytes on (A, B, C), widened
 * (SXTAB16 with the offsets, each rotated as `even`, `odd` and `third` say for where the window's
 * first value sits in the word) into its column's five words at `p` * 4: {v0, v2} = A's even pair,
 * {v1, v3} = A's odd value beside B's first (PKHBT), {v4, v6} = B's odd value beside C's first,
 * {v5, v7} = B's last beside C's middle (PKHTB from C rotated so that its middle is on top), {v8, 0}
 * = C's last shifted down. `at` is advanced by the pixel step after its loads. A result is read two
 * instructions after it is made (the M33 charges a cycle for the very next). */
#define GREY_PIXEL(p, even, odd, third)                                                                           \
    "ldr %[a], [%[at]]\n\t"                                                                                    \
    "ldr %[b], [%[at], %[step]]\n\t"                                                                        \
    "ldr %[c], [%[at], %[step2]]\n\t"                                                                       \
    "add %[at], %[at], %[pixel]\n\t"                                                                        \
    "sxtab16 %[e], %[offsets], %[a]" even "\n\t"                                                           \
    "sxtab16 %[a], %[offsets], %[a]" odd "\n\t"                                                            \
    "sxtab16 %[t], %[offsets], %[b]" even "\n\t"                                                           \
    "sxtab16 %[b], %[offsets], %[b]" odd "\n\t"                                                            \
    "pkhbt %[a], %[a], %[t], lsl #16\n\t"                                                                   \
    "str %[e], [%[column], #" #p " * 4]\n\t"                                                                \
    "sxtab16 %[e], %[offsets], %[c]" even "\n\t"                                                           \
    "str %[a], [%[column], #" #p " * 4 + 16]\n\t"                                                           \
    "pkhbt %[b], %[b], %[e], lsl #16\n\t"                                                                   \
    "sxtab16 %[c], %[offsets], %[c]" third "\n\t"                                                          \
    "str %[b], [%[column], #" #p " * 4 + 32]\n\t"                                                           \
    "pkhtb %[c], %[c], %[t], asr #16\n\t"                                                                   \
    "lsr %[e], %[e], #16\n\t"                                                                                \
    "str %[c], [%[column], #" #p " * 4 + 48]\n\t"                                                           \
    "str %[e], [%[column], #" #p " * 4 + 64]\n\t"

/* GREY_PIXEL's operands, the pixel's column at `where` (the locals of grey_block and grey_block_rolled). */
#define GREY_OPERANDS(where)                                                                                      \
    : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [e] "=&r"(e), [t] "=&r"(t), [at] "+&r"(at)                   \
    : [step] "r"(row_step), [step2] "r"(step2), [pixel] "r"(pixel_step), [offsets] "r"(offsets),             \
      [column] "r"(where)                                                                                         \
    : "memory"

/* md_stem_block of the 3x3 stems over grey images, in assembly: per pixel one word a filter row (3
 * loads, where grey_column takes 5), its first value at the word's first byte for pixels a to c (the
 * word's fourth byte is the next window's or the window row's, as the pixel step is at least 1) and
 * at its second byte for pixel d (the byte before it is pixel a's): nothing is read outside the 4
 * windows' rows. */
static MD_NOINLINE void grey_block(const uint8_t *row, int32_t row_step, int32_t pixel_step, int16x2_t offsets,
                                   int16_t *scratch)
{
    const int32_t step2 = 2 * row_step;
    uint32_t a;
    uint32_t b;
    uint32_t c;
    uint32_t e;
    uint32_t t;
    const uint8_t *at = row;
    __asm__ volatile(GREY_PIXEL(0, "", ", ror #8", ", ror #24") GREY_PIXEL(1, "", ", ror #8", ", ror #24")
                     GREY_PIXEL(2, "", ", ror #8", ", ror #24") "sub %[at], %[at], #1\n\t"
                     GREY_PIXEL(3, ", ror #8", ", ror #16", "")
                     GREY_OPERANDS(scratch));
}

/* grey_block with pixels a to c in a loop (md_conv_s8_w16_rolled's: 0.2 KB, so that it fits a 1 KB
 * flash cache beside the rolled grey walk), each pixel's words from its column's first. */
static MD_NOINLINE void grey_block_rolled(const uint8_t *row, int32_t row_step, int32_t pixel_step,
                                          int16x2_t offsets, int16_t *scratch)
{
    const int32_t step2 = 2 * row_step;
    uint32_t *const columns = (uint32_t *)(void *)scratch;
    uint32_t a;
    uint32_t b;
    uint32_t c;
    uint32_t e;
    uint32_t t;
    const uint8_t *at = row;
    int32_t pixel;
#pragma GCC unroll 1
    for (pixel = 0; pixel < COLUMNS - 1; ++pixel) {
        __asm__ volatile(GREY_PIXEL(0, "", ", ror #8", ", ror #24")
                         GREY_OPERANDS(columns + pixel));
    }
    __asm__ volatile("sub %[at], %[at], #1\n\t" GREY_PIXEL(3, ", ror #8", ", ror #16", "")
                     GREY_OPERANDS(columns));
}
#undef GREY_OPERANDS
#undef GREY_PIXEL

md_stem_block md_conv_stem_block(const md_window_params *p, int rolled)
{
    const int32_t run = p->filter_w * p->input_c;
    if (!md_conv_stem_fits(p) || p->filter_h != 3) {
        return NULL;
    }
    if (run == 9) {
        return rolled ? rgb_block_rolled : rgb_block;
    }
    return rolled ? grey_block_rolled : grey_block;
}

/* After grey_block of 4 windows whose right ones pass the row's end (`end` bytes from the row's first,
 * the first window's first byte at `first`, the next ones `pixel_step` on): the values it read past
 * the end (the next row's) made the padding's, zero once the input offset is added. Each window
 * byte's three halfwords in its column (grey_block's layout: rows r's byte c is value 3r + c). */
void md_conv_stem_zero_past_row_end(int16_t *scratch, int32_t first, int32_t pixel_step, int32_t end)
{
    static const uint8_t halfwords[3][3] = {{0, 9, 17}, {8, 16, 25}, {1, 24, 32}}; /* by byte, then row */
    int32_t pixel;
    int32_t byte;
    for (pixel = 0; pixel < COLUMNS; ++pixel) {
        for (byte = md_max_i32(end - first - pixel * pixel_step, 0); byte < 3; ++byte) {
            scratch[halfwords[byte][0] + 2 * pixel] = 0;
            scratch[halfwords[byte][1] + 2 * pixel] = 0;
            scratch[halfwords[byte][2] + 2 * pixel] = 0;
        }
    }
}

/* The window at (y0, x0) of `image` (one batch's input) when it touches the padding: its rows
 * assembled on the stack (assemble_row: the zero point in the padding), then read from there. */
static MD_ALWAYS_INLINE void stem_edge_column(const md_window_params *p, const uint8_t *image, int32_t y0, int32_t x0,
                                              int32_t filter_h, int32_t run, int16x2_t offsets, uint32_t *column)
{
    const uint32_t zero_word = (uint8_t)-p->input_offset * 0x01010101u;
    const int32_t row_bytes = (run + 3) & ~3;
    uint32_t rows[MD_STEM_WINDOW / 4];
    int32_t fy;
    for (fy = 0; fy < filter_h; ++fy) {
        const int32_t iy = y0 + fy * p->dilation_h;
        assemble_row(p, image, iy, md_inside(iy, p->input_h), x0, zero_word, (uint8_t *)rows + fy * row_bytes);
    }
    window_column((const uint8_t *)rows, row_bytes, filter_h, run, offsets, column, READ_AHEAD); /* rows of words */
}

/* The columns of `count` pixels from (oy, ox) on one by one (md_stem_fill's groups that are
 * not 4 windows of one output row inside the image): a window inside read from the image (its rows by
 * words where the bytes before it are in the row), one touching the padding assembled. */
static MD_ALWAYS_INLINE void stem_pixel_columns(const md_window_params *p, const int8_t *image, int32_t oy,
                                                int32_t ox, int32_t count, int16_t *scratch, int32_t filter_h,
                                                int32_t run)
{
    const int32_t channels = p->input_c;
    const int32_t row_step = p->dilation_h * p->input_w * channels;
    const int16x2_t offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    uint32_t *values = (uint32_t *)scratch;
    int32_t column;
    for (column = 0; column < COLUMNS; ++column) {
        const int32_t y = md_window_origin(oy, p->stride_h, p->pad_top);
        const int32_t x = md_window_origin(ox, p->stride_w, p->pad_left);
        const uint8_t *row = (const uint8_t *)image + (y * p->input_w + x) * channels;
        if (y >= 0 && x >= 0 && y + (filter_h - 1) * p->dilation_h < p->input_h && x + p->filter_w <= p->input_w) {
            window_column(row, row_step, filter_h, run, offsets, values + column,
                          run < 4 && x > 0 ? READ_BEHIND : READ_BYTES);
        } else {
            stem_edge_column(p, (const uint8_t *)image, y, x, filter_h, run, offsets, values + column);
        }
        if (column + 1 < count && ++ox == p->output_w) { /* past the last pixel: it again */
            ox = 0;
            ++oy;
        }
    }
}

/* The bytes of a row of input pixels under a group's 4 windows (stem_padded_block's) at most. */
#define SPAN_BYTES 32

/* The 4 windows of a 3x3 stem from (y0, x0) on, one output row, when they touch the padding: the
 * input pixels under them (`span` a row) assembled on the stack row by row (the zero point in the
 * padding, the pixels inside copied as one run), then read by the block of the shape (`run` 9 or 3:
 * its reads around a window stay in the rows assembled; `rolled` the rolled blocks). */
static MD_NOINLINE void stem_padded_block(const md_window_params *p, const uint8_t *image, int32_t y0, int32_t x0,
                                          int32_t span, int32_t run, int rolled, int16x2_t offsets,
                                          int16_t *scratch)
{
    const int32_t channels = p->input_c;
    const int32_t row_bytes = (span * channels + 3) & ~3;
    const uint32_t zero_word = (uint8_t)-p->input_offset * 0x01010101u;
    const int32_t first = (x0 < 0 ? -x0 : 0) * channels;
    const int32_t last = md_min_i32(span, p->input_w - x0) * channels;
    uint32_t rows[3 * SPAN_BYTES / 4];
    int32_t fy;
    int32_t i;
    for (i = 0; i < 3 * row_bytes / 4; ++i) {
        rows[i] = zero_word;
    }
    for (fy = 0; fy < 3; ++fy) {
        const int32_t iy = y0 + fy * p->dilation_h;
        if (md_inside(iy, p->input_h) && last > first) {
            memcpy((uint8_t *)rows + fy * row_bytes + first, image + ((iy * p->input_w + x0) * channels + first),
                   (size_t)(last - first));
        }
    }
    if (run == 9 && rolled) { /* direct calls: the stack's worst case stays finite */
        rgb_block_rolled((const uint8_t *)rows, row_bytes, p->stride_w * channels, offsets, scratch);
    } else if (run == 9) {
        rgb_block((const uint8_t *)rows, row_bytes, p->stride_w * channels, offsets, scratch);
    } else if (rolled) {
        grey_block_rolled((const uint8_t *)rows, row_bytes, p->stride_w * channels, offsets, scratch);
    } else {
        grey_block((const uint8_t *)rows, row_bytes, p->stride_w * channels, offsets, scratch);
    }
}

/* md_stem_fill for filters of `filter_h` rows of `run` bytes (constants in its copies): four
 * pixels of one output row whose windows are inside the image one after the other, `stride_w`
 * pixels apart; 4 windows of one row touching the padding by stem_padded_block (3x3 filters);
 * other groups pixel by pixel (`pixels`, the copy's stem_pixel_columns, kept out of line so that
 * this path keeps its registers). `rolled`: the 3x3 blocks rolled (md_conv_stem_block's). */
static MD_ALWAYS_INLINE void stem_columns(const md_window_params *p, const int8_t *image, int32_t oy, int32_t ox,
                                          int32_t count, int16_t *scratch, int32_t filter_h, int32_t run,
                                          int rolled, md_stem_fill pixels)
{
    const int32_t channels = p->input_c;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    if (count == COLUMNS && ox + COLUMNS <= p->output_w && y0 >= 0 &&
        y0 + (filter_h - 1) * p->dilation_h < p->input_h && x0 >= 0 &&
        x0 + (COLUMNS - 1) * p->stride_w + p->filter_w <= p->input_w) {
        const int32_t row_step = p->dilation_h * p->input_w * channels;
        const int16x2_t offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
        const uint8_t *row = (const uint8_t *)image + (y0 * p->input_w + x0) * channels;
        const int32_t pixel_step = p->stride_w * channels;
        uint32_t *values = (uint32_t *)scratch;
        int32_t column;
        if (filter_h == 3 && run == 9) {
            (rolled ? rgb_block_rolled : rgb_block)(row, row_step, pixel_step, offsets, scratch);
            return;
        }
        if (filter_h == 3 && run == 3) {
            (rolled ? grey_block_rolled : grey_block)(row, row_step, pixel_step, offsets, scratch);
            return;
        }
        for (column = 0; column + 1 < COLUMNS; ++column, row += pixel_step) { /* the next windows' bytes after */
            stem_column(row, row_step, filter_h, run, offsets, values + column, READ_AHEAD);
        }
        stem_column(row, row_step, filter_h, run, offsets, values + column, READ_BEHIND); /* the previous' before */
        return;
    }
    if (run == 3 && count == COLUMNS && ox + COLUMNS <= p->output_w && y0 >= 0 &&
        y0 + 2 * p->dilation_h < p->input_h - 1 && x0 >= 0 && x0 + (COLUMNS - 1) * p->stride_w < p->input_w) {
        /* a grey row's last group past its end, not on the image's last row: the block reads the next
         * row's first bytes there, then they are made the padding's (no rows assembled) */
        const int16x2_t offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
        (rolled ? grey_block_rolled : grey_block)((const uint8_t *)image + (y0 * p->input_w + x0) * channels,
                                                  p->dilation_h * p->input_w * channels, p->stride_w * channels,
                                                  offsets, scratch);
        md_conv_stem_zero_past_row_end(scratch, x0 * channels, p->stride_w * channels, p->input_w * channels);
        return;
    }
    if (count == COLUMNS && ox + COLUMNS <= p->output_w && filter_h == 3 && (run == 9 || run == 3) &&
        ((COLUMNS - 1) * p->stride_w + p->filter_w) * channels <= SPAN_BYTES) {
        stem_padded_block(p, (const uint8_t *)image, y0, x0, (COLUMNS - 1) * p->stride_w + p->filter_w, run, rolled,
                          (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u), scratch);
        return;
    }
    pixels(p, image, oy, ox, count, scratch);
}

/* Copies with the stems' shapes constant (md_conv_stem_fits): MobileNet's and ResNet's 3x3 over RGB
 * (run 9), a 3x3 over a grey image (run 3: person_detect's first DEPTHWISE_CONV_2D run as the
 * convolution it is) and a 10x4 filter over a spectrogram (run 4); the 3x3 ones' blocks rolled too
 * (`rolled`, their pixel by pixel paths shared). */
#define STEM_PIXELS(name, filter_h, run)                                                                        \
    static MD_NOINLINE void name##_pixels(const md_window_params *p, const int8_t *image, int32_t oy,          \
                                          int32_t ox, int32_t count, int16_t *scratch)                          \
    {                                                                                                           \
        stem_pixel_columns(p, image, oy, ox, count, scratch, filter_h, run);                                    \
    }
#define STEM_FILL(name, pixels, filter_h, run, rolled)                                                          \
    static MD_NOINLINE void name(const md_window_params *p, const int8_t *image, int32_t oy, int32_t ox,        \
                                 int32_t count, int16_t *scratch)                                               \
    {                                                                                                           \
        stem_columns(p, image, oy, ox, count, scratch, filter_h, run, rolled, pixels);                          \
    }
#define STEM_COPY(name, filter_h, run)                                                                          \
    STEM_PIXELS(name, filter_h, run)                                                                            \
    STEM_FILL(name, name##_pixels, filter_h, run, 0)
STEM_COPY(stem_3x9, 3, 9)
STEM_COPY(stem_3x3, 3, 3)
STEM_COPY(stem_10x4, 10, 4)
STEM_FILL(stem_3x9_rolled, stem_3x9_pixels, 3, 9, 1)
STEM_FILL(stem_3x3_rolled, stem_3x3_pixels, 3, 3, 1)
#undef STEM_COPY
#undef STEM_FILL
#undef STEM_PIXELS

md_stem_fill md_conv_stem_fill(const md_window_params *p, int rolled)
{
    if (p->filter_h == 10) {
        return stem_10x4;
    }
    if (p->filter_w * p->input_c == 3) {
        return rolled ? stem_3x3_rolled : stem_3x3;
    }
    return rolled ? stem_3x9_rolled : stem_3x9;
}

#undef SPAN_BYTES
#undef COLUMNS

#endif /* MD_PATH_DSP */
