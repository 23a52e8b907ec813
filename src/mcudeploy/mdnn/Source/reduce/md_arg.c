/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: ARG_MAX and ARG_MIN (see md_nn.h). */
#include "md_nn_support.h"

/* One loop per element type; `better(a, b)` is the strict comparison a candidate must win. */
#define MD_ARG_LOOP(type)                                                                          \
    int32_t o;                                                                                     \
    int32_t i;                                                                                     \
    int32_t k;                                                                                     \
    for (o = 0; o < p->outer; ++o) {                                                               \
        const type *row = input + (size_t)o * (size_t)p->axis_size * (size_t)p->inner;             \
        for (i = 0; i < p->inner; ++i) {                                                           \
            type best = row[i];                                                                    \
            int32_t index = 0;                                                                     \
            for (k = 1; k < p->axis_size; ++k) {                                                   \
                const type value = row[(size_t)k * (size_t)p->inner + (size_t)i];                  \
                if (p->maximum ? value > best : value < best) {                                    \
                    best = value;                                                                  \
                    index = k;                                                                     \
                }                                                                                  \
            }                                                                                      \
            *output++ = index;                                                                     \
        }                                                                                          \
    }                                                                                              \
    return MD_OK

md_status md_arg_s8(const md_arg_params *p, const int8_t *input, int32_t *output) { MD_ARG_LOOP(int8_t); }

md_status md_arg_f32(const md_arg_params *p, const float *input, int32_t *output) { MD_ARG_LOOP(float); }
