// The platform hooks TensorFlow Lite Micro expects, on top of mcudeploy's semihosting runtime.
#include <cstdarg>
#include <cstddef>
#include <cstdint>

extern "C" {
#include "mcu_host.h"
}

// Set while arena.cc probes arena sizes that are meant to fail.
bool bench_log_muted = false;

// Messages go out unformatted: enough to read what failed, without pulling printf in.
extern "C" void DebugLog(const char *format, va_list args)
{
    (void)args;
    if (!bench_log_muted) {
        mcu_host_print(format);
    }
}

extern "C" int DebugVsnprintf(char *buffer, size_t buf_size, const char *format, va_list vlist)
{
    (void)vlist;
    size_t length = 0;
    while (format[length] != '\0' && length + 1 < buf_size) {
        buffer[length] = format[length];
        length++;
    }
    if (buf_size > 0) {
        buffer[length] = '\0';
    }
    return static_cast<int>(length);
}

namespace tflite {

// No cycle counter under QEMU: the instruction-counting plugin measures instead.
uint32_t ticks_per_second() { return 0; }
uint32_t GetCurrentTimeTicks() { return 0; }

}  // namespace tflite

// Nothing is ever freed: these only satisfy the virtual destructors' references.
void operator delete(void *pointer) noexcept { (void)pointer; }
void operator delete(void *pointer, size_t size) noexcept
{
    (void)pointer;
    (void)size;
}

extern "C" void __cxa_pure_virtual(void)
{
    mcu_host_print("bench: pure virtual call\n");
    mcu_host_exit(MCU_HOST_EXIT_FAULT);
}

// Static objects are never destroyed (the program ends through semihosting): their destructors
// need not be registered.
extern "C" {
void *__dso_handle = nullptr;
int __cxa_atexit(void (*destructor)(void *), void *object, void *dso)
{
    (void)destructor;
    (void)object;
    (void)dso;
    return 0;
}
}

// Empty hooks newlib's start-up pieces reference when linked with -nostartfiles.
extern "C" void _init(void) {}
extern "C" void _fini(void) {}
