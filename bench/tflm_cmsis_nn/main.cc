// Runs one TensorFlow Lite Micro inference between two instruction-count marks.
//
// The model and its input are linked in by blobs.S (symbols below); the output is
// printed as hex on the semihosting console so the host can compare it with the
// reference engine. Exit status: 0 ok, 1 model/arena error, 2 wrong input size.
#include <cstddef>
#include <cstdint>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
#include "mcu_host.h"
extern const uint8_t bench_model[];
extern const uint8_t bench_input[];
extern const uint8_t bench_input_end[];
}

namespace {

// Built with BENCH_SKIP_INVOKE the program only sets up: subtracting its per-function counts
// from a full run's leaves those of Invoke().
#ifdef BENCH_SKIP_INVOKE
constexpr bool kRunInvoke = false;
#else
constexpr bool kRunInvoke = true;
#endif

constexpr size_t kArenaBytes = 200 * 1024;
alignas(16) uint8_t arena[kArenaBytes];

using Resolver = tflite::MicroMutableOpResolver<8>;

void add_operators(Resolver &resolver)
{
    resolver.AddAdd();
    resolver.AddAveragePool2D();
    resolver.AddConv2D();
    resolver.AddDepthwiseConv2D();
    resolver.AddFullyConnected();
    resolver.AddReshape();
    resolver.AddSoftmax();
}

void print_hex(const uint8_t *bytes, size_t count)
{
    static const char digits[] = "0123456789abcdef";
    char line[2 * 32 + 2];
    for (size_t start = 0; start < count; start += 32) {
        size_t length = 0;
        for (size_t i = start; i < count && i < start + 32; i++) {
            line[length++] = digits[bytes[i] >> 4];
            line[length++] = digits[bytes[i] & 0xF];
        }
        line[length++] = '\n';
        line[length] = '\0';
        mcu_host_print(line);
    }
}

}  // namespace

int main()
{
    static Resolver resolver;
    add_operators(resolver);
    static tflite::MicroInterpreter interpreter(tflite::GetModel(bench_model), resolver, arena, kArenaBytes);
    if (interpreter.AllocateTensors() != kTfLiteOk) {
        mcu_host_print("bench: AllocateTensors failed\n");
        return 1;
    }
    TfLiteTensor *input = interpreter.input(0);
    const size_t input_bytes = static_cast<size_t>(bench_input_end - bench_input);
    if (input->bytes != input_bytes) {
        mcu_host_print("bench: input size differs from the model's input\n");
        return 2;
    }
    for (size_t i = 0; i < input_bytes; i++) {
        input->data.uint8[i] = bench_input[i];
    }
    mcu_count_mark();
    const TfLiteStatus status = kRunInvoke ? interpreter.Invoke() : kTfLiteOk;
    mcu_count_mark();
    if (!kRunInvoke) {
        return 0;
    }
    if (status != kTfLiteOk) {
        mcu_host_print("bench: Invoke failed\n");
        return 1;
    }
    mcu_host_print("bench-output:\n");
    for (size_t i = 0; i < interpreter.outputs_size(); i++) {
        const TfLiteTensor *output = interpreter.output(i);
        print_hex(output->data.uint8, output->bytes);
    }
    mcu_host_print("bench-end\n");
    return 0;
}
