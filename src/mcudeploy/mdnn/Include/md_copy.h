/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: operators that move values without arithmetic, on any element type:
 * TRANSPOSE and STRIDED_SLICE (strided copy), CONCATENATION and PACK, SPLIT, SPLIT_V and
 * UNPACK, PAD and PADV2, RESIZE_NEAREST_NEIGHBOR, FILL, and copies (a reshape of a constant, SHAPE).
 * None of them declares an overlap: the output never shares bytes with an input.
 */
#ifndef MD_COPY_H
#define MD_COPY_H

#include "md_common.h"

/* Output element (i0, ..., i(rank-1)), row-major, is input element start + sum(i_d * strides[d]). */
typedef struct {
    int32_t rank;
    int32_t shape[MD_MAX_DIMS];   /* output shape */
    int32_t strides[MD_MAX_DIMS]; /* input element strides, negative for a reversed slice */
    int32_t start;
    int32_t element_bytes;
} md_strided_copy_params;

md_status md_strided_copy(const md_strided_copy_params *p, const void *input, void *output);

/* For each of `outer` blocks, piece i of `piece_bytes[i]` bytes of each input in turn. */
md_status md_concatenate(int32_t count, const void *const *inputs, const int32_t *piece_bytes, int32_t outer,
                         void *output);
md_status md_split(int32_t count, const void *input, void *const *outputs, const int32_t *piece_bytes, int32_t outer);

typedef struct {
    int32_t rank;
    int32_t input_shape[MD_MAX_DIMS];
    int32_t output_shape[MD_MAX_DIMS];
    int32_t before[MD_MAX_DIMS]; /* padding before each dimension, in elements */
    int32_t element_bytes;
    uint8_t value[8]; /* the pad value's bytes */
} md_pad_params;

md_status md_pad(const md_pad_params *p, const void *input, void *output);

/* NHWC nearest-neighbour resize: output (n, y, x, c) = input (n, rows[y], columns[x], c). */
typedef struct {
    int32_t batches, input_h, input_w, channels, output_h, output_w, element_bytes;
} md_resize_params;

md_status md_resize_nearest(const md_resize_params *p, const int32_t *rows, const int32_t *columns, const void *input,
                            void *output);

md_status md_copy(const void *input, void *output, int32_t bytes);

/* FILL: `count` copies of the `element_bytes` bytes at `value`. */
md_status md_fill(const void *value, void *output, int32_t count, int32_t element_bytes);

#endif /* MD_COPY_H */
