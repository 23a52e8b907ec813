/* mcudeploy kernel library: DEPTHWISE_CONV_2D for MVE (Helium) cores (see md_depthwise.h, md_mve.h).
 *
 * int8 with depth multiplier 1, in the loop order the memory contract declares:
 * - streaming: pixel by pixel; the channels of a pixel go 16 at a time (int8 widened to int16 lanes,
 *   summed in int32 even/odd lanes), all read before any is written, in order; only the taps inside
 *   the image are read;
 * - planes: output plane c from the copied plane, four output pixels per vector (gathered): runs of
 *   windows inside the image unmasked (3x3 unrolled), border columns four rows at a time down the
 *   column, rows whose windows leave the image with the taps outside masked off.
 * Other cases (16x8, depth multipliers, 64-bit accumulators) run the portable kernel.
 */
#include "md_depthwise_int.h"
#include "md_mve.h"

#if MD_MVE

/* The pixel kernels kept out of line: inlined into the pixel loops, GCC spilled their pointers
 * and accumulators inside the tap loops. */
#if defined(__GNUC__)
#define MD_DW_OUT_OF_LINE __attribute__((noinline))
#else
#define MD_DW_OUT_OF_LINE
#endif

#define MD_DW_BLOCK 16 /* channels of one pixel computed together: two int16x8 */

typedef struct {
    const md_window_params *p;
    const int8_t *filter;
    md_mve_requant requant;
    int8_t *output;
} dw_s8_job;

/* The window of one output pixel in a source of `stride` values per pixel: the index of its tap
 * (0, 0) (negative in the padding; only taps inside the image are read) and the steps between taps. */
typedef struct {
    md_taps taps;
    int32_t origin;
    int32_t column_step, row_step;
} dw_window;

/* md_tap_range, a window wholly inside settled without looping over its taps. */
static inline void tap_range(int32_t out, int32_t stride, int32_t pad, int32_t dilation, int32_t filter,
                             int32_t size, int32_t *first, int32_t *last)
{
    const int32_t origin = md_window_origin(out, stride, pad);
    if (origin >= 0 && origin + (filter - 1) * dilation < size) {
        *first = 0;
        *last = filter;
        return;
    }
    md_tap_range(out, stride, pad, dilation, filter, size, first, last);
}

static dw_window window_of(const md_window_params *p, int32_t stride, int32_t oy, int32_t ox)
{
    dw_window w;
    tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h, &w.taps.y_first, &w.taps.y_last);
    tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &w.taps.x_first, &w.taps.x_last);
    w.taps.y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    w.taps.x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    w.origin = (w.taps.y0 * p->input_w + w.taps.x0) * stride;
    w.column_step = p->dilation_w * stride;
    w.row_step = p->dilation_h * p->input_w * stride;
    return w;
}

/* Adds (x + offset) * w of 8 channels to `even` (channels 0, 2, 4, 6) and `odd` (1, 3, 5, 7):
 * x + offset fits int16 (both within [-128, 128], not both 128), its products with w int32. */
static inline void mac8(int32x4_t *even, int32x4_t *odd, int16x8_t x, int16x8_t w, int16_t offset)
{
    const int16x8_t shifted = vaddq_n_s16(x, offset);
    *even = vaddq_s32(*even, vmullbq_int_s16(shifted, w));
    *odd = vaddq_s32(*odd, vmulltq_int_s16(shifted, w));
}

/* Requantizes 8 channels from their even and odd sums and stores the first `count` in order:
 * narrowing puts the even lanes in the bottom halves, the odd ones in the top halves. */
static inline void store8(const dw_s8_job *job, int32x4_t even, int32x4_t odd, int32_t channel, int32_t count,
                          int8_t *out)
{
    const mve_pred16_t lanes = vctp16q((uint32_t)count);
    const uint32x4_t evens = vidupq_n_u32(0, 2);
    const int32x4_t low = md_mve_requantize_at(&job->requant, even, channel, evens, vctp32q((uint32_t)(count + 1) / 2));
    const int32x4_t high = md_mve_requantize_at(&job->requant, odd, channel + 1, evens, vctp32q((uint32_t)count / 2));
    vstrbq_p_s16(out + channel, vmovntq_s32(vmovnbq_s32(vdupq_n_s16(0), low), high), lanes);
}

/* Channels first .. first + 15 of one output pixel: unpredicated, four accumulators. */
MD_DW_OUT_OF_LINE static void block16(const dw_s8_job *job, const int8_t *image, const dw_window *w, int32_t first,
                                       int8_t *out)
{
    const md_window_params *p = job->p;
    const int16_t offset = (int16_t)p->input_offset;
    int32x4_t even0 = vdupq_n_s32(0);
    int32x4_t odd0 = even0;
    int32x4_t even1 = even0;
    int32x4_t odd1 = even0;
    int32_t fy;
    int32_t fx;
    for (fy = w->taps.y_first; fy < w->taps.y_last; ++fy) {
        for (fx = w->taps.x_first; fx < w->taps.x_last; ++fx) {
            const int8_t *x = image + w->origin + fy * w->row_step + fx * w->column_step + first;
            const int8_t *f = job->filter + (fy * p->filter_w + fx) * p->input_c + first;
            mac8(&even0, &odd0, vldrbq_s16(x), vldrbq_s16(f), offset);
            mac8(&even1, &odd1, vldrbq_s16(x + 8), vldrbq_s16(f + 8), offset);
        }
    }
    store8(job, even0, odd0, first, 8, out);
    store8(job, even1, odd1, first + 8, 8, out);
}

/* Channels first .. first + count - 1 (count <= 8) of one output pixel, lanes past count unread. */
MD_DW_OUT_OF_LINE static void block_tail(const dw_s8_job *job, const int8_t *image, const dw_window *w,
                                          int32_t first, int32_t count, int8_t *out)
{
    const md_window_params *p = job->p;
    const mve_pred16_t lanes = vctp16q((uint32_t)count);
    int32x4_t even = vdupq_n_s32(0);
    int32x4_t odd = even;
    int32_t fy;
    int32_t fx;
    for (fy = w->taps.y_first; fy < w->taps.y_last; ++fy) {
        for (fx = w->taps.x_first; fx < w->taps.x_last; ++fx) {
            const int8_t *x = image + w->origin + fy * w->row_step + fx * w->column_step + first;
            const int8_t *f = job->filter + (fy * p->filter_w + fx) * p->input_c + first;
            mac8(&even, &odd, vldrbq_z_s16(x, lanes), vldrbq_z_s16(f, lanes), (int16_t)p->input_offset);
        }
    }
    store8(job, even, odd, first, count, out);
}

static void stream_s8(const dw_s8_job *job, const int8_t *input)
{
    const md_window_params *p = job->p;
    const int32_t full = p->input_c - p->input_c % MD_DW_BLOCK;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const dw_window w = window_of(p, p->input_c, oy, ox);
                int8_t *out = job->output + ((batch * p->output_h + oy) * p->output_w + ox) * p->output_c;
                for (c = 0; c < full; c += MD_DW_BLOCK) {
                    block16(job, image, &w, c, out);
                }
                for (; c < p->input_c; c += 8) {
                    block_tail(job, image, &w, c, md_min_i32(8, p->input_c - c), out);
                }
            }
        }
    }
}

/* One output plane: channel `channel`, requantized with its single multiplier. */
typedef struct {
    const dw_s8_job *job;
    const int8_t *plane;
    const int8_t *weights; /* tap t at weights[t * output_c] */
    md_mve_requant requant;
    int32_t bias;
    int32_t inside_bias; /* bias + input offset * the sum of the weights: every tap inside */
    int32_t channel;
    int32_t rows_first, rows_last;       /* output rows whose windows lie inside the image */
    int32_t columns_first, columns_last; /* output columns whose windows lie inside the image */
} dw_plane;

/* The run [*first, *last) of outputs along one axis whose windows lie wholly inside the input. */
static void inside_run(int32_t outputs, int32_t stride, int32_t pad, int32_t dilation, int32_t filter, int32_t size,
                       int32_t *first, int32_t *last)
{
    const int32_t reach = (filter - 1) * dilation;
    int32_t low = 0;
    int32_t high = outputs;
    while (low < high && md_window_origin(low, stride, pad) < 0) {
        ++low;
    }
    while (high > low && md_window_origin(high - 1, stride, pad) + reach >= size) {
        --high;
    }
    *first = low;
    *last = high;
}

static dw_plane plane_of(const dw_s8_job *job, const int8_t *plane, const int32_t *bias, int32_t channel)
{
    const md_window_params *p = job->p;
    const int32_t q = p->per_channel ? channel : 0;
    int32_t tap;
    dw_plane d;
    d.job = job;
    d.plane = plane;
    d.weights = job->filter + channel;
    d.requant = job->requant;
    d.requant.bias = NULL; /* added as a scalar: every lane holds the same channel */
    d.requant.per_channel = 0;
    d.requant.multipliers = job->requant.multipliers + q;
    d.requant.shifts = job->requant.shifts + q;
    d.bias = bias ? bias[channel] : 0;
    d.inside_bias = d.bias;
    for (tap = 0; tap < p->filter_h * p->filter_w; ++tap) {
        d.inside_bias = md_wrap_add(d.inside_bias, md_wrap_mul(p->input_offset, d.weights[tap * p->output_c]));
    }
    d.channel = channel;
    inside_run(p->output_h, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h, &d.rows_first,
               &d.rows_last);
    inside_run(p->output_w, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &d.columns_first,
               &d.columns_last);
    return d;
}

/* Where the windows of four consecutive output pixels (flattened over rows) start in the plane. */
typedef struct {
    int32x4_t rows, columns; /* input row and column of each lane's tap (0, 0) */
    int32x4_t origins;       /* rows * input_w + columns */
} dw_lanes;

static dw_lanes lanes_at(const md_window_params *p, int32_t pixel)
{
    int32_t rows[4];
    int32_t columns[4];
    int32_t oy = pixel / p->output_w;
    int32_t ox = pixel % p->output_w;
    int32_t lane;
    dw_lanes l;
    for (lane = 0; lane < 4; ++lane) {
        rows[lane] = md_window_origin(oy, p->stride_h, p->pad_top);
        columns[lane] = md_window_origin(ox, p->stride_w, p->pad_left);
        if (++ox == p->output_w) {
            ox = 0;
            ++oy;
        }
    }
    l.rows = vldrwq_s32(rows);
    l.columns = vldrwq_s32(columns);
    l.origins = vmlaq_n_s32(l.columns, l.rows, p->input_w);
    return l;
}

/* Requantizes four output pixels of the plane's channel, `pixel_step` pixels apart, and stores
 * those in `lanes`. */
static inline void plane_store4_step(const dw_plane *d, int32x4_t acc, mve_pred16_t lanes, int32_t pixel_step,
                                     int8_t *out)
{
    const uint32x4_t offsets = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)(pixel_step * d->job->p->output_c));
    vstrbq_scatter_offset_p_s32(out, offsets, md_mve_requantize(&d->requant, acc, 0, lanes), lanes);
}

static inline void plane_store4(const dw_plane *d, int32x4_t acc, mve_pred16_t lanes, int8_t *out)
{
    plane_store4_step(d, acc, lanes, 1, out);
}

/* Output pixels (oy .. oy + count - 1, ox) (count <= 4), one per lane, their rows' windows inside
 * the image: the column taps inside are the same for every lane, so nothing is masked. */
MD_DW_OUT_OF_LINE static void plane_column4(const dw_plane *d, int32_t oy, int32_t ox, int32_t count,
                                            int8_t *plane_out)
{
    const md_window_params *p = d->job->p;
    const mve_pred16_t lanes = vctp32q((uint32_t)count);
    const uint32x4_t rows = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)(p->stride_h * p->input_w));
    const int32_t origin = md_window_origin(oy, p->stride_h, p->pad_top) * p->input_w +
                           md_window_origin(ox, p->stride_w, p->pad_left);
    int32x4_t acc = vdupq_n_s32(d->bias);
    int32_t x_first;
    int32_t x_last;
    int32_t fy;
    int32_t fx;
    tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &x_first, &x_last);
    for (fx = x_first; fx < x_last; ++fx) {
        const int8_t *column = d->plane + origin + fx * p->dilation_w;
        const int8_t *weight = d->weights + fx * p->output_c;
        for (fy = 0; fy < p->filter_h; ++fy) {
            const int32x4_t values = vldrbq_gather_offset_z_s32(column, rows, lanes);
            acc = vmlaq_n_s32(acc, vaddq_n_s32(values, p->input_offset), *weight);
            column += p->dilation_h * p->input_w;
            weight += p->filter_w * p->output_c;
        }
    }
    plane_store4_step(d, acc, lanes, p->output_w, plane_out + (oy * p->output_w + ox) * p->output_c);
}

/* Output pixels (oy, first .. last - 1) of a 3x3 filter, last - first a multiple of 4, their windows
 * inside the image: the nine weights stay in registers across the row. */
MD_DW_OUT_OF_LINE static void plane_inside_3x3(const dw_plane *d, int32_t oy, int32_t first, int32_t last,
                                               int8_t *plane_out)
{
    const md_window_params *p = d->job->p;
    const int32_t step = p->output_c;
    const int32_t w0 = d->weights[0], w1 = d->weights[step], w2 = d->weights[2 * step];
    const int32_t w3 = d->weights[3 * step], w4 = d->weights[4 * step], w5 = d->weights[5 * step];
    const int32_t w6 = d->weights[6 * step], w7 = d->weights[7 * step], w8 = d->weights[8 * step];
    const uint32x4_t columns = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)p->stride_w);
    const int32_t tap_x = p->dilation_w;
    const int32_t tap_y = p->dilation_h * p->input_w;
    int8_t *out = plane_out + (oy * p->output_w + first) * step;
    const int8_t *top = d->plane + md_window_origin(oy, p->stride_h, p->pad_top) * p->input_w +
                        md_window_origin(first, p->stride_w, p->pad_left);
    int32_t ox;
    for (ox = first; ox < last; ox += 4) {
        const int8_t *middle = top + tap_y;
        const int8_t *bottom = middle + tap_y;
        int32x4_t acc = vdupq_n_s32(d->inside_bias);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(top, columns), w0);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(top + tap_x, columns), w1);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(top + 2 * tap_x, columns), w2);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(middle, columns), w3);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(middle + tap_x, columns), w4);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(middle + 2 * tap_x, columns), w5);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(bottom, columns), w6);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(bottom + tap_x, columns), w7);
        acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(bottom + 2 * tap_x, columns), w8);
        plane_store4(d, acc, vctp32q(4), out);
        out += 4 * step;
        top += 4 * p->stride_w;
    }
}

/* Output pixels pixel .. pixel + count - 1 (count <= 4) of the plane, one per lane: a lane whose
 * tap falls outside the image neither loads nor adds. Unsigned compares test both bounds at once,
 * and once the column is inside, the row is inside exactly when the plane index is. */
MD_DW_OUT_OF_LINE static void plane_pixels4(const dw_plane *d, int32_t pixel, int32_t count, int8_t *plane_out)
{
    const md_window_params *p = d->job->p;
    const mve_pred16_t lanes = vctp32q((uint32_t)count);
    const dw_lanes l = lanes_at(p, pixel);
    const uint32x4_t width = vdupq_n_u32((uint32_t)p->input_w);
    const uint32x4_t size = vdupq_n_u32((uint32_t)(p->input_h * p->input_w));
    int32x4_t acc = vdupq_n_s32(d->bias);
    int32_t fy;
    int32_t fx;
    for (fx = 0; fx < p->filter_w; ++fx) {
        const uint32x4_t columns = vreinterpretq_u32_s32(vaddq_n_s32(l.columns, fx * p->dilation_w));
        const mve_pred16_t column_inside = vcmphiq_m_u32(width, columns, lanes);
        const int8_t *weight = d->weights + fx * p->output_c;
        for (fy = 0; fy < p->filter_h; ++fy) {
            const uint32x4_t taps = vreinterpretq_u32_s32(
                vaddq_n_s32(l.origins, fy * p->dilation_h * p->input_w + fx * p->dilation_w));
            const mve_pred16_t inside = vcmphiq_m_u32(size, taps, column_inside);
            const int32x4_t values = vldrbq_gather_offset_z_s32(d->plane, taps, inside);
            acc = vmlaq_m_n_s32(acc, vaddq_n_s32(values, p->input_offset), weight[fy * p->filter_w * p->output_c],
                                inside);
        }
    }
    plane_store4(d, acc, lanes, plane_out + pixel * p->output_c);
}

/* Output pixels (oy, ox .. ox + 3), their windows inside the image: no masks, and the input offset
 * comes in once through inside_bias. */
MD_DW_OUT_OF_LINE static void plane_inside4(const dw_plane *d, int32_t oy, int32_t ox, int8_t *out)
{
    const md_window_params *p = d->job->p;
    const int32_t origin = md_window_origin(oy, p->stride_h, p->pad_top) * p->input_w +
                           md_window_origin(ox, p->stride_w, p->pad_left);
    const uint32x4_t origins = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)p->stride_w);
    int32x4_t acc = vdupq_n_s32(d->inside_bias);
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < p->filter_h; ++fy) {
        const int8_t *row = d->plane + origin + fy * p->dilation_h * p->input_w;
        const int8_t *weights = d->weights + fy * p->filter_w * p->output_c;
        for (fx = 0; fx < p->filter_w; ++fx) {
            acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(row + fx * p->dilation_w, origins),
                              weights[fx * p->output_c]);
        }
    }
    plane_store4(d, acc, vctp32q(4), out);
}

/* Channel `channel` of every pixel of `image` into `plane`, 8 at a time. */
static void copy_plane(const md_window_params *p, const int8_t *image, int32_t channel, int8_t *plane)
{
    const int32_t pixels = p->input_h * p->input_w;
    const uint16x8_t offsets = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)p->input_c);
    int32_t i;
    for (i = 0; i < pixels; i += 8) {
        const mve_pred16_t lanes = vctp16q((uint32_t)(pixels - i));
        vstrbq_p_s16(plane + i, vldrbq_gather_offset_z_s16(image + i * p->input_c + channel, offsets, lanes), lanes);
    }
}

/* Output pixels (oy, first .. last - 1) through the masked kernel, four at a time. */
static void plane_masked_run(const dw_plane *d, int32_t oy, int32_t first, int32_t last, int8_t *plane_out)
{
    const int32_t row = oy * d->job->p->output_w;
    int32_t ox;
    for (ox = first; ox < last; ox += 4) {
        plane_pixels4(d, row + ox, md_min_i32(4, last - ox), plane_out);
    }
}

/* Output columns [first, last) of rows oy .. oy + count - 1 (count <= 4), whose windows lie inside
 * vertically: four rows at a time down each column. */
static void plane_columns(const dw_plane *d, int32_t oy, int32_t count, int32_t first, int32_t last,
                          int8_t *plane_out)
{
    int32_t ox;
    for (ox = first; ox < last; ++ox) {
        plane_column4(d, oy, ox, count, plane_out);
    }
}

/* Output columns [first, last) (last - first a multiple of 4) of row oy, their windows inside. */
static void plane_inside_row(const dw_plane *d, int32_t oy, int32_t first, int32_t last, int8_t *plane_out)
{
    const md_window_params *p = d->job->p;
    int32_t ox;
    if (p->filter_h == 3 && p->filter_w == 3) {
        plane_inside_3x3(d, oy, first, last, plane_out);
        return;
    }
    for (ox = first; ox < last; ox += 4) {
        plane_inside4(d, oy, ox, plane_out + (oy * p->output_w + ox) * p->output_c);
    }
}

/* The output plane of d's channel: rows whose windows leave the image through the masked kernel;
 * the others four at a time down the border columns, and in runs of four unmasked pixels between. */
static void plane_all(const dw_plane *d, int8_t *plane_out)
{
    const md_window_params *p = d->job->p;
    const int32_t run = d->columns_last - d->columns_first;
    const int32_t whole = d->columns_first + (run - run % 4);
    int32_t oy;
    int32_t row;
    for (oy = 0; oy < d->rows_first; ++oy) {
        plane_masked_run(d, oy, 0, p->output_w, plane_out);
    }
    for (; oy < d->rows_last; oy += 4) {
        const int32_t count = md_min_i32(4, d->rows_last - oy);
        plane_columns(d, oy, count, 0, d->columns_first, plane_out);
        plane_columns(d, oy, count, whole, p->output_w, plane_out);
        for (row = oy; row < oy + count && whole > d->columns_first; ++row) {
            plane_inside_row(d, row, d->columns_first, whole, plane_out);
        }
    }
    for (oy = md_max_i32(d->rows_first, d->rows_last); oy < p->output_h; ++oy) {
        plane_masked_run(d, oy, 0, p->output_w, plane_out);
    }
}

static void planes_s8(const dw_s8_job *job, const int8_t *input, const int32_t *bias, int8_t *plane)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->input_h * p->input_w;
    int32_t batch;
    const int32_t outputs = p->output_h * p->output_w;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        for (c = 0; c < p->input_c; ++c) {
            const dw_plane d = plane_of(job, plane, bias, c);
            copy_plane(p, input + batch * pixels * p->input_c, c, plane);
            plane_all(&d, job->output + batch * outputs * p->output_c + c);
        }
    }
}

#endif /* MD_MVE */

void md_depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch)
{
#if MD_MVE
    if (p->output_c == p->input_c && !p->accumulator64) {
        dw_s8_job job;
        job.p = p;
        job.filter = filter;
        job.requant = md_mve_requant_s8(bias, multipliers, shifts, p->per_channel, p->output_offset, p->act_min,
                                        p->act_max);
        job.output = output;
        if (scratch) {
            planes_s8(&job, input, bias, scratch);
        } else {
            stream_s8(&job, input);
        }
        return;
    }
#endif
    md_depthwise_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
}

void md_depthwise_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                      const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    md_depthwise_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
}
