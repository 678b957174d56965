"""The Gradescope autograder zip of one assignment, in Gradescope's documented layout.

Gradescope unpacks the zip into ``/autograder/source``, runs its ``setup.sh`` once while
building the image, then ``run_autograder`` for each submission (``/autograder/submission``),
which must write ``/autograder/results/results.json``. The zip holds::

    setup.sh              installs the kit's wheels (and their dependencies) into a venv
    run_autograder        `grader grade` of the one notebook, --gradescope results.json
    grader-settings.sh    the assignment's name and the `grader grade` options
    wheels/*.whl          the kit (and a course's own kit package, when given)
    release/<assignment>/ the student release the grader needs (its --release)

Nothing is graded here: ``run_autograder`` calls the kit's command, whose engine grades.
:func:`plan_autograder` is the pure part (names and bytes in, zip entries out);
:func:`read_inputs`, :func:`build_kit_wheel` and :func:`write_zip` are the edges.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import atomic
from grader.errors import GraderError, UsageError

TEMPLATES = Path(__file__).resolve().parent / "templates" / "gradescope"
SETTINGS = "grader-settings.sh"
EXECUTABLES = ("setup.sh", "run_autograder")  # at the zip's root, as Gradescope requires
KIT_MODULE = "grader/engine.py"  # what tells the kit's wheel from others
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the same inputs make the same zip, byte for byte
# not worth copying to build a wheel from a checkout (node_modules: hundreds of MiB)
BUILD_IGNORED = (".*", "node_modules", "build", "dist", "*.egg-info", "__pycache__", "coverage")


@dataclass(frozen=True)
class ZipEntry:
    """One file of the zip: its path inside it, its bytes, whether it is executable."""

    name: str
    data: bytes
    executable: bool = False


@dataclass(frozen=True)
class AutograderInputs:
    """What goes into the zip, read from disk: ``release`` and ``wheels`` map file names
    (relative to the release folder; wheel file names) to their bytes."""

    assignment: str
    release: Mapping[str, bytes]
    wheels: Mapping[str, bytes]
    templates: Mapping[str, bytes]


def settings_script(assignment: str, grade_options: Sequence[str]) -> str:
    """``grader-settings.sh``, sourced by ``run_autograder`` (every value shell-quoted)."""
    options = " ".join(shlex.quote(option) for option in grade_options)
    return (
        "# written by `grader gradescope build`: what run_autograder grades, and how\n"
        f"GRADER_ASSIGNMENT={shlex.quote(assignment)}\n"
        f"GRADER_OPTIONS=({options})\n"
    )


def plan_autograder(inputs: AutograderInputs, grade_options: Sequence[str] = ()) -> list[ZipEntry]:
    """The zip's entries, in their order: the scripts at the root (executable), the
    settings, the wheels, then the release under ``release/<assignment>/``."""
    missing = [name for name in EXECUTABLES if name not in inputs.templates]
    if missing:
        raise GraderError(f"the Gradescope templates lack {', '.join(missing)} (broken install?)")
    if not inputs.wheels:
        raise UsageError("no wheel to ship: the autograder needs the kit's wheel")
    if not inputs.release:
        raise UsageError(f"the release of {inputs.assignment} is empty")
    entries = [ZipEntry(name, inputs.templates[name], executable=True) for name in EXECUTABLES]
    settings = settings_script(inputs.assignment, grade_options)
    entries.append(ZipEntry(SETTINGS, settings.encode("utf-8")))
    entries += [ZipEntry(f"wheels/{name}", data) for name, data in sorted(inputs.wheels.items())]
    entries += [
        ZipEntry(f"release/{inputs.assignment}/{name}", data)
        for name, data in sorted(inputs.release.items())
    ]
    return entries


def write_zip(entries: Sequence[ZipEntry], target: Path) -> Path:
    """Write ``entries`` as a zip at ``target`` (replaced whole, never half-written),
    with Unix modes (executables 0755) and a fixed date."""
    with atomic.open_write(Path(target)) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entry in entries:
                info = zipfile.ZipInfo(entry.name, date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix: unzip and Gradescope honour the mode below
                mode = 0o755 if entry.executable else 0o644
                info.external_attr = (0o100000 | mode) << 16
                archive.writestr(info, entry.data)
    return Path(target)


def read_templates(folder: Path = TEMPLATES) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in EXECUTABLES if (folder / name).is_file()}


def check_wheels(wheels: Sequence[Path]) -> None:
    """Each ``--wheel`` a readable wheel, and one of them the kit's: else one line."""
    holds_kit = False
    for wheel in wheels:
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise UsageError(f"--wheel {wheel} is not a wheel file (*.whl)")
        try:
            with zipfile.ZipFile(wheel) as archive:
                holds_kit = holds_kit or KIT_MODULE in archive.namelist()
        except zipfile.BadZipFile:
            raise UsageError(f"--wheel {wheel} is not a wheel (not a zip file)") from None
    if not holds_kit:
        raise UsageError(
            "none of the --wheel files is the grader kit's (nb-autograder, holding "
            f"{KIT_MODULE}); add its wheel, or leave --wheel out to build it from this checkout"
        )


def read_inputs(assignment: str, release_dir: Path, wheels: Sequence[Path]) -> AutograderInputs:
    """The release folder (caches left out), the wheels and the templates, as bytes."""
    release = atomic.read_tree(release_dir)
    return AutograderInputs(
        assignment=assignment,
        release=release,
        wheels={wheel.name: wheel.read_bytes() for wheel in wheels},
        templates=read_templates(),
    )


def build_kit_wheel(checkout: Path, out_dir: Path) -> Path:
    """The kit's wheel, built from a copy of ``checkout`` (so that the build's
    ``build/`` and ``*.egg-info`` stay out of it) with this Python's pip, offline."""
    if not (checkout / "pyproject.toml").is_file() or not (checkout / KIT_MODULE).is_file():
        raise UsageError(
            f"no checkout of the grader kit at {checkout} to build its wheel from "
            "(installed from a wheel?): pass --wheel PATH (the kit's .whl)"
        )
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as scratch:
        source = Path(scratch) / "source"
        shutil.copytree(checkout, source, ignore=shutil.ignore_patterns(*BUILD_IGNORED))
        built = Path(scratch) / "wheels"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        done = subprocess.run(
            command + ["-q", "-w", str(built), str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        found = sorted(built.glob("*.whl"))
        if done.returncode != 0 or len(found) != 1:
            why = (done.stderr.strip().splitlines() or ["no wheel written"])[-1]
            raise GraderError(f"building the kit's wheel from {checkout} failed: {why}")
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(found[0], out_dir / found[0].name))


def build_autograder(
    assignment: str,
    release_dir: Path,
    wheels: Sequence[Path],
    target: Path,
    grade_options: Sequence[str] = (),
) -> list[ZipEntry]:
    """Read, plan and write the zip at ``target``; its entries."""
    check_wheels(wheels)
    entries = plan_autograder(read_inputs(assignment, release_dir, wheels), grade_options)
    write_zip(entries, target)
    return entries
