/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TFLite Micro's audio front end without the FFT (window, auto scale,
 * energy, filter bank, square root, spectral subtraction, log, PCAN), portable C (see md_nn.h). */
#include "md_nn_support.h"

#define MD_LOG_SEGMENTS_LOG2 7
#define MD_LOG_SCALE_LOG2 16
#define MD_LOG_COEFF 45426u /* ln(2) in Q16 */
#define MD_PCAN_SNR_BITS 12
#define MD_PCAN_OUTPUT_BITS 6

/* Bits needed to write x; 32 for 0, as TFLite Micro's __builtin_clz-based helper gives. */
static uint32_t msb32(uint32_t x)
{
    return x ? 32u - (uint32_t)md_count_leading_zeros(x) : 32u;
}

md_status md_signal_window(const int16_t *input, const int16_t *weights, int32_t weight_count, int32_t count,
                           int32_t shift, int16_t *output)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t product = ((int32_t)input[i] * weights[i % weight_count]) >> shift;
        output[i] = (int16_t)(product < INT16_MIN ? INT16_MIN : product > INT16_MAX ? INT16_MAX : product);
    }
    return MD_OK;
}

md_status md_signal_fft_auto_scale(const int16_t *input, int32_t count, int16_t *output, int32_t *scale_bits)
{
    /* A running int16 maximum of magnitudes: the magnitude of -32768 wraps to -32768 (then any
     * later sample replaces it), as TFLite Micro's MaxAbs16 keeps it. */
    int16_t largest = 0;
    int32_t shift, i;
    for (i = 0; i < count; ++i) {
        if (input[i] > largest) {
            largest = input[i];
        } else if (-(int32_t)input[i] > largest) {
            largest = (int16_t)(uint16_t)(-(int32_t)input[i]);
        }
    }
    shift = 16 - (int32_t)msb32((uint32_t)(int32_t)largest) - 1;
    if (shift < 0) {
        shift = 0;
    }
    for (i = 0; i < count; ++i) {
        output[i] = (int16_t)(uint16_t)((uint32_t)(int32_t)input[i] << shift);
    }
    *scale_bits = shift;
    return MD_OK;
}

md_status md_signal_energy(const int16_t *input, int32_t count, int32_t start, int32_t end, uint32_t *output)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t real = input[2 * i], imag = input[2 * i + 1];
        output[i] = (i >= start && i < end) ? (uint32_t)(real * real) + (uint32_t)(imag * imag) : 0u;
    }
    return MD_OK;
}

md_status md_signal_filter_bank(int32_t num_channels, const uint32_t *input, const int16_t *weights,
                                const int16_t *unweights, const int16_t *frequency_starts,
                                const int16_t *weight_starts, const int16_t *widths, uint64_t *output)
{
    /* Channel i: its bins times the rising weights plus channel i-1's bins times the falling
     * "unweights", carried over. Negative weights convert to uint64 (wrapping) as in TFLM. */
    uint64_t carried = 0;
    int32_t channel, j;
    for (channel = 0; channel <= num_channels; ++channel) {
        uint64_t weighted = carried, unweighted = 0;
        const uint32_t *bins = input + frequency_starts[channel];
        const int16_t *w = weights + weight_starts[channel];
        const int16_t *u = unweights + weight_starts[channel];
        for (j = 0; j < widths[channel]; ++j) {
            weighted += (uint64_t)(int64_t)w[j] * bins[j];
            unweighted += (uint64_t)(int64_t)u[j] * bins[j];
        }
        if (channel > 0) {
            output[channel - 1] = weighted;
        }
        carried = unweighted;
    }
    return MD_OK;
}

/* The integer square root, plus one when the remainder exceeds the root (round to nearest), except
 * at `largest` (the root type's maximum). */
static uint32_t rounded_sqrt(uint64_t value, uint64_t largest)
{
    uint64_t root = 0, bit = (uint64_t)1 << 62;
    while (bit > value) {
        bit >>= 2;
    }
    while (bit) {
        if (value >= root + bit) {
            value -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    if (value > root && root != largest) {
        ++root;
    }
    return (uint32_t)root;
}

md_status md_signal_filter_bank_sqrt(const uint64_t *input, int32_t count, const int32_t *scale_bits,
                                     uint32_t *output)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const uint64_t largest = (input[i] >> 32) ? 0xFFFFFFFFu : 0xFFFFu;
        output[i] = rounded_sqrt(input[i], largest) >> *scale_bits;
    }
    return MD_OK;
}

md_status md_signal_spectral_subtraction(const md_signal_spectral_subtraction_params *p, const uint32_t *input,
                                         uint32_t *noise, uint32_t *output, uint32_t *noise_output)
{
    int32_t i;
    for (i = 0; i < p->num_channels; ++i) {
        const uint32_t smoothing = (i & 1) ? p->alternate_smoothing : p->smoothing;
        const uint32_t keep = (i & 1) ? p->alternate_one_minus_smoothing : p->one_minus_smoothing;
        const uint32_t scaled = input[i] << p->smoothing_bits;
        uint32_t estimate, floor, subtracted;
        noise[i] = (uint32_t)(((uint64_t)scaled * smoothing + (uint64_t)noise[i] * keep) >> p->spectral_subtraction_bits);
        estimate = noise[i];
        if (estimate > scaled) {
            estimate = scaled;
            if (p->clamping) {
                noise[i] = estimate;
            }
        }
        floor = (uint32_t)(((uint64_t)input[i] * p->min_signal_remaining) >> p->spectral_subtraction_bits);
        subtracted = (scaled - estimate) >> p->smoothing_bits;
        output[i] = subtracted > floor ? subtracted : floor;
        noise_output[i] = noise[i];
    }
    return MD_OK;
}

/* ln(x) * out_scale / 2^16 for x > 1: the integer part of log2 and its fraction corrected by
 * linear interpolation in the table, times ln(2), rounded. */
static uint32_t log_scaled(uint32_t x, uint32_t out_scale, const uint16_t *table)
{
    const uint32_t integer = msb32(x) - 1;
    const uint32_t segment_bits = MD_LOG_SCALE_LOG2 - MD_LOG_SEGMENTS_LOG2;
    const uint32_t round = 1u << (MD_LOG_SCALE_LOG2 - 1);
    int32_t fraction = (int32_t)(x - (1u << integer));
    int32_t low, high, relative;
    uint32_t segment, log2, loge;
    if (integer < MD_LOG_SCALE_LOG2) {
        fraction <<= MD_LOG_SCALE_LOG2 - integer;
    } else {
        fraction >>= integer - MD_LOG_SCALE_LOG2;
    }
    segment = (uint32_t)fraction >> segment_bits;
    low = table[segment];
    high = table[segment + 1];
    relative = ((high - low) * (fraction - (int32_t)(segment << segment_bits))) >> MD_LOG_SCALE_LOG2;
    log2 = (integer << MD_LOG_SCALE_LOG2) + (uint32_t)(fraction + low + relative);
    loge = (uint32_t)(((uint64_t)MD_LOG_COEFF * log2 + round) >> MD_LOG_SCALE_LOG2);
    return (out_scale * loge + round) >> MD_LOG_SCALE_LOG2;
}

md_status md_signal_filter_bank_log(const uint32_t *input, int32_t count, uint32_t output_scale,
                                    int32_t correction_bits, const uint16_t *log_table, int16_t *output)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const uint32_t scaled = input[i] << correction_bits;
        uint32_t value = 0;
        if (scaled > 1) {
            value = log_scaled(scaled, output_scale, log_table);
            value = value < (uint32_t)INT16_MAX ? value : (uint32_t)INT16_MAX;
        }
        output[i] = (int16_t)value;
    }
    return MD_OK;
}

/* The gain for noise estimate x: per power of two of x, a quadratic in the next ten bits. */
static int16_t wide_dynamic_gain(uint32_t x, const int16_t *lut)
{
    int32_t interval, fraction, result;
    if (x <= 2) {
        return lut[x];
    }
    interval = (int32_t)msb32(x);
    lut += 4 * interval - 6;
    fraction = (int32_t)(((interval < 11) ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FF);
    result = ((int32_t)lut[2] * fraction) >> 5;
    result = (int32_t)((uint32_t)result + ((uint32_t)(int32_t)lut[1] << 5));
    result = (int32_t)((uint32_t)result * (uint32_t)fraction);
    result = (int32_t)((uint32_t)result + (1u << 14)) >> 15;
    return (int16_t)(uint16_t)(uint32_t)(result + lut[0]);
}

md_status md_signal_pcan(const uint32_t *input, const uint32_t *noise, const int16_t *gain_lut, int32_t count,
                         int32_t snr_shift, uint32_t *output)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const uint32_t gain = (uint32_t)(int32_t)wide_dynamic_gain(noise[i], gain_lut);
        const uint32_t snr = (uint32_t)(((uint64_t)input[i] * gain) >> snr_shift);
        if (snr < (2u << MD_PCAN_SNR_BITS)) {
            output[i] = (snr * snr) >> (2 + 2 * MD_PCAN_SNR_BITS - MD_PCAN_OUTPUT_BITS);
        } else {
            output[i] = (snr >> (MD_PCAN_SNR_BITS - MD_PCAN_OUTPUT_BITS)) - (1u << MD_PCAN_OUTPUT_BITS);
        }
    }
    return MD_OK;
}
