"""What each operator's C kernel needs and guarantees about memory: one description per operator.

The memory planner reads only these declarations, and the C code generator
writes kernels that honour them, so the two cannot disagree. A declaration says

- `scratch_bytes`: the working buffer the kernel needs in the arena during its
  own step (0 for most kernels);
- `alias_of_input`: the output *is* that input's bytes (reshape-like operators:
  the kernel does nothing, not even a copy);
- `overlaps`: the output may share bytes with an input that no later operator
  reads, under an exact condition on the two offsets.

Overlap conditions are not asserted by hand: each one is derived from the
kernel's `AccessSchedule`, the order in which it reads and writes bytes. The
kernel runs numbered *units* (an element, a pair of output pixels, one channel
of one pixel, ...); each unit first reads everything it reads, then writes.
Writing output byte y at unit w destroys input byte x at the same address
exactly when some unit after w still reads x. For `shift = output offset -
input offset`, every pair of bytes at one address satisfies
`x - y = shift`; with W_k the end of the output written by units 0..k and N_k
the lowest input byte read by a unit after k, no destroyed byte is read again
whenever `shift <= min_k(N_k - W_k)`. That bound is `max_shift`. The plan
checker replays the same schedule on a simulated arena, byte by byte.

A C kernel honours its schedule if it never writes a unit's output before
reading all that unit's input. It may batch consecutive units (read them all,
then write them all: four channels at once with SIMD, say), which only makes
it safer; it must never split a unit or reorder units.

Element sizes: int8 and int16 activations; float32 follows the same shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mcudeploy.ir import Columns, DType, Graph, KernelVariant, Operator, Schedule, Tensor, WeightLayout
from mcudeploy.ir.shapes import DECODE, DETECTION_POSTPROCESS, signal_attributes
from mcudeploy.params.detection import prepare as prepare_detection
from mcudeploy.params.fully_connected import prepare as prepare_fully_connected
from mcudeploy.params.window import Window, window_of


@dataclass(frozen=True)
class AccessSchedule:
    """The order in which a kernel reads one input and writes one output.

    Units run in increasing order; within a unit all reads come before all writes.
    """

    last_read: np.ndarray
    """Per input byte: the last unit that reads it, -1 if none does."""
    write_unit: np.ndarray
    """Per output byte: the unit that writes it."""

    def max_safe_shift(self) -> int:
        """The largest `output offset - input offset` (and every smaller one) that no read can notice.

        Capped at the input size: from there on the output lies wholly after the input.
        """
        in_bytes = len(self.last_read)
        units = int(max(self.last_read.max(initial=-1), self.write_unit.max(initial=-1))) + 1
        if units == 0:
            return in_bytes
        written_end = np.zeros(units, dtype=np.int64)
        np.maximum.at(written_end, self.write_unit, np.arange(1, len(self.write_unit) + 1))
        written_end = np.maximum.accumulate(written_end)
        never = np.iinfo(np.int64).max
        first_read = np.full(units + 1, never, dtype=np.int64)
        read = self.last_read >= 0
        np.minimum.at(first_read, self.last_read[read], np.flatnonzero(read))
        still_needed = np.minimum.accumulate(first_read[::-1])[::-1][1:]  # N_k: read by a unit after k
        bounded = still_needed < never
        if not bounded.any():
            return in_bytes
        return int(min((still_needed[bounded] - written_end[bounded]).min(), in_bytes))

    def destroyed_reads(self, shift: int) -> tuple[np.ndarray, np.ndarray]:
        """(input bytes, output bytes at the same address) where the output byte is written
        before the input byte's last read, for the output placed `shift` bytes after the input."""
        first = max(0, -shift)
        last = min(len(self.write_unit), len(self.last_read) - shift)
        if last <= first:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        outputs = np.arange(first, last)
        inputs = outputs + shift
        destroyed = self.write_unit[outputs] < self.last_read[inputs]
        return inputs[destroyed], outputs[destroyed]

    def is_safe(self, shift: int) -> bool:
        return len(self.destroyed_reads(shift)[0]) == 0


@dataclass(frozen=True)
class OverlapRule:
    """Output `output` may share bytes with input `input` (when no later operator reads the input):
    safe when `shift = output offset - input offset` is at most `max_shift`, or a multiple of `period`."""

    input: int
    output: int
    max_shift: int
    period: int | None
    schedule: AccessSchedule = field(repr=False, compare=False)
    why: str = ""


@dataclass(frozen=True)
class KernelContract:
    kernel: str
    """How our C kernel computes the operator (what the declarations below rely on)."""
    scratch_bytes: int = 0
    state_bytes: int = 0
    """History the kernel keeps from one inference to the next, outside the arena (a static array
    the generated init() zeroes, as TFLite Micro's Reset clears the operator's persistent buffer)."""
    alias_of_input: int | None = None
    overlaps: tuple[OverlapRule, ...] = ()
    variant: KernelVariant | None = None
    """The layer's kernel variant where the library has several (`ir.variants`)."""
    least_scratch_bytes: int = 0
    """The scratch its scratch-free path still needs (an int4 filter unpacked whole), with which the
    code generator makes do when a plan reserves less than `scratch_bytes` (TFLite Micro's)."""


ContractFn = Callable[[Graph, Operator], KernelContract]
_CONTRACTS: dict[str, ContractFn] = {}


def kernel_contract(graph: Graph, op: Operator) -> KernelContract:
    """The declaration of `op`'s kernel; operators without one get no scratch and no sharing."""
    declare = _CONTRACTS.get(op.op_type)
    return declare(graph, op) if declare else KernelContract(kernel="no memory guarantees declared")


CALL_ONCE_FLAG_BYTES = 1
"""CALL_ONCE's state: whether its subgraph has run since init()."""


def layer_states(graph: Graph) -> dict[tuple[int, int], int]:
    """The bytes each layer keeps from one inference to the next outside the arena, by (subgraph,
    layer index), in the main graph and the subgraphs it runs: its kernel's history
    (`KernelContract.state_bytes`, a CIRCULAR_BUFFER's in an IF's branch too), CALL_ONCE's flag."""
    states = {}
    for number in [0, *graph.called_order()]:
        subgraph = graph.subgraphs[number]
        for op in subgraph.operators:
            if size := kernel_contract(subgraph, op).state_bytes:
                states[number, op.index] = size
            elif op.op_type == "CALL_ONCE":
                states[number, op.index] = CALL_ONCE_FLAG_BYTES
    return states


def declares_contract(op_type: str) -> bool:
    """Whether the operator's kernel declares scratch, aliasing or overlaps (others have none)."""
    return op_type in _CONTRACTS


def _declares(*op_types: str) -> Callable[[ContractFn], ContractFn]:
    def register(fn: ContractFn) -> ContractFn:
        for op_type in op_types:
            _CONTRACTS[op_type] = fn
        return fn

    return register


def _streaming(input_pos: int, schedule: AccessSchedule, why: str, period: int | None = None) -> OverlapRule:
    return OverlapRule(input_pos, 0, schedule.max_safe_shift(), period, schedule, why)


def _tensors(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    return graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]


# ------------------------------------------------------------------ reshape-like


@_declares("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def _reshape(graph: Graph, op: Operator) -> KernelContract:
    # Same bytes in the same order, only the shape differs: the output is the input, nothing runs.
    return KernelContract(kernel="no code: the output tensor points at the input's bytes", alias_of_input=0)


# ------------------------------------------------------------------ element-wise

_UNARY_ELEMENTWISE = (
    "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "PRELU", "HARD_SWISH", "LOGISTIC", "TANH",
    "ELU", "GELU", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "ABS", "NEG", "FLOOR", "CEIL",
    "ROUND", "SIGN", "LOGICAL_NOT", "CAST", "QUANTIZE", "DEQUANTIZE",
)  # fmt: skip
_BINARY_ELEMENTWISE = (
    "ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "POW", "FLOOR_DIV", "FLOOR_MOD",
    "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR",
    "SELECT_V2",
)  # fmt: skip


def elementwise_schedule(input_t: Tensor, output_t: Tensor) -> AccessSchedule:
    """Unit k reads element k of the input, then writes element k of the output."""
    elements = np.arange(output_t.size, dtype=np.int64)
    return AccessSchedule(
        last_read=np.repeat(elements, input_t.dtype.itemsize),
        write_unit=np.repeat(elements, output_t.dtype.itemsize),
    )


@_declares(*_UNARY_ELEMENTWISE, *_BINARY_ELEMENTWISE)
def _elementwise(graph: Graph, op: Operator) -> KernelContract:
    # One pass in element order, element k computed from element k of each same-shape input
    # (a broadcast input is read again and again, so it never shares bytes with the output).
    output_t = graph.tensors[op.outputs[0]]
    rules = tuple(
        _streaming(position, elementwise_schedule(graph.tensors[index], output_t), "element k read before written")
        for position, index in enumerate(op.inputs)
        if index >= 0 and not graph.tensors[index].is_constant and graph.tensors[index].shape == output_t.shape
    )
    return KernelContract(kernel="one pass in element order", overlaps=rules)


@_declares("SOFTMAX", "LOG_SOFTMAX")
def _softmax(graph: Graph, op: Operator) -> KernelContract:
    # Row by row: the max and the sum of exponentials read the whole row before any output of
    # that row is written, then the last pass reads element j and writes output j. The last
    # read of every input byte is therefore that of the element-wise schedule.
    input_t, output_t = _tensors(graph, op)
    schedule = elementwise_schedule(input_t, output_t)
    rule = _streaming(0, schedule, "row reduced first, then element j read before written")
    return KernelContract(kernel="row by row: max, sum of exponentials, then outputs", overlaps=(rule,))


@_declares("L2_NORMALIZATION")
def _l2_normalization(graph: Graph, op: Operator) -> KernelContract:
    # Row by row: the sum of squares reads the whole row before any output of that row is written,
    # then element j is read again and output j written: the element-wise schedule's last reads.
    input_t, output_t = _tensors(graph, op)
    rule = _streaming(0, elementwise_schedule(input_t, output_t), "row summed, then element j read before written")
    return KernelContract(kernel="row by row: sum of squares, then outputs", overlaps=(rule,))


@_declares("SVDF")
def _svdf(graph: Graph, op: Operator) -> KernelContract:
    # Batch by batch: the input row read into the state (a static array outside the arena), then
    # the unit sums accumulated in registers and written. No scratch (TFLM's kernel takes one
    # int32 per filter and per unit); the output is declared apart from the input.
    return KernelContract(kernel="batch by batch, state outside the arena, sums in registers")


@_declares("SignalRfft", "SignalIrfft")
def _fft(graph: Graph, op: Operator) -> KernelContract:
    # Frame by frame (int16, int32 or float32 samples). Rfft: the zero-padded frame, then its
    # half-length complex transform, in scratch; the bins are written from the transform. Irfft: the
    # packed half-length spectrum in scratch, transformed into the output frame. The output is
    # declared apart from the input.
    fft_length = signal_attributes(op, "fft_length")["fft_length"]
    buffers = 2 if op.op_type == "SignalRfft" else 1
    sample_bytes = graph.tensors[op.inputs[0]].dtype.itemsize
    return KernelContract(kernel="frame by frame through scratch", scratch_bytes=buffers * sample_bytes * fft_length)


@_declares("SignalFilterBankSpectralSubtraction")
def _spectral_subtraction(graph: Graph, op: Operator) -> KernelContract:
    # Channel by channel, each reading its input before writing its outputs; the noise estimate
    # of every channel (uint32) is kept across inferences.
    channels = signal_attributes(op, "num_channels")["num_channels"]
    return KernelContract(kernel="channel by channel, noise estimates kept across inferences", state_bytes=4 * channels)


def _rows(tensor: Tensor) -> int:
    """How many rows (all but the last axis) a signal operator treats one by one."""
    return tensor.size // tensor.shape[-1]


@_declares("SignalDelay")
def _delay(graph: Graph, op: Operator) -> KernelContract:
    # Row by row: the last delay_length samples of each row (int16) kept; output apart from input.
    delay = signal_attributes(op, "delay_length")["delay_length"]
    return KernelContract(
        kernel="row by row, delay_length samples kept", state_bytes=2 * delay * _rows(graph.tensors[op.inputs[0]])
    )


@_declares("SignalFramer")
def _framer(graph: Graph, op: Operator) -> KernelContract:
    # Per row: its fill (int32), then up to ceil(frame_size / frame_step) * frame_step samples in
    # whole words (md_signal_framer's layout).
    a = signal_attributes(op, "frame_size", "frame_step")
    capacity = -(-a["frame_size"] // a["frame_step"]) * a["frame_step"]
    row = 4 + -(-2 * capacity // 4) * 4
    return KernelContract(kernel="row by row, frame history kept", state_bytes=row * _rows(graph.tensors[op.inputs[0]]))


@_declares("SignalStacker")
def _stacker(graph: Graph, op: Operator) -> KernelContract:
    # Whether the first frame came and the fill (int32 each), then the stacked frames' samples.
    a = signal_attributes(op, "num_channels", "stacker_left_context", "stacker_right_context")
    size = a["num_channels"] * (a["stacker_left_context"] + a["stacker_right_context"] + 1)
    return KernelContract(kernel="frames kept until stacked", state_bytes=8 + -(-2 * size // 4) * 4)


@_declares("SignalOverlapAdd")
def _overlap_add(graph: Graph, op: Operator) -> KernelContract:
    # One running buffer of frame_size values per row.
    frames = graph.tensors[op.inputs[0]]
    rows = frames.size // frames.shape[-1] // frames.shape[-2]
    return KernelContract(kernel="running sums kept", state_bytes=rows * frames.shape[-1] * frames.dtype.itemsize)


@_declares("CIRCULAR_BUFFER")
def _circular_buffer(graph: Graph, op: Operator) -> KernelContract:
    # The frames still to come (int32), then the history (int8, the output's size) in whole words;
    # the output is written from it on every inference (the arena may reuse the output between).
    history = graph.tensors[op.outputs[0]].size
    return KernelContract(kernel="history kept, copied out", state_bytes=4 + -(-history // 4) * 4)


@_declares(DECODE)
def _decode(graph: Graph, op: Operator) -> KernelContract:
    # Each output decoded element by element from its constant pair (flash) on every inference; no
    # scratch, nothing kept between inferences (TFLite Micro keeps its decoder states' pointers).
    return KernelContract(kernel="decoded from constants into each output")


@_declares(DETECTION_POSTPROCESS)
def _detection_postprocess(graph: Graph, op: Operator) -> KernelContract:
    # The boxes decoded into scratch, then NMS over them: every output written from scratch after
    # every input was read, yet declared apart from the inputs (TFLite Micro's outputs are too).
    # Nothing kept between inferences (TFLite Micro's persistent OpData is our parameter struct).
    scratch = prepare_detection(op, graph).scratch_bytes
    return KernelContract(kernel="boxes decoded into scratch, then non-max suppression", scratch_bytes=scratch)


@_declares("UNIDIRECTIONAL_SEQUENCE_LSTM")
def _lstm(graph: Graph, op: Operator) -> KernelContract:
    # Step by step, one batch row at a time: the four gates of the row (float32, or int16 for integer
    # models) in the scratch buffer, then the row's cell and hidden state (static arrays) and its
    # output. The whole input sequence is read over all the steps: the output is declared apart.
    output = graph.tensors[op.outputs[0]]
    gate_bytes = 4 if output.dtype.is_float else 2
    return KernelContract(
        kernel="step by step, row by row: four gates in scratch", scratch_bytes=4 * gate_bytes * output.shape[-1]
    )


# ------------------------------------------------------------------ sliding windows


def _last_window_position(in_size: int, out_size: int, pad: int, stride: int, dilation: int, taps: int) -> np.ndarray:
    """Per input row (or column): the last output row (column) whose window reads it, -1 if none."""
    position = np.arange(in_size)
    last = np.full(in_size, -1, dtype=np.int64)
    for tap in range(taps):
        offset = position + pad - tap * dilation
        out = offset // stride
        reads = (offset >= 0) & (offset % stride == 0) & (out < out_size)
        last = np.where(reads, np.maximum(last, out), last)
    return last


def _last_reading_pixel(input_t: Tensor, window: Window) -> np.ndarray:
    """Per input pixel (N, H, W): index within its batch of the last output pixel reading it, or -1."""
    _, height, width, _ = input_t.shape
    w = window
    rows = _last_window_position(height, w.out_h, w.pad_top, w.stride_h, w.dilation_h, w.filter_h)
    cols = _last_window_position(width, w.out_w, w.pad_left, w.stride_w, w.dilation_w, w.filter_w)
    pixel = np.where((rows[:, None] >= 0) & (cols[None, :] >= 0), rows[:, None] * window.out_w + cols[None, :], -1)
    return np.broadcast_to(pixel, (input_t.shape[0], height, width))


def _per_byte(unit_per_element: np.ndarray, tensor: Tensor) -> np.ndarray:
    return np.repeat(np.ascontiguousarray(unit_per_element).reshape(-1), tensor.dtype.itemsize)


def pixel_unit_schedule(input_t: Tensor, output_t: Tensor, window: Window, units: np.ndarray) -> AccessSchedule:
    """Unit `units[p]` (non-decreasing over the output pixels p) copies the receptive fields of its
    pixels (all channels), then computes and writes them (all output channels). `units` covers one
    batch's pixels (every batch then takes the same units after the previous one's) or all batches'."""
    batch, out_h, out_w, out_c = output_t.shape
    pixels = out_h * out_w
    if len(units) == pixels:
        units = (np.arange(batch)[:, None] * (int(units[-1]) + 1) + units[None, :]).reshape(-1)
    units = units.reshape(batch, pixels)
    last_pixel = _last_reading_pixel(input_t, window).reshape(batch, -1)
    last = np.where(last_pixel >= 0, np.take_along_axis(units, np.maximum(last_pixel, 0), axis=1), -1)
    channels_in = input_t.shape[3]
    return AccessSchedule(
        last_read=_per_byte(np.repeat(last[..., None], channels_in, axis=2), input_t),
        write_unit=_per_byte(np.repeat(units[..., None], out_c, axis=2), output_t),
    )


MVE_ROW_BYTES = 1024
"""MD_CONV_ROW_BYTES: the stack bytes md_conv_s8's Helium row kernel (rows_s8) pads a window's input rows into."""
MVE_ROW_WEIGHTS = 768
"""MD_CONV_ROW_WEIGHTS: the stack bytes its weights take, 16 a filter row of an output channel."""


def _mve_rows(input_t: Tensor, window: Window, filter_c: int, output_c: int) -> bool:
    """Whether md_conv_s8's Helium path takes the layer output row by output row (rows_s8, fits_rows in
    md_conv_mve.c): windows of 2 to 4 rows of at most 16 bytes each, ungrouped, few output channels."""
    w, channels = window, input_t.shape[3]
    if w.filter_h * w.filter_w == 1 or w.filter_h > 4 or w.dilation_w != 1 or w.filter_w * channels > 16:
        return False
    padded_row = padded_plane_extents(w, input_t.shape[1], input_t.shape[2])[1] * channels + 16
    vectors = -(-output_c // 4) * 4
    fits = vectors <= 32 and vectors * w.filter_h * 16 <= MVE_ROW_WEIGHTS and w.filter_h * padded_row <= MVE_ROW_BYTES
    return fits and filter_c == channels


def _dsp_pointwise(input_t: Tensor, window: Window, filter_c: int) -> bool:
    """Whether md_conv_s8's DSP path takes the layer as a matrix multiply over all batches' pixels at once
    (md_conv_1x1_fits: 1x1, stride 1, unpadded, ungrouped, a multiple of 4 input channels)."""
    w, channels = window, input_t.shape[3]
    pointwise = (w.filter_h, w.filter_w, w.stride_h, w.stride_w, w.pad_top, w.pad_left) == (1, 1, 1, 1, 0, 0)
    return pointwise and channels % 4 == 0 and filter_c == channels


def pixel_pair_units(input_t: Tensor, output_t: Tensor, window: Window, filter_c: int) -> np.ndarray:
    """md_conv_s8's units over all batches' output pixels (the int8, int16 and float im2col kernels):
    pairs of a batch's pixels, a last odd one alone (md_conv_int.h's conv_pairs, the DSP's and Helium's
    groups of 2 or 4); an int8 layer the DSP path multiplies as a matrix pairs all batches' pixels as
    one run, and one the Helium path takes output row by output row (rows_s8) reads a row's windows,
    then writes its pixels. A unit starts wherever any of these starts one, so the schedule holds
    whichever path the layer takes."""
    batch, out_h, out_w, out_c = output_t.shape
    index = np.arange(batch * out_h * out_w)
    starts = index % (out_h * out_w) % 2 == 0
    if input_t.dtype == DType.INT8 and _dsp_pointwise(input_t, window, filter_c):
        starts |= index % 2 == 0
    if input_t.dtype == DType.INT8 and _mve_rows(input_t, window, filter_c, out_c):
        starts |= index % out_w == 0
    return np.cumsum(starts) - 1


def wide_column_units(input_t: Tensor, output_t: Tensor, window: Window) -> np.ndarray:
    """md_conv_s8_w16's units over a batch's output pixels: groups of WIDE_COLUMNS pixels in order, a
    last group of fewer pixel by pixel (walk_lone, the narrow walk's lone pixels); the narrow pointwise
    walk (md_conv_1x1_narrow_s8_w16) takes an image whose rows are not one run of inputs (strided) row
    by row, each row's pixels in groups and then alone. A unit starts wherever either partition starts
    one, so the schedule holds whichever path the layer takes."""
    pixels = window.out_h * window.out_w
    index = np.arange(pixels)
    starts = _group_starts(index, pixels)
    contiguous = window.stride_h * input_t.shape[2] == window.out_w * window.stride_w
    if narrow_pointwise_records_bytes(window, input_t.shape[3], output_t.shape[3]) and not contiguous:
        starts |= _group_starts(index % window.out_w, window.out_w)
    return np.cumsum(starts) - 1


def _group_starts(position: np.ndarray, run: int) -> np.ndarray:
    """Whether each pixel at `position` in its run of `run` pixels starts a group of WIDE_COLUMNS, or is
    one of the run's last pixels beyond whole groups (each a unit of its own)."""
    whole = run - run % WIDE_COLUMNS
    return (position % WIDE_COLUMNS == 0) | (position >= whole)


def pixel_channel_schedule(input_t: Tensor, output_t: Tensor, window: Window, filter_c: int) -> AccessSchedule:
    """Unit = one output channel of one output pixel (a convolution without im2col): read the
    receptive field's channels of that output channel's group straight from the input, then
    write the one value."""
    batch, out_h, out_w, out_c = output_t.shape
    channels = input_t.shape[3]
    per_group = out_c // (channels // filter_c)
    batch_base = (np.arange(batch) * out_h * out_w * out_c)[:, None, None, None]
    last_pixel = _last_reading_pixel(input_t, window)[..., None]
    last_channel = (np.arange(channels) // filter_c + 1) * per_group - 1  # the group's last output channel
    last = np.where(last_pixel >= 0, batch_base + last_pixel * out_c + last_channel, -1)
    written = batch_base + np.arange(out_h * out_w * out_c).reshape(1, out_h, out_w, out_c)
    return AccessSchedule(last_read=_per_byte(last, input_t), write_unit=_per_byte(written, output_t))


def channel_stream_schedule(input_t: Tensor, output_t: Tensor, window: Window) -> AccessSchedule:
    """Unit = one input channel c of one output pixel: read channel c of the window, then write
    the output channels c*m .. c*m+m-1 of that pixel (m = channel multiplier, 1 for pooling)."""
    batch, out_h, out_w, out_c = output_t.shape
    channels = input_t.shape[3]
    multiplier = out_c // channels
    per_batch = out_h * out_w * channels
    batch_base = (np.arange(batch) * per_batch)[:, None, None, None]
    last_pixel = _last_reading_pixel(input_t, window)[..., None]
    channel = np.arange(channels)
    last = np.where(last_pixel >= 0, batch_base + last_pixel * channels + channel, -1)
    pixel = np.arange(out_h * out_w).reshape(1, out_h, out_w, 1)
    written = batch_base + pixel * channels + np.arange(out_c) // multiplier
    return AccessSchedule(last_read=_per_byte(last, input_t), write_unit=_per_byte(written, output_t))


def channel_plane_schedule(input_t: Tensor, output_t: Tensor) -> AccessSchedule:
    """Unit = one channel of one batch: copy the whole input plane of channel c into the scratch
    buffer, then compute and write the output plane of channel c from the copy."""
    batch, channels = input_t.shape[0], input_t.shape[3]
    unit = (np.arange(batch)[:, None, None, None] * channels) + np.arange(channels)
    return AccessSchedule(
        last_read=_per_byte(np.broadcast_to(unit, input_t.shape), input_t),
        write_unit=_per_byte(np.broadcast_to(unit, output_t.shape), output_t),
    )


def _footprint(rule: OverlapRule, input_t: Tensor, output_t: Tensor) -> int:
    """Bytes input and output take together at their best allowed relative placement."""
    shift = min(rule.max_shift, 0) if rule.period is None else 0
    return max(shift + output_t.nbytes, input_t.nbytes) - min(shift, 0)


def im2col_bytes(window: Window, input_c: int, value_bytes: int) -> int:
    """Scratch of the im2col path: two columns (one for a single output pixel) of the receptive field
    (md_conv_*_get_buffer_size in mdnn/Include/md_nn.h, the source of truth)."""
    return min(2, window.out_h * window.out_w) * window.filter_h * window.filter_w * input_c * value_bytes


WIDE_COLUMNS = 4
"""Output pixels the int16-weight kernel computes at a time (md_conv_s8_w16): its im2col columns."""


def wide_im2col_bytes(window: Window, input_c: int, output_c: int) -> int:
    """Scratch of md_conv_s8_w16: four int16 columns, each of the receptive field's values rounded up
    to an even count, then a pointwise layer's records (md_conv_s8_w16_get_buffer_size in
    mdnn/Include/md_nn.h, the source of truth)."""
    depth = window.filter_h * window.filter_w * input_c
    records = narrow_pointwise_records_bytes(window, input_c, output_c) + stem_records_bytes(window, input_c, output_c)
    return WIDE_COLUMNS * (depth + depth % 2) * 2 + records


def narrow_pointwise_records_bytes(window: Window, input_c: int, output_c: int) -> int:
    """md_conv_s8_w16's records of a pointwise layer with few input channels (1x1, unpadded, 4 to 16
    input channels a multiple of 4, 32 or 64; an even output channel count), 0 for other layers: per pair
    of output channels input_c + 8 words (md_conv_s8_w16_records_bytes)."""
    pointwise = (window.filter_h, window.filter_w, window.pad_top, window.pad_left) == (1, 1, 0, 0)
    if not pointwise or input_c % 4 or (input_c > 16 and input_c not in (32, 64)) or output_c % 2:
        return 0
    return output_c // 2 * (input_c + 8) * 4


def stem_records_bytes(window: Window, input_c: int, output_c: int) -> int:
    """md_conv_s8_w16's records of a 3x3 filter over one input channel to 8 output channels (person_detect's
    stem), 0 for other layers: per pair of output channels 17 words (md_conv_s8_w16_stem_records_bytes)."""
    if (window.filter_h, window.filter_w, input_c, output_c) != (3, 3, 1, 8):
        return 0
    return output_c // 2 * 17 * 4


def im2col_costs_more(graph: Graph, op: Operator) -> bool:
    """Whether the im2col scratch makes the layer need more bytes than its input and output apart
    (what TFLite Micro's reference kernel needs), as large windows over few channels do (a 10x4
    window over 28 channels: 4,480 bytes of columns): where the direct path may lower the arena."""
    input_t, output_t = _tensors(graph, op)
    window = window_of(op, graph)
    pairs = _pairs_rule(graph, op, input_t, output_t, window)
    return _footprint(pairs, input_t, output_t) + _im2col_scratch(input_t, window) > input_t.nbytes + output_t.nbytes


def _pairs_rule(graph: Graph, op: Operator, input_t: Tensor, output_t: Tensor, window: Window) -> OverlapRule:
    units = pixel_pair_units(input_t, output_t, window, graph.tensors[op.inputs[1]].shape[3])
    schedule = pixel_unit_schedule(input_t, output_t, window, units)
    return _streaming(0, schedule, "receptive fields copied before written")


def _im2col_scratch(input_t: Tensor, window: Window) -> int:
    return im2col_bytes(window, input_t.shape[3], 4 if input_t.dtype.is_float else 2)


@_declares("CONV_2D")
def _conv(graph: Graph, op: Operator) -> KernelContract:
    # Two kernels, the layer's variant (`op.variant`, chosen for the whole model by
    # memory.variants; im2col until chosen) says which:
    # - im2col: two output pixels at a time (the Arm CMSIS-NN scheme): their receptive fields, all
    #   input channels, are copied widened to int16 (float32 for float models) into a 2-column
    #   buffer, then every output channel of both pixels is computed from it and written (an
    #   output of a single pixel per batch needs one column only); with the filter pre-expanded
    #   to int16, four pixels at a time into a 4-column buffer, the last 1 to 3 pixel by pixel
    #   (strided narrow pointwise layers row by row: wide_column_units);
    # - direct (the kernels' path without scratch): each output value from its receptive field read
    #   in place, pixel by pixel, output channel by output channel.
    # An int4 filter is unpacked whole at the start of the scratch first (`int4_unpacked_bytes`).
    input_t, output_t = _tensors(graph, op)
    window = window_of(op, graph)
    variant = op.variant or KernelVariant()
    unpacked, int4 = _int4_filter(graph, op)
    if variant.columns == Columns.IM2COL and variant.weights == WeightLayout.INT16_PAIRS:
        return _wide_columns(input_t, output_t, window, variant, int4)
    if variant.columns == Columns.IM2COL:
        pairs = _pairs_rule(graph, op, input_t, output_t, window)
        kernel = "2-column im2col, 2 output pixels at a time"
        scratch = unpacked + _im2col_scratch(input_t, window)
        return KernelContract(kernel + int4, scratch, overlaps=(pairs,), variant=variant, least_scratch_bytes=unpacked)
    schedule = pixel_channel_schedule(input_t, output_t, window, graph.tensors[op.inputs[1]].shape[3])
    direct = _streaming(0, schedule, "receptive field read before each output value written")
    kernel = "direct, one output value at a time" + int4
    return KernelContract(kernel, unpacked, overlaps=(direct,), variant=variant, least_scratch_bytes=unpacked)


def _wide_columns(
    input_t: Tensor, output_t: Tensor, window: Window, variant: KernelVariant, how: str = ""
) -> KernelContract:
    """The int16-weight convolution's contract (md_conv_s8_w16): four pixels' columns, then their outputs."""
    schedule = pixel_unit_schedule(input_t, output_t, window, wide_column_units(input_t, output_t, window))
    quads = _streaming(0, schedule, "receptive fields copied before written")
    kernel = f"{WIDE_COLUMNS}-column im2col, {WIDE_COLUMNS} output pixels at a time, int16 weights" + how
    scratch = wide_im2col_bytes(window, input_t.shape[3], output_t.shape[3])
    return KernelContract(kernel, scratch, overlaps=(quads,), variant=variant)


INT4_ALIGNMENT = 16
"""The whole unpacked int4 filter is rounded up to this at the start of a kernel's scratch (md_s4_unpacked_bytes)."""
FULLY_CONNECTED_S4_BLOCK_BYTES = 1024
"""MD_FULLY_CONNECTED_S4_BLOCK_BYTES: the most bytes of int4 rows FULLY_CONNECTED unpacks at once (4 rows at least)."""


def int4_unpacked_bytes(count: int) -> int:
    """Scratch of a whole int4 filter of `count` values unpacked to int8 (md_s4_unpacked_bytes)."""
    return -(-count // INT4_ALIGNMENT) * INT4_ALIGNMENT


def fully_connected_s4_block_rows(accum_depth: int, output_depth: int) -> int:
    """Output rows of an int4 FULLY_CONNECTED unpacked at a time (md_fully_connected_s4_block_rows)."""
    return min(max(4, FULLY_CONNECTED_S4_BLOCK_BYTES // accum_depth & ~3), output_depth)


def _int4_filter(graph: Graph, op: Operator) -> tuple[int, str]:
    """A convolution's scratch for its int4 filter unpacked whole (0 for any other filter), and how."""
    filter_t = graph.tensors[op.inputs[1]]
    if filter_t.dtype != DType.INT4:
        return 0, ""
    if op.variant is not None and op.variant.weights == WeightLayout.INT16_PAIRS:
        return 0, " (the int4 filter widened when the code is generated)"
    return int4_unpacked_bytes(filter_t.size), ", int4 filter unpacked whole into scratch first"


PLANE_SLACK = 4
"""Bytes after a depthwise channel plane: word reads of its last windows run up to 3 bytes past it."""

WIDE_PITCH = 64
"""Values between the rows of a wide depthwise plane up to this padded width (MD_WIDE_PITCH)."""


def padded_plane_extents(window: Window, height: int, width: int) -> tuple[int, int]:
    """Rows and columns of a channel plane with the padding its windows reach (md_padded_extent in C)."""

    def extent(size: int, out: int, stride: int, pad: int, filter_size: int, dilation: int) -> int:
        return pad + max(size, (out - 1) * stride - pad + (filter_size - 1) * dilation + 1)

    rows = extent(height, window.out_h, window.stride_h, window.pad_top, window.filter_h, window.dilation_h)
    columns = extent(width, window.out_w, window.stride_w, window.pad_left, window.filter_w, window.dilation_w)
    return rows, columns


def wide_pitch(columns: int) -> int:
    """Values between a wide plane's rows (md_depthwise_wide_pitch): WIDE_PITCH up to it, else even."""
    return WIDE_PITCH if columns <= WIDE_PITCH else columns + columns % 2


def padded_plane_pixels(window: Window, height: int, width: int) -> int:
    """Pixels of a channel plane with the padding its windows reach (md_padded_extent in C)."""
    rows, columns = padded_plane_extents(window, height, width)
    return rows * columns


def planes_at_once(window: Window, channels: int, element_bytes: int, grouped: bool = False) -> int:
    """Planes the depthwise channel-plane path holds at once: one; grouped (md_depthwise_s8_planes),
    int8 at stride 1 over a depth of 4k copies a group of 4 channels at once."""
    group = grouped and element_bytes == 1 and window.stride_h == window.stride_w == 1 and channels % 4 == 0
    return 4 if group else 1


def wide_planes(channels: int) -> int:
    """Wide planes the grouped int8 path holds at stride 2 (md_depthwise_s8_wide_planes): 4 over a
    depth of 4k (a group of 4 channels copied at once), else 2."""
    return 4 if channels % 4 == 0 else 2


def plane_bytes(
    window: Window, height: int, width: int, channels: int, element_bytes: int, grouped: bool = False
) -> int:
    """Scratch of the depthwise channel-plane path (md_depthwise_*_get_buffer_size in
    mdnn/Include/md_nn.h, the source of truth): one padded plane and PLANE_SLACK bytes; grouped
    (md_depthwise_s8_grouped_get_buffer_size), `planes_at_once` planes, and int8 under undilated 3x3
    windows at stride 2 `wide_planes` wide planes (int16 values, rows `wide_pitch` values apart, in
    either orientation, PLANE_SLACK bytes more each)."""
    wide = (window.filter_h, window.filter_w, window.stride_h, window.stride_w) == (3, 3, 2, 2)
    if grouped and element_bytes == 1 and wide and (window.dilation_h, window.dilation_w) == (1, 1):
        rows, columns = padded_plane_extents(window, height, width)
        values = max(rows * wide_pitch(columns), columns * wide_pitch(rows))  # either orientation
        return wide_planes(channels) * (values * 2 + 2 * PLANE_SLACK)
    planes = planes_at_once(window, channels, element_bytes, grouped)
    return planes * padded_plane_pixels(window, height, width) * element_bytes + PLANE_SLACK


def has_planes(graph: Graph, op: Operator) -> bool:
    """Whether a DEPTHWISE_CONV_2D may take the channel-plane schedule: one output channel per input
    channel, of the same element size."""
    input_t, output_t = _tensors(graph, op)
    return output_t.shape[3] == input_t.shape[3] and output_t.dtype.itemsize == input_t.dtype.itemsize


def least_memory_schedule(graph: Graph, op: Operator) -> Schedule:
    """The schedule letting a DEPTHWISE_CONV_2D's input and output (and scratch) take fewer bytes together."""
    if not has_planes(graph, op):
        return Schedule.STREAMING
    streaming, (planes, scratch) = _streaming_rule(graph, op), _planes_rule(graph, op)
    input_t, output_t = _tensors(graph, op)
    if _footprint(planes, input_t, output_t) + scratch < _footprint(streaming, input_t, output_t):
        return Schedule.PLANES
    return Schedule.STREAMING


def _streaming_rule(graph: Graph, op: Operator) -> OverlapRule:
    input_t, output_t = _tensors(graph, op)
    schedule = channel_stream_schedule(input_t, output_t, window_of(op, graph))
    return _streaming(0, schedule, "window channel read before written")


def _planes_rule(graph: Graph, op: Operator, grouped: bool = False) -> tuple[OverlapRule, int]:
    input_t, output_t = _tensors(graph, op)
    _, height, width, channels = input_t.shape
    element = input_t.dtype.itemsize
    planes = _streaming(
        0, channel_plane_schedule(input_t, output_t), "plane copied before written", period=channels * element
    )
    return planes, plane_bytes(window_of(op, graph), height, width, channels, element, grouped)


def grouped_planes(graph: Graph, op: Operator) -> bool:
    """Whether a DEPTHWISE_CONV_2D runs md_depthwise_s8_grouped: its variant's grouped planes, int8
    input and filter (int16 and int4-filter layers take one plane)."""
    input_t, filter_t = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    grouped = op.variant is not None and op.variant.schedule == Schedule.GROUPED
    return grouped and input_t.dtype == DType.INT8 and filter_t.dtype == DType.INT8


@_declares("DEPTHWISE_CONV_2D")
def _depthwise(graph: Graph, op: Operator) -> KernelContract:
    # Two kernels, the layer's variant (`op.variant`, chosen for the whole model by
    # memory.variants; until chosen, the one letting input and output take fewer bytes together):
    # - streaming: pixel by pixel, channel by channel, reading the input in place, no scratch;
    # - channel planes ("N+1 buffers", when one output channel comes from one input channel of the
    #   same element size): plane c of the input is copied to a scratch plane, then output plane c
    #   is computed from the copy and written; grouped (int8 at stride 1 over a depth of 4k: 4 planes
    #   copied at once, then their 4 outputs: `planes_at_once`; at stride 2 `wide_planes`). Writing
    #   plane c only lands on bytes of input channel c (already copied) when the offsets differ by a
    #   multiple of channels x element size.
    #   The plane is reserved with the padding its windows reach and PLANE_SLACK bytes after it:
    #   the DSP kernel fills the padding with the zero point so that every window lies inside.
    # An int4 filter is unpacked whole at the start of the scratch first (`int4_unpacked_bytes`).
    # With one input channel and int16 weights (`ir.variants.WeightLayout`), the layer is the
    # convolution it is, run by the int16-weight CONV_2D kernel: that kernel's contract.
    if op.variant is not None and op.variant.weights == WeightLayout.INT16_PAIRS:
        input_t, output_t = _tensors(graph, op)
        return _wide_columns(input_t, output_t, window_of(op, graph), op.variant, ", as a convolution")
    unpacked, int4 = _int4_filter(graph, op)
    schedule = op.variant.schedule if op.variant is not None else None
    schedule = schedule or least_memory_schedule(graph, op)
    if schedule in (Schedule.PLANES, Schedule.GROUPED) and has_planes(graph, op):
        planes, scratch = _planes_rule(graph, op, grouped_planes(graph, op))
        kernel = "channel by channel from a copied plane" + int4
        return KernelContract(
            kernel, unpacked + scratch, overlaps=(planes,), variant=op.variant, least_scratch_bytes=unpacked
        )
    streaming = _streaming_rule(graph, op)
    kernel = "pixel by pixel, channel by channel" + int4
    return KernelContract(kernel, unpacked, overlaps=(streaming,), variant=op.variant, least_scratch_bytes=unpacked)


@_declares("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")
def _pool(graph: Graph, op: Operator) -> KernelContract:
    # Pixel by pixel, channel by channel: output (p, c) is written right after channel c of its window is read.
    input_t, output_t = _tensors(graph, op)
    window = window_of(op, graph)
    rule = _streaming(0, channel_stream_schedule(input_t, output_t, window), "window channel read before written")
    return KernelContract(kernel="pixel by pixel, channel by channel", overlaps=(rule,))


# ------------------------------------------------------------------ copies into a separate output


@_declares(
    "SLICE", "REVERSE_V2", "BROADCAST_TO", "SPACE_TO_DEPTH", "DEPTH_TO_SPACE", "MIRROR_PAD", "SPACE_TO_BATCH_ND",
    "BATCH_TO_SPACE_ND", "GATHER", "GATHER_ND", "EMBEDDING_LOOKUP", "DYNAMIC_UPDATE_SLICE", "ZEROS_LIKE",
    "BROADCAST_ARGS",
)  # fmt: skip
def _rearrange(graph: Graph, op: Operator) -> KernelContract:
    # Output elements in order, each copied from wherever its index arithmetic (or a run-time index)
    # points in the input, which may lie after it: no scratch, the output declared apart.
    return KernelContract(kernel="output in order, each element copied from its input position")


@_declares("ARG_MAX", "ARG_MIN", "CUMSUM", "ADD_N")
def _along_axis(graph: Graph, op: Operator) -> KernelContract:
    # Each output from a run of inputs along an axis (or across ADD_N's inputs), the running value in
    # a register: no scratch (TFLM's ADD_N takes an array of input pointers, ours is a constant).
    return KernelContract(kernel="a running value in registers along the axis or across the inputs")


# ------------------------------------------------------------------ kernels with scratch only


@_declares("FULLY_CONNECTED")
def _fully_connected(graph: Graph, op: Operator) -> KernelContract:
    # Each output reads the whole input row, straight from the arena: no scratch, and no
    # output byte may land on the row before its last output is written. An int4 filter is unpacked
    # a block of rows at a time into scratch (`fully_connected_s4_block_rows`).
    filter_t = graph.tensors[op.inputs[1]]
    if filter_t.dtype == DType.INT4:
        params = prepare_fully_connected(op, graph)
        rows = fully_connected_s4_block_rows(params.accum_depth, params.output_depth)
        kernel = f"one dot product per output, input read in place, int4 filter unpacked {rows} rows at a time"
        return KernelContract(kernel, scratch_bytes=rows * params.accum_depth)
    # The variant (chosen by estimate.optimize) may keep an int8 filter as int16, in blocks of 4 rows.
    variant = op.variant
    if variant is not None and variant.weights == WeightLayout.INT16_PAIRS:
        return KernelContract("one dot product per output, input read in place, int16 weights", variant=variant)
    return KernelContract(kernel="one dot product per output, input read in place")


@_declares("MEAN", "SUM")
def _mean(graph: Graph, op: Operator) -> KernelContract:
    # One int32 accumulator per output element (md_sum_int_get_buffer_size); float sums in its output.
    output_t = graph.tensors[op.outputs[0]]
    if output_t.dtype.is_float:
        return KernelContract(kernel="accumulate in the output, then scale it")
    return KernelContract(kernel="accumulate, then scale each output", scratch_bytes=4 * output_t.size)


@_declares("TRANSPOSE_CONV")
def _transpose_conv(graph: Graph, op: Operator) -> KernelContract:
    # Gathered (md_nn.h): each output value sums the input values that reach it, read
    # in place, and is written before the next. No scratch (TFLite Micro's scatter kernel takes an
    # accumulator per output element); the input is read until the last output: declared apart.
    return KernelContract(kernel="gathered: one output value at a time, input read in place")


@_declares("BATCH_MATMUL")
def _batch_matmul(graph: Graph, op: Operator) -> KernelContract:
    # Matrix by matrix, each output value summed from a whole row of lhs' and column of rhs', read in
    # place (adjoints read transposed, not copied as TFLite Micro does into persistent buffers).
    return KernelContract(kernel="one dot product per output value, operands read in place")


@_declares("RESIZE_BILINEAR")
def _resize_bilinear(graph: Graph, op: Operator) -> KernelContract:
    # Output pixel by pixel, each value from four input pixels that may lie anywhere before or after
    # it (a downscale reads ahead, an upscale reads back): the output is declared apart.
    return KernelContract(kernel="pixel by pixel from four input pixels")
