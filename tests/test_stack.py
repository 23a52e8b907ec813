"""The stack figures: painted per layer on QEMU, bounded by -fstack-usage and the call graph, and in the budget."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest

from conftest import MODELS, run_cli, streaming_graph
from mcudeploy.analysis import code_size
from mcudeploy.devices import find_device
from mcudeploy.emulation import ElfImage, core_target, find_compiler
from mcudeploy.emulation.stack_usage import (
    CALL_GRAPH_FLAGS,
    CallGraph,
    Frame,
    _code_frame,
    _parse,
    _take_addresses,
    call_graph,
    read_frames,
    read_listing,
)
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import estimate_model
from mcudeploy.estimate.stack import (
    ASSUMED,
    MEASURED,
    RESERVED,
    STATIC,
    StackMeasure,
    StackNeed,
    measure_stack_layers,
    painted_run,
    stack_need,
)
from mcudeploy.importers import load_model
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions

HELLO = MODELS / "tflm" / "hello_world_int8.tflite"
KWS = MODELS / "mlperf_tiny" / "kws_ref_model_int8.tflite"
RESNET_FLOAT = MODELS / "mlperf_tiny" / "ic_resnet8_float.tflite"


def test_su_frames_and_worst_path():
    graph = CallGraph(
        frames={
            "invoke": Frame(16, True),
            "layer": Frame(40, True),
            "kernel": Frame(100, True),
            "small": Frame(8, True),
        },
        calls={"invoke": {"layer", "small"}, "layer": {"kernel", "memcpy"}, "kernel": set()},
    )
    assert graph.worst("invoke") == (16 + 40 + 100, {"memcpy"})
    graph.calls["kernel"] = {"layer"}
    with pytest.raises(McuDeployError, match="recursive"):
        graph.worst("invoke")


def test_su_lines_keep_the_larger_frame_and_mark_dynamic_ones(tmp_path):
    (tmp_path / "a.elf-x.su").write_text("x.c:3:5:helper\t24\tstatic\nx.c:9:5:vla\t32\tdynamic\n")
    (tmp_path / "a.elf-y.su").write_text("y.c:1:12:helper\t56\tstatic\ny.c:4:5:capped\t8\tdynamic,bounded\n")
    frames = read_frames(tmp_path)
    assert frames == {"helper": Frame(56, True), "vla": Frame(32, False), "capped": Frame(8, True)}


@pytest.mark.parametrize(
    "model, device",
    [
        (HELLO, "STM32F446RE"),  # DSP fully connected: dot_blocks, a naked asm function gcc gives 0 B
        (KWS, "STM32U575ZI"),
        (RESNET_FLOAT, "STM32H743ZI"),  # newlib's libm (expf, fmodf) and a switch's jump table
        ("streaming", "STM32F446RE"),  # a CIRCULAR_BUFFER (no hook after it: under the RELU's mark), memmove
    ],
)
def test_each_layer_measured_within_its_static_bound(model, device, tmp_path):
    """Painted per layer (the hook repaints after each), the deepest layer is the whole inference; the
    static bound from gcc's frames, library code's derived from its instructions, and the call graph
    (indirect calls: any address-taken function, one only handed to a call under it) is never below
    what ran (a layer that uses less than the hook shows the hook's depth), every frame derived."""
    graph = streaming_graph(cycles_max=2) if model == "streaming" else load_model(model)
    measure = measure_stack_layers(graph, find_device(device), tmp_path)
    measured = [layer.measured for layer in measure.layers if layer.measured is not None]
    assert measured and max(measured) <= measure.used  # a streaming model's waiting inferences: in `used` only
    assert max(measured) == measure.used or model == "streaming"
    for layer in measure.layers:
        assert layer.measured is None or measure.hook_depth <= layer.measured <= max(layer.static, measure.hook_depth)
    assert measure.used <= measure.static
    assert measure.left_out == ()


def test_library_frames_are_derived_from_their_code(tmp_path):
    """newlib's memmove pushes 16 B on its long-copy path, past its first instructions; memset 12 B,
    memcpy none. The walk over every path agrees with gcc's frame for each function gcc compiled
    here (the naked asm dot_blocks excepted: gcc counts 0 B, its asm pushes)."""
    device = find_device("STM32F446RE")
    assert painted_run(streaming_graph(cycles_max=2), device, tmp_path)[0] == 0
    graph = call_graph(tmp_path / "network.elf", core_target(device.core))
    assert {name: graph.frame(name) for name in ("memmove", "memset", "memcpy")} == {
        "memmove": Frame(16, True),
        "memset": Frame(12, True),
        "memcpy": Frame(0, True),
    }
    gcc = {name: frame.bytes for name, frame in graph.frames.items() if name in graph.code_frames}
    assert len(gcc) > 20 and gcc == {name: graph.code_frames[name] for name in gcc}
    assert graph.worst("net_invoke") == (88, set())
    assert painted_run(load_model(HELLO), device, tmp_path / "hello")[0] == 0
    graph = call_graph(tmp_path / "hello" / "network.elf", core_target(device.core))
    assert graph.frames["dot_blocks"] == Frame(0, True) and graph.frame("dot_blocks") == Frame(40, True)


def _frame(listing: str) -> int | None:
    """The frame `_code_frame` derives from objdump lines `address:<TAB>mnemonic<TAB>operands`."""
    rows = [line.strip().split("\t") for line in listing.strip().splitlines()]
    return _code_frame([_parse(int(row[0].rstrip(":"), 16), row[1], row[2] if len(row) > 2 else "") for row in rows])


def test_the_walk_follows_every_path_and_names_what_it_cannot():
    """A push on a branch's path counts (a load of registers from the stack without writeback moves
    nothing); two paths meeting at different depths, a stack pointer set from a register or moved on
    a condition cannot be followed (None: the bound names the function)."""
    late_push = """
        0:\tcmp\tr2, #16
        2:\tbhi.n\t8 <f+0x8>
        4:\tbx\tlr
        8:\tpush\t{r4, r5, r6, lr}
        a:\tsub\tsp, #8
        c:\tstr.w\tr7, [sp, #-4]!
        10:\tldr.w\tr7, [sp], #4
        14:\tldmia.w\tsp, {r1, ip, lr}
        18:\tadd\tsp, #8
        1a:\tpop\t{r4, r5, r6, pc}
    """
    assert _frame(late_push) == 16 + 8 + 4
    assert _frame("0:\tpush\t{r4, lr}\n2:\tit\teq\n4:\tpopeq\t{r4, pc}\n6:\tvpush\t{d8-d9}\n") == 8 + 16
    loop = "0:\tpush\t{r4}\n2:\tb.n\t0 <f>\n"
    assert _frame(loop) is None
    assert _frame("0:\tpush\t{r7, lr}\n2:\tmov\tsp, r7\n4:\tpop\t{r7, pc}\n") is None
    assert _frame("0:\tit\tne\n2:\tsubne\tsp, #8\n4:\tbx\tlr\n") is None


def test_an_address_handed_to_a_call_reaches_only_the_indirect_calls_below_it():
    """A callback loaded into an argument register and handed straight to `walker` is reached only by
    indirect calls under walker; one kept in r5, copied, or handed on a condition by every indirect
    call (a literal holding it used once some other way is enough)."""
    listing = """
        100:\tldr\tr2, [pc, #24]\t@ (11c <run+0x1c>)
        102:\tmov\tr3, r4
        104:\tbl\t200 <walker>
        108:\tldr\tr5, [pc, #20]\t@ (120 <run+0x20>)
        10a:\tblx\tr5
        10c:\tldr\tr1, [pc, #20]\t@ (124 <run+0x24>)
        10e:\tmov\tr0, r1
        110:\tbl\t200 <walker>
        112:\tldr\tr0, [pc, #20]\t@ (128 <run+0x28>)
        114:\tit\tne
        116:\tblne\t200 <walker>
        118:\tbl\t300 <copy>
    """
    rows = [line.strip().split("\t", 2) for line in listing.strip().splitlines()]
    body = [_parse(int(row[0].rstrip(":"), 16), row[1], row[2] if len(row) > 2 else "") for row in rows]
    starts = {0x100: "run", 0x200: "walker", 0x300: "copy", 0x400: "callback", 0x500: "kept", 0x600: "copied"}
    literals = {0x11C: 0x400, 0x120: 0x500, 0x124: 0x600, 0x128: 0x400, 0x12C: 0x500}
    graph = CallGraph(
        frames={name: Frame(8, True) for name in ("run", "walker", "copy", "kept", "copied")}
        | {"callback": Frame(200, True)},
        calls={"run": {"walker", "copy"}, "walker": set(), "copy": set()},
        indirect={"run", "walker", "copy"},
    )
    _take_addresses(graph, {"run": body}, literals, starts)
    assert graph.address_taken == {"kept", "copied", "callback"}  # 0x128's load: a conditional call
    del literals[0x128]
    graph.address_taken.clear()
    _take_addresses(graph, {"run": body}, literals, starts)
    assert graph.address_taken == {"kept", "copied"} and graph.handed == {"callback": {"walker"}}
    assert graph.worst("copy") == (8 + 8, set())
    assert graph.worst("walker") == (8 + 200, set())
    assert graph.worst("run") == (8 + 8 + 200, set())


CALLBACK_TABLE = """
typedef int (*step)(int);
static int __attribute__((noinline)) shallow(int x) { return 2 * x; }
static int __attribute__((noinline)) deep(int x) { volatile int pad[60]; pad[x & 31] = x; return pad[3]; }
static const step steps[2] = {shallow, deep};
int apply(int i, int x) { return steps[i & 1](x); }
void _start(void) { for (;;) apply(1, 2); }
"""


def test_a_callback_in_a_data_table_is_reached_by_the_indirect_calls(tmp_path):
    """A const table of function addresses lies in .rodata, which the disassembly does not show: its
    functions count under every indirect call (deep's 240 B array with them), found from the relocations
    the build keeps (a bias equal to a function's address by chance is not one: test_depthwise_streaming)."""
    source = tmp_path / "table.c"
    source.write_text(CALLBACK_TABLE)
    target = core_target(find_device("STM32F446RE").core)
    elf = tmp_path / "table.elf"
    compile_flags = ["-mcpu=cortex-m4", "-mthumb", "-O2", "-nostdlib", "-fno-ipa-cp", *CALL_GRAPH_FLAGS]
    subprocess.run([str(find_compiler(target)), *compile_flags, "-o", str(elf), str(source)], check=True, cwd=tmp_path)
    assert ElfImage(elf).functions_in_data() >= {"shallow", "deep"}
    graph = call_graph(elf, target)
    assert "apply" in graph.indirect and {"shallow", "deep"} <= graph.address_taken
    worst, unbounded = graph.worst("apply")
    assert not unbounded and worst >= graph.frames["apply"].bytes + graph.frames["deep"].bytes >= 240


def test_a_branch_goes_to_the_function_holding_its_address_whatever_objdump_labels_it():
    """A symbol that is no function (an inline-asm `.set` counter leaked into the symbol table, 0x200)
    labels the addresses above it: the loop stays inside `reset`, the call reaches `copy`."""
    listing = """
000001f0 <reset>:
 1f0:\tpush\t{r4, lr}
 1f2:\tsubs\tr0, #1
 1f4:\tbl\t300 <md_fill+0x100>
 1f8:\tcmp\tr0, #0
 1fa:\tbne.w\t204 <md_fill+0x4>
 1fe:\tb.n\t1f2 <reset+0x2>
 200:\tnop
 204:\tpop\t{r4, pc}

00000300 <copy>:
 300:\tbx\tlr
"""
    graph = read_listing(listing)
    assert graph.calls == {"reset": {"copy"}, "copy": set()}
    assert graph.code_frames == {"reset": 8, "copy": 0}


def test_only_a_word_with_the_thumb_bit_takes_a_functions_address():
    """The start-up code loads `__fast_code_end`, which can equal `main`'s address (the hot code section
    ending where .text starts): an even word is that data, not `main` reachable from every indirect call
    (from which `main` -> `net_invoke` read as recursion)."""
    listing = """
00000100 <start>:
 100:\tldr\tr4, [pc, #4]\t@ (108 <start+0x8>)
 102:\tldr\tr5, [pc, #8]\t@ (10c <start+0xc>)
 104:\tbl\t200 <main>
 108:\t.word\t0x00000200
 10c:\t.word\t0x00000301

00000200 <main>:
 200:\tbx\tlr

00000300 <callback>:
 300:\tbx\tlr
"""
    assert read_listing(listing).address_taken == {"callback"}


def test_a_frame_not_derived_is_named_and_the_figure_is_no_bound():
    graph = CallGraph(
        frames={"invoke": Frame(16, True), "vla": Frame(32, False)},
        calls={"invoke": {"vla", "lib"}, "vla": set(), "lib": set()},
        code_frames={"lib": None, "vla": None},
    )
    assert graph.worst("invoke") == (16 + 32, {"vla", "lib"})
    text = StackNeed(48, STATIC, left_out=("lib", "vla")).describe()
    assert text.startswith("48 B static, not a bound: the stack of lib, vla not derived, counted 0")
    assert "not" not in StackNeed(48, STATIC).describe()
    measure = StackMeasure(40, 48, 24, (), ("lib",))
    assert measure.static_text(48) == "static 48 B, not a bound: the stack of lib not derived, counted 0"
    assert dataclasses.replace(measure, left_out=()).static_text(48) == "static bound 48 B"


def test_static_bound_runs_under_a_hardware_stack_limit(tmp_path):
    """Cortex-M33's MSPLIM faults on any push below it: the static bound analyze puts in the budget runs."""
    graph = load_model(HELLO)
    device = find_device("STM32U575ZI")
    bound = stack_need(graph, device).bytes
    static = measure_stack_layers(graph, device, tmp_path).static
    assert bound <= static
    assert painted_run(graph, device, tmp_path / "bound", -(-static // 8) * 8)[0] == 0


def test_analyze_budgets_the_static_bound_or_says_assumed(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(HELLO), "--device", "STM32F446RE", "--json")
    report = json.loads(out)
    assert code == 0 and report["stack_source"] == STATIC and 0 < report["stack_bytes"] < 1024
    code, out, _ = run_cli(
        monkeypatch, capsys, "analyze", str(HELLO), "--device", "STM32F446RE", "--stack", "1000", "--json"
    )
    assert json.loads(out)["stack_bytes"] == 1000 and json.loads(out)["stack_source"] == RESERVED
    monkeypatch.setattr(code_size, "core_target", lambda core: None)
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(HELLO), "--device", "STM32F446RE", "--json")
    assert json.loads(out)["stack_bytes"] == 8192 and json.loads(out)["stack_source"] == ASSUMED


def test_estimate_budgets_the_measured_stack(monkeypatch, capsys):
    """The estimate command paints the stack in a run of its own; estimates made inside other commands
    (doctor, --cores) budget the static bound, which needs no run."""
    # --optimize size: the graph's own variants (balanced may widen a dense layer's weights, another frame)
    code, out, _ = run_cli(
        monkeypatch, capsys, "estimate", str(HELLO), "-d", "STM32F446RE", "--optimize", "size", "--json"
    )
    stack = json.loads(out)["stack"]
    assert code == 0 and stack["source"] == MEASURED and stack["bytes"] <= stack["static_bound"]
    assert stack["static_not_derived"] == []
    assert max(layer["measured"] or 0 for layer in stack["layers"]) == stack["bytes"]
    assert stack["bytes"] == stack_need(load_model(HELLO), find_device("STM32F446RE")).bytes
    inner = estimate_model(load_model(HELLO), "STM32F446RE")
    assert inner.stack.source == STATIC and inner.stack.bytes >= stack["bytes"]
    assert stack_need(load_model(HELLO), find_device("STM32F446RE"), 2048).source == RESERVED


def test_add_tables_are_on_the_stack_only_under_the_add(tmp_path):
    """The int8 ADD/SUB tables (2 x 256 int32) live in the table path's own frame: a MUL and a short
    ADD that does not take that path stay far below their 2 KB, a long ADD takes them."""
    b = GraphBuilder("mul_then_add")
    first = b.tensor((1, 8, 8, 16), "int8", scale=0.02, zero_point=3)
    second = b.tensor((1, 8, 8, 16), "int8", scale=0.05, zero_point=-7)
    product = b.tensor((1, 8, 8, 16), "int8", scale=0.1, zero_point=1)
    small = b.tensor((1, 4), "int8", scale=0.03, zero_point=2)
    small_sum = b.tensor((1, 4), "int8", scale=0.04, zero_point=-1)
    total = b.tensor((1, 8, 8, 16), "int8", scale=0.12, zero_point=0)
    b.op("MUL", [first, second], [product], ElementwiseOptions())
    b.op("ADD", [small, small], [small_sum], ElementwiseOptions())
    b.op("ADD", [product, first], [total], ElementwiseOptions())
    graph = b.build([first, second, small], [small_sum, total])
    layers = measure_stack_layers(graph, find_device("STM32F446RE"), tmp_path).layers
    tables = 2 * 256 * 4
    assert layers[0].measured < tables // 2 and layers[1].measured < tables // 2
    assert layers[2].measured > tables
