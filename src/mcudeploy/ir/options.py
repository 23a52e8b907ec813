"""Typed operator options. Importers fill them; every later stage reads them.

Field names follow TFLite's meaning but are format-neutral: an ONNX or Keras
importer produces the same dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from flatbuffers import flexbuffers

from mcudeploy.ir.tensor import DType


class Padding(StrEnum):
    SAME = "same"
    VALID = "valid"


class Activation(StrEnum):
    """Activation fused into the operator's output."""

    NONE = "none"
    RELU = "relu"
    RELU_N1_TO_1 = "relu_n1_to_1"
    RELU6 = "relu6"
    TANH = "tanh"
    SIGN_BIT = "sign_bit"


@dataclass(frozen=True)
class Conv2DOptions:
    padding: Padding = Padding.VALID
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class DepthwiseConv2DOptions:
    padding: Padding = Padding.VALID
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    depth_multiplier: int = 1
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class TransposeConvOptions:
    padding: Padding = Padding.VALID
    stride_h: int = 1
    stride_w: int = 1
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class BatchMatMulOptions:
    adj_x: bool = False
    adj_y: bool = False
    asymmetric_quantize_inputs: bool = False


@dataclass(frozen=True)
class FullyConnectedOptions:
    activation: Activation = Activation.NONE
    keep_num_dims: bool = False


@dataclass(frozen=True)
class Pool2DOptions:
    padding: Padding = Padding.VALID
    stride_h: int = 1
    stride_w: int = 1
    filter_h: int = 1
    filter_w: int = 1
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class ElementwiseOptions:
    """ADD, SUB, MUL (and other binary arithmetic)."""

    activation: Activation = Activation.NONE
    pot_scale_int16: bool = True


@dataclass(frozen=True)
class SoftmaxOptions:
    beta: float = 1.0


@dataclass(frozen=True)
class LeakyReluOptions:
    alpha: float = 0.2


@dataclass(frozen=True)
class ConcatenationOptions:
    axis: int = 0
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class ReshapeOptions:
    new_shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SqueezeOptions:
    squeeze_dims: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReducerOptions:
    """MEAN, SUM, REDUCE_MAX, ..."""

    keep_dims: bool = False


@dataclass(frozen=True)
class StridedSliceOptions:
    begin_mask: int = 0
    end_mask: int = 0
    ellipsis_mask: int = 0
    new_axis_mask: int = 0
    shrink_axis_mask: int = 0
    offset: bool = False


@dataclass(frozen=True)
class PackOptions:
    values_count: int = 0
    axis: int = 0


@dataclass(frozen=True)
class UnpackOptions:
    num: int = 0
    axis: int = 0


@dataclass(frozen=True)
class SplitOptions:
    num_splits: int = 0


@dataclass(frozen=True)
class ResizeNearestNeighborOptions:
    align_corners: bool = False
    half_pixel_centers: bool = False


@dataclass(frozen=True)
class ResizeBilinearOptions:
    align_corners: bool = False
    half_pixel_centers: bool = False


@dataclass(frozen=True)
class SVDFOptions:
    rank: int = 1
    activation: Activation = Activation.NONE
    asymmetric_quantize_inputs: bool = False


@dataclass(frozen=True)
class SequenceLSTMOptions:
    """UNIDIRECTIONAL_SEQUENCE_LSTM; `activation` is the cell gate's (tanh)."""

    activation: Activation = Activation.TANH
    cell_clip: float = 0.0
    proj_clip: float = 0.0
    time_major: bool = False
    asymmetric_quantize_inputs: bool = False
    diagonal_recurrent_tensors: bool = False


# UNIDIRECTIONAL_SEQUENCE_LSTM's input positions in TFLite's schema.
INPUT_WEIGHTS = (1, 2, 3, 4)
"""Input, forget, cell and output gate, in TFLite's order."""
RECURRENT_WEIGHTS = (5, 6, 7, 8)
BIASES = (12, 13, 14, 15)
HIDDEN_STATE = 18
CELL_STATE = 19


@dataclass(frozen=True)
class VarHandleOptions:
    """The resource variable a VAR_HANDLE names: handles of equal names are one variable."""

    container: str = ""
    shared_name: str = ""


@dataclass(frozen=True)
class BlockSizeOptions:
    """SPACE_TO_DEPTH and DEPTH_TO_SPACE: the side of the square block moved to or from depth."""

    block_size: int = 0


class MirrorPadMode(IntEnum):
    """MIRROR_PAD's modes, as the TFLite schema numbers them."""

    REFLECT = 0
    SYMMETRIC = 1


@dataclass(frozen=True)
class MirrorPadOptions:
    mode: MirrorPadMode = MirrorPadMode.REFLECT


@dataclass(frozen=True)
class GatherOptions:
    axis: int = 0
    batch_dims: int = 0


@dataclass(frozen=True)
class ArgOptions:
    """ARG_MAX and ARG_MIN: the output's element type (the output tensor's, which the kernels read)."""

    output_type: DType = DType.INT32


@dataclass(frozen=True)
class CumsumOptions:
    exclusive: bool = False
    reverse: bool = False


@dataclass(frozen=True)
class IfOptions:
    """The subgraphs (file indices) IF runs when its condition is true, and when false."""

    then_subgraph: int = 0
    else_subgraph: int = 0


@dataclass(frozen=True)
class WhileOptions:
    """The subgraph that decides whether to go on (one bool), and the loop's body."""

    cond_subgraph: int = 0
    body_subgraph: int = 0


@dataclass(frozen=True)
class CallOnceOptions:
    """The subgraph CALL_ONCE runs on the first inference only (it initialises resource variables)."""

    init_subgraph: int = 0


CONTROL_FLOW_OPTIONS = {"IF": IfOptions, "WHILE": WhileOptions, "CALL_ONCE": CallOnceOptions}
"""The operators that run other subgraphs, and their options."""


def called_subgraphs(options: object) -> tuple[int, ...]:
    """The subgraph indices a control-flow operator's options name (none for other operators)."""
    if isinstance(options, IfOptions):
        return options.then_subgraph, options.else_subgraph
    if isinstance(options, WhileOptions):
        return options.cond_subgraph, options.body_subgraph
    if isinstance(options, CallOnceOptions):
        return (options.init_subgraph,)
    return ()


@dataclass(frozen=True)
class CustomOptions:
    """Options of a custom operator, kept as the raw bytes of the file."""

    data: bytes = b""

    def flexbuffer_entry(self, index: int) -> tuple[str, int | None] | None:
        """Entry `index` (in key order) of the bytes read as a FlexBuffer map, as TFLM's signal
        operators read their attributes: its key, and its value when an integer or bool. None when
        the bytes are not such a map or it has no such entry. Read lazily, never decoded whole, so
        that a hostile length costs nothing."""
        try:
            root = flexbuffers.GetRoot(self.data)
            if not root.IsMap or index >= len(root.AsMap):
                return None
            entries = root.AsMap
            key, value = entries.Keys[index].AsKey, entries.Values[index]
            if value.IsBool:
                return key, int(value.AsBool)
            return key, int(value.AsInt) if value.IsInt else None
        except Exception:  # the flexbuffers reader raises anything (IndexError, struct.error...) on corrupt bytes
            return None

    def flexbuffer_value(self, key: str) -> int | float | None:
        """The value under `key` of the bytes read as a FlexBuffer map, as TFLM's
        TFLite_Detection_PostProcess reads its attributes (by key): an int (a bool as 0 or 1) or a
        float; None when the bytes are not such a map, the key is absent or holds something else."""
        try:
            root = flexbuffers.GetRoot(self.data)
            if not root.IsMap:
                return None
            value = root.AsMap[key]
            if value.IsBool:
                return int(value.AsBool)
            if value.IsInt:
                return int(value.AsInt)
            return float(value.AsFloat) if value.IsFloat else None
        except Exception:  # a missing key (KeyError), or corrupt bytes (see flexbuffer_entry)
            return None

    @classmethod
    def from_map(cls, values: dict[str, object]) -> CustomOptions:
        """Attributes encoded as TFLM's signal operators read them (a FlexBuffer map)."""
        return cls(data=bytes(flexbuffers.Dumps(values)))


OperatorOptions = (
    Conv2DOptions
    | DepthwiseConv2DOptions
    | TransposeConvOptions
    | BatchMatMulOptions
    | FullyConnectedOptions
    | Pool2DOptions
    | ElementwiseOptions
    | SoftmaxOptions
    | LeakyReluOptions
    | ConcatenationOptions
    | ReshapeOptions
    | SqueezeOptions
    | ReducerOptions
    | StridedSliceOptions
    | PackOptions
    | SVDFOptions
    | VarHandleOptions
    | SequenceLSTMOptions
    | UnpackOptions
    | SplitOptions
    | ResizeNearestNeighborOptions
    | BlockSizeOptions
    | MirrorPadOptions
    | GatherOptions
    | ArgOptions
    | CumsumOptions
    | ResizeBilinearOptions
    | IfOptions
    | WhileOptions
    | CallOnceOptions
    | CustomOptions
)
