"""Reading small files safely and writing every file atomically.

Every file cnnviz writes (screenshots, settings, scenes, exports, movies) goes through
:func:`atomic_write` or :func:`atomic_path`: the bytes go to a temporary file in the target's
folder and are renamed into place only when complete, so a full disk, a cancel or a signal never
leaves a half-written file and never damages the file that was there. An output that resolves
to one of the command's inputs (same path after symlinks, or same inode) is refused.

Small text files a user hands us (settings, scenes, decks) are read with :func:`read_text_file`:
regular files only (never a pipe or a device, which could block or never end), opened without
blocking, and read up to a bound.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import ExportError, InputError

SMALL_FILE_LIMIT = 1 << 20  # 1 MiB: a settings file, a scene or a deck is a few kB


def _describe(err: OSError) -> str:
    return err.strerror or type(err).__name__


def regular_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path`` if it names an existing regular file (after symlinks); else InputError in one line."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{what} {p}: no such file") from None
    except OSError as err:
        raise InputError(f"{what} {p}: {_describe(err)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {p}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {p}: not a regular file (a pipe or a device cannot be read)")
    return p


def read_bytes_file(path: str | os.PathLike[str], *, limit: int = SMALL_FILE_LIMIT, what: str = "file") -> bytes:
    """At most ``limit`` bytes of a regular file; InputError if it is larger, missing or not regular."""
    p = regular_file(path, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as err:
        raise InputError(f"{what} {p}: {_describe(err)}") from None
    with os.fdopen(fd, "rb") as f:
        # fstat the open file: the path could have been swapped for a pipe since the check.
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InputError(f"{what} {p}: not a regular file (a pipe or a device cannot be read)")
        try:
            data = f.read(limit + 1)
        except OSError as err:
            raise InputError(f"{what} {p}: {_describe(err)}") from None
    if len(data) > limit:
        raise InputError(f"{what} {p} is larger than {limit // 1024} kB: not a {what}")
    return data


def read_text_file(path: str | os.PathLike[str], *, limit: int = SMALL_FILE_LIMIT, what: str = "file") -> str:
    """A small UTF-8 text file (see :func:`read_bytes_file`)."""
    data = read_bytes_file(path, limit=limit, what=what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path}: not UTF-8 text") from None


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` are one file: the same resolved path or the same inode."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.resolve() == pb.resolve():
            return True
    except (OSError, RuntimeError):
        pass
    try:
        return os.path.samefile(pa, pb)
    except OSError:
        return False


def check_not_input(out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    """ExportError if ``out`` is one of ``inputs`` (the files the same command reads)."""
    for src in inputs:
        if src is not None and same_file(out, src):
            raise ExportError(f"refusing to write {out}: it is one of this command's inputs ({src})")


def check_writable_target(path: str | os.PathLike[str], what: str = "output") -> Path:
    """``path`` as a Path if a file can be written there; else ExportError saying why."""
    p = Path(path)
    if p.is_dir():
        raise ExportError(f"cannot write {what} {p}: it is a folder")
    if p.exists() and not p.is_file():
        raise ExportError(f"cannot write {what} {p}: not a regular file")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"cannot write {what} {p}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ExportError(f"cannot write {what} {p}: folder {parent} is not writable")
    return p


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    what: str = "output",
    suffix: str | None = None,
) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block ends without error.

    For writers that want a file name (Qt's ``QImage.save``, PyAV, matplotlib). On any exception
    the temporary file is removed and ``path`` is untouched. ``suffix`` defaults to ``path``'s own,
    so writers that choose the format by extension see the right one.
    """
    p = check_writable_target(path, what)
    inputs = list(inputs)
    check_not_input(p, inputs)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{p.name}.",
        suffix=(p.suffix if suffix is None else suffix) + ".part",
        dir=p.parent if str(p.parent) else ".",
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        check_not_input(p, inputs)  # a symlink could have been pointed at an input meanwhile
        if p.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(p.stat().st_mode))
        else:
            with contextlib.suppress(OSError):
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as err:
        raise ExportError(f"cannot write {what} {p}: {_describe(err)}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | str | Callable[[BinaryIO], None],
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    what: str = "output",
) -> Path:
    """Write ``data`` (bytes, text as UTF-8, or a function that writes to a binary file) atomically."""
    p = Path(path)
    with atomic_path(p, inputs=inputs, what=what) as tmp:
        try:
            with open(tmp, "wb") as f:
                if callable(data):
                    data(f)
                else:
                    f.write(data.encode("utf-8") if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:
            raise ExportError(f"cannot write {what} {p}: {_describe(err)}") from None
    return p


def prepare_output_dir(
    folder: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    what: str = "output folder",
) -> Path:
    """The folder a command writes many files into (``cnnviz export --out DIR``), made if missing.

    ExportError in one line when it is not a folder, is not empty (unless ``overwrite``: then
    files in it may be replaced, each atomically), or holds one of ``inputs`` (an export must
    never replace the picture it was made from).
    """
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise ExportError(f"cannot write into {what} {p}: it is not a folder")
    if p.is_dir():
        try:
            entries = [e.name for e in os.scandir(p)]
        except OSError as err:
            raise ExportError(f"cannot write into {what} {p}: {_describe(err)}") from None
        if entries and not overwrite:
            raise ExportError(
                f"{what} {p} is not empty ({len(entries)} entries): choose a new folder or pass --overwrite"
            )
        resolved = p.resolve()
        for src in inputs:
            if src is not None and resolved in Path(src).resolve().parents:
                raise ExportError(f"refusing to write into {p}: it holds one of this command's inputs ({src})")
    else:
        try:
            p.mkdir(parents=True)
        except OSError as err:
            raise ExportError(f"cannot make {what} {p}: {_describe(err)}") from None
    if not os.access(p, os.W_OK):
        raise ExportError(f"cannot write into {what} {p}: it is not writable")
    return p
