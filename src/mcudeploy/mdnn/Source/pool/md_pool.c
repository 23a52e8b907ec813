/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer pooling, portable C (see md_nn.h). */
#include "md_pool_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_pool_portable);

md_status md_average_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes)
{
    md_pool_portable(p, input, output, element_bytes, average_channel);
    return MD_OK;
}

md_status md_max_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes)
{
    md_pool_portable(p, input, output, element_bytes, max_channel);
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */
