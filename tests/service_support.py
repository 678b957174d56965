"""A real grading service for tests and benchmarks: ``grader serve`` in a subprocess on a
free loopback port (``--port 0``: the service picks one and prints it), with its own
store and tokens in a temporary folder, and a small HTTP client for it.

    with running_service(tmp_path, jobs=2) as service:
        status, body = service.post_notebook("alice", "dnn_step_by_step", data)

``start_service`` / ``Service.stop`` (SIGTERM) / ``Service.kill`` (SIGKILL) for tests
that restart a service on the same store.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
RELEASE_ROOT = REPO_ROOT / "release"
START_TIMEOUT = 180.0  # seconds: preparing every assignment on a busy 2-core machine
READY = re.compile(r"grading service on http://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)")
# user -> role: the default roster (one token per user: "token-<user>")
ROSTER = {
    "alice": "student",
    "bob": "student",
    "carol": "student",
    "dave": "student",
    "erin": "student",
    "never": "student",  # never submits: a "missing" row in grades.csv
    "prof": "instructor",
}


def token_of(user: str) -> str:
    return f"token-{user}"


def write_tokens(path: Path, roster: Mapping[str, str] = ROSTER) -> Path:
    lines = ["token,user,role", *(f"{token_of(u)},{u},{role}" for u, role in roster.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        return self.json()["error"]


@dataclass
class Service:
    process: subprocess.Popen
    host: str
    port: int
    folder: Path
    db: Path
    stderr_path: Path
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        *,
        user: str | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        chunked: bool = False,
        timeout: float = 300.0,
    ) -> Response:
        """One request on a new connection; ``path`` under /api/v1 unless it starts
        with '/'. ``user``: authenticate with that roster user's token."""
        sent = dict(headers or {})
        if token is None and user is not None:
            token = token_of(user)
        if token is not None:
            sent["Authorization"] = f"token {token}"
        target = path if path.startswith("/") else f"/api/v1/{path}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, target, body=body, headers=sent, encode_chunked=chunked)
            answer = connection.getresponse()
            return Response(
                answer.status,
                {k.lower(): v for k, v in answer.getheaders()},
                answer.read(),
            )
        finally:
            connection.close()

    def post_notebook(
        self, user: str, assignment: str, data: bytes, kind: str = "submissions", **kwargs: Any
    ) -> Response:
        """POST ``data`` to /check (``kind="check"``) or /submissions."""
        return self.request("POST", f"assignments/{assignment}/{kind}", data, user=user, **kwargs)

    def log_lines(self) -> list[str]:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def request_log(self) -> list[dict]:
        """The service's request log so far (its JSON lines on stderr)."""
        records = []
        for line in self.log_lines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    records.append(json.loads(line))
        return records

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, and wait for the graceful stop; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing of the service runs its clean-up."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_service(
    folder: Path,
    *,
    jobs: int = 2,
    args: Sequence[str] = (),
    roster: Mapping[str, str] = ROSTER,
    db: Path | None = None,
    release_root: Path = RELEASE_ROOT,
    timeout: float = START_TIMEOUT,
) -> Service:
    """``grader serve`` on a free loopback port, once it listens. ``db``: reuse a store
    (a restart); default ``folder/grader.sqlite``. ``args``: more flags."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = folder / "tokens.csv"
    if not tokens.exists():
        write_tokens(tokens, roster)
    db = db or folder / "grader.sqlite"
    stderr_path = folder / f"service-{time.monotonic_ns()}.log"
    command = [
        sys.executable,
        "-m",
        "grader",
        "serve",
        "--release-root",
        str(release_root),
        "--tokens",
        str(tokens),
        "--db",
        str(db),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--jobs",
        str(jobs),
        *args,
    ]
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=folder,
            env=_environment(),
            start_new_session=True,  # a Ctrl-C of the test run is not sent to it twice
        )
    assert process.stdout is not None
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:  # the one stdout line, then drain (a full pipe would block it)
        assert process.stdout is not None
        for raw in process.stdout:
            lines.append(raw.decode("utf-8", "replace"))
            if READY.search(lines[-1]):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            process.wait(30)
            log = stderr_path.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(
                f"grader serve did not start (exit {process.returncode}):\n"
                f"{''.join(lines)}\n{log[-4000:]}"
            )
    match = next(m for m in map(READY.search, lines) if m)
    host = match.group("host").strip("[]")
    return Service(process, host, int(match.group("port")), folder, db, stderr_path, list(args))


@contextlib.contextmanager
def running_service(folder: Path, **kwargs: Any) -> Iterator[Service]:
    """:func:`start_service`, stopped (then killed if need be) at the end."""
    service = start_service(folder, **kwargs)
    try:
        yield service
    finally:
        try:
            service.stop()
        except subprocess.TimeoutExpired:
            pass


def kit_samples() -> dict[str, dict[str, bytes]]:
    """Each shipped assignment's demo batch: file name -> notebook bytes."""
    from grader.assignments import get_kit

    found = {}
    for name in ("dnn_step_by_step", "dnn_application"):
        kit = get_kit(name)
        assert kit.samples is not None
        found[name] = kit.samples(REPO_ROOT / "solutions" / name, REPO_ROOT / "release" / name)
    return found
