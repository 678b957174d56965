"""Parallel grading on one machine: same results with any --jobs, timeouts overlap, bench runs."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import grader
from grader.assignments.dnn_step_by_step.samples import HANG, NOTEBOOK, sample_batch, with_function
from grader.grading.batch import grade_submissions
from grader.grading.extract import code_cells
from grader.grading.notebooks import notebook_bytes, parse_notebook, read_notebook
from grader.grading.options import Options
from grader.grading.pipeline import prepare
from grader.grading.submissions import find_submissions
from grader.results import batch_to_dict, submission_to_dict
from grader.runners.local import WorkerError, local_runner
from grader.sandbox.server import Limits

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
LIMITS = Limits(call_timeout=2.0, cells_timeout=4.0, submission_timeout=60.0)
MIX = (
    "alice_correct",
    "carol_original_course_layout",
    "erin_crash",
    "frank_not_a_notebook",
    "grace_deleted_compute_cost",
    "heidi_edited_locked_test_cell",
    "mistake_linear_backward",
    "mistake_update_parameters",
)


@pytest.fixture(scope="module")
def batch() -> dict[str, bytes]:
    return sample_batch(SOLUTIONS, RELEASE)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, batch) -> Path:
    folder = tmp_path_factory.mktemp("mix")
    for name in MIX:
        (folder / f"{name}.ipynb").write_bytes(batch[f"{name}.ipynb"])
    return folder


def test_any_number_of_jobs_gives_the_same_results(folder):
    results = {}
    for jobs in (1, 2):
        graded = grader.grade(
            [folder], release_dir=RELEASE, options=Options(limits=LIMITS, jobs=jobs)
        )
        results[jobs] = batch_to_dict(graded)["submissions"]
    assert results[1] == results[2]
    assert [s["student"] for s in results[1]] == sorted(MIX)
    context = prepare(RELEASE, Options(limits=LIMITS))
    threads = grade_submissions(
        find_submissions([folder]), context, runner=local_runner(2, "threads")
    )
    assert [submission_to_dict(s) for s in threads] == results[1]


def killing_workers(killed: list):
    """A progress callback that SIGKILLs every worker process at the first result."""

    def progress(_result):
        if not killed:
            killed.extend(multiprocessing.active_children())
            for child in killed:
                os.kill(child.pid, signal.SIGKILL)

    return progress


def test_a_dead_worker_stops_the_batch_with_an_error(folder):
    killed: list = []
    progress = killing_workers(killed)
    with pytest.raises(WorkerError, match="a grading worker stopped"):
        grader.grade(
            [folder], release_dir=RELEASE, options=Options(limits=LIMITS, jobs=2), progress=progress
        )
    assert len(killed) == 2 and multiprocessing.active_children() == []


def test_cached_cell_conversion_matches_a_fresh_conversion(batch):
    from IPython.core.inputtransformer2 import TransformerManager

    from grader.grading.extract import to_python

    for name, data in batch.items():
        if name != "frank_not_a_notebook.ipynb":
            notebook = parse_notebook(data)
            fresh = [
                to_python(
                    "".join(c.source) if isinstance(c.source, list) else c.source,
                    TransformerManager(),
                )
                for c in notebook.cells
                if c.cell_type == "code"
            ]
            assert [c.source for c in code_cells(notebook)] == fresh, name
            assert [c.source for c in code_cells(notebook)] == fresh, name  # from the cache


def test_infinite_loops_wait_in_parallel(tmp_path):
    hang = notebook_bytes(with_function(read_notebook(SOLUTIONS / NOTEBOOK), *HANG))
    for name in ("loop1", "loop2"):
        (tmp_path / f"{name}.ipynb").write_bytes(hang)
    timeout = 2.0
    limits = Limits(call_timeout=timeout, cells_timeout=10.0, submission_timeout=60.0)
    context = prepare(RELEASE, Options(limits=limits, jobs=2))
    arrived: list[float] = []
    started = time.monotonic()
    results = grade_submissions(
        find_submissions([tmp_path]), context, lambda _result: arrived.append(time.monotonic())
    )
    elapsed = time.monotonic() - started
    assert [r.exercise("L_model_backward").status for r in results] == ["timeout"] * 2
    assert all(r.score == 90 for r in results)
    # each waits out one limit (its demo cell; the hidden check is then not called).
    # One after the other, the second result would come at least one more limit after
    # the first, however busy the cores; side by side, they come together
    assert len(arrived) == 2 and arrived[1] - arrived[0] < timeout, arrived
    assert elapsed < 30, elapsed  # ~3-5 s; a hang guard (each submission may take 60 s)


def test_bench_script_prints_its_figures(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "bench_grade.py"),
            "-n",
            "6",
            "--nbgrader",
            "0",
            "--timeout",
            "2",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for figure in (
        "N=6",
        "submissions/s",
        "s/submission",
        "peak memory (process tree): RSS",
        "command: ",
        "check: {'ok': 6}",
    ):
        assert figure in run.stdout, run.stdout
    split = re.search(
        r"by process: parent ([\d.]+) ms, workers ([\d.]+) ms, "
        r"fork servers ([\d.]+) ms, submissions ([\d.]+) ms",
        run.stdout,
    )
    assert split, run.stdout
    parent, workers, fork_servers, submissions = map(float, split.groups())
    # workers may be sampled before they used a clock tick; the others cannot
    assert parent > 0 and fork_servers > 0 and submissions > 0 and workers >= 0, run.stdout


@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_sandboxes_started_before_the_workers_are_taken_over(folder, mode):
    """The command line starts the workers' sandboxes first; each worker drives one, the
    results are the same, and when a worker dies its helper still ends."""
    from grader.grading.options import hiding, new_sandbox

    submissions = find_submissions([folder])
    options = hiding(Options(limits=LIMITS, jobs=2), submissions)
    context = prepare(RELEASE, options)
    expected = [
        submission_to_dict(s)
        for s in grade_submissions(submissions, context, runner=local_runner(1))
    ]
    sandboxes = [new_sandbox(options, wait=False) for _ in range(2)]
    try:
        results = grade_submissions(
            submissions, context, runner=local_runner(2, mode, sandboxes=sandboxes)
        )
        assert [submission_to_dict(s) for s in results] == expected
    finally:
        for sandbox in sandboxes:
            sandbox.close()
    assert all(sandbox._process.poll() is not None for sandbox in sandboxes)

    sandboxes = [new_sandbox(options, wait=False) for _ in range(2)]
    killed: list = []
    progress = killing_workers(killed)
    try:
        if mode == "processes":
            with pytest.raises(WorkerError, match="a grading worker stopped"):
                grade_submissions(
                    submissions,
                    context,
                    progress,
                    runner=local_runner(2, mode, sandboxes=sandboxes),
                )
            assert len(killed) == 2
    finally:
        started = time.monotonic()
        for sandbox in sandboxes:
            sandbox.close()  # the helpers saw their workers' ends go: nothing to wait for
    assert all(sandbox._process.poll() is not None for sandbox in sandboxes)
    # a helper that did not end by itself would be waited for 10 s, then killed
    assert time.monotonic() - started < 10.0


def test_the_python_api_also_grades_in_the_sandboxes_it_started_first(folder, monkeypatch):
    from grader.sandbox.server import Sandbox

    started = []
    original = Sandbox._spawn
    monkeypatch.setattr(Sandbox, "_spawn", lambda self: started.append(self) or original(self))
    graded = grader.grade([folder], release_dir=RELEASE, options=Options(limits=LIMITS, jobs=2))
    assert len(graded.submissions) == len(MIX)
    assert len(started) == 2 and all(sandbox._preload for sandbox in started)  # no probe
    assert all(sandbox._process.poll() is not None for sandbox in started)
    assert graded.environment.sandbox == started[0].isolation


def test_a_wrong_release_folder_is_told_before_any_sandbox_starts(folder, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from grader.cli import cli
    from grader.errors import UsageError
    from grader.sandbox.server import Sandbox

    started = []
    monkeypatch.setattr(Sandbox, "_spawn", lambda self: started.append(self))
    missing = tmp_path / "no-release"
    result = CliRunner().invoke(
        cli, ["grade", str(folder), "--out", str(tmp_path / "out"), "--release", str(missing)]
    )
    assert result.exit_code == 2
    assert f"release folder {missing} does not exist" in result.output
    with pytest.raises(UsageError, match="does not exist"):
        grader.grade([folder], release_dir=missing, options=Options(limits=LIMITS, jobs=2))
    assert started == []


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    children = [int(p) for p in handle.read().split()]
            except OSError:
                continue
            found.update(children)
            todo.extend(children)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.add(pid)
        except OSError:
            pass
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_grader_leaves_no_process_behind_and_keeps_its_results(tmp_path, batch, signum):
    """CI cancelling a job sends SIGTERM (taken as Ctrl-C: exit 143, results kept); SIGKILL
    cannot be caught, and still every worker, helper and submission process ends."""
    folder = tmp_path / "subs"
    folder.mkdir()
    for number in range(150):
        (folder / f"s{number:03d}.ipynb").write_bytes(batch["alice_correct.ipynb"])
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(folder),
            "--out",
            str(out),
            "-q",
            "--release",
            str(RELEASE),
            "--jobs",
            "2",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    journal = out / ".grader-journal.jsonl"
    deadline = time.monotonic() + 60
    while not journal.exists() or journal.read_bytes().count(b"\n") < 3:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    tree = _descendants(process.pid)
    assert len(tree) >= 4  # two workers and their sandboxes' helpers at least
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == (143 if signum == signal.SIGTERM else -signal.SIGKILL)
    if signum == signal.SIGTERM:
        assert "interrupted: " in stderr and "run the same command again" in stderr
        assert "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while _alive(tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(tree) == set()
    kept = journal.read_bytes().count(b"\n")
    assert 3 <= kept < 150
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(folder),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "--jobs",
            "2",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert f"{kept} of 150 submissions unchanged" in again.stderr
