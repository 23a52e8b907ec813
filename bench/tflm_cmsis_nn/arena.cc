// Finds the smallest TensorFlow Lite Micro arena for the linked model, on the target itself.
//
// 1. With a large arena: AllocateTensors() and arena_used_bytes().
// 2. Search over arena sizes in 16-byte steps from there: the smallest size for which
//    AllocateTensors() succeeds, checked against the size 16 bytes below (which must fail).
//    A fresh MicroInterpreter is built in place for every size.
// 3. At that smallest size: the input copied in, Invoke(), the output printed as hex for the host
//    to compare with the reference engine (the proof that Invoke() succeeds with it).
// Also prints sizeof/alignof of the runtime's structures on this target. With the file
// arena_probe.bin (a uint32 size) it only tries AllocateTensors() with that size.
// Exit status: 0 ok, 1 a step failed, 2 wrong input size.
#include <cstddef>
#include <cstdint>
#include <new>

#include "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.h"
#include "tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "tensorflow/lite/micro/micro_allocation_info.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
#include "mcu_host.h"
extern const uint8_t bench_model[];
extern const uint8_t bench_input[];
extern const uint8_t bench_input_end[];
}

extern bool bench_log_muted;  // platform.cc: the failed attempts' messages are expected

namespace {

constexpr size_t kArenaBytes = 256 * 1024;
alignas(16) uint8_t arena[kArenaBytes];
constexpr char kProbeFile[] = "arena_probe.bin";  // a uint32 arena size, in the working folder
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];

using Resolver = tflite::MicroMutableOpResolver<15>;

void print_number(const char *label, size_t value)
{
    char digits[24];
    size_t length = 0;
    do {
        digits[length++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    char line[96];
    size_t at = 0;
    for (const char *c = label; *c != '\0' && at < 64; c++) {
        line[at++] = *c;
    }
    line[at++] = ' ';
    while (length > 0) {
        line[at++] = digits[--length];
    }
    line[at++] = '\n';
    line[at] = '\0';
    mcu_host_print(line);
}

void print_hex(const uint8_t *bytes, size_t count)
{
    static const char hex[] = "0123456789abcdef";
    char line[2 * 32 + 2];
    for (size_t start = 0; start < count; start += 32) {
        size_t length = 0;
        for (size_t i = start; i < count && i < start + 32; i++) {
            line[length++] = hex[bytes[i] >> 4];
            line[length++] = hex[bytes[i] & 0xF];
        }
        line[length++] = '\n';
        line[length] = '\0';
        mcu_host_print(line);
    }
}

tflite::MicroInterpreter *make_interpreter(const Resolver &resolver, size_t arena_bytes)
{
    return new (interpreter_storage)
        tflite::MicroInterpreter(tflite::GetModel(bench_model), resolver, arena, arena_bytes);
}

bool allocates(const Resolver &resolver, size_t arena_bytes)
{
    tflite::MicroInterpreter *interpreter = make_interpreter(resolver, arena_bytes);
    const bool ok = interpreter->AllocateTensors() == kTfLiteOk;
    interpreter->~MicroInterpreter();
    return ok;
}

// AllocateTensors() and Invoke() with `arena_bytes`, the inputs from bench_input; prints the outputs.
int invoke_with(const Resolver &resolver, size_t arena_bytes)
{
    tflite::MicroInterpreter *interpreter = make_interpreter(resolver, arena_bytes);
    if (interpreter->AllocateTensors() != kTfLiteOk) {
        mcu_host_print("bench: AllocateTensors failed with that arena\n");
        return 1;
    }
    const uint8_t *next = bench_input;  // the inputs one after another
    for (size_t i = 0; i < interpreter->inputs_size(); i++) {
        TfLiteTensor *input = interpreter->input(i);
        if (input->bytes > static_cast<size_t>(bench_input_end - next)) {
            mcu_host_print("bench: input size differs from the model's inputs\n");
            return 2;
        }
        for (size_t k = 0; k < input->bytes; k++) {
            input->data.uint8[k] = *next++;
        }
    }
    if (next != bench_input_end) {
        mcu_host_print("bench: input size differs from the model's inputs\n");
        return 2;
    }
    if (interpreter->Invoke() != kTfLiteOk) {
        mcu_host_print("bench: Invoke failed with that arena\n");
        return 1;
    }
    mcu_host_print("bench-output:\n");
    for (size_t i = 0; i < interpreter->outputs_size(); i++) {
        const TfLiteTensor *output = interpreter->output(i);
        print_hex(output->data.uint8, output->bytes);
    }
    mcu_host_print("bench-end\n");
    return 0;
}

void print_layouts()
{
#define BENCH_LAYOUT(type)                                    \
    print_number("sizeof " #type, sizeof(type));             \
    print_number("alignof " #type, alignof(type))
    BENCH_LAYOUT(tflite::SingleArenaBufferAllocator);
    BENCH_LAYOUT(tflite::MicroAllocator);
    BENCH_LAYOUT(tflite::GreedyMemoryPlanner);
    BENCH_LAYOUT(tflite::SubgraphAllocations);
    BENCH_LAYOUT(tflite::NodeAndRegistration);
    BENCH_LAYOUT(tflite::ScratchBufferHandle);
    BENCH_LAYOUT(tflite::internal::ScratchBufferRequest);
    BENCH_LAYOUT(tflite::AllocationInfo);
    BENCH_LAYOUT(TfLiteEvalTensor);
    BENCH_LAYOUT(TfLiteTensor);
    BENCH_LAYOUT(TfLiteAffineQuantization);
    BENCH_LAYOUT(TfLiteConvParams);
    BENCH_LAYOUT(TfLiteDepthwiseConvParams);
    BENCH_LAYOUT(TfLiteFullyConnectedParams);
    BENCH_LAYOUT(TfLitePoolParams);
    BENCH_LAYOUT(TfLiteReshapeParams);
    BENCH_LAYOUT(TfLiteSoftmaxParams);
    BENCH_LAYOUT(TfLiteAddParams);
#undef BENCH_LAYOUT
}

}  // namespace

int main()
{
    static Resolver resolver;
    resolver.AddAdd();
    resolver.AddAveragePool2D();
    resolver.AddConv2D();
    resolver.AddDepthwiseConv2D();
    resolver.AddFullyConnected();
    resolver.AddReshape();
    resolver.AddSoftmax();
    resolver.AddCircularBuffer();
    resolver.AddDetectionPostprocess();
    resolver.AddDecode();
    resolver.AddIf();
    resolver.AddWhile();
    resolver.AddCallOnce();
    resolver.AddLess();
    resolver.AddMul();
    print_layouts();

    // Probe mode (the host binary-searches instead): CMSIS-NN's Helium FULLY_CONNECTED writes its
    // kernel sums through the null pointer a too-small arena gives it, so some sizes hard-fault
    // rather than fail; the host runs one size per run and counts a fault as a failure.
    uint32_t probe = 0;
    if (mcu_host_read_file(kProbeFile, &probe, sizeof probe) == static_cast<int>(sizeof probe) && probe != 0) {
        bench_log_muted = true;
        const bool ok = allocates(resolver, probe);
        bench_log_muted = false;
        print_number(ok ? "probe_ok" : "probe_fail", probe);
        return ok ? invoke_with(resolver, probe) : 0;
    }

    tflite::MicroInterpreter *const interpreter = make_interpreter(resolver, kArenaBytes);
    if (interpreter->AllocateTensors() != kTfLiteOk) {
        mcu_host_print("bench: AllocateTensors failed with the large arena\n");
        return 1;
    }
    const size_t used = interpreter->arena_used_bytes();
    interpreter->~MicroInterpreter();
    print_number("arena_used_bytes", used);

    // The arena must hold head and tail: arena_used_bytes() rounded down to 16 is known to fail.
    // Setting up can need more (the planner's working memory): double the step until it works,
    // then binary-search (16-byte steps; the arena array is 16-byte aligned, so is each size's end).
    bench_log_muted = true;
    size_t failing = (used + 15) / 16 * 16 - 16;  // invariant: `failing` fails, `working` works
    size_t step = 16;
    size_t working = failing + step;
    while (working < kArenaBytes && !allocates(resolver, working)) {
        failing = working;
        step *= 2;
        working = failing + step;
    }
    while (working - failing > 16) {
        const size_t middle = failing + (working - failing) / 32 * 16;
        (allocates(resolver, middle) ? working : failing) = middle;
    }
    const bool bracketed = allocates(resolver, working) && !allocates(resolver, working - 16);
    bench_log_muted = false;
    if (!bracketed) {
        mcu_host_print("bench: the search bounds do not hold\n");
        return 1;
    }
    print_number("smallest_arena_16", working);

    return invoke_with(resolver, working);
}
