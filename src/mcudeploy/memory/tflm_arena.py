"""TensorFlow Lite Micro's whole arena for a model: what `MicroInterpreter::AllocateTensors()` takes.

TFLM splits the arena in two. The head (from the start) holds the planned
activations and kernel scratch buffers: `planners/tflm.py` reproduces its greedy
plan; the CMSIS-NN kernels' scratch requests (their `*_get_buffer_size`, which
depend on the core's DSP and MVE extensions) replace the reference kernels' here.
The tail (from the end, growing down) holds what lives as long as the
interpreter, allocated in this order:

1. the allocator objects (SingleArenaBufferAllocator, GreedyMemoryPlanner,
   MicroAllocator), then, in AllocateTensors(), the builtin-data allocator and
   one SubgraphAllocations per subgraph;
2. per subgraph, one TfLiteEvalTensor per tensor; then per subgraph, one NodeAndRegistration
   per operator (each subgraph's array its own allocation);
3. per operator (subgraph by subgraph, in order), its parsed builtin options (TfLite*Params);
4. per operator, its kernel's Init(): the OpData, through AllocatePersistentBuffer
   (16-byte aligned); a custom operator's options stay in the model;
5. per operator, its kernel's Prepare(): per-channel multipliers and shifts, CMSIS-NN's
   precomputed kernel sums, TFLM_DECODE's decode states; meanwhile temporary TfLiteTensors
   (with their quantization) sit above the head's scratch-request list and are dropped
   after each operator;
6. the scratch-buffer handles, one pointer per scratch request; variable tensors (subgraph by
   subgraph);
7. after planning: the input and output TfLiteTensor pointer arrays and the TfLiteTensors
   (with their quantization) behind them.

Each allocation is aligned down to its type's alignment (16 for AllocatePersistentBuffer),
the arena's end being 16-byte aligned: the padding is part of the tail.
The planner plans the tensors of every subgraph together (`planners/tflm.py`: a called subgraph's
tensors live within the scopes of the IF, WHILE or CALL_ONCE that calls it). `arena_used_bytes()`
is then head + tail. Setting up can need more than that at an
earlier moment: while an operator's Prepare() holds its temporary tensors, and
when the planner takes all free memory as its working space (40 bytes per planned
buffer, after the AllocationInfo array). The smallest arena is the largest of
those needs, rounded up to 16 bytes.

Struct sizes follow the C layout rules of the ABI: 4-byte pointers and one-byte
enums on bare-metal Arm (arm-none-eabi's -fshort-enums), 8-byte pointers and
four-byte enums on a 64-bit host (TFLM's Python interpreter).
Source: TFLM and CMSIS-NN at the commits in tests/data/tflm_arena_measured.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mcudeploy.devices.cores import CORES_BY_NAME, Core, Mve
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator, Tensor
from mcudeploy.ir.shapes import DECODE, DETECTION_POSTPROCESS
from mcudeploy.memory.plan import MemoryPlan
from mcudeploy.memory.planners.tflm import plan_tflm, tflm_scratch_requests
from mcudeploy.params import decode
from mcudeploy.params.window import Window, window_of

KERNEL_SETS = ("reference", "cmsis-nn")
ARENA_ALIGNMENT = 16  # MicroArenaBufferAlignment()
MAX_SCRATCH_BUFFERS_PER_OP = 12  # kMaxScratchBuffersPerOp: the scratch-request list's slack
CH_IN_BLOCK_MVE = 124  # CMSIS-NN's channel block for MVE depthwise convolutions
PLANNER_BYTES_PER_BUFFER = 40  # GreedyMemoryPlanner::per_buffer_size(): 4 ints + 2 ints + 3-int ListEntry + int


@dataclass(frozen=True)
class Abi:
    """The C data layout of the machine TFLM runs on."""

    name: str
    pointer: int
    enum: int


ARM32 = Abi("32-bit Arm (arm-none-eabi)", pointer=4, enum=1)
HOST64 = Abi("64-bit host", pointer=8, enum=4)

# --- C layouts ---------------------------------------------------------------------------------

Field = tuple[int, int]  # (size, alignment)
INT: Field = (4, 4)
FLOAT: Field = (4, 4)
DOUBLE: Field = (8, 8)
BOOL: Field = (1, 1)
BYTE: Field = (1, 1)
WHEEL_FULLY_CONNECTED_OPTIONS: Field = (32, 8)
"""TfLiteFullyConnectedParams in the tflite-micro wheel, newer than the sources modelled: its
ParseFullyConnected allocates 32 bytes, 8-aligned (read from the wheel's machine code)."""


def layout(*fields: Field) -> Field:
    """Size and alignment of a C struct of `fields`, in order (a base class is a first field)."""
    offset, alignment = 0, 1
    for size, align in fields:
        offset = _align_up(offset, align) + size
        alignment = max(alignment, align)
    return _align_up(offset, alignment), alignment


def ints(count: int) -> Field:
    return layout(*[INT] * count)


class Layouts:
    """The structures TFLM puts in its arena, laid out for `abi`."""

    def __init__(self, abi: Abi, compression: bool = False):
        """`compression`: built with USE_TFLM_COMPRESSION, which adds fields to a few structures."""
        pointer: Field = (abi.pointer, abi.pointer)
        compressed: tuple[Field, ...] = (INT, INT) if compression else ()  # weights and bias scratch indices
        enum: Field = (abi.enum, abi.enum)
        self.pointer = pointer
        padding_values = ints(4)  # TfLitePaddingValues
        # Allocator objects; a C++ class with virtual functions starts with one vtable pointer per
        # polymorphic base (SingleArenaBufferAllocator implements two interfaces).
        self.single_arena_allocator = layout(pointer, pointer, *[pointer] * 5, pointer, INT)
        self.greedy_planner = layout(pointer, INT, INT, *[pointer] * 4, INT, INT, pointer, BOOL)
        self.micro_allocator = layout(pointer, *[pointer] * 4, BOOL, pointer, pointer, pointer)
        # The Recording* variants (TFLM's Python interpreter) add their counters: four size_t; a
        # pointer and seven RecordedAllocation of three size_t (eight with compression).
        self.recording_arena_allocator = layout(self.single_arena_allocator, *[pointer] * 4)
        recorded_allocations = 7 + compression
        self.recording_micro_allocator = layout(
            self.micro_allocator, pointer, *[layout(*[pointer] * 3)] * recorded_allocations
        )
        self.builtin_data_allocator = layout(pointer, pointer)
        self.subgraph_allocations = layout(pointer, pointer, *[pointer] * compression)  # + CompressedTensorList
        node = layout(*[pointer] * 6, INT)  # TfLiteNode (TF_LITE_STATIC_MEMORY)
        self.node_and_registration = layout(node, pointer)
        self.eval_tensor = layout(pointer, pointer, enum)
        quantization = layout(enum, pointer)
        self.tensor = layout(quantization, layout(FLOAT, INT), pointer, pointer, pointer, enum, enum, BOOL)
        self.affine_quantization = layout(pointer, pointer, INT)
        self.scratch_request = layout(pointer, INT, INT)  # size_t bytes, node, subgraph
        self.scratch_handle = pointer
        self.allocation_info = layout(pointer, pointer, INT, INT, INT, BOOL)
        self.size_t = pointer
        self.builtin_options: dict[str, Field] = {
            "CONV_2D": layout(enum, INT, INT, enum, INT, INT, enum),
            "DEPTHWISE_CONV_2D": layout(enum, INT, INT, INT, enum, INT, INT),
            "AVERAGE_POOL_2D": layout(enum, INT, INT, INT, INT, enum, padding_values),
            "MAX_POOL_2D": layout(enum, INT, INT, INT, INT, enum, padding_values),
            "FULLY_CONNECTED": layout(enum, enum, BOOL, BOOL, enum),
            "SOFTMAX": layout(FLOAT),
            "ADD": layout(enum, BOOL),
            "RESHAPE": ints(9),
            "MUL": layout(enum),
            "IF": ints(2),  # then, else subgraph
            "WHILE": ints(2),  # cond, body subgraph
            "CALL_ONCE": ints(1),  # init subgraph
        }
        op_data_conv = layout(padding_values, *[INT] * 5, pointer, pointer, INT, INT, INT, *compressed)
        op_data_fully_connected = layout(*[INT] * 9, pointer, pointer, BOOL, *compressed)
        op_data_pooling = layout(padding_values, INT, INT, FLOAT, FLOAT)
        softmax_params = layout(DOUBLE, *[INT] * 6, FLOAT, *[pointer] * 5)
        op_data_add = layout(BOOL, *[INT] * 12, FLOAT, FLOAT)
        op_data_comparison = layout(*[INT] * 7, BOOL)  # ComparisonParams
        op_data_mul = layout(*[INT] * 7, FLOAT, FLOAT)
        op_data_relu = layout(BYTE, *[INT] * 6)  # ReluParams: ActivationParams (a uint8_t enum, two ints), 4 ints
        # The control-flow kernels' OpData: the subgraph indices (CALL_ONCE's and whether it ran)
        control_flow = {"IF": ints(2), "WHILE": ints(2), "CALL_ONCE": layout(INT, BOOL)}
        # detection_postprocess.cc's OpData: its options, the CenterSizeEncoding scales, eleven scratch
        # indices and three TfLiteQuantizationParams (float scale, int32 zero point)
        op_data_detection = layout(*[INT] * 3, FLOAT, FLOAT, INT, BOOL, ints(4), *[INT] * 11, *[ints(2)] * 3)
        shared_op_data = {  # kernels CMSIS-NN builds take from TFLM (or share its Init)
            "CIRCULAR_BUFFER": ints(2),  # OpDataCircularBuffer: cycles_until_run, cycles_max
            DETECTION_POSTPROCESS: op_data_detection,
            "MUL": op_data_mul,
            "RELU": op_data_relu,
            **{op_type: op_data_comparison for op_type in COMPARISONS},
            **control_flow,
        }  # (TFLM_DECODE has no Init())
        self.op_data: dict[tuple[str, str], Field] = {
            ("reference", "CONV_2D"): op_data_conv,
            ("reference", "DEPTHWISE_CONV_2D"): op_data_conv,
            ("reference", "FULLY_CONNECTED"): op_data_fully_connected,
            ("reference", "AVERAGE_POOL_2D"): op_data_pooling,
            ("reference", "MAX_POOL_2D"): op_data_pooling,
            ("reference", "SOFTMAX"): softmax_params,
            ("reference", "ADD"): op_data_add,
            ("cmsis-nn", "CONV_2D"): layout(op_data_conv, INT),
            ("cmsis-nn", "DEPTHWISE_CONV_2D"): layout(op_data_conv, INT),
            ("cmsis-nn", "FULLY_CONNECTED"): layout(op_data_fully_connected, INT, INT, pointer, INT, INT, INT),
            ("cmsis-nn", "AVERAGE_POOL_2D"): layout(op_data_pooling, INT),
            ("cmsis-nn", "MAX_POOL_2D"): layout(op_data_pooling, INT),
            ("cmsis-nn", "SOFTMAX"): layout(softmax_params, INT, INT),
            ("cmsis-nn", "ADD"): op_data_add,
            **{(kernels, op_type): size for kernels in KERNEL_SETS for op_type, size in shared_op_data.items()},
        }
        # DecodeState (a vtable, the context and the profiler pointers) and each decode type's members
        # (its size_t counts as wide as a pointer)
        decode_state = (pointer, pointer, pointer)
        self.decode_states: dict[int, Field] = {
            decode.LUT: layout(*decode_state, pointer, *[pointer] * 3, pointer, BYTE, BYTE, BOOL),
            decode.PRUNING: layout(*decode_state, pointer, *[pointer] * 3, pointer, pointer, BYTE, BOOL),
            decode.HUFFMAN: layout(*decode_state, pointer, pointer, pointer, BOOL, BYTE),
        }


# --- what each kernel allocates ----------------------------------------------------------------


@dataclass(frozen=True)
class Temp:
    """A temporary TfLiteTensor (AllocateTempInputTensor/AllocateTempOutputTensor) of a tensor."""

    tensor: int


@dataclass(frozen=True)
class Persistent:
    """AllocatePersistentBuffer (16-byte aligned) in a kernel's Prepare()."""

    item: str
    size: int


@dataclass(frozen=True)
class Scratch:
    """RequestScratchBufferInArena."""

    size: int


Event = Temp | Persistent | Scratch
INT8_KERNELS = ("AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D")
INT8_KERNELS += ("RESHAPE", "SOFTMAX")
"""Operators modelled for int8 data (their kernels' OpData and scratch depend on the type)."""
COMPARISONS = ("EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL")
CONTROL_FLOW = ("IF", "WHILE", "CALL_ONCE")
WITHOUT_INIT = ("MAXIMUM", "MINIMUM")
"""Kernels with neither Init() nor Prepare(): nothing in the arena beyond their node."""
SUPPORTED = (*INT8_KERNELS, "ADD", "MUL", "RELU", *WITHOUT_INIT, *COMPARISONS, *CONTROL_FLOW)
SUPPORTED += ("CIRCULAR_BUFFER", DETECTION_POSTPROCESS, DECODE)
"""CIRCULAR_BUFFER is int8 in TFLM; the others outside INT8_KERNELS allocate the same for every type."""
NO_PARSED_OPTIONS = (*COMPARISONS, *WITHOUT_INIT, "RELU")
"""Builtin operators whose parse function allocates nothing."""


def kernel_events(graph: Graph, op: Operator, kernels: str, core: Core, sizes: Layouts) -> list[Event]:
    """What the kernel's Prepare() allocates for `op`, in its order (TFLM's or CMSIS-NN's kernel on `core`,
    structures laid out as `sizes`)."""
    if op.op_type not in SUPPORTED:
        raise UnsupportedOperatorError(graph.subject, f"the TFLM arena model does not cover {op.label} yet")
    if op.op_type in INT8_KERNELS and graph.tensors[op.inputs[0]].dtype.value != "int8":
        raise UnsupportedOperatorError(graph.subject, f"the TFLM arena model covers int8 kernels only ({op.label})")
    inputs = [index if index >= 0 else None for index in op.inputs]
    output = op.outputs[0] if op.outputs else None
    cmsis = kernels == "cmsis-nn"
    if op.op_type == DECODE:
        return _decode_events(graph, op, sizes)
    if op.op_type == DETECTION_POSTPROCESS:  # its three inputs, then eleven scratch requests
        return [*(Temp(index) for index in inputs), *(Scratch(size) for size in tflm_scratch_requests(graph, op))]
    if op.op_type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return _convolution_events(graph, op, inputs, output, cmsis, core)
    if op.op_type == "FULLY_CONNECTED":
        return _fully_connected_events(graph, inputs, output, cmsis, core)
    if op.op_type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        events: list[Event] = [Temp(inputs[0]), Temp(output)]
        if cmsis and op.op_type == "AVERAGE_POOL_2D":  # after the common Prepare, both tensors again
            events += [Temp(inputs[0]), Temp(output)]
            if core.dsp and core.mve == Mve.NONE:  # arm_avgpool_s8_get_buffer_size (0 with MVE)
                events.append(Scratch(4 * graph.tensors[output].shape[-1]))
        return events
    if op.op_type in ("ADD", "MUL"):
        return [Temp(inputs[0]), Temp(inputs[1]), Temp(output)]
    if op.op_type in COMPARISONS:
        return [Temp(inputs[0]), Temp(inputs[1])]
    if op.op_type == "IF":  # its condition; the subgraphs it calls are prepared as subgraphs of their own
        return [Temp(inputs[0])]
    if op.op_type in (*CONTROL_FLOW, *WITHOUT_INIT):
        return []
    return [Temp(inputs[0]), Temp(output)]  # SOFTMAX, RESHAPE, RELU


def _int4_unpack(graph: Graph, weights: int) -> list[Event]:
    """The reference kernels' scratch for an int4 filter unpacked to int8 (`planners.tflm`)."""
    filter_tensor = graph.tensors[weights]
    return [Scratch(filter_tensor.size)] if filter_tensor.dtype == DType.INT4 else []


def _decode_events(graph: Graph, op: Operator, sizes: Layouts) -> list[Event]:
    """decode.cc's Prepare(): an array of DecodeState pointers, then per (encoded, ancillary) pair the
    three tensors, the pair's DecodeState and, for pruning with per-channel zero points that are not
    all 0, a copy of them (int8). No decompression memory outside the arena is given: the decoded
    tensors are planned in the head."""
    events: list[Event] = [Persistent("decode states", sizes.pointer[0] * len(op.outputs))]
    for position, params in enumerate(decode.prepare(op, graph)):
        events += [Temp(op.inputs[2 * position]), Temp(op.inputs[2 * position + 1]), Temp(op.outputs[position])]
        events.append(Persistent("decode states", sizes.decode_states[params.kind][0]))
        if params.kind == decode.PRUNING and params.channels > 1 and params.zero_points is not None:
            events.append(Persistent("decode states", params.channels))
    return events


def _optional(index: int | None) -> list[Event]:
    return [Temp(index)] if index is not None else []


def _convolution_events(graph: Graph, op: Operator, inputs, output: int, cmsis: bool, core: Core) -> list[Event]:
    data, weights = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    filter_shape = graph.tensors[weights].shape
    channels = filter_shape[0] if op.op_type == "CONV_2D" else filter_shape[3]
    # Reference: output, input, filter; CMSIS-NN: input, filter, output (its bias lookup misses).
    first = [Temp(data), Temp(weights), Temp(output)] if cmsis else [Temp(output), Temp(data), Temp(weights)]
    per_channel = [Persistent("per-channel multipliers and shifts", 4 * channels)] * 2
    # CalculateOpDataConv / CalculateOpDataDepthwiseConv look at all four again.
    events: list[Event] = [*first, *per_channel, Temp(data), Temp(weights), *_optional(bias), Temp(output)]
    if not cmsis:
        events += _int4_unpack(graph, weights)
    else:  # CMSIS-NN's kernels read int4 filters packed: no unpacking
        int4 = graph.tensors[weights].dtype == DType.INT4
        scratch = _cmsis_conv_scratch if op.op_type == "CONV_2D" else _cmsis_depthwise_scratch
        scratch = _cmsis_depthwise_s4_scratch if int4 and op.op_type == "DEPTHWISE_CONV_2D" else scratch
        size = scratch(graph, op, core)
        if size > 0:
            events.append(Scratch(size))
    return events


def _fully_connected_events(graph: Graph, inputs, output: int, cmsis: bool, core: Core) -> list[Event]:
    data, weights = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    events: list[Event] = [Temp(data), Temp(weights), *_optional(bias), Temp(output)]
    filter_tensor = graph.tensors[weights]
    quantization = filter_tensor.quantization
    if not cmsis:
        events += _int4_unpack(graph, weights)
    if quantization is not None and quantization.scale.size > 1:
        events += [Persistent("per-channel multipliers and shifts", 4 * quantization.scale.size)] * 2
    if not cmsis or filter_tensor.dtype == DType.INT4:  # CMSIS-NN's int4 kernel takes no scratch
        return events
    output_shape = graph.tensors[output].shape
    depth, accumulation = output_shape[-1], filter_tensor.shape[-1]
    if len(output_shape) > 2 and accumulation % 4 == 0:  # run as a 1x1 convolution
        if quantization is None or quantization.scale.size == 1:
            events.append(Scratch(8 * depth))  # per-channel multipliers and shifts made up at run time
        return events  # arm_convolve_1x1_s8_fast_get_buffer_size: 0 when built with GCC
    if core.mve != Mve.NONE:  # arm_fully_connected_s8_get_buffer_size: one int32 per output
        constant = filter_tensor.is_constant and (bias is None or graph.tensors[bias].is_constant)
        events.append(Persistent("kernel sums", 4 * depth) if constant else Scratch(4 * depth))
    return events


def _cmsis_conv_scratch(graph: Graph, op: Operator, core: Core) -> int:
    """arm_convolve_wrapper_s8_get_buffer_size as TFLM's CMSIS-NN conv calls it."""
    _, in_h, in_w, in_c = graph.tensors[op.inputs[0]].shape
    f_c = graph.tensors[op.inputs[1]].shape[3]
    out_w = graph.tensors[op.outputs[0]].shape[2]
    return _convolve_wrapper_buffer((in_h, in_w, in_c), f_c, out_w, window_of(op, graph), core)


def _convolve_wrapper_buffer(data: tuple[int, int, int], f_c: int, out_w: int, window: Window, core: Core) -> int:
    """arm_convolve_wrapper_s8_get_buffer_size for an input (h, w, c), built with GCC (whose 1x1 kernels
    take no buffer: theirs is for Arm Compiler builds)."""
    in_h, in_w, in_c = data
    f_h, f_w = window.filter_h, window.filter_w
    undilated = window.dilation_w == 1 and window.dilation_h == 1
    if window.pad_top == 0 and window.pad_left == 0 and f_h == 1 and f_w == 1 and undilated and in_c == f_c:
        return 0
    one_by_n = in_h == 1 and window.dilation_w == 1 and f_h == 1 and (window.stride_w * in_c) % 4 == 0
    if core.mve == Mve.NONE:
        return 2 * _align_up(f_w * f_h * in_c, 4) * 2  # two im2col columns of int16
    if one_by_n and in_c == f_c:
        return _one_by_n_buffer_mve(in_w, in_c, out_w, window)
    return 4 * 16 * -(-in_c * f_w * f_h // 16)  # arm_convolve_s8_get_buffer_size_mve


def _one_by_n_buffer_mve(in_w: int, in_c: int, out_w: int, window: Window) -> int:
    """arm_convolve_1_x_n_s8_get_buffer_size_mve (C's truncating % and /)."""
    pad, stride, kernel = window.pad_left, window.stride_w, window.filter_w
    total_pad = (out_w - 1) * stride + kernel - in_w
    asymmetric = int(math.fmod(total_pad, 2))
    right = max(1, int((pad + asymmetric + stride - 1) / stride)) if pad + asymmetric != 0 else 0
    left = max(1, (pad + stride - 1) // stride) if pad != 0 else 0
    if right + max(out_w - (right + left), 0) + left != out_w:
        return 4 * 16 * -(-in_c * kernel // 16)
    pad_left_size = pad * in_c
    pad_right_size = right * in_c if asymmetric else pad_left_size
    return max(kernel * in_c + pad_left_size, (kernel - 1) * in_c + pad_right_size)


def _cmsis_depthwise_scratch(graph: Graph, op: Operator, core: Core) -> int:
    """arm_depthwise_conv_wrapper_s8_get_buffer_size as TFLM's CMSIS-NN depthwise conv calls it (GCC build)."""
    batch, in_h, in_w, in_c = graph.tensors[op.inputs[0]].shape
    out_w, out_c = graph.tensors[op.outputs[0]].shape[2:]
    window = window_of(op, graph)
    f_h, f_w = window.filter_h, window.filter_w
    if core.mve != Mve.NONE and in_c == 1 and out_c > 1:  # run as a convolution: its buffer, then the
        # transposed filter (CONVERT_DW_CONV_WITH_ONE_INPUT_CH_AND_OUTPUT_CH_ABOVE_THRESHOLD is 1 with GCC)
        return _convolve_wrapper_buffer((in_h, in_w, 1), 1, out_w, window, core) + out_c * f_h * f_w
    if in_c != out_c or batch != 1 or window.dilation_w != 1 or window.dilation_h != 1:
        return 0
    if core.mve != Mve.NONE:
        return 4 * CH_IN_BLOCK_MVE * f_w * f_h
    if f_w == 3 and f_h == 3 and window.pad_top <= 1 and window.pad_left <= 1:
        return 0  # the 3x3 kernel needs none
    return 2 * in_c * f_w * f_h if core.dsp else 0


def _cmsis_depthwise_s4_scratch(graph: Graph, op: Operator, core: Core) -> int:
    """arm_depthwise_conv_wrapper_s4_get_buffer_size (int4 filter, GCC build): the optimised kernel's
    buffer whenever it runs (no 3x3 exception; without DSP too, as its get_buffer_size has no plain-C case)."""
    batch, _, _, in_c = graph.tensors[op.inputs[0]].shape
    out_c = graph.tensors[op.outputs[0]].shape[3]
    window = window_of(op, graph)
    if in_c != out_c or batch != 1 or window.dilation_w != 1 or window.dilation_h != 1:
        return 0
    taps = window.filter_h * window.filter_w
    return 4 * CH_IN_BLOCK_MVE * taps if core.mve != Mve.NONE else 2 * in_c * taps


# --- the arena ---------------------------------------------------------------------------------


@dataclass
class TflmArena:
    """The whole TFLM arena for a model with a kernel set on a core."""

    kernels: str
    abi: Abi
    plan: MemoryPlan
    tail_items: dict[str, int] = field(default_factory=dict)
    """Bytes of each kind of persistent allocation, before alignment."""
    tail_bytes: int = 0
    setup_need: int = 0
    """The most any moment of AllocateTensors() needs (Prepare's temporaries, the planner)."""
    setup_moment: str = ""

    @property
    def head_bytes(self) -> int:
        return self.plan.arena_bytes

    @property
    def alignment_bytes(self) -> int:
        return self.tail_bytes - sum(self.tail_items.values())

    @property
    def used_bytes(self) -> int:
        """MicroInterpreter::arena_used_bytes() after AllocateTensors()."""
        return self.head_bytes + self.tail_bytes

    @property
    def smallest_arena(self) -> int:
        """The smallest arena (16-byte aligned, a multiple of 16 bytes) for AllocateTensors() and Invoke()."""
        return _align_up(max(self.used_bytes, self.setup_need), ARENA_ALIGNMENT)

    def to_dict(self) -> dict:
        return {
            "runtime": "tflm",
            "kernels": self.kernels,
            "abi": self.abi.name,
            "head_bytes": self.head_bytes,
            "tail_bytes": self.tail_bytes,
            "tail_items": dict(self.tail_items),
            "tail_alignment_bytes": self.alignment_bytes,
            "arena_used_bytes": self.used_bytes,
            "setup_need_bytes": self.setup_need,
            "setup_need_at": self.setup_moment,
            "smallest_arena_bytes": self.smallest_arena,
        }


class _Arena:
    """TFLM's SingleArenaBufferAllocator, measured from a 16-byte-aligned end: tracks the tail and
    the head-side pointers and the largest arena any step needed."""

    def __init__(self) -> None:
        self.tail = 0  # bytes from the end
        self.head = 0  # the non-persistent head (the scratch-request list, later the plan)
        self.temp = 0  # temporaries above the head
        self.items: dict[str, int] = {}
        self.need = 0
        self.moment = ""

    def persistent(self, item: str, size: int, alignment: int) -> None:
        self.tail = _align_up(self.tail + size, alignment)
        self.items[item] = self.items.get(item, 0) + size
        self._needs(self.head + self.tail, item)

    def temporary(self, size: int, alignment: int, moment: str) -> None:
        self.temp = _align_up(self.temp, alignment) + size
        self._needs(self.temp + self.tail, moment)

    def resize_head(self, size: int, moment: str) -> None:
        self.head = self.temp = size
        self._needs(self.head + self.tail, moment)

    def _needs(self, size: int, moment: str) -> None:
        if size > self.need:
            self.need, self.moment = size, moment


def tflm_arena(
    graph: Graph, core: Core | str, kernels: str = "cmsis-nn", abi: Abi = ARM32, python_interpreter: bool = False
) -> TflmArena:
    """The whole arena TFLM's MicroInterpreter takes for `graph` with `kernels` on `core`.

    `python_interpreter`: as TFLM's Python interpreter (the tflite-micro wheel) takes it: with a
    RecordingMicroAllocator, built with USE_TFLM_COMPRESSION, and the wheel's own FULLY_CONNECTED options."""
    if isinstance(core, str):
        core = CORES_BY_NAME[core if core.startswith("cortex-") else f"cortex-{core}"]
    if kernels not in KERNEL_SETS:
        raise ValueError(f"kernels must be one of {KERNEL_SETS}")
    sizes = Layouts(abi, compression=python_interpreter)
    if python_interpreter:
        sizes.builtin_options["FULLY_CONNECTED"] = WHEEL_FULLY_CONNECTED_OPTIONS
    subgraphs = graph.subgraphs
    events = _all_kernel_events(graph, kernels, core, sizes)
    plan = plan_tflm(graph, scratch=lambda g, op: [e.size for e in events[id(g), op.index] if isinstance(e, Scratch)])
    arena = _Arena()
    _allocators(arena, sizes, recording=python_interpreter)
    _model_structures(arena, sizes, subgraphs, kernels)
    requests = _prepare(arena, sizes, subgraphs, events)
    if requests:
        arena.persistent("scratch-buffer handles", sizes.scratch_handle[0] * requests, sizes.pointer[1])
    for tensor in (tensor for subgraph in subgraphs for tensor in subgraph.tensors):
        if tensor.is_variable:
            arena.persistent("variable tensors", tensor.nbytes, ARENA_ALIGNMENT)
    tensors = sum(len(subgraph.tensors) for subgraph in subgraphs)
    _planning(arena, sizes, len(subgraphs), tensors + requests, len(plan.buffers))
    arena.resize_head(plan.arena_bytes, "the planned head")
    _model_tensors(arena, sizes, graph)
    return TflmArena(kernels, abi, plan, arena.items, arena.tail, arena.need, arena.moment)


def _all_kernel_events(graph: Graph, kernels: str, core: Core, sizes: Layouts) -> dict:
    """`kernel_events` of every operator of every subgraph, keyed by (id of its subgraph, its index)."""
    events = {}
    for number, subgraph in enumerate(graph.subgraphs):
        for op in subgraph.operators:
            try:
                events[id(subgraph), op.index] = kernel_events(subgraph, op, kernels, core, sizes)
            except UnsupportedOperatorError as error:
                where = f" in subgraph {number} ({subgraph.name})" if number else ""
                raise UnsupportedOperatorError(graph.subject, error.reason + where) from None
    return events


def _model_structures(arena: _Arena, sizes: Layouts, subgraphs: tuple[Graph, ...], kernels: str) -> None:
    """StartModelAllocation, parsing and every kernel's Init(): what exists before the first Prepare()."""
    arena.resize_head(sizes.scratch_request[0] * MAX_SCRATCH_BUFFERS_PER_OP, "the scratch-request list")
    size, alignment = sizes.subgraph_allocations
    arena.persistent("allocator objects", size * len(subgraphs), alignment)
    for subgraph in subgraphs:
        arena.persistent("TfLiteEvalTensor array", sizes.eval_tensor[0] * len(subgraph.tensors), sizes.eval_tensor[1])
    for subgraph in subgraphs:
        operators = len(subgraph.operators)
        arena.persistent("NodeAndRegistration array", sizes.node_and_registration[0] * operators, sizes.pointer[1])
    operators = [op for subgraph in subgraphs for op in subgraph.operators]
    for op in operators:
        # a custom operator's options stay in the model
        if not op.is_custom and op.op_type not in NO_PARSED_OPTIONS:
            arena.persistent("builtin options", *sizes.builtin_options[op.op_type])
    for op in operators:
        if op.op_type not in ("RESHAPE", DECODE, *WITHOUT_INIT):  # the kernels here without Init()
            arena.persistent("kernel OpData", sizes.op_data[(kernels, op.op_type)][0], ARENA_ALIGNMENT)


def _prepare(arena: _Arena, sizes: Layouts, subgraphs: tuple[Graph, ...], events: dict) -> int:
    """Every kernel's Prepare(), subgraph by subgraph, then its scratch requests appended to the list:
    the number of requests."""
    requests = 0
    for graph, op in ((subgraph, op) for subgraph in subgraphs for op in subgraph.operators):
        moment = f"Prepare() of {op.label}" + (f" in {graph.name}" if graph is not subgraphs[0] else "")
        for event in events[id(graph), op.index]:
            if isinstance(event, Temp):
                _temporary_tensor(arena, sizes, graph.tensors[event.tensor], moment)
            elif isinstance(event, Persistent):
                arena.persistent(event.item, event.size, ARENA_ALIGNMENT)
            else:
                requests += 1
        arena.resize_head(sizes.scratch_request[0] * (requests + MAX_SCRATCH_BUFFERS_PER_OP), moment)
    return requests


def _allocators(arena: _Arena, sizes: Layouts, recording: bool) -> None:
    objects = (
        (sizes.recording_arena_allocator, sizes.greedy_planner, sizes.recording_micro_allocator)
        if recording
        else (sizes.single_arena_allocator, sizes.greedy_planner, sizes.micro_allocator)
    )
    for size_alignment in objects:
        arena.persistent("allocator objects", *size_alignment)
    arena.persistent("allocator objects", *sizes.builtin_data_allocator)


def _temporary_tensor(arena: _Arena, sizes: Layouts, tensor: Tensor, moment: str) -> None:
    arena.temporary(*sizes.tensor, moment)
    if tensor.quantization is not None:
        arena.temporary(*sizes.affine_quantization, moment)
        arena.temporary(4 + 4 * tensor.quantization.scale.size, 4, moment)


def _planning(arena: _Arena, sizes: Layouts, subgraphs: int, allocation_infos: int, planned: int) -> None:
    """CommitStaticMemoryPlan: the subgraphs' offsets and the AllocationInfo array, then all free memory
    to the planner."""
    moment = "memory planning"
    arena.temporary(sizes.size_t[0] * subgraphs, sizes.size_t[1], moment)
    arena.temporary(sizes.allocation_info[0] * allocation_infos, sizes.allocation_info[1], moment)
    free_needed = PLANNER_BYTES_PER_BUFFER * planned
    need = _align_up(arena.temp, ARENA_ALIGNMENT) + _align_up(arena.tail, ARENA_ALIGNMENT) + free_needed
    arena._needs(need, moment)


def _model_tensors(arena: _Arena, sizes: Layouts, graph: Graph) -> None:
    """The interpreter's input and output TfLiteTensors, made after planning."""
    for indices in (graph.inputs, graph.outputs):
        arena.persistent("input/output TfLiteTensor pointers", sizes.pointer[0] * len(indices), ARENA_ALIGNMENT)
        for index in indices:
            tensor = graph.tensors[index]
            arena.persistent("input/output TfLiteTensors", *sizes.tensor)
            if tensor.quantization is not None:
                arena.persistent("input/output TfLiteTensors", *sizes.affine_quantization)
                arena.persistent("input/output TfLiteTensors", 4 + 4 * tensor.quantization.scale.size, 4)


def _align_up(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment
