"""Benchmark ``grader grade`` on N synthetic submissions, and ``nbgrader autograde`` on a subset.

    python bench/bench_grade.py -n 1000              # default jobs, limits and isolation
    python bench/bench_grade.py -n 10000 --nbgrader 0

The batch is a realistic mix built from the solved notebook
(grader.assignments.dnn_step_by_step.samples): mostly correct, ~8% with one broken
exercise (a typical mistake, a crash or a deleted function), and a few infinite
loops (one per 300 submissions; they loop in the notebook's own demo cell, which
keeps --timeout, or with --hidden-loops only on the hidden checks' inputs, which
have the relative bound). Every notebook's graded cells carry a line naming its
student, so no two submissions are the same file and graded cells differ between
students as real ones do.

Prints the batch, the exact command, wall time, submissions per second, seconds
per submission, the peak memory of the whole process tree (RSS summed over the
grader and every process it started, and PSS, which counts shared pages once),
the fixed cost of a run (one submission) and, when nbgrader is installed,
``nbgrader autograde`` of the first K notebooks of the same batch (no infinite
loops: nbgrader would wait 30 s per cell) against ``grader grade`` of those K.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "dnn_step_by_step"
BROKEN_SHARE = 0.08
HANG_EVERY = 300
# loops on every input but the notebook's example (3 examples): its demo cell returns
HIDDEN_HANG = (
    "compute_cost",
    """
def compute_cost(AL, Y):
    m = Y.shape[1]
    while m != 3:                                 # never terminates on hidden inputs
        pass
    return np.squeeze((-1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))
""",
)


# --- the batch ---------------------------------------------------------------------------


def templates(solutions: Path, release: Path) -> dict[str, dict]:
    """Kind of submission -> notebook as plain JSON data."""
    from grader.assignments.dnn_step_by_step.samples import (
        CRASH,
        HANG,
        MISTAKES,
        NOTEBOOK,
        with_function,
        without_function,
    )
    from grader.grading.notebooks import notebook_bytes, read_notebook

    solved = read_notebook(solutions / NOTEBOOK)
    kinds = {
        "correct": solved,
        "crash": with_function(solved, *CRASH),
        "missing_compute_cost": without_function(solved, "compute_cost"),
        "hang": with_function(solved, *HANG),
        "hang_hidden": with_function(solved, *HIDDEN_HANG),
    }
    kinds.update(
        {
            f"mistake_{name}": with_function(solved, name, source)
            for name, source in MISTAKES.items()
        }
    )
    return {kind: json.loads(notebook_bytes(nb)) for kind, nb in kinds.items()}


def mix(n: int, hang_every: int = HANG_EVERY, seed: int = 0, hang: str = "hang") -> list[str]:
    """n kinds: one infinite loop (of kind ``hang``) per ``hang_every``, 8% broken
    (cycling through the mistakes), the rest correct; shuffled."""
    broken = ["crash", "missing_compute_cost"] + [f"mistake_{name}" for name in _mistakes()]
    hangs = n // hang_every if hang_every else 0
    n_broken = round(n * BROKEN_SHARE)
    kinds = [hang] * hangs + [broken[i % len(broken)] for i in range(n_broken)]
    kinds += ["correct"] * (n - len(kinds))
    random.Random(seed).shuffle(kinds)
    return kinds


def _mistakes() -> list[str]:
    from grader.assignments.dnn_step_by_step.samples import MISTAKES

    return sorted(MISTAKES)


def personalized(notebook: dict, student: str) -> bytes:
    """The notebook with a comment naming the student in every graded cell."""
    doc = dict(notebook)
    cells = []
    for cell in notebook["cells"]:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "code" and text.startswith("# GRADED FUNCTION"):
            first, _, rest = text.partition("\n")
            cell = copy.copy(cell)
            cell["source"] = f"{first}\n# submitted by {student}\n{rest}"
        cells.append(cell)
    doc["cells"] = cells
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def write_batch(
    folder: Path,
    n: int,
    solutions: Path,
    release: Path,
    hang_every: int = HANG_EVERY,
    hang: str = "hang",
) -> list[tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    notebooks = templates(solutions, release)
    written = []
    for index, kind in enumerate(mix(n, hang_every, hang=hang)):
        path = folder / f"student{index:05d}.ipynb"
        path.write_bytes(personalized(notebooks[kind], path.stem))
        written.append((path, kind))
    return written


# --- measuring ---------------------------------------------------------------------------


class TreeMemory:
    """Samples the summed RSS and PSS of a process and all its descendants (Linux /proc),
    and the CPU each long-lived one has used (see :meth:`cpu_split`).

    RSS every ``interval``, PSS (smaps_rollup, costly: it walks page tables) every
    ``pss_every`` samples, so the sampling itself takes ~1% of a core.
    """

    def __init__(self, pid: int, interval: float = 0.1, pss_every: int = 10):
        self.pid, self.interval, self.pss_every = pid, interval, pss_every
        self.peak_rss = self.peak_pss = self.peak_root_rss = 0
        self._cpu: dict[int, tuple[int, bool, float]] = {}  # pid -> (parent, sandbox?, CPU s)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as handle:
                        todo += [int(child) for child in handle.read().split()]
            except OSError:
                continue
        return pids

    def cpu_split(self, total: float) -> dict[str, float]:
        """``total`` CPU seconds of the tree (exact, from the reaped processes' usage) split
        into the grader's parent, its workers, the sandboxes' fork servers (a sandbox
        process seen forking others) and the submissions' processes (the rest: they live
        too briefly to sample). Long-lived processes are as last sampled, so each may miss
        its final ``interval``."""
        forking = {parent for parent, sandbox, _ in self._cpu.values() if sandbox}
        split = dict.fromkeys(("parent", "workers", "fork servers"), 0.0)
        for pid, (_parent, sandbox, own) in self._cpu.items():
            role = (
                "parent"
                if pid == self.pid
                else "workers"
                if not sandbox
                else "fork servers"
                if pid in forking
                else None
            )
            if role:
                split[role] += own
        split["submissions"] = max(0.0, total - sum(split.values()))
        return split

    def _record_cpu(self, pid: int) -> None:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                sandbox = b"_sandbox_zygote" in handle.read()  # forked ones share it
            # once seen as one, always: an exiting process's command line reads empty
            sandbox = sandbox or self._cpu.get(pid, (0, False, 0.0))[1]
            own = (int(fields[11]) + int(fields[12])) / self._tick
            self._cpu[pid] = (int(fields[1]), sandbox, own)
        except (OSError, IndexError, ValueError):
            pass

    def _sample(self, pss: bool) -> None:
        rss = total_pss = 0
        for pid in self._tree():
            self._record_cpu(pid)
            try:
                with open(f"/proc/{pid}/statm") as handle:
                    own = int(handle.read().split()[1]) * self._page
                rss += own
                if pid == self.pid:
                    self.peak_root_rss = max(self.peak_root_rss, own)
                if pss:
                    with open(f"/proc/{pid}/smaps_rollup") as handle:
                        for line in handle:
                            if line.startswith("Pss:"):
                                total_pss += int(line.split()[1]) * 1024
                                break
            except (OSError, ValueError, IndexError):
                continue
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, total_pss)

    def _run(self) -> None:
        count = 0
        while not self._stop.is_set():
            self._sample(pss=count % self.pss_every == 0)
            count += 1
            self._stop.wait(self.interval)


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the whole process tree (every process is reaped)
    foreign: float  # CPU seconds the rest of the machine used meanwhile (noise)
    memory: TreeMemory
    output: str


def busy_seconds() -> float:
    """CPU seconds spent by the whole machine since boot (/proc/stat), idle excluded."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_measured(command: list[str], cwd: Path) -> Run:
    before, machine = resource.getrusage(resource.RUSAGE_CHILDREN), busy_seconds()
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    with TreeMemory(process.pid) as memory:
        output, _ = process.communicate()
    wall = time.perf_counter() - started
    after, machine = resource.getrusage(resource.RUSAGE_CHILDREN), busy_seconds() - machine
    if process.returncode != 0:
        raise SystemExit(f"command failed ({process.returncode}): {' '.join(command)}\n{output}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Run(wall, cpu, max(0.0, machine - cpu), memory, output)


def grade_command(folder: Path, out: Path, args: argparse.Namespace) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--release",
        str(args.release),
        "-q",
        "--fresh",
    ]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    if args.timeout:
        command += ["--timeout", str(args.timeout)]
    return command


def check_grades(
    out: Path, written: list[tuple[Path, str]], timeout: float
) -> tuple[Counter, int, float]:
    """Every correct notebook scored full marks, every other one less (a sanity check);
    how many time limits the batch waited out (one per exercise that timed out), and
    their seconds in all."""
    data = json.loads((out / "grades.json").read_text())
    kinds = {str(path.resolve()): kind for path, kind in written}
    outcome: Counter = Counter()
    limits, waited = 0, 0.0
    for submission in data["submissions"]:
        kind = kinds[submission["submission"]]
        full = submission["score"] == submission["max_score"]
        outcome["ok" if full == (kind == "correct") else f"unexpected {kind}"] += 1
        # a function stuck in its own demo cell is not called again: one limit per
        # exercise that timed out, whether in its cell (--timeout) or in its hidden
        # checks (the bound its message names)
        for exercise in submission["exercises"].values():
            if exercise["status"] == "timeout":
                bound = re.search(r"within ([\d.]+) s", exercise["error"] or "")
                limits += 1
                waited += float(bound.group(1)) if bound and kind == "hang_hidden" else timeout
    return outcome, limits, waited


# --- nbgrader ----------------------------------------------------------------------------


def nbgrader_course(root: Path, source: Path, release: Path) -> Path:
    """An nbgrader course folder with this assignment generated by nbgrader itself.

    Written by ``grader nbgrader init``'s function, which makes the release's generated
    files from the kit itself (``release`` is not read)."""
    from grader.errors import GraderError
    from grader.integrations.nbgrader_course import write_course

    course = root / "nbgrader-course"
    try:
        write_course(course, source.parent, [source.name])
    except GraderError as exc:
        raise RuntimeError(f"nbgrader course: {exc}") from None
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


def _nbgrader(course: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"nbgrader {args[0]} failed: {' | '.join(tail)}")
    return time.perf_counter() - started


def nbgrader_autograde(course: Path, notebooks: list[Path], notebook_name: str) -> float:
    for path in notebooks:
        target = course / "submitted" / path.stem / ASSIGNMENT / notebook_name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return _nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force")


def nbgrader_scores(course: Path) -> list[float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return [
            gradebook.find_submission(ASSIGNMENT, student.id).score
            for student in gradebook.students
        ]


# --- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="submissions (default 1000)")
    parser.add_argument("--jobs", type=int, default=0, help="grader --jobs (default: cores)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=0,
        help="grader --timeout (default: the grader's own, 10 s)",
    )
    parser.add_argument(
        "--hang-every",
        type=int,
        default=HANG_EVERY,
        metavar="K",
        help=f"one infinite loop per K submissions (default {HANG_EVERY}; 0: none)",
    )
    parser.add_argument(
        "--hidden-loops",
        action="store_true",
        help="the infinite loops spin on the hidden checks' inputs only (the "
        "notebook's demo cell returns): they cost the relative bound",
    )
    parser.add_argument(
        "--nbgrader",
        type=int,
        default=20,
        metavar="K",
        help="also autograde the first K notebooks with nbgrader (0: skip)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the batch and outputs here (default: a temporary folder, removed at the end)",
    )
    parser.add_argument("--release", type=Path, default=REPO / "release" / ASSIGNMENT)
    parser.add_argument("--solutions", type=Path, default=REPO / "solutions" / ASSIGNMENT)
    parser.add_argument("--source", type=Path, default=REPO / "source_notebooks" / ASSIGNMENT)
    args = parser.parse_args(argv)
    if args.workdir is None:
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as folder:
            return bench(args, Path(folder))
    return bench(args, args.workdir)


def bench(args: argparse.Namespace, workdir: Path) -> None:
    import numpy

    from grader.assignments.dnn_step_by_step.samples import NOTEBOOK
    from grader.grading.options import default_jobs
    from grader.sandbox.server import Limits

    jobs = args.jobs or default_jobs()
    timeout = args.timeout or Limits().call_timeout
    started = time.perf_counter()
    written = write_batch(
        workdir / "submissions",
        args.n,
        args.solutions,
        args.release,
        args.hang_every,
        "hang_hidden" if args.hidden_loops else "hang",
    )
    kinds = Counter(kind for _, kind in written)
    hangs, correct = kinds["hang"] + kinds["hang_hidden"], kinds["correct"]
    print(
        f"machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}"
    )
    print(
        f"batch: N={args.n} ({correct} correct, {args.n - correct - hangs} with one broken "
        f"exercise, {hangs} infinite loops{' in hidden checks' if args.hidden_loops else ''})"
        f" written in {time.perf_counter() - started:.1f} s "
        f"to {workdir / 'submissions'}"
    )

    command = grade_command(workdir / "submissions", workdir / "out", args)
    print(f"command: {' '.join(command)}")
    run = run_measured(command, REPO)
    wall, (outcome, limits, waited) = run.wall, check_grades(workdir / "out", written, timeout)
    print(
        f"grader: {wall:.1f} s for {args.n} submissions: {args.n / wall:.1f} submissions/s, "
        f"{wall / args.n:.4f} s/submission (jobs={jobs}, timeout={timeout:g} s)"
    )
    print(
        f"peak memory (process tree): RSS {run.memory.peak_rss / 2**20:.0f} MiB, "
        f"PSS {run.memory.peak_pss / 2**20:.0f} MiB; the grader's own process alone: "
        f"RSS {run.memory.peak_root_rss / 2**20:.0f} MiB"
    )
    print(
        f"cpu (process tree): {run.cpu:.1f} s, {run.cpu / args.n:.4f} s/submission; "
        f"other processes meanwhile: {run.foreign:.1f} cpu s "
        f"({run.foreign / (wall * (os.cpu_count() or 1)):.0%} of the machine)"
    )
    split = run.memory.cpu_split(run.cpu)
    print(
        "cpu per submission by process: "
        + ", ".join(f"{role} {1000 * seconds / args.n:.1f} ms" for role, seconds in split.items())
        + " (submissions' processes: the rest of the tree's CPU, infinite loops included)"
    )
    if limits:
        # the limits counted from grades.json: cells and hidden checks that ran out of time
        waiting = waited / jobs
        print(
            f"excluding the timeouts' own waiting ({limits} limits, {waited:g} s in all, "
            f"waited out by {hangs} submissions / {jobs} jobs = {waiting:.0f} s): "
            f"{(args.n - hangs) / (wall - waiting):.1f} submissions/s"
        )
    print(f"check: {dict(outcome)}")
    if args.n >= 50:
        single = [written[next(i for i, (_, k) in enumerate(written) if k == "correct")]]
        (workdir / "one").mkdir(exist_ok=True)
        shutil.copyfile(single[0][0], workdir / "one" / single[0][0].name)
        fixed = run_measured(grade_command(workdir / "one", workdir / "out-one", args), REPO).wall
        print(
            f"cost model: {fixed:.1f} s fixed (a run of one submission), then "
            f"{(wall - fixed) / (args.n - 1):.4f} s per further submission"
        )

    if args.nbgrader:
        subset = [path for path, kind in written if not kind.startswith("hang")][: args.nbgrader]
        try:
            course = nbgrader_course(workdir, args.source, args.release)
            nb_wall = nbgrader_autograde(course, subset, NOTEBOOK)
            scores = nbgrader_scores(course)
        except (ImportError, RuntimeError, OSError) as exc:
            print(f"nbgrader: not measured: {exc}")
            return
        (workdir / "subset").mkdir(exist_ok=True)
        for path in subset:
            shutil.copyfile(path, workdir / "subset" / path.name)
        ours = run_measured(
            grade_command(workdir / "subset", workdir / "out-subset", args), REPO
        ).wall
        k = len(subset)
        print(
            f"nbgrader autograde: {nb_wall:.1f} s for the first {k} notebooks (no infinite "
            f"loops; mean score {sum(scores) / len(scores):.1f}): "
            f"{nb_wall / k:.3f} s/notebook"
        )
        print(
            f"grader grade on the same {k}: {ours:.1f} s: {ours / k:.3f} s/notebook "
            f"-> {nb_wall / ours:.1f}x faster than nbgrader on the same notebooks"
        )
        print(
            f"per notebook at N={args.n}: nbgrader {nb_wall / k:.3f} s vs grader "
            f"{wall / args.n:.4f} s -> {(nb_wall / k) / (wall / args.n):.0f}x faster"
        )


if __name__ == "__main__":
    main()
