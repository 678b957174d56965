"""The ``grader`` command: thin click commands over the Python API.

This is the one place where :class:`grader.errors.GraderError` becomes a message on
stderr and an exit code (2 for usage errors, 1 otherwise).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from grader import __version__
from grader.errors import GraderError, StaleReleaseError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


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
    from grader import generate

    folders = generate.source_folders(source_root, list(assignments))
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


def main() -> None:
    cli(prog_name="grader")


if __name__ == "__main__":
    main()
    sys.exit(0)
