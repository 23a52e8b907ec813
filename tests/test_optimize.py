"""`--optimize`: each CONV_2D's variant (im2col or direct columns, int8 or int16 weights), each
FULLY_CONNECTED's weights and each DEPTHWISE_CONV_2D's schedule (channel planes or streaming) chosen for the
whole model on the device, the choice held on the operator and followed by the constant layout and the
generated code. The cycle model is replaced here by fixed per-layer cycles (the runs are QEMU's: the
kernels' bit-exactness is in test_kernel_paths)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import run_cli
from mcudeploy.analysis.model import Reserves
from mcudeploy.codegen import render
from mcudeploy.devices import find_device
from mcudeploy.errors import InternalError
from mcudeploy.estimate import optimize
from mcudeploy.estimate.memory import faster_code_sections
from mcudeploy.estimate.optimize import Measure, ModelRun, Objective, optimize_code_and_variants, optimize_variants
from mcudeploy.examples.kws import build_kws_cnn
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Columns, Graph, KernelVariant, Loops, Operator, Schedule, WeightLayout, WeightMemory
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions, Padding
from mcudeploy.kernels import kernel_contract
from mcudeploy.kernels.contracts import least_memory_schedule
from mcudeploy.kernels.loops import has_rolled_loops
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import CodeSection, code_estimate, constant_layout
from mcudeploy.params.constant_inputs import pair_interleaved, stored_values
from mcudeploy.params.requantization import WALK_RECORD, requantization
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _conv, _depthwise, _fully_connected
from test_estimate import break_library_source

DIRECT, IM2COL = Columns.DIRECT, Columns.IM2COL
WIDE = WeightLayout.INT16_PAIRS


def _cycles(graph: Graph, device, clock: float, stack: int) -> ModelRun:
    """Fixed cycles per variant: the direct path 3x im2col's; int16 weights pay on layer 0 only."""
    layers = {}
    for op in graph.operators:
        variant = op.variant or KernelVariant()
        base = 1000.0 * (op.index + 1)
        factor = 3.0 if variant.columns == DIRECT else 1.0
        if variant.weights == WIDE:
            factor = 0.8 if op.index == 0 else 1.2
        layers[op.index] = base * factor
    return ModelRun(layers, 50.0)


@pytest.fixture(autouse=True)
def estimated_code(monkeypatch):
    # The code's flash from the table estimate: no cross build per configuration here.
    monkeypatch.setattr(optimize, "measured_code", lambda graph, plan, core, code_section: None)


def _choose(objective: Objective, device: str = "STM32F446RE") -> tuple[Graph, optimize.VariantChoice]:
    graph = build_kws_cnn("cnn_s")
    choice = optimize_variants(graph, find_device(device), Reserves(2048), objective, measure=_cycles)
    return graph, choice


def test_size_keeps_int8_weights_and_the_smallest_arena() -> None:
    graph, choice = _choose(Objective.SIZE)
    assert [p.name for p in choice.points] == ["size"] and choice.chosen.milliseconds is None  # nothing timed
    assert graph.operators[1].variant.columns == DIRECT  # its columns would raise the arena (test_memory_planners)
    assert all(op.variant is None or op.variant.weights == WeightLayout.INT8 for op in graph.operators)


def test_balanced_widens_only_where_it_pays_at_the_smallest_arena() -> None:
    graph, choice = _choose(Objective.BALANCED)
    size = choice.points[0]
    # Layer 0's int16 weights pay, but their kernel's 4 columns of scratch (the int8 one's 2) raise the
    # arena: balanced leaves them out, unrolled or rolled (layer 0, a 10x4 stem over one channel, has
    # rolled loops: timed as a point of its own).
    assert [p.name for p in choice.points] == ["size", "size + rolled loops"]
    assert choice.chosen.name == "size" and choice.chosen.int16_layers == []
    assert graph.operators[0].variant == KernelVariant(IM2COL)
    # The latency is the layers' cycles plus those between them, at the part's clock.
    assert size.milliseconds == pytest.approx((50 + sum(1000.0 * (i + 1) for i in range(6)) + 2 * 2000) / 180e3)


def test_speed_takes_im2col_wherever_the_model_still_fits() -> None:
    graph, choice = _choose(Objective.SPEED)
    chosen = choice.chosen
    assert chosen.direct_layers == [] and chosen.int16_layers == [0] and chosen.fits
    assert chosen.arena_bytes > choice.points[0].arena_bytes
    assert chosen.milliseconds == min(p.milliseconds for p in choice.points)
    # The flash holds the int16 filter: its int8 bytes once more, and the walk's record of 8 int32
    # per channel pair (the arrays are 16-byte aligned).
    columns = next(p for p in choice.points if p.name == "fast columns")
    filter_t = graph.tensors[graph.operators[0].inputs[1]]
    records = filter_t.shape[0] // 2 * WALK_RECORD * 4
    assert chosen.name == "fast columns + int16 weights"
    assert chosen.flash_bytes - columns.flash_bytes == pytest.approx(filter_t.nbytes + records, abs=16)


def test_no_int16_weights_where_the_core_has_no_dsp_kernel_for_them() -> None:
    _, choice = _choose(Objective.BALANCED, "AE722F80F55D5")  # Cortex-M55: the MVE kernel runs int8
    assert all(p.int16_layers == [] for p in choice.points)


def test_the_chosen_variants_reach_the_layout_and_the_generated_code() -> None:
    graph = build_kws_cnn("cnn_s")
    conv = graph.operators[0]
    int8_bytes = constant_layout(graph).total_bytes
    conv.variant = KernelVariant(IM2COL, WIDE)
    assert constant_layout(graph).total_bytes >= int8_bytes + graph.tensors[conv.inputs[1]].nbytes
    files = render(graph, plan_memory(graph)).files
    assert files["network.c"].count("md_conv_s8_w16(") == 1
    assert "int16_t" in next(text for name, text in files.items() if name.endswith("network_data.h"))


def test_int16_weight_convolutions_store_each_channel_pairs_walk_record() -> None:
    # {bias0, bias1, addend0, exponent0, multiplier0, addend1, exponent1, multiplier1} per pair, the
    # addend half + (output offset << exponent): md_conv_s8_w16's `walk` (md_nn.h)
    graph = build_kws_cnn("cnn_s")
    conv = graph.operators[0]
    assert requantization(conv, graph).walk is None  # int8 weights: no walk
    conv.variant = KernelVariant(IM2COL, WIDE)
    record = requantization(conv, graph)
    bias = graph.tensors[conv.inputs[2]].data
    offset = graph.tensors[conv.outputs[0]].quantization.single_zero_point
    exponents = -record.shifts.astype(np.int64)
    addends = (exponents >= 1) * ((1 << (exponents - 1)) + (offset << exponents))
    channels = np.stack([addends, exponents, record.multipliers], 1).reshape(-1, 6)
    expected = np.concatenate([bias.reshape(-1, 2), channels], 1).reshape(-1)
    assert record.walk.dtype == np.int32 and record.walk.tolist() == expected.tolist()
    layout = constant_layout(graph)
    assert next(a for a in layout.arrays if a.kind == "walk" and a.layer == 0).count == WALK_RECORD * bias.size // 2
    code = render(graph, plan_memory(graph)).files["network.c"]
    assert re.search(r"md_conv_s8_w16\([^;]*_shifts,\s*net_weights\.conv_1_walk,", code)


def test_analyze_json_gives_the_points_considered(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.undo()  # the code measured from the link, as analyze measures it
    model = tmp_path / "kws_cnn_s.tflite"
    model.write_bytes(write_tflite(build_kws_cnn("cnn_s")))
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(model), "--optimize", "size", "--json")
    report = json.loads(out)
    variants = report["variants"]
    assert code == 0 and variants["objective"] == "size"
    assert [p["name"] for p in variants["points"]] == ["size"] and variants["points"][0]["chosen"]
    # The chosen point's figures are the budget's: the same record, the same measured code.
    chosen = variants["points"][0]
    assert (chosen["flash_bytes"], chosen["ram_bytes"], chosen["arena_bytes"]) == (
        report["flash_bytes"],
        report["ram_bytes"],
        report["arena_bytes"],
    )


def _dense_model() -> Graph:
    """Two int8 fully connected layers (no convolution), symmetric per-channel filters."""
    f = Family("dense", 11)
    _fully_connected(f, "int8", (1, 64), 32, per_channel=True)
    _fully_connected(f, "int8", (1, 32), 8, per_channel=True)
    return f.graph()


def test_fully_connected_layers_take_int16_weights_where_they_pay() -> None:
    graph = _dense_model()
    choice = optimize_variants(graph, find_device("STM32H7A3ZI"), Reserves(2048), Objective.SPEED, measure=_cycles)
    assert choice.chosen.name == "size + int16 weights" and choice.chosen.int16_layers == [0]
    assert [op.variant for op in graph.operators] == [KernelVariant(weights=WIDE), KernelVariant()]
    files = render(graph, plan_memory(graph)).files
    assert files["network.c"].count("md_fully_connected_s8_w16(") == 1
    # size keeps the int8 kernels and chooses nothing
    graph = _dense_model()
    assert optimize_variants(graph, find_device("STM32H7A3ZI"), Reserves(2048), Objective.SIZE).points == []
    assert all(op.variant is None for op in graph.operators)


def test_a_variant_that_fails_to_build_stops_the_choice(monkeypatch) -> None:
    """The int16-weight fully connected kernel not compiling: the run that times that variant raises the
    build's error, rather than leaving the variants untimed and the choice to the configurations that built."""
    break_library_source(monkeypatch, "md_fully_connected_w16.c")
    with pytest.raises(InternalError, match=r": md_fully_connected_w16\.c:\d+:\d+: error: "):
        optimize_variants(_dense_model(), find_device("STM32H7A3ZI"), Reserves(2048), Objective.SPEED)


def test_int16_fully_connected_filter_goes_in_blocks_of_4_rows() -> None:
    # [6 outputs, 6 values]: one block of 4 rows (values 0-3 side by side, then the last 2 of each
    # row), then rows 4 and 5 as they are
    graph = _dense_model()
    op = graph.operators[0]
    op.variant = KernelVariant(weights=WIDE)
    rows = np.arange(36).reshape(6, 6)
    block = [rows[r, :4] for r in range(4)] + [rows[r, 4:] for r in range(4)]
    expected = np.concatenate([*block, rows[4], rows[5]])
    np.testing.assert_array_equal(stored_values(op, 1, rows), expected)
    np.testing.assert_array_equal(stored_values(op, 2, rows), rows)  # the bias as it is


def _twice_as_fast(schedule: Schedule) -> Measure:
    """Fixed cycles: a depthwise layer on `schedule` takes half the cycles of the other schedule."""

    def measure(graph: Graph, device, clock: float, stack: int) -> ModelRun:
        fast = [op.variant is not None and op.variant.schedule == schedule for op in graph.operators]
        return ModelRun(
            {op.index: 1000.0 * (0.5 if f else 1.0) for op, f in zip(graph.operators, fast, strict=True)}, 50.0
        )

    return measure


def _one_depthwise(shape: tuple[int, ...]) -> tuple[Graph, Operator]:
    """A model of one int8 3x3 DEPTHWISE_CONV_2D (SAME, stride 1) over `shape`, and that layer."""
    family = Family("one_depthwise", 3)
    _depthwise(family, "int8", shape, 1, DepthwiseConv2DOptions(Padding.SAME, 1, 1))
    graph = family.graph()
    return graph, graph.operators[0]


def test_speed_times_streaming_where_planes_take_fewer_bytes() -> None:
    graph, depthwise = _one_depthwise((1, 3, 3, 64))
    assert least_memory_schedule(graph, depthwise) == Schedule.PLANES  # streaming would take more bytes
    m4 = find_device("NUCLEO-L4R5ZI")
    balanced = optimize_variants(
        graph, m4, Reserves(2048), Objective.BALANCED, measure=_twice_as_fast(Schedule.STREAMING)
    )
    assert balanced.chosen.plane_layers == [0]  # streaming's bytes are above the smallest arena
    speed = optimize_variants(graph, m4, Reserves(2048), Objective.SPEED, measure=_twice_as_fast(Schedule.STREAMING))
    assert speed.chosen.name == "size + faster depthwise" and speed.chosen.plane_layers == []
    assert depthwise.variant.schedule == Schedule.STREAMING


def test_speed_takes_depthwise_planes_where_faster_and_the_code_stays_bit_exact() -> None:
    graph, depthwise = _one_depthwise((1, 24, 24, 2))
    assert least_memory_schedule(graph, depthwise) == Schedule.STREAMING  # planes would take more bytes
    m4 = find_device("NUCLEO-L4R5ZI")
    size = optimize_variants(graph, m4, Reserves(2048), Objective.SIZE, measure=_twice_as_fast(Schedule.PLANES))
    assert size.chosen.plane_layers == [] and kernel_contract(graph, depthwise).scratch_bytes == 0
    speed = optimize_variants(graph, m4, Reserves(2048), Objective.SPEED, measure=_twice_as_fast(Schedule.PLANES))
    chosen = speed.chosen
    assert chosen.name == "size + faster depthwise" and chosen.plane_layers == [0] and chosen.fits
    assert chosen.arena_bytes > size.chosen.arena_bytes and depthwise.variant.schedule == Schedule.PLANES
    checker = Validator(graph)
    try:
        network = checker.code_for("host").directory.joinpath("network.c").read_text()
        assert re.search(r"md_depthwise_s8\([^;]*NET_TENSOR\(int8_t, NET_ARENA_\w+\)\);", network)  # the plane scratch
        checked = checker.validate_target("host", [random_inputs(graph, seed) for seed in (0, 1)])
        assert [r.divergence for r in checked.inputs if not r.agrees] == []
    finally:
        checker.close()


def test_speed_retimes_the_depthwise_schedule_once_its_weights_read_sram() -> None:
    # Planes faster while the filter is read from flash (streaming reads it at every pixel), streaming
    # once it is read from SRAM: the schedule measured with the constants where they end up.
    graph, depthwise = _one_depthwise((1, 24, 24, 2))

    def measure(graph: Graph, device, clock: float, stack: int) -> ModelRun:
        variant = graph.operators[0].variant
        in_flash = variant.weights_in != WeightMemory.SRAM
        planes, streaming = (1000.0, 1500.0) if in_flash else (950.0, 800.0)
        cycles = planes if variant.schedule != Schedule.STREAMING else streaming  # grouped: as one plane
        return ModelRun({0: cycles}, 50.0, {0: 100.0 if in_flash else 0.0})

    choice = optimize_variants(graph, find_device("NUCLEO-L4R5ZI"), Reserves(2048), Objective.SPEED, measure=measure)
    assert choice.chosen.name == "size + faster depthwise + weights in SRAM + depthwise re-timed"
    assert depthwise.variant == KernelVariant(schedule=Schedule.STREAMING, weights_in=WeightMemory.SRAM)


def _grey_stem() -> Graph:
    """A DEPTHWISE_CONV_2D of one input channel (person_detect's first layer, smaller): a convolution."""
    family = Family("grey_stem", 5)
    _depthwise(family, "int8", (1, 12, 12, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    return family.graph()


@pytest.mark.parametrize("rolled_cycles", [700.0, 1300.0])
def test_speed_rolls_the_hot_loop_where_the_unrolled_one_is_slower(rolled_cycles: float) -> None:
    # Grouped 6x6 planes: md_dw_fused_6x6 unrolled at 1000 cycles; rolled (md_dw_fused_6x6_rolled)
    # faster behind a small flash cache, slower where the code is cached: taken only where faster.
    graph, depthwise = _one_depthwise((1, 6, 6, 8))

    def measure(graph: Graph, device, clock: float, stack: int) -> ModelRun:
        variant = graph.operators[0].variant
        grouped = 1000.0 if variant.schedule == Schedule.GROUPED else 2000.0
        return ModelRun({0: rolled_cycles if grouped == 1000.0 and variant.loops == Loops.ROLLED else grouped}, 50.0)

    choice = optimize_variants(graph, find_device("NUCLEO-L4R5ZI"), Reserves(2048), Objective.SPEED, measure=measure)
    assert depthwise.variant.schedule == Schedule.GROUPED and has_rolled_loops(graph, depthwise)
    faster = rolled_cycles < 1000.0
    assert choice.chosen.rolled_layers == ([0] if faster else [])
    assert choice.chosen.name.endswith(" + rolled loops") == faster
    network = render(graph, plan_memory(graph)).files["network.c"]
    assert ("md_depthwise_s8_grouped_six(" in network) != faster
    assert ("md_depthwise_s8_grouped_six_rolled(" in network) == faster


@pytest.mark.parametrize("rolled_cycles", [700.0, 1300.0])
@pytest.mark.parametrize(
    ("shape", "routine"),
    [((1, 25, 5, 64), "md_dw_fused_tall_25x5_64"), ((1, 24, 24, 32), "md_dw_fused_rows_24_32")],
)
def test_speed_tries_grouped_planes_rolled_where_their_unrolled_loop_lost_to_one_plane(
    rolled_cycles: float, shape: tuple[int, ...], routine: str
) -> None:
    # kws' tall 25x5x64 planes or vww's 24x24x32: grouped with their routine unrolled at 1500 cycles (its
    # 1.5 KB and more missing a small flash cache), one plane at 1000, grouped rolled (the routine's _rolled
    # twin) at `rolled_cycles`: taken only where faster than the one plane.
    graph, depthwise = _one_depthwise(shape)

    def measure(graph: Graph, device, clock: float, stack: int) -> ModelRun:
        variant = graph.operators[0].variant
        grouped = rolled_cycles if variant.loops == Loops.ROLLED else 1500.0
        return ModelRun({0: grouped if variant.schedule == Schedule.GROUPED else 1000.0}, 50.0)

    choice = optimize_variants(graph, find_device("NUCLEO-L4R5ZI"), Reserves(2048), Objective.SPEED, measure=measure)
    faster = rolled_cycles < 1000.0
    assert choice.chosen.rolled_layers == ([0] if faster else [])
    assert depthwise.variant.schedule == (Schedule.GROUPED if faster else Schedule.PLANES)
    network = render(graph, plan_memory(graph)).files["network.c"]
    assert (f"{routine}_rolled" in network) == faster


def test_one_channel_depthwise_layers_run_as_int16_weight_convolutions_where_they_pay() -> None:
    graph = _grey_stem()
    speed = optimize_variants(graph, find_device("NUCLEO-L4R5ZI"), Reserves(2048), Objective.SPEED, measure=_cycles)
    assert speed.chosen.int16_layers == [0] and graph.operators[0].variant == KernelVariant(weights=WIDE)
    files = render(graph, plan_memory(graph)).files
    assert files["network.c"].count("md_conv_s8_w16(") == 1 and "md_depthwise_s8(" not in files["network.c"]
    # filter [1, 3, 3, 8] kept as the convolution's [8, 3, 3, 1], two channels interleaved
    op, taps = graph.operators[0], np.arange(72).reshape(1, 3, 3, 8)
    np.testing.assert_array_equal(stored_values(op, 1, taps), pair_interleaved(taps.reshape(9, 8).T))
    m55 = find_device("AE722F80F55D5")
    assert optimize_variants(_grey_stem(), m55, Reserves(2048), Objective.SPEED, measure=_cycles).points == []


def test_variants_are_timed_and_budgeted_with_the_hot_code_where_it_runs(monkeypatch) -> None:
    # A variant's loops cost differently to fetch from flash behind the ART than from SRAM2 through its
    # code alias: each run is asked with the user's code section, and each budget holds its run image.
    asked = []

    def measure(graph: Graph, device, clock: float, stack: int, code_section=CodeSection.FLASH) -> ModelRun:
        asked.append(code_section)
        return _cycles(graph, device, clock, stack)

    monkeypatch.setattr(optimize, "_measure_layers", measure)
    device, chosen = find_device("NUCLEO-L4R5ZI"), {}
    for section in (CodeSection.FLASH, CodeSection.RAM):
        asked.clear()
        graph = build_kws_cnn("cnn_s")
        chosen[section] = optimize_variants(graph, device, Reserves(2048), Objective.SPEED, code_section=section).chosen
        assert asked and set(asked) == {section}
    assert chosen[CodeSection.RAM].name == chosen[CodeSection.FLASH].name
    run_image = code_estimate(graph).total  # the table estimate here: the whole code is the hot code
    assert chosen[CodeSection.RAM].ram_bytes == chosen[CodeSection.FLASH].ram_bytes + run_image


def test_with_the_code_out_of_flash_every_configuration_is_timed_by_a_run_of_its_own(monkeypatch) -> None:
    # Whether the hot code fits SRAM2's alias follows the whole configuration's code: no sum of layers
    # measured in runs whose code ran elsewhere.
    totals = {}

    def measure(graph: Graph, device, clock: float, stack: int, code_section=CodeSection.FLASH) -> ModelRun:
        run = _cycles(graph, device, clock, stack)
        totals.setdefault(code_section, set()).add(round(run.between + sum(run.layers.values()), 3))
        return run

    monkeypatch.setattr(optimize, "_measure_layers", measure)
    device = find_device("NUCLEO-L4R5ZI")  # 120 MHz: 120,000 cycles a millisecond
    for section in (CodeSection.FLASH, CodeSection.RAM):
        graph = build_kws_cnn("cnn_s")
        choice = optimize_variants(graph, device, Reserves(2048), Objective.SPEED, code_section=section)
        own = [round(point.milliseconds * 120_000, 3) in totals[section] for point in choice.points]
        assert all(own) if section == CodeSection.RAM else not all(own)  # in flash, int16 weights' are sums


def _code_section_costs(ram_factor: float, asked: list[CodeSection] | None = None) -> Measure:
    """`_cycles`, times `ram_factor` with the hot code in SRAM2 (each section asked noted in `asked`)."""

    def measure(graph: Graph, device, clock: float, stack: int, code_section=CodeSection.FLASH) -> ModelRun:
        if asked is not None:
            asked.append(code_section)
        run = _cycles(graph, device, clock, stack)
        factor = ram_factor if code_section == CodeSection.RAM else 1.0
        return ModelRun({index: cycles * factor for index, cycles in run.layers.items()}, run.between)

    return measure


@pytest.mark.parametrize("ram_factor", [0.5, 1.5])
def test_speed_without_a_code_section_runs_the_hot_code_where_it_is_fastest(monkeypatch, ram_factor: float) -> None:
    # No --code-section: speed optimizes the model whole for each place the L4R5's hot code may run (flash,
    # SRAM2 through its alias) and takes the faster, with the variants chosen for it; both latencies reported.
    monkeypatch.setattr(optimize, "_measure_layers", _code_section_costs(ram_factor))
    device, each = find_device("NUCLEO-L4R5ZI"), {}
    for section in (CodeSection.FLASH, CodeSection.RAM):
        graph = build_kws_cnn("cnn_s")
        choice = optimize_variants(graph, device, Reserves(2048), Objective.SPEED, code_section=section)
        each[section] = (choice.chosen.milliseconds, [op.variant for op in graph.operators])
    graph = build_kws_cnn("cnn_s")
    choice = optimize_code_and_variants(graph, device, Reserves(2048), Objective.SPEED)
    faster = CodeSection.RAM if ram_factor < 1 else CodeSection.FLASH
    assert choice.code_section == faster
    assert choice.code_sections == {str(section): ms for section, (ms, _) in each.items()}
    assert choice.chosen.milliseconds == each[faster][0]
    assert [op.variant for op in graph.operators] == each[faster][1]


@pytest.mark.parametrize(
    ("device", "objective", "named", "tried"),
    [
        ("NUCLEO-L4R5ZI", Objective.SPEED, CodeSection.FLASH, {CodeSection.FLASH}),
        ("NUCLEO-L4R5ZI", Objective.BALANCED, None, {CodeSection.FLASH}),
        ("STM32F446RE", Objective.SPEED, None, {CodeSection.FLASH}),  # its ART's fetch priced as hits
        ("NUCLEO-H7A3ZI-Q", Objective.SPEED, None, {CodeSection.FLASH, CodeSection.ITCM}),
    ],
)
def test_only_speed_without_a_code_section_tries_the_places_the_model_can_tell_apart(
    monkeypatch, device: str, objective: Objective, named: CodeSection | None, tried: set[CodeSection]
) -> None:
    asked: list[CodeSection] = []
    monkeypatch.setattr(optimize, "_measure_layers", _code_section_costs(0.5, asked))
    part = find_device(device)
    choice = optimize_code_and_variants(build_kws_cnn("cnn_s"), part, Reserves(2048), objective, code_section=named)
    assert set(asked) == tried
    assert choice.code_section == (named or CodeSection.FLASH)  # ITCM's runs cost the same here: ties stay
    assert choice.code_sections == ({} if len(tried) == 1 else {str(s): choice.chosen.milliseconds for s in tried})


@pytest.mark.parametrize(
    ("device", "sections"),
    [
        ("NUCLEO-L4R5ZI", (CodeSection.RAM,)),  # SRAM2's code alias, the ART simulated
        ("NUCLEO-G474RE", (CodeSection.RAM,)),
        ("NUCLEO-H7A3ZI-Q", (CodeSection.ITCM,)),  # the L1 instruction cache simulated
        ("STM32F746NG", (CodeSection.ITCM,)),
        ("STM32F446RE", ()),
        ("NUCLEO-U575ZI-Q", ()),
        ("AE722F80F55D5", ()),
    ],
)
def test_speed_tries_the_itcm_and_an_sram_code_alias_where_the_flash_cache_is_simulated(
    device: str, sections: tuple[CodeSection, ...]
) -> None:
    assert faster_code_sections(find_device(device)) == sections


def test_generate_speed_places_the_hot_code_it_chose_and_says_why(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setattr(optimize, "_measure_layers", _code_section_costs(0.5))
    model = tmp_path / "kws.tflite"
    model.write_bytes(write_tflite(build_kws_cnn("cnn_s")))
    args = ("generate", str(model), "-o", str(tmp_path / "out"), "-d", "NUCLEO-L4R5ZI", "--optimize", "speed")
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    assert re.search(r"--optimize speed chose --code-section ram \([\d.]+ ms\): the fastest place tried", out), out
    assert "run from SRAM2 via 0x10000000" in out
    code, out, err = run_cli(monkeypatch, capsys, *args, "--code-section", "flash", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["code_section"] == "flash" and summary["variants"]["code_sections"] == {}


@pytest.mark.parametrize("rolled_cycles", [800.0, 1100.0])
def test_speed_takes_int16_weights_rolled_where_only_their_unrolled_walk_lost_to_int8(rolled_cycles: float) -> None:
    # A 1x1 64 -> 64 layer (kws's): int8 at 1000 cycles, int16 unrolled at 1200 (its 5 KB walk missing a
    # small flash cache: not widened), int16 rolled (the compact walk) at `rolled_cycles`: taken where faster.
    family = Family("pointwise_64", 3)
    _conv(family, "int8", (1, 5, 5, 64), 64, (1, 1), Conv2DOptions())
    graph = family.graph()
    pointwise = graph.operators[0]

    def measure(graph: Graph, device, clock: float, stack: int) -> ModelRun:
        variant = graph.operators[0].variant
        if variant.columns != Columns.IM2COL:
            return ModelRun({0: 3000.0}, 50.0)
        if variant.weights != WeightLayout.INT16_PAIRS:
            return ModelRun({0: 1000.0}, 50.0)
        return ModelRun({0: rolled_cycles if variant.loops == Loops.ROLLED else 1200.0}, 50.0)

    choice = optimize_variants(graph, find_device("NUCLEO-L4R5ZI"), Reserves(2048), Objective.SPEED, measure=measure)
    faster = rolled_cycles < 1000.0
    assert (choice.chosen.int16_layers, choice.chosen.rolled_layers) == (([0], [0]) if faster else ([], []))
    assert choice.chosen.name.endswith(" + rolled loops") == faster
    assert (pointwise.variant.weights == WeightLayout.INT16_PAIRS) == faster
    network = render(graph, plan_memory(graph)).files["network.c"]
    assert ("md_conv_s8_w16_rolled(" in network) == faster


def test_estimate_speed_says_where_it_placed_the_hot_code_beside_flash_with_its_own_variants(
    monkeypatch, capsys, tmp_path
) -> None:
    # The flash figure is the one speed chose variants for in flash: no second run of the SRAM2 variants in flash.
    monkeypatch.setattr(optimize, "_measure_layers", _code_section_costs(0.5))
    model = tmp_path / "kws.tflite"
    model.write_bytes(write_tflite(build_kws_cnn("cnn_s")))
    args = ("estimate", str(model), "-d", "NUCLEO-L4R5ZI", "--optimize", "speed", "--stack", "2048", "--json")
    code, out, err = run_cli(monkeypatch, capsys, *args)
    report = json.loads(out)
    assert code == 0, err
    assert report["code_section"] == "ram" and report["code_section_comparison"] is None
    assert set(report["code_sections_tried"]) == {"flash", "ram"}
