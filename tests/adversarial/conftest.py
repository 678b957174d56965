"""Fixtures of the adversarial suite: does this machine give the namespace sandbox?"""

from __future__ import annotations

import pytest

from grader.sandbox.server import Sandbox

from .adversarial_support import LIMITS


@pytest.fixture(scope="session")
def isolation() -> tuple[bool, str]:
    """(strong, description) of the sandbox this machine gives by default."""
    with Sandbox(LIMITS, preload=("numpy",)) as probe:
        return probe.strong, probe.isolation


@pytest.fixture(scope="session")
def strong(isolation) -> bool:
    return isolation[0]
