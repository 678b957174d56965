"""``grader ci-template``: a GitHub Actions / GitHub Classroom template for students'
repositories (:mod:`grader.integrations.ci_template` renders and writes it)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.errors import UsageError
from grader.version import __version__

DEFAULT_KIT = f"nb-autograder=={__version__}"


@click.command("ci-template")
@click.option("--assignment", required=True, help="The assignment (kit) the repository is for.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="The student (template) repository to write into: .github/workflows/classroom.yml, "
    ".github/classroom/autograding.json and .grader/release/<assignment>/.",
)
@click.option(
    "--release",
    "release_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The released student folder to copy (default: found as `grader grade` finds it).",
)
@click.option(
    "--kit-spec",
    default=DEFAULT_KIT,
    show_default=True,
    help="The pip requirement installing this kit on the runner, e.g. "
    "'nb-autograder @ git+https://github.com/ORG/KIT' (the default needs the kit "
    "published on the package index the runner uses).",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="The workflow fails when the score is below this "
    "(default: the assignment's full score, so it passes only when every exercise does).",
)
@click.option(
    "--python-version",
    default="3.12",
    show_default=True,
    help="The Python actions/setup-python installs.",
)
@click.option(
    "--notebook",
    default=None,
    help="The student's notebook, relative to the repository "
    "(default: the release notebook's name, at the top).",
)
@click.option("--force", is_flag=True, help="Replace a different workflow or release copy.")
def ci_template(
    assignment: str,
    out_dir: Path,
    release_dir: Path | None,
    kit_spec: str,
    threshold: float | None,
    python_version: str,
    notebook: str | None,
    force: bool,
) -> None:
    """Write a GitHub Actions workflow (with GitHub Classroom points) that grades the
    student's notebook on every push, prints the per-exercise table, uploads the
    feedback page and fails under --threshold.

    The student controls that repository (its workflow, and the installed kit holds
    the reference): use it for feedback and low stakes, not for grades that count.

    \b
    Exit codes: 0 written; 2 usage error (unknown assignment, no release, a
    threshold above the full score, --out holding another workflow without --force).
    """
    from grader.assignments import get_kit
    from grader.authoring.assignment import load_release
    from grader.cli.common import output_folder
    from grader.grading.locations import find_folder
    from grader.grading.options import release_folder
    from grader.integrations.ci_template import (
        CiSettings,
        check_settings,
        template_files,
        write_template,
    )

    get_kit(assignment)  # an unknown name: the kit registry's one-line error
    if release_dir is None:
        release_dir = find_folder(assignment, "release", "--release")
    release, _ = load_release(release_folder(release_dir))
    if release.name != assignment:
        raise UsageError(
            f"--release {release_dir} is the release of {release.name}, not {assignment}"
        )
    settings = check_settings(
        CiSettings(
            assignment=assignment,
            notebook=notebook or release.notebook_name,
            exercises=tuple((e.name, e.points) for e in release.exercises),
            kit_spec=kit_spec,
            threshold=release.max_score if threshold is None else threshold,
            python_version=python_version,
            version=__version__,
        )
    )
    names = (release.notebook_name, *release.helper_files)
    files = template_files(settings, {n: (release_dir / n).read_bytes() for n in names})
    output_folder(out_dir, "--out")
    written = write_template(out_dir, files, settings.release, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(
        f"the workflow grades {settings.notebook} and fails under "
        f"{settings.threshold:g} of {settings.max_score:g}; installs {kit_spec}"
    )
