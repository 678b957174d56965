"""What grading one notebook costs, assignment by assignment, side by side in one run.

    python bench/bench_assignments.py -n 200          # every assignment with a release

For each assignment: N copies of its solved notebook (each with a line naming its
student, so no two files are the same), graded by ``grader grade`` (a fresh process per
submission, default jobs and limits), timed twice (best of two). Prints seconds per
notebook and each assignment's cost relative to the first one, ``dnn_step_by_step``:
the follow-up assignment trains models, and its grading may cost at most three times
the first's (the issue's bound), its notebook's long training cells included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = "dnn_step_by_step"
BOUND = 3.0


def write_batch(folder: Path, solved: Path, n: int) -> None:
    notebook = json.loads(solved.read_text(encoding="utf-8"))
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    original = "".join(cell["source"])
    folder.mkdir(parents=True)
    for number in range(n):
        cell["source"] = f"# student {number:05d}\n" + original
        (folder / f"student{number:05d}.ipynb").write_text(json.dumps(notebook))


def grade(folder: Path, release: Path, out: Path, jobs: int) -> tuple[float, dict]:
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--release",
        str(release),
        "-q",
        "--fresh",
    ]
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"failed ({run.returncode}): {' '.join(command)}\n{run.stderr}")
    return wall, json.loads((out / "grades.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="notebooks per assignment")
    parser.add_argument("--jobs", type=int, default=0, help="grader grade --jobs")
    parser.add_argument("--assignments", nargs="*", default=None)
    args = parser.parse_args()
    names = args.assignments or sorted(
        p.name for p in (REPO / "solutions").iterdir() if (REPO / "release" / p.name).is_dir()
    )
    names.sort(key=lambda name: name != BASELINE)
    print(
        f"machine: {os.cpu_count()} cores, {platform.system()}, Python "
        f"{platform.python_version()}; N={args.n} per assignment, jobs={args.jobs or 'auto'}"
    )
    per_notebook = {}
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        for name in names:
            solved = next((REPO / "solutions" / name).glob("*.ipynb"))
            batch = Path(tmp, name)
            write_batch(batch, solved, args.n)
            walls = []
            for attempt in range(2):
                wall, grades = grade(
                    batch, REPO / "release" / name, Path(tmp, f"out-{name}-{attempt}"), args.jobs
                )
                walls.append(wall)
            full = sum(s["score"] == s["max_score"] for s in grades["submissions"])
            skipped = grades["submissions"][0].get("skipped_cells", [])
            per_notebook[name] = min(walls) / args.n
            print(
                f"{name}: {min(walls):.2f} s for {args.n} notebooks (runs: "
                + ", ".join(f"{w:.2f}" for w in walls)
                + f"), {per_notebook[name] * 1000:.1f}"
                f" ms per notebook; full marks {full}/{args.n}; demonstration cells not "
                f"run: {len(skipped)}"
            )
    base = per_notebook.get(BASELINE)
    if base:
        for name, cost in per_notebook.items():
            if name != BASELINE:
                ratio = cost / base
                print(
                    f"{name} / {BASELINE}: {ratio:.2f}x per notebook (bound {BOUND:g}x: "
                    f"{'within' if ratio <= BOUND else 'OVER'})"
                )


if __name__ == "__main__":
    main()
