/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy emulation runtime: the few host services a test harness needs.
 *
 * On Cortex-M targets these go through Arm semihosting (QEMU forwards them to
 * the host, file paths are relative to QEMU's working directory); on the host
 * target they are plain C stdio. The same harness source builds for both.
 */
#ifndef MCU_HOST_H
#define MCU_HOST_H

/* Exit code the start-up code reports when the core takes a fault. */
#define MCU_HOST_EXIT_FAULT 113

/* Reads up to `len` bytes of the host file `path` into `buf`.
 * Returns the number of bytes read, or -1 if the file cannot be opened. */
int mcu_host_read_file(const char *path, void *buf, unsigned len);

/* Writes `len` bytes to the host file `path` (created or truncated).
 * Returns 0, or -1 on failure. */
int mcu_host_write_file(const char *path, const void *buf, unsigned len);

/* Prints a NUL-terminated string on the host's standard output. */
void mcu_host_print(const char *text);

/* Ends the program; the emulator's (or process's) exit status is `code` (0..255). */
void mcu_host_exit(int code) __attribute__((noreturn));

/* Instruction-count checkpoint: the counting plugin records how many
 * instructions ran before each call. Does nothing by itself. */
void mcu_count_mark(void);

#endif /* MCU_HOST_H */
