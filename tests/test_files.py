"""What mcudeploy writes, and where: folders swapped in whole, files replaced atomically, nothing of
the user's deleted or overwritten unasked, every I/O failure one line (docs/promises.md)."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import MODELS, run_cli
from mcudeploy import files
from mcudeploy.errors import McuDeployError
from mcudeploy.files import MANIFEST, check_output_folder, write_file, write_folder

SMALL_MODEL = MODELS / "tflm" / "hello_world_int8.tflite"
OLD = {"a.txt": b"old", "sub/b.txt": b"old"}
NEW = {"a.txt": b"new", "sub/b.txt": b"new", "c.txt": b"new"}


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def written(files_: dict[str, bytes]) -> dict[str, bytes]:
    """What a folder written with `files_` holds: the files and their manifest."""
    return {**files_, MANIFEST: files.manifest_text(files_)}


def assert_one_line_error(result: tuple[int, str, str], *fragments: str) -> None:
    """`result`: exit code, stdout and stderr of a command that must fail in one line."""
    code, out, err = result
    assert code == 2 and out == "", err
    assert err.startswith("mcudeploy: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err


# ---------------------------------------------------------------- generate's folder


@pytest.mark.parametrize("output", [".", "inner/..", ".."])
def test_generate_refuses_the_current_folder_and_its_ancestors(tmp_path: Path, output: str) -> None:
    """`generate -o . --force` once deleted every file of the current folder."""
    work = tmp_path / "work"
    (work / "inner").mkdir(parents=True)
    (work / "keep.txt").write_text("mine")
    given = [sys.executable, "-m", "mcudeploy", "generate", str(SMALL_MODEL), "-o", output, "--force"]
    result = subprocess.run(given, capture_output=True, text=True, timeout=120, check=False, cwd=work)
    assert_one_line_error((result.returncode, result.stdout, result.stderr), "the current folder")
    assert (work / "keep.txt").read_text() == "mine" and (work / "inner").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_generate_refuses_a_folder_holding_the_model(tmp_path: Path, monkeypatch, capsys) -> None:
    model = tmp_path / "models" / "m.tflite"
    model.parent.mkdir()
    model.write_bytes(SMALL_MODEL.read_bytes())
    result = run_cli(monkeypatch, capsys, "generate", str(model), "-o", str(model.parent), "--force")
    assert_one_line_error(result, "holds the model file")
    assert model.read_bytes() == SMALL_MODEL.read_bytes()


def test_generate_writes_then_replaces_its_own_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    for _ in range(2):  # the second run replaces what the first wrote, without --force
        code, _, err = run_cli(monkeypatch, capsys, "generate", str(SMALL_MODEL), "-o", str(out))
        assert code == 0, err
    assert (out / "network.c").is_file() and (out / MANIFEST).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_symlink_is_refused_even_with_force(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "keep.txt").write_text("mine")
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(McuDeployError, match="symbolic link"):
        write_folder(NEW, tmp_path / "link", replace=True)
    assert contents(real) == {"keep.txt": b"mine"}


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr", "/usr/share/x", "/tmp", "/proc/1", "/dev/shm/x", "~"])
def test_system_folders_are_refused(folder: str) -> None:
    with pytest.raises(McuDeployError, match="system folder"):
        check_output_folder(Path(folder).expanduser(), replace=True)


def test_non_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")
    with pytest.raises(McuDeployError, match="not a folder"):
        write_folder(NEW, tmp_path / "file", replace=True)
    assert (tmp_path / "file").read_text() == "mine"


def test_empty_folder_and_own_folder_are_replaced_without_force(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    write_folder(OLD, target, replace=False)
    assert contents(target) == written(OLD)
    write_folder(NEW, target, replace=False)
    assert contents(target) == written(NEW)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda t: (t / "notes.txt").write_text("mine"), "holds 'notes.txt', which mcudeploy did not write"),
        (lambda t: (t / "sub" / "b.txt").write_text("edited"), "'sub/b.txt' was changed since mcudeploy wrote it"),
        (lambda t: (t / MANIFEST).unlink(), "holds 'a.txt', which mcudeploy did not write"),
        (lambda t: (t / "ln").symlink_to("/etc"), "holds 'ln', which mcudeploy did not write"),
    ],
)
def test_user_files_are_replaced_only_with_force(tmp_path: Path, change, reason: str) -> None:
    target = tmp_path / "out"
    write_folder(OLD, target, replace=False)
    change(target)
    before = contents(target)
    with pytest.raises(McuDeployError, match="already exists and " + reason.replace("(", r"\(")):
        write_folder(NEW, target, replace=False)
    assert contents(target) == before
    write_folder(NEW, target, replace=True)
    assert contents(target) == written(NEW)


KILLED_RUN = """
import os, shutil, sys
from pathlib import Path
from mcudeploy import files

target, step = Path(sys.argv[1]), sys.argv[2]
rename, rmtree, write_bytes = os.rename, shutil.rmtree, Path.write_bytes
renames = []

def killing_rename(source, destination):
    if (step, len(renames)) in (("before renames", 0), ("between renames", 1)):
        os._exit(9)
    renames.append(source)
    rename(source, destination)

def killing_rmtree(path, *args, **kwargs):
    if step == "before deleting the old folder" and ".mcudeploy-old-" in str(path):
        os._exit(9)
    rmtree(path, *args, **kwargs)

def killing_write_bytes(path, data):
    if step == "while staging" and path.name == "b.txt":
        os._exit(9)
    return write_bytes(path, data)

os.rename, shutil.rmtree, Path.write_bytes = killing_rename, killing_rmtree, killing_write_bytes
files.write_folder({"a.txt": b"new", "sub/b.txt": b"new", "c.txt": b"new"}, target, replace=False)
"""


@pytest.mark.parametrize(
    "step", ["while staging", "before renames", "between renames", "before deleting the old folder"]
)
def test_a_kill_at_any_step_leaves_a_complete_folder_and_the_next_run_cleans_up(tmp_path: Path, step: str) -> None:
    target = tmp_path / "out"
    write_folder(OLD, target, replace=False)
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(target), step], check=False, timeout=60)
    assert killed.returncode == 9
    complete = [p for p in tmp_path.iterdir() if contents(p) in (written(OLD), written(NEW))]
    expected_name = ".mcudeploy-old-" if step == "between renames" else "out"
    assert [p.name for p in complete if expected_name in p.name], sorted(p.name for p in tmp_path.iterdir())
    write_folder(NEW, target, replace=False)  # the old folder is put back if set aside, then replaced
    assert contents(target) == written(NEW)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failed_rename_puts_the_old_folder_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out"
    write_folder(OLD, target, replace=False)
    rename, calls = os.rename, []

    def failing_rename(source, destination):
        calls.append(source)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        rename(source, destination)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(OSError):
        write_folder(NEW, target, replace=False)
    monkeypatch.undo()
    assert contents(target) == written(OLD)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_concurrent_writers_take_turns_or_give_up_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    held = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    writer = threading.Thread(target=write_folder, args=(NEW, tmp_path / "out", False))
    writer.start()
    time.sleep(0.3)
    assert not (tmp_path / "out").exists(), "the second writer did not wait for the lock"
    os.close(held)
    writer.join(timeout=30)
    assert contents(tmp_path / "out") == written(NEW)

    held = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    monkeypatch.setattr(files, "LOCK_TIMEOUT_S", 0.2)
    try:
        with pytest.raises(McuDeployError, match="another mcudeploy process is writing beside it"):
            write_folder(OLD, tmp_path / "out", replace=True)
    finally:
        os.close(held)
    assert contents(tmp_path / "out") == written(NEW)


# ---------------------------------------------------------------- single files


def test_file_is_replaced_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "out.npy"
    write_file(path, b"first", replace=False)
    with pytest.raises(McuDeployError, match="already exists \\(pass --force to replace it\\)"):
        write_file(path, b"second", replace=False)
    write_file(path, lambda stream: stream.write(b"second"), replace=True)
    assert path.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.npy"]
    assert path.stat().st_mode & 0o777 == 0o666 & ~files._umask()


def test_a_file_appearing_meanwhile_is_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.npy"

    def another_writer_comes_first(stream) -> None:
        path.write_bytes(b"theirs")
        stream.write(b"ours")

    with pytest.raises(McuDeployError, match="already exists"):
        write_file(path, another_writer_comes_first, replace=False)
    assert path.read_bytes() == b"theirs" and [p.name for p in tmp_path.iterdir()] == ["out.npy"]


def test_file_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real.npy").write_bytes(b"mine")
    (tmp_path / "link.npy").symlink_to(tmp_path / "real.npy")
    with pytest.raises(McuDeployError, match="symbolic link"):
        write_file(tmp_path / "link.npy", b"x", replace=True)
    assert (tmp_path / "real.npy").read_bytes() == b"mine"


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.npy"
    path.write_bytes(b"old")

    def disk_full(stream) -> None:
        stream.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(McuDeployError, match=r"out\.npy: cannot write: No space left on device"):
        write_file(path, disk_full, replace=True)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.npy"]


@pytest.mark.parametrize(
    "make_path, reason",
    [
        (lambda t: t / "missing" / "out.npy", "folder '{t}/missing' does not exist"),
        (lambda t: t / ("n" * 300 + ".npy"), "File name too long"),
        (lambda t: t / "file" / "out.npy", "Not a directory"),
        (lambda t: t / "dir.npy", "is a directory, not a regular file"),
        (lambda t: Path("/proc/self/out.npy"), "cannot write"),
        (lambda t: Path("/dev/null"), "is a character device, not a regular file"),
    ],
)
def test_bad_destinations_are_one_line(tmp_path: Path, make_path, reason: str) -> None:
    (tmp_path / "file").write_text("")
    (tmp_path / "dir.npy").mkdir()
    with pytest.raises(McuDeployError) as error:
        write_file(make_path(tmp_path), b"x", replace=True)
    assert reason.format(t=tmp_path) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    with pytest.raises(McuDeployError, match="permission denied"):
        write_file(folder / "out.npy", b"x", replace=True)


# ---------------------------------------------------------------- commands' output files


def test_run_and_example_replace_existing_files_only_with_force(tmp_path: Path, monkeypatch, capsys) -> None:
    def cli(*args: str) -> tuple[int, str, str]:
        return run_cli(monkeypatch, capsys, *args)

    model, output = tmp_path / "demo.tflite", tmp_path / "out.npy"
    assert cli("example", "-o", str(model))[0] == 0
    assert_one_line_error(cli("example", "-o", str(model)), f"{model}: already exists (pass --force to replace it)")
    assert cli("example", "-o", str(model), "--force")[0] == 0
    output.write_bytes(b"mine")
    given = ("run", str(model), "--input", str(tmp_path / "demo_input.npy"), "--output", str(output))
    assert_one_line_error(cli(*given), f"{output}: already exists (pass --force to replace it)")
    assert output.read_bytes() == b"mine"
    assert cli(*given, "--force")[0] == 0 and output.read_bytes().startswith(b"\x93NUMPY")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.tflite", "demo_input.npy", "out.npy"]


def test_unwritable_output_is_one_line_before_running(tmp_path: Path, monkeypatch, capsys) -> None:
    given = ("run", str(SMALL_MODEL), "--input", str(tmp_path / "never_read.npy"), "--output")
    for output, reason in (
        (tmp_path / "missing" / "y.npy", "does not exist"),
        (tmp_path / f"{'n' * 300}.npy", "too long"),
    ):
        assert_one_line_error(run_cli(monkeypatch, capsys, *given, str(output)), reason)


def test_os_errors_reaching_main_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from mcudeploy.cli import app

    def failing() -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/some/file\nforged line")

    monkeypatch.setattr(app, "app", failing)
    with pytest.raises(SystemExit) as exited:
        app.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == "mcudeploy: error: /some/file\\x0aforged line: No space left on device\n"
