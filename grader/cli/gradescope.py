"""``grader gradescope build``: the Gradescope autograder zip of one assignment (see
:mod:`grader.integrations.gradescope_zip` for its layout)."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import click

from grader.cli.common import limit_options
from grader.errors import UsageError
from grader.terminal import printable


@click.group()
def gradescope() -> None:
    """Gradescope: build an assignment's autograder zip."""


@gradescope.command()
@click.option("--assignment", required=True, help="The assignment kit to grade with.")
@click.option(
    "--out",
    "out_name",
    type=click.Path(),
    default="autograder.zip",
    show_default=True,
    help="The zip to write (replaced if it exists).",
)
@click.option(
    "--release",
    "release_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The assignment's student release to ship; default: found as `grader grade` "
    "finds it (release/<assignment> of this checkout or of the working folder, or "
    "$GRADER_RELEASE_ROOT/<assignment>).",
)
@click.option(
    "--wheel",
    "wheels",
    type=click.Path(path_type=Path),
    multiple=True,
    help="A wheel to install on Gradescope: the kit's (nb-autograder), and a course's own "
    "kit package if it has one (repeat the option); default: the kit's, built from this "
    "checkout.",
)
@limit_options
@click.option(
    "--all-or-nothing",
    is_flag=True,
    help="An exercise scores its points only when every check passes.",
)
@click.option(
    "--reveal-expected",
    is_flag=True,
    help="Show students the expected values of failed hidden checks (default: only what "
    "kind of problem it was).",
)
def build(
    assignment: str,
    out_name: str,
    release_dir: Path | None,
    wheels: tuple[Path, ...],
    timeout: float,
    memory_mb: int,
    all_or_nothing: bool,
    reveal_expected: bool,
) -> None:
    """Write the autograder zip: setup.sh, run_autograder, the kit's wheel and the release.

    Upload it in the assignment's "Configure Autograder" page (zip file upload, base
    image Ubuntu). Each submission is graded with `grader grade` into Gradescope's
    results.json: one test per exercise; a submission without exactly one notebook
    gets a score of 0 and a message saying so.
    """
    from grader.assignments import get_kit
    from grader.authoring.assignment import load_release
    from grader.grading.locations import checkout_root, find_folder, release_assignment
    from grader.grading.options import release_folder
    from grader.integrations.gradescope_zip import build_autograder, build_kit_wheel

    get_kit(assignment)  # an unknown name: one line naming the known ones
    if release_dir is None:
        release_dir = find_folder(assignment, "release", "--release")
    else:
        release_folder(release_dir)
    named = release_assignment(release_dir)
    if named is not None and named != assignment:
        raise UsageError(f"{release_dir} is the release of {named}, not of {assignment}")
    load_release(release_dir)  # a broken release fails here, not on every submission
    out = Path(out_name)
    if out_name.endswith(("/", os.sep)) or out.is_dir():
        raise UsageError(f"--out {out_name} is a folder: name the zip to write")
    options = ["--timeout", f"{timeout:g}", "--memory", str(memory_mb)]
    options += ["--all-or-nothing"] * all_or_nothing + ["--reveal-expected"] * reveal_expected
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as scratch:
        if not wheels:
            if importlib.util.find_spec(f"grader.assignments.{assignment}") is None:
                click.echo(
                    f"warning: the kit of {assignment} comes from a package of its own: "
                    "ship its wheel too (--wheel, with the grader kit's)",
                    err=True,
                )
            click.echo("building the kit's wheel from this checkout...", err=True)
            wheels = (build_kit_wheel(checkout_root(), Path(scratch)),)
        entries = build_autograder(assignment, release_dir, list(wheels), out, options)
    size = out.stat().st_size
    shipped = ", ".join(entry.name for entry in entries if entry.name.startswith("wheels/"))
    click.echo(
        printable(
            f"wrote {out} ({len(entries)} files, {size / 1024:.0f} KiB; {shipped}): upload "
            "it as the assignment's autograder (Configure Autograder, zip file upload)"
        )
    )
