"""How the TFLite flatbuffer schema maps onto the IR, in one table read both ways.

The reader decodes options with it and the writer encodes them with it, so the
two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import tflite

from mcudeploy.ir import options as ir
from mcudeploy.ir.tensor import DType

TFLITE_IDENTIFIER = b"TFL3"

BUILTIN_NAMES: dict[int, str] = {
    code: name for name, code in vars(tflite.BuiltinOperator).items() if not name.startswith("_")
}
BUILTIN_CODES: dict[str, int] = {name: code for code, name in BUILTIN_NAMES.items()}
CUSTOM_CODE = BUILTIN_CODES["CUSTOM"]

DTYPES: dict[int, DType] = {
    tflite.TensorType.FLOAT32: DType.FLOAT32,
    tflite.TensorType.FLOAT16: DType.FLOAT16,
    tflite.TensorType.FLOAT64: DType.FLOAT64,
    tflite.TensorType.INT4: DType.INT4,
    tflite.TensorType.INT8: DType.INT8,
    tflite.TensorType.UINT8: DType.UINT8,
    tflite.TensorType.INT16: DType.INT16,
    tflite.TensorType.UINT16: DType.UINT16,
    tflite.TensorType.INT32: DType.INT32,
    tflite.TensorType.UINT32: DType.UINT32,
    tflite.TensorType.INT64: DType.INT64,
    tflite.TensorType.UINT64: DType.UINT64,
    tflite.TensorType.BOOL: DType.BOOL,
    tflite.TensorType.RESOURCE: DType.RESOURCE,
}
TENSOR_TYPES: dict[DType, int] = {dtype: code for code, dtype in DTYPES.items()}
TENSOR_TYPE_NAMES: dict[int, str] = {
    code: name for name, code in vars(tflite.TensorType).items() if not name.startswith("_")
}

PADDINGS: dict[int, ir.Padding] = {tflite.Padding.SAME: ir.Padding.SAME, tflite.Padding.VALID: ir.Padding.VALID}
ACTIVATIONS: dict[int, ir.Activation] = {
    tflite.ActivationFunctionType.NONE: ir.Activation.NONE,
    tflite.ActivationFunctionType.RELU: ir.Activation.RELU,
    tflite.ActivationFunctionType.RELU_N1_TO_1: ir.Activation.RELU_N1_TO_1,
    tflite.ActivationFunctionType.RELU6: ir.Activation.RELU6,
    tflite.ActivationFunctionType.TANH: ir.Activation.TANH,
    tflite.ActivationFunctionType.SIGN_BIT: ir.Activation.SIGN_BIT,
}
ENUMS: dict[type, dict[int, object]] = {ir.Padding: PADDINGS, ir.Activation: ACTIVATIONS, DType: DTYPES}


@dataclass(frozen=True)
class OptionSpec:
    """One TFLite options table and the IR dataclass it maps to, field by field.

    `fields` maps an IR field name to the flatbuffer field name (the getter is
    `table.<Field>()`, the builder function `<Table>Add<Field>`).
    """

    table: str
    ir_class: type
    fields: dict[str, str]

    @property
    def union_type(self) -> int:
        return getattr(tflite.BuiltinOptions, self.table)

    def field_type(self, ir_field: str) -> type:
        return _field_types(self.ir_class)[ir_field]


def _field_types(cls: type) -> dict[str, type]:
    # The type of each field's default; vector fields default to () or None, both tuples in the IR.
    return {f.name: tuple if f.default is None else type(f.default) for f in dataclasses.fields(cls)}


_ACT = {"activation": "FusedActivationFunction"}
_CONV = {
    "padding": "Padding",
    "stride_h": "StrideH",
    "stride_w": "StrideW",
    "dilation_h": "DilationHFactor",
    "dilation_w": "DilationWFactor",
    **_ACT,
}
_POOL = {
    "padding": "Padding",
    "stride_h": "StrideH",
    "stride_w": "StrideW",
    "filter_h": "FilterHeight",
    "filter_w": "FilterWidth",
    **_ACT,
}
_REDUCER = OptionSpec("ReducerOptions", ir.ReducerOptions, {"keep_dims": "KeepDims"})

OPTIONS: dict[str, OptionSpec] = {
    "CONV_2D": OptionSpec("Conv2DOptions", ir.Conv2DOptions, _CONV),
    "DEPTHWISE_CONV_2D": OptionSpec(
        "DepthwiseConv2DOptions", ir.DepthwiseConv2DOptions, {**_CONV, "depth_multiplier": "DepthMultiplier"}
    ),
    "TRANSPOSE_CONV": OptionSpec(
        "TransposeConvOptions",
        ir.TransposeConvOptions,
        {"padding": "Padding", "stride_h": "StrideH", "stride_w": "StrideW", **_ACT},
    ),
    "BATCH_MATMUL": OptionSpec(
        "BatchMatMulOptions",
        ir.BatchMatMulOptions,
        {"adj_x": "AdjX", "adj_y": "AdjY", "asymmetric_quantize_inputs": "AsymmetricQuantizeInputs"},
    ),
    "FULLY_CONNECTED": OptionSpec(
        "FullyConnectedOptions", ir.FullyConnectedOptions, {**_ACT, "keep_num_dims": "KeepNumDims"}
    ),
    "AVERAGE_POOL_2D": OptionSpec("Pool2DOptions", ir.Pool2DOptions, _POOL),
    "MAX_POOL_2D": OptionSpec("Pool2DOptions", ir.Pool2DOptions, _POOL),
    "L2_POOL_2D": OptionSpec("Pool2DOptions", ir.Pool2DOptions, _POOL),
    "ADD": OptionSpec("AddOptions", ir.ElementwiseOptions, {**_ACT, "pot_scale_int16": "PotScaleInt16"}),
    "SUB": OptionSpec("SubOptions", ir.ElementwiseOptions, {**_ACT, "pot_scale_int16": "PotScaleInt16"}),
    "MUL": OptionSpec("MulOptions", ir.ElementwiseOptions, _ACT),
    "DIV": OptionSpec("DivOptions", ir.ElementwiseOptions, _ACT),
    "L2_NORMALIZATION": OptionSpec("L2NormOptions", ir.ElementwiseOptions, _ACT),
    "SOFTMAX": OptionSpec("SoftmaxOptions", ir.SoftmaxOptions, {"beta": "Beta"}),
    "LEAKY_RELU": OptionSpec("LeakyReluOptions", ir.LeakyReluOptions, {"alpha": "Alpha"}),
    "CONCATENATION": OptionSpec("ConcatenationOptions", ir.ConcatenationOptions, {"axis": "Axis", **_ACT}),
    "RESHAPE": OptionSpec("ReshapeOptions", ir.ReshapeOptions, {"new_shape": "NewShape"}),
    "SQUEEZE": OptionSpec("SqueezeOptions", ir.SqueezeOptions, {"squeeze_dims": "SqueezeDims"}),
    "MEAN": _REDUCER,
    "SUM": _REDUCER,
    "REDUCE_MAX": _REDUCER,
    "REDUCE_MIN": _REDUCER,
    "REDUCE_PROD": _REDUCER,
    "REDUCE_ALL": _REDUCER,
    "STRIDED_SLICE": OptionSpec(
        "StridedSliceOptions",
        ir.StridedSliceOptions,
        {
            "begin_mask": "BeginMask",
            "end_mask": "EndMask",
            "ellipsis_mask": "EllipsisMask",
            "new_axis_mask": "NewAxisMask",
            "shrink_axis_mask": "ShrinkAxisMask",
            "offset": "Offset",
        },
    ),
    "PACK": OptionSpec("PackOptions", ir.PackOptions, {"values_count": "ValuesCount", "axis": "Axis"}),
    "UNPACK": OptionSpec("UnpackOptions", ir.UnpackOptions, {"num": "Num", "axis": "Axis"}),
    "SPLIT": OptionSpec("SplitOptions", ir.SplitOptions, {"num_splits": "NumSplits"}),
    "SPLIT_V": OptionSpec("SplitVOptions", ir.SplitOptions, {"num_splits": "NumSplits"}),
    "SVDF": OptionSpec(
        "SVDFOptions",
        ir.SVDFOptions,
        {"rank": "Rank", **_ACT, "asymmetric_quantize_inputs": "AsymmetricQuantizeInputs"},
    ),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": OptionSpec(
        "UnidirectionalSequenceLSTMOptions",
        ir.SequenceLSTMOptions,
        {
            **_ACT,
            "cell_clip": "CellClip",
            "proj_clip": "ProjClip",
            "time_major": "TimeMajor",
            "asymmetric_quantize_inputs": "AsymmetricQuantizeInputs",
            "diagonal_recurrent_tensors": "DiagonalRecurrentTensors",
        },
    ),
    "VAR_HANDLE": OptionSpec(
        "VarHandleOptions", ir.VarHandleOptions, {"container": "Container", "shared_name": "SharedName"}
    ),
    "SPACE_TO_DEPTH": OptionSpec("SpaceToDepthOptions", ir.BlockSizeOptions, {"block_size": "BlockSize"}),
    "DEPTH_TO_SPACE": OptionSpec("DepthToSpaceOptions", ir.BlockSizeOptions, {"block_size": "BlockSize"}),
    "MIRROR_PAD": OptionSpec("MirrorPadOptions", ir.MirrorPadOptions, {"mode": "Mode"}),
    "GATHER": OptionSpec("GatherOptions", ir.GatherOptions, {"axis": "Axis", "batch_dims": "BatchDims"}),
    "ARG_MAX": OptionSpec("ArgMaxOptions", ir.ArgOptions, {"output_type": "OutputType"}),
    "ARG_MIN": OptionSpec("ArgMinOptions", ir.ArgOptions, {"output_type": "OutputType"}),
    "CUMSUM": OptionSpec("CumsumOptions", ir.CumsumOptions, {"exclusive": "Exclusive", "reverse": "Reverse"}),
    "IF": OptionSpec(
        "IfOptions", ir.IfOptions, {"then_subgraph": "ThenSubgraphIndex", "else_subgraph": "ElseSubgraphIndex"}
    ),
    "WHILE": OptionSpec(
        "WhileOptions", ir.WhileOptions, {"cond_subgraph": "CondSubgraphIndex", "body_subgraph": "BodySubgraphIndex"}
    ),
    "CALL_ONCE": OptionSpec("CallOnceOptions", ir.CallOnceOptions, {"init_subgraph": "InitSubgraphIndex"}),
    "RESIZE_NEAREST_NEIGHBOR": OptionSpec(
        "ResizeNearestNeighborOptions",
        ir.ResizeNearestNeighborOptions,
        {"align_corners": "AlignCorners", "half_pixel_centers": "HalfPixelCenters"},
    ),
    "RESIZE_BILINEAR": OptionSpec(
        "ResizeBilinearOptions",
        ir.ResizeBilinearOptions,
        {"align_corners": "AlignCorners", "half_pixel_centers": "HalfPixelCenters"},
    ),
}
