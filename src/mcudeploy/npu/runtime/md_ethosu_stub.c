/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in for the Ethos-U driver, for validating the CPU segments of a generated network.
 *
 * It does no NPU arithmetic. Call k writes the job it received to npu_<k>_job.bin (the command
 * stream's size, then for each base address its value and size, as 64-bit words), the segment's
 * inputs as it finds them (what the CPU handed over) to npu_<k>_in_<j>.bin, and fills each of the
 * segment's outputs from npu_<k>_out_<j>.bin: the values the reference engine computed, so the
 * CPU segments after it run on exact inputs.
 */
#include <stdint.h>

#include "mcu_host.h"
#include "md_nn.h"

#define STUB_MAX_CALLS 100
/* More than any segment Vela writes needs; the NPU itself reads the first MD_ETHOSU_MAX_BASES. */
#define STUB_MAX_BASES 64
/* Base addresses 0-2 are the read-only data, the scratch and the fast scratch. */
#define FIRST_FEATURE_MAP 3

static int stub_calls;

/* Appends `value` (0-99) in decimal at name[at]; returns the position after it. */
static int stub_number(char *name, int at, int value)
{
    if (value >= 10) {
        name[at++] = (char)('0' + value / 10);
    }
    name[at++] = (char)('0' + value % 10);
    return at;
}

/* `pattern` with K replaced by the call's number and J by the tensor's. */
static void stub_name(char *name, const char *pattern, int call, int tensor)
{
    int at = 0;
    for (; *pattern != '\0'; pattern++) {
        if (*pattern == 'K') {
            at = stub_number(name, at, call);
        } else if (*pattern == 'J') {
            at = stub_number(name, at, tensor);
        } else {
            name[at++] = *pattern;
        }
    }
    name[at] = '\0';
}

int md_ethosu_invoke(const md_ethosu_job *job)
{
    uint64_t record[1 + 2 * STUB_MAX_BASES];
    char name[24];
    int call = stub_calls++;
    int base;
    if (call >= STUB_MAX_CALLS || job->base_count > STUB_MAX_BASES) {
        return MD_ERROR_NPU;
    }
    record[0] = (uint64_t)job->command_stream_bytes;
    for (base = 0; base < job->base_count; base++) {
        record[1 + 2 * base] = job->base_addresses[base];
        record[2 + 2 * base] = (uint64_t)job->base_bytes[base];
    }
    stub_name(name, "npu_K_job.bin", call, 0);
    if (mcu_host_write_file(name, record, (unsigned)(sizeof record[0] * (1u + 2u * (unsigned)job->base_count))) != 0) {
        return MD_ERROR_NPU;
    }
    for (base = FIRST_FEATURE_MAP; base < job->first_output; base++) {
        stub_name(name, "npu_K_in_J.bin", call, base - FIRST_FEATURE_MAP);
        if (mcu_host_write_file(name, (const void *)(uintptr_t)job->base_addresses[base], (unsigned)job->base_bytes[base])
            != 0) {
            return MD_ERROR_NPU;
        }
    }
    for (base = job->first_output; base < job->base_count; base++) {
        unsigned bytes = (unsigned)job->base_bytes[base];
        stub_name(name, "npu_K_out_J.bin", call, base - job->first_output);
        if (mcu_host_read_file(name, (void *)(uintptr_t)job->base_addresses[base], bytes) != (int)bytes) {
            return MD_ERROR_NPU;
        }
    }
    return MD_OK;
}
