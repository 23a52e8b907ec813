/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 SVDF (see md_nn.h), with int8 or int16 state, portable C. */
#include "md_svdf_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_svdf_portable);

md_status md_svdf_s8(const md_svdf_params *p, const int8_t *input, const int8_t *features, const void *time_weights,
                     const int32_t *bias, void *state, int state_is16, int8_t *output)
{
    static const md_svdf_kernels portable = {md_svdf_dot_s8_portable, md_svdf_dot2_s8_portable,
                                             md_svdf_dot_s16_portable, md_svdf_move_portable};
    md_svdf_s8_with(p, input, features, time_weights, bias, state, state_is16, output, &portable);
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */
