/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer AVERAGE_POOL_2D and MAX_POOL_2D for cores with the DSP extension
 * (see md_nn.h).
 *
 * int8 averages, output pixel by output pixel, 8 (then 4) channels at a time: each tap's word of 4
 * channels is added into two halfword pairs by SXTAB16 (channels {0, 2}, and {1, 3} with the word
 * rotated), 2 instructions for 4 values; in a window of at most MD_POOL_SUM16_TAPS taps a halfword
 * sum cannot overflow. Each sum is then divided, rounded as the portable kernel rounds it, by a
 * multiply with the reciprocal of the window's tap count (pool_divisor). A group of
 * channels is read whole before its outputs are written, so every output (pixel, c) is still written
 * after channel c of its window is read (the memory contract). The channels past the last group of
 * 4 are summed one by one; int16, larger windows and MAX_POOL_2D run the portable kernel.
 */
#include "md_pool_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_pool_dsp);

/* Windows whose int16 sums cannot overflow: 256 values of [-128, 127] stay within [-32768, 32512]. */
#define MD_POOL_SUM16_TAPS 256

/* Where a window's taps lie: `runs` runs of `run` taps, `tap_step` bytes apart within a run,
 * `run_step` bytes between the runs' first taps (a window over whole rows is one run). */
typedef struct {
    int32_t runs, run, tap_step, run_step;
} pool_walk;

static pool_walk window_walk(const md_window_params *p, const md_taps *taps)
{
    pool_walk walk;
    walk.runs = taps->y_last - taps->y_first;
    walk.run = taps->x_last - taps->x_first;
    walk.tap_step = p->dilation_w * p->input_c;
    walk.run_step = p->dilation_h * p->input_w * p->input_c;
    if (walk.run * walk.tap_step == walk.run_step) {
        walk.run *= walk.runs;
        walk.runs = walk.runs > 0;
    }
    return walk;
}

/* Adds the `words` words of 4 channels at `tap` into the pair sums. */
static MD_ALWAYS_INLINE void add_tap(const int8_t *tap, int32_t words, int16x2_t *even0, int16x2_t *odd0,
                                     int16x2_t *even1, int16x2_t *odd1)
{
    const uint32_t low = md_read32(tap);
    *even0 = md_even_pair_add(*even0, low);
    *odd0 = md_odd_pair_add(*odd0, low);
    if (words == 2) {
        const uint32_t high = md_read32(tap + 4);
        *even1 = md_even_pair_add(*even1, high);
        *odd1 = md_odd_pair_add(*odd1, high);
    }
}

/* The halfword-pair sums over the window of the `words` (1 or 2: a compile-time constant) words
 * of 4 channels from `first` (the window's first tap), two taps a loop step: sums[2w] channels
 * {4w, 4w + 2}, sums[2w + 1] channels {4w + 1, 4w + 3}. */
static MD_ALWAYS_INLINE void window_sums(const pool_walk *walk, const int8_t *first, int32_t words,
                                         int16x2_t *sums)
{
    int16x2_t even0 = 0, odd0 = 0, even1 = 0, odd1 = 0;
    const int32_t step = walk->tap_step;
    int32_t r;
    int32_t k;
    for (r = 0; r < walk->runs; ++r, first += walk->run_step) {
        const int8_t *tap = first;
        for (k = 0; k + 2 <= walk->run; k += 2, tap += 2 * step) {
            add_tap(tap, words, &even0, &odd0, &even1, &odd1);
            add_tap(tap + step, words, &even0, &odd0, &even1, &odd1);
        }
        if (k < walk->run) {
            add_tap(tap, words, &even0, &odd0, &even1, &odd1);
        }
    }
    sums[0] = even0;
    sums[1] = odd0;
    sums[2] = even1;
    sums[3] = odd1;
}

/* md_pool_average without a division, for a window's taps inside: with n = |total| + count / 2
 * (below 2^16: at most 256 taps of int8), n / count rounded down is n * ceil(2^31 / count) / 2^31
 * rounded down, as the multiplier's excess (below count) adds less than 1 / count to n / count,
 * whose fraction is at most 1 - 1 / count. No taps (a reciprocal of 0) average to 0. */
typedef struct {
    uint32_t reciprocal; /* ceil(2^31 / count) */
    int32_t half;        /* count / 2 */
    int32_t low, high;   /* the activation */
} pool_divisor;

static pool_divisor pool_divisor_of(const md_window_params *p, int32_t count)
{
    pool_divisor d;
    d.reciprocal = count > 0 ? ((UINT32_C(1) << 31) + (uint32_t)count - 1u) / (uint32_t)count : 0u;
    d.half = count / 2;
    d.low = p->act_min;
    d.high = p->act_max;
    return d;
}

static inline int8_t average_s8(const pool_divisor *d, int32_t total)
{
    const int32_t sign = total >> 31; /* -1 or 0 */
    const uint32_t n = (uint32_t)(((total ^ sign) - sign) + d->half);
    const int32_t quotient = (int32_t)(((uint64_t)n * d->reciprocal) >> 31);
    return (int8_t)md_clamp_i32((quotient ^ sign) - sign, d->low, d->high);
}

/* The averages of `words` words of 4 channels from the pair sums of window_sums. */
static inline void store_averages(const pool_divisor *d, const int16x2_t *sums, int32_t words, int8_t *out)
{
    int32_t w;
    for (w = 0; w < words; ++w) {
        const int32_t even = (int32_t)sums[2 * w], odd = (int32_t)sums[2 * w + 1];
        out[4 * w] = average_s8(d, (int16_t)even);
        out[4 * w + 1] = average_s8(d, (int16_t)odd);
        out[4 * w + 2] = average_s8(d, even >> 16);
        out[4 * w + 3] = average_s8(d, odd >> 16);
    }
}

/* The averages of one output pixel's channels (window taps `taps`, the image at `image`). */
static void average_pixel_s8(const md_window_params *p, const int8_t *image, const md_taps *taps, int8_t *out)
{
    const int32_t channels = p->input_c;
    const pool_divisor divisor = pool_divisor_of(p, (taps->y_last - taps->y_first) * (taps->x_last - taps->x_first));
    const pool_walk walk = window_walk(p, taps);
    const int8_t *first = image + md_taps_pixel(p, taps, taps->y_first, taps->x_first) * channels;
    int16x2_t sums[4];
    int32_t c = 0;
    int32_t r;
    int32_t k;
    for (; c + 8 <= channels; c += 8) {
        window_sums(&walk, first + c, 2, sums);
        store_averages(&divisor, sums, 2, out + c);
    }
    if (c + 4 <= channels) {
        window_sums(&walk, first + c, 1, sums);
        store_averages(&divisor, sums, 1, out + c);
        c += 4;
    }
    for (; c < channels; ++c) {
        const int8_t *run = first + c;
        int32_t total = 0;
        for (r = 0; r < walk.runs; ++r, run += walk.run_step) {
            for (k = 0; k < walk.run; ++k) {
                total += run[k * walk.tap_step];
            }
        }
        out[c] = average_s8(&divisor, total);
    }
}

md_status md_average_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes)
{
    const int8_t *in = (const int8_t *)input;
    int8_t *out = (int8_t *)output;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    if (element_bytes != 1 || p->filter_h * p->filter_w > MD_POOL_SUM16_TAPS) {
        md_pool_portable(p, input, output, element_bytes, average_channel);
        return MD_OK;
    }
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = in + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox, out += p->output_c) {
                const md_taps taps = md_window_taps(p, oy, ox);
                average_pixel_s8(p, image, &taps, out);
            }
        }
    }
    return MD_OK;
}

md_status md_max_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes)
{
    md_pool_portable(p, input, output, element_bytes, max_channel);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
