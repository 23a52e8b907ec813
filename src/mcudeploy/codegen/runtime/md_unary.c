/* mcudeploy kernel library: integer ABS, portable C (see md_unary.h). */
#include "md_fixedpoint.h"
#include "md_unary.h"

void md_abs_int(const md_abs_params *p, const void *input, void *output, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t centred = md_load(input, i, p->dtype) - p->input_offset;
        int32_t value = centred < 0 ? -centred : centred;
        if (p->rescale) {
            value = md_mbqm(value, p->multiplier, p->shift);
        }
        if (p->saturate) {
            md_store_saturated(output, i, p->dtype, (int64_t)value + p->output_offset);
        } else {
            ((int16_t *)output)[i] = (int16_t)(uint16_t)value; /* int16 only: 32768 wraps to -32768 */
        }
    }
}
