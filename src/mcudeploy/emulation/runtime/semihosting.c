/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy emulation runtime: host services over Arm semihosting (BKPT 0xAB). */
#include "mcu_host.h"

#include <stdint.h>

enum semihosting_operation {
    SEMIHOSTING_SYS_OPEN = 0x01,
    SEMIHOSTING_SYS_CLOSE = 0x02,
    SEMIHOSTING_SYS_WRITE0 = 0x04,
    SEMIHOSTING_SYS_WRITE = 0x05,
    SEMIHOSTING_SYS_READ = 0x06,
    SEMIHOSTING_SYS_EXIT_EXTENDED = 0x20
};

/* SYS_OPEN modes are indices into the ISO C fopen() mode list. */
enum { OPEN_MODE_READ_BINARY = 1, OPEN_MODE_WRITE_BINARY = 5 };

/* Reason code of SYS_EXIT_EXTENDED that carries the application's exit status. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int semihosting_call(int operation, const void *parameters)
{
    register int r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = parameters;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uint32_t string_length(const char *text)
{
    uint32_t length = 0;
    while (text[length] != '\0') {
        length++;
    }
    return length;
}

static int open_file(const char *path, uint32_t mode)
{
    const uint32_t block[3] = {(uint32_t)(uintptr_t)path, mode, string_length(path)};
    return semihosting_call(SEMIHOSTING_SYS_OPEN, block);
}

static void close_file(int handle)
{
    const uint32_t block[1] = {(uint32_t)handle};
    (void)semihosting_call(SEMIHOSTING_SYS_CLOSE, block);
}

/* SYS_READ and SYS_WRITE return how many bytes were NOT transferred; repeat until done or
 * no progress (end of file). Returns the bytes transferred, or -1 on error. */
static int transfer(int operation, int handle, uint8_t *buf, unsigned len)
{
    unsigned done = 0;
    while (done < len) {
        const uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)(buf + done), len - done};
        const int remaining = semihosting_call(operation, block);
        if (remaining < 0 || (unsigned)remaining > len - done) {
            return -1;
        }
        if ((unsigned)remaining == len - done) {
            break;
        }
        done = len - (unsigned)remaining;
    }
    return (int)done;
}

int mcu_host_read_file(const char *path, void *buf, unsigned len)
{
    const int handle = open_file(path, OPEN_MODE_READ_BINARY);
    if (handle < 0) {
        return -1;
    }
    const int count = transfer(SEMIHOSTING_SYS_READ, handle, buf, len);
    close_file(handle);
    return count;
}

int mcu_host_write_file(const char *path, const void *buf, unsigned len)
{
    const int handle = open_file(path, OPEN_MODE_WRITE_BINARY);
    if (handle < 0) {
        return -1;
    }
    /* SYS_WRITE only reads the buffer; the cast serves the shared transfer loop. */
    const int count = transfer(SEMIHOSTING_SYS_WRITE, handle, (uint8_t *)(uintptr_t)buf, len);
    close_file(handle);
    return count == (int)len ? 0 : -1;
}

void mcu_host_print(const char *text)
{
    (void)semihosting_call(SEMIHOSTING_SYS_WRITE0, text);
}

void mcu_host_exit(int code)
{
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    (void)semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, block);
    for (;;) {
        /* Only reached if the debugger ignores the exit request. */
    }
}

/* Kept out of line (and not merged away) so the plugin can find its address. */
__attribute__((noipa, used)) void mcu_count_mark(void)
{
    __asm__ volatile("" ::: "memory");
}
