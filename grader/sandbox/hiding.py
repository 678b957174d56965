"""What a submission must not see: the folders a sandbox hides from it.

With namespaces every folder listed by :func:`hidden_paths` is an empty one in the
sandbox (what the interpreter needs is bound back there); in rlimits mode only the
scratch folder and the limits separate them (see :mod:`grader.sandbox.server`).
"""

from __future__ import annotations

import site
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the grader package
# hidden from submissions besides the grader package, its checkout, cwd and `hide`
SYSTEM_HIDDEN = ("/root", "/home", "/tmp", "/var/tmp", "/run", "/mnt", "/media", "/srv")
# top-level folders left visible (read-only): the operating system; all others are hidden
SYSTEM_KEPT = frozenset(
    {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc", "dev", "sys", "var"}
)


def _top_level_folders() -> list[Path]:
    """Every top-level folder but the operating system's own: other checkouts of the
    course (a second clone, a colleague's copy under /work or /srv) must not be visible
    either. What the interpreter needs is bound back by the isolation setup."""
    try:
        entries = list(Path("/").iterdir())
    except OSError:
        return []
    return [
        entry
        for entry in entries
        if entry.name not in SYSTEM_KEPT and not entry.is_symlink() and entry.is_dir()
    ]


def hidden_paths(extra: Sequence[Path | str] = ()) -> list[str]:
    """Folders a submission must not see: the grader's own, system ones, and ``extra``."""
    package = PACKAGE
    paths: list[Path | str] = [
        package,
        Path.cwd(),
        Path.home(),
        *SYSTEM_HIDDEN,
        tempfile.gettempdir(),
        *_top_level_folders(),
    ]
    site_folders: set[Path] = set()
    for getter in ("getsitepackages", "getusersitepackages"):  # old virtualenvs lack one
        try:
            found = getattr(site, getter)()
        except Exception:
            continue
        site_folders.update(
            Path(p).resolve() for p in ([found] if isinstance(found, str) else found)
        )
    if package.parent not in site_folders:  # a checkout (editable install): course files
        paths.append(package.parent)
    if sys.pycache_prefix:  # the grader's own bytecode, reference included
        paths.append(sys.pycache_prefix)
    paths += list(extra)
    result: list[str] = []
    for path in paths:
        resolved = str(Path(path).resolve())
        if resolved != "/" and resolved not in result:
            result.append(resolved)
    return result
