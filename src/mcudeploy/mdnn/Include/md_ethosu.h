/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the hand-over of one NPU segment to an Arm Ethos-U.
 *
 * The generated network does not drive the NPU itself: each `ethos-u` layer fills an
 * md_ethosu_job and calls md_ethosu_invoke(), which the application provides. On hardware
 * it wraps the Ethos-U driver (e.g. Arm's ethos-u-core-driver):
 *
 *     int md_ethosu_invoke(const md_ethosu_job *job)
 *     {
 *         int count = job->base_count < MD_ETHOSU_MAX_BASES ? job->base_count : MD_ETHOSU_MAX_BASES;
 *         return ethosu_invoke_v3(driver, job->command_stream, (int)job->command_stream_bytes,
 *                                 job->base_addresses, job->base_bytes, count, NULL)
 *             == 0 ? MD_OK : MD_ERROR_NPU;
 *     }
 *
 * The base addresses follow Vela's convention (as TensorFlow Lite Micro passes them): the
 * read-only data (encoded weights), the scratch (the arena Vela planned: the segment's feature
 * maps live in it at the offsets Vela chose), the fast scratch, then the segment's inputs and
 * outputs. The job lists them all, however many inputs and outputs the segment has; the NPU has
 * MD_ETHOSU_MAX_BASES base pointer registers, and Vela puts every base its command stream uses
 * among the first of them, so the driver is given at most that many (TensorFlow Lite Micro does
 * the same). The command stream and the read-only data must stay 16-byte aligned.
 */
#ifndef MD_ETHOSU_H
#define MD_ETHOSU_H

#include <stddef.h>
#include <stdint.h>

#include "md_common.h"

/* The NPU reported a failure. */
#define MD_ERROR_NPU (-4)

/* The Ethos-U55/U65/U85's base pointer registers (BASEP0-7). */
#define MD_ETHOSU_MAX_BASES 8

typedef struct {
    const uint8_t *command_stream;
    size_t command_stream_bytes;
    /* base_count addresses and sizes in Vela's order. */
    const uint64_t *base_addresses;
    const size_t *base_bytes;
    int base_count;
    /* Index in base_addresses of the segment's first output (those after it are outputs too). */
    int first_output;
} md_ethosu_job;

/* Runs one NPU segment to completion; MD_OK on success. Provided by the application. */
int md_ethosu_invoke(const md_ethosu_job *job);

#endif /* MD_ETHOSU_H */
