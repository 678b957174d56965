"""``grader grade``: arguments in, one grading job per assignment, reports and a summary
out. The grading itself is :class:`grader.engine.GradingJob`'s."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from grader.cli.common import (
    interrupted_code,
    limit_options,
    output_folder,
    sigterm_interrupts,
)
from grader.errors import GraderError, NotGradedError, UsageError
from grader.results import NOT_GRADED
from grader.terminal import printable

if TYPE_CHECKING:
    from grader.engine import GradingJob
    from grader.results import BatchResult


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for grades.csv, grades.json, junit.xml and feedback/.",
)
@click.option(
    "--release",
    "release_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The released student folder of the assignment (helpers, points); "
    "default: release/<assignment> of this checkout or of the working folder, "
    "or $GRADER_RELEASE_ROOT/<assignment>.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Worker processes grading in parallel on this machine "
    "(default: one per core; not used with --dask).",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    default=None,
    help="Grade on a Dask cluster instead, e.g. tcp://scheduler:8786 "
    "(pip install 'nb-autograder[dask]').",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Grade every submission again, ignoring results kept in the output "
    "folder's journal from earlier runs.",
)
@limit_options
@click.option(
    "--no-isolation",
    is_flag=True,
    help="Grade each exercise with the student's own helper functions.",
)
@click.option(
    "--all-or-nothing",
    is_flag=True,
    help="An exercise scores its points only when every check passes.",
)
@click.option(
    "--fail-under", type=float, default=None, help="Exit 1 when any submission scores below this."
)
@click.option(
    "--gradescope",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write a Gradescope results.json (single submission only).",
)
@click.option(
    "--gradebook",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write each exercise's score into this nbgrader gradebook "
    "(COURSE/gradebook.db) as its grade cell's autograded score.",
)
@click.option(
    "--sandbox",
    "sandbox_mode",
    type=click.Choice(["auto", "namespaces", "rlimits"]),
    default=None,
    help="How to confine student code: namespaces where possible "
    "(auto, the default; or $GRADER_SANDBOX), required, or resource limits only.",
)
@click.option(
    "--reveal-expected",
    is_flag=True,
    help="Show students the expected values of failed hidden checks in their "
    "feedback and Gradescope results (default: only what kind of problem it "
    "was; grades.json always keeps them).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def grade(
    paths: tuple[Path, ...],
    out_dir: Path,
    release_dir: Path | None,
    jobs: int,
    dask_address: str | None,
    fresh: bool,
    timeout: float,
    memory_mb: int,
    no_isolation: bool,
    all_or_nothing: bool,
    fail_under: float | None,
    gradescope: Path | None,
    gradebook: Path | None,
    sandbox_mode: str | None,
    reveal_expected: bool,
    quiet: bool,
) -> None:
    """Grade submitted notebooks (files, folders or an nbgrader course tree).

    Each result is kept in OUT/.grader-journal.jsonl as soon as it exists; running
    the same command again grades only submissions that are new or changed (or all
    of them when options changed), so an interrupted batch continues where it stopped.

    \b
    Exit codes: 0 graded; 1 a submission scored below --fail-under; 2 usage error
    (also: no notebook found, --fail-under above the maximum score; nothing written);
    3 some submissions not graded because of a fault of the grader (rerun to grade
    them); 130 / 143 interrupted (Ctrl-C / SIGTERM), results so far kept. With
    --gradebook, a path that is no gradebook exits 2 before grading; rows that
    cannot be written exit 1, the reports kept.
    """
    from grader.engine import jobs_by_assignment
    from grader.grading.options import Options
    from grader.resume import journal_path
    from grader.sandbox.server import Limits

    def warn(message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    options = Options(
        limits=Limits(call_timeout=timeout, memory_bytes=memory_mb << 20),
        isolation=not no_isolation,
        all_or_nothing=all_or_nothing,
        jobs=jobs,
        sandbox=sandbox_mode,
    )
    runner = None
    if dask_address is not None:
        from grader.runners.dask_cluster import DaskRunner

        runner = DaskRunner(dask_address)
    settings: dict[str, Any] = dict(
        options=options,
        runner=runner,
        fresh=fresh,
        hide=(out_dir.resolve(),),
        warn=warn,
        argument="--release",
    )
    if release_dir is not None:
        from grader.engine import GradingJob

        by_assignment = {"": GradingJob(paths, release_dir=release_dir, **settings)}
    else:
        by_assignment = jobs_by_assignment(paths, **settings)
    submissions = [s for job in by_assignment.values() for s in job.submissions]
    notebooks = [s for job in by_assignment.values() for s in job.notebooks]
    if gradescope is not None and len(notebooks) != 1:
        names = ", ".join(s.path.name for s in notebooks[:5])
        found = f"found {len(notebooks)}" + (f" ({names})" if names else "")
        release = (
            next(iter(by_assignment.values())).release_dir if len(by_assignment) == 1 else None
        )
        _tell_gradescope(
            gradescope, release, f"a submission must hold exactly one notebook (.ipynb); {found}"
        )
        raise UsageError(f"--gradescope needs exactly one submission, {found}")
    if not notebooks:  # a wrong path or glob in CI must fail, not pass with empty reports
        empty = len(submissions)
        raise UsageError(
            "no notebooks (*.ipynb) found in "
            + ", ".join(map(str, paths))
            + (f" ({empty} nbgrader submission folders, all empty)" if empty else "")
            + "; nothing graded, nothing written"
        )
    if gradebook is not None:  # a path that is no gradebook: refused before grading
        from grader.integrations.nbgrader_gradebook import gradebook_url

        gradebook_url(gradebook)
    several = len(by_assignment) > 1  # each assignment's reports in OUT/<assignment>/
    folders = {name: out_dir / name if several else out_dir for name in by_assignment}
    for name, folder in folders.items():
        output_folder(folder, "--out")
        by_assignment[name].journal = journal_path(folder)

    def bounded(context) -> None:
        if fail_under is not None and fail_under > context.assignment.max_score:
            raise UsageError(
                f"--fail-under {fail_under:g} is above the maximum score of "
                f"{context.assignment.name} ({context.assignment.max_score:g}): "
                "every submission would fail"
            )

    batches = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(sigterm_interrupts())  # so that the stack below is closed
        if runner is not None:
            stack.enter_context(runner)
        for name, job in by_assignment.items():
            if several and not quiet:
                click.echo(f"{name}: {len(job.submissions)} submissions", err=True)
            batches.append(_run(job, bounded, quiet))
    low, failed_on = [], []
    for (name, job), batch in zip(by_assignment.items(), batches):
        low += _report(job, batch, folders[name], gradescope, reveal_expected, quiet, fail_under)
        failed_on += [s.student for s in batch.submissions if s.status == NOT_GRADED]
    if gradebook is not None:  # after the reports: a gradebook refused keeps them
        from grader.integrations.nbgrader_gradebook import record_all

        pairs = [(batch, job.release_dir) for job, batch in zip(by_assignment.values(), batches)]
        done = record_all(pairs, gradebook, lambda note: warn(printable(note)))
        for (batch, _), recorded in zip(pairs, done):
            if not quiet:
                click.echo(
                    f"gradebook {gradebook}: {len(recorded.written)} submissions "
                    f"of {batch.assignment} written"
                )
    if failed_on:  # the run is incomplete: not the students' doing, so before --fail-under
        count = f"{len(failed_on)} submission" + ("" if len(failed_on) == 1 else "s")
        raise NotGradedError(
            f"{count} not graded because of a fault of "
            f"the grader or of this machine ({_names(failed_on)}); see "
            f"{out_dir}/ (grades.json), and run the same command again to "
            "grade them"
        )
    if low:
        click.echo(f"below {fail_under:g}: {printable(', '.join(low))}", err=True)
        sys.exit(1)


def _run(job: GradingJob, bounded: Callable, quiet: bool) -> BatchResult:
    """One assignment's job with a progress bar; Ctrl-C keeps what is graded."""
    done = [0]
    total = len(job.submissions)
    with click.progressbar(
        length=total, label="grading", file=sys.stderr, show_pos=True, hidden=quiet or total <= 1
    ) as bar:

        def advance(_result) -> None:
            done[0] += 1
            bar.update(1)

        try:
            batch = job.run(advance, prepared=bounded)
        except KeyboardInterrupt as exc:
            bar.render_finish()
            click.echo(
                f"\ninterrupted: {done[0]} of {total} results are kept in "
                f"{job.journal}; run the same command again to grade the rest",
                err=True,
            )
            sys.exit(interrupted_code(exc))
    if job.reused and not quiet:
        click.echo(
            f"{job.reused} of {total} submissions unchanged since the "
            f"last run: results taken from {job.journal}",
            err=True,
        )
    return batch


def _report(
    job: GradingJob,
    batch: BatchResult,
    out_dir: Path,
    gradescope: Path | None,
    reveal_expected: bool,
    quiet: bool,
    fail_under: float | None,
) -> list[str]:
    """Write one assignment's reports and print its summary; the students below
    ``fail_under``."""
    from grader.reports import CLASS_REPORT, summary_text, write_reports

    title = job.context.assignment.title if job.context else batch.assignment
    written = write_reports(batch, out_dir, title, gradescope, reveal_expected=reveal_expected)
    if not quiet:
        click.echo(summary_text(batch))
        index = out_dir / CLASS_REPORT
        click.echo(
            f"reports in {out_dir}/" + (f" (class report: {index})" if index in written else "")
        )
    if fail_under is None:
        return []
    return [s.student for s in batch.submissions if s.score < fail_under]


def _tell_gradescope(target: Path, release_dir: Path | None, problem: str) -> None:
    """A ``results.json`` saying what is wrong with the upload: without one, Gradescope
    shows students only "the autograder failed to execute correctly"."""
    from grader import atomic
    from grader.authoring.assignment import load_release
    from grader.reports import gradescope_results
    from grader.results import UNREADABLE, SubmissionResult

    try:
        max_score = load_release(release_dir)[0].max_score if release_dir else 0.0
    except GraderError:
        return  # the release's own error is the one to report
    refused = SubmissionResult("submission", "", 0.0, max_score, UNREADABLE, error=problem)
    atomic.write_bytes(target, gradescope_results(refused).encode("utf-8"))


def _names(students: list[str], shown: int = 5) -> str:
    more = len(students) - shown
    return ", ".join(students[:shown]) + (f" and {more} more" if more > 0 else "")
