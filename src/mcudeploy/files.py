"""The user's files: read only regular files of bounded size; write atomically; replace folders safely.

Reading checks the file's type before opening it and again on the open descriptor (opened without
blocking), so a FIFO or a device is refused before a byte is read. Every file written goes to a
temporary file in the same folder, is flushed to disk and renamed into place: a reader, or a kill at
any moment, sees the old file or the new one, never half of one. A folder (`generate`'s project) is
written beside its target and swapped in with two renames, under a lock on the parent folder.
docs/promises.md states the rules; tests/test_promises.py checks them.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from mcudeploy.errors import McuDeployError

MANIFEST = ".mcudeploy-manifest"
"""In every folder mcudeploy writes: `<sha256>  <path>` per file (the `sha256sum` format)."""
MAX_MANIFEST_BYTES = 1 << 20
LOCK_TIMEOUT_S = 60.0
"""How long a second writer into the same parent folder waits before giving up."""
SYSTEM_TREES = frozenset({"proc", "sys", "dev", "boot", "etc", "bin", "sbin", "lib", "lib32", "lib64", "usr"})
"""Top-level folders nothing is ever generated into (any depth)."""


# ---------------------------------------------------------------- reading


def open_regular(path: str | Path, limit: int, error: type[McuDeployError] = McuDeployError) -> BinaryIO:
    """`path` opened for reading, once it is known to be a regular file of at most `limit` bytes."""
    subject = str(path)
    try:
        _check_regular(os.stat(path).st_mode, subject, error)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(subject, "no such file") from None
    except OSError as failure:
        raise error(subject, f"cannot read: {failure.strerror}") from None
    try:
        info = os.fstat(descriptor)
        _check_regular(info.st_mode, subject, error)  # it may have been swapped since the stat
        if info.st_size > limit:
            raise error(subject, f"is {info.st_size:,} bytes, more than the {limit:,} mcudeploy reads")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | Path, limit: int, error: type[McuDeployError] = McuDeployError) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (checked again while reading: it may grow)."""
    with open_regular(path, limit, error) as stream:
        try:
            data = stream.read(limit + 1)
        except OSError as failure:
            raise error(str(path), f"cannot read: {failure.strerror}") from None
    if len(data) > limit:
        raise error(str(path), f"grew past the {limit:,} bytes mcudeploy reads")
    return data


def _check_regular(mode: int, subject: str, error: type[McuDeployError]) -> None:
    if stat.S_ISDIR(mode):
        raise error(subject, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise error(subject, f"is {_kind(mode)}, not a regular file")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a regular file")


# ---------------------------------------------------------------- writing one file


def check_output_file(path: str | Path, replace: bool) -> None:
    """Refuse, before any work, a destination `write_file` would refuse or fail on."""
    subject = str(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as failure:  # a name too long, a parent that is a file, a folder we may not search
        raise McuDeployError(subject, f"cannot write: {failure.strerror}") from None
    parent = Path(path).parent
    if not parent.is_dir():
        raise McuDeployError(subject, f"cannot write: folder '{parent}' does not exist")
    if mode is not None:
        if stat.S_ISLNK(mode):
            raise McuDeployError(subject, "is a symbolic link: mcudeploy never writes through one (give its target)")
        if not stat.S_ISREG(mode):
            raise McuDeployError(subject, f"is {_kind(mode)}, not a regular file")
        if not replace:
            raise McuDeployError(subject, "already exists (pass --force to replace it)")
    if not os.access(parent, os.W_OK):
        why = "read-only file system" if os.statvfs(parent).f_flag & os.ST_RDONLY else "permission denied"
        raise McuDeployError(subject, f"cannot write into '{parent}': {why}")


def write_file(path: str | Path, content: bytes | Callable[[BinaryIO], object], replace: bool) -> None:
    """Write `content` (bytes, or a function writing to a binary stream) to `path` atomically.

    An existing file is replaced only when `replace` is true; a symbolic link or anything but a
    regular file is never written to. I/O failures become one-line McuDeployErrors naming `path`.
    """
    path = Path(path)
    check_output_file(path, replace)
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".part", dir=path.parent)
    except OSError as failure:
        raise McuDeployError(str(path), f"cannot write: {failure.strerror}") from None
    temporary = Path(name)
    try:
        os.fchmod(descriptor, 0o666 & ~_umask())  # mkstemp makes 0600; a file written normally follows the umask
        with os.fdopen(descriptor, "wb") as stream:
            if callable(content):
                content(stream)
            else:
                stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        _move_into_place(temporary, path, replace)
        _sync_folder(path.parent)
    except OSError as failure:
        raise McuDeployError(str(path), f"cannot write: {failure.strerror or failure}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _move_into_place(temporary: Path, path: Path, replace: bool) -> None:
    if replace:
        os.replace(temporary, path)  # replaces a link itself, never what it points to
        return
    try:
        os.link(temporary, path)  # fails if `path` appeared meanwhile: no silent overwrite
    except FileExistsError:
        raise McuDeployError(str(path), "already exists (pass --force to replace it)") from None
    except OSError as failure:
        if failure.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        if os.path.lexists(path):  # a file system without hard links: check, then rename
            raise McuDeployError(str(path), "already exists (pass --force to replace it)") from None
        os.rename(temporary, path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (file systems that cannot sync a folder say EINVAL)."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    except OSError as failure:
        if failure.errno != errno.EINVAL:
            raise
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------- writing a folder


def write_folder(files: dict[str, bytes], folder: str | Path, replace: bool) -> None:
    """Write `files` (relative path → bytes) as the folder `folder`, with a manifest of them.

    Refused: the current folder or one holding it, a symbolic link, a system folder, a non-folder.
    An existing folder is replaced when it is empty, when it holds exactly what mcudeploy wrote
    there (its manifest matches every file), or when `replace` is true. Replacement: the new folder
    is written beside the target, the old one renamed aside, the new one renamed in, the old one
    deleted; a kill at any point leaves the old or the new folder complete, and the next run puts
    back an old folder a kill left aside and deletes leftovers.
    """
    subject = str(folder)
    target = check_output_folder(folder, replace)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent, subject):
        _recover(target)
        _check_replaceable(target, subject, replace)
        staging = target.parent / f"{_sibling_prefix(target)}new-{secrets.token_hex(4)}"
        try:
            _stage(files, staging)
            _swap(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def check_output_folder(folder: str | Path, replace: bool) -> Path:
    """Refuse, before any work, a folder `write_folder` would refuse; the folder with its parent
    resolved (its own name kept, to see whether it is a link)."""
    subject = str(folder)
    folder = Path(folder)
    target = folder.resolve() if folder.name in ("", ".", "..") else folder.parent.resolve() / folder.name
    if target.is_symlink():
        raise McuDeployError(subject, "is a symbolic link: give the folder it points to")
    if _is_system_folder(target):
        raise McuDeployError(subject, "is a system folder: generate writes a folder of its own")
    cwd = Path.cwd().resolve()
    if target == cwd:
        raise McuDeployError(subject, "is the current folder: generate writes a folder of its own")
    if target in cwd.parents:
        raise McuDeployError(subject, "holds the current folder: generate writes a folder of its own")
    if target.exists() and not target.is_dir():
        raise McuDeployError(subject, "exists and is not a folder")
    _check_replaceable(target, subject, replace)
    return target


def _is_system_folder(path: Path) -> bool:
    home = Path.home().resolve()
    if path == home or path in home.parents or len(path.parts) <= 2:  # /, /tmp, /home, ~
        return True
    return path.parts[1] in SYSTEM_TREES


@contextmanager
def _locked(parent: Path, subject: str) -> Iterator[None]:
    """Hold an exclusive lock on `parent` (no lock file left behind): writers into it take turns."""
    descriptor = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise McuDeployError(subject, "another mcudeploy process is writing beside it; try again") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _sibling_prefix(target: Path) -> str:
    """Names of a target's staging and set-aside folders: hidden, beside it, and its own (hashed name)."""
    digest = hashlib.sha256(target.name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f".{target.name[:40]}.{digest}.mcudeploy-"


def _recover(target: Path) -> None:
    """Undo what a killed run left: put back an old folder set aside, delete half-written ones."""
    prefix = _sibling_prefix(target)
    leftovers = sorted(
        (entry for entry in target.parent.iterdir() if entry.name.startswith(prefix)),
        key=lambda entry: entry.lstat().st_mtime,
    )
    set_aside = [entry for entry in leftovers if entry.name.startswith(f"{prefix}old-")]
    if set_aside and not os.path.lexists(target):
        os.rename(set_aside[-1], target)
        leftovers.remove(set_aside[-1])
    for entry in leftovers:
        shutil.rmtree(entry, ignore_errors=True)


def _check_replaceable(target: Path, subject: str, replace: bool) -> None:
    if replace or not target.exists():
        return
    foreign = _foreign_content(target)
    if foreign:
        raise McuDeployError(subject, f"already exists and {foreign} (pass --force to replace it)")


def _foreign_content(folder: Path) -> str | None:
    """Why replacing `folder` could lose something mcudeploy did not write, or None."""
    recorded = _read_manifest(folder)
    for root, folders, names in os.walk(folder):
        for name in [*folders, *names]:
            path = Path(root) / name
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                return f"holds '{relative}', which mcudeploy did not write"
            if path.is_dir() or relative == MANIFEST:
                continue
            if relative not in recorded:
                return f"holds '{relative}', which mcudeploy did not write"
            if _sha256(path.read_bytes()) != recorded[relative]:
                return f"'{relative}' was changed since mcudeploy wrote it"
    return None


def _read_manifest(folder: Path) -> dict[str, str]:
    """The manifest's file → sha256, or {} when it is absent or unreadable as one."""
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
        return {}
    recorded = {}
    for line in path.read_text("utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            return {}
        recorded[name] = digest
    return recorded


def manifest_text(files: dict[str, bytes]) -> bytes:
    return "".join(f"{_sha256(data)}  {name}\n" for name, data in sorted(files.items())).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stage(files: dict[str, bytes], staging: Path) -> None:
    os.mkdir(staging)
    for name, data in sorted({**files, MANIFEST: manifest_text(files)}.items()):
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise AssertionError(f"'{name}' would be written outside the folder")
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _swap(staging: Path, target: Path) -> None:
    """Move the complete new folder in; the old one (if any) is set aside first, deleted last."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        _sync_folder(target.parent)
        return
    aside = target.parent / f"{_sibling_prefix(target)}old-{secrets.token_hex(4)}"
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(aside, target)  # the old folder back, as it was
        raise
    _sync_folder(target.parent)
    shutil.rmtree(aside)
