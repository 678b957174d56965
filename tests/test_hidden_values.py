"""Students never see a hidden case's expected values, unless the instructor reveals them.

A typical mistake is graded through the command; every number printed in the student's
feedback pages and Gradescope results is compared with the expected outputs of the
hidden (generated) cases, which only grades.json may hold.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.assignments import get_kit
from grader.assignments.dnn_step_by_step.samples import MISTAKES, NOTEBOOK, with_function
from grader.cli import cli
from grader.grading.checks import plan
from grader.grading.notebooks import notebook_bytes, read_notebook

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
EXERCISE = "linear_forward"
NUMBER = re.compile(r"-?\d+\.\d{3,}(?:e[-+]?\d+)?")  # 4 significant digits or more


def hidden_expected_values() -> np.ndarray:
    exercise = plan(get_kit("dnn_step_by_step"), RELEASE)[EXERCISE]
    values = [np.ravel(check.expected[0]) for check in exercise.checks if not check.example]
    assert values, "the exercise has hidden cases"
    found = np.concatenate(values)
    return found[np.abs(found) > 1e-3]  # 0 and tiny values prove nothing


def leaked(text: str, secrets: np.ndarray) -> list[float]:
    numbers = [float(token) for token in NUMBER.findall(text)]
    return [n for n in numbers if np.isclose(secrets, n, rtol=1e-6, atol=0).any()]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hidden")
    solved = read_notebook(SOLUTIONS / NOTEBOOK)
    (root / "student.ipynb").write_bytes(
        notebook_bytes(with_function(solved, EXERCISE, MISTAKES[EXERCISE]))
    )
    outputs = {}
    for reveal in (False, True):
        out = root / f"out-{reveal}"
        args = [
            "grade",
            str(root / "student.ipynb"),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "--gradescope",
            str(out / "results.json"),
            "-q",
        ]
        result = CliRunner().invoke(cli, args + (["--reveal-expected"] if reveal else []))
        assert result.exit_code == 0, result.output
        outputs[reveal] = out
    return outputs


def student_texts(out: Path) -> dict[str, str]:
    return {
        name: (out / name).read_text(encoding="utf-8")
        for name in ("feedback/student.html", "feedback/student.md", "results.json")
    }


def test_feedback_and_gradescope_hold_no_hidden_expected_value(graded):
    secrets = hidden_expected_values()
    for name, text in student_texts(graded[False]).items():
        assert not leaked(text, secrets), name
        assert "Wrong values in `Z`" in text and "entries differ" in text, name


def test_the_flag_reveals_them(graded):
    secrets = hidden_expected_values()
    for name, text in student_texts(graded[True]).items():
        assert leaked(text, secrets), name


def test_grades_json_keeps_everything(graded):
    secrets = hidden_expected_values()
    record = json.loads((graded[False] / "grades.json").read_text(encoding="utf-8"))
    checks = record["submissions"][0]["exercises"][EXERCISE]["checks"]
    assert leaked(json.dumps([c["message"] for c in checks]), secrets)
    hidden = [c for c in checks if not c["passed"] and c["student_message"] is not None]
    assert hidden and not leaked(json.dumps([c["student_message"] for c in hidden]), secrets)


def test_the_notebooks_own_example_stays_public(graded):
    record = json.loads((graded[False] / "grades.json").read_text(encoding="utf-8"))
    checks = record["submissions"][0]["exercises"][EXERCISE]["checks"]
    example = [c for c in checks if "notebook's example" in c["name"]]
    assert example and all(c["student_message"] is None for c in example)
    page = (graded[False] / "feedback" / "student.md").read_text(encoding="utf-8")
    assert "expected:" in page  # the example's expected values are shown, aligned
