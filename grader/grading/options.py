"""The options of a grading run, and the sandboxes they ask for.

Kept apart from :mod:`grader.grading.batch` and light to import (no nbformat, no IPython): the
command line starts the workers' sandboxes from these before it loads the rest of the
grader, so that their helpers load numpy and matplotlib meanwhile.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import UsageError
from grader.sandbox.server import Limits, Sandbox

if TYPE_CHECKING:
    from grader.grading.submissions import Submission


@dataclass(frozen=True)
class Options:
    limits: Limits = field(default_factory=Limits)
    isolation: bool = True
    all_or_nothing: bool = False
    jobs: int = 0  # 0: one per core
    hide: tuple[Path, ...] = ()  # more folders submissions must not see (output, inputs)
    sandbox: str | None = None  # auto | namespaces | rlimits (None: $GRADER_SANDBOX or auto)
    # modules each sandbox loads once, before any submission: the kit's (Kit.preload);
    # None: the sandbox's default, the usual scientific stack (grader.sandbox.server.PRELOAD)
    preload: tuple[str, ...] | None = None


def release_folder(path: Path | str, argument: str | None = None) -> Path:
    """``path`` if it is a folder, else the one-line usage error: checked before the
    sandboxes start, so that the commonest slip (a wrong ``--release``) is told at once.
    ``argument``: the Python API's parameter, named in the error instead of the flag."""
    path = Path(path)
    name = f"{argument}={str(path)!r}" if argument else f"release folder {path}"
    if path.exists() and not path.is_dir():
        raise UsageError(f"{name} is a file, not a folder")
    if not path.is_dir():
        raise UsageError(
            f"{name} does not exist (run `grader release` first"
            + (")" if argument else ", or pass --release)")
        )
    return path


def new_sandbox(options: Options, *, wait: bool = True) -> Sandbox:
    """The sandbox every worker uses: the same limits, hidden folders and mode."""
    if options.preload is None:
        return Sandbox(options.limits, hide=options.hide, mode=options.sandbox, wait=wait)
    return Sandbox(
        options.limits, hide=options.hide, mode=options.sandbox, wait=wait, preload=options.preload
    )


def hiding(options: Options, submissions: Sequence[Submission], *folders: Path) -> Options:
    """``options`` whose sandboxes also hide ``folders`` and the submissions' folders:
    a student must not read other students' notebooks nor the reports."""
    from grader.grading.submissions import hidden_folder

    hidden = {*options.hide, *folders, *map(hidden_folder, submissions)}
    return replace(options, hide=tuple(sorted(hidden, key=str)))


def start_sandboxes(
    options: Options, submissions: int, stack: contextlib.ExitStack
) -> list[Sandbox]:
    """One sandbox for each worker that will grade ``submissions`` on this machine,
    started without waiting (closed with ``stack``); hand them to ``jobs.local_runner``."""
    count = min(options.jobs or default_jobs(), submissions)
    return [stack.enter_context(new_sandbox(options, wait=False)) for _ in range(count)]


def sandbox_isolation(options: Options, started: Sequence[Sandbox] = ()) -> tuple[str, bool]:
    """What isolation the workers will get here, in words, and whether it is the strong one.

    Asked of the sandboxes ``started`` for them (each is waited for, so that a worker
    forked later takes over a ready one), else of a probe with the same set-up."""
    for sandbox in started:
        sandbox.wait_ready()
    if started:
        return started[0].isolation, started[0].strong
    # the same set-up as the workers' sandboxes, without loading numpy and matplotlib
    with Sandbox(options.limits, hide=options.hide, mode=options.sandbox, preload=()) as sandbox:
        return sandbox.isolation, sandbox.strong


def default_jobs() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
