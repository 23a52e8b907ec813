/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int16 LOGISTIC and TANH (see md_nn.h).
 *
 * The input is rescaled so that |x| / 2^9 (logistic) or / 2^8 (tanh) indexes a
 * table of sigmoid(i / 24) in Q0.16, interpolated linearly; tanh(x) = 2 sigmoid(2x) - 1.
 */
#include "md_nn_support.h"

/* sigmoid(i / 24) in Q0.16, i = 0 .. 255: the table TFLite's int16 kernels interpolate (its
 * entries are tuned for interpolation, so the values themselves are needed). */
static const uint16_t sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
};

static int32_t rescaled_input(const md_activation_params *p, int32_t value)
{
    const int32_t rounding = p->shift > 0 ? (int32_t)1 << (p->shift - 1) : 0;
    return (value * p->multiplier + rounding) >> p->shift;
}

/* Linear interpolation in the table at |x|, whose low `fraction_bits` bits interpolate. */
static int32_t interpolate(int32_t magnitude, int32_t fraction_bits)
{
    const int32_t segment = md_min_i32(magnitude >> fraction_bits, 254);
    const int32_t low = sigmoid_table[segment];
    const int32_t high = sigmoid_table[segment + 1];
    return (low << fraction_bits) + (magnitude & ((1 << fraction_bits) - 1)) * (high - low);
}

static int32_t logistic(const md_activation_params *p, int32_t value)
{
    const int32_t x = rescaled_input(p, value);
    const int32_t magnitude = x < 0 ? -x : x;
    const int32_t positive = (magnitude >> 9) >= 255 ? 0x7FFF << 10 : interpolate(magnitude, 9);
    return (x >= 0 ? positive + (1 << 9) : (1 << 25) - positive + (1 << 9) - 1) >> 10;
}

static int32_t tanh_s16(const md_activation_params *p, int32_t value)
{
    const int32_t x = rescaled_input(p, value);
    const int32_t magnitude = x < 0 ? -x : x;
    const int32_t positive = (magnitude >> 8) >= 255 ? 0xFFFF << 8 : interpolate(magnitude, 8);
    return (x >= 0 ? positive - (1 << 23) + (1 << 7) : -positive + (1 << 23) + (1 << 7) - 1) >> 8;
}

static void each_element(const md_activation_params *p, const int16_t *input, int16_t *output,
                         int32_t (*function)(const md_activation_params *, int32_t))
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        output[i] = (int16_t)function(p, input[i]);
    }
}

md_status md_logistic_s16(const md_activation_params *p, const int16_t *input, int16_t *output)
{
    each_element(p, input, output, logistic);
    return MD_OK;
}

md_status md_tanh_s16(const md_activation_params *p, const int16_t *input, int16_t *output)
{
    each_element(p, input, output, tanh_s16);
    return MD_OK;
}
