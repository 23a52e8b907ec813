/* SPDX-License-Identifier: Apache-2.0 */
/* mdnn unit tests: a check that reports where it failed, and a deterministic value source. */
#ifndef MD_TEST_H
#define MD_TEST_H

#include <stdint.h>
#include <stdio.h>

static int md_test_failures;

#define MD_CHECK(condition)                                                                         \
    do {                                                                                            \
        if (!(condition)) {                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            ++md_test_failures;                                                                     \
        }                                                                                           \
    } while (0)

/* The exit code of a test program: 0 when every check held. */
#define MD_TEST_RESULT() (md_test_failures == 0 ? 0 : 1)

/* Pseudo-random values in [low, high] from a linear congruential generator (same on every host). */
static inline int32_t md_test_value(uint32_t *state, int32_t low, int32_t high)
{
    *state = *state * 1664525u + 1013904223u;
    return low + (int32_t)((*state >> 8) % (uint32_t)(high - low + 1));
}

#endif /* MD_TEST_H */
