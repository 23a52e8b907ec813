/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TFLite Micro's TFLM_DECODE (constant tensors stored compressed: LUT,
 * Huffman or pruning), portable C (see md_nn.h). mcudeploy decodes every pair once when it generates
 * the code and refuses what would read outside the tensors; the kernel trusts its parameters. */
#include <string.h>

#include "md_nn_support.h"

/* The channel of element k: along the last axis k % channels, along the first k / (count / channels). */
static int32_t md_decode_channel(const md_decode_params *p, int32_t k)
{
    return p->alternate_axis ? k % p->channels : k / (p->count / p->channels);
}

/* The `width`-bit field at bit `position` of a big-endian bit string of `bytes` bytes (bits past its
 * end read as 0: Huffman decoding looks ahead, then puts the bits back). */
static uint32_t md_decode_bits(const uint8_t *data, int32_t bytes, int32_t position, int32_t width)
{
    uint32_t value = 0;
    int32_t bit;
    for (bit = position; bit < position + width; ++bit) {
        const uint32_t byte = bit / 8 < bytes ? data[bit / 8] : 0u;
        value = value << 1 | ((byte >> (7 - bit % 8)) & 1u);
    }
    return value;
}

static void md_decode_lut(const md_decode_params *p, const uint8_t *encoded, const uint8_t *tables, uint8_t *output)
{
    const size_t size = (size_t)p->element_bytes;
    int32_t k;
    for (k = 0; k < p->count; ++k) {
        const uint32_t index = md_decode_bits(encoded, p->encoded_bytes, k * p->bit_width, p->bit_width);
        const size_t entry = (size_t)md_decode_channel(p, k) * (size_t)p->table_stride + index;
        memcpy(output + (size_t)k * size, tables + entry * size, size);
    }
}

static void md_decode_pruned(const md_decode_params *p, const uint8_t *encoded, const uint8_t *values,
                             const int8_t *zero_points, uint8_t *output)
{
    const size_t size = (size_t)p->element_bytes;
    int32_t k;
    for (k = 0; k < p->count; ++k) {
        uint8_t *element = output + (size_t)k * size;
        if ((encoded[k / 8] >> (7 - k % 8)) & 1u) {
            memcpy(element, values, size);
            values += size;
        } else {
            memset(element, 0, size);
            if (zero_points != NULL) { /* int8 only */
                *element = (uint8_t)zero_points[md_decode_channel(p, k)];
            }
        }
    }
}

/* A table entry: bit 15 (31) marks a symbol; bits 11-14 (27-30) count bits; the low 11 (27) bits are
 * the symbol or the next table's offset. */
static uint32_t md_huffman_entry(const md_decode_params *p, const uint8_t *tables, uint32_t offset)
{
    if (p->huffman_32bit) {
        uint32_t entry;
        memcpy(&entry, tables + 4 * (size_t)offset, 4);
        return entry;
    } else {
        uint16_t entry;
        memcpy(&entry, tables + 2 * (size_t)offset, 2);
        /* the 32-bit layout: found bit 31, count bits 27-30, value below */
        return ((uint32_t)(entry & 0x8000u) << 16) | ((uint32_t)(entry & 0x7800u) << 16) | (entry & 0x07FFu);
    }
}

static void md_decode_huffman(const md_decode_params *p, const uint8_t *encoded, const uint8_t *tables,
                              uint8_t *output)
{
    int32_t position = 0;
    int32_t k;
    for (k = 0; k < p->count; ++k) {
        int32_t used = p->initial_bits;
        uint32_t offset = md_decode_bits(encoded, p->encoded_bytes, position, used);
        uint32_t entry = md_huffman_entry(p, tables, offset);
        int32_t residual;
        position += used;
        while (!(entry & 0x80000000u)) {
            used = (int32_t)((entry >> 27) & 0x0Fu) + 1;
            offset += (entry & 0x07FFFFFFu) + md_decode_bits(encoded, p->encoded_bytes, position, used);
            position += used;
            entry = md_huffman_entry(p, tables, offset);
        }
        if (p->element_bytes == 1) {
            output[k] = (uint8_t)entry;
        } else {
            const uint16_t value = (uint16_t)entry;
            memcpy(output + 2 * (size_t)k, &value, 2);
        }
        residual = (int32_t)((entry >> 27) & 0x0Fu);
        if (used > residual) {
            position -= used - residual;
        }
    }
}

md_status md_decode(const md_decode_params *p, const uint8_t *encoded, const uint8_t *ancillary,
                    const int8_t *zero_points, void *output)
{
    const uint8_t *tables = ancillary + MD_DECODE_HEADER_BYTES;
    if (p->kind == MD_DECODE_LUT) {
        md_decode_lut(p, encoded, tables, (uint8_t *)output);
    } else if (p->kind == MD_DECODE_PRUNING) {
        md_decode_pruned(p, encoded, tables, zero_points, (uint8_t *)output);
    } else {
        md_decode_huffman(p, encoded, tables, (uint8_t *)output);
    }
    return MD_OK;
}
