"""The ``grader`` command: a click group of thin commands over the Python API (one
module per command family: :mod:`grader.cli.authoring`, :mod:`grader.cli.grading`).

This is the one place where :class:`grader.errors.GraderError` becomes a message on
stderr and an exit code (2 for usage errors, 3 when some submissions could not be
graded because of a fault of the grader, 1 otherwise).
"""

from __future__ import annotations

import sys

import click

# jsonschema (imported by nbformat) compiles a grammar at import for an optional IRI
# format checker when rfc3987_syntax happens to be installed: ~0.9 s of every command,
# for a format no notebook schema uses. The command is our own process: skip it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from grader.cli.authoring import release, sample  # noqa: E402
from grader.cli.common import interrupted_code  # noqa: E402
from grader.cli.export import export  # noqa: E402
from grader.cli.grading import grade  # noqa: E402
from grader.cli.service import serve  # noqa: E402
from grader.errors import GraderError  # noqa: E402
from grader.terminal import printable  # noqa: E402
from grader.version import __version__  # noqa: E402


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
            ctx.exit(interrupted_code(exc))


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Autograder kit for Jupyter notebook assignments."""


cli.add_command(release)
cli.add_command(sample)
cli.add_command(grade)
cli.add_command(export)
cli.add_command(serve)


def main() -> None:
    cli(prog_name="grader")


if __name__ == "__main__":
    main()
    sys.exit(0)
