"""Helpers of the adversarial suite: short limits, and finding processes left behind."""

from __future__ import annotations

import os
from pathlib import Path

from grader.sandbox.server import Limits

# short limits: the whole suite stays within a minute on two cores
LIMITS = Limits(
    call_timeout=1.5, cells_timeout=5.0, submission_timeout=40.0, memory_bytes=512 << 20
)


def processes_with(marker: str) -> list[int]:
    """Pids whose environment, command line or name carries ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        for name in ("environ", "cmdline", "comm"):
            try:
                if marker.encode() in Path(f"/proc/{entry}/{name}").read_bytes():
                    found.append(int(entry))
                    break
            except OSError:
                continue
    return found


def processes_of_uids_from(floor: int, below: int = 1 << 32) -> list[str]:
    """Processes (not zombies) running as a uid in [floor, below): the sandbox's
    per-submission uids. Each as 'pid uid state command' for the assertion message."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = dict(
                line.split(":", 1)
                for line in Path(f"/proc/{entry}/status").read_text().splitlines()
                if ":" in line
            )
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")[:80]
        except OSError:
            continue
        uid, state = int(fields["Uid"].split()[0]), fields["State"].split()[0]
        if floor <= uid < below and state not in ("Z", "X"):
            found.append(f"{entry} {uid} {state} {command.decode(errors='replace')}")
    return found
