/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: AVERAGE_POOL_2D and MAX_POOL_2D (int8, int16, float32).
 *
 * Pixel by pixel, channel by channel (md_window_stream): output (pixel, c) is
 * written right after channel c of its window is read. Taps outside the image
 * are skipped: an average divides by the number of taps inside.
 */
#ifndef MD_POOL_H
#define MD_POOL_H

#include "md_window.h"

/* `element_bytes` 1 (int8) or 2 (int16); act_min/act_max of the params clamp the result. */
md_status md_average_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes);
md_status md_max_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes);

md_status md_average_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high,
                              float *output);
md_status md_max_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high,
                          float *output);

#endif /* MD_POOL_H */
