"""What a course decides about its grading service: size and queue limits, submissions
per hour, deadlines and what late means. Read once at start (flags over a config file)
and frozen, so every request sees the same rules.

The config file (``--config``) is TOML (Python 3.11+) or JSON (a ``.json`` name)::

    deadline = "2025-03-01T23:59:00+01:00"   # every assignment (ISO 8601 with an offset)
    late = "penalty:0.1"                      # accept | refuse | penalty:<fraction per day>
    max_per_hour = 5                          # submissions per student per hour

    [assignments.NAME]                        # one table per assignment that differs
    deadline = "2025-03-08T23:59:00+01:00"
    late = "refuse"
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grader.errors import UsageError

MIB = 1 << 20
DAY = timedelta(days=1)
ACCEPT, REFUSE, PENALTY = "accept", "refuse", "penalty"
TOP_KEYS = frozenset({"deadline", "late", "max_per_hour", "assignments"})
ASSIGNMENT_KEYS = frozenset({"deadline", "late"})


@dataclass(frozen=True)
class LatePolicy:
    """What a late submission gets: ``accept`` (flagged only), ``refuse`` (recorded and
    graded, but not counted), or ``penalty`` (``per_day`` of the score per day late)."""

    kind: str = ACCEPT
    per_day: float = 0.0

    @classmethod
    def parse(cls, text: str) -> LatePolicy:
        word, _, value = text.strip().partition(":")
        if word in (ACCEPT, REFUSE) and not value:
            return cls(word)
        if word == PENALTY:
            try:
                per_day = float(value)
            except ValueError:
                per_day = -1.0
            if 0 < per_day <= 1:
                return cls(PENALTY, per_day)
        raise UsageError(
            f"late policy {text!r}: use accept, refuse or penalty:<fraction per day, 0..1>"
        )

    def __str__(self) -> str:
        return f"penalty:{self.per_day:g}" if self.kind == PENALTY else self.kind


@dataclass(frozen=True)
class Lateness:
    """How one submission stands against its deadline: recorded with it in the store."""

    late_days: int = 0
    penalty: float = 0.0
    counted: bool = True
    message: str = ""  # one line for the student; "" when on time


ON_TIME = Lateness()


@dataclass(frozen=True)
class ServiceSettings:
    max_bytes: int = 5 * MIB
    max_queue: int = 200
    max_per_hour: int | None = None  # submissions per student and assignment; None: off
    deadline: datetime | None = None  # every assignment's, unless in ``deadlines``
    late: LatePolicy = LatePolicy()
    deadlines: Mapping[str, datetime] = field(default_factory=dict)
    late_policies: Mapping[str, LatePolicy] = field(default_factory=dict)
    hub_api_url: str | None = None

    @property
    def body_limit(self) -> int:
        """The HTTP server's own limit, well above ``max_bytes``: tornado drops a body
        over it without an answer; below it the service answers 413 itself."""
        return max(4 * self.max_bytes, self.max_bytes + 16 * MIB)

    def deadline_of(self, assignment: str) -> datetime | None:
        return self.deadlines.get(assignment, self.deadline)

    def late_policy(self, assignment: str) -> LatePolicy:
        return self.late_policies.get(assignment, self.late)

    def lateness(self, assignment: str, received_at: datetime) -> Lateness:
        """Days late (started days count whole), and what the policy makes of them."""
        deadline = self.deadline_of(assignment)
        if deadline is None or received_at <= deadline:
            return ON_TIME
        days = max(1, math.ceil((received_at - deadline) / DAY))
        policy = self.late_policy(assignment)
        when = f"{days} day{'' if days == 1 else 's'} after the deadline ({deadline.isoformat()})"
        if policy.kind == REFUSE:
            return Lateness(days, 0.0, False, f"received {when}: recorded, but not counted")
        if policy.kind == PENALTY:
            penalty = min(1.0, policy.per_day * days)
            return Lateness(days, penalty, True, f"received {when}: {penalty:.0%} off the score")
        return Lateness(days, 0.0, True, f"received {when}: flagged late")

    def check_assignments(self, served: set[str]) -> None:
        """A deadline for an assignment the service does not serve is a typo: say so."""
        unknown = sorted((set(self.deadlines) | set(self.late_policies)) - served)
        if unknown:
            raise UsageError(
                f"the config names assignments not served: {', '.join(unknown)} "
                f"(served: {', '.join(sorted(served))})"
            )


def parse_deadline(text: str, where: str = "--deadline") -> datetime:
    """An ISO 8601 time with its offset (``Z`` or ``+01:00``): a deadline without one
    would mean a different moment on the server than in the course's syllabus."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{where} {text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise UsageError(f"{where} {text!r} needs a UTC offset, e.g. {text}+00:00 or {text}Z")
    return value


def read_config(path: Path) -> dict[str, Any]:
    """The config file as a dict: JSON for a ``.json`` name, else TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--config {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            try:
                import tomllib
            except ImportError:  # Python 3.10
                raise UsageError(
                    f"--config {path}: TOML needs Python 3.11; write it as JSON (.json)"
                ) from None
            data = tomllib.loads(text)
    except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError
        raise UsageError(f"--config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--config {path}: expected a table of settings")
    return data


def _keys(table: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise UsageError(f"{where}: unknown settings {', '.join(unknown)}")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{where} must be a string")
    return value


def load_settings(
    *,
    max_bytes: int = 5 * MIB,
    max_queue: int = 200,
    max_per_hour: int | None = None,
    deadline: str | None = None,
    late: str | None = None,
    config: Path | None = None,
    hub_api_url: str | None = None,
) -> ServiceSettings:
    """The settings from the command line's values over ``config``'s."""
    data = read_config(config) if config is not None else {}
    where = f"--config {config}"
    _keys(data, TOP_KEYS, where)
    if deadline is None and "deadline" in data:
        deadline = _text(data["deadline"], f"{where}: deadline")
    if late is None and "late" in data:
        late = _text(data["late"], f"{where}: late")
    if max_per_hour is None and "max_per_hour" in data:
        max_per_hour = data["max_per_hour"]
        if not isinstance(max_per_hour, int) or max_per_hour < 1:
            raise UsageError(f"{where}: max_per_hour must be a whole number from 1")
    deadlines, policies = {}, {}
    assignments = data.get("assignments", {})
    if not isinstance(assignments, dict):
        raise UsageError(f"{where}: assignments must be a table per assignment")
    for name, table in assignments.items():
        at = f"{where}: assignments.{name}"
        if not isinstance(table, dict):
            raise UsageError(f"{at} must be a table")
        _keys(table, ASSIGNMENT_KEYS, at)
        if "deadline" in table:
            deadlines[name] = parse_deadline(_text(table["deadline"], at), f"{at}.deadline")
        if "late" in table:
            policies[name] = LatePolicy.parse(_text(table["late"], at))
    if max_bytes < 1 or max_queue < 1:
        raise UsageError("--max-bytes and --max-queue must be at least 1")
    return ServiceSettings(
        max_bytes=max_bytes,
        max_queue=max_queue,
        max_per_hour=max_per_hour,
        deadline=parse_deadline(deadline) if deadline is not None else None,
        late=LatePolicy.parse(late) if late is not None else LatePolicy(),
        deadlines=deadlines,
        late_policies=policies,
        hub_api_url=hub_api_url.rstrip("/") if hub_api_url else None,
    )
