/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: values picked by index tables or run-time indices (see md_nn.h). */
#include "md_nn_support.h"

#include <string.h>

md_status md_axis_gather(const md_axis_gather_params *p, const int32_t *tables, const void *input, void *output)
{
    const unsigned char *from = (const unsigned char *)input;
    unsigned char *to = (unsigned char *)output;
    const size_t bytes = (size_t)p->element_bytes;
    const int32_t total = md_shape_size(p->shape, p->rank);
    const int32_t *table[MD_MAX_DIMS];
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t partial[MD_MAX_DIMS + 1]; /* partial[d]: the offsets of axes before d summed */
    int32_t i;
    int32_t d;
    table[0] = tables;
    for (d = 1; d < p->rank; ++d) {
        table[d] = table[d - 1] + p->shape[d - 1];
    }
    partial[0] = 0;
    for (d = 0; d < p->rank; ++d) {
        partial[d + 1] = partial[d] + table[d][0];
    }
    for (i = 0; i < total; ++i) {
        memcpy(to + (size_t)i * bytes, from + (size_t)partial[p->rank] * bytes, bytes);
        for (d = p->rank - 1; d >= 0; --d) { /* odometer: next output element */
            if (++index[d] < p->shape[d]) {
                break;
            }
            index[d] = 0;
        }
        if (d < 0) {
            break;
        }
        for (; d < p->rank; ++d) {
            partial[d + 1] = partial[d] + table[d][index[d]];
        }
    }
    return MD_OK;
}

md_status md_space_to_batch(const md_space_to_batch_params *p, const void *input, void *output)
{
    const unsigned char *from = (const unsigned char *)input;
    unsigned char *to = (unsigned char *)output;
    const size_t pixel = (size_t)p->pixel_bytes;
    int32_t b;
    int32_t y;
    int32_t x;
    for (b = 0; b < p->output_batches; ++b) {
        const int32_t n = b % p->batches;
        const int32_t shift = b / p->batches;
        const int32_t dy = shift / p->block_w;
        const int32_t dx = shift % p->block_w;
        for (y = 0; y < p->output_h; ++y) {
            const int32_t row = y * p->block_h + dy - p->pad_top;
            for (x = 0; x < p->output_w; ++x) {
                const int32_t column = x * p->block_w + dx - p->pad_left;
                if (row < 0 || row >= p->input_h || column < 0 || column >= p->input_w) {
                    memset(to, p->pad_byte, pixel);
                } else {
                    memcpy(to, from + ((size_t)(n * p->input_h + row) * (size_t)p->input_w + (size_t)column) * pixel,
                           pixel);
                }
                to += pixel;
            }
        }
    }
    return MD_OK;
}

md_status md_gather(const md_gather_params *p, const void *input, const int32_t *coords, void *output)
{
    const unsigned char *from = (const unsigned char *)input;
    unsigned char *to = (unsigned char *)output;
    const size_t block = (size_t)p->inner * (size_t)p->element_bytes;
    int32_t b;
    int32_t o;
    int32_t k;
    for (k = 0; k < p->batches * p->coords; ++k) {
        if (coords[k] < 0 || coords[k] >= p->axis_size) {
            return MD_ERROR_RANGE;
        }
    }
    for (b = 0; b < p->batches; ++b) {
        for (o = 0; o < p->outer; ++o) {
            const unsigned char *blocks = from + (size_t)(b * p->outer + o) * (size_t)p->axis_size * block;
            for (k = 0; k < p->coords; ++k) {
                memcpy(to, blocks + (size_t)coords[b * p->coords + k] * block, block);
                to += block;
            }
        }
    }
    return MD_OK;
}

md_status md_gather_dequantize_s8(const md_gather_params *p, const int8_t *input, const int32_t *coords, float scale,
                                  float *output)
{
    int32_t k;
    int32_t j;
    for (k = 0; k < p->coords; ++k) {
        if (coords[k] < 0 || coords[k] >= p->axis_size) {
            return MD_ERROR_RANGE;
        }
    }
    for (k = 0; k < p->coords; ++k) {
        const int8_t *row = input + (size_t)coords[k] * (size_t)p->inner;
        for (j = 0; j < p->inner; ++j) {
            *output++ = (float)row[j] * scale;
        }
    }
    return MD_OK;
}

static int64_t slice_start(const md_gather_nd_params *p, const int32_t *index)
{
    int64_t start = 0;
    int32_t j;
    for (j = 0; j < p->index_length; ++j) {
        start += (int64_t)index[j] * p->strides[j];
    }
    return start;
}

md_status md_gather_nd(const md_gather_nd_params *p, const void *input, const int32_t *indices, void *output)
{
    const size_t bytes = (size_t)p->slice_size * (size_t)p->element_bytes;
    int32_t i;
    for (i = 0; i < p->slices; ++i) {
        const int64_t start = slice_start(p, indices + (size_t)i * (size_t)p->index_length);
        if (start < 0 || start + p->slice_size > p->total) {
            return MD_ERROR_RANGE;
        }
    }
    for (i = 0; i < p->slices; ++i) {
        const int64_t start = slice_start(p, indices + (size_t)i * (size_t)p->index_length);
        memcpy((unsigned char *)output + (size_t)i * bytes,
               (const unsigned char *)input + (size_t)start * (size_t)p->element_bytes, bytes);
    }
    return MD_OK;
}

md_status md_dynamic_update_slice(const md_update_slice_params *p, const void *operand, const void *update,
                                  const void *starts, void *output)
{
    const size_t bytes = (size_t)p->element_bytes;
    const int32_t last = p->rank - 1;
    const size_t row_bytes = (size_t)p->update_shape[last] * bytes;
    const int32_t rows = md_shape_size(p->update_shape, last);
    int32_t start[MD_MAX_DIMS];
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t r;
    int32_t d;
    if (operand != output) {
        memcpy(output, operand, (size_t)md_shape_size(p->shape, p->rank) * bytes);
    }
    for (d = 0; d < p->rank; ++d) {
        const int64_t wanted = p->index_bytes == 8 ? ((const int64_t *)starts)[d] : ((const int32_t *)starts)[d];
        const int64_t highest = (int64_t)p->shape[d] - p->update_shape[d];
        start[d] = (int32_t)(wanted < 0 ? 0 : (wanted > highest ? highest : wanted));
    }
    for (r = 0; r < rows; ++r) { /* each update row to its place in the output */
        int32_t target = 0;
        for (d = 0; d < p->rank; ++d) {
            target = target * p->shape[d] + start[d] + (d < last ? index[d] : 0);
        }
        memcpy((unsigned char *)output + (size_t)target * bytes, (const unsigned char *)update + (size_t)r * row_bytes,
               row_bytes);
        for (d = last - 1; d >= 0; --d) {
            if (++index[d] < p->update_shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
    return MD_OK;
}

/* Dimension `back` from the end of a shape, as a 32-bit int; 1 before its first. */
static int32_t dimension(const void *shape, int32_t length, int32_t back, int32_t element_bytes)
{
    const int32_t at = length - 1 - back;
    if (at < 0) {
        return 1;
    }
    return element_bytes == 8 ? (int32_t)((const int64_t *)shape)[at] : ((const int32_t *)shape)[at];
}

md_status md_broadcast_args(const void *first, int32_t first_length, const void *second, int32_t second_length,
                            void *output, int32_t output_length, int32_t element_bytes)
{
    int32_t back;
    for (back = 0; back < output_length; ++back) {
        const int32_t a = dimension(first, first_length, back, element_bytes);
        const int32_t b = dimension(second, second_length, back, element_bytes);
        const int32_t value = a == 1 ? b : a;
        const int32_t at = output_length - 1 - back;
        if (a != 1 && b != 1 && a != b) {
            return MD_ERROR_RANGE;
        }
        if (element_bytes == 8) {
            ((int64_t *)output)[at] = value;
        } else {
            ((int32_t *)output)[at] = value;
        }
    }
    return MD_OK;
}
