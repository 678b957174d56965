"""What the commands share: output folders checked before any work, and SIGTERM taken
as Ctrl-C so that an interrupted run closes its workers and keeps its results."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from grader.errors import UsageError


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI job cancelled, ``timeout``, ``docker stop``), taken as Ctrl-C is."""


def interrupted_code(exc: KeyboardInterrupt) -> int:
    return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


@contextlib.contextmanager
def sigterm_interrupts():
    def stop(signum, frame):
        raise Terminated()

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (the command run from a thread)
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def output_folder(path: Path, flag: str, *, create: bool = True) -> Path:
    """``path`` as a folder to write into, checked (and made, with ``create``) before any
    work: a file in the way is a usage error, not a traceback minutes later."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file, not a folder")
    if not create:
        existing = next(parent for parent in path.absolute().parents if parent.exists())
        if not existing.is_dir():
            raise UsageError(f"cannot create the {flag} folder {path}: {existing} is a file")
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the {flag} folder {path}: {exc.strerror}") from None
    return path


def limit_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--timeout`` and ``--memory``: the sandbox limits every grading command takes
    (the same defaults everywhere, so that the same notebook gets the same result)."""
    function = click.option(
        "--memory",
        "memory_mb",
        type=click.IntRange(min=64),
        default=2048,
        show_default=True,
        help="Memory limit per submission, in MiB.",
    )(function)
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=10.0,
        show_default=True,
        help="Seconds (wall clock and CPU) allowed per exercise.",
    )(function)
