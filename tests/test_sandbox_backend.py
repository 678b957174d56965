"""The sandbox's interface (grader.sandbox.backend): what the pipeline may rely on, and
the fork server implementing it."""

from __future__ import annotations

import inspect

import pytest

import grader
import grader.sandbox
from grader.sandbox import Limits, Sandbox, SandboxBackend, SandboxError, SandboxSession, Session
from grader.sandbox.backend import Limits as BackendLimits
from grader.sandbox.session import ForkServer


def test_the_package_exports_the_interface_and_the_fork_server():
    import grader.sandbox.server as server

    assert Limits is BackendLimits is server.Limits is grader.Limits
    assert SandboxError is server.SandboxError and Sandbox is server.Sandbox
    assert set(grader.sandbox.__all__) >= {
        "Sandbox",
        "Limits",
        "SandboxBackend",
        "SandboxSession",
        "SandboxError",
    }


@pytest.mark.parametrize(
    "protocol, implementation",
    [(SandboxBackend, Sandbox), (SandboxSession, Session), (ForkServer, Sandbox)],
)
def test_the_fork_server_has_every_member_of_the_interface(protocol, implementation):
    """Checked on the class: attributes set by ``__init__`` are checked on instances
    (below)."""
    members = {
        name
        for name in vars(protocol)
        if not name.startswith("_") or name in ("__enter__", "__exit__")
    }
    for name in sorted(members - {"limits", "hung", "memo"}):
        assert hasattr(implementation, name), f"{implementation.__name__} lacks {name}"
        wanted = getattr(protocol, name)
        if inspect.isfunction(wanted):  # the same parameters, by name and kind
            have = inspect.signature(getattr(implementation, name)).parameters
            for parameter in inspect.signature(wanted).parameters.values():
                if parameter.kind is parameter.VAR_POSITIONAL:
                    continue
                assert parameter.name in have, f"{implementation.__name__}.{name}"
                assert have[parameter.name].kind == parameter.kind


def test_a_running_sandbox_and_its_sessions_are_instances_of_the_interface():
    with Sandbox(Limits(call_timeout=2.0), mode="rlimits") as sandbox:
        assert isinstance(sandbox, SandboxBackend) and sandbox.limits.call_timeout == 2.0
        assert sandbox.memo is not None
        with sandbox.open(["def f(x):\n    return x + 1"], numbers=[4], names=["f"]) as session:
            assert isinstance(session, SandboxSession)
            assert session.call("f", (1,)).value == 2
            assert session.cell_label(0) == "cell 4 (f)" and session.cell_errors() == []
            assert dict(session.hung) == {} and session.limits.call_timeout == 2.0


def test_closing_the_sandbox_abandons_its_open_sessions():
    sandbox = Sandbox(Limits(), mode="rlimits")
    session = sandbox.open(["x = 1"])
    assert session.pid is not None
    sandbox.close()
    assert session.pid is None
    with pytest.raises(SandboxError, match="closed"):
        session.call("f")
