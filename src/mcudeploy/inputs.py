"""Model inputs from user files: .npy, .npz, raw .bin, and .bmp images.

Values are checked against the model's input tensors: element count must match;
float arrays given to a quantized integer input are quantized with the input's
scale and zero point, the way firmware would do it.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from mcudeploy.errors import McuDeployError
from mcudeploy.ir import Graph, Tensor

BMP_HEADER = struct.Struct("<2sIHHI")  # magic, file size, reserved, reserved, pixel data offset
BMP_INFO = struct.Struct("<IiiHHI")  # header size, width, height, planes, bits per pixel, compression


def load_inputs(path: str | Path, graph: Graph) -> list[np.ndarray]:
    """One array per model input, in the order of `graph.inputs`."""
    path = Path(path)
    if not path.is_file():
        raise McuDeployError(str(path), "no such input file")
    loaders = {".npy": _load_npy, ".npz": _load_npz, ".bin": _load_raw, ".raw": _load_raw, ".bmp": _load_bmp}
    loader = loaders.get(path.suffix.lower())
    if loader is None:
        raise McuDeployError(str(path), f"unknown input format '{path.suffix}' (use .npy, .npz, .bin or .bmp)")
    try:
        arrays = loader(path, graph)
    except (ValueError, OSError, EOFError, struct.error) as error:
        raise McuDeployError(str(path), f"cannot read input: {error}") from None
    if len(arrays) != len(graph.inputs):
        raise McuDeployError(str(path), f"holds {len(arrays)} arrays, the model takes {len(graph.inputs)} inputs")
    return [_fit(str(path), array, tensor) for array, tensor in zip(arrays, graph.graph_inputs, strict=True)]


def _load_npy(path: Path, graph: Graph) -> list[np.ndarray]:
    return [np.load(path, allow_pickle=False)]


def _load_npz(path: Path, graph: Graph) -> list[np.ndarray]:
    """Arrays named after the input tensors, or else taken in file order."""
    with np.load(path, allow_pickle=False) as archive:
        names = [t.name for t in graph.graph_inputs]
        if all(name in archive.files for name in names):
            return [archive[name] for name in names]
        return [archive[key] for key in archive.files]


def _load_raw(path: Path, graph: Graph) -> list[np.ndarray]:
    """The inputs' bytes back to back, little-endian, in input order."""
    data = path.read_bytes()
    needed = sum(t.nbytes for t in graph.graph_inputs)
    if len(data) != needed:
        raise ValueError(f"file has {len(data)} bytes, the model's inputs need {needed}")
    arrays, offset = [], 0
    for tensor in graph.graph_inputs:
        arrays.append(np.frombuffer(data, dtype=tensor.dtype.numpy, count=tensor.size, offset=offset).copy())
        offset += tensor.nbytes
    return arrays


def _load_bmp(path: Path, graph: Graph) -> list[np.ndarray]:
    """An uncompressed 8-bit (palette, grey) or 24-bit BMP as top-down rows of pixel bytes.

    For an int8 input each byte is reinterpreted as int8, which is how TensorFlow
    Lite Micro's person-detection example feeds its camera bytes.
    """
    data = path.read_bytes()
    magic, _, _, _, pixel_offset = BMP_HEADER.unpack_from(data, 0)
    _, width, height, _, bits, compression = BMP_INFO.unpack_from(data, BMP_HEADER.size)
    if magic != b"BM" or compression != 0 or bits not in (8, 24):
        raise ValueError("only uncompressed 8-bit or 24-bit BMP images are supported")
    channels = bits // 8
    row_bytes = (width * channels + 3) & ~3  # rows are padded to 4 bytes
    rows = np.frombuffer(data, dtype=np.uint8, count=row_bytes * abs(height), offset=pixel_offset)
    image = rows.reshape(abs(height), row_bytes)[:, : width * channels].reshape(abs(height), width, channels)
    if height > 0:  # positive height: stored bottom-up
        image = image[::-1]
    if channels == 3:
        image = image[..., ::-1]  # BMP stores BGR
    tensor = graph.graph_inputs[0]
    pixels = np.ascontiguousarray(image)
    return [pixels.view(np.int8) if tensor.dtype.numpy == np.int8 else pixels]


def _fit(source: str, array: np.ndarray, tensor: Tensor) -> np.ndarray:
    if array.size != tensor.size:
        raise McuDeployError(
            source, f"input '{tensor.name}' needs {tensor.size} values (shape {list(tensor.shape)}), got {array.size}"
        )
    if array.dtype.kind == "f" and not tensor.dtype.is_float and tensor.quantization is not None:
        array = quantize(array, tensor)
    if array.dtype != tensor.dtype.numpy:
        raise McuDeployError(source, f"input '{tensor.name}' is {tensor.dtype}, the file holds {array.dtype}")
    return array.reshape(tensor.shape)


def quantize(values: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Real values to the tensor's integer type: round(x / scale) + zero point, saturated."""
    quant = tensor.quantization
    scaled = np.asarray(values, dtype=np.float64) / quant.single_scale
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + quant.single_zero_point
    info = np.iinfo(tensor.dtype.numpy)
    return np.clip(rounded, info.min, info.max).astype(tensor.dtype.numpy)


def random_inputs(graph: Graph, seed: int) -> list[np.ndarray]:
    """Seeded inputs over each input's whole range: every integer value, or real values in [-1, 1)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in graph.graph_inputs:
        if tensor.dtype.is_float:
            arrays.append(rng.uniform(-1.0, 1.0, tensor.shape).astype(tensor.dtype.numpy))
        else:
            info = np.iinfo(tensor.dtype.numpy)
            arrays.append(rng.integers(info.min, info.max, tensor.shape, endpoint=True, dtype=tensor.dtype.numpy))
    return arrays


INPUT_SUFFIXES = (".npy", ".npz", ".bin", ".raw", ".bmp")


def load_input_sets(path: str | Path, graph: Graph) -> list[list[np.ndarray]]:
    """Several input sets: each file of a folder is one set; a .npz whose arrays carry a leading
    batch axis gives one set per batch entry; any other file is one set."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in INPUT_SUFFIXES)
        if not files:
            raise McuDeployError(str(path), f"holds no input files ({', '.join(INPUT_SUFFIXES)})")
        return [load_inputs(f, graph) for f in files]
    if path.suffix.lower() == ".npz" and path.is_file():
        with np.load(path, allow_pickle=False) as archive:
            batches = [archive[key] for key in archive.files]
        if len(batches) == len(graph.inputs) and all(
            b.ndim >= 1 and b.size == b.shape[0] * t.size and b.shape[0] > 1
            for b, t in zip(batches, graph.graph_inputs, strict=True)
        ):
            count = batches[0].shape[0]
            return [[_fit(str(path), b[i], t) for b, t in zip(batches, graph.graph_inputs, strict=True)]
                    for i in range(count)]  # fmt: skip
    return [load_inputs(path, graph)]
