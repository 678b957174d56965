"""The assignment contract: what the grader needs to know about one assignment.

A kit is one :class:`Kit` object. The grader asks it for nothing else, so a course can
ship its kit as a package of its own and register it under the entry point group
``grader.assignments`` (``name = "package.module:KIT"``); the built-in kits live in
``grader/assignments/<name>/`` and expose ``KIT`` the same way. What a notebook says
(exercises' cells, points, helper files) is read from the notebook itself by
:mod:`grader.authoring.assignment`; the kit holds what a notebook cannot: the
reference, the hidden cases and the rules of grading. ``docs/authoring.md`` walks
through writing one.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

# How a check's label starts when it is the notebook's own, public example.
EXAMPLE_LABEL = "the notebook's example"

Signature = tuple[tuple[str, ...], tuple[str, ...]]  # (argument names, output names)
# (student's output, reference's output) -> None when acceptable, else one line for the
# student that gives away no hidden expected value
Judge = Callable[[Any, Any], "str | None"]


class Case(NamedTuple):
    """One call of a graded function: what the student reads, the arguments, and how the
    result is judged (default: equal to the reference's output, within tolerance)."""

    label: str
    args: tuple
    judge: Judge | None = None


@dataclass(frozen=True)
class Kit:
    """One assignment's grading rules.

    ``reference``: the model solution, an object whose attributes are the graded
    functions (a module, or :class:`grader.authoring.reference.SolutionReference`, which
    takes them from the source notebook's solution cells). ``hidden_cases(helper_dir)``:
    per exercise, the :class:`Case` list of the hidden checks; ``helper_dir`` is the
    release folder, whose helper modules (test cases) a kit may use. ``generated_files``
    (source folder -> relative path -> bytes): files the release needs besides the
    source folder's own, e.g. public-test fixtures.
    """

    name: str
    exercises: tuple[str, ...]
    signatures: Mapping[str, Signature]
    reference: Any
    hidden_cases: Callable[[Path], Mapping[str, Sequence[Case]]]
    generated_files: Callable[[Path], Mapping[str, bytes]] = field(default=lambda source_dir: {})
    # graded functions an exercise may call: with isolation on, the grader answers them
    # with the reference, so that one mistake costs points only once
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # functions that must seed numpy themselves (result independent of the global state)
    reseeding: tuple[str, ...] = ()
    # exercises whose arguments may be changed in place without losing points
    arguments_may_change: tuple[str, ...] = ()
    # module names older course versions used -> the release's module
    module_aliases: Mapping[str, str] = field(default_factory=dict)
    # name stems that look like a helper module (see grader.grading.imports)
    module_lookalikes: Mapping[str, str] | None = None
    # modules each sandbox loads once, before any submission, so that a submission's
    # imports cost nothing; None: numpy, matplotlib and h5py (grader.sandbox.server.PRELOAD)
    preload: tuple[str, ...] | None = None
    # checks a dependency callback's arguments before the reference runs (see
    # grader.sandbox.messages.Callback); None: any arguments are answered, only the
    # size of the answer is bounded
    callback_contract: Callable[[str, tuple, dict], int] | None = None
    # exercises whose calls in demonstration cells are not run while grading (they train
    # for minutes when a student runs them; the hidden checks test the same function)
    skip_demonstrations: tuple[str, ...] = ()
    # (solutions folder, release folder) -> file name -> notebook bytes: the demo batch
    samples: Callable[[Path, Path], Mapping[str, bytes]] | None = None
    # points per exercise, when the kit wants them checked against the notebook's
    points: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        missing = [name for name in self.exercises if name not in self.signatures]
        if missing:
            raise ValueError(f"kit {self.name!r}: no signature for {', '.join(missing)}")
        unknown = [name for name in self.dependencies if name not in self.exercises]
        if unknown:
            raise ValueError(
                f"kit {self.name!r}: dependencies of unknown exercises {', '.join(unknown)}"
            )

    def reference_function(self, name: str) -> Callable:
        return getattr(self.reference, name)


def load_helper_module(folder: Path, module: str, prefix: str) -> ModuleType:
    """Import one of a student folder's helper modules by path, without ``sys.path`` and
    without writing bytecode into the folder (``prefix`` keeps two kits' apart)."""
    path = Path(folder) / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"_{prefix}_{module}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    loaded = importlib.util.module_from_spec(spec)
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # keep folders clean
    try:
        spec.loader.exec_module(loaded)
    finally:
        sys.dont_write_bytecode = before
    return loaded
