"""Resuming: the output folder's journal keeps every result; a rerun grades only what changed."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.cli import cli
from grader.grading.options import Options
from grader.results import submission_to_dict
from grader.resume import JOURNAL_NAME
from grader.runners.local import local_runner
from grader.sandbox.server import Limits

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
FAST = Options(limits=Limits(call_timeout=2.0, cells_timeout=4.0, submission_timeout=60.0), jobs=2)
NAMES = (
    "alice_correct",
    "erin_crash",
    "mistake_linear_forward",
    "mistake_compute_cost",
    "grace_deleted_compute_cost",
)


@pytest.fixture(scope="module")
def notebooks() -> dict[str, bytes]:
    batch = sample_batch(SOLUTIONS, RELEASE)
    return {name: batch[f"{name}.ipynb"] for name in NAMES}


@pytest.fixture
def folder(tmp_path, notebooks) -> Path:
    """Four submissions (the fifth is added by a test)."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in NAMES[:4]:
        (folder / f"{name}.ipynb").write_bytes(notebooks[name])
    return folder


class Counting:
    """A local runner that remembers which students it was given to grade."""

    def __init__(self):
        self.graded: list[str] = []

    def __call__(self, submissions, context):
        self.graded += [s.student for s in submissions]
        return local_runner(2)(submissions, context)


def grade(folder: Path, journal: Path, **kwargs):
    runner = Counting()
    options = kwargs.pop("options", FAST)
    batch = grader.grade(
        [folder], release_dir=RELEASE, options=options, journal=journal, runner=runner, **kwargs
    )
    return {s.student: submission_to_dict(s) for s in batch.submissions}, runner.graded


def journal_lines(journal: Path) -> list[dict]:
    return [json.loads(line) for line in journal.read_text().splitlines()]


def test_rerun_grades_only_changed_and_new_files(folder, tmp_path, notebooks):
    journal = tmp_path / "out" / JOURNAL_NAME
    first, graded = grade(folder, journal)
    assert sorted(graded) == sorted(NAMES[:4])
    assert len(journal_lines(journal)) == 4
    # change one file, add one
    (folder / "erin_crash.ipynb").write_bytes(notebooks["alice_correct"])
    (folder / "grace_deleted_compute_cost.ipynb").write_bytes(
        notebooks["grace_deleted_compute_cost"]
    )
    second, graded = grade(folder, journal)
    assert sorted(graded) == ["erin_crash", "grace_deleted_compute_cost"]
    assert sorted(second) == sorted(NAMES)
    for name in ("alice_correct", "mistake_linear_forward", "mistake_compute_cost"):
        assert second[name] == first[name]
    assert second["erin_crash"]["score"] == 100 and first["erin_crash"]["score"] < 100
    # nothing changed: nothing graded, same results
    third, graded = grade(folder, journal)
    assert graded == [] and third == second


def test_options_and_fresh_regrade_everything(folder, tmp_path):
    journal = tmp_path / "out" / JOURNAL_NAME
    first, _ = grade(folder, journal)
    strict = Options(limits=FAST.limits, all_or_nothing=True, jobs=2)
    changed, graded = grade(folder, journal, options=strict)
    assert len(graded) == 4
    assert changed["erin_crash"]["score"] < first["erin_crash"]["score"]  # all or nothing
    limits = Options(limits=Limits(call_timeout=3.0, cells_timeout=4.0), jobs=2)
    _, graded = grade(folder, journal, options=limits)
    assert len(graded) == 4
    _, graded = grade(folder, journal, fresh=True)
    assert len(graded) == 4
    assert len(journal_lines(journal)) == 4  # --fresh started the journal over


def test_truncated_and_damaged_lines_are_ignored(folder, tmp_path):
    journal = tmp_path / "out" / JOURNAL_NAME
    first, _ = grade(folder, journal)
    lines = journal.read_text().splitlines(keepends=True)
    student = json.loads(lines[0])["result"]["student"]
    # a line damaged in the middle, and a last line cut short by a crash mid-write
    journal.write_text(lines[0][:40] + "\n" + "".join(lines[1:]) + lines[0][:-25])
    second, graded = grade(folder, journal)
    assert graded == [student]  # its only complete line was the damaged one
    assert second == first
    entries = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert sorted(e["result"]["student"] for e in entries) == sorted(NAMES[:4])


def test_interrupted_run_keeps_what_was_graded(folder, tmp_path):
    journal = tmp_path / "out" / JOURNAL_NAME
    seen = []

    def progress(result):
        seen.append(result.student)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grader.grade(
            [folder],
            release_dir=RELEASE,
            options=FAST,
            journal=journal,
            progress=progress,
            runner=local_runner(2),
        )
    assert multiprocessing.active_children() == []  # the workers were stopped
    assert {e["result"]["student"] for e in journal_lines(journal)} == set(seen)
    after, graded = grade(folder, journal)
    assert sorted(graded) == sorted(set(NAMES[:4]) - set(seen))
    assert sorted(after) == sorted(NAMES[:4])


def test_cli_resumes_and_fresh(folder, tmp_path):
    out = tmp_path / "out"
    args = ["grade", str(folder), "--out", str(out), "--release", str(RELEASE), "--timeout", "2"]
    runner = CliRunner()
    first = runner.invoke(cli, args + ["-q"])
    assert first.exit_code == 0, first.output
    grades = json.loads((out / "grades.json").read_text())
    (folder / "mistake_compute_cost.ipynb").write_text("{ not json")
    second = runner.invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "3 of 4 submissions unchanged since the last run" in second.output
    again = json.loads((out / "grades.json").read_text())
    kept = [0, 1, 3]  # alice, erin, (mistake_compute_cost,) mistake_linear_forward
    assert [again["submissions"][i] for i in kept] == [grades["submissions"][i] for i in kept]
    assert again["submissions"][2]["status"] == "unreadable"
    assert len(journal_lines(out / JOURNAL_NAME)) == 5
    fresh = runner.invoke(cli, args + ["--fresh"])
    assert fresh.exit_code == 0 and "unchanged" not in fresh.output
    assert len(journal_lines(out / JOURNAL_NAME)) == 4
    assert json.loads((out / "grades.json").read_text())["submissions"] == again["submissions"]
