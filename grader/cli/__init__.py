"""The ``grader`` command: thin click commands over the Python API.

This is the one place where :class:`grader.errors.GraderError` becomes a message on
stderr and an exit code (2 for usage errors, 3 when some submissions could not be
graded because of a fault of the grader, 1 otherwise).
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path

import click

# jsonschema (imported by nbformat) compiles a grammar at import for an optional IRI
# format checker when rfc3987_syntax happens to be installed: ~0.9 s of every command,
# for a format no notebook schema uses. The command is our own process: skip it.
sys.modules.setdefault("rfc3987_syntax", None)

from grader import __version__  # noqa: E402
from grader.errors import (GraderError, NotGradedError, StaleReleaseError,  # noqa: E402
                           UsageError)
from grader.terminal import printable  # noqa: E402


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            click.echo(f"error: {printable(exc, lines=True)}", err=True)  # may name files
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a file the machine refused (disk full, permissions...)
            where = f": {exc.filename}" if exc.filename is not None else ""
            click.echo(printable(f"error: {exc.strerror or exc}{where}"), err=True)
            ctx.exit(1)
        except KeyboardInterrupt as exc:  # before or after grading: nothing to keep yet
            click.echo("\ninterrupted", err=True)
            ctx.exit(_interrupted_code(exc))


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a CI job cancelled, ``timeout``, ``docker stop``), taken as Ctrl-C is."""


def _interrupted_code(exc: KeyboardInterrupt) -> int:
    return 128 + (signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT)


@contextlib.contextmanager
def _sigterm_interrupts():
    def stop(signum, frame):
        raise _Terminated()

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (the command run from a thread)
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _output_folder(path: Path, flag: str, *, create: bool = True) -> Path:
    """``path`` as a folder to write into, checked (and made, with ``create``) before any
    work: a file in the way is a usage error, not a traceback minutes later."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file, not a folder")
    if not create:
        existing = next(parent for parent in path.absolute().parents if parent.exists())
        if not existing.is_dir():
            raise UsageError(f"cannot create the {flag} folder {path}: {existing} is a file")
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the {flag} folder {path}: {exc.strerror}") from None
    return path


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Autograder kit for Jupyter notebook assignments."""


@cli.command()
@click.argument("assignments", nargs=-1)
@click.option("--source", "source_root", type=click.Path(path_type=Path),
              default=Path("source_notebooks"), show_default=True,
              help="Folder of instructor source folders, one per assignment.")
@click.option("--release", "release_root", type=click.Path(path_type=Path),
              default=Path("release"), show_default=True, help="Where student folders go.")
@click.option("--solutions", "solutions_root", type=click.Path(path_type=Path),
              default=Path("solutions"), show_default=True, help="Where solved notebooks go.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 and name the files that differ from the source.")
def release(assignments: tuple[str, ...], source_root: Path, release_root: Path,
            solutions_root: Path, check: bool) -> None:
    """Generate student releases and executed solutions from the source notebooks."""
    from grader.authoring import generate

    folders = generate.source_folders(source_root, list(assignments))
    if not check:  # before the minutes of building, not after; made only by writing
        _output_folder(release_root, "--release", create=False)
        _output_folder(solutions_root, "--solutions", create=False)
    results = [generate.build(folder) for folder in folders]
    if check:
        stale = generate.stale_files(results, release_root, solutions_root)
        if stale:
            raise StaleReleaseError(stale)
        click.echo(f"up to date: {', '.join(r.assignment.name for r in results)}")
        return
    generate.write(results, release_root, solutions_root)
    for result in results:
        folder = result.assignment.source_dir.name
        click.echo(f"{result.assignment.name}: {len(result.assignment.exercises)} exercises, "
                   f"{result.assignment.max_score:g} points -> {release_root / folder}/ "
                   f"({len(result.release)} files), {solutions_root / folder}/")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--release", "release_dir", type=click.Path(path_type=Path), default=None,
              help="The assignment's release folder (default: release/<assignment> of this "
                   "checkout or of the working folder, or $GRADER_RELEASE_ROOT/<assignment>).")
@click.option("--solutions", "solutions_dir", type=click.Path(path_type=Path), default=None,
              help="Its solutions folder (default: solutions/<assignment>, found the same way).")
def sample(folder: Path, release_dir: Path | None, solutions_dir: Path | None) -> None:
    """Write a small demo batch of submissions (every status) into FOLDER."""
    from grader import atomic
    from grader.assignments.dnn_step_by_step import samples as synth
    from grader.grading.locations import default_assignment, find_folder

    assignment = default_assignment()
    release_dir = release_dir or find_folder(assignment, "release")
    solutions_dir = solutions_dir or find_folder(assignment, "solutions", "--solutions")
    for directory in (release_dir, solutions_dir):
        if not directory.is_dir():
            raise UsageError(f"{directory} does not exist (run `grader release` first)")
    _output_folder(folder, "FOLDER")
    batch = synth.sample_batch(solutions_dir, release_dir)
    for name, data in batch.items():
        atomic.write_bytes(folder / name, data)
    click.echo(f"wrote {len(batch)} sample submissions to {folder}/")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for grades.csv, grades.json, junit.xml and feedback/.")
@click.option("--release", "release_dir", type=click.Path(path_type=Path), default=None,
              help="The released student folder of the assignment (helpers, points); "
                   "default: release/<assignment> of this checkout or of the working folder, "
                   "or $GRADER_RELEASE_ROOT/<assignment>.")
@click.option("--jobs", type=click.IntRange(min=0), default=0,
              help="Worker processes grading in parallel on this machine "
                   "(default: one per core; not used with --dask).")
@click.option("--dask", "dask_address", metavar="ADDRESS", default=None,
              help="Grade on a Dask cluster instead, e.g. tcp://scheduler:8786 "
                   "(pip install 'nb-autograder[dask]').")
@click.option("--fresh", is_flag=True,
              help="Grade every submission again, ignoring results kept in the output "
                   "folder's journal from earlier runs.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds (wall clock and CPU) allowed per exercise.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=64), default=2048,
              show_default=True, help="Memory limit per submission, in MiB.")
@click.option("--no-isolation", is_flag=True,
              help="Grade each exercise with the student's own helper functions.")
@click.option("--all-or-nothing", is_flag=True,
              help="An exercise scores its points only when every check passes.")
@click.option("--fail-under", type=float, default=None,
              help="Exit 1 when any submission scores below this.")
@click.option("--gradescope", type=click.Path(path_type=Path), default=None,
              help="Also write a Gradescope results.json (single submission only).")
@click.option("--sandbox", "sandbox_mode", type=click.Choice(["auto", "namespaces", "rlimits"]),
              default=None, help="How to confine student code: namespaces where possible "
              "(auto, the default; or $GRADER_SANDBOX), required, or resource limits only.")
@click.option("--reveal-expected", is_flag=True,
              help="Show students the expected values of failed hidden checks in their "
                   "feedback and Gradescope results (default: only what kind of problem it "
                   "was; grades.json always keeps them).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def grade(paths: tuple[Path, ...], out_dir: Path, release_dir: Path | None, jobs: int,
          dask_address: str | None, fresh: bool, timeout: float, memory_mb: int,
          no_isolation: bool, all_or_nothing: bool, fail_under: float | None,
          gradescope: Path | None, sandbox_mode: str | None, reveal_expected: bool,
          quiet: bool) -> None:
    """Grade submitted notebooks (files, folders or an nbgrader course tree).

    Each result is kept in OUT/.grader-journal.jsonl as soon as it exists; running
    the same command again grades only submissions that are new or changed (or all
    of them when options changed), so an interrupted batch continues where it stopped.

    \b
    Exit codes: 0 graded; 1 a submission scored below --fail-under; 2 usage error
    (also: no notebook found, --fail-under above the maximum score; nothing written);
    3 some submissions not graded because of a fault of the grader (rerun to grade
    them); 130 / 143 interrupted (Ctrl-C / SIGTERM), results so far kept.
    """
    from grader.engine import GradingJob
    from grader.grading.options import Options
    from grader.resume import journal_path
    from grader.sandbox.server import Limits

    def warn(message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    options = Options(limits=Limits(call_timeout=timeout, memory_bytes=memory_mb << 20),
                      isolation=not no_isolation, all_or_nothing=all_or_nothing, jobs=jobs,
                      sandbox=sandbox_mode)
    runner = None
    if dask_address is not None:
        from grader.runners.dask_cluster import DaskRunner

        runner = DaskRunner(dask_address)
    job = GradingJob(paths, release_dir=release_dir, options=options, runner=runner,
                     journal=journal_path(out_dir), fresh=fresh, hide=(out_dir.resolve(),),
                     warn=warn, argument="--release")
    submissions, notebooks = job.submissions, job.notebooks
    if gradescope is not None and len(notebooks) != 1:
        names = ", ".join(s.path.name for s in notebooks[:5])
        found = f"found {len(notebooks)}" + (f" ({names})" if names else "")
        _tell_gradescope(gradescope, job.release_dir,
                         f"a submission must hold exactly one notebook (.ipynb); {found}")
        raise UsageError(f"--gradescope needs exactly one submission, {found}")
    if not notebooks:  # a wrong path or glob in CI must fail, not pass with empty reports
        empty = len(submissions)
        raise UsageError("no notebooks (*.ipynb) found in " + ", ".join(map(str, paths))
                         + (f" ({empty} nbgrader submission folders, all empty)" if empty
                            else "") + "; nothing graded, nothing written")
    _output_folder(out_dir, "--out")

    def bounded(context) -> None:
        if fail_under is not None and fail_under > context.assignment.max_score:
            raise UsageError(f"--fail-under {fail_under:g} is above the maximum score of "
                             f"{context.assignment.name} ({context.assignment.max_score:g}): "
                             "every submission would fail")

    done = [0]

    def advance(_result) -> None:
        done[0] += 1
        bar.update(1)

    with contextlib.ExitStack() as stack:
        stack.enter_context(_sigterm_interrupts())  # so that the stack below is closed
        if runner is not None:
            stack.enter_context(runner)
        bar = stack.enter_context(click.progressbar(
            length=len(submissions), label="grading", file=sys.stderr, show_pos=True,
            hidden=quiet or len(submissions) <= 1))
        try:
            batch = job.run(advance, prepared=bounded)
        except KeyboardInterrupt as exc:
            bar.render_finish()
            click.echo(f"\ninterrupted: {done[0]} of {len(submissions)} results are kept in "
                       f"{job.journal}; run the same command again to grade the rest",
                       err=True)
            sys.exit(_interrupted_code(exc))
    if job.reused and not quiet:
        click.echo(f"{job.reused} of {len(submissions)} submissions unchanged since the "
                   f"last run: results taken from {job.journal}", err=True)
    from grader.reports import CLASS_REPORT, summary_text, write_reports
    from grader.results import NOT_GRADED

    written = write_reports(batch, out_dir, job.context.assignment.title, gradescope,
                            reveal_expected=reveal_expected)
    if not quiet:
        click.echo(summary_text(batch))
        index = out_dir / CLASS_REPORT
        click.echo(f"reports in {out_dir}/"
                   + (f" (class report: {index})" if index in written else ""))
    failed_on = [s.student for s in batch.submissions if s.status == NOT_GRADED]
    if failed_on:  # the run is incomplete: not the students' doing, so before --fail-under
        count = f"{len(failed_on)} submission" + ("" if len(failed_on) == 1 else "s")
        raise NotGradedError(f"{count} not graded because of a fault of "
                             f"the grader or of this machine ({_names(failed_on)}); see "
                             f"{out_dir / 'grades.json'}, and run the same command again to "
                             "grade them")
    if fail_under is not None:
        low = [s.student for s in batch.submissions if s.score < fail_under]
        if low:
            click.echo(f"below {fail_under:g}: {printable(', '.join(low))}", err=True)
            sys.exit(1)


def _tell_gradescope(target: Path, release_dir: Path, problem: str) -> None:
    """A ``results.json`` saying what is wrong with the upload: without one, Gradescope
    shows students only "the autograder failed to execute correctly"."""
    from grader import atomic
    from grader.authoring.assignment import load_release
    from grader.reports import gradescope_results
    from grader.results import UNREADABLE, SubmissionResult

    try:
        max_score = load_release(release_dir)[0].max_score
    except GraderError:
        return  # the release's own error is the one to report
    refused = SubmissionResult("submission", "", 0.0, max_score, UNREADABLE, error=problem)
    atomic.write_bytes(target, gradescope_results(refused).encode("utf-8"))


def _names(students: list[str], shown: int = 5) -> str:
    more = len(students) - shown
    return ", ".join(students[:shown]) + (f" and {more} more" if more > 0 else "")


def main() -> None:
    cli(prog_name="grader")


if __name__ == "__main__":
    main()
    sys.exit(0)
