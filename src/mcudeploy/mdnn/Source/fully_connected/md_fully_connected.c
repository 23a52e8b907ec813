/* mcudeploy kernel library: integer FULLY_CONNECTED, portable C (see md_fully_connected.h). */
#include "md_fully_connected_int.h"

void md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output)
{
    md_fully_connected_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output);
}

void md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                            const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    md_fully_connected_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output);
}
