"""The ``grader`` command: a click group of thin commands over the Python API (one
module per command family: :mod:`grader.cli.authoring`, :mod:`grader.cli.grading`).

This is the one place where :class:`grader.errors.GraderError` becomes a message on
stderr and an exit code (2 for usage errors, 3 when some submissions could not be
graded because of a fault of the grader, 1 otherwise).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

# jsonschema (imported by nbformat) compiles a grammar at import for an optional IRI
# format checker when rfc3987_syntax happens to be installed: ~0.9 s of every command,
# for a format no notebook schema uses. The command is our own process: skip it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from grader.cli.common import interrupted_code  # noqa: E402
from grader.errors import GraderError  # noqa: E402
from grader.terminal import printable  # noqa: E402
from grader.version import __version__  # noqa: E402

# command name -> "module:attribute": a command's module is imported only when that
# command runs (or --help lists them), so `grader grade` does not pay for the others
COMMANDS = {
    "release": "grader.cli.authoring:release",
    "sample": "grader.cli.authoring:sample",
    "grade": "grader.cli.grading:grade",
    "export": "grader.cli.export:export",
    "serve": "grader.cli.service:serve",
    "nbgrader": "grader.cli.nbgrader:nbgrader",
    "gradescope": "grader.cli.gradescope:gradescope",
    "ci-template": "grader.cli.ci_template:ci_template",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # a command whose module this install lacks is not listed
        return sorted(n for n, t in COMMANDS.items() if importlib.util.find_spec(t.split(":")[0]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

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


def main() -> None:
    cli(prog_name="grader")


if __name__ == "__main__":
    main()
    sys.exit(0)
