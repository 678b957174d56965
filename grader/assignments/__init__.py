"""Registry of assignment kits (see :mod:`grader.assignments.kit`), found by name.

Built-in kits are the subpackages of this package, each exposing ``KIT``; a course's own
package registers more under the entry point group ``grader.assignments``::

    [project.entry-points."grader.assignments"]
    my_assignment = "my_course_kit:KIT"
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from grader.errors import UnknownAssignmentError

if TYPE_CHECKING:
    from grader.assignments.kit import Kit

ENTRY_POINT_GROUP = "grader.assignments"


def _builtin() -> list[str]:
    return [info.name for info in pkgutil.iter_modules(__path__) if info.ispkg]


def _registered() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Names of the installed assignment kits, built in or registered."""
    return sorted({*_builtin(), *_registered()})


@functools.cache
def get_kit(name: str) -> Kit:
    """The kit of assignment ``name``; a usage error names the known ones."""
    from grader.assignments.kit import Kit

    if name in _builtin():
        loaded = importlib.import_module(f"{__name__}.{name}").KIT
    elif name in _registered():
        try:
            loaded = _registered()[name].load()
        except Exception as exc:  # a course's package that does not import
            raise UnknownAssignmentError(
                f"the kit of {name!r} does not load: {type(exc).__name__}: {exc}"
            ) from None
        loaded = getattr(loaded, "KIT", loaded)  # "module" or "module:KIT"
    else:
        known = ", ".join(available()) or "none"
        raise UnknownAssignmentError(f"unknown assignment {name!r} (known: {known})")
    if not isinstance(loaded, Kit) or loaded.name != name:
        raise UnknownAssignmentError(
            f"the kit registered as {name!r} is not a grader.assignments.kit.Kit named {name!r}"
        )
    return loaded
