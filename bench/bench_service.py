"""The grading service under load, and `grader grade` on the same notebooks, in one run.

    python bench/bench_service.py                    # 50 students, 30 s per phase
    python bench/bench_service.py --students 50 --seconds 60 --jobs 2

Starts ``grader serve`` on a free loopback port (a fresh database, one token per
student), then N students submit solved notebooks (each with a line naming its student)
to ``/submissions`` concurrently, back to back, for a while: each waits for its answer,
then sends again (``--think`` seconds later). Phase 1 has only those students; phase 2
adds one who submits a notebook that loops forever, again and again. For each phase:
requests per second, and p50 / p95 latency of the correct notebooks. Then the same
number of notebooks is graded by ``grader grade`` (same jobs), and the service's
throughput is printed as a share of it. Targets on a 2-core machine: at least 70% of
``grader grade``'s throughput; p95 under 2 s with 50 students, also beside the loop.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "dnn_step_by_step"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def notebooks(students: int) -> tuple[list[bytes], bytes]:
    """One solved notebook per student (a comment line tells them apart), and a loop."""
    sys.path.insert(0, str(REPO))
    from grader.assignments.dnn_step_by_step.samples import sample_batch

    batch = sample_batch(REPO / "solutions" / ASSIGNMENT, REPO / "release" / ASSIGNMENT)
    solved = json.loads(batch["alice_correct.ipynb"])
    cell = next(c for c in solved["cells"] if c["cell_type"] == "code")
    original = "".join(cell["source"])
    own = []
    for number in range(students):
        cell["source"] = f"# student {number:05d}\n" + original
        own.append(json.dumps(solved).encode())
    return own, batch["dave_infinite_loop.ipynb"]


def start_service(work: Path, students: int, jobs: int) -> tuple[subprocess.Popen, int]:
    tokens = work / "tokens.csv"
    rows = ["token,user,role"] + [f"t{n},student{n:05d},student" for n in range(students + 1)]
    tokens.write_text("\n".join(rows + ["ti,teacher,instructor"]) + "\n")
    port = free_port()
    command = [
        sys.executable, "-m", "grader", "serve", "--release-root", str(REPO / "release"),
        "--tokens", str(tokens), "--db", str(work / "grader.sqlite"), "--port", str(port),
        "--max-queue", "100000",
    ]  # fmt: skip
    if jobs:
        command += ["--jobs", str(jobs)]
    log = open(work / "service.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(command, stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service stopped: {(work / 'service.log').read_text()[-2000:]}")
        try:
            if request(port, "GET", "/api/v1/assignments", "ti")[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the service did not answer within 120 s")


def request(
    port: int, method: str, path: str, token: str, body: bytes | None = None, connection=None
) -> tuple[int, bytes]:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        if own:
            connection.close()


def student(port, token, notebook, until, think, latencies, failures):
    path = f"/api/v1/assignments/{ASSIGNMENT}/submissions"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            status, _ = request(port, "POST", path, token, notebook, connection)
        except OSError as exc:
            failures.append(str(exc))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            continue
        if status == 200:
            latencies.append(time.monotonic() - started)
        else:
            failures.append(str(status))
        if think:
            time.sleep(think)
    connection.close()


def phase(port: int, own: list[bytes], hang: bytes | None, seconds: float, think: float) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    looped: list[float] = []
    started = time.monotonic()
    until = started + seconds
    threads = [
        threading.Thread(
            target=student, args=(port, f"t{n}", data, until, think, latencies, failures)
        )
        for n, data in enumerate(own)
    ]
    if hang is not None:  # the last token is the looping student's
        args = (port, f"t{len(own)}", hang, until, 0.0, looped, failures)
        threads.append(threading.Thread(target=student, args=args))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started  # the last answers come after `until`
    ordered = sorted(latencies)
    return {
        "answered": len(latencies),
        "per_second": len(latencies) / wall,
        "p50": statistics.median(ordered) if ordered else float("nan"),
        "p95": ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan"),
        "max": ordered[-1] if ordered else float("nan"),
        "failures": len(failures),
        "loops_answered": len(looped),
    }


def grade_batch(work: Path, own: list[bytes], count: int, jobs: int) -> float:
    folder = work / "batch"
    folder.mkdir()
    for number in range(count):
        (folder / f"s{number:05d}.ipynb").write_bytes(own[number % len(own)])
    command = [
        sys.executable, "-m", "grader", "grade", str(folder), "--release",
        str(REPO / "release" / ASSIGNMENT), "--out", str(work / "out"), "-q", "--fresh",
    ]  # fmt: skip
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    return count / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase (default 30)")
    parser.add_argument("--think", type=float, default=0.0, help="seconds between a student's")
    parser.add_argument("--jobs", type=int, default=0, help="service and grade (default: cores)")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {args.students} students")
    own, hang = notebooks(args.students)
    with tempfile.TemporaryDirectory(prefix="bench-service-") as name:
        work = Path(name)
        process, port = start_service(work, args.students, args.jobs)
        try:
            phase(port, own[:4], None, 3.0, 0.0)  # warm up
            alone = phase(port, own, None, args.seconds, args.think)
            beside = phase(port, own, hang, args.seconds, args.think)
        finally:
            process.terminate()
            process.wait(30)
        batch = max(200, min(1000, alone["answered"]))
        graded = grade_batch(work, own, batch, args.jobs)
    for title, figures in (("students only", alone), ("beside a looping student", beside)):
        print(
            f"{title}: {figures['answered']} answered, {figures['per_second']:.1f} req/s, "
            f"p50 {figures['p50']:.2f} s, p95 {figures['p95']:.2f} s, max {figures['max']:.2f} s, "
            f"{figures['failures']} failed" + (
                f", loops answered {figures['loops_answered']}" if title != "students only" else ""
            )
        )  # fmt: skip
    print(f"grader grade, {batch} of the same notebooks: {graded:.1f} notebooks/s")
    print(f"service / grader grade throughput: {alone['per_second'] / graded:.0%} (target 70%)")


if __name__ == "__main__":
    main()
