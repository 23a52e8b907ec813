/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: MAXIMUM, MINIMUM, the comparisons, LOGICAL_AND/OR/NOT and SELECT_V2
 * with broadcasting (int8, int16, int32, float32 values; bool as uint8_t 0 or 1).
 *
 * One pass in output element order, as md_elementwise.h: an input of the output's shape and
 * element size may share the output's bytes.
 */
#ifndef MD_COMPARE_H
#define MD_COMPARE_H

#include "md_elementwise.h"

typedef enum {
    MD_CMP_EQUAL = 0,
    MD_CMP_NOT_EQUAL = 1,
    MD_CMP_LESS = 2,
    MD_CMP_LESS_EQUAL = 3,
    MD_CMP_GREATER = 4,
    MD_CMP_GREATER_EQUAL = 5,
    MD_CMP_MAXIMUM = 6, /* a > b ? a : b, in the inputs' type */
    MD_CMP_MINIMUM = 7, /* a < b ? a : b */
    MD_CMP_LOGICAL_AND = 8,
    MD_CMP_LOGICAL_OR = 9
} md_compare_op;

typedef struct {
    md_compare_op op;
    md_dtype dtype;         /* of the inputs: MD_INT8, MD_UINT8 (bool), MD_INT16, MD_INT32 or MD_FLOAT32 */
    int32_t input1_offset;  /* int8 comparisons: -zero points, ... */
    int32_t input2_offset;
    int32_t left_shift;     /* ... 8, each input's scale; 0 elsewhere: raw values compared */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
} md_compare_params;

/* Comparisons write 0 or 1 (uint8_t); MAXIMUM and MINIMUM the inputs' type. */
md_status md_compare(const md_compare_params *p, const md_broadcast *shape, const void *input1,
                     const void *input2, void *output);

/* LOGICAL_NOT of `count` bools. */
md_status md_logical_not(const uint8_t *input, uint8_t *output, int32_t count);

typedef struct {
    int32_t rank; /* 1 .. MD_MAX_DIMS */
    int32_t shape[MD_MAX_DIMS];
    int32_t strides1[MD_MAX_DIMS]; /* condition */
    int32_t strides2[MD_MAX_DIMS]; /* x */
    int32_t strides3[MD_MAX_DIMS]; /* y */
} md_broadcast3;

/* SELECT_V2: output = condition ? x : y, elements of `element_size` bytes (1, 2 or 4). */
md_status md_select(const md_broadcast3 *shape, int32_t element_size, const uint8_t *condition, const void *x,
                    const void *y, void *output);

#endif /* MD_COMPARE_H */
