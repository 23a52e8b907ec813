"""The input the MCU fed against the sample it came from, and against the validation input.

Given the raw tensor logged on the device and the float (or raw) sample it was made from, the
expected tensor is the sample quantized with the input's scale and zero point. Where they differ,
each usual mistake is replayed on the sample (range [0,1] vs [0,255], no zero point, no scale, the
uint8 offset of 128, BGR for RGB, planar NCHW order) and the one that reproduces the device's bytes
is named; otherwise the first differing element and the size of the difference are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.errors import McuDeployError
from mcudeploy.files import open_regular
from mcudeploy.inputs import MAX_INPUT_BYTES, load_input_sets, load_inputs, quantize
from mcudeploy.ir import Tensor

CHECK = "input-preprocessing"
VALIDATION_CHECK = "validation-input"
TOLERANCE_LSB = 1
"""A replayed mistake matches when every element is within 1 LSB (the device may truncate, not round)."""


def check_preprocessing(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    if context.mcu_input is None or context.sample is None:
        result.ran = False
        result.notes.append("no --mcu-input with --sample: preprocessing was not checked")
        return result
    tensor = _single_input(context)
    device_values = load_inputs(context.mcu_input, context.graph)[0].ravel()
    sample = _read_sample(context.sample, tensor)
    if tensor.quantization is None or tensor.dtype.is_float:
        expected = sample.astype(tensor.dtype.numpy).ravel()
        mistakes: dict[str, np.ndarray] = {}
    else:
        expected = _expected(sample, tensor)
        mistakes = _replayed_mistakes(sample, tensor)
    if np.array_equal(device_values, expected):
        result.notes.append(f"{context.mcu_input.name}: exactly the sample quantized with the input's parameters")
        return result
    named = [what for what, replay in mistakes.items() if _close(replay, device_values)]
    result.findings.append(
        Finding(
            check=CHECK,
            what=named[0] if named else "the device's input differs from the sample's quantized values",
            evidence=(_first_difference(device_values, expected, tensor), *_named_evidence(named)),
            cost=_difference_size(device_values, expected, tensor),
            fix=_FIXES.get(named[0], _GENERIC_FIX) if named else _GENERIC_FIX,
        )
    )
    return result


def check_validation_input(context: Context) -> CheckResult:
    """Validation passes on the file it was given: is that file what the device feeds?"""
    result = CheckResult(VALIDATION_CHECK)
    if context.validation is None or context.mcu_input is None:
        result.ran = False
        result.notes.append("no --inputs with --mcu-input: the validation input was not compared")
        return result
    tensor = _single_input(context)
    device_values = load_inputs(context.mcu_input, context.graph)[0].ravel()
    sets = [inputs[0].ravel() for inputs in load_input_sets(context.validation, context.graph)]
    if any(np.array_equal(values, device_values) for values in sets):
        result.notes.append(f"{context.mcu_input.name} is byte for byte one of the validation inputs")
        return result
    closest = min(sets, key=lambda values: int(np.count_nonzero(values != device_values)))
    result.findings.append(
        Finding(
            check=VALIDATION_CHECK,
            what="validation ran on an input the device does not feed: it can pass while the device differs",
            evidence=(
                f"{len(sets)} validation input(s) in {context.validation.name}; the closest differs in "
                f"{int(np.count_nonzero(closest != device_values))} of {tensor.size} elements",
                _first_difference(device_values, closest, tensor),
            ),
            cost=_difference_size(device_values, closest, tensor),
            fix="validate with the tensor logged on the device (mcudeploy validate --inputs RAW.bin), or make the "
            "host preprocessing produce the device's bytes",
        )
    )
    return result


def _single_input(context: Context) -> Tensor:
    if len(context.graph.inputs) != 1:
        raise McuDeployError("--mcu-input", "the input checks handle models with one input")
    return context.graph.graph_inputs[0]


def _read_sample(path: Path, tensor: Tensor) -> np.ndarray:
    if path.suffix.lower() != ".npy":
        raise McuDeployError(str(path), "the sample must be a .npy file (float values, or the raw tensor)")
    with open_regular(path, MAX_INPUT_BYTES) as stream:
        try:
            sample = np.load(stream, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise McuDeployError(str(path), f"cannot read sample: {error}") from None
    if sample.size != tensor.size or sample.dtype.kind not in "fiu":
        raise McuDeployError(
            str(path), f"holds {sample.size} {sample.dtype} values, input '{tensor.name}' takes {tensor.size} numbers"
        )
    if sample.dtype.kind == "f" and not np.isfinite(sample).all():
        raise McuDeployError(str(path), "holds NaN or infinity")
    if sample.shape != tensor.shape and sample.ndim == 4 and sample.shape == _channels_first(tensor.shape):
        return sample.transpose(0, 2, 3, 1)  # an NCHW sample for an NHWC input: compare like with like
    return sample.reshape(tensor.shape)


def _channels_first(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[0], shape[3], shape[1], shape[2]) if len(shape) == 4 else shape


def _expected(sample: np.ndarray, tensor: Tensor) -> np.ndarray:
    if sample.dtype.kind == "f":
        return quantize(sample, tensor).ravel()
    return sample.astype(tensor.dtype.numpy).ravel()


def _replayed_mistakes(sample: np.ndarray, tensor: Tensor) -> dict[str, np.ndarray]:
    """The device's bytes each usual mistake would give, from the right sample."""
    quant = tensor.quantization
    assert quant is not None
    info = np.iinfo(tensor.dtype.numpy)
    real = sample.astype(np.float64)

    def saturated(values: np.ndarray) -> np.ndarray:
        return np.clip(np.floor(values + 0.5), info.min, info.max).astype(np.int64).ravel()

    mistakes: dict[str, Callable[[], np.ndarray]] = {
        "values in [0,255] fed where the model takes [0,1]": lambda: quantize(real * 255.0, tensor).ravel(),
        "values in [0,1] fed where the model takes [0,255]": lambda: quantize(real / 255.0, tensor).ravel(),
        "the zero point is not added": lambda: saturated(real / quant.single_scale),
        "the scale is not applied (raw values fed)": lambda: saturated(real + quant.single_zero_point),
        "uint8 values fed to an int8 input (the 128 offset is missing)": lambda: (
            (_expected(sample, tensor).astype(np.int64) + 128) % 256 - 128
        ),
        "channels in BGR order where the model takes RGB (or the reverse)": lambda: (
            _expected(sample[..., ::-1], tensor) if tensor.shape[-1] == 3 else np.array([])
        ),
        "planar (NCHW) order fed to a channels-last (NHWC) input": lambda: (
            _expected(sample, tensor).reshape(tensor.shape).transpose(0, 3, 1, 2).ravel()
            if len(tensor.shape) == 4 and tensor.shape[3] > 1
            else np.array([])
        ),
    }
    return {what: replay() for what, replay in mistakes.items()}


def _close(replay: np.ndarray, device: np.ndarray) -> bool:
    if replay.shape != device.shape:
        return False
    return bool(np.abs(replay.astype(np.int64) - device.astype(np.int64)).max() <= TOLERANCE_LSB)


def _first_difference(device: np.ndarray, expected: np.ndarray, tensor: Tensor) -> str:
    differing = np.flatnonzero(device != expected)
    first = int(differing[0])
    where = [int(i) for i in np.unravel_index(first, tensor.shape)]
    return (
        f"{len(differing)} of {tensor.size} elements differ; first at {where} (flat {first}): "
        f"device {int(device[first])}, expected {int(expected[first])}"
    )


def _difference_size(device: np.ndarray, expected: np.ndarray, tensor: Tensor) -> str:
    gap = np.abs(device.astype(np.int64) - expected.astype(np.int64))
    text = f"up to {int(gap.max())} LSB off (mean {gap.mean():.1f} LSB)"
    if tensor.quantization is not None:
        text += f", {float(gap.max()) * tensor.quantization.single_scale:.4g} in real units"
    return text


def _named_evidence(named: list[str]) -> tuple[str, ...]:
    if not named:
        return ()
    return (f"replaying '{named[0]}' on the sample gives the device's bytes (within {TOLERANCE_LSB} LSB)",)


_GENERIC_FIX = (
    "quantize on the device exactly as the model declares: q = round(x / scale) + zero_point, "
    "saturated to the input type, from the same preprocessing as on the PC"
)
_FIXES = {
    "values in [0,255] fed where the model takes [0,1]": "divide the pixels by 255 before quantizing",
    "values in [0,1] fed where the model takes [0,255]": "do not normalise: quantize the 0..255 pixel values",
    "the zero point is not added": "add the input's zero point after dividing by its scale",
    "the scale is not applied (raw values fed)": "divide by the input's scale before adding the zero point",
    "uint8 values fed to an int8 input (the 128 offset is missing)": "subtract 128 from each uint8 value "
    "(or XOR with 0x80)",
    "channels in BGR order where the model takes RGB (or the reverse)": "swap the first and third channel "
    "when copying the camera frame",
    "planar (NCHW) order fed to a channels-last (NHWC) input": "write the pixels interleaved (H, W, C), "
    "not one plane per channel",
}
