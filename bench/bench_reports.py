"""Peak memory of ``write_reports`` for a synthetic batch of N graded submissions.

    python bench/bench_reports.py                # N = 10000, the current write_reports
    python bench/bench_reports.py --before       # the pre-streaming logic, copied below
    python bench/bench_reports.py --compare      # both, each in its own process; same bytes?

At N = 10 000 grading itself stays flat; the peak of ``grader grade`` used to be
writing the reports, which built every report (and every feedback page) in memory
first. This measures that step alone, in a process that holds only the batch.

The batch is shaped like a real run: 10 exercises of 6-8 checks, ~10% of the
submissions with one failing exercise (messages of a few hundred characters, some
with a traceback), a few unreadable notebooks, and identical ExerciseResult objects
shared between submissions as ``grader.grading.batch._share`` does.

Prints the RSS once the batch is built, the peak RSS (``ru_maxrss``) after writing,
their difference, the wall time of the write and, with ``--tracemalloc``, the peak
of Python allocations during the write alone (slower).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.results import BatchResult, CheckResult, Environment, ExerciseResult, SubmissionResult  # noqa: E402

EXERCISES = (
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
)
FAILING_SHARE = 0.10
UNREADABLE_EVERY = 300
TRACEBACK = (
    'Traceback (most recent call last):\n  File "<cell 7>", line 12, in {name}\n'
    "    Z = np.dot(W, A_prev) + b\nValueError: shapes (4,3) and (5,2) not aligned: "
    "3 (dim 1) != 5 (dim 0)\n"
)


def _checks(
    exercise: int, failing: int | None = None, message: str = ""
) -> tuple[CheckResult, ...]:
    count = 6 + exercise % 3
    return tuple(
        CheckResult(
            f"case {i + 1}: shape and values", i != failing, message if i == failing else ""
        )
        for i in range(count)
    )


def _failing_variants(index: int, name: str) -> list[ExerciseResult]:
    """Typical wrong results of one exercise: wrong values, a crash, a timeout."""
    wrong = (
        f"{name}: output 'A' has wrong values (max abs diff 0.4172, rtol 1e-05)\n"
        "expected [[ 0.96890023  0.11013289]\n [ 0.01029704  0.47316312]]\n"
        "got      [[ 0.58175436  0.10231212]\n [-0.20331302  0.88312343]]\n"
        "hint: check the activation applied after the linear step\n"
    )
    return [
        ExerciseResult(name, 1.0, 4.0, "failed", _checks(index, 2, wrong)),
        ExerciseResult(
            name,
            0.0,
            4.0,
            "error",
            _checks(index, 0, "raised ValueError"),
            error=TRACEBACK.format(name=name),
        ),
        ExerciseResult(
            name,
            0.0,
            4.0,
            "timeout",
            _checks(index, 0, "timed out after 10 s"),
            error="timed out after 10 s: the call did not return",
        ),
    ]


def synthetic_batch(n: int, seed: int = 0) -> BatchResult:
    rng = random.Random(seed)
    correct = tuple(
        ExerciseResult(name, 4.0, 4.0, "passed", _checks(i)) for i, name in enumerate(EXERCISES)
    )
    variants = [_failing_variants(i, name) for i, name in enumerate(EXERCISES)]
    submissions = []
    for index in range(n):
        student = f"student{index:05d}"
        path = f"submissions/{student}/Building_your_Deep_Neural_Network_Step_by_Step.ipynb"
        digest = f"{rng.getrandbits(256):064x}"
        if index % UNREADABLE_EVERY == UNREADABLE_EVERY - 1:
            submissions.append(
                SubmissionResult(
                    student,
                    path,
                    0.0,
                    40.0,
                    "unreadable",
                    error="not a notebook: Expecting value: line 1",
                    content_hash=digest,
                )
            )
            continue
        exercises, cell_errors = correct, ()
        if rng.random() < FAILING_SHARE:
            which = rng.randrange(len(EXERCISES))
            bad = rng.choice(variants[which])
            exercises = correct[:which] + (bad,) + correct[which + 1 :]
            if bad.status == "error":
                cell_errors = (f"cell 7: ValueError: shapes not aligned ({student})",)
        score = sum(e.score for e in exercises)
        submissions.append(
            SubmissionResult(
                student,
                path,
                score,
                40.0,
                "graded",
                exercises=exercises,
                content_hash=digest,
                cell_errors=cell_errors,
                tampered=False,
            )
        )
    env = Environment(
        "0.1.0",
        sys.version.split()[0],
        "2.4.6",
        "openblas",
        {"call_timeout": 10.0, "memory_bytes": 2 << 30},
        True,
        "namespaces",
    )
    return BatchResult("dnn_step_by_step", 40.0, env, tuple(submissions))


def junit_xml_before(batch: BatchResult) -> str:
    """``junit_xml`` as it was before streaming: the whole tree, then one string."""
    import xml.etree.ElementTree as ET

    from grader.reports._common import clean_text
    from grader.reports.junit import _suite

    root = ET.Element("testsuites", name=clean_text(batch.assignment))
    suites = [_suite(s) for s in batch.submissions]
    root.extend(suites)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(suite.get(key)) for suite in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_reports_before(batch: BatchResult, out_dir: Path, title: str) -> list[Path]:
    """``write_reports`` as it was before streaming: every file built in memory, then written."""
    from grader import atomic
    from grader.reports import (
        _encode,
        feedback_file_stems,
        feedback_html,
        feedback_markdown,
        grades_csv,
    )
    from grader.results import batch_to_dict

    files = {
        out_dir / "grades.csv": _encode(grades_csv(batch)),
        out_dir / "grades.json": _encode(json.dumps(batch_to_dict(batch), indent=2) + "\n"),
        out_dir / "junit.xml": _encode(junit_xml_before(batch)),
    }
    for submission, stem in zip(batch.submissions, feedback_file_stems(batch.submissions)):
        files[out_dir / "feedback" / f"{stem}.html"] = _encode(feedback_html(submission, title))
        files[out_dir / "feedback" / f"{stem}.md"] = _encode(feedback_markdown(submission, title))
    for path, data in files.items():
        atomic.write_bytes(path, data)
    return list(files)


def _mib(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def measure(n: int, before: bool, out: Path, trace: bool) -> dict:
    from grader.reports import write_reports

    batch = synthetic_batch(n)
    rss_batch = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    write = write_reports_before if before else write_reports
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    paths = write(batch, out, "Building your Deep Neural Network: Step by Step")
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(p.stat().st_size for p in paths)
    return {
        "impl": "before" if before else "after",
        "n": n,
        "files": len(paths),
        "bytes_written_mib": size / 2**20,
        "rss_batch_mib": _mib(rss_batch),
        "rss_peak_mib": _mib(rss_peak),
        "write_delta_mib": _mib(rss_peak - rss_batch),
        "write_s": seconds,
        "tracemalloc_peak_mib": traced / 2**20 if traced is not None else None,
    }


def show(result: dict) -> None:
    line = (
        f"{result['impl']:>6}: N={result['n']}  {result['files']} files "
        f"({result['bytes_written_mib']:.1f} MiB)  RSS with batch {result['rss_batch_mib']:.0f} MiB"
        f"  peak RSS {result['rss_peak_mib']:.0f} MiB  (write +{result['write_delta_mib']:.0f} MiB)"
        f"  write {result['write_s']:.1f} s"
    )
    if result["tracemalloc_peak_mib"] is not None:
        line += f"  tracemalloc peak of the write {result['tracemalloc_peak_mib']:.1f} MiB"
    print(line, flush=True)


def compare(n: int, trace: bool) -> int:
    """Both implementations, each in a fresh process (ru_maxrss is per process), then
    every file of one run compared byte for byte with the other's."""
    with tempfile.TemporaryDirectory() as tmp:
        outs = {}
        for impl in ("before", "after"):
            outs[impl] = Path(tmp) / impl
            command = [sys.executable, __file__, "-n", str(n), "--out", str(outs[impl]), "--json"]
            command += ["--before"] if impl == "before" else []
            command += ["--tracemalloc"] if trace else []
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            show(json.loads(done.stdout))
        names = sorted(
            p.relative_to(outs["before"]) for p in outs["before"].rglob("*") if p.is_file()
        )
        same = names == sorted(
            p.relative_to(outs["after"]) for p in outs["after"].rglob("*") if p.is_file()
        )
        differ = [
            str(name)
            for name in names
            if not filecmp.cmp(outs["before"] / name, outs["after"] / name, shallow=False)
        ]
        print(f"same file names: {same}; files that differ: {len(differ)} {differ[:5]}")
        return 0 if same and not differ else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10000, help="submissions (default 10000)")
    parser.add_argument("--before", action="store_true", help="measure the pre-streaming logic")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="measure both in separate processes and compare their files",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations during the write (slower)",
    )
    parser.add_argument("--out", type=Path, help="report folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare:
        return compare(args.n, args.tracemalloc)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.n, args.before, args.out or Path(tmp), args.tracemalloc)
    print(json.dumps(result)) if args.json else show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
