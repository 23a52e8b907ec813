"""Bad model files: one line `mcudeploy: error: <file>: <reason>`, exit code 2, never a traceback or a hang.

Files are crafted by patching single fields of a real model (located through the
flatbuffer's own tables) and fuzzed by seeded random mutation.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tflite

from conftest import MODELS, run_cli
from mcudeploy.errors import McuDeployError, ModelError
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import load_input_sets, load_inputs
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import CustomOptions
from mcudeploy.reports.inspect import inspect_model

SMALL_MODEL = MODELS / "tflm" / "micro_speech_quantized.tflite"


def field_position(table, field_slot: int) -> int:
    """Byte position of a table's scalar field (slot = its index in the schema)."""
    offset = table._tab.Offset(4 + 2 * field_slot)
    assert offset, "field is absent in this file: choose another table"
    return table._tab.Pos + offset


def vector_start(table, field_slot: int) -> int:
    return table._tab.Vector(table._tab.Offset(4 + 2 * field_slot))


def patched(fmt: str, locate: Callable[[tflite.Model], int], value: int) -> bytes:
    data = bytearray(SMALL_MODEL.read_bytes())
    model = tflite.Model.GetRootAs(bytes(data), 0)
    struct.pack_into(fmt, data, locate(model), value)
    return bytes(data)


def _tensor(model: tflite.Model, index: int):
    return model.Subgraphs(0).Tensors(index)


def _op(model: tflite.Model, index: int):
    return model.Subgraphs(0).Operators(index)


TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER, TENSOR_QUANT = 0, 1, 2, 4
QUANT_SCALE = 2
OP_OPCODE, OP_INPUTS = 0, 1
SUBGRAPH_TENSORS, SUBGRAPH_INPUTS = 0, 1
MODEL_BUFFERS = 4


def _weights_tensor_index(model: tflite.Model) -> int:
    """The first constant tensor (micro_speech: its per-channel quantized bias)."""
    subgraph = model.Subgraphs(0)
    return next(i for i in range(subgraph.TensorsLength()) if subgraph.Tensors(i).Buffer() > 0)


CRAFTED: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "four bytes": lambda: b"\x00\x01\x02\x03",
    "random bytes": lambda: np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    "png renamed": lambda: b"\x89PNG\r\n\x1a\n" + bytes(200),
    "hdf5 renamed": lambda: b"\x89HDF\r\n\x1a\n" + bytes(200),
    "truncated to 100 bytes": lambda: SMALL_MODEL.read_bytes()[:100],
    "truncated to half": lambda: SMALL_MODEL.read_bytes()[: SMALL_MODEL.stat().st_size // 2],
    "truncated by 1 byte": lambda: SMALL_MODEL.read_bytes()[:-1],
    "root offset past the end": lambda: struct.pack("<I", 1 << 30) + SMALL_MODEL.read_bytes()[4:],
    "buffer index out of range": lambda: patched(
        "<I", lambda m: field_position(_tensor(m, _weights_tensor_index(m)), TENSOR_BUFFER), 9999
    ),
    "tensor type STRING": lambda: patched(
        "<b", lambda m: field_position(_tensor(m, _weights_tensor_index(m)), TENSOR_TYPE), 5
    ),
    "tensor type out of enum": lambda: patched(
        "<b", lambda m: field_position(_tensor(m, _weights_tensor_index(m)), TENSOR_TYPE), 99
    ),
    "negative dimension": lambda: patched("<i", lambda m: vector_start(_tensor(m, 0), TENSOR_SHAPE) + 4, -7),
    "terabyte tensor": lambda: patched("<i", lambda m: vector_start(_tensor(m, 0), TENSOR_SHAPE), 1 << 30),
    "shape vector length absurd": lambda: patched(
        "<I", lambda m: vector_start(_tensor(m, 0), TENSOR_SHAPE) - 4, 0x7FFFFFFF
    ),
    "constant data shorter than shape": lambda: patched(
        "<i", lambda m: vector_start(_tensor(m, _weights_tensor_index(m)), TENSOR_SHAPE), 3
    ),
    "operator input out of range": lambda: patched("<i", lambda m: vector_start(_op(m, 1), OP_INPUTS), 5000),
    "operator input below -1": lambda: patched("<i", lambda m: vector_start(_op(m, 1), OP_INPUTS), -9),
    "opcode index out of range": lambda: patched("<I", lambda m: field_position(_op(m, 0), OP_OPCODE), 77),
    "subgraph input out of range": lambda: patched(
        "<i", lambda m: vector_start(m.Subgraphs(0), SUBGRAPH_INPUTS), 123456
    ),
    "tensor list length absurd": lambda: patched(
        "<I", lambda m: vector_start(m.Subgraphs(0), SUBGRAPH_TENSORS) - 4, 0x7FFFFFFF
    ),
    "buffer list length absurd": lambda: patched("<I", lambda m: vector_start(m, MODEL_BUFFERS) - 4, 0x3FFFFFFF),
    "per-channel scale count wrong": lambda: patched(
        "<I",
        lambda m: vector_start(_tensor(m, _weights_tensor_index(m)).Quantization(), QUANT_SCALE) - 4,
        3,
    ),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_file_is_a_model_error(case: str, tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(CRAFTED[case]())
    with pytest.raises(ModelError) as error:
        inspect_model(load_model(path))
    assert error.value.subject == str(path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("case", ["random bytes", "buffer index out of range", "terabyte tensor", "png renamed"])
def test_cli_prints_one_line_and_exits_2(case: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(CRAFTED[case]())
    for command in ("inspect", "run"):
        extra = ["--input", str(path)] if command == "run" else []
        result = _cli(command, str(path), *extra)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.startswith(f"mcudeploy: error: {path}: ")
        assert result.stderr.count("\n") == 1, result.stderr


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for path, reason in ((tmp_path / "nope.tflite", "no such file"), (tmp_path, "is a directory")):
        result = _cli("inspect", str(path))
        assert result.returncode == 2
        assert result.stderr.startswith(f"mcudeploy: error: {path}: {reason}")


def _mutants(seed: int, count: int) -> list[bytes]:
    """Seeded mutations of real models: overwritten bytes, inserted runs of 0xFF, truncations."""
    rng = np.random.default_rng(seed)
    sources = [SMALL_MODEL.read_bytes(), (MODELS / "tflm" / "hello_world_int8.tflite").read_bytes()]
    mutants = []
    for i in range(count):
        data = bytearray(sources[i % len(sources)])
        kind = i % 3
        if kind == 0:
            for position in rng.integers(0, len(data), rng.integers(1, 9)):
                data[position] = rng.integers(0, 256)
        elif kind == 1:
            position = int(rng.integers(0, min(len(data), 2048)))
            data[position : position + 4] = b"\xff\xff\xff\x7f"
        else:
            data = data[: int(rng.integers(8, len(data)))]
        mutants.append(bytes(data))
    return mutants


def test_fuzzed_mutants_never_escape_as_other_exceptions(tmp_path: Path) -> None:
    path = tmp_path / "mutant.tflite"
    outcomes = {"error": 0, "loaded": 0}
    for data in _mutants(seed=2024, count=300):
        path.write_bytes(data)
        try:
            inspect_model(load_model(path))
            outcomes["loaded"] += 1
        except ModelError as error:
            assert "\n" not in str(error)
            outcomes["error"] += 1
    assert outcomes["error"] >= 50  # the mutations do reach the structure, not only weight bytes


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mcudeploy", *args], capture_output=True, text=True, timeout=60, check=False
    )


# ---------------------------------------------------------------- input files

SPEECH_INPUT = 1960  # micro_speech: one int8 input [1, 1960]


def _npy_header_only(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """An .npy file whose header claims `shape` and which holds no data."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": dtype, "fortran_order": False, "shape": shape})
    return stream.getvalue()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    stream = io.BytesIO()
    np.savez(stream, **arrays)
    return stream.getvalue()


def _claiming_3_gib(archive: bytes) -> bytes:
    """A zip whose central directory says its member unpacks to 3 GiB."""
    data = bytearray(archive)
    entry = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, entry + 24, 3 << 30)
    return bytes(data)


def _bmp(width: int, height: int, bits: int = 24) -> bytes:
    """An uncompressed BMP header claiming width x height, with no pixels."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, 0, 0, 0, 0, 0, 0)
    return struct.pack("<2sIHHI", b"BM", 54, 0, 0, 54) + info


BAD_INPUTS: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "npy header claiming a terabyte": (
        ".npy",
        lambda: _npy_header_only((1 << 38,)),
        f"needs {SPEECH_INPUT} values (shape [1, 1960]), got 274877906944",
    ),
    "npy right shape, no data": (".npy", lambda: _npy_header_only((1, SPEECH_INPUT)), "bytes of data follow"),
    "npy holding objects": (".npy", lambda: _npy_header_only((1, SPEECH_INPUT), "|O"), "Python objects"),
    "npy truncated header": (".npy", lambda: _npy_header_only((1, SPEECH_INPUT))[:20], "cannot read input"),
    "npz truncated": (".npz", lambda: _npz({"x": np.zeros((1, SPEECH_INPUT), np.int8)})[:-30], "cannot read input"),
    "npz member claiming 3 GiB": (
        ".npz",
        lambda: _claiming_3_gib(_npz({"x": np.zeros((1, SPEECH_INPUT), np.int8)})),
        "unpack to 3,221,225,472 bytes",
    ),
    "npz member of the wrong size": (".npz", lambda: _npz({"x": np.zeros(7, np.int8)}), "got 7"),
    "npz with two arrays": (
        ".npz",
        lambda: _npz({"a": np.zeros(3, np.int8), "b": np.zeros(3, np.int8)}),
        "holds 2 arrays",
    ),
    "NaN for an int8 input": (
        ".npy",
        lambda: _npy_bytes(np.full((1, SPEECH_INPUT), np.nan, np.float32)),
        "NaN and infinity",
    ),
    "infinity for an int8 input": (
        ".npy",
        lambda: _npy_bytes(np.full((1, SPEECH_INPUT), np.inf, np.float32)),
        "NaN and infinity",
    ),
    "raw of the wrong size": (".bin", lambda: bytes(100), "file has 100 bytes, the model's inputs need 1960"),
    "bmp claiming 100000 x 100000": (".bmp", lambda: _bmp(100_000, 100_000), "got 30000000000"),
    "bmp of zero width": (".bmp", lambda: _bmp(0, 5), "the image is 0x5 pixels"),
    "bmp without pixels": (".bmp", lambda: _bmp(40, 49, bits=8), "pixel data is 0 bytes"),
}


def _npy_bytes(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array)
    return stream.getvalue()


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_file_is_one_line_before_loading(case: str, tmp_path: Path) -> None:
    suffix, make, reason = BAD_INPUTS[case]
    path = tmp_path / f"input{suffix}"
    path.write_bytes(make())
    with pytest.raises(McuDeployError) as error:
        load_input_sets(path, load_model(SMALL_MODEL))
    assert str(error.value).startswith(f"{path}: ") and reason in str(error.value), str(error.value)
    assert "\n" not in str(error.value)


def test_batched_npz_gives_one_set_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "batch.npz"
    batch = np.arange(3 * SPEECH_INPUT).reshape(3, 1, SPEECH_INPUT).astype(np.int8)
    path.write_bytes(_npz({"x": batch}))
    sets = load_input_sets(path, load_model(SMALL_MODEL))
    assert [s[0].tolist() for s in sets] == [b.tolist() for b in batch]


def test_fifo_device_and_directory_are_refused_before_reading(tmp_path: Path, monkeypatch, capsys) -> None:
    """A FIFO once hung forever (the model here: in a process of its own, so a regression cannot hang the
    tests); /dev/zero was read until memory ran out."""
    os.mkfifo(tmp_path / "pipe.tflite")
    result = _cli("run", str(tmp_path / "pipe.tflite"), "--input", "unused.npy")
    assert result.returncode == 2
    assert result.stderr == f"mcudeploy: error: {tmp_path}/pipe.tflite: is a FIFO, not a regular file\n"
    (tmp_path / "d.npy").mkdir()
    kinds = ".npy, .npz, .bin, .raw, .bmp"
    for model, given, error in (
        ("/dev/zero", "unused.npy", "/dev/zero: is a character device, not a regular file"),
        # run reads a folder as input sets in turn (streaming models): an empty one, whatever its name, holds none
        (str(SMALL_MODEL), str(tmp_path / "d.npy"), f"{tmp_path}/d.npy: holds no input files ({kinds})"),
    ):
        assert run_cli(monkeypatch, capsys, "run", model, "--input", given) == (2, "", f"mcudeploy: error: {error}\n")


def test_fifo_input_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.npy")
    with pytest.raises(McuDeployError, match="is a FIFO, not a regular file"):
        load_inputs(tmp_path / "pipe.npy", load_model(SMALL_MODEL))


# ---------------------------------------------------------------- names from files

EVIL = "[bold red]x[/]\x1b[2J\nmcudeploy: forged line\x07"
EVIL_SHOWN = "\\[bold red]x\\[/]\\x1b[2J\\x0amcudeploy: forged line\\x07"


def _named_model(tmp_path: Path, op_type: str, output_name: str, shape: tuple[int, ...] = (1, 4)) -> Path:
    builder = GraphBuilder("named")
    x = builder.tensor(shape, "int8", scale=0.5, zero_point=0, name="x")
    y = builder.tensor(shape, "int8", scale=0.5, zero_point=0, name=output_name)
    builder.op(op_type, [x], [y], CustomOptions(b"") if op_type != "RELU" else None)
    path = tmp_path / "named.tflite"
    path.write_bytes(write_tflite(builder.build([x], [y])))
    return path


def test_names_from_the_file_are_escaped_in_errors_and_tables(tmp_path: Path, monkeypatch, capsys) -> None:
    model = _named_model(tmp_path, EVIL, EVIL)
    code, _, error = run_cli(monkeypatch, capsys, "run", str(model), "--input", str(tmp_path / "x.npy"))
    assert code == 2 and error.count("\n") == 1 and "\x1b" not in error
    assert "custom operator '[bold red]x[/]\\x1b[2J\\x0amcudeploy: forged line\\x07'" in error
    code, table, _ = run_cli(monkeypatch, capsys, "inspect", str(model))
    assert code == 0 and "\x1b" not in table and "\x07" not in table
    cells = table.replace("\n", "").replace("│", "").replace(" ", "")
    assert "[boldred]x[/]\\x1b[2J\\x0amcudeploy:forgedline\\x07(custom)" in cells
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.int8))
    relu = _named_model(tmp_path, "RELU", EVIL)
    code, ran, _ = run_cli(monkeypatch, capsys, "run", str(relu), "--input", str(tmp_path / "x.npy"))
    assert code == 0 and "\x1b" not in ran
    assert ran.startswith("[bold red]x[/]\\x1b[2J\\x0amcudeploy: forged line\\x07 int8[1, 4]\n")


def test_large_outputs_are_summarised_not_listed(tmp_path: Path, monkeypatch, capsys) -> None:
    """A 66 MiB output printed through tolist() once took over 10 GB."""
    shape = (1, 512, 512, 4)  # 1 Mi values
    model = _named_model(tmp_path, "RELU", "big", shape)
    np.save(tmp_path / "x.npy", np.full(shape, 3, np.int8))
    code, ran, error = run_cli(monkeypatch, capsys, "run", str(model), "--input", str(tmp_path / "x.npy"), "--json")
    assert code == 0, error
    output = json.loads(ran)["outputs"][0]
    assert output == {"name": "big", "shape": list(shape), "dtype": "int8", "values": None, "min": 3, "max": 3}
    _, printed, _ = run_cli(monkeypatch, capsys, "run", str(model), "--input", str(tmp_path / "x.npy"))
    assert "values:      1,048,576 from 3 to 3 (--output writes them all)" in printed
