"""Registry of assignment kits: one subpackage per assignment, found by name."""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from grader.errors import UnknownAssignmentError


def available() -> list[str]:
    """Names of the installed assignment kits."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg)


def get_kit(name: str) -> ModuleType:
    """The kit module of assignment ``name``; a usage error names the known ones."""
    if name not in available():
        known = ", ".join(available()) or "none"
        raise UnknownAssignmentError(f"unknown assignment {name!r} (known: {known})")
    return importlib.import_module(f"{__name__}.{name}")
