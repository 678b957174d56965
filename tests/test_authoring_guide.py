"""docs/authoring.md, followed to the letter: a third assignment, in a package of its own.

The guide marks every file, notebook cell and command of its example with
``<!-- guide: ... -->``. This test copies those blocks into a temporary folder (the kit's
package in ``pkg/``, the course in ``course/``), builds the notebook from the guide's
cells and metadata, registers the kit as ``pip install -e`` would (a ``.dist-info``
folder on the path, with the entry point of the guide's ``pyproject.toml``:
importlib.metadata finds distributions on ``sys.path``), then runs the guide's commands
with ``python -m grader`` in ``course/`` and compares their output with the guide's.
Nothing is written into ``grader/``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from support import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "authoring.md"
ASSIGNMENT, EXERCISE, NOTEBOOK = "my_hw", "normalize_rows", "Normalizing_rows.ipynb"
KIT_PACKAGE = "my_course_kit"
HANDWRITTEN = f"my-course-kit/{KIT_PACKAGE}/reference.py"  # the guide's alternative
SOLUTION_LINE = "x_normalized = x / norms"
# the guide's folders -> the test's
ROOTS = {"my-course-kit": "pkg", "my-course": "course"}
_BLOCK = re.compile(
    r"<!-- guide: (?P<name>[^>]+?) -->\n```(?P<language>[\w-]*)\n"
    r"(?P<body>.*?)\n```\n",
    re.DOTALL,
)


def guide_blocks() -> dict[str, tuple[str, str]]:
    """name -> (fence language, text) of every marked block, in the guide's order."""
    blocks: dict[str, tuple[str, str]] = {}
    for match in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        name = match["name"].strip()
        assert name not in blocks, f"two guide blocks named {name!r}"
        blocks[name] = (match["language"], match["body"] + "\n")
    return blocks


def entry_points_txt(pyproject: str) -> str:
    """The ``entry_points.txt`` that installing the guide's pyproject.toml would write."""
    section = re.search(
        r'^\[project\.entry-points\."grader\.assignments"\]\n(.*?)(?:^\[|\Z)',
        pyproject,
        re.MULTILINE | re.DOTALL,
    )
    assert section, "the guide's pyproject.toml registers no grader.assignments entry point"
    points = re.findall(r'^(\w+)\s*=\s*"([^"]+)"', section.group(1), re.MULTILINE)
    return "[grader.assignments]\n" + "".join(f"{name} = {value}\n" for name, value in points)


def install_kit(package_root: Path, blocks: dict) -> None:
    """What ``pip install -e`` leaves for importlib.metadata: a dist-info on the path."""
    info = package_root / "my_course_kit-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-course-kit\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        entry_points_txt(blocks["my-course-kit/pyproject.toml"][1])
    )


def write_guide_files(tmp: Path, blocks: dict) -> None:
    for name, (_language, text) in blocks.items():
        root = name.split("/", 1)[0]
        if root in ROOTS and name != HANDWRITTEN:
            path = tmp / ROOTS[root] / name.split("/", 1)[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def guide_notebook(blocks: dict) -> nbformat.NotebookNode:
    """The notebook of the guide's cells, each with its kind's metadata snippet."""
    kinds = {
        kind: json.loads(blocks[f"metadata {kind}"][1])
        for kind in ("read-only", "solution", "test")
    }
    cells = []
    for name, (language, text) in blocks.items():
        if not name.startswith("cell "):
            continue
        _, kind, grade_id = name.split()
        metadata = copy.deepcopy(kinds[kind])
        metadata["nbgrader"]["grade_id"] = grade_id
        make = new_markdown_cell if language == "markdown" else new_code_cell
        cells.append(make(text.rstrip("\n"), metadata=metadata))
    notebook = new_notebook(cells=cells, metadata=json.loads(blocks["notebook-metadata"][1]))
    nbformat.validate(notebook)
    return notebook


def command_and_output(block: str) -> tuple[list[str], list[str]]:
    first, *output = block.rstrip("\n").split("\n")
    assert first.startswith("$ grader "), first
    return shlex.split(first[2:]), output


def _squeeze(line: str) -> str:
    return " ".join(line.split())


def assert_output_shown(expected: list[str], stdout: str) -> None:
    """Every line the guide shows is printed, in that order (spacing aside)."""
    printed = [_squeeze(line) for line in stdout.splitlines()]
    position = 0
    for line in filter(None, map(_squeeze, expected)):
        assert line in printed[position:], (
            f"the guide shows {line!r}, the command printed:\n{stdout}"
        )
        position = printed.index(line, position) + 1


def run_grader(
    arguments: list[str], course: Path, env: dict, code: int = 0
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "grader", *arguments],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == code, (arguments, result.stdout, result.stderr)
    return result


def run_guide_command(
    blocks: dict, name: str, course: Path, env: dict
) -> subprocess.CompletedProcess:
    """The guide's command ``name`` (``grader`` run as ``python -m grader``), its output
    compared with the guide's."""
    command, expected = command_and_output(blocks[f"console {name}"][1])
    result = run_grader(command[1:], course, env)
    assert_output_shown(expected, result.stdout)
    return result


def assert_in_guide(text: str) -> None:
    """A message the guide quotes is the one the grader gives (line breaks aside)."""
    assert _squeeze(text) in _squeeze(GUIDE.read_text(encoding="utf-8")), text


def broken_source(source: Path, target: Path, points: object) -> Path:
    """A copy of the source folder whose test cell gives ``points`` (None: no points)."""
    shutil.copytree(source, target)
    notebook = nbformat.read(target / NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == f"{EXERCISE}_test":
            meta.pop("points")
            if points is not None:
                meta["points"] = points
    nbformat.write(notebook, target / NOTEBOOK)
    return target


def grades(out: Path) -> dict:
    return json.loads((out / "grades.json").read_text(encoding="utf-8"))


def by_student(out: Path) -> dict[str, dict]:
    return {s["student"]: s for s in grades(out)["submissions"]}


def mistake(solutions: Path, target: Path, old: str, new: str) -> None:
    """The solved notebook with its graded function changed the way a student might."""
    notebook = nbformat.read(solutions, as_version=4)
    graded = [
        cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") == EXERCISE
    ]
    assert len(graded) == 1 and old in graded[0].source
    graded[0].source = graded[0].source.replace(old, new)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def grader_changes() -> list[str] | None:
    """``git status`` of grader/ (None outside a git checkout)."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "grader/"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    return result.stdout.splitlines() if result.returncode == 0 else None


def files_mentioning(folder: Path, since: float, words: tuple[str, ...]) -> list[str]:
    """Files under ``folder`` changed since ``since`` whose text names one of ``words``."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime >= since:
            text = path.read_bytes().decode("utf-8", "replace")
            if any(word in text for word in words):
                found.append(str(path))
    return found


@pytest.fixture
def kit_on_path(tmp_path, monkeypatch):
    """``tmp/pkg`` importable in this process; the kit registry forgets it afterwards."""
    from grader.assignments import get_kit

    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    get_kit.cache_clear()
    yield tmp_path / "pkg"
    get_kit.cache_clear()
    for name in [m for m in sys.modules if m == KIT_PACKAGE or m.startswith(KIT_PACKAGE + ".")]:
        del sys.modules[name]


def test_the_guide_adds_an_assignment_in_its_own_package(tmp_path, kit_on_path):
    started = time.time()
    before = grader_changes()
    blocks = guide_blocks()
    pkg, course = tmp_path / "pkg", tmp_path / "course"
    write_guide_files(tmp_path, blocks)
    install_kit(pkg, blocks)
    source = course / "source_notebooks" / ASSIGNMENT
    nbformat.write(guide_notebook(blocks), source / NOTEBOOK)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GRADER_RELEASE_ROOT", "PYTHONPATH")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(pkg), *filter(None, [os.environ.get("PYTHONPATH")])])

    # registered by its entry point: the grader knows it by name, here and in a subprocess
    from grader.assignments import available, get_kit

    assert ASSIGNMENT in available()
    kit = get_kit(ASSIGNMENT)
    assert kit.exercises == (EXERCISE,) and kit.name == ASSIGNMENT
    assert type(kit.reference).__name__ == "SolutionReference"

    # a source that breaks a rule is refused with one line, as the guide shows
    from grader.authoring.assignment import load_assignment
    from grader.errors import SourceNotebookError

    assert load_assignment(source)[0].max_score == 10
    for points, message in [
        (None, "cell #5 (normalize_rows_test): test cell of 'normalize_rows' has no valid points"),
        (5, "test cell of 'normalize_rows' gives 5 points, the kit 10"),
    ]:
        broken = broken_source(source, tmp_path / f"broken-{points}" / ASSIGNMENT, points)
        with pytest.raises(SourceNotebookError) as refused:
            load_assignment(broken)
        assert str(refused.value).endswith(message)
        assert_in_guide(message)

    # grader release: the student folder, the solutions and the kit's generated reference
    run_guide_command(blocks, "release", course, env)
    generated = pkg / KIT_PACKAGE / "generated"
    assert sorted(p.name for p in generated.iterdir()) == ["reference.py", "testCases.py"]
    reference_text = (generated / "reference.py").read_text(encoding="utf-8")
    assert SOLUTION_LINE in reference_text and "### BEGIN SOLUTION" not in reference_text
    assert "public_tests" not in reference_text
    release = course / "release" / ASSIGNMENT
    assert sorted(p.name for p in release.iterdir()) == [
        NOTEBOOK,
        "public_tests.py",
        "public_tests_data.json",
        "testCases.py",
    ]
    for path in release.iterdir():  # no solution anywhere in the student folder
        text = path.read_text(encoding="utf-8")
        assert SOLUTION_LINE not in text and "np.linalg.norm(x, axis=1" not in text, path
    stub = next(
        c
        for c in nbformat.read(release / NOTEBOOK, as_version=4).cells
        if c.metadata["nbgrader"]["grade_id"] == EXERCISE
    )
    assert "# YOUR CODE STARTS HERE" in stub.source and "raise NotImplementedError" in stub.source
    solved = nbformat.read(course / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    test_cell = next(
        c for c in solved.cells if c.metadata["nbgrader"]["grade_id"] == f"{EXERCISE}_test"
    )
    assert "All tests passed." in "".join(o.get("text", "") for o in test_cell.outputs)

    # grader release --check: up to date
    run_guide_command(blocks, "check", course, env)

    # the solutions get full marks, every check passed
    run_guide_command(blocks, "grade-solutions", course, env)
    (solution,) = grades(course / "grading" / "solutions")["submissions"]
    assert (solution["score"], solution["max_score"]) == (10, 10)
    checks = solution["exercises"][EXERCISE]["checks"]
    assert len(checks) == 6 and all(check["passed"] for check in checks)
    assert checks[0]["name"] == "case 1: the notebook's example (2 rows of 3 values)"
    assert checks[1]["name"] == "case 2: 1 row of 4 values"

    # the untouched release gets zero
    run_guide_command(blocks, "grade-release", course, env)
    (untouched,) = grades(course / "grading" / "release")["submissions"]
    assert untouched["score"] == 0
    assert untouched["exercises"][EXERCISE]["status"] == "error"

    # typical mistakes lose points: all of them, or all but the one-row case's
    solutions_notebook = course / "solutions" / ASSIGNMENT / NOTEBOOK
    norm = "np.linalg.norm(x, axis=1, keepdims=True)"
    mistake(
        solutions_notebook,
        course / "mistakes" / "columns.ipynb",
        norm,
        "np.linalg.norm(x, axis=0, keepdims=True)",
    )
    mistake(solutions_notebook, course / "mistakes" / "whole.ipynb", norm, "np.linalg.norm(x)")
    run_guide_command(blocks, "grade-mistakes", course, env)
    students = by_student(course / "grading" / "mistakes")
    assert students["columns"]["score"] == 0
    assert students["whole"]["score"] == pytest.approx(10 * 2 / 6, abs=1e-4)  # 4 decimals
    for student in students.values():
        assert student["exercises"][EXERCISE]["status"] == "failed"
        assert not student["tampered"]  # only the graded cell was changed
    feedback = (course / "grading" / "mistakes" / "feedback" / "columns.md").read_text()
    assert "Some rows of the result do not have length 1." in feedback  # the judge's line

    # the hand-written alternative, switched to as the guide says: a wrong module stops
    # grader release before anything is built; the guide's own passes the comparison, and
    # --check then names the stale file of this test's making
    alternative = tmp_path / "pkg-handwritten"
    shutil.copytree(pkg, alternative, ignore=shutil.ignore_patterns("generated", "__pycache__"))
    init = alternative / KIT_PACKAGE / "__init__.py"
    line = 'REFERENCE = SolutionReference(Path(__file__).parent / "generated")\n'
    assert line in init.read_text()
    init.write_text(init.read_text().replace(line, "from . import reference as REFERENCE\n"))
    handwritten = alternative / KIT_PACKAGE / "reference.py"
    handwritten.write_text(blocks[HANDWRITTEN][1].replace("axis=1", "axis=0"), encoding="utf-8")
    other_env = dict(env, PYTHONPATH=env["PYTHONPATH"].replace(str(pkg), str(alternative), 1))
    refused = run_grader(["release", "--check"], course, other_env, code=1)
    disagree = (
        "error: source_notebooks/my_hw/Normalizing_rows.ipynb: the solution cells and "
        "the kit's reference module disagree: normalize_rows, case 1 (the notebook's "
        "example (2 rows of 3 values)): Wrong values in `x_normalized`: "
    )
    assert disagree in refused.stderr
    assert_in_guide(disagree)
    assert not (alternative / KIT_PACKAGE / "generated").exists()

    handwritten.write_text(blocks[HANDWRITTEN][1], encoding="utf-8")
    (release / "public_tests_data.json").unlink()
    stale = run_grader(["release", "--check"], course, other_env, code=1)
    missing = "error: stale generated files: release/my_hw/public_tests_data.json (missing)"
    assert missing in stale.stderr and "disagree" not in stale.stderr
    assert_in_guide(missing)

    # nothing was written into grader/ (other people's edits there are not this test's)
    words = (ASSIGNMENT, KIT_PACKAGE, EXERCISE)
    assert files_mentioning(REPO_ROOT / "grader", started, words) == []
    after = grader_changes()
    if before is not None and after is not None:
        added = [
            entry
            for entry in set(after) - set(before)
            if any(word in entry for word in (*words, "generated"))
        ]
        assert added == []
