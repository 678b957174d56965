"""The grading service's pure parts, without a server: settings and late policies, the
roster and hub tokens, the student-facing result, and the limits' arithmetic."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from grader.errors import UsageError
from grader.reports.student import student_result
from grader.results import CheckResult, ExerciseResult, SubmissionResult
from grader.service.auth import Authenticator, HubUnavailable, Roster, User, token_of
from grader.service.settings import LatePolicy, ServiceSettings, load_settings, parse_deadline
from grader.service.state import notebook_problem, rate_limit_wait

UTC = timezone.utc
DEADLINE = datetime(2025, 3, 1, 23, 59, tzinfo=UTC)


def test_a_deadline_needs_an_offset():
    assert parse_deadline("2025-03-01T23:59Z") == DEADLINE
    assert parse_deadline("2025-03-02T00:59+01:00") == DEADLINE
    with pytest.raises(UsageError, match="UTC offset"):
        parse_deadline("2025-03-01T23:59")
    with pytest.raises(UsageError, match="not an ISO 8601"):
        parse_deadline("next friday")


@pytest.mark.parametrize("text", ["refuse:1", "penalty", "penalty:0", "penalty:1.5", "late"])
def test_a_bad_late_policy_is_a_usage_error(text):
    with pytest.raises(UsageError, match="accept, refuse or penalty"):
        LatePolicy.parse(text)


def test_lateness_counts_started_days_and_applies_the_policy():
    settings = ServiceSettings(deadline=DEADLINE, late=LatePolicy.parse("penalty:0.25"))
    assert settings.lateness("a", DEADLINE).late_days == 0
    one = settings.lateness("a", DEADLINE + timedelta(seconds=1))
    assert (one.late_days, one.penalty, one.counted) == (1, 0.25, True)
    five = settings.lateness("a", DEADLINE + timedelta(days=4, hours=1))
    assert (five.late_days, five.penalty) == (5, 1.0)  # never more than the whole score
    refused = ServiceSettings(deadline=DEADLINE, late=LatePolicy("refuse"))
    late = refused.lateness("a", DEADLINE + timedelta(hours=30))
    assert (late.late_days, late.counted, late.penalty) == (2, False, 0.0)
    assert "not counted" in late.message
    accepted = ServiceSettings(deadline=DEADLINE).lateness("a", DEADLINE + timedelta(days=1))
    assert (accepted.late_days, accepted.counted, accepted.penalty) == (1, True, 0.0)
    assert ServiceSettings().lateness("a", DEADLINE).message == ""  # no deadline: on time


def test_config_files_in_toml_or_json_and_flags_win(tmp_path):
    toml = tmp_path / "service.toml"
    toml.write_text(
        'deadline = "2025-03-01T23:59Z"\nlate = "refuse"\nmax_per_hour = 3\n'
        '[assignments.second]\ndeadline = "2025-03-08T23:59Z"\nlate = "penalty:0.1"\n',
        encoding="utf-8",
    )
    settings = load_settings(config=toml)
    assert settings.deadline_of("first") == DEADLINE
    assert settings.deadline_of("second") == DEADLINE + timedelta(days=7)
    assert str(settings.late_policy("first")) == "refuse"
    assert str(settings.late_policy("second")) == "penalty:0.1"
    assert settings.max_per_hour == 3
    flags = load_settings(config=toml, late="accept", max_per_hour=9, deadline="2025-01-01T00:00Z")
    assert (str(flags.late), flags.max_per_hour) == ("accept", 9)
    assert flags.deadline_of("first") == datetime(2025, 1, 1, tzinfo=UTC)
    as_json = tmp_path / "service.json"
    as_json.write_text(json.dumps({"assignments": {"x": {"late": "refuse"}}}), encoding="utf-8")
    assert str(load_settings(config=as_json).late_policy("x")) == "refuse"
    with pytest.raises(UsageError, match="not served: x"):
        load_settings(config=as_json).check_assignments({"first"})


@pytest.mark.parametrize(
    "text",
    ['dedline = "2025-03-01T23:59Z"\n', '[assignments.x]\nlate = "refuse"\nmaxi = 1\n', "= oops"],
)
def test_a_bad_config_file_is_told_in_one_line(tmp_path, text):
    path = tmp_path / "service.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_settings(config=path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_the_roster_is_checked_line_by_line():
    roster = Roster.parse(
        "token,user,role\na1,alice,student\np1,prof,instructor\np2,prof,student\n"
    )
    assert roster.user("a1") == User("alice", "student")
    assert roster.user("nope") is None
    assert roster.role_of("prof") == "instructor" and roster.role_of("stranger") == "student"
    assert roster.members() == [("alice", "student"), ("prof", "instructor")]
    for text, message in [
        ("user,token,role\n", "first line"),
        ("token,user,role\na1,alice,teacher\n", "line 2|:2: role"),
        ("token,user,role\na1,alice,student\na1,bob,student\n", ":3: this token is given twice"),
        ("token,user,role\n,alice,student\n", "empty token"),
        ("token,user,role\n", "no users"),
    ]:
        with pytest.raises(UsageError, match=message):
            Roster.parse(text)


def test_the_authorization_header():
    assert token_of("token abc") == "abc" and token_of("Bearer abc") == "abc"
    assert token_of(None) is None and token_of("Basic abc") is None and token_of("token ") is None


def _hub(answers: dict[str, tuple[int, bytes]], clock: list[float]):
    asked: list[str] = []

    async def fetch(url: str, token: str) -> tuple[int, bytes]:
        asked.append(token)
        assert url == "http://hub/hub/api/user"
        answer = answers[token]
        if isinstance(answer, Exception):
            raise answer
        return answer

    roster = Roster.parse("token,user,role\nr1,prof,instructor\n")
    auth = Authenticator(roster, "http://hub/hub/api/", fetch=fetch, clock=lambda: clock[0])
    return auth, asked


def test_hub_tokens_are_asked_once_a_minute_and_roles_come_from_the_roster():
    clock = [0.0]
    answers = {
        "h1": (200, b'{"kind": "user", "name": "hubby"}'),
        "h2": (200, b'{"kind": "user", "name": "prof", "admin": false}'),
        "h3": (403, b""),
        "h4": (200, b'{"kind": "service", "name": "culler"}'),
        "h5": (500, b""),
        "h6": HubUnavailable("refused"),
    }
    auth, asked = _hub(answers, clock)

    def who(token: str):
        return asyncio.run(auth.identify(f"token {token}"))

    assert who("r1") == User("prof", "instructor") and asked == []  # the roster first
    assert who("h1") == User("hubby", "student")
    assert who("h1") == User("hubby", "student") and asked == ["h1"]
    clock[0] = 61.0
    assert who("h1") == User("hubby", "student") and asked == ["h1", "h1"]
    assert who("h2") == User("prof", "instructor")
    assert who("h3") is None and who("h4") is None
    for failing in ("h5", "h6"):
        with pytest.raises(HubUnavailable):
            who(failing)
    without_hub = Authenticator(Roster.parse("token,user,role\nr1,prof,instructor\n"))
    assert asyncio.run(without_hub.identify("token h1")) is None


def test_the_student_result_keeps_hidden_values_hidden():
    hidden = CheckResult("case 2", False, "expected [1.5, 2.5], got [0, 0]", "wrong values")
    public = CheckResult("case 1: example", False, "got 3, expected 4")
    result = SubmissionResult(
        "alice",
        "label",
        5.0,
        20.0,
        "graded",
        exercises=(
            ExerciseResult("f", 0.0, 10.0, "failed", (public, hidden)),
            ExerciseResult("g", 5.0, 10.0, "timeout", (), "took longer than 10 s"),
        ),
        cell_errors=("cell 3: NameError",),
    )
    shown = student_result(result)
    assert shown["exercises"]["f"]["checks"] == [
        {"name": "case 1: example", "passed": False, "message": "got 3, expected 4"},
        {"name": "case 2", "passed": False, "message": "wrong values"},
    ]
    assert "1.5" not in json.dumps(shown)
    assert shown["exercises"]["g"]["message"] == "took longer than 10 s"
    assert (shown["score"], shown["max_score"], shown["status"]) == (5.0, 20.0, "graded")
    assert shown["cell_errors"] == ["cell 3: NameError"]
    revealed = student_result(result, reveal_expected=True)
    assert "1.5" in json.dumps(revealed)


def test_what_is_a_notebook():
    assert notebook_problem(b'{"cells": [], "nbformat": 4, "metadata": {}}') is None
    assert "not JSON" in notebook_problem(b"\x00\x01")
    assert "no integer 'nbformat'" in notebook_problem(b'{"cells": [], "nbformat": true}')


def test_the_hourly_limit_waits_for_the_oldest_submission_in_the_hour():
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    times = [now - timedelta(minutes=m) for m in (5, 20, 50, 70)]  # newest first
    rows = [SimpleNamespace(received_at=t.isoformat()) for t in times]
    store = SimpleNamespace(
        count_since=lambda user, assignment, since: sum(t >= since for t in times),
        submissions=lambda assignment, user: rows,
    )
    assert rate_limit_wait(store, "u", "a", 4, now) is None  # 3 in the last hour
    assert rate_limit_wait(store, "u", "a", 3, now) == pytest.approx(10 * 60)
    assert rate_limit_wait(store, "u", "a", 1, now) == pytest.approx(55 * 60)
