"""Tensors of the graph IR: shape, element type, quantization and constant data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class DType(StrEnum):
    INT4 = "int4"
    """Two's complement 4-bit values, two to a byte in files and in flash (`pack_int4`); in the IR
    a constant's data holds them one per int8 element."""
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    """TFLM's signal operators (FilterBank's energies)."""
    FLOAT16 = "float16"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOL = "bool"
    RESOURCE = "resource"
    """A resource variable's handle (VAR_HANDLE's output): its id, an int32."""

    @property
    def numpy(self) -> np.dtype:
        if self is DType.INT4:
            return np.dtype(np.int8)
        return np.dtype(np.int32) if self is DType.RESOURCE else np.dtype(self.value)

    def nbytes(self, count: int) -> int:
        """Bytes `count` elements take stored: int4 two to a byte, the last byte half used when `count` is odd."""
        return (count + 1) // 2 if self is DType.INT4 else count * self.itemsize

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    @property
    def is_float(self) -> bool:
        return self in (DType.FLOAT16, DType.FLOAT32, DType.FLOAT64)


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point).

    Per-tensor quantization has one scale and `axis` None; per-channel has one
    scale per slice along `axis`. Scales keep the float32 values of the file,
    held as float64 so that derived multipliers are computed as TFLite does.
    """

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int | None = None

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    @property
    def single_scale(self) -> float:
        return float(self.scale[0])

    @property
    def single_zero_point(self) -> int:
        return int(self.zero_point[0])

    @classmethod
    def per_tensor(cls, scale: float, zero_point: int) -> Quantization:
        return cls(
            scale=np.array([np.float32(scale)], dtype=np.float64),
            zero_point=np.array([zero_point], dtype=np.int64),
        )

    @classmethod
    def per_axis(cls, scales, zero_points, axis: int) -> Quantization:
        return cls(
            scale=np.asarray(scales, dtype=np.float32).astype(np.float64),
            zero_point=np.asarray(zero_points, dtype=np.int64),
            axis=axis,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Quantization)
            and self.axis == other.axis
            and np.array_equal(self.scale, other.scale)
            and np.array_equal(self.zero_point, other.zero_point)
        )

    def __hash__(self) -> int:
        return hash((self.axis, self.scale.tobytes(), self.zero_point.tobytes()))


@dataclass
class Tensor:
    """One tensor of a graph. `data` is set for constants and is a read-only array."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: DType
    quantization: Quantization | None = None
    data: np.ndarray | None = field(default=None, repr=False)
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.dtype.nbytes(self.size)

    @property
    def is_quantized(self) -> bool:
        return self.quantization is not None

    @property
    def lives_in_arena(self) -> bool:
        """Whether the tensor's bytes are planned in the arena. Not constants (flash), variable
        tensors (persistent state), resource handles (TFLM points them at their kernel's data)
        nor empty tensors."""
        return not self.is_constant and not self.is_variable and self.dtype != DType.RESOURCE and self.nbytes > 0

    @property
    def reset_value(self) -> int:
        """What a variable tensor holds before the first invocation (TFLM's ResetVariableTensors):
        the zero point in every int8 element, zero bytes in any other type."""
        if self.dtype == DType.INT8 and self.quantization is not None:
            return self.quantization.single_zero_point
        return 0


def pack_int4(values: np.ndarray) -> np.ndarray:
    """int4 values (int8 elements in [-8, 7]) packed as TFLite stores them: element 2i in the low
    nibble of byte i, element 2i + 1 in its high nibble, over the flattened tensor (rows are not
    padded); an odd count leaves the last high nibble 0."""
    flat = np.asarray(values, dtype=np.int8).reshape(-1)
    nibbles = np.zeros(flat.size + flat.size % 2, dtype=np.uint8)
    nibbles[: flat.size] = flat.view(np.uint8) & 0x0F
    return (nibbles[0::2] | (nibbles[1::2] << 4)).view(np.int8)


def unpack_int4(packed: np.ndarray, count: int) -> np.ndarray:
    """`count` int4 values from packed bytes, sign-extended to int8 (TFLite's UnpackDenseInt4IntoInt8):
    the low nibble first; the high nibble of the last byte is ignored when `count` is odd."""
    data = np.asarray(packed).view(np.int8).reshape(-1)
    low = np.left_shift(data, 4) >> 4
    high = data >> 4
    return np.stack([low, high], axis=1).reshape(-1)[:count].astype(np.int8)
