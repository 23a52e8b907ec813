"""The plan checker catches deliberately broken plans, statically and on the simulated arena."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import MODELS
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph
from mcudeploy.memory import MemoryPlan, plan_memory
from mcudeploy.memory.checker import check_execution, check_layout
from mcudeploy.memory.plan import Buffer


@pytest.fixture(scope="module")
def resnet() -> Graph:
    return read_tflite(MODELS / "mlperf_tiny/ic_resnet8_int8.tflite")


@pytest.fixture(scope="module")
def ours(resnet) -> MemoryPlan:
    return plan_memory(resnet)


def _moved(plan: MemoryPlan, name: str, **changes) -> MemoryPlan:
    return replace(plan, buffers=[replace(b, **changes) if b.name == name else b for b in plan.buffers])


def _buffer(plan: MemoryPlan, name: str) -> Buffer:
    return next(b for b in plan.buffers if b.name == name)


def _both_checks(graph: Graph, plan: MemoryPlan) -> tuple[list[str], list[str]]:
    return check_layout(graph, plan), check_execution(graph, plan, random_inputs(graph))


def test_valid_plans_pass(resnet, ours) -> None:
    assert _both_checks(resnet, ours) == ([], [])
    assert _both_checks(resnet, plan_memory(resnet, "tflm")) == ([], [])


def test_catches_two_live_tensors_sharing_bytes(resnet) -> None:
    plan = plan_memory(resnet, "tflm")
    add = next(op for op in resnet.operators if op.op_type == "ADD")
    skip, residual = (_buffer(plan, b.name) for b in plan.buffers if b.tensor in add.inputs)
    layout, execution = _both_checks(resnet, _moved(plan, residual.name, offset=skip.offset))
    assert any("share bytes and no kernel declares it safe" in p for p in layout)
    assert any(f"{add.label} reads" in p for p in execution)


def test_catches_an_in_place_overlap_past_its_condition(resnet, ours) -> None:
    # A convolution writing its output over its own input, exactly as far as its kernel allows...
    permit = next(
        p
        for p in ours.permits
        if resnet.operators[p.op].op_type == "CONV_2D"
        and _buffer(ours, p.writer).offset - _buffer(ours, p.reader).offset == p.max_shift < 0
    )
    writer = _buffer(ours, permit.writer)
    # ...and one aligned step further: the kernel would overwrite input rows it has yet to read.
    broken = _moved(ours, writer.name, offset=writer.offset + ours.alignment)
    layout, execution = _both_checks(resnet, broken)
    assert any(permit.reader in p and permit.writer in p for p in layout)
    assert any(f"{resnet.operators[permit.op].label} overwrites input bytes" in p for p in execution)


def test_catches_scratch_on_a_live_tensor(resnet, ours) -> None:
    scratch = next(b for b in ours.buffers if b.scratch_of is not None)
    op = resnet.operators[scratch.scratch_of]
    data = next(b for b in ours.buffers if b.tensor == op.inputs[0])
    layout, execution = _both_checks(resnet, _moved(ours, scratch.name, offset=data.offset))
    assert any(scratch.name in p for p in layout)
    assert any(f"{op.label} reads" in p for p in execution)


def test_catches_a_lifetime_cut_short(resnet, ours) -> None:
    skip = next(b for b in ours.buffers if b.tensor is not None and b.last - b.first >= 3)
    layout = check_layout(resnet, _moved(ours, skip.name, last=skip.first))
    assert layout == [f"'{skip.name}': steps {skip.first}..{skip.first}, {skip.size} bytes; "
                      f"needs steps {skip.first}..{skip.last}, {skip.size} bytes"]  # fmt: skip


def test_catches_a_missing_scratch(resnet, ours) -> None:
    scratch = next(b for b in ours.buffers if b.scratch_of is not None)
    layout = check_layout(resnet, replace(ours, buffers=[b for b in ours.buffers if b is not scratch]))
    assert any("scratch buffers of [] bytes" in p for p in layout)


def test_catches_an_alias_no_kernel_declares(resnet) -> None:
    plan = plan_memory(resnet, "tflm")
    conv = resnet.operators[1]
    source = next(b for b in plan.buffers if b.tensor == conv.inputs[0])
    output = next(b for b in plan.buffers if b.tensor == conv.outputs[0])
    layout = check_layout(resnet, _moved(plan, output.name, alias_of=source.tensor, offset=source.offset))
    assert any("which no kernel declares" in p for p in layout)


def test_simulation_treats_undeclared_overlap_as_overwritten_first() -> None:
    # A fully connected kernel reads its whole input for every output: no overlap is ever safe.
    graph = read_tflite(MODELS / "tflm/hello_world_int8.tflite")
    plan = plan_memory(graph, "tflm")
    last = graph.operators[-1]
    source = next(b for b in plan.buffers if b.tensor == last.inputs[0])
    output = next(b for b in plan.buffers if b.tensor == last.outputs[0])
    execution = check_execution(graph, _moved(plan, output.name, offset=source.offset), random_inputs(graph))
    assert any(f"{last.label} overwrites input bytes" in p for p in execution)
