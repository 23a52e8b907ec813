/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TFLite Micro's int16 real FFT and its inverse (KISS FFT's fixed-point arithmetic),
 * portable C (see md_nn.h).
 *
 * A real frame of n samples is read as n/2 complex values, transformed by a mixed-radix
 * decimation in time (radix 4 while it divides, then 2), and split into the n/2 + 1 bins of the
 * real spectrum. Every butterfly first scales its legs down by its radix, every product rounds
 * at bit 15, and every stored value wraps to int16, as KISS FFT's FIXED_POINT=16 build does.
 */
#include "md_nn_support.h"

#define MD_SAMPLE_MAX 32767

/* A product of two Q15 values rounded back to Q15 and stored as int16 (wrapping). */
static int16_t q15_round(int32_t product)
{
    return (int16_t)(uint16_t)(uint32_t)((product + (1 << 14)) >> 15);
}

static int16_t wrap16(int32_t value)
{
    return (int16_t)(uint16_t)(uint32_t)value;
}

/* Both parts divided by the radix (times SAMPLE_MAX / radix, rounded). */
static void scale_down(int16_t *c, int32_t radix)
{
    const int32_t factor = MD_SAMPLE_MAX / radix;
    c[0] = q15_round(c[0] * factor);
    c[1] = q15_round(c[1] * factor);
}

static void multiply(const int16_t *a, const int16_t *b, int16_t *out)
{
    const int32_t real = (int32_t)a[0] * b[0] - (int32_t)a[1] * b[1];
    const int32_t imag = (int32_t)a[0] * b[1] + (int32_t)a[1] * b[0];
    out[0] = q15_round(real);
    out[1] = q15_round(imag);
}

static void butterfly2(int16_t *out, int32_t m, int32_t stride, const int16_t *twiddles)
{
    int32_t k;
    for (k = 0; k < m; ++k) {
        int16_t *a = out + 2 * k, *b = out + 2 * (k + m), t[2];
        scale_down(a, 2);
        scale_down(b, 2);
        multiply(b, twiddles + 2 * k * stride, t);
        b[0] = wrap16(a[0] - t[0]);
        b[1] = wrap16(a[1] - t[1]);
        a[0] = wrap16(a[0] + t[0]);
        a[1] = wrap16(a[1] + t[1]);
    }
}

static void butterfly4(int16_t *out, int32_t m, int32_t stride, const int16_t *twiddles, int32_t inverse)
{
    const int32_t sign = inverse ? -1 : 1; /* the inverse turns the odd legs the other way */
    int32_t k, q;
    for (k = 0; k < m; ++k) {
        int16_t *leg[4], s0[2], s1[2], s2[2], s3[2], s4[2], s5[2];
        for (q = 0; q < 4; ++q) {
            leg[q] = out + 2 * (k + q * m);
            scale_down(leg[q], 4);
        }
        multiply(leg[1], twiddles + 2 * k * stride, s0);
        multiply(leg[2], twiddles + 4 * k * stride, s1);
        multiply(leg[3], twiddles + 6 * k * stride, s2);
        s5[0] = wrap16(leg[0][0] - s1[0]);
        s5[1] = wrap16(leg[0][1] - s1[1]);
        leg[0][0] = wrap16(leg[0][0] + s1[0]);
        leg[0][1] = wrap16(leg[0][1] + s1[1]);
        s3[0] = wrap16(s0[0] + s2[0]);
        s3[1] = wrap16(s0[1] + s2[1]);
        s4[0] = wrap16(s0[0] - s2[0]);
        s4[1] = wrap16(s0[1] - s2[1]);
        leg[2][0] = wrap16(leg[0][0] - s3[0]);
        leg[2][1] = wrap16(leg[0][1] - s3[1]);
        leg[0][0] = wrap16(leg[0][0] + s3[0]);
        leg[0][1] = wrap16(leg[0][1] + s3[1]);
        leg[1][0] = wrap16(s5[0] + sign * s4[1]);
        leg[1][1] = wrap16(s5[1] - sign * s4[0]);
        leg[3][0] = wrap16(s5[0] - sign * s4[1]);
        leg[3][1] = wrap16(s5[1] + sign * s4[0]);
    }
}

/* The n-point complex FFT of in[0], in[stride], ... into out[0..n-1]: the radix sub-transforms
 * of every radix-th value, then the butterflies joining them (recursion depth log4(n) + 1). */
static void transform(int16_t *out, const int16_t *in, int32_t n, int32_t stride, const int16_t *twiddles,
                      int32_t inverse)
{
    const int32_t radix = (n % 4 == 0) ? 4 : 2;
    const int32_t m = n / radix;
    int32_t q;
    for (q = 0; q < radix; ++q) {
        if (m == 1) {
            out[2 * q] = in[2 * q * stride];
            out[2 * q + 1] = in[2 * q * stride + 1];
        } else {
            transform(out + 2 * q * m, in + 2 * q * stride, m, stride * radix, twiddles, inverse);
        }
    }
    if (radix == 4) {
        butterfly4(out, m, stride, twiddles, inverse);
    } else {
        butterfly2(out, m, stride, twiddles);
    }
}

md_status md_signal_rfft_s16(const int16_t *twiddles, const int16_t *super_twiddles, int32_t fft_length,
                             const int16_t *input, int32_t frames, int32_t frame_length, int16_t *scratch,
                             int16_t *output)
{
    const int32_t half = fft_length / 2;
    int16_t *frame = scratch, *packed = scratch + fft_length;
    int32_t f, i, k;
    for (f = 0; f < frames; ++f) {
        int16_t *bins = output + f * 2 * (half + 1);
        int16_t dc[2];
        for (i = 0; i < fft_length; ++i) {
            frame[i] = i < frame_length ? input[f * frame_length + i] : 0;
        }
        transform(packed, frame, half, 1, twiddles, 0);
        dc[0] = packed[0];
        dc[1] = packed[1];
        scale_down(dc, 2);
        bins[0] = wrap16(dc[0] + dc[1]);
        bins[1] = 0;
        bins[2 * half] = wrap16(dc[0] - dc[1]);
        bins[2 * half + 1] = 0;
        for (k = 1; k <= half / 2; ++k) {
            int16_t fpk[2], fpnk[2], sum[2], difference[2], t[2];
            fpk[0] = packed[2 * k];
            fpk[1] = packed[2 * k + 1];
            fpnk[0] = packed[2 * (half - k)];
            fpnk[1] = wrap16(-packed[2 * (half - k) + 1]);
            scale_down(fpk, 2);
            scale_down(fpnk, 2);
            sum[0] = wrap16(fpk[0] + fpnk[0]);
            sum[1] = wrap16(fpk[1] + fpnk[1]);
            difference[0] = wrap16(fpk[0] - fpnk[0]);
            difference[1] = wrap16(fpk[1] - fpnk[1]);
            multiply(difference, super_twiddles + 2 * (k - 1), t);
            bins[2 * k] = (int16_t)((sum[0] + t[0]) >> 1);
            bins[2 * k + 1] = (int16_t)((sum[1] + t[1]) >> 1);
            bins[2 * (half - k)] = (int16_t)((sum[0] - t[0]) >> 1);
            bins[2 * (half - k) + 1] = (int16_t)((t[1] - sum[1]) >> 1);
        }
    }
    return MD_OK;
}

md_status md_signal_irfft_s16(const int16_t *twiddles, const int16_t *super_twiddles, int32_t fft_length,
                              const int16_t *input, int32_t frames, int16_t *scratch, int16_t *output)
{
    const int32_t half = fft_length / 2;
    int32_t f, k;
    for (f = 0; f < frames; ++f) {
        const int16_t *bins = input + f * 2 * (half + 1);
        scratch[0] = wrap16(bins[0] + bins[2 * half]);
        scratch[1] = wrap16(bins[0] - bins[2 * half]);
        scale_down(scratch, 2);
        for (k = 1; k <= half / 2; ++k) {
            int16_t fk[2], fnkc[2], sum[2], difference[2], t[2];
            fk[0] = bins[2 * k];
            fk[1] = bins[2 * k + 1];
            fnkc[0] = bins[2 * (half - k)];
            fnkc[1] = wrap16(-bins[2 * (half - k) + 1]);
            scale_down(fk, 2);
            scale_down(fnkc, 2);
            sum[0] = wrap16(fk[0] + fnkc[0]);
            sum[1] = wrap16(fk[1] + fnkc[1]);
            difference[0] = wrap16(fk[0] - fnkc[0]);
            difference[1] = wrap16(fk[1] - fnkc[1]);
            multiply(difference, super_twiddles + 2 * (k - 1), t);
            scratch[2 * k] = wrap16(sum[0] + t[0]);
            scratch[2 * k + 1] = wrap16(sum[1] + t[1]);
            scratch[2 * (half - k)] = wrap16(sum[0] - t[0]);
            scratch[2 * (half - k) + 1] = wrap16(-(int32_t)wrap16(sum[1] - t[1]));
        }
        transform(output + f * fft_length, scratch, half, 1, twiddles, 1);
    }
    return MD_OK;
}
