"""A seeded, structure-aware fuzzer of real models, shared by the CI test and bench/fuzz_campaign.py.

Each mutant is one of:
* a field patch: scalars and vector entries of the flatbuffer (tensor shapes, types, buffer
  indices, quantization scales, zero points and axes, operator opcode, input and output
  indices, option fields, subgraph inputs and outputs, builtin codes) located through the
  file's own tables and overwritten in place with boundary or neighbouring values;
* a graph edit: the model read into the IR, changed (operators reordered or dropped, inputs
  absent or rewired, quantization dropped or replaced, options replaced, shapes or types
  changed, graph inputs and outputs removed) and written back with the project's writer;
* byte damage: random bytes overwritten, 4-byte runs planted, the file truncated.

`exercise` runs a mutant through everything the CLI commands do short of compiling C
(load_model, inspect, memory plan and analyze, the engine on seeded inputs, code
rendering) under a time limit. A mutant must either pass or raise McuDeployError
whose message is one printable line; anything else is a finding.
"""

from __future__ import annotations

import dataclasses
import re
import signal
import struct
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
import tflite

from mcudeploy.analysis.model import Reserves, analyze_model
from mcudeploy.codegen.generator import render
from mcudeploy.devices import find_device
from mcudeploy.engine import Engine, check_supported
from mcudeploy.errors import McuDeployError
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite import read_tflite, write_tflite
from mcudeploy.ir import NO_TENSOR, DType, Graph, GraphBuilder, Quantization
from mcudeploy.ir.options import (
    ConcatenationOptions,
    ElementwiseOptions,
    PackOptions,
    Pool2DOptions,
    ReducerOptions,
    ReshapeOptions,
    ResizeNearestNeighborOptions,
    SplitOptions,
    StridedSliceOptions,
)
from mcudeploy.memory import plan_memory
from mcudeploy.reports.inspect import inspect_model

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
SOURCES = [
    "mlperf_tiny/kws_ref_model_int8.tflite",
    "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/ic_resnet8_int8.tflite",
    "mlperf_tiny/ad01_int8.tflite",
    "tflm/person_detect.tflite",
    "tflm/micro_speech_quantized.tflite",
    "tflm/hello_world_int8.tflite",
]
BUILT = "built/movement"
"""A model built here, for the operators the real models lack (slicing, joining, padding, resizing)."""
DEVICE = "STM32F446RE"

# Field slots (index in the schema's table) of what the patcher changes.
TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER, TENSOR_QUANTIZATION = 0, 1, 2, 4
QUANT_SCALE, QUANT_ZERO_POINT, QUANT_DIMENSION = 2, 3, 6
OP_OPCODE, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS = 0, 1, 2, 4
SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS = 1, 2
OPCODE_DEPRECATED_CODE, OPCODE_CODE = 0, 3


@dataclass(frozen=True)
class Site:
    """One patchable value: its byte position, struct format and what it means."""

    position: int
    fmt: str
    kind: str


def _scalar(table, slot: int) -> int | None:
    offset = table._tab.Offset(4 + 2 * slot)
    return table._tab.Pos + offset if offset else None


def _vector(table, slot: int, item: int) -> list[int]:
    offset = table._tab.Offset(4 + 2 * slot)
    if not offset:
        return []
    start = table._tab.Vector(offset)
    return [start + i * item for i in range(table._tab.VectorLen(offset))]


def _option_fields(operator) -> list[int]:
    """Byte positions of every field present in an operator's builtin options table."""
    if not operator._tab.Offset(4 + 2 * OP_OPTIONS):
        return []
    table = operator.BuiltinOptions()
    vtable = table.Pos - struct.unpack_from("<i", table.Bytes, table.Pos)[0]
    vtable_size = struct.unpack_from("<H", table.Bytes, vtable)[0]
    fields = [struct.unpack_from("<H", table.Bytes, vtable + 4 + 2 * i)[0] for i in range((vtable_size - 4) // 2)]
    return [table.Pos + f for f in fields if f]


def field_sites(data: bytes) -> list[Site]:
    """Every value the patcher may change in a model file."""
    model = tflite.Model.GetRootAs(data, 0)
    subgraph = model.Subgraphs(0)
    sites: list[Site] = []

    def add(position: int | None, fmt: str, kind: str) -> None:
        if position is not None:
            sites.append(Site(position, fmt, kind))

    for i in range(subgraph.TensorsLength()):
        tensor = subgraph.Tensors(i)
        sites += [Site(p, "<i", "dim") for p in _vector(tensor, TENSOR_SHAPE, 4)]
        add(_scalar(tensor, TENSOR_TYPE), "<b", "type")
        add(_scalar(tensor, TENSOR_BUFFER), "<I", "buffer")
        quantization = tensor.Quantization()
        if quantization is not None:
            sites += [Site(p, "<f", "scale") for p in _vector(quantization, QUANT_SCALE, 4)]
            sites += [Site(p, "<q", "zero_point") for p in _vector(quantization, QUANT_ZERO_POINT, 8)]
            add(_scalar(quantization, QUANT_DIMENSION), "<i", "axis")
    for i in range(subgraph.OperatorsLength()):
        operator = subgraph.Operators(i)
        add(_scalar(operator, OP_OPCODE), "<I", "opcode")
        sites += [Site(p, "<i", "tensor") for p in _vector(operator, OP_INPUTS, 4)]
        sites += [Site(p, "<i", "tensor") for p in _vector(operator, OP_OUTPUTS, 4)]
        sites += [Site(p, "<b", "option") for p in _option_fields(operator)]
    sites += [Site(p, "<i", "tensor") for p in _vector(subgraph, SUBGRAPH_INPUTS, 4)]
    sites += [Site(p, "<i", "tensor") for p in _vector(subgraph, SUBGRAPH_OUTPUTS, 4)]
    for i in range(model.OperatorCodesLength()):
        opcode = model.OperatorCodes(i)
        add(_scalar(opcode, OPCODE_DEPRECATED_CODE), "<b", "code")
        add(_scalar(opcode, OPCODE_CODE), "<i", "code")
    return sites


_TINY = struct.unpack("<f", struct.pack("<I", 1))[0]  # the smallest denormal float32
_INTERESTING = {
    "dim": [0, 1, 2, 3, -1, 7, 1 << 16, 1 << 30],
    "type": [0, 1, 2, 3, 4, 5, 7, 9, 10, 17, -1, 99],
    "buffer": [0, 1, 2, 1 << 20],
    "scale": [0.0, -1.0, float("nan"), float("inf"), -float("inf"), _TINY, 1e-38, 1e38, 1e-10, 1e10],
    "zero_point": [0, -1, 1, -128, 127, 128, -129, 255, 32768, -(1 << 40)],
    "axis": [0, 1, 2, 3, 4, -1, 100],
    "opcode": [0, 1, 2, 3, 1 << 20],
    "tensor": [-1, 0, 1, 2, 3, -2, 1 << 20],
    "option": [0, 1, 2, 3, -1, 127, -128, 5, 6],
    "code": [0, 1, 2, 3, 4, 9, 17, 22, 25, 32, 127, -1, 200, 1 << 20],
}


def movement_model() -> bytes:
    """int8 1x4x6x3 → TRANSPOSE → STRIDED_SLICE → PAD → RESIZE → SPLIT → ADD (broadcast) →
    CONCATENATION → MAX_POOL → RESHAPE → MUL → PACK → MEAN → LOGISTIC."""
    b = GraphBuilder("movement")
    q = {"scale": 0.05, "zero_point": -2}

    def const(values) -> int:
        array = np.asarray(values, dtype=np.int32)
        return b.tensor(array.shape, "int32", data=array)

    x = b.tensor((1, 4, 6, 3), "int8", **q, name="input")
    t = b.tensor((1, 6, 4, 3), "int8", **q)
    b.op("TRANSPOSE", [x, const([0, 2, 1, 3])], [t])
    s = b.tensor((1, 3, 4, 3), "int8", **q)
    b.op(
        "STRIDED_SLICE", [t, const([0, 0, 0, 0]), const([1, 6, 4, 3]), const([1, 2, 1, 1])], [s], StridedSliceOptions()
    )
    p = b.tensor((1, 4, 6, 3), "int8", **q)
    b.op("PAD", [s, const([[0, 0], [1, 0], [1, 1], [0, 0]])], [p])
    r = b.tensor((1, 8, 12, 3), "int8", **q)
    b.op("RESIZE_NEAREST_NEIGHBOR", [p, const([8, 12])], [r], ResizeNearestNeighborOptions())
    halves = [b.tensor((1, 8, 6, 3), "int8", **q) for _ in range(2)]
    b.op("SPLIT", [const([2]), r], halves, SplitOptions(num_splits=2))
    row = b.tensor((1, 1, 6, 3), "int8", **q, data=np.arange(18, dtype=np.int8).reshape(1, 1, 6, 3))
    a = b.tensor((1, 8, 6, 3), "int8", **q)
    b.op("ADD", [halves[0], row], [a], ElementwiseOptions())
    c = b.tensor((1, 8, 6, 6), "int8", **q)
    b.op("CONCATENATION", [a, halves[1]], [c], ConcatenationOptions(axis=3))
    m = b.tensor((1, 4, 3, 6), "int8", **q)
    b.op("MAX_POOL_2D", [c], [m], Pool2DOptions(stride_h=2, stride_w=2, filter_h=2, filter_w=2))
    flat = b.tensor((12, 6), "int8", **q)
    b.op("RESHAPE", [m], [flat], ReshapeOptions((12, 6)))
    scaled = b.tensor((12, 6), "int8", scale=0.2, zero_point=3)
    b.op("MUL", [flat, flat], [scaled], ElementwiseOptions())
    packed = b.tensor((2, 12, 6), "int8", scale=0.2, zero_point=3)
    b.op("PACK", [scaled, scaled], [packed], PackOptions(values_count=2, axis=0))
    mean = b.tensor((2, 6), "int8", scale=0.2, zero_point=3)
    b.op("MEAN", [packed, const([1])], [mean], ReducerOptions(keep_dims=False))
    y = b.tensor((2, 6), "int8", scale=1 / 256, zero_point=-128, name="output")
    b.op("LOGISTIC", [mean], [y])
    return write_tflite(b.build(inputs=[x], outputs=[y]))


class Mutator:
    """Seeded mutants of the source models: every call to `mutant()` gives the next one."""

    def __init__(self, seed: int, sources: list[str] = SOURCES) -> None:
        self.rng = np.random.default_rng(seed)
        self.sources = [(name, (MODELS / name).read_bytes()) for name in sources] + [(BUILT, movement_model())]
        self.sites = {name: field_sites(data) for name, data in self.sources}

    def mutant(self) -> tuple[str, bytes]:
        """(what was done, the mutant's bytes)."""
        name, data = self.sources[int(self.rng.integers(len(self.sources)))]
        choice = self.rng.random()
        if choice < 0.45:
            what, mutant = self._patch(name, data)
        elif choice < 0.7:
            what, mutant = self._edit(data)
        else:
            what, mutant = self._damage(data)
        return f"{Path(name).stem}: {what}", mutant

    def _patch(self, name: str, data: bytes) -> tuple[str, bytes]:
        mutant, done = bytearray(data), []
        sites = self.sites[name]
        for _ in range(int(self.rng.integers(1, 4))):
            site = sites[int(self.rng.integers(len(sites)))]
            value = self._value(site, mutant)
            struct.pack_into(site.fmt, mutant, site.position, value)
            done.append(f"{site.kind}@{site.position}={value!r}")
        return "patch " + ", ".join(done), bytes(mutant)

    def _value(self, site: Site, data: bytearray) -> int | float:
        current = struct.unpack_from(site.fmt, data, site.position)[0]
        roll = self.rng.random()
        if site.kind == "scale":
            if roll < 0.5:
                return _pick(self.rng, _INTERESTING["scale"])
            return float(np.float32(current * 2.0 ** int(self.rng.integers(-40, 40))))
        if roll < 0.5:
            value = _pick(self.rng, _INTERESTING[site.kind])
        elif roll < 0.8:
            value = current + int(self.rng.integers(-3, 4))
        else:
            value = int(self.rng.integers(-(1 << 31), 1 << 31))
        low, high = {"<b": (-128, 127), "<I": (0, (1 << 32) - 1), "<q": (-(1 << 63), (1 << 63) - 1)}.get(
            site.fmt, (-(1 << 31), (1 << 31) - 1)
        )
        return min(max(value, low), high)

    def _edit(self, data: bytes) -> tuple[str, bytes]:
        graph = read_tflite(data)
        edit = _EDITS[int(self.rng.integers(len(_EDITS)))]
        what = edit(graph, self.rng)
        try:
            return f"edit {what}", write_tflite(graph)
        except (ValueError, KeyError, TypeError, struct.error) as error:  # an IR the writer cannot express
            return f"edit {what} (unwritable: {type(error).__name__}), bytes kept", data

    def _damage(self, data: bytes) -> tuple[str, bytes]:
        mutant = bytearray(data)
        roll = self.rng.random()
        if roll < 0.5:
            positions = self.rng.integers(0, len(mutant), int(self.rng.integers(1, 9)))
            for position in positions:
                mutant[position] = int(self.rng.integers(256))
            return f"bytes at {positions.tolist()}", bytes(mutant)
        if roll < 0.8:
            position = int(self.rng.integers(0, len(mutant) - 4))
            run = [b"\xff\xff\xff\x7f", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x00\x00\x00\x80"][
                int(self.rng.integers(4))
            ]
            mutant[position : position + 4] = run
            return f"run {run.hex()} at {position}", bytes(mutant)
        length = int(self.rng.integers(0, len(mutant)))
        return f"truncated to {length}", bytes(mutant[:length])


# ------------------------------------------------------------------------- graph edits

Edit = Callable[[Graph, np.random.Generator], str]


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def _swap_operators(graph: Graph, rng: np.random.Generator) -> str:
    if len(graph.operators) < 2:
        return "nothing"
    i = int(rng.integers(len(graph.operators) - 1))
    ops = graph.operators
    ops[i], ops[i + 1] = ops[i + 1], ops[i]
    return f"swap operators {i} and {i + 1}"


def _drop_operator(graph: Graph, rng: np.random.Generator) -> str:
    i = int(rng.integers(len(graph.operators)))
    del graph.operators[i]
    return f"drop operator {i}"


def _rewire_input(graph: Graph, rng: np.random.Generator) -> str:
    op = _pick(rng, graph.operators)
    if not op.inputs:
        return "nothing"
    position = int(rng.integers(len(op.inputs)))
    target = _pick(rng, [NO_TENSOR, *range(len(graph.tensors))])
    op.inputs = (*op.inputs[:position], target, *op.inputs[position + 1 :])
    return f"operator {op.index} input {position} := {target}"


def _rewire_output(graph: Graph, rng: np.random.Generator) -> str:
    op = _pick(rng, graph.operators)
    target = int(rng.integers(len(graph.tensors)))
    op.outputs = (target,) if rng.random() < 0.8 else ()
    return f"operator {op.index} outputs := {op.outputs}"


def _drop_quantization(graph: Graph, rng: np.random.Generator) -> str:
    tensor = _pick(rng, graph.tensors)
    tensor.quantization = None
    return f"tensor {tensor.index} without quantization"


def _replace_quantization(graph: Graph, rng: np.random.Generator) -> str:
    tensor = _pick(rng, graph.tensors)
    scale = _pick(rng, _INTERESTING["scale"])
    zero_point = int(_pick(rng, _INTERESTING["zero_point"][:-1]))
    tensor.quantization = Quantization(
        scale=np.array([np.float32(scale)], dtype=np.float64), zero_point=np.array([zero_point], dtype=np.int64)
    )
    return f"tensor {tensor.index} quantization {scale!r}, {zero_point}"


def _reshape_tensor(graph: Graph, rng: np.random.Generator) -> str:
    tensor = _pick(rng, [t for t in graph.tensors if not t.is_constant])
    if not tensor.shape:
        return "nothing"
    axis = int(rng.integers(len(tensor.shape)))
    size = int(_pick(rng, [0, 1, 2, 3, tensor.shape[axis] + 1, tensor.shape[axis] * 2, 1 << 20]))
    tensor.shape = (*tensor.shape[:axis], size, *tensor.shape[axis + 1 :])
    return f"tensor {tensor.index} shape {list(tensor.shape)}"


def _retype_tensor(graph: Graph, rng: np.random.Generator) -> str:
    tensor = _pick(rng, [t for t in graph.tensors if not t.is_constant])
    tensor.dtype = _pick(rng, [DType.INT8, DType.INT16, DType.INT32, DType.FLOAT32, DType.UINT8, DType.BOOL])
    return f"tensor {tensor.index} type {tensor.dtype}"


def _replace_option(graph: Graph, rng: np.random.Generator) -> str:
    ops = [op for op in graph.operators if op.options is not None and dataclasses.fields(op.options)]
    if not ops:
        return "nothing"
    op = _pick(rng, ops)
    field = _pick(rng, dataclasses.fields(op.options))
    current = getattr(op.options, field.name)
    if isinstance(current, bool | str) or current is None or isinstance(current, tuple):
        return "nothing"
    value = type(current)(_pick(rng, [0, -1, -2, 1, 2, 3, 7, 100, 1 << 20]))
    if isinstance(current, float):
        value = _pick(rng, [0.0, -1.0, float("nan"), float("inf"), 1e30])
    op.options = dataclasses.replace(op.options, **{field.name: value})
    return f"operator {op.index} {field.name} := {value!r}"


def _graph_ends(graph: Graph, rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.3:
        graph.inputs = ()
        return "no graph inputs"
    if roll < 0.6:
        graph.outputs = ()
        return "no graph outputs"
    target = int(rng.integers(len(graph.tensors)))
    if roll < 0.8:
        graph.outputs = (*graph.outputs, target)
        return f"graph output {target} added"
    graph.inputs = (*graph.inputs, target)
    return f"graph input {target} added"


_EDITS: list[Edit] = [
    _swap_operators,
    _drop_operator,
    _rewire_input,
    _rewire_output,
    _drop_quantization,
    _replace_quantization,
    _reshape_tensor,
    _retype_tensor,
    _replace_option,
    _graph_ends,
]


# ---------------------------------------------------------------------------- running


class HangError(Exception):
    """The mutant took longer than its time limit."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def expire(signum, frame):
        raise HangError(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_QUOTED = re.compile(r"'[^']*'")


def message_problem(message: str) -> str | None:
    """What is wrong with an error message, or None. Quoted names come from the file and are the
    printer's to escape; the rest must be one printable line."""
    unquoted = _QUOTED.sub("''", message)
    if not unquoted.isprintable():
        return f"message is not one printable line: {message!r}"
    return None


def exercise(data: bytes, path: Path, seconds: int = 20) -> tuple[str, str]:
    """("ok" | "refused" | "finding", detail) for one mutant written to `path`."""
    path.write_bytes(data)
    try:
        with _time_limit(seconds), warnings.catch_warnings():
            warnings.simplefilter("error")  # a numpy warning is a value computed from garbage
            _pipeline(path)
    except McuDeployError as error:
        problem = message_problem(str(error))
        return ("finding", problem) if problem else ("refused", str(error))
    except HangError as error:
        return "finding", f"hang: {error}"
    except Exception as error:  # anything else escapes as a traceback: a finding
        where = traceback.extract_tb(error.__traceback__)[-1]
        return "finding", f"{type(error).__name__}: {error} at {Path(where.filename).name}:{where.lineno}"
    return "ok", ""


def _pipeline(path: Path) -> None:
    """What inspect, analyze, run and generate do, in process, without compiling C."""
    graph = load_model(path)
    inspect_model(graph)
    plan = plan_memory(graph)
    with mock.patch("mcudeploy.analysis.model.measured_code", return_value=None):
        analyze_model(graph, plan, find_device(DEVICE), Reserves())
    check_supported(graph)
    rng = np.random.default_rng(0)
    inputs = [_random_input(t.dtype.numpy, t.shape, rng) for t in graph.graph_inputs]
    Engine(graph).run(inputs)
    render(graph, plan)


def _random_input(dtype: np.dtype, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return rng.standard_normal(shape).astype(dtype)


@dataclass
class Campaign:
    """Counts of outcomes, and each distinct finding with the first mutant that showed it."""

    counts: Counter = dataclasses.field(default_factory=Counter)
    findings: dict[str, str] = dataclasses.field(default_factory=dict)


def run_campaign(
    seed: int,
    count: int,
    workdir: Path,
    seconds: int = 20,
    budget_s: float | None = None,
    keep: Path | None = None,
    report: Callable[[Campaign], None] | None = None,
) -> Campaign:
    """`count` mutants from `seed` (fewer if `budget_s` seconds run out first); the first mutant of
    each distinct finding is kept in `keep` when given; `report` sees the counts every 250 mutants."""
    mutator = Mutator(seed)
    campaign = Campaign()
    start = time.monotonic()
    path = workdir / "mutant.tflite"
    for _ in range(count):
        if budget_s is not None and time.monotonic() - start > budget_s:
            break
        what, data = mutator.mutant()
        outcome, detail = exercise(data, path, seconds)
        campaign.counts[outcome] += 1
        if outcome == "finding":
            key = re.sub(r"\d+", "N", detail)[:200]
            if key not in campaign.findings and keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"finding_{len(campaign.findings)}.tflite").write_bytes(data)
                (keep / f"finding_{len(campaign.findings)}.txt").write_text(f"{what} -> {detail}\n")
            campaign.findings.setdefault(key, f"{what} -> {detail}")
        if report is not None and sum(campaign.counts.values()) % 250 == 0:
            report(campaign)
    return campaign
