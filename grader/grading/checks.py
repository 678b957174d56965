"""Hidden checks: which calls to make for each exercise, and what their results mean.

A plan is computed once per batch, in the grader's process, from the assignment
kit: each check is a case (arguments + the reference's output) or a property
(arguments left unchanged, result independent of numpy's global random state).
Running a plan against one submission needs only a ``calls`` function that asks the
sandbox to run the student's function on every check's arguments (one
:class:`~grader.sandbox.messages.CallBatch`, built and encoded once per batch) and
returns the results; a result whose encoding equals the expected one is judged from
that alone, without decoding or comparing.

Each hidden call is bounded relative to the reference's own time (:func:`call_limit`):
the plan times the reference (its CPU time) on every check, so a student's infinite loop
costs about a second, not the whole ``--timeout``, while a merely slow function still has
room.
"""

from __future__ import annotations

import copy
import math
import os
import time
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignments.kit import EXAMPLE_LABEL, Judge, Kit
from grader.grading.compare import Problem, compare, output_problems
from grader.results import CheckResult
from grader.sandbox import wire
from grader.sandbox.messages import CallBatch, CallResult, timed_out

ARGS_UNCHANGED = "leaves its arguments unchanged"
RANDOM_STATE = "does not depend on the global random state"
# A hidden call may take RELATIVE_FACTOR times the reference's time for the same exercise,
# at least RELATIVE_FLOOR seconds, never more than --timeout (Limits.relative_timeout: on)
RELATIVE_FACTOR = 100
RELATIVE_FLOOR = 1.0  # seconds: start-up noise, callbacks and the wire cost that much


@dataclass(frozen=True)
class Check:
    name: str
    args: tuple
    expected: Any
    global_seed: int | None = None
    example: bool = False  # the notebook's own, public example
    judge: Judge | None = None  # the kit's own verdict instead of equality (Case.judge)


@dataclass(frozen=True)
class ExercisePlan:
    name: str
    arg_names: tuple[str, ...]
    output_names: tuple[str, ...]
    checks: tuple[Check, ...]
    dependencies: tuple[str, ...]
    reseeds: bool  # the function must seed numpy itself
    batch: CallBatch  # every check's call, as one request, dependencies answered by callbacks
    plain_batch: CallBatch  # the same, with the submission's own dependencies
    encodings: tuple[tuple[bytes, bytes], ...]  # per check: expected value, arguments
    # the reference's slowest check, as timed when the plan was made (this machine): CPU time
    # of the grader's thread, not wall-clock time, which counts the waits of a busy machine
    # (a 0.1 ms check read 10 ms under load): the bound, and the message a timeout gets,
    # would then change from one run to the next (a regrade must read the same)
    reference_seconds: float = 0.0
    # whether changing an argument in place costs points (a kit may tolerate it where a
    # version of its course told students to do so)
    checks_arguments: bool = True


@dataclass(frozen=True)
class CallLimit:
    """How long each hidden call of an exercise may take, and why, in a student's words."""

    seconds: float
    why: str = ""  # e.g. "100 times what the model solution needs, at least 1 s"

    @property
    def words(self) -> str:
        """E.g. ``1 s (100 times what the model solution needs, at least 1 s)``."""
        return f"{self.seconds:g} s" + (f" ({self.why})" if self.why else "")


def call_limit(reference_seconds: float, call_timeout: float, relative: bool = True) -> CallLimit:
    """The bound on each call of an exercise: ``RELATIVE_FACTOR`` times its slowest check's
    reference time, at least ``RELATIVE_FLOOR``, at most ``call_timeout``.

    Per call, not per exercise: Session.calls gives every call its own deadline and stops
    at the first timeout, so an infinite loop costs one bound. Rounded up to whole seconds,
    so that timing noise rarely changes the message (grades.json is the same on a regrade).
    """
    bound = max(RELATIVE_FLOOR, math.ceil(RELATIVE_FACTOR * reference_seconds))
    if not relative or bound >= call_timeout:
        return CallLimit(call_timeout)
    return CallLimit(
        bound,
        f"{RELATIVE_FACTOR} times what the model solution needs, at least {RELATIVE_FLOOR:g} s",
    )


Calls = Callable[..., Sequence[CallResult]]


def plan(kit: Kit, helper_dir: Path) -> dict[str, ExercisePlan]:
    """Every exercise's checks with the reference's expected outputs (deterministic)."""
    cases = kit.hidden_cases(helper_dir)
    plans = {}
    for name in kit.exercises:
        function = kit.reference_function(name)
        reseeds = name in kit.reseeding
        checks, slowest = [], 0.0
        for number, case in enumerate(cases[name], start=1):
            # a different global seed before every call: only a function that seeds
            # numpy itself gives the reference's values each time
            seed = 101 + 7 * number if reseeds else None
            args = copy.deepcopy(case.args)
            started = time.thread_time()
            expected = function(*args)
            slowest = max(slowest, time.thread_time() - started)
            checks.append(
                Check(
                    f"case {number}: {case.label}",
                    case.args,
                    expected,
                    seed,
                    example=case.label.startswith(EXAMPLE_LABEL),
                    judge=getattr(case, "judge", None),
                )
            )
        arg_names, outputs = kit.signatures[name]
        dependencies = tuple(kit.dependencies.get(name, ()))
        calls = tuple((check.args, check.global_seed) for check in checks)
        encodings = tuple((wire.encode(c.expected), wire.encode(tuple(c.args))) for c in checks)
        answers = _sealed_answers(kit, name, checks) if dependencies else None
        plans[name] = ExercisePlan(
            name,
            arg_names,
            outputs,
            tuple(checks),
            dependencies,
            reseeds,
            CallBatch(name, calls, dependencies, answers),
            CallBatch(name, calls),
            encodings,
            slowest,
            name not in kit.arguments_may_change,
        )
    return plans


def _sealed_answers(kit: Kit, name: str, checks: list[Check]) -> dict:
    """What the reference's dependencies answer when the reference itself runs each check,
    sealed by question (:func:`grader.sandbox.wire.seal`): a correct submission asks exactly
    these, and then needs no round trip to the grader for them."""
    salt, sealed = os.urandom(16), {}

    def recording(dependency: str) -> Callable:
        real, names = kit.reference_function(dependency), kit.signatures[dependency][0]

        def record(*args, **kwargs):
            ordered = wire.positional(names, args, kwargs)
            asked = None if ordered is None else wire.question(salt, dependency, ordered)
            result = real(*args, **kwargs)
            if asked is not None:
                key, box = wire.seal(asked, wire.to_child(result))
                sealed[key] = box
            return result

        return record

    function = kit.reference_function(name)
    spied = types.FunctionType(
        function.__code__,
        {**function.__globals__, **{d: recording(d) for d in kit.dependencies[name]}},
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    for check in checks:
        spied(*copy.deepcopy(check.args))
    return {
        "salt": salt,
        "names": {d: list(kit.signatures[d][0]) for d in kit.dependencies[name]},
        "sealed": sealed,
    }


def _failure(call: CallResult, limit: CallLimit | None = None) -> str:
    if call.status == "timeout":
        # ``limit`` in words when it is what ran out (not the submission's whole time)
        if limit is not None and call.message.endswith(f"within {limit.words}"):
            return f"did not finish within {limit.words}."
        return "did not finish within the time limit."
    if call.status == "died":
        return f"the process running it ended: {call.error or 'killed'}."
    if call.status == "missing":
        return "the function is not defined."
    return f"raised {call.error.strip().splitlines()[-1] if call.error.strip() else 'an error'}"


EXAMPLE_ONLY = (
    "Right only on the notebook's example: the function must compute its result "
    "from its arguments (no hard-coded values, no global variables)."
)


def _discount_example_only(exercise: ExercisePlan, results: list[CheckResult]) -> list[CheckResult]:
    """The notebook's example is public: passing it alone earns nothing.

    Otherwise returning the printed expected output would score. Example cases count
    once some generated case passes too.
    """
    example = {check.name for check in exercise.checks if check.example}
    if not example or any(r.passed for r in results if r.name not in example):
        return results
    return [
        CheckResult(r.name, False, EXAMPLE_ONLY) if r.passed and r.name in example else r
        for r in results
    ]


_SEED_HINT = Problem(
    *[
        "Seed numpy's generator inside the function, as the notebook shows, "
        "so the result does not depend on earlier random calls."
    ]
    * 2
)


def _same(message: str) -> Problem:
    return Problem(message, message)


def _judged(check: Check, problems: list[Problem]) -> CheckResult:
    """A case's verdict; a hidden case's student message leaves its expected values out
    (the notebook's example is public: its message is shown whole)."""
    message = "\n".join(p.message for p in problems)
    hidden = "\n".join(p.hidden for p in problems)
    return CheckResult(
        check.name, not problems, message, None if check.example or hidden == message else hidden
    )


@dataclass(frozen=True)
class ExerciseRun:
    """What running one exercise's checks produced, before scoring."""

    checks: tuple[CheckResult, ...]
    call_statuses: tuple[str, ...]
    error: str  # the first error/timeout's details, for the student


def hung_in_notebook(exercise: ExercisePlan, limit: CallLimit) -> ExerciseRun:
    """The exercise's function ran out of time in the notebook's own cell: it is not
    called again, so a hang costs its time limit once, not twice. Judged exactly as a
    hidden check that ran out of ``limit`` (the cell ran longer than that): whether the
    cell could say where it was stuck is a race (under a fork bomb, say), and the grade
    and its messages must not depend on it."""
    outcome = timed_out(exercise.name, f"within {limit.words}")
    return run_exercise(exercise, lambda batch, callbacks, **_: [outcome], {}, limit)


def _not_run(exercise: ExercisePlan, last: CallResult | None, ran: int) -> list[CheckResult]:
    """The checks left after a call that ended the process or ran out of time (the
    sandbox makes no further call), each failed: a share of only the checks that ran
    would pay a function for exiting at the first case it cannot handle."""
    why = (
        "ran out of time" if last is not None and last.status == "timeout" else "ended the process"
    )
    return [
        CheckResult(
            check.name, False, f"{exercise.name} could not run on this case: an earlier call {why}."
        )
        for check in exercise.checks[ran:]
    ]


def _problems(exercise: ExercisePlan, check: Check, value: Any) -> list[Problem]:
    """What is wrong with one result: compared with the reference's, or judged by the kit
    (whose one line gives no hidden value away, so it is shown as it is)."""
    if check.judge is None:
        return output_problems(exercise.name, exercise.output_names, check.expected, value)
    try:
        verdict = check.judge(value, check.expected)
    except Exception as exc:  # a result of another shape than the reference's
        verdict = (
            f"{exercise.name} returned a result that could not be judged "
            f"({type(exc).__name__}); it must return {', '.join(exercise.output_names)}."
        )
    return [] if verdict is None else [_same(str(verdict))]


def run_exercise(
    exercise: ExercisePlan,
    calls: Calls,
    callbacks: Mapping[str, Callable[..., Any]],
    limit: CallLimit | None = None,
) -> ExerciseRun:
    """Call the student's function on every check and judge each result; each call may
    take ``limit`` (default: the session's own ``call_timeout``)."""
    results: list[CheckResult] = []
    statuses: list[str] = []
    mutated: list[str] = []
    error = ""
    batch = exercise.batch if callbacks else exercise.plain_batch
    bound = {} if limit is None else {"timeout": limit.seconds, "why": limit.why}
    outcomes = list(calls(batch, callbacks, expected=exercise.encodings, **bound))
    for check, outcome in zip(exercise.checks, outcomes):
        statuses.append(outcome.status)
        if outcome.status == "missing":
            return ExerciseRun((), ("missing",), f"{exercise.name} is not defined.")
        if outcome.status != "ok":
            error = error or (outcome.error or _failure(outcome, limit))
            results.append(
                CheckResult(check.name, False, f"{exercise.name} {_failure(outcome, limit)}")
            )
            continue  # after a timeout or a crash, the sandbox made no further call
        problems = [] if outcome.value_matches else _problems(exercise, check, outcome.value)
        changed = (
            []
            if outcome.args_match or not exercise.checks_arguments
            else [
                name
                for name, before, after in zip(
                    exercise.arg_names, check.args, outcome.args_after or ()
                )
                if compare(name, before, after)
            ]
        )
        mutated += changed
        if problems and check.global_seed is not None:
            problems.append(_SEED_HINT)
        if problems and changed:
            problems.append(
                _same(f"It also changed {', '.join(f'`{n}`' for n in changed)} in place.")
            )
        results.append(_judged(check, problems))
    results += _not_run(exercise, outcomes[-1] if outcomes else None, len(results))
    results = _discount_example_only(exercise, results)
    if any(result.passed for result in results):
        # judged only when some output was right: for a wrong function it adds nothing
        changed = sorted(set(mutated), key=exercise.arg_names.index)
        results.append(
            CheckResult(
                ARGS_UNCHANGED,
                not changed,
                ""
                if not changed
                else f"{exercise.name} changed its "
                f"{'argument' if len(changed) == 1 else 'arguments'} "
                f"{', '.join(f'`{n}`' for n in changed)} in place; work on a copy instead.",
            )
        )
    return ExerciseRun(tuple(results), tuple(statuses), error)
