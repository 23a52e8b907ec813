"""TFLM's signal operators that carry samples from one run to the next: SignalFramer, SignalStacker,
SignalDelay and SignalOverlapAdd (signal/micro/kernels/*.cc over signal/src/circular_buffer.cc).

Their history lives in the kernel, not in a tensor: it is kept in the engine's per-operator
states (which `Engine.reset` clears, as TFLM's Reset does). An output TFLM leaves unwritten (a
frame not yet full) is zeros here.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.ops.signal_spectrum import saturate_int16
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import signal_attributes


@kernel("SignalFramer", types=(DType.INT16,))
def framer(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """Frames of frame_size samples every frame_step samples of each row; with `prefill`, the
    history starts with frame_size - frame_step zeros. Valid when every frame filled."""
    a = signal_attributes(ctx.op, "frame_size", "frame_step", "prefill")
    size, step = a["frame_size"], a["frame_step"]
    samples = ctx.input(0)
    rows = samples.reshape(-1, samples.shape[-1])
    start = (size - step) if a["prefill"] else 0
    history = ctx.states.setdefault(framer, [[0] * start for _ in range(rows.shape[0])])
    frames = np.zeros((rows.shape[0], rows.shape[1] // step, size), dtype=np.int16)
    valid = True
    for row, buffer in enumerate(history):
        for frame in range(frames.shape[1]):
            buffer.extend(rows[row, frame * step : (frame + 1) * step].tolist())
            if len(buffer) >= size:
                frames[row, frame] = buffer[:size]
                del buffer[:step]
            else:
                valid = False
    return frames.reshape(ctx.output_tensor().shape), np.array(valid)


@kernel("SignalStacker", types=(DType.INT16,))
def stacker(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """The last left + right + 1 frames of channels side by side, every stacker_step frames; the
    first frame is repeated left_context times to fill the left context."""
    names = ("num_channels", "stacker_left_context", "stacker_right_context", "stacker_step")
    a = signal_attributes(ctx.op, *names)
    channels = a["num_channels"]
    size = channels * (a["stacker_left_context"] + a["stacker_right_context"] + 1)
    frame = ctx.input(0).tolist()
    buffer = ctx.states.get(stacker)
    if buffer is None:
        buffer = ctx.states[stacker] = frame * (1 + a["stacker_left_context"])
    else:
        buffer.extend(frame)
    stacked = np.zeros(size, dtype=np.int16)
    if len(buffer) < size:
        return stacked, np.array(False)
    stacked[:] = buffer[:size]
    del buffer[: channels * a["stacker_step"]]
    return stacked, np.array(True)


@kernel("SignalDelay", types=(DType.INT16,))
def delay(ctx: OpContext) -> np.ndarray:
    """Each row (the last axis) delayed by delay_length samples, zeros first."""
    length = signal_attributes(ctx.op, "delay_length")["delay_length"]
    samples = ctx.input(0)
    rows = samples.reshape(-1, samples.shape[-1])
    history = ctx.states.setdefault(delay, np.zeros((rows.shape[0], length), dtype=np.int16))
    joined = np.concatenate([history, rows], axis=1)
    ctx.states[delay] = joined[:, rows.shape[1] :]
    return joined[:, : rows.shape[1]].reshape(samples.shape)


@kernel("SignalOverlapAdd", types=(DType.INT16, DType.FLOAT32))
def overlap_add(ctx: OpContext) -> np.ndarray:
    """Frames added into a running buffer of frame_size samples (int16 saturating); each frame
    gives the buffer's first frame_step samples, then the buffer moves on by as many."""
    step = signal_attributes(ctx.op, "frame_step")["frame_step"]
    frames = ctx.input(0)
    size, count = frames.shape[-1], frames.shape[-2]
    rows = frames.reshape(-1, count, size)
    buffers = ctx.states.setdefault(overlap_add, np.zeros((rows.shape[0], size), dtype=frames.dtype))
    output = np.zeros((rows.shape[0], count * step), dtype=frames.dtype)
    for frame in range(count):
        if frames.dtype == np.int16:
            buffers[:] = saturate_int16(buffers.astype(np.int32) + rows[:, frame])
        else:
            buffers += rows[:, frame]
        output[:, frame * step : (frame + 1) * step] = buffers[:, :step]
        buffers[:, : size - step] = buffers[:, step:].copy()
        buffers[:, size - step :] = 0
    return output.reshape(ctx.output_tensor().shape)
