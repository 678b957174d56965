"""Grading on a Dask cluster gives what a local run gives; a bad address is a usage error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.cli import cli
from grader.grading.options import Options
from grader.results import batch_to_dict
from grader.sandbox.server import Limits

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
OPTIONS = Options(limits=Limits(call_timeout=2.0, cells_timeout=4.0, submission_timeout=60.0))
MIX = (
    "alice_correct",
    "erin_crash",
    "frank_not_a_notebook",
    "grace_deleted_compute_cost",
    "heidi_edited_locked_test_cell",
    "mistake_linear_forward",
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    batch = sample_batch(SOLUTIONS, RELEASE)
    for name in MIX:
        (folder / f"{name}.ipynb").write_bytes(batch[f"{name}.ipynb"])
    return folder


def test_dask_cluster_grades_like_a_local_run(folder, tmp_path):
    from grader.runners.dask_cluster import DaskRunner

    local = batch_to_dict(grader.grade([folder], release_dir=RELEASE, options=OPTIONS))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        with DaskRunner(cluster.scheduler_address, chunk=2) as runner:
            remote = batch_to_dict(
                grader.grade([folder], release_dir=RELEASE, options=OPTIONS, runner=runner)
            )
        out = tmp_path / "out"
        result = CliRunner().invoke(
            cli,
            [
                "grade",
                str(folder),
                "--out",
                str(out),
                "-q",
                "--release",
                str(RELEASE),
                "--timeout",
                "2",
                "--dask",
                cluster.scheduler_address,
            ],
        )
    assert remote["submissions"] == local["submissions"]
    assert [s["student"] for s in remote["submissions"]] == sorted(MIX)
    assert result.exit_code == 0, result.output
    written = json.loads((out / "grades.json").read_text())
    assert written["submissions"] == local["submissions"]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "nonsense::address"])
def test_unreachable_scheduler_is_a_usage_error(folder, tmp_path, address):
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--release",
            str(RELEASE),
            "--dask",
            address,
        ],
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: cannot reach a Dask scheduler at {address!r}"
    ), result.output


def test_the_grading_service_grades_on_a_dask_cluster_as_locally(folder, tmp_path):
    from service_support import start_service

    local = grader.grade([folder], release_dir=RELEASE, options=OPTIONS)
    with distributed.LocalCluster(  # tcp: the service, another process, connects to it
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        args = ["--dask", cluster.scheduler_address, "--timeout", "2"]
        service = start_service(tmp_path / "service", jobs=2, args=args)
        try:
            for result in local.submissions:  # the same notebook twice: nothing is resent
                data = (folder / f"{result.student}.ipynb").read_bytes()
                for _ in range(2):
                    answer = service.post_notebook("alice", "dnn_step_by_step", data, "check")
                    if result.status == "unreadable":
                        assert answer.status == 400  # refused before grading
                        continue
                    assert answer.status == 200, answer.body
                    body = answer.json()
                    assert (body["status"], body["score"]) == (result.status, result.score)
                    assert {name: e["score"] for name, e in body["exercises"].items()} == {
                        e.name: e.score for e in result.exercises
                    }
            assert "grade_chunk" in cluster.scheduler.task_prefixes  # graded there
        finally:
            assert service.stop() == 0
