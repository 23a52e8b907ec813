/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: loop orders of the channel-wise window kernels (see md_nn_support.h). */
#include "md_nn_support.h"

void md_window_stream(const md_window_params *p, void *job, md_channel_fn compute, const void *input)
{
    const int32_t multiplier = p->output_c / p->input_c;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        const int32_t base = batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t pixel = (batch * p->output_h + oy) * p->output_w + ox;
                for (c = 0; c < p->input_c; ++c) {
                    compute(job, input, base + c, p->input_c, oy, ox, c, pixel * p->output_c + c * multiplier);
                }
            }
        }
    }
}

static void copy_plane(const md_window_params *p, const unsigned char *input, int32_t batch, int32_t channel,
                       int32_t element_bytes, unsigned char *plane)
{
    const int32_t pixels = p->input_h * p->input_w;
    int32_t i;
    int32_t b;
    for (i = 0; i < pixels; ++i) {
        const unsigned char *from = input + ((batch * pixels + i) * p->input_c + channel) * element_bytes;
        for (b = 0; b < element_bytes; ++b) {
            plane[i * element_bytes + b] = from[b];
        }
    }
}

void md_window_planes(const md_window_params *p, void *job, md_channel_fn compute, const void *input,
                      int32_t element_bytes, void *scratch)
{
    int32_t batch;
    int32_t c;
    int32_t oy;
    int32_t ox;
    for (batch = 0; batch < p->batches; ++batch) {
        for (c = 0; c < p->input_c; ++c) {
            copy_plane(p, (const unsigned char *)input, batch, c, element_bytes, (unsigned char *)scratch);
            for (oy = 0; oy < p->output_h; ++oy) {
                for (ox = 0; ox < p->output_w; ++ox) {
                    const int32_t pixel = (batch * p->output_h + oy) * p->output_w + ox;
                    compute(job, scratch, 0, 1, oy, ox, c, pixel * p->output_c + c);
                }
            }
        }
    }
}
