/* mcudeploy kernel library: DEPTHWISE_CONV_2D for cores with the DSP extension (see md_depthwise.h).
 *
 * int8 with depth multiplier 1, in the loop order the memory contract declares:
 * - copied planes (with scratch): undilated 3x3 windows read each filter row as one word of the
 *   plane (SXTAB16 adds the input offset while unpacking, two SMLAD per row); the row's interior
 *   keeps its weights in registers, edge windows use weights shifted within the word;
 * - streaming (no scratch): four channels of a pixel at a time, one word of values and one of
 *   weights per tap, written as one word once their windows are read.
 * Other windows take the taps inside one by one; other cases run the portable kernel.
 */
#include "md_depthwise_int.h"
#include "md_dsp.h"

/* The window of one output: the index of its tap (0, 0) in `values` (negative in the padding),
 * the distance between columns and rows of taps, its weights (one every `weight_step`). */
typedef struct {
    const int8_t *values;
    int32_t origin;
    int32_t column_step, row_step;
    const int8_t *weights;
    int32_t weight_step;
} dw_window;

/* Sum over all 3x3 taps of (value + offset) * weight. */
static inline int32_t sum_3x3(const dw_window *w, int32_t offset)
{
    int32_t sum = 0;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < 3; ++fy) {
        for (fx = 0; fx < 3; ++fx) {
            const int32_t value = w->values[w->origin + fy * w->row_step + fx * w->column_step] + offset;
            sum += value * w->weights[(fy * 3 + fx) * w->weight_step];
        }
    }
    return sum;
}

/* Sum over the taps [y_first, y_last) x [x_first, x_last) of (value + offset) * weight. */
static int32_t sum_taps(const dw_window *w, const md_window_params *p, const md_taps *taps, int32_t offset)
{
    int32_t sum = 0;
    int32_t fy;
    int32_t fx;
    for (fy = taps->y_first; fy < taps->y_last; ++fy) {
        for (fx = taps->x_first; fx < taps->x_last; ++fx) {
            const int32_t value = w->values[w->origin + fy * w->row_step + fx * w->column_step] + offset;
            sum = md_wrap_add(sum, value * w->weights[(fy * p->filter_w + fx) * w->weight_step]);
        }
    }
    return sum;
}

/* The origin of output pixel (oy, ox)'s window in a source of `stride` values per pixel. */
static dw_window window_at(const md_window_params *p, const int8_t *source, int32_t stride, const md_taps *taps,
                           const int8_t *weights)
{
    dw_window w;
    w.values = source;
    w.origin = (taps->y0 * p->input_w + taps->x0) * stride;
    w.column_step = p->dilation_w * stride;
    w.row_step = p->dilation_h * p->input_w * stride;
    w.weights = weights;
    w.weight_step = p->output_c;
    return w;
}

/* Whether output index `out`'s window lies wholly inside an input of `size` along one axis. */
static inline int whole_window(int32_t out, int32_t stride, int32_t pad, int32_t dilation, int32_t filter,
                               int32_t size)
{
    const int32_t origin = md_window_origin(out, stride, pad);
    return origin >= 0 && origin + (filter - 1) * dilation < size;
}

/* The sum of output (oy, ox) from channel `channel` of `source` (`stride` values per pixel) and
 * its weights: the 3x3 fast path when the window lies inside, else the taps inside. */
static inline int32_t window_sum(const md_window_params *p, const int8_t *source, int32_t stride,
                                 const int8_t *weights, int32_t oy, int32_t ox, int inside_y)
{
    md_taps taps;
    dw_window w;
    if (inside_y && p->filter_h == 3 && p->filter_w == 3 &&
        whole_window(ox, p->stride_w, p->pad_left, p->dilation_w, 3, p->input_w)) {
        taps.y0 = md_window_origin(oy, p->stride_h, p->pad_top);
        taps.x0 = md_window_origin(ox, p->stride_w, p->pad_left);
        w = window_at(p, source, stride, &taps, weights);
        return sum_3x3(&w, p->input_offset);
    }
    taps = md_window_taps(p, oy, ox);
    w = window_at(p, source, stride, &taps, weights);
    return sum_taps(&w, p, &taps, p->input_offset);
}

/* int32 accumulator (no 64-bit sum): the bias wraps in, as in the portable kernel. */
static inline void store(const depthwise_int_job *job, int32_t index, int32_t channel, int32_t sum)
{
    const md_window_params *p = job->p;
    const int32_t q = p->per_channel ? channel : 0;
    const int32_t acc = md_wrap_add(sum, job->bias ? ((const int32_t *)job->bias)[channel] : 0);
    ((int8_t *)job->output)[index] = (int8_t)md_requantize32(acc, job->multipliers[q], job->shifts[q],
                                                             p->output_offset, p->act_min, p->act_max);
}

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
    const md_taps taps = md_window_taps(p, oy, ox);
    dw_pixel px;
    px.rows = md_max_i32(taps.y_last - taps.y_first, 0);
    px.columns = md_max_i32(taps.x_last - taps.x_first, 0);
    if (px.rows == 0 || px.columns == 0) {
        px.rows = px.columns = 0;
        px.values = image;
        px.weights = job->filter;
    } else {
        px.values = image + md_taps_pixel(p, &taps, taps.y_first, taps.x_first) * p->input_c;
        px.weights = job->filter + (taps.y_first * p->filter_w + taps.x_first) * p->output_c;
    }
    px.value_column_step = p->dilation_w * p->input_c;
    px.value_row_step = p->dilation_h * p->input_w * p->input_c;
    px.weight_column_step = p->output_c;
    px.weight_row_step = p->filter_w * p->output_c;
    return px;
}

/* The sums of four adjacent channels. */
typedef struct {
    int32_t s0, s1, s2, s3;
} dw_quad;

/* One tap of channels c .. c + 3: one word of values and one of weights, unpacked by SXTAB16
 * with the input offset added in the same instruction, then one 16x16 MAC per channel
 * (SMLABB/SMLATT wrap like the int32 sum). */
static inline dw_quad quad_mac(dw_quad acc, const int8_t *value, const int8_t *weight, uint32_t offset_pair)
{
    const uint32_t values = md_read32(value);
    const uint32_t weights = md_read32(weight);
    const int16x2_t even = md_even_pair_add((int16x2_t)offset_pair, values);
    const int16x2_t odd = md_odd_pair_add((int16x2_t)offset_pair, values);
    const int16x2_t weights_even = md_even_pair(weights);
    const int16x2_t weights_odd = md_odd_pair(weights);
    acc.s0 = __smlabb((int32_t)even, (int32_t)weights_even, acc.s0);
    acc.s2 = __smlatt((int32_t)even, (int32_t)weights_even, acc.s2);
    acc.s1 = __smlabb((int32_t)odd, (int32_t)weights_odd, acc.s1);
    acc.s3 = __smlatt((int32_t)odd, (int32_t)weights_odd, acc.s3);
    return acc;
}

/* Sums of channels c .. c + 3 over the pixel's taps; rows of 3 taps unrolled. */
static inline dw_quad quad_sums(const dw_pixel *px, int32_t c, uint32_t offset_pair)
{
    const int8_t *value = px->values + c;
    const int8_t *weight = px->weights + c;
    const int32_t value_step = px->value_column_step;
    const int32_t weight_step = px->weight_column_step;
    dw_quad acc = {0, 0, 0, 0};
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < px->rows; ++fy) {
        if (px->columns == 3) {
            acc = quad_mac(acc, value, weight, offset_pair);
            acc = quad_mac(acc, value + value_step, weight + weight_step, offset_pair);
            acc = quad_mac(acc, value + 2 * value_step, weight + 2 * weight_step, offset_pair);
        } else {
            for (fx = 0; fx < px->columns; ++fx) {
                acc = quad_mac(acc, value + fx * value_step, weight + fx * weight_step, offset_pair);
            }
        }
        value += px->value_row_step;
        weight += px->weight_row_step;
    }
    return acc;
}

/* Channels c .. c + 3 of one output pixel, written as one word once all four windows are read. */
static inline void store_quad(const depthwise_int_job *job, int32_t first, int32_t c, dw_quad quad)
{
    const int32_t sums[4] = {quad.s0, quad.s1, quad.s2, quad.s3};
    const md_window_params *p = job->p;
    uint32_t word = 0;
    int32_t k;
    for (k = 0; k < 4; ++k) {
        const int32_t q = p->per_channel ? c + k : 0;
        const int32_t acc = md_wrap_add(sums[k], job->bias ? ((const int32_t *)job->bias)[c + k] : 0);
        const int32_t value = md_requantize32(acc, job->multipliers[q], job->shifts[q], p->output_offset,
                                              p->act_min, p->act_max);
        word |= ((uint32_t)value & 0xFFu) << (8 * k);
    }
    md_write32((int8_t *)job->output + first + c, word);
}

/* One output pixel: four channels at a time, then the rest one by one. */
static MD_DSP_NOINLINE void stream_pixel(const depthwise_int_job *job, const int8_t *image, int32_t first, int32_t oy, int32_t ox,
                         int inside_y)
{
    const md_window_params *p = job->p;
    const uint32_t offset_pair = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    const dw_pixel px = pixel_taps(job, image, oy, ox);
    int32_t c;
    for (c = 0; c + 4 <= p->input_c; c += 4) {
        store_quad(job, first, c, quad_sums(&px, c, offset_pair));
    }
    for (; c < p->input_c; ++c) {
        store(job, first + c, c, window_sum(p, image + c, p->input_c, job->filter + c, oy, ox, inside_y));
    }
}

/* Pixel by pixel; within a pixel, output channels are written after their windows are read, as
 * the streaming contract requires. */
static void stream_s8(const depthwise_int_job *job, const int8_t *input)
{
    const md_window_params *p = job->p;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int inside_y = whole_window(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t first = ((batch * p->output_h + oy) * p->output_w + ox) * p->output_c;
                stream_pixel(job, image, first, oy, ox, inside_y);
            }
        }
    }
}

static MD_DSP_NOINLINE void copy_plane(const md_window_params *p, const int8_t *input, int32_t channel, int8_t *plane)
{
    /* Locals: stores to int8 may alias *p, which would reload it every pixel. */
    const int32_t pixels = p->input_h * p->input_w;
    const int32_t channels = p->input_c;
    const int8_t *source = input + channel;
    int32_t i;
    for (i = 0; i < pixels; ++i) {
        plane[i] = source[i * channels];
    }
}

/* A 3x3 window row is read as one word of the plane row, starting `d` bytes (-1 .. 2) before
 * the window's first tap so that the word stays inside the row; the channel's weights are laid
 * out in the word's byte order, zero on bytes outside the window (padding included), as the
 * SMLAD pairs {b0, b2} and {b1, b3} of each layout and filter row. */
typedef struct {
    int32_t even[4][3];
    int32_t odd[4][3];
} dw_layouts;

static inline int32_t halfword_pair(int32_t low, int32_t high)
{
    return (int32_t)(((uint32_t)low & 0xFFFFu) | ((uint32_t)high << 16));
}

/* Layout index d + 1 puts tap t on byte t + d: bytes {w1 w2 0 0}, {w0 w1 w2 0}, {0 w0 w1 w2},
 * {0 0 w0 w1}; written out, as a loop over bytes costs more than the plane of a small image. */
static MD_DSP_NOINLINE void pack_layouts(const int8_t *weights, int32_t step, dw_layouts *layouts)
{
    int32_t fy;
    for (fy = 0; fy < 3; ++fy) {
        const int32_t w0 = weights[3 * fy * step];
        const int32_t w1 = weights[(3 * fy + 1) * step];
        const int32_t w2 = weights[(3 * fy + 2) * step];
        layouts->even[0][fy] = halfword_pair(w1, 0);
        layouts->odd[0][fy] = halfword_pair(w2, 0);
        layouts->even[1][fy] = halfword_pair(w0, w2);
        layouts->odd[1][fy] = halfword_pair(w1, 0);
        layouts->even[2][fy] = halfword_pair(0, w1);
        layouts->odd[2][fy] = halfword_pair(w0, w2);
        layouts->even[3][fy] = halfword_pair(0, w0);
        layouts->odd[3][fy] = halfword_pair(0, w1);
    }
}

/* Sum over `rows` filter rows of the words from `word` on (rows `row_step` apart): the input
 * offset joins each byte in SXTAB16, two SMLAD per row. */
static inline int32_t word_window_sum(const int8_t *word, int32_t row_step, const int32_t *even, const int32_t *odd,
                                      int32_t rows, uint32_t offset_pair)
{
    int32_t sum = 0;
    int32_t fy;
    for (fy = 0; fy < rows; ++fy) {
        const uint32_t values = md_read32(word + fy * row_step);
        const int16x2_t values_even = md_even_pair_add((int16x2_t)offset_pair, values);
        const int16x2_t values_odd = md_odd_pair_add((int16x2_t)offset_pair, values);
        sum = __smlad(values_even, (int16x2_t)even[fy], sum);
        sum = __smlad(values_odd, (int16x2_t)odd[fy], sum);
    }
    return sum;
}

/* The requantization of one output channel, loaded once per plane. */
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
    return (int8_t)md_requantize32(md_wrap_add(sum, r->bias), r->multiplier, r->shift, r->offset, r->low, r->high);
}

/* Whether the word path applies to a plane: undilated 3x3 windows on rows of 4 bytes or more. */
static int plane_fast_3x3(const md_window_params *p)
{
    return p->filter_h == 3 && p->filter_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 && p->input_w >= 4;
}

/* One output row of one channel on the word path. */
typedef struct {
    const int8_t *first_row; /* plane row of the first filter row inside the image */
    int32_t width, rows;     /* plane row length; filter rows inside the image */
    int32_t first_fy;        /* the first of those filter rows */
    int32_t stride, pad, out_step;
    uint32_t offset_pair;
    dw_requant requant;
} dw_row;

/* sum + the products of one word of 4 plane bytes with the weight pairs `even` and `odd`. */
static inline int32_t word_mac(const int8_t *word, uint32_t offset_pair, int32_t even, int32_t odd, int32_t sum)
{
    const uint32_t values = md_read32(word);
    sum = __smlad(md_even_pair_add((int16x2_t)offset_pair, values), (int16x2_t)even, sum);
    return __smlad(md_odd_pair_add((int16x2_t)offset_pair, values), (int16x2_t)odd, sum);
}

/* A full window (3 rows) unrolled, else `rows` rows. */
static inline int32_t word_rows_sum(const int8_t *word, int32_t row_step, const int32_t *even, const int32_t *odd,
                                    int32_t rows, uint32_t offset_pair)
{
    if (rows == 3) {
        const int32_t sum = word_mac(word, offset_pair, even[0], odd[0], 0);
        return word_mac(word + 2 * row_step, offset_pair, even[2], odd[2],
                        word_mac(word + row_step, offset_pair, even[1], odd[1], sum));
    }
    return word_window_sum(word, row_step, even, odd, rows, offset_pair);
}

/* Outputs [ox_first, ox_last) of a row whose windows (all 3 rows inside) start at or after the
 * row's start and end before its last byte: one weight layout, kept in registers. */
static MD_DSP_NOINLINE void interior_row(const dw_row *row, const dw_layouts *layouts, int32_t ox_first,
                                         int32_t ox_last, int8_t *output)
{
    const int32_t even0 = layouts->even[1][0], odd0 = layouts->odd[1][0];
    const int32_t even1 = layouts->even[1][1], odd1 = layouts->odd[1][1];
    const int32_t even2 = layouts->even[1][2], odd2 = layouts->odd[1][2];
    const int32_t width = row->width;
    const int32_t stride = row->stride;
    const int32_t out_step = row->out_step;
    const uint32_t offset_pair = row->offset_pair;
    const dw_requant requant = row->requant;
    const int8_t *window = row->first_row + ox_first * stride - row->pad;
    int8_t *out = output + ox_first * out_step;
    int32_t ox;
    for (ox = ox_first; ox < ox_last; ++ox) {
        int32_t sum = word_mac(window, offset_pair, even0, odd0, 0);
        sum = word_mac(window + width, offset_pair, even1, odd1, sum);
        sum = word_mac(window + 2 * width, offset_pair, even2, odd2, sum);
        *out = requantize(&requant, sum);
        window += stride;
        out += out_step;
    }
}

/* Output ox of the row, any window origin from one column before the row to two before its
 * end: the word starts where it stays inside the row, the layout matches. */
static MD_DSP_NOINLINE void edge_output(const dw_row *row, const dw_layouts *layouts, int32_t ox, int8_t *output)
{
    const int32_t x0 = ox * row->stride - row->pad;
    const int32_t start = md_min_i32(x0 < 0 ? 0 : x0, row->width - 4);
    const int32_t d = x0 - start + 1;
    const int32_t sum = word_rows_sum(row->first_row + start, row->width, layouts->even[d] + row->first_fy,
                                      layouts->odd[d] + row->first_fy, row->rows, row->offset_pair);
    output[ox * row->out_step] = requantize(&row->requant, sum);
}

/* The columns of a plane's output rows whose windows take interior_row: origin in
 * [0, width - 4]. */
typedef struct {
    int32_t first, end;
} dw_interior;

static dw_interior interior_columns(const md_window_params *p)
{
    dw_interior columns;
    columns.first = md_min_i32((p->pad_left + p->stride_w - 1) / p->stride_w, p->output_w);
    columns.end = (p->input_w - 4 + p->pad_left) / p->stride_w + 1;
    columns.end = md_min_i32(md_max_i32(columns.end, columns.first), p->output_w);
    return columns;
}

/* Output (oy, ox) of channel c off the interior: the word path for a window origin from one
 * column before the row to two before its end, else the taps inside (wider padding). */
static void plane_edge(const depthwise_int_job *job, const dw_row *row, const dw_layouts *layouts,
                       const int8_t *plane, int32_t c, int32_t oy, int32_t ox, int8_t *output)
{
    const md_window_params *p = job->p;
    const int32_t x0 = md_window_origin(ox, row->stride, row->pad);
    if (x0 >= -1 && x0 <= row->width - 2) {
        edge_output(row, layouts, ox, output);
    } else {
        store(job, (int32_t)(output - (int8_t *)job->output) + ox * row->out_step, c,
              window_sum(p, plane, 1, job->filter + c, oy, ox, 0));
    }
}

/* Output row oy of channel c from its plane (`row` set for the channel): the interior in
 * registers when all 3 filter rows are inside, every other output one by one. */
static MD_DSP_NOINLINE void plane_row_3x3(const depthwise_int_job *job, dw_row *row, const dw_layouts *layouts,
                                          dw_interior interior, const int8_t *plane, int32_t c, int32_t oy,
                                          int8_t *output)
{
    const md_window_params *p = job->p;
    int32_t fy_last;
    int32_t ox;
    md_tap_range(oy, p->stride_h, p->pad_top, 1, 3, p->input_h, &row->first_fy, &fy_last);
    row->first_row = plane + (md_window_origin(oy, p->stride_h, p->pad_top) + row->first_fy) * row->width;
    row->rows = fy_last - row->first_fy;
    if (row->rows != 3) {
        interior.first = interior.end = p->output_w;
    }
    for (ox = 0; ox < interior.first; ++ox) {
        plane_edge(job, row, layouts, plane, c, oy, ox, output);
    }
    interior_row(row, layouts, interior.first, interior.end, output);
    for (ox = interior.end; ox < p->output_w; ++ox) {
        plane_edge(job, row, layouts, plane, c, oy, ox, output);
    }
}

/* The row fields that stay for a whole plane. */
static dw_row plane_rows(const depthwise_int_job *job, int32_t c)
{
    const md_window_params *p = job->p;
    dw_row row;
    row.first_row = NULL;
    row.rows = 0;
    row.first_fy = 0;
    row.width = p->input_w;
    row.stride = p->stride_w;
    row.pad = p->pad_left;
    row.out_step = p->output_c;
    row.offset_pair = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    row.requant = channel_requant(job, c);
    return row;
}

/* Plane c of one image through the word path. */
static void plane_3x3(const depthwise_int_job *job, const int8_t *plane, int32_t c, int8_t *output)
{
    const md_window_params *p = job->p;
    const dw_interior interior = interior_columns(p);
    dw_layouts layouts;
    dw_row row = plane_rows(job, c);
    int32_t oy;
    pack_layouts(job->filter + c, p->output_c, &layouts);
    for (oy = 0; oy < p->output_h; ++oy) {
        plane_row_3x3(job, &row, &layouts, interior, plane, c, oy, output + oy * p->output_w * p->output_c);
    }
}

/* Plane c of one image, any window: the taps inside each window. */
static void plane_any(const depthwise_int_job *job, const int8_t *plane, int32_t c, int32_t first_pixel)
{
    const md_window_params *p = job->p;
    int32_t oy;
    int32_t ox;
    for (oy = 0; oy < p->output_h; ++oy) {
        const int inside_y = whole_window(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h);
        for (ox = 0; ox < p->output_w; ++ox) {
            const int32_t pixel = first_pixel + oy * p->output_w + ox;
            store(job, pixel * p->output_c + c, c, window_sum(p, plane, 1, job->filter + c, oy, ox, inside_y));
        }
    }
}

static void planes_s8(const depthwise_int_job *job, const int8_t *input, int8_t *plane)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->input_h * p->input_w;
    const int32_t output_pixels = p->output_h * p->output_w;
    const int fast = plane_fast_3x3(p);
    int32_t batch;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        for (c = 0; c < p->input_c; ++c) {
            copy_plane(p, input + batch * pixels * p->input_c, c, plane);
            if (fast) {
                plane_3x3(job, plane, c, (int8_t *)job->output + batch * output_pixels * p->output_c + c);
            } else {
                plane_any(job, plane, c, batch * output_pixels);
            }
        }
    }
}

void md_depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch)
{
    depthwise_int_job job;
    if (p->output_c != p->input_c || p->accumulator64) {
        md_depthwise_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
        return;
    }
    job.p = p;
    job.dtype = MD_INT8;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    if (scratch) {
        planes_s8(&job, input, scratch);
    } else {
        stream_s8(&job, input);
    }
}

void md_depthwise_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                      const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    md_depthwise_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
}
