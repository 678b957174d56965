"""``grader release`` and ``grader sample``: the instructor's side."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import output_folder
from grader.errors import StaleReleaseError, UsageError


@click.command()
@click.argument("assignments", nargs=-1)
@click.option(
    "--source",
    "source_root",
    type=click.Path(path_type=Path),
    default=Path("source_notebooks"),
    show_default=True,
    help="Folder of instructor source folders, one per assignment.",
)
@click.option(
    "--release",
    "release_root",
    type=click.Path(path_type=Path),
    default=Path("release"),
    show_default=True,
    help="Where student folders go.",
)
@click.option(
    "--solutions",
    "solutions_root",
    type=click.Path(path_type=Path),
    default=Path("solutions"),
    show_default=True,
    help="Where solved notebooks go.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 and name the files that differ from the source.",
)
@click.option(
    "--execute",
    is_flag=True,
    help="Execute every solved notebook again, even one whose executed copy in the "
    "solutions folder was made from the same source and files (reused by default).",
)
def release(
    assignments: tuple[str, ...],
    source_root: Path,
    release_root: Path,
    solutions_root: Path,
    check: bool,
    execute: bool,
) -> None:
    """Generate student releases and executed solutions from the source notebooks."""
    from grader.authoring import generate

    folders = generate.source_folders(source_root, list(assignments))
    if not check:  # before the minutes of building, not after; made only by writing
        output_folder(release_root, "--release", create=False)
        output_folder(solutions_root, "--solutions", create=False)
    results = [
        generate.build(folder, None if execute else solutions_root / folder.name)
        for folder in folders
    ]
    if check:
        stale = generate.stale_files(results, release_root, solutions_root)
        if stale:
            raise StaleReleaseError(stale)
        click.echo(f"up to date: {', '.join(r.assignment.name for r in results)}")
        return
    generate.write(results, release_root, solutions_root)
    for result in results:
        folder = result.assignment.source_dir.name
        count = len(result.assignment.exercises)
        click.echo(
            f"{result.assignment.name}: {count} exercise{'' if count == 1 else 's'}, "
            f"{result.assignment.max_score:g} points -> {release_root / folder}/ "
            f"({len(result.release)} files), {solutions_root / folder}/"
        )


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--assignment",
    "names",
    multiple=True,
    metavar="NAME",
    help="Only this assignment (repeatable; default: every installed one that has "
    "sample submissions). With several, each gets FOLDER/<assignment>/.",
)
@click.option(
    "--release",
    "release_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The assignment's release folder (default: release/<assignment> of this "
    "checkout or of the working folder, or $GRADER_RELEASE_ROOT/<assignment>).",
)
@click.option(
    "--solutions",
    "solutions_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Its solutions folder (default: solutions/<assignment>, found the same way).",
)
def sample(
    folder: Path, names: tuple[str, ...], release_dir: Path | None, solutions_dir: Path | None
) -> None:
    """Write a small demo batch of submissions (every status) into FOLDER."""
    from grader import atomic
    from grader.assignments import available, get_kit
    from grader.grading.locations import find_folder

    kits = [get_kit(name) for name in names] or [
        kit for kit in map(get_kit, available()) if kit.samples is not None
    ]
    if not kits:
        raise UsageError("no installed assignment has sample submissions")
    if (release_dir or solutions_dir) and len(kits) > 1:
        raise UsageError(
            "--release and --solutions name one assignment's folders: pass --assignment too"
        )
    batches = []
    for kit in kits:
        if kit.samples is None:
            raise UsageError(f"assignment {kit.name} has no sample submissions")
        release = release_dir or find_folder(kit.name, "release")
        solutions = solutions_dir or find_folder(kit.name, "solutions", "--solutions")
        for directory in (release, solutions):
            if not directory.is_dir():
                raise UsageError(f"{directory} does not exist (run `grader release` first)")
        batches.append((kit.name, release, solutions))
    output_folder(folder, "FOLDER")
    for name, release, solutions in batches:
        target = folder if len(batches) == 1 else folder / name
        make = get_kit(name).samples
        assert make is not None  # checked above
        batch = make(solutions, release)
        for file_name, data in batch.items():
            atomic.write_bytes(target / file_name, data)
        click.echo(f"wrote {len(batch)} sample submissions of {name} to {target}/")
