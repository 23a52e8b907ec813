"""Model inputs from user files: .npy, .npz, raw .bin, and .bmp images.

Values are checked against the model's input tensors: element count must match;
float arrays given to a quantized integer input are quantized with the input's
scale and zero point, the way firmware would do it. Sizes are checked from the
headers (npy shape and type, zip member sizes, BMP dimensions) before any data is
read, and only regular files are opened (a FIFO or a device would block or never end).
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mcudeploy.errors import McuDeployError
from mcudeploy.files import open_regular
from mcudeploy.ir import Graph, Tensor

BMP_HEADER = struct.Struct("<2sIHHI")  # magic, file size, reserved, reserved, pixel data offset
BMP_INFO = struct.Struct("<IiiHHI")  # header size, width, height, planes, bits per pixel, compression
MAX_INPUT_BYTES = 1 << 28
"""256 MiB: a file (or a batch of inputs) beyond any microcontroller model's inputs."""
# What numpy, zipfile and zlib raise on a malformed or truncated file.
_READ_ERRORS = (ValueError, OSError, EOFError, struct.error, zipfile.BadZipFile, zlib.error)


def load_inputs(path: str | Path, graph: Graph) -> list[np.ndarray]:
    """One array per model input, in the order of `graph.inputs`."""
    path = Path(path)
    loaders = {".npy": _load_npy, ".npz": _load_npz, ".bin": _load_raw, ".raw": _load_raw, ".bmp": _load_bmp}
    loader = loaders.get(path.suffix.lower())
    if loader is None:
        raise McuDeployError(str(path), f"unknown input format '{path.suffix}' (use .npy, .npz, .bin or .bmp)")
    with _reading(path) as stream:
        arrays = loader(stream, graph, str(path))
    if len(arrays) != len(graph.inputs):
        raise McuDeployError(str(path), f"holds {len(arrays)} arrays, the model takes {len(graph.inputs)} inputs")
    return [_fit(str(path), array, tensor) for array, tensor in zip(arrays, graph.graph_inputs, strict=True)]


@contextmanager
def _reading(path: Path) -> Iterator[BinaryIO]:
    """The file open for reading; a malformed file's errors become one line naming it."""
    with open_regular(path, MAX_INPUT_BYTES) as stream:
        try:
            yield stream
        except _READ_ERRORS as error:
            raise McuDeployError(str(path), f"cannot read input: {error}") from None


def _load_npy(stream: BinaryIO, graph: Graph, subject: str) -> list[np.ndarray]:
    if len(graph.inputs) != 1:
        raise McuDeployError(subject, f"holds 1 array, the model takes {len(graph.inputs)} inputs (give a .npz)")
    return [_read_npy(stream, subject, graph.graph_inputs[0], os.fstat(stream.fileno()).st_size)]


def _read_npy(stream: BinaryIO, subject: str, tensor: Tensor, available: int, batch: int = 1) -> np.ndarray:
    """An .npy array of `available` bytes whose header, read first, says it holds `batch` times the
    values of `tensor` and fits in those bytes: nothing is allocated for what a header merely claims."""
    start = stream.tell()
    shape, dtype = _npy_header(stream)
    count = int(np.prod(shape, dtype=np.float64))
    _check_count(subject, tensor, count // batch)
    data_bytes = available - (stream.tell() - start)
    if count * dtype.itemsize > data_bytes:
        raise ValueError(f"the header says {list(shape)} {dtype}, but only {data_bytes:,} bytes of data follow")
    stream.seek(start)
    return np.lib.format.read_array(stream, allow_pickle=False)


def _npy_header(stream: BinaryIO) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(stream)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")
    shape, _, dtype = readers[version](stream)
    if dtype.hasobject:
        raise ValueError("the array holds Python objects, not numbers")
    return shape, dtype


def _check_count(subject: str, tensor: Tensor, count: int) -> None:
    if count != tensor.size:
        raise McuDeployError(
            subject, f"input '{tensor.name}' needs {tensor.size} values (shape {list(tensor.shape)}), got {count}"
        )


def _load_npz(stream: BinaryIO, graph: Graph, subject: str) -> list[np.ndarray]:
    """Arrays named after the input tensors, or else taken in file order."""
    with zipfile.ZipFile(stream) as archive:
        members = _npz_members(archive)
        names = [t.name for t in graph.graph_inputs]
        if all(name in members for name in names):
            chosen = [(members[name], tensor) for name, tensor in zip(names, graph.graph_inputs, strict=True)]
        elif len(members) == len(graph.inputs):
            chosen = list(zip(members.values(), graph.graph_inputs, strict=True))
        else:
            raise McuDeployError(subject, f"holds {len(members)} arrays, the model takes {len(graph.inputs)} inputs")
        return [_read_member(archive, info, subject, tensor) for info, tensor in chosen]


def _npz_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's arrays by name, their unpacked sizes checked before anything is unpacked."""
    members = archive.infolist()
    unpacked = sum(info.file_size for info in members)
    if unpacked > MAX_INPUT_BYTES:
        raise ValueError(f"the arrays unpack to {unpacked:,} bytes, more than the {MAX_INPUT_BYTES:,} mcudeploy reads")
    return {info.filename.removesuffix(".npy"): info for info in members}


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, subject: str, tensor: Tensor, batch: int = 1
) -> np.ndarray:
    with archive.open(info) as member:
        return _read_npy(member, subject, tensor, info.file_size, batch)


def _load_raw(stream: BinaryIO, graph: Graph, subject: str) -> list[np.ndarray]:
    """The inputs' bytes back to back, little-endian, in input order."""
    size = os.fstat(stream.fileno()).st_size
    needed = sum(t.nbytes for t in graph.graph_inputs)
    if size != needed:
        raise McuDeployError(subject, f"file has {size} bytes, the model's inputs need {needed}")
    data = stream.read(needed)
    arrays, offset = [], 0
    for tensor in graph.graph_inputs:
        arrays.append(np.frombuffer(data, dtype=tensor.dtype.numpy, count=tensor.size, offset=offset).copy())
        offset += tensor.nbytes
    return arrays


def _load_bmp(stream: BinaryIO, graph: Graph, subject: str) -> list[np.ndarray]:
    """An uncompressed 8-bit (palette, grey) or 24-bit BMP as top-down rows of pixel bytes.

    For an int8 input each byte is reinterpreted as int8, which is how TensorFlow
    Lite Micro's person-detection example feeds its camera bytes.
    """
    header = stream.read(BMP_HEADER.size + BMP_INFO.size)
    magic, _, _, _, pixel_offset = BMP_HEADER.unpack_from(header, 0)
    _, width, height, _, bits, compression = BMP_INFO.unpack_from(header, BMP_HEADER.size)
    if magic != b"BM" or compression != 0 or bits not in (8, 24):
        raise ValueError("only uncompressed 8-bit or 24-bit BMP images are supported")
    if width <= 0 or height == 0:
        raise ValueError(f"the image is {width}x{height} pixels")
    channels = bits // 8
    tensor = graph.graph_inputs[0]
    _check_count(subject, tensor, width * abs(height) * channels)
    row_bytes = (width * channels + 3) & ~3  # rows are padded to 4 bytes
    stream.seek(pixel_offset)
    data = stream.read(row_bytes * abs(height))
    if len(data) != row_bytes * abs(height):
        raise ValueError(f"pixel data is {len(data)} bytes, a {width}x{abs(height)} image needs more")
    image = np.frombuffer(data, dtype=np.uint8).reshape(abs(height), row_bytes)
    image = image[:, : width * channels].reshape(abs(height), width, channels)
    if height > 0:  # positive height: stored bottom-up
        image = image[::-1]
    if channels == 3:
        image = image[..., ::-1]  # BMP stores BGR
    pixels = np.ascontiguousarray(image)
    return [pixels.view(np.int8) if tensor.dtype.numpy == np.int8 else pixels]


def _fit(source: str, array: np.ndarray, tensor: Tensor) -> np.ndarray:
    _check_count(source, tensor, array.size)
    if array.ndim == 4 and len(tensor.shape) == 4 and array.shape != tensor.shape:
        # Same size, other 4-D shape: NCHW data for an NHWC model, which a reshape would scramble silently.
        raise McuDeployError(
            source, f"input '{tensor.name}' has shape {list(array.shape)}, the model takes {list(tensor.shape)} (NHWC)"
        )
    if array.dtype.kind == "f" and not tensor.dtype.is_float and tensor.quantization is not None:
        if not np.isfinite(array).all():
            raise McuDeployError(
                source, f"input '{tensor.name}' is {tensor.dtype}: NaN and infinity have no value in it"
            )
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


def random_inputs(graph: Graph, seed: int = 0) -> list[np.ndarray]:
    """Seeded inputs over each input's whole range: every integer value, both booleans, or real
    values in [-1, 1)."""
    rng = np.random.default_rng(seed)
    return [random_array(tensor, rng) for tensor in graph.graph_inputs]


def random_array(tensor: Tensor, rng: np.random.Generator) -> np.ndarray:
    """One tensor's random value, drawn as `random_inputs` draws it."""
    dtype = tensor.dtype.numpy
    if tensor.dtype.is_float:
        return rng.uniform(-1.0, 1.0, tensor.shape).astype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, tensor.shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, tensor.shape, endpoint=True, dtype=dtype)


INPUT_SUFFIXES = (".npy", ".npz", ".bin", ".raw", ".bmp")


def _batch_size(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], graph: Graph) -> int:
    """How many input sets a .npz holds when each array, in file order, stacks several of its input
    along a leading axis (read from the headers alone); 1 otherwise."""
    if len(members) != len(graph.inputs):
        return 1
    counts = set()
    for info, tensor in zip(members, graph.graph_inputs, strict=True):
        with archive.open(info) as member:
            shape, _ = _npy_header(member)
        if len(shape) < 1 or shape[0] < 2 or int(np.prod(shape, dtype=np.float64)) != shape[0] * tensor.size:
            return 1
        counts.add(shape[0])
    return counts.pop() if len(counts) == 1 else 1


def load_labels(path: str | Path, count: int) -> np.ndarray:
    """Class indices, one per input set (a 1-D integer .npy)."""
    path = Path(path)
    with _reading(path) as stream:
        shape, dtype = _npy_header(stream)
        stream.seek(0)
        if len(shape) != 1 or dtype.kind not in "iu":
            raise McuDeployError(str(path), f"labels must be a 1-D integer array, not {list(shape)} {dtype}")
        if shape[0] != count:
            raise McuDeployError(str(path), f"{shape[0]} labels for {count} input sets")
        return np.lib.format.read_array(stream, allow_pickle=False).astype(np.int64)


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
        with _reading(path) as stream, zipfile.ZipFile(stream) as archive:
            members = list(_npz_members(archive).values())
            count = _batch_size(archive, members, graph)
            if count > 1:
                batches = [_read_member(archive, info, str(path), t, count)
                           for info, t in zip(members, graph.graph_inputs, strict=True)]  # fmt: skip
                inputs = graph.graph_inputs
                return [[_fit(str(path), b[i], t) for b, t in zip(batches, inputs, strict=True)] for i in range(count)]
    return [load_inputs(path, graph)]
