/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the body of TFLite Micro's real FFT and its inverse (KISS FFT), written once
 * for the three sample types md_signal_fft.c includes it with (see there). Before each inclusion:
 * MD_FFT_SAMPLE (the sample type), MD_FFT_SUFFIX (s16, s32, f32) and the sample operations
 * store/scale_down/multiply/add/sub/neg/half_sum/half_difference/normalise with that suffix.
 *
 * A real frame of n samples is read as n/2 complex values, transformed by a mixed-radix
 * decimation in time (radix 4 while it divides, then 2), and split into the n/2 + 1 bins of the
 * real spectrum.
 */

static void MD_FFT(butterfly2)(MD_FFT_SAMPLE *out, int32_t m, int32_t stride, const MD_FFT_SAMPLE *twiddles)
{
    int32_t k;
    for (k = 0; k < m; ++k) {
        MD_FFT_SAMPLE *a = out + 2 * k, *b = out + 2 * (k + m), t[2];
        MD_FFT(scale_down)(a, 2);
        MD_FFT(scale_down)(b, 2);
        MD_FFT(multiply)(b, twiddles + 2 * k * stride, t);
        b[0] = MD_FFT(sub)(a[0], t[0]);
        b[1] = MD_FFT(sub)(a[1], t[1]);
        a[0] = MD_FFT(add)(a[0], t[0]);
        a[1] = MD_FFT(add)(a[1], t[1]);
    }
}

static void MD_FFT(butterfly4)(MD_FFT_SAMPLE *out, int32_t m, int32_t stride, const MD_FFT_SAMPLE *twiddles,
                               int32_t inverse)
{
    int32_t k, q;
    for (k = 0; k < m; ++k) {
        MD_FFT_SAMPLE *leg[4], s0[2], s1[2], s2[2], s3[2], s4[2], s5[2];
        for (q = 0; q < 4; ++q) {
            leg[q] = out + 2 * (k + q * m);
            MD_FFT(scale_down)(leg[q], 4);
        }
        MD_FFT(multiply)(leg[1], twiddles + 2 * k * stride, s0);
        MD_FFT(multiply)(leg[2], twiddles + 4 * k * stride, s1);
        MD_FFT(multiply)(leg[3], twiddles + 6 * k * stride, s2);
        s5[0] = MD_FFT(sub)(leg[0][0], s1[0]);
        s5[1] = MD_FFT(sub)(leg[0][1], s1[1]);
        leg[0][0] = MD_FFT(add)(leg[0][0], s1[0]);
        leg[0][1] = MD_FFT(add)(leg[0][1], s1[1]);
        s3[0] = MD_FFT(add)(s0[0], s2[0]);
        s3[1] = MD_FFT(add)(s0[1], s2[1]);
        s4[0] = MD_FFT(sub)(s0[0], s2[0]);
        s4[1] = MD_FFT(sub)(s0[1], s2[1]);
        leg[2][0] = MD_FFT(sub)(leg[0][0], s3[0]);
        leg[2][1] = MD_FFT(sub)(leg[0][1], s3[1]);
        leg[0][0] = MD_FFT(add)(leg[0][0], s3[0]);
        leg[0][1] = MD_FFT(add)(leg[0][1], s3[1]);
        if (inverse) { /* the inverse turns the odd legs the other way */
            leg[1][0] = MD_FFT(sub)(s5[0], s4[1]);
            leg[1][1] = MD_FFT(add)(s5[1], s4[0]);
            leg[3][0] = MD_FFT(add)(s5[0], s4[1]);
            leg[3][1] = MD_FFT(sub)(s5[1], s4[0]);
        } else {
            leg[1][0] = MD_FFT(add)(s5[0], s4[1]);
            leg[1][1] = MD_FFT(sub)(s5[1], s4[0]);
            leg[3][0] = MD_FFT(sub)(s5[0], s4[1]);
            leg[3][1] = MD_FFT(add)(s5[1], s4[0]);
        }
    }
}

/* The n-point complex FFT of in[0], in[stride], ... into out[0..n-1]: the radix sub-transforms
 * of every radix-th value, then the butterflies joining them (recursion depth log4(n) + 1). */
static void MD_FFT(transform)(MD_FFT_SAMPLE *out, const MD_FFT_SAMPLE *in, int32_t n, int32_t stride,
                              const MD_FFT_SAMPLE *twiddles, int32_t inverse)
{
    const int32_t radix = (n % 4 == 0) ? 4 : 2;
    const int32_t m = n / radix;
    int32_t q;
    for (q = 0; q < radix; ++q) {
        if (m == 1) {
            out[2 * q] = in[2 * q * stride];
            out[2 * q + 1] = in[2 * q * stride + 1];
        } else {
            MD_FFT(transform)(out + 2 * q * m, in + 2 * q * stride, m, stride * radix, twiddles, inverse);
        }
    }
    if (radix == 4) {
        MD_FFT(butterfly4)(out, m, stride, twiddles, inverse);
    } else {
        MD_FFT(butterfly2)(out, m, stride, twiddles);
    }
}

/* One step of the real split: the halves of bins k and half - k (the latter conjugated), their sum
 * and their difference times the super twiddle, each leg scaled down first. */
static void MD_FFT(split)(const MD_FFT_SAMPLE *bin_k, const MD_FFT_SAMPLE *bin_nk, const MD_FFT_SAMPLE *super_twiddle,
                          MD_FFT_SAMPLE *sum, MD_FFT_SAMPLE *t)
{
    MD_FFT_SAMPLE fk[2], fnkc[2], difference[2];
    fk[0] = bin_k[0];
    fk[1] = bin_k[1];
    fnkc[0] = bin_nk[0];
    fnkc[1] = MD_FFT(neg)(bin_nk[1]);
    MD_FFT(scale_down)(fk, 2);
    MD_FFT(scale_down)(fnkc, 2);
    sum[0] = MD_FFT(add)(fk[0], fnkc[0]);
    sum[1] = MD_FFT(add)(fk[1], fnkc[1]);
    difference[0] = MD_FFT(sub)(fk[0], fnkc[0]);
    difference[1] = MD_FFT(sub)(fk[1], fnkc[1]);
    MD_FFT(multiply)(difference, super_twiddle, t);
}

md_status MD_FFT(md_signal_rfft)(const MD_FFT_SAMPLE *twiddles, const MD_FFT_SAMPLE *super_twiddles,
                                 int32_t fft_length, const MD_FFT_SAMPLE *input, int32_t frames, int32_t frame_length,
                                 MD_FFT_SAMPLE *scratch, MD_FFT_SAMPLE *output)
{
    const int32_t half = fft_length / 2;
    MD_FFT_SAMPLE *frame = scratch, *packed = scratch + fft_length;
    int32_t f, i, k;
    for (f = 0; f < frames; ++f) {
        MD_FFT_SAMPLE *bins = output + f * 2 * (half + 1);
        MD_FFT_SAMPLE dc[2];
        for (i = 0; i < fft_length; ++i) {
            frame[i] = i < frame_length ? input[f * frame_length + i] : 0;
        }
        MD_FFT(transform)(packed, frame, half, 1, twiddles, 0);
        dc[0] = packed[0];
        dc[1] = packed[1];
        MD_FFT(scale_down)(dc, 2);
        bins[0] = MD_FFT(add)(dc[0], dc[1]);
        bins[1] = 0;
        bins[2 * half] = MD_FFT(sub)(dc[0], dc[1]);
        bins[2 * half + 1] = 0;
        for (k = 1; k <= half / 2; ++k) {
            MD_FFT_SAMPLE sum[2], t[2];
            MD_FFT(split)(packed + 2 * k, packed + 2 * (half - k), super_twiddles + 2 * (k - 1), sum, t);
            bins[2 * k] = MD_FFT(half_sum)(sum[0], t[0]);
            bins[2 * k + 1] = MD_FFT(half_sum)(sum[1], t[1]);
            bins[2 * (half - k)] = MD_FFT(half_difference)(sum[0], t[0]);
            bins[2 * (half - k) + 1] = MD_FFT(half_difference)(t[1], sum[1]);
        }
    }
    return MD_OK;
}

md_status MD_FFT(md_signal_irfft)(const MD_FFT_SAMPLE *twiddles, const MD_FFT_SAMPLE *super_twiddles,
                                  int32_t fft_length, const MD_FFT_SAMPLE *input, int32_t frames,
                                  MD_FFT_SAMPLE *scratch, MD_FFT_SAMPLE *output)
{
    const int32_t half = fft_length / 2;
    int32_t f, k;
    for (f = 0; f < frames; ++f) {
        const MD_FFT_SAMPLE *bins = input + f * 2 * (half + 1);
        scratch[0] = MD_FFT(add)(bins[0], bins[2 * half]);
        scratch[1] = MD_FFT(sub)(bins[0], bins[2 * half]);
        MD_FFT(scale_down)(scratch, 2);
        for (k = 1; k <= half / 2; ++k) {
            MD_FFT_SAMPLE sum[2], t[2];
            MD_FFT(split)(bins + 2 * k, bins + 2 * (half - k), super_twiddles + 2 * (k - 1), sum, t);
            scratch[2 * k] = MD_FFT(add)(sum[0], t[0]);
            scratch[2 * k + 1] = MD_FFT(add)(sum[1], t[1]);
            scratch[2 * (half - k)] = MD_FFT(sub)(sum[0], t[0]);
            scratch[2 * (half - k) + 1] = MD_FFT(neg)(MD_FFT(sub)(sum[1], t[1]));
        }
        MD_FFT(transform)(output + f * fft_length, scratch, half, 1, twiddles, 1);
        MD_FFT(normalise)(output + f * fft_length, fft_length);
    }
    return MD_OK;
}
