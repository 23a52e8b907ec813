/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy emulation runtime: the host services in plain C stdio, for the host target. */
#include "mcu_host.h"

#include <stdio.h>
#include <stdlib.h>

int mcu_host_read_file(const char *path, void *buf, unsigned len)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return -1;
    }
    const size_t count = fread(buf, 1, len, file);
    const int failed = ferror(file);
    fclose(file);
    return failed ? -1 : (int)count;
}

int mcu_host_write_file(const char *path, const void *buf, unsigned len)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return -1;
    }
    const size_t count = fwrite(buf, 1, len, file);
    const int closed = fclose(file);
    return (count == len && closed == 0) ? 0 : -1;
}

void mcu_host_print(const char *text)
{
    fputs(text, stdout);
    fflush(stdout);
}

void mcu_host_exit(int code)
{
    fflush(stdout);
    exit(code);
}

void mcu_count_mark(void)
{
}
