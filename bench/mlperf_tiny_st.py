"""Our generated code against ST's X-CUBE-AI on the MLPerf Tiny boards, by our own cycle model.

    python bench/mlperf_tiny_st.py [--models kws,vww_96,ic_resnet8,ad01] [--boards l4r5,u575,h7a3] [--layers N]
                                   [--optimize speed|balanced|size] [--code-section flash|itcm|ram]

For each MLPerf Tiny model and board: `mcudeploy estimate` of our generated code at the clock of
ST's submission (cycles, ms, MACs/cycle), ST's published median latency (MLPerf Tiny v1.2, closed
division, X-CUBE-AI v9.0, as quoted in issue 12), ours over theirs, and the MACs per cycle ST's
figure implies. Then, per model and board, the `--layers` slowest layers with their MACs/cycle:
where the gap is. `--optimize` takes the kernel variants `mcudeploy estimate --optimize` chooses on
each board (without it: im2col and int8 weights everywhere, all in flash); the summary says how many
KB of weights speed copies to SRAM (loaded in flash, read from SRAM). The hot code runs where `mcudeploy
estimate` runs it: with `--optimize speed`, the fastest of flash and the board's ITCM or SRAM code alias that
fits (the H7A3's ITCM, the L4R5's SRAM2 through its code alias at 0x1000_0000), else flash; `--code-section`
runs it from there on every board, as `mcudeploy estimate --code-section` does (itcm: the H7A3 only), the
variants chosen for it. The summary says where it ran. Nothing here is timed on hardware: ours is the cycle
model's figure.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from mcudeploy.estimate import ModelEstimate, estimate_model
from mcudeploy.importers import load_model
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import CodeSection, constant_layout
from real_models import INT8_MODELS, MODELS, OPTIMIZE_CHOICES, choose_variants


@dataclass(frozen=True)
class Board:
    key: str
    name: str
    clock_mhz: float
    core: str


BOARDS = (
    Board("l4r5", "NUCLEO-L4R5ZI", 120.0, "M4"),
    Board("u575", "NUCLEO-U575ZI-Q", 160.0, "M33"),
    Board("h7a3", "NUCLEO-H7A3ZI-Q", 280.0, "M7"),
)
ST_MS = {  # MLPerf Tiny v1.2 closed, STMicroelectronics X-CUBE-AI v9.0, median latency (ms)
    "kws": {"l4r5": 43.19, "u575": 29.06, "h7a3": 11.32},
    "vww_96": {"l4r5": 88.93, "u575": 59.28, "h7a3": 23.80},
    "ic_resnet8": {"l4r5": 165.12, "u575": 111.07, "h7a3": 40.84},
    "ad01": {"l4r5": 5.26, "u575": 3.43, "h7a3": 1.23},
}
TARGET_RATIO = {"kws": 0.8, "vww_96": 0.8, "ic_resnet8": 0.8, "ad01": 1.0}
"""Issue 12's targets: at most ST's figure, and at most 0.8x of it on kws, vww and ic."""


@dataclass(frozen=True)
class Ours:
    estimate: ModelEstimate
    sram_weight_bytes: int
    """Weights read from SRAM (copied there at start-up)."""


def estimate(model: str, board: Board, objective: str | None = None, code_section: str | None = None) -> Ours:
    graph = load_model(MODELS / INT8_MODELS[model])
    named = CodeSection(code_section) if code_section else None
    section = choose_variants(graph, board.name, board.clock_mhz, objective, code_section=named)
    found = estimate_model(graph, board.name, board.clock_mhz, code_section=section)
    return Ours(found, constant_layout(graph).sram_bytes)


def print_summary(results: dict[tuple[str, str], Ours], boards: list[Board], models: list[str]) -> None:
    print(
        f"{'model':<11} {'board':<28} {'cycles':>12} {'ours ms':>8} {'ST ms':>7} {'ours/ST':>7} {'target':>6} "
        f"{'MAC/cy ours':>11} {'MAC/cy ST':>9} {'SRAM wts KB':>11}  code in"
    )
    for model in models:
        for board in boards:
            ours = results[model, board.key].estimate
            sram_kb = results[model, board.key].sram_weight_bytes / 1024
            st_ms = ST_MS[model][board.key]
            st_macs_per_cycle = ours.macs / (st_ms * board.clock_mhz * 1e3)
            ratio = ours.milliseconds / st_ms
            met = "met" if ratio <= TARGET_RATIO[model] else f"x{ratio / TARGET_RATIO[model]:.2f}"
            print(
                f"{model:<11} {f'{board.name} ({board.core} @ {board.clock_mhz:g})':<28} "
                f"{ours.inference.total:>12,.0f} {ours.milliseconds:>8.2f} {st_ms:>7.2f} {ratio:>6.2f}x {met:>6} "
                f"{ours.macs_per_cycle:>11.3f} {st_macs_per_cycle:>9.3f} {sram_kb:>11.1f}  "
                f"{ours.memory.regions['code'].placed_in}"
            )


def layer_shape(graph: Graph, index: int) -> str:
    """A convolution as `KhxKw sS Cin->Cout`, a fully connected layer as `Cin->Cout`."""
    op = graph.operators[index]
    if len(op.inputs) < 2 or op.op_type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        return ""
    data, weights = (graph.tensors[i].shape for i in op.inputs[:2])
    if op.op_type == "FULLY_CONNECTED":
        return f"{weights[1]}->{weights[0]}"
    stride = getattr(op.options, "stride_h", 1)
    return f"{weights[1]}x{weights[2]} s{stride} {data[-1]}->{graph.tensors[op.outputs[0]].shape[-1]}"


def print_slowest_layers(results: dict[tuple[str, str], Ours], count: int) -> None:
    for (model, _board), found in results.items():
        ours = found.estimate
        graph = load_model(MODELS / INT8_MODELS[model])
        total = ours.inference.total
        print(f"\n{model} on {ours.device.name} @ {ours.clock_mhz:g} MHz: the {count} slowest layers")
        for layer in sorted(ours.layers, key=lambda item: item.cycles.total, reverse=True)[:count]:
            per_cycle = f"{layer.macs_per_cycle:.3f}" if layer.macs_per_cycle else "-"
            instructions_per_mac = layer.cycles.instructions / layer.macs if layer.macs else 0.0
            memory = layer.cycles.memory_cycles / layer.cycles.total if layer.cycles.total else 0.0
            print(
                f"  #{layer.index:<3} {layer.op:<18} {layer_shape(graph, layer.index):<16} {layer.macs:>10,} MACs "
                f"{layer.cycles.total:>11,.0f} cycles ({100 * layer.cycles.total / total:4.1f}%) "
                f"{per_cycle:>6} MACs/cycle {instructions_per_mac:5.2f} instr/MAC, memory {100 * memory:4.1f}%"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(ST_MS), help="comma-separated: kws,vww_96,ic_resnet8,ad01")
    parser.add_argument("--boards", default=",".join(b.key for b in BOARDS), help="comma-separated: l4r5,u575,h7a3")
    parser.add_argument("--layers", type=int, default=5, help="slowest layers shown per model and board (0: none)")
    parser.add_argument(
        "--optimize", choices=OPTIMIZE_CHOICES, help="kernel variants as `mcudeploy estimate --optimize` chooses them"
    )
    parser.add_argument(
        "--code-section",
        choices=[section.value for section in CodeSection],
        help="where the hot code runs, as `mcudeploy estimate --code-section` (itcm: boards with one only; "
        "default: where estimate runs it without one)",
    )
    args = parser.parse_args()
    models = [name for name in args.models.split(",") if name]
    boards = [board for board in BOARDS if board.key in args.boards.split(",")]
    pairs = [(model, board) for model in models for board in boards]
    with ThreadPoolExecutor(max_workers=2) as pool:
        estimates = list(pool.map(lambda pair: estimate(*pair, args.optimize, args.code_section), pairs))
    results = {(model, board.key): found for (model, board), found in zip(pairs, estimates, strict=True)}
    print_summary(results, boards, models)
    if args.layers:
        print_slowest_layers(results, args.layers)


if __name__ == "__main__":
    main()
