/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: value movement (see md_nn.h). */
#include "md_nn_support.h"

#include <string.h>

md_status md_copy(const void *input, void *output, int32_t bytes)
{
    memcpy(output, input, (size_t)bytes);
    return MD_OK;
}

md_status md_fill(const void *value, void *output, int32_t count, int32_t element_bytes)
{
    unsigned char *to = (unsigned char *)output;
    int32_t i;
    for (i = 0; i < count; ++i) {
        memcpy(to + (size_t)i * (size_t)element_bytes, value, (size_t)element_bytes);
    }
    return MD_OK;
}

md_status md_strided_copy(const md_strided_copy_params *p, const void *input, void *output)
{
    const unsigned char *from = (const unsigned char *)input;
    unsigned char *to = (unsigned char *)output;
    const int32_t total = md_shape_size(p->shape, p->rank);
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t source = p->start;
    int32_t i;
    int32_t d;
    for (i = 0; i < total; ++i) {
        memcpy(to + (size_t)i * (size_t)p->element_bytes, from + (ptrdiff_t)source * p->element_bytes,
               (size_t)p->element_bytes);
        for (d = p->rank - 1; d >= 0; --d) { /* odometer: next output element */
            source += p->strides[d];
            if (++index[d] < p->shape[d]) {
                break;
            }
            source -= index[d] * p->strides[d];
            index[d] = 0;
        }
    }
    return MD_OK;
}

md_status md_concatenate(int32_t count, const void *const *inputs, const int32_t *piece_bytes, int32_t outer,
                         void *output)
{
    unsigned char *to = (unsigned char *)output;
    int32_t block;
    int32_t i;
    for (block = 0; block < outer; ++block) {
        for (i = 0; i < count; ++i) {
            memcpy(to, (const unsigned char *)inputs[i] + (size_t)block * (size_t)piece_bytes[i],
                   (size_t)piece_bytes[i]);
            to += piece_bytes[i];
        }
    }
    return MD_OK;
}

md_status md_split(int32_t count, const void *input, void *const *outputs, const int32_t *piece_bytes, int32_t outer)
{
    const unsigned char *from = (const unsigned char *)input;
    int32_t block;
    int32_t i;
    for (block = 0; block < outer; ++block) {
        for (i = 0; i < count; ++i) {
            memcpy((unsigned char *)outputs[i] + (size_t)block * (size_t)piece_bytes[i], from,
                   (size_t)piece_bytes[i]);
            from += piece_bytes[i];
        }
    }
    return MD_OK;
}

static void fill(unsigned char *to, int32_t elements, const md_pad_params *p)
{
    int32_t i;
    for (i = 0; i < elements; ++i) {
        memcpy(to + (size_t)i * (size_t)p->element_bytes, p->value, (size_t)p->element_bytes);
    }
}

md_status md_pad(const md_pad_params *p, const void *input, void *output)
{
    const int32_t last = p->rank - 1;
    const size_t row_bytes = (size_t)p->input_shape[last] * (size_t)p->element_bytes;
    const int32_t rows = md_shape_size(p->input_shape, last);
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t r;
    int32_t d;
    fill((unsigned char *)output, md_shape_size(p->output_shape, p->rank), p);
    for (r = 0; r < rows; ++r) { /* each input row to its place in the output */
        int32_t target = 0;
        for (d = 0; d < p->rank; ++d) {
            target = target * p->output_shape[d] + (d < last ? index[d] : 0) + p->before[d];
        }
        memcpy((unsigned char *)output + (size_t)target * (size_t)p->element_bytes,
               (const unsigned char *)input + (size_t)r * row_bytes, row_bytes);
        for (d = last - 1; d >= 0; --d) {
            if (++index[d] < p->input_shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
    return MD_OK;
}

md_status md_resize_nearest(const md_resize_params *p, const int32_t *rows, const int32_t *columns, const void *input,
                            void *output)
{
    const size_t pixel_bytes = (size_t)p->channels * (size_t)p->element_bytes;
    unsigned char *to = (unsigned char *)output;
    int32_t n;
    int32_t y;
    int32_t x;
    for (n = 0; n < p->batches; ++n) {
        for (y = 0; y < p->output_h; ++y) {
            for (x = 0; x < p->output_w; ++x) {
                const int32_t pixel = (n * p->input_h + rows[y]) * p->input_w + columns[x];
                memcpy(to, (const unsigned char *)input + (size_t)pixel * pixel_bytes, pixel_bytes);
                to += pixel_bytes;
            }
        }
    }
    return MD_OK;
}

/* A nibble as a signed value: 0..7 stay, 8..15 are -8..-1. */
static int8_t md_s4_value(uint32_t nibble)
{
    return (int8_t)((int32_t)(nibble ^ 8u) - 8);
}

void md_unpack_s4(const int8_t *packed, int32_t first, int32_t count, int8_t *output)
{
    const uint8_t *byte = (const uint8_t *)packed + (first >> 1);
    int32_t i = 0;
    if ((first & 1) && count > 0) { /* the block starts in a high nibble */
        output[i++] = md_s4_value((uint32_t)*byte++ >> 4);
    }
    for (; i + 1 < count; i += 2, ++byte) {
        output[i] = md_s4_value(*byte & 15u);
        output[i + 1] = md_s4_value((uint32_t)*byte >> 4);
    }
    if (i < count) {
        output[i] = md_s4_value(*byte & 15u);
    }
}
