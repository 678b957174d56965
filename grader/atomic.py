"""Writing results so that a crash or Ctrl-C never leaves a half-written file or folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def open_write(
    path: Path, text: bool = False, errors: str = "strict", durable: bool = True
) -> Iterator[IO[Any]]:
    """A handle on a temporary sibling of ``path``, renamed over ``path`` once the block ends.

    For files too big to build in memory first: the caller writes chunk by chunk,
    and readers still see the old file or the complete new one, never a prefix. If
    the block raises, the temporary file is removed and ``path`` is left untouched.
    ``text``: a UTF-8 text handle (``errors`` as for ``str.encode``, no newline
    translation); else a binary one. ``durable``: fsync before the rename, so that a
    crash cannot leave an empty file (skip it for files that are cheap to make again).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8", errors=errors, newline="")
            if text
            else os.fdopen(fd, "wb")
        ) as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to a temporary sibling, fsync it, then rename it over ``path``."""
    with open_write(path, durable=durable) as handle:
        handle.write(data)


def replace_tree(target: Path, files: Mapping[str, bytes]) -> None:
    """Make folder ``target`` hold exactly ``files`` (relative path -> bytes).

    The new tree is built beside the old one and swapped in with renames, so a
    reader sees either the old folder or the new one, never a mix.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent))
    try:
        os.chmod(staging, 0o755)
        for relative, data in files.items():
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
        os.rename(staging, target)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


CACHE_DIRS = {"__pycache__", ".ipynb_checkpoints"}


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder`` as relative path -> bytes, caches left out."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not CACHE_DIRS & set(path.relative_to(folder).parts)
    }
