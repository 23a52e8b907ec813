"""Models that Vela already compiled: what their `ethos-u` custom operators hold.

Vela replaces each NPU segment by one `ethos-u` operator whose inputs are, in this order, the
command stream, the read-only data (encoded weights and scales), the scratch tensor, the fast
scratch tensor, then the segment's feature maps. The command stream starts with Vela's driver
header ('COP1' and a configuration word: log2 of the MACs per cycle, the SHRAM size in KiB and
the product), so the NPU a model was compiled for can be read back from it. Vela also plans the
TFLite Micro arena itself and stores the offsets in the model's `OfflineMemoryAllocation`
metadata: the arena is the end of the highest tensor there.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import McuDeployError
from mcudeploy.ir import ETHOS_U, Graph, Operator

COMMAND_STREAM_MAGIC = b"COP1"
NPU_PRODUCTS = {0: "ethos-u55", 1: "ethos-u65"}
"""The product field of the driver header's configuration word."""
OFFLINE_PLAN = b"OfflineMemoryAllocation"
OFFLINE_PLAN_HEADER_WORDS = 3
"""Version, subgraph index, tensor count; then one offset per tensor (-1: not in the arena)."""


@dataclass(frozen=True)
class EthosUOperator:
    index: int
    command_stream_bytes: int
    read_only_bytes: int
    """Encoded weights, biases and scales."""
    scratch_bytes: int
    fast_scratch_bytes: int
    feature_maps: tuple[str, ...]
    """The segment's input tensors."""
    compiled_for: str | None
    """The accelerator configuration in the command stream's header, e.g. ethos-u55-256."""
    shram_kib: int | None


def ethos_u_operators(graph: Graph) -> list[EthosUOperator]:
    return [_describe(graph, op) for op in graph.operators if is_ethos_u(op)]


def is_ethos_u(op: Operator) -> bool:
    return op.is_custom and op.op_type == ETHOS_U


def check_runs_on_cpu(graph: Graph) -> None:
    """A model holding Ethos-U command streams cannot run in the reference engine: say why, plainly."""
    found = ethos_u_operators(graph)
    if not found:
        return
    first = found[0]
    target = first.compiled_for or "an Ethos-U NPU"
    raise McuDeployError(
        graph.subject,
        f"layer #{first.index} is an Ethos-U command stream compiled by Vela for {target} "
        f"({first.command_stream_bytes:,} B of NPU commands, {first.read_only_bytes:,} B of encoded weights): "
        "only the NPU executes it and mcudeploy does not emulate NPU arithmetic; "
        "run the model as it was before Vela compiled it",
    )


def offline_offsets(model: bytes) -> np.ndarray | None:
    """Each tensor's arena offset in Vela's offline plan (-1: not in the arena); None without a plan."""
    import tflite

    root = tflite.Model.GetRootAsModel(model, 0)
    for i in range(root.MetadataLength()):
        entry = root.Metadata(i)
        if entry.Name() == OFFLINE_PLAN:
            words = np.frombuffer(root.Buffers(entry.Buffer()).DataAsNumpy().tobytes(), dtype="<i4")
            return words[OFFLINE_PLAN_HEADER_WORDS:]
    return None


def offline_arena_bytes(model: bytes, graph: Graph) -> int | None:
    """The arena Vela planned for `graph` (read from `model`): the end of its highest tensor; None without a plan."""
    offsets = offline_offsets(model)
    if offsets is None:
        return None
    return max((int(offset) + graph.tensors[t].nbytes for t, offset in enumerate(offsets) if offset >= 0), default=0)


def _describe(graph: Graph, op: Operator) -> EthosUOperator:
    tensors = graph.input_tensors(op)
    sizes = [t.nbytes if t is not None else 0 for t in tensors[:4]] + [0] * max(0, 4 - len(tensors))
    stream = tensors[0].data if tensors and tensors[0] is not None and tensors[0].data is not None else None
    compiled_for, shram = _header(stream.tobytes() if stream is not None else b"")
    return EthosUOperator(
        index=op.index,
        command_stream_bytes=sizes[0],
        read_only_bytes=sizes[1],
        scratch_bytes=sizes[2],
        fast_scratch_bytes=sizes[3],
        feature_maps=tuple(t.name for t in tensors[4:] if t is not None),
        compiled_for=compiled_for,
        shram_kib=shram,
    )


def _header(stream: bytes) -> tuple[str | None, int | None]:
    if len(stream) < 12 or stream[:4] != COMMAND_STREAM_MAGIC:
        return None, None
    (config,) = struct.unpack_from("<I", stream, 8)
    macs = 1 << (config & 0xF)
    shram = (config >> 8) & 0xFF
    product = NPU_PRODUCTS.get(config >> 28)
    return (f"{product}-{macs}" if product else None), shram
