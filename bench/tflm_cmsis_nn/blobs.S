/* Links the model (.tflite) and one input (raw bytes) into read-only data.
 * BENCH_MODEL_PATH and BENCH_INPUT_PATH are passed as quoted strings by the build. */
    .section .rodata.bench_model, "a"
    .balign 16
    .global bench_model
bench_model:
    .incbin BENCH_MODEL_PATH

    .section .rodata.bench_input, "a"
    .balign 16
    .global bench_input
    .global bench_input_end
bench_input:
    .incbin BENCH_INPUT_PATH
bench_input_end:
