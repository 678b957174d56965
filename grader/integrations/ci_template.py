"""A GitHub Actions / GitHub Classroom template for a student's repository.

The workflow installs the kit, grades the student's notebook with ``grader grade``
(which prints the per-exercise table and fails under a threshold), uploads the
feedback page, and gives GitHub Classroom its points: one all-or-nothing test per
exercise that reads ``grades.json`` (``python -m grader.integrations.ci_template
GRADES EXERCISE``), reported with ``classroom-resources/autograding-command-grader``
and ``autograding-grading-reporter``. The same tests are also written in the older
``.github/classroom/autograding.json`` format (``education/autograding``).

A student's repository holds the student's notebook, so grading reads a pristine copy
of the release (its notebook and helper files, the points) under
``.grader/release/<assignment>/``. The student controls the repository, its workflow
and the installed kit (which holds the reference): this is feedback, not proof.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from grader.errors import UsageError

WORKFLOW = ".github/workflows/classroom.yml"
AUTOGRADING = ".github/classroom/autograding.json"
RELEASE_COPY = ".grader/release"
OUT = "feedback"  # grader grade --out, relative to the repository
GRADES = f"{OUT}/grades.json"
ARTIFACT = f"{OUT}/feedback/"  # the students' pages only: grades.json may hold expected values
CHECK = "python -m grader.integrations.ci_template"
DEFAULT_PYTHON = "3.12"


@dataclass(frozen=True)
class ClassroomTest:
    """One GitHub Classroom test: an exercise, passed when it scored all its points."""

    name: str
    id: str  # the workflow step's id; the reporter reads <ID>_RESULTS
    command: str
    points: str
    timeout: int = 1  # minutes


@dataclass(frozen=True)
class CiSettings:
    """What the template is rendered from (paths relative to the student's repository)."""

    assignment: str
    notebook: str
    exercises: tuple[tuple[str, float], ...]  # (name, points), in the notebook's order
    kit_spec: str
    threshold: float
    python_version: str = DEFAULT_PYTHON
    version: str = ""

    @property
    def release(self) -> str:
        return f"{RELEASE_COPY}/{self.assignment}"

    @property
    def max_score(self) -> float:
        return sum(points for _, points in self.exercises)


def check_settings(settings: CiSettings) -> CiSettings:
    """``settings`` if a workflow can use them, else a one-line usage error."""
    notebook = Path(settings.notebook)
    if notebook.is_absolute() or ".." in notebook.parts or notebook.suffix != ".ipynb":
        raise UsageError(
            f"--notebook {settings.notebook}: must be a .ipynb path inside the repository"
        )
    if not 0 <= settings.threshold <= settings.max_score:
        raise UsageError(
            f"--threshold {settings.threshold:g} is outside 0..{settings.max_score:g} "
            f"(the maximum score of {settings.assignment})"
        )
    for name, value in (
        ("--notebook", settings.notebook),
        ("--kit-spec", settings.kit_spec),
        ("--python-version", settings.python_version),
    ):
        if not value.strip() or "\n" in value or "\r" in value:
            raise UsageError(f"{name} must be one non-empty line")
    return settings


def classroom_tests(settings: CiSettings) -> tuple[ClassroomTest, ...]:
    """One test per exercise, worth the exercise's points."""
    tests: list[ClassroomTest] = []
    for name, points in settings.exercises:
        step = "exercise-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if any(test.id == step for test in tests):  # names that differ only in case
            step += f"-{len(tests) + 1}"
        command = f"{CHECK} {GRADES} {shlex.quote(name)}"
        tests.append(ClassroomTest(name, step, command, f"{points:g}"))
    return tuple(tests)


def _yaml(value: Any) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(value if isinstance(value, str) else f"{value:g}")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.integrations", "templates/ci"),
        autoescape=False,  # YAML, not markup: every value goes through the yaml filter
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["yaml"] = _yaml
    return environment


def render_workflow(settings: CiSettings) -> str:
    """The workflow file (``.github/workflows/classroom.yml``)."""
    return (
        _environment()
        .get_template("classroom.yml.j2")
        .render(
            version=settings.version,
            assignment=settings.assignment,
            notebook=settings.notebook,
            release=settings.release,
            kit_spec=settings.kit_spec,
            threshold=settings.threshold,
            threshold_text=f"{settings.threshold:g}",
            max_score=f"{settings.max_score:g}",
            python_version=settings.python_version,
            out=OUT,
            artifact=ARTIFACT,
            tests=classroom_tests(settings),
        )
    )


def render_autograding(settings: CiSettings) -> str:
    """``.github/classroom/autograding.json`` for the older ``education/autograding``
    action: a first test installs the kit and grades (no points), then the exercises."""
    grade = (
        f"grader grade {shlex.quote(settings.notebook)} --release "
        f"{shlex.quote(settings.release)} --out {OUT}"
    )
    tests = [
        _legacy(
            "Grade the notebook",
            f"python -m pip install {shlex.quote(settings.kit_spec)}",
            grade,
            0,
            10,
        ),
        *(
            _legacy(test.name, "", test.command, float(test.points), test.timeout)
            for test in classroom_tests(settings)
        ),
    ]
    return json.dumps({"tests": tests}, indent=2) + "\n"


def _legacy(name: str, setup: str, run: str, points: float, timeout: int) -> dict[str, Any]:
    return {
        "name": name,
        "setup": setup,
        "run": run,
        "input": "",
        "output": "",
        "comparison": "included",
        "timeout": timeout,
        "points": int(points) if points == int(points) else points,
    }


def template_files(settings: CiSettings, release_files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Every file the template writes, by path relative to the student's repository:
    the workflow, the older Classroom configuration and the release copy."""
    files = {
        WORKFLOW: render_workflow(settings).encode("utf-8"),
        AUTOGRADING: render_autograding(settings).encode("utf-8"),
    }
    files.update({f"{settings.release}/{name}": data for name, data in release_files.items()})
    return files


def conflicts(existing: Mapping[str, bytes | None], files: Mapping[str, bytes]) -> list[str]:
    """The paths of ``files`` that already exist with other content (``existing``:
    path -> current bytes, None when absent), plus files the release copy would drop."""
    changed = [path for path, data in files.items() if existing.get(path) not in (None, data)]
    return changed + sorted(path for path in existing if path not in files)


def write_template(
    out: Path, files: Mapping[str, bytes], release: str, *, force: bool = False
) -> list[Path]:
    """Write ``files`` under ``out``; the folder ``release`` (relative) is made to hold
    exactly its files. Refused, before anything is written, when ``out`` already holds
    other content there (another workflow, another release) unless ``force``."""
    from grader import atomic

    out, prefix = Path(out), release.rstrip("/") + "/"
    copy = {path[len(prefix) :]: data for path, data in files.items() if path.startswith(prefix)}
    others = {path: data for path, data in files.items() if not path.startswith(prefix)}
    existing: dict[str, bytes | None] = {
        path: (out / path).read_bytes() if (out / path).is_file() else None for path in others
    }
    existing.update({prefix + name: data for name, data in atomic.read_tree(out / release).items()})
    clashes = conflicts(existing, files)
    if clashes and not force:
        more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
        raise UsageError(
            f"{out / clashes[0]}{more} already exist with other content "
            "(another workflow or release?); pass --force to replace them"
        )
    atomic.replace_tree(out / release, copy)
    for path, data in others.items():
        atomic.write_bytes(out / path, data)
    return [out / path for path in others] + [out / release]


def exercise_check(grades: Mapping[str, Any], exercise: str) -> tuple[bool, str]:
    """Whether the one submission in ``grades`` (grades.json) scored all of
    ``exercise``'s points, and a line saying so."""
    submissions = grades.get("submissions") or []
    if len(submissions) != 1:
        return False, f"expected one graded submission in {GRADES}, found {len(submissions)}"
    submission = submissions[0]
    result = (submission.get("exercises") or {}).get(exercise)
    if result is None:
        status = submission.get("status", "")
        why = f": {submission.get('error')}" if submission.get("error") else ""
        return False, f"{exercise}: not graded (submission {status}{why})"
    score, max_score = result.get("score", 0.0), result.get("max_score", 0.0)
    line = f"{exercise}: {score:g} of {max_score:g} points ({result.get('status', '')})"
    return score >= max_score, line


def main(argv: Sequence[str]) -> int:
    """``python -m grader.integrations.ci_template GRADES EXERCISE``: exit 0 when the
    exercise scored all its points (a Classroom test), 1 when not, 2 on bad usage."""
    if len(argv) != 2:
        print(f"usage: {CHECK} GRADES_JSON EXERCISE", file=sys.stderr)
        return 2
    try:
        grades = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {argv[0]} (did the grading step run?): {exc}", file=sys.stderr)
        return 1
    passed, line = exercise_check(grades if isinstance(grades, dict) else {}, argv[1])
    print(line)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
