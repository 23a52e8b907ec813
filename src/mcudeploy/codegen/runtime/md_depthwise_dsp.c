/* mcudeploy kernel library: DEPTHWISE_CONV_2D for cores with the DSP extension (see md_depthwise.h).
 *
 * int8 with depth multiplier 1, in the loop order the memory contract declares (copied planes
 * with scratch, else streaming pixel by pixel, channel by channel), with no call per output:
 * windows wholly inside the image take a 3x3 fast path (or a loop over all taps), border
 * windows the taps inside. Other cases run the portable kernel.
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

static void stream_s8(const depthwise_int_job *job, const int8_t *input)
{
    const md_window_params *p = job->p;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int inside_y = whole_window(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t first = ((batch * p->output_h + oy) * p->output_w + ox) * p->output_c;
                for (c = 0; c < p->input_c; ++c) {
                    store(job, first + c, c, window_sum(p, image + c, p->input_c, job->filter + c, oy, ox, inside_y));
                }
            }
        }
    }
}

static void copy_plane(const md_window_params *p, const int8_t *input, int32_t channel, int8_t *plane)
{
    const int32_t pixels = p->input_h * p->input_w;
    int32_t i;
    for (i = 0; i < pixels; ++i) {
        plane[i] = input[i * p->input_c + channel];
    }
}

static void planes_s8(const depthwise_int_job *job, const int8_t *input, int8_t *plane)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->input_h * p->input_w;
    int32_t batch;
    int32_t c;
    int32_t oy;
    int32_t ox;
    for (batch = 0; batch < p->batches; ++batch) {
        for (c = 0; c < p->input_c; ++c) {
            copy_plane(p, input + batch * pixels * p->input_c, c, plane);
            for (oy = 0; oy < p->output_h; ++oy) {
                const int inside_y = whole_window(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h,
                                                  p->input_h);
                for (ox = 0; ox < p->output_w; ++ox) {
                    const int32_t pixel = (batch * p->output_h + oy) * p->output_w + ox;
                    store(job, pixel * p->output_c + c, c, window_sum(p, plane, 1, job->filter + c, oy, ox, inside_y));
                }
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
