"""`grader gradescope build`: the autograder zip, unpacked and run as Gradescope would.

The zip is built with the command (the kit's wheel built once per session from this
checkout), unpacked into a temporary folder laid out like ``/autograder`` (its root
given by ``AUTOGRADER_ROOT``), its ``setup.sh`` installs the wheel into a fresh venv
that sees this interpreter's packages (so that the dependencies resolve offline, with
``--no-index``), and its ``run_autograder`` grades a correct, a broken and an empty
submission. Each ``results.json`` is checked against a schema written from Gradescope's
autograder specification, and against the hidden checks' expected values, which only
``grades.json`` of a `grader grade` of the same notebook may hold.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from support import ASSIGNMENT, NOTEBOOK_NAME, RELEASE_DIR, REPO_ROOT, SOLUTIONS_DIR

from grader.assignments.dnn_step_by_step.samples import MISTAKES, with_function
from grader.cli import cli
from grader.errors import UsageError
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.integrations.gradescope_zip import (
    AutograderInputs,
    build_kit_wheel,
    plan_autograder,
    settings_script,
)

BROKEN = "linear_forward"
NUMBER = re.compile(r"-?\d+\.\d{3,}(?:e[-+]?\d+)?")  # 4 significant digits or more
VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]
FORMATS = ["text", "html", "simple_format", "md", "ansi"]

# Gradescope's results.json, from https://gradescope-autograders.readthedocs.io/en/latest/specs/
# (every documented key; no other key, so that a misspelt one fails here, not in production)
TEST_SCHEMA = {
    "type": "object",
    "required": ["name", "score", "max_score", "output", "visibility"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "score": {"type": "number"},
        "max_score": {"type": "number", "minimum": 0},
        "status": {"enum": ["passed", "failed"]},
        "name_format": {"enum": FORMATS},
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
    },
}
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITY},
        "stdout_visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST_SCHEMA},
        "leaderboard": {"type": "array"},
    },
}


@pytest.fixture(scope="session")
def kit_wheel(tmp_path_factory) -> Path:
    """The kit's wheel, built once per session from this checkout (as the command's
    default does: a copy of the checkout, pip wheel offline)."""
    return build_kit_wheel(REPO_ROOT, tmp_path_factory.mktemp("kit-wheel"))


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory, kit_wheel) -> Path:
    target = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    args = ["gradescope", "build", "--assignment", ASSIGNMENT, "--out", str(target)]
    args += ["--release", str(RELEASE_DIR), "--wheel", str(kit_wheel), "--timeout", "20"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "wrote" in result.output and target.is_file()
    return target


def unpack(archive: Path, root: Path) -> None:
    """What Gradescope does with the zip: its files in source/, with their modes, and
    run_autograder copied to the root."""
    source = root / "source"
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            path = Path(opened.extract(info, source))
            path.chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()


def fresh_venv(path: Path) -> Path:
    """A venv without the kit that sees this interpreter's packages: the base's through
    --system-site-packages, this environment's (when it is a venv itself) through a path
    line. Its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(path)],
        check=True,
    )
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "outer_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def environment(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADER_VENV")}
    env.update(AUTOGRADER_ROOT=str(root), **extra)
    return env


@pytest.fixture(scope="module")
def autograder(tmp_path_factory, autograder_zip) -> Path:
    """The unpacked autograder, set up: its root."""
    root = tmp_path_factory.mktemp("autograder")
    unpack(autograder_zip, root)
    fresh_venv(root / "venv")
    shims = tmp_path_factory.mktemp("shims")  # an apt-get that tells when it is run
    (shims / "apt-get").write_text(f"#!/bin/sh\ntouch {shims}/apt-ran\nexit 1\n")
    (shims / "apt-get").chmod(0o755)
    path = f"{shims}{os.pathsep}{os.environ.get('PATH', '')}"
    started = time.monotonic()
    setup = subprocess.run(
        [str(root / "source" / "setup.sh")],
        cwd=root / "source",
        env=environment(root, GRADER_PIP_OPTIONS="--no-index", PATH=path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert f"installed in {root / 'venv'}" in setup.stdout
    assert not (shims / "apt-ran").exists()  # python3 and venv are there: no apt
    assert time.monotonic() - started < 60
    return root


def run_autograder(root: Path, *notebooks: tuple[str, bytes], **env: str):
    """Empty submission/, put ``notebooks`` in it, run run_autograder: the process and
    results.json, read."""
    submission = root / "submission"
    shutil.rmtree(submission)
    submission.mkdir()
    for name, data in notebooks:
        (submission / name).write_bytes(data)
    done = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env=environment(root, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, RESULTS_SCHEMA)
    return done, results


def solved() -> bytes:
    return (SOLUTIONS_DIR / NOTEBOOK_NAME).read_bytes()


def broken() -> bytes:
    notebook = read_notebook(SOLUTIONS_DIR / NOTEBOOK_NAME)
    return notebook_bytes(with_function(notebook, BROKEN, MISTAKES[BROKEN]))


# --- the zip --------------------------------------------------------------------------


def test_the_zip_has_gradescopes_layout(autograder_zip, kit_wheel):
    with zipfile.ZipFile(autograder_zip) as opened:
        infos = {info.filename: info for info in opened.infolist()}
        for script in ("setup.sh", "run_autograder"):
            assert script in infos, "at the zip's root"
            assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755
            assert opened.read(script).startswith(b"#!/usr/bin/env bash\n")
        assert opened.read(f"wheels/{kit_wheel.name}") == kit_wheel.read_bytes()
        shipped = {name.split("/", 2)[2] for name in infos if name.startswith("release/")}
        expected = {p.name for p in RELEASE_DIR.iterdir() if p.is_file()}
        assert shipped == expected and NOTEBOOK_NAME in shipped
        settings = opened.read("grader-settings.sh").decode()
    assert f"GRADER_ASSIGNMENT={ASSIGNMENT}\n" in settings
    assert "--timeout 20 " in settings and "--reveal-expected" not in settings


def test_the_same_inputs_make_the_same_zip(autograder_zip, kit_wheel, tmp_path):
    again = tmp_path / "again.zip"
    args = ["gradescope", "build", "--assignment", ASSIGNMENT, "--out", str(again)]
    args += ["--release", str(RELEASE_DIR), "--wheel", str(kit_wheel), "--timeout", "20"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_settings_are_shell_quoted(tmp_path):
    script = settings_script("a b", ["--timeout", "10", "--reveal-expected", "x'; rm -rf /"])
    (tmp_path / "settings.sh").write_text(script)
    shown = subprocess.run(
        [
            "bash",
            "-c",
            'source settings.sh; printf "<%s>" "$GRADER_ASSIGNMENT" "${GRADER_OPTIONS[@]}"',
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown == "<a b><--timeout><10><--reveal-expected><x'; rm -rf />"


def test_the_plan_puts_the_scripts_first_and_refuses_missing_parts():
    inputs = AutograderInputs(
        "demo",
        release={"n.ipynb": b"{}"},
        wheels={"k.whl": b"w"},
        templates={"setup.sh": b"#!s", "run_autograder": b"#!r"},
    )
    entries = plan_autograder(inputs, ["--all-or-nothing"])
    assert [e.name for e in entries] == [
        "setup.sh",
        "run_autograder",
        "grader-settings.sh",
        "wheels/k.whl",
        "release/demo/n.ipynb",
    ]
    assert [e.executable for e in entries] == [True, True, False, False, False]
    assert b"GRADER_OPTIONS=(--all-or-nothing)" in entries[2].data
    for broken_inputs in (
        AutograderInputs("demo", {"n.ipynb": b"{}"}, {}, inputs.templates),
        AutograderInputs("demo", {}, {"k.whl": b"w"}, inputs.templates),
    ):
        with pytest.raises(UsageError):
            plan_autograder(broken_inputs)


# --- the command's one-line errors ---------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--assignment", "no_such_kit"], "unknown assignment 'no_such_kit'"),
        (["--assignment", ASSIGNMENT, "--release", "nowhere"], "does not exist"),
        (
            [
                "--assignment",
                ASSIGNMENT,
                "--release",
                str(REPO_ROOT / "release" / "dnn_application"),
            ],
            "is the release of dnn_application, not of dnn_step_by_step",
        ),
        (["--assignment", ASSIGNMENT, "--wheel", "README.md"], "is not a wheel file"),
        (["--assignment", ASSIGNMENT, "--out", "not-made/"], "is a folder: name the zip"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, extra, message):
    target = tmp_path / "autograder.zip"
    result = CliRunner().invoke(cli, ["gradescope", "build", "--out", str(target), *extra])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not target.exists()


def test_a_wheel_that_is_not_the_kits_is_refused(tmp_path):
    other = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(other, "w") as opened:
        opened.writestr("other/__init__.py", "")
    args = ["gradescope", "build", "--assignment", ASSIGNMENT, "--wheel", str(other)]
    result = CliRunner().invoke(cli, args + ["--out", str(tmp_path / "a.zip")])
    assert result.exit_code == 2 and "none of the --wheel files is the grader kit" in result.output


def test_no_checkout_to_build_the_wheel_from_is_one_clear_error(tmp_path):
    with pytest.raises(UsageError, match="no checkout of the grader kit .* pass --wheel"):
        build_kit_wheel(tmp_path, tmp_path / "out")


# --- on "Gradescope" -------------------------------------------------------------------


def test_setup_installs_the_kit_into_the_venv(autograder):
    installed = list((autograder / "venv").glob("lib/python*/site-packages/grader/engine.py"))
    assert len(installed) == 1
    assert list((autograder / "venv").glob("lib/python*/site-packages/nb_autograder-*.dist-info"))


def test_a_correct_submission_scores_everything(autograder):
    done, results = run_autograder(autograder, ("student.ipynb", solved()))
    # the grading ran with the venv's kit, not this checkout's editable install
    assert f"from {autograder / 'venv'}/lib/" in done.stdout
    assert str(REPO_ROOT / "grader") not in done.stdout
    assert len(results["tests"]) == 10
    assert all(t["score"] == t["max_score"] > 0 for t in results["tests"])
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) == 100


@pytest.fixture(scope="module")
def graded_broken(tmp_path_factory) -> dict:
    """grades.json of `grader grade` of the broken notebook: it keeps expected values."""
    root = tmp_path_factory.mktemp("broken")
    (root / "student.ipynb").write_bytes(broken())
    args = ["grade", str(root / "student.ipynb"), "--out", str(root / "out")]
    result = CliRunner().invoke(cli, args + ["--release", str(RELEASE_DIR), "-q"])
    assert result.exit_code == 0, result.output
    return json.loads((root / "out" / "grades.json").read_text(encoding="utf-8"))


def hidden_expected(graded: dict) -> np.ndarray:
    """The expected values of the failed hidden checks, as grades.json shows them."""
    checks = graded["submissions"][0]["exercises"][BROKEN]["checks"]
    values = []
    for check in checks:
        if check["passed"] or check["student_message"] is None:
            continue  # passed, or public (the notebook's own example)
        expected = check["message"].split("expected:", 1)[1].split("got:", 1)[0]
        values += [float(n) for n in NUMBER.findall(expected)]
    found = np.array(values)
    return found[np.abs(found) > 1e-3]


def leaked(text: str, secrets: np.ndarray) -> list[float]:
    numbers = [float(token) for token in NUMBER.findall(text)]
    return [n for n in numbers if np.isclose(secrets, n, rtol=1e-6, atol=0).any()]


def test_a_broken_exercise_fails_alone_and_hides_hidden_values(autograder, graded_broken):
    done, results = run_autograder(autograder, ("student.ipynb", broken()))
    tests = {t["name"]: t for t in results["tests"]}
    failed = tests.pop(BROKEN)
    assert failed["score"] == 0 < failed["max_score"] and failed["status"] == "failed"
    assert "Wrong values in `Z`" in failed["output"]  # says what is wrong
    assert "expected:" in failed["output"]  # the notebook's own example stays public
    assert tests and all(t["score"] == t["max_score"] > 0 for t in tests.values())
    assert results["score"] == sum(t["score"] for t in results["tests"])
    secrets = hidden_expected(graded_broken)
    assert len(secrets) > 10  # grades.json keeps them: there is something to leak
    raw = (autograder / "results" / "results.json").read_text(encoding="utf-8")
    assert leaked(raw, secrets) == []
    assert leaked(done.stdout + done.stderr, secrets) == []  # students may see the log too


def test_an_empty_submission_scores_zero_and_says_why(autograder):
    _, results = run_autograder(autograder)
    assert results["score"] == 0
    assert "exactly one notebook" in results["output"] and "found 0" in results["output"]
    assert all(t["score"] == 0 for t in results["tests"])


def test_two_notebooks_score_zero_and_are_named(autograder):
    _, results = run_autograder(autograder, ("a.ipynb", solved()), ("b.ipynb", solved()))
    assert results["score"] == 0 and "found 2 (a.ipynb, b.ipynb)" in results["output"]


def test_a_broken_install_still_leaves_a_results_json(autograder, tmp_path):
    _, results = run_autograder(
        autograder, ("student.ipynb", solved()), GRADER_VENV=str(tmp_path / "no-venv")
    )
    assert results["score"] == 0 and results["tests"] == []
    assert "could not grade this submission" in results["output"]


def test_reveal_expected_reaches_the_grader(autograder, graded_broken):
    """The leak check above can fail: with --reveal-expected in the settings the same
    notebook's results.json shows the hidden expected values."""
    settings = autograder / "source" / "grader-settings.sh"
    kept = settings.read_text()
    lines = settings_script(ASSIGNMENT, ["--timeout", "20", "--reveal-expected"])
    try:
        settings.write_text(lines)
        run_autograder(autograder, ("student.ipynb", broken()))
    finally:
        settings.write_text(kept)
    raw = (autograder / "results" / "results.json").read_text(encoding="utf-8")
    assert leaked(raw, hidden_expected(graded_broken))
