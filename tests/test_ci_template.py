"""`grader ci-template`: the workflow's `run:` steps, run in order with bash in a fresh
venv (the kit installed from a wheel of this checkout, dependencies from the system's
site-packages, no index), on a correct and a broken student notebook; the `uses:` steps
and both GitHub Classroom configurations checked for shape, their commands run too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from support import ASSIGNMENT, RELEASE_DIR, REPO_ROOT

from grader.authoring.assignment import load_release
from grader.cli import cli
from grader.integrations.ci_template import (
    ARTIFACT,
    AUTOGRADING,
    GRADES,
    RELEASE_COPY,
    WORKFLOW,
    CiSettings,
    classroom_tests,
    exercise_check,
    render_workflow,
)

RELEASE, _ = load_release(RELEASE_DIR)
POINTS = {exercise.name: exercise.points for exercise in RELEASE.exercises}
BROKEN = "compute_cost"  # grader sample writes mistake_<exercise>.ipynb
EXPECTED_USES = [
    "actions/checkout@v4",
    "actions/setup-python@v5",
    "actions/upload-artifact@v4",
    *["classroom-resources/autograding-command-grader@v1"] * len(POINTS),
    "classroom-resources/autograding-grading-reporter@v1",
]


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def kit_wheel(tmp_path_factory) -> Path:
    """A wheel of this checkout, built once from a copy (so nothing is written into the
    checkout), without build isolation: no network."""
    root = tmp_path_factory.mktemp("kit-wheel")
    source = root / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, _mkdir(source) / name)
    for name in ("grader", "jupyter-config"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=ignore)
    _mkdir(source / "dashboard")
    shutil.copy2(REPO_ROOT / "dashboard" / "install.json", source / "dashboard" / "install.json")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         f"{source}{os.sep}", "-w", str(root / "dist")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (root / "dist").glob("nb_autograder-*.whl")
    with zipfile.ZipFile(wheel) as archive:  # the template ships as package data
        assert "grader/integrations/templates/ci/classroom.yml.j2" in archive.namelist()
    return wheel


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv seeing the system's packages (the kit's dependencies) but not the
    kit itself until the workflow's install step puts it in; its bin folder."""
    folder = tmp_path_factory.mktemp("ci-venv") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(folder)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder / "bin"


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("samples")
    result = _invoke("sample", "--assignment", ASSIGNMENT, str(folder))
    assert result.exit_code == 0, result.output
    return folder


def _template(repo: Path, kit: str, *extra: str) -> dict:
    result = _invoke(
        "ci-template", "--assignment", ASSIGNMENT, "--out", str(repo), "--kit-spec", kit, *extra
    )
    assert result.exit_code == 0, (result.output, result.exception)
    return yaml.safe_load((repo / WORKFLOW).read_text(encoding="utf-8"))


def _run_steps(workflow: dict, repo: Path, venv: Path) -> list[tuple[str, int, str]]:
    """Each `run:` step's script with bash as GitHub runs it (-eo pipefail), in order,
    in ``repo``, with the workflow's env and the venv's python first on PATH; each
    step's (name, exit code, output). A failed step stops the job as on GitHub, but the
    steps marked `if: always()` still run."""
    (job,) = workflow["jobs"].values()
    env = {
        "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(repo)),
        "VIRTUAL_ENV": str(venv.parent),
        "PIP_NO_INDEX": "1",  # offline: the dependencies come from the system's packages
        **{key: str(value) for key, value in workflow.get("env", {}).items()},
        **{key: str(value) for key, value in job.get("env", {}).items()},
    }
    results, failed = [], False
    for step in job["steps"]:
        if "run" not in step or (failed and step.get("if") != "always()"):
            continue
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repo, env={**env, **step.get("env", {})},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        results.append((step["name"], completed.returncode, completed.stdout + completed.stderr))
        failed = failed or completed.returncode != 0
    return results


def _classroom_runs(workflow: dict, repo: Path, venv: Path) -> dict[str, int]:
    """The command-grader steps' commands, run in ``repo``: test name -> exit code."""
    (job,) = workflow["jobs"].values()
    codes = {}
    for step in job["steps"]:
        if step.get("uses", "").startswith("classroom-resources/autograding-command-grader"):
            step_env = {"PATH": f"{venv}{os.pathsep}{os.environ['PATH']}"}
            completed = subprocess.run(
                ["bash", "-c", step["with"]["command"]],
                cwd=repo, env=step_env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            codes[step["with"]["test-name"]] = completed.returncode
    return codes


def _student_repo(tmp_path: Path, samples: Path, sample: str) -> Path:
    repo = _mkdir(tmp_path / "student-repo")
    for name in RELEASE.helper_files:  # what the students get, as GitHub Classroom copies it
        _mkdir((repo / name).parent)
        shutil.copy2(RELEASE_DIR / name, repo / name)
    shutil.copy2(samples / sample, repo / RELEASE.notebook_name)
    return repo


def _table_rows(output: str) -> dict[str, tuple[str, str, str]]:
    """The per-exercise table `grader grade` prints: exercise -> (pass rate, mean, max)."""
    rows = {}
    for line in output.splitlines():
        match = re.match(r"^(\w+)\s+(\d+% \(\d+/\d+\))\s+([\d.]+)\s+([\d.]+)$", line)
        if match and match.group(1) in POINTS:
            rows[match.group(1)] = match.group(2, 3, 4)
    return rows


def _shape(workflow: dict) -> None:
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    assert [s["uses"] for s in steps if "uses" in s] == EXPECTED_USES
    assert [s["name"] for s in steps if "run" in s] == [
        "Install the autograder kit",
        "Grade the notebook",
    ]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == ARTIFACT
    graders = [s for s in steps if "autograding-command-grader" in s.get("uses", "")]
    assert {s["with"]["test-name"]: s["with"]["max-score"] for s in graders} == POINTS
    assert all(s["if"] == "always()" for s in graders)
    reporter = steps[-1]
    ids = [s["id"] for s in graders]
    assert reporter["with"]["runners"] == ",".join(ids)
    assert reporter["env"] == {
        f"{i.upper()}_RESULTS": "${{ steps." + i + ".outputs.result }}" for i in ids
    }
    assert job["name"] == "Autograding Tests"
    assert workflow["permissions"]["checks"] == "write"


def _legacy_shape(repo: Path) -> list[dict]:
    tests = json.loads((repo / AUTOGRADING).read_text(encoding="utf-8"))["tests"]
    keys = {"name", "setup", "run", "input", "output", "comparison", "timeout", "points"}
    assert all(set(test) == keys for test in tests)
    assert {t["name"]: t["points"] for t in tests[1:]} == POINTS
    assert tests[0]["points"] == 0 and "grader grade" in tests[0]["run"]
    assert sum(t["points"] for t in tests) == RELEASE.max_score
    return tests


def test_correct_notebook_passes_every_step(tmp_path, kit_wheel, venv, samples):
    repo = _student_repo(tmp_path, samples, "alice_correct.ipynb")
    workflow = _template(repo, str(kit_wheel))
    _shape(workflow)
    assert workflow["env"]["AUTOGRADER_FAIL_UNDER"] == f"{RELEASE.max_score:g}"  # the default

    steps = _run_steps(workflow, repo, venv)
    assert [(name, code) for name, code, _ in steps] == [
        ("Install the autograder kit", 0),
        ("Grade the notebook", 0),
    ], steps
    # the grader that graded is the venv's, installed from the wheel by the step
    where = subprocess.run(
        ["bash", "-c", "command -v grader; python -c 'import grader; print(grader.__file__)'"],
        env={"PATH": f"{venv}{os.pathsep}{os.environ['PATH']}"},
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert [Path(p).is_relative_to(venv.parent) for p in where] == [True, True], where
    rows = _table_rows(steps[1][2])
    assert rows == {name: ("100% (1/1)", f"{p:g}", f"{p:g}") for name, p in POINTS.items()}
    pages = sorted(p.name for p in (repo / ARTIFACT).iterdir())
    assert pages == [f"{Path(RELEASE.notebook_name).stem}.{ext}" for ext in ("html", "md")]
    assert _classroom_runs(workflow, repo, venv) == dict.fromkeys(POINTS, 0)

    # the older format's commands, in order, in the same repository (a second install
    # of the same wheel is a no-op; the grading is done again)
    shutil.rmtree(repo / "feedback")
    for test in _legacy_shape(repo):
        for command in filter(None, (test["setup"], test["run"])):
            completed = subprocess.run(
                ["bash", "-c", command], cwd=repo, capture_output=True, text=True, timeout=300,
                env={"PATH": f"{venv}{os.pathsep}{os.environ['PATH']}", "PIP_NO_INDEX": "1",
                     "HOME": os.environ.get("HOME", str(repo))},
            )  # fmt: skip
            assert completed.returncode == 0, (test["name"], completed.stderr)


def test_broken_notebook_fails_grading_and_names_the_exercise(tmp_path, kit_wheel, venv, samples):
    repo = _student_repo(tmp_path, samples, f"mistake_{BROKEN}.ipynb")
    workflow = _template(repo, str(kit_wheel))
    steps = _run_steps(workflow, repo, venv)
    assert [(name, code) for name, code, _ in steps] == [
        ("Install the autograder kit", 0),
        ("Grade the notebook", 1),
    ], steps
    output = steps[1][2]
    assert _table_rows(output)[BROKEN][0] == "0% (0/1)"
    assert f"{BROKEN} (failed)" in output
    assert f"below {RELEASE.max_score:g}" in output
    assert (repo / ARTIFACT).is_dir() and any((repo / ARTIFACT).glob("*.html"))
    codes = _classroom_runs(workflow, repo, venv)
    assert codes == {name: int(name == BROKEN) for name in POINTS}


def test_lower_threshold_passes_the_broken_notebook(tmp_path, kit_wheel, venv, samples):
    repo = _student_repo(tmp_path, samples, f"mistake_{BROKEN}.ipynb")
    threshold = RELEASE.max_score - POINTS[BROKEN]
    workflow = _template(repo, str(kit_wheel), "--threshold", f"{threshold:g}")
    steps = _run_steps(workflow, repo, venv)
    assert [code for _, code, _ in steps] == [0, 0], steps


def test_refuses_another_workflow_unless_forced(tmp_path):
    repo = tmp_path / "repo"
    args = ["ci-template", "--assignment", ASSIGNMENT, "--out", str(repo)]
    assert _invoke(*args).exit_code == 0
    first = (repo / WORKFLOW).read_bytes()
    assert _invoke(*args).exit_code == 0  # the same template again: nothing to refuse
    changed = _invoke(*args, "--python-version", "3.11")
    assert changed.exit_code == 2
    assert "--force" in changed.output and str(repo / WORKFLOW) in changed.output
    assert (repo / WORKFLOW).read_bytes() == first  # nothing written
    (repo / RELEASE_COPY / ASSIGNMENT / "stray.py").write_text("x = 1\n")
    assert _invoke(*args).exit_code == 2  # the release copy holds a file it would not
    forced = _invoke(*args, "--python-version", "3.11", "--force")
    assert forced.exit_code == 0, forced.output
    assert (
        yaml.safe_load((repo / WORKFLOW).read_text())["jobs"]["run-autograding-tests"]["steps"][1][
            "with"
        ]["python-version"]
        == "3.11"
    )
    assert not (repo / RELEASE_COPY / ASSIGNMENT / "stray.py").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threshold", "1000"], "--threshold 1000 is outside"),
        (["--notebook", "../x.ipynb"], "--notebook ../x.ipynb"),
        (["--kit-spec", " "], "--kit-spec must be one non-empty line"),
        (["--assignment", "no_such_kit"], "no_such_kit"),
    ],
)
def test_bad_options_are_one_line(tmp_path, args, message):
    base = ["ci-template", "--out", str(tmp_path / "repo")]
    if "--assignment" not in args:
        base += ["--assignment", ASSIGNMENT]
    result = _invoke(*base, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "repo" / WORKFLOW).exists()


def test_kit_spec_with_spaces_reaches_pip_unchanged(tmp_path):
    spec = "nb-autograder @ git+https://github.com/ORG/KIT@v1"
    workflow = _template(tmp_path / "repo", spec)
    assert workflow["env"]["AUTOGRADER_KIT"] == spec
    tests = _legacy_shape(tmp_path / "repo")
    assert tests[0]["setup"] == f"python -m pip install '{spec}'"


def test_exercise_check_reads_one_submission():
    grades = {"submissions": [{"exercises": {"f": {"score": 2.0, "max_score": 4.0,
                                                   "status": "failed"}}}]}  # fmt: skip
    assert exercise_check(grades, "f") == (False, "f: 2 of 4 points (failed)")
    grades["submissions"][0]["exercises"]["f"]["score"] = 4.0
    assert exercise_check(grades, "f")[0] is True
    assert exercise_check(grades, "g")[0] is False
    assert exercise_check({"submissions": []}, "f")[0] is False
    assert GRADES.endswith("grades.json")


def test_step_ids_are_unique_and_points_keep_fractions():
    settings = CiSettings("kit", "n.ipynb", (("L_x", 1.0), ("l_x", 2.5)), "kit==1", 3.5)
    tests = classroom_tests(settings)
    assert len({test.id for test in tests}) == 2
    workflow = yaml.safe_load(render_workflow(settings))
    graders = [s for s in workflow["jobs"]["run-autograding-tests"]["steps"] if "id" in s]
    assert [s["with"]["max-score"] for s in graders if s["id"] != "grade"] == [1, 2.5]
