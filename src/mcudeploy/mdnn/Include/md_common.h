/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: types, status codes and helpers every kernel shares.
 *
 * Portable C99. No heap, no stdio, no asserts: every buffer is placed by the
 * generated code, and every parameter was checked when the code was generated.
 * The library relies on two properties C99 leaves to the implementation, both
 * true of GCC, Clang and Arm Compiler: a right shift of a negative value is
 * arithmetic, and converting an out-of-range unsigned value to a signed type
 * wraps modulo 2^N. The first is checked at compile time below.
 */
#ifndef MD_COMMON_H
#define MD_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* What every kernel returns. The values are those of the generated network's status codes. */
typedef enum {
    MD_OK = 0,
    /* The kernel met values its integer arithmetic cannot represent (where TFLite Micro aborts). */
    MD_ERROR_RANGE = -3
} md_status;

#define MD_MAX_DIMS 6

/* The instruction-set path a build takes, from the compiler's target macros alone, so that one
 * project builds for any core and runs the best path that core has: every family with ISA paths
 * ships them all (md_<family>.c, md_<family>_dsp.c, md_<family>_mve.c, defining the same
 * functions), and each source compiles to nothing unless it is the path taken. Paths not taken
 * cost no flash.
 * - MD_PATH_MVE: integer Helium (Cortex-M55, M85; a soft-float ABI turns MVE off);
 * - MD_PATH_DSP: the DSP extension without MVE (Cortex-M4, M7, M33, M35P);
 * - neither: portable C99 (Cortex-M0, M0+, M3, M23, host builds, and any build defining
 *   MD_PORTABLE). */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MD_PORTABLE)
#define MD_PATH_MVE 1
#else
#define MD_PATH_MVE 0
#endif
#if defined(__ARM_FEATURE_DSP) && !MD_PATH_MVE && !defined(MD_PORTABLE)
#define MD_PATH_DSP 1
#else
#define MD_PATH_DSP 0
#endif

/* Names the path a family's build took in the firmware's symbol table (md_path_conv_dsp, ...), so
 * that `mcudeploy doctor` can tell from an ELF which kernels it runs: an absolute symbol, no flash. */
#if defined(__GNUC__)
#define MD_PATH_SYMBOL(name) __asm__(".globl " #name "\n.set " #name ", 1")
#else
#define MD_PATH_SYMBOL(name) MD_STATIC_CHECK(name, 1)
#endif

#if defined(__GNUC__)
#define MD_ALIGNED(n) __attribute__((aligned(n)))
#define MD_SECTION(name) __attribute__((section(name)))
#else
#define MD_ALIGNED(n)
#define MD_SECTION(name)
#endif

/* The profiling hook of generated layer functions, compiled out unless asked: with MD_PROFILE_LAYERS
 * defined they stay separate functions (one ELF symbol each, so a profiler can attribute costs per
 * layer), never inlined, cloned or merged; otherwise the compiler treats them as any function. */
#if defined(MD_PROFILE_LAYERS) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define MD_LAYER __attribute__((noipa))
#elif defined(MD_PROFILE_LAYERS) && defined(__GNUC__)
#define MD_LAYER __attribute__((noinline))
#else
#define MD_LAYER
#endif

/* Kernels whose loops must own the registers stay out of line (MD_NOINLINE); small helpers whose
 * flags must become constants are always inlined (MD_ALWAYS_INLINE). */
#if defined(__GNUC__)
#define MD_NOINLINE __attribute__((noinline))
#define MD_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MD_NOINLINE
#define MD_ALWAYS_INLINE inline
#endif

/* Compile-time check: an array of negative size when `condition` is false. */
#define MD_STATIC_CHECK(name, condition) typedef char md_check_##name[(condition) ? 1 : -1]

MD_STATIC_CHECK(arithmetic_right_shift, (-1 >> 1) == -1);

/* Element types of tensors, for the kernels that move bytes or convert between types. */
typedef enum {
    MD_INT8 = 0,
    MD_UINT8 = 1,
    MD_INT16 = 2,
    MD_INT32 = 3,
    MD_FLOAT32 = 4
} md_dtype;

static inline int32_t md_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

static inline int32_t md_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t md_clamp_i32(int32_t value, int32_t low, int32_t high)
{
    return value < low ? low : (value > high ? high : value);
}

/* int32 addition and subtraction with two's complement wrap-around (what TFLite's int32 arithmetic does). */
static inline int32_t md_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

static inline int32_t md_wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

static inline int32_t md_wrap_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

static inline int64_t md_saturate_i64(int64_t value, int64_t low, int64_t high)
{
    return value < low ? low : (value > high ? high : value);
}

/* Element `index` of an array of an integer `dtype`, as int32. */
static inline int32_t md_load(const void *data, int32_t index, md_dtype dtype)
{
    switch (dtype) {
    case MD_INT8:
        return ((const int8_t *)data)[index];
    case MD_UINT8:
        return ((const uint8_t *)data)[index];
    case MD_INT16:
        return ((const int16_t *)data)[index];
    default:
        return ((const int32_t *)data)[index];
    }
}

/* Element `index` of an int8 or int16 array (activations of the window kernels): a cheaper test. */
static inline int32_t md_load_activation(const void *data, int32_t index, md_dtype dtype)
{
    return dtype == MD_INT16 ? ((const int16_t *)data)[index] : ((const int8_t *)data)[index];
}

/* Stores `value` into an array of an integer `dtype`, saturated to the type's range. */
static inline void md_store_saturated(void *data, int32_t index, md_dtype dtype, int64_t value)
{
    switch (dtype) {
    case MD_INT8:
        ((int8_t *)data)[index] = (int8_t)md_saturate_i64(value, INT8_MIN, INT8_MAX);
        break;
    case MD_UINT8:
        ((uint8_t *)data)[index] = (uint8_t)md_saturate_i64(value, 0, UINT8_MAX);
        break;
    case MD_INT16:
        ((int16_t *)data)[index] = (int16_t)md_saturate_i64(value, INT16_MIN, INT16_MAX);
        break;
    default:
        ((int32_t *)data)[index] = (int32_t)md_saturate_i64(value, INT32_MIN, INT32_MAX);
        break;
    }
}

/* Number of elements of a shape. */
static inline int32_t md_shape_size(const int32_t *shape, int32_t rank)
{
    int32_t size = 1;
    int32_t d;
    for (d = 0; d < rank; ++d) {
        size *= shape[d];
    }
    return size;
}

#endif /* MD_COMMON_H */
