"""Helpers of the browser tests: a course folder as a student and an instructor see it,
``jupyter lab`` on a free loopback port with a token, and Debian's chromium.

The lab runs in a subprocess with its own settings, workspaces and runtime folders, so
that nothing of the user's JupyterLab (open tabs, news pop-ups) changes what the browser
sees; it is stopped with its whole process group (kernels included).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
ASSIGNMENT = "dnn_step_by_step"
NOTEBOOK = "Building_your_Deep_Neural_Network_Step_by_Step.ipynb"
BROKEN = "linear_forward"  # the one exercise the student's notebook gets wrong
STUDENT = "alice"
# the dashboard's batch: a few of the kit's demo submissions (every one grades in seconds)
BATCH = (
    "alice_correct.ipynb",
    "mistake_linear_forward.ipynb",
    "mistake_compute_cost.ipynb",
    "grace_deleted_compute_cost.ipynb",
    "erin_crash.ipynb",
)
SUBMISSIONS = "submissions"  # folder of BATCH, relative to the course root
LAB_START_TIMEOUT = 120.0
# the student panel's and the dashboard's npm names (the DOM contract of issue 16)
STUDENT_EXTENSION = "nb-grader-student"
DASHBOARD_EXTENSION = "nb-grader-dashboard"
# variables of the student's server extension: never inherited from the test run
SERVICE_VARIABLES = ("GRADER_SERVICE_URL", "GRADER_TOKEN", "JUPYTERHUB_API_TOKEN")


def require_chromium() -> None:
    """Fail (not skip: CI must run these) in one line when the browser is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"browser tests need {CHROMIUM}: apt-get install -y chromium (see .ci/run)",
            pytrace=False,
        )


def require_labextensions(*names: str) -> None:
    """Fail in one line when a labextension of the project is not installed."""
    from jupyter_core.paths import jupyter_path

    folders = [Path(folder) for folder in jupyter_path("labextensions")]
    missing = [
        name for name in names if not any((f / name / "package.json").is_file() for f in folders)
    ]
    if missing:
        pytest.fail(
            f"labextension(s) {', '.join(missing)} not installed: "
            "pip install -e . and pip install ./student (see .ci/run)",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_course(root: Path) -> Path:
    """A course folder: release/, solutions/ and source_notebooks/ of the assignment
    (the instructor's side), the student's copy of the release in
    ``alice/<assignment>/`` with one exercise broken, and a folder of submissions."""
    from grader.assignments import get_kit

    root.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for tree in ("release", "solutions", "source_notebooks"):
        shutil.copytree(REPO_ROOT / tree / ASSIGNMENT, root / tree / ASSIGNMENT, ignore=ignore)
    kit = get_kit(ASSIGNMENT)
    assert kit.samples is not None
    samples = kit.samples(root / "solutions" / ASSIGNMENT, root / "release" / ASSIGNMENT)
    student = root / STUDENT / ASSIGNMENT
    shutil.copytree(root / "release" / ASSIGNMENT, student, ignore=ignore)
    (student / NOTEBOOK).write_bytes(samples[f"mistake_{BROKEN}.ipynb"])
    batch = root / SUBMISSIONS
    batch.mkdir()
    for name in BATCH:
        (batch / name).write_bytes(samples[name])
    return root


def exercise_names() -> list[str]:
    """The assignment's exercises, in the notebook's order."""
    from grader.assignments import get_kit

    return list(get_kit(ASSIGNMENT).exercises)


@dataclass
class Lab:
    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tree_url(self, relative: str) -> str:
        """The lab opened on ``relative`` (a file under the root), token included."""
        return f"{self.url}/lab/tree/{quote(relative)}?token={self.token}"

    def lab_url(self) -> str:
        """The lab with a fresh layout (the launcher), whatever an earlier test opened."""
        return f"{self.url}/lab?reset&token={self.token}"

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-size:]

    def stop(self) -> None:
        """SIGTERM to the lab (it shuts its kernels down), then SIGKILL to its whole
        process group: nothing it started outlives the tests."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(15)


def _lab_settings(state: Path) -> None:
    """No news and no update check (a pop-up would cover what the tests click), and
    nbgrader's own lab extension off (a dependency of the kit: its sidebar and menu
    would crowd the screenshots)."""
    notification = (
        state
        / "settings"
        / "@jupyterlab"
        / "apputils-extension"
        / "notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    page_config = state / "config" / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True, exist_ok=True)
    page_config.write_text(json.dumps({"disabledExtensions": {"@jupyter/nbgrader": True}}))


def start_lab(root: Path, state: Path, env: Mapping[str, str] | None = None) -> Lab:
    """``jupyter lab`` serving ``root``; ``state`` holds its own settings, workspaces,
    runtime files and log; ``env``: more variables (the grading service's)."""
    state.mkdir(parents=True, exist_ok=True)
    _lab_settings(state)
    port, token = free_port(), f"e2e-{os.getpid()}-{time.monotonic_ns()}"
    environment = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    environment.update(
        JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTER_CONFIG_DIR=str(state / "config"),
        PYTHONUNBUFFERED="1",
    )
    environment.update(env or {})
    log = state / "lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",  # ServerApp.token: deprecated alias
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
    ]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=root,
            env=environment,
            start_new_session=True,
        )
    return Lab(process, port, token, root, log)


def wait_for_lab(lab: Lab, timeout: float = LAB_START_TIMEOUT) -> None:
    """Until the lab answers an authenticated API request (or fail with its log)."""
    deadline = time.monotonic() + timeout
    status = f"{lab.url}/api/status"
    while True:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited ({lab.process.returncode}):\n{lab.log_tail()}")
        request = urllib.request.Request(status, headers={"Authorization": f"token {lab.token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            lab.stop()
            raise RuntimeError(f"jupyter lab did not answer in {timeout:.0f} s:\n{lab.log_tail()}")
        time.sleep(0.3)
