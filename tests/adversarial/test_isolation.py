"""What a submission's process can see and do, probed from inside the namespace sandbox.

Each test runs code in a session the way a notebook cell would and asserts on what
came back. They need the namespace sandbox and are skipped where it is not available
(the rlimits fallback is covered by test_fallback.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.assignments.dnn_step_by_step.samples import NOTEBOOK
from grader.sandbox.server import Limits, Sandbox

from .adversarial_support import LIMITS, processes_of_uids_from, processes_with
from .attack_notebooks import ATTACK_UID_FLOOR, REPO

HIDDEN_BY_PARAMETER = "/usr/share/doc"  # visible by default, hidden when passed in `hide`


@pytest.fixture(scope="module")
def box(strong):
    if not strong:
        pytest.skip("needs the namespace sandbox (not available here)")
    with Sandbox(LIMITS, preload=("numpy",), hide=[HIDDEN_BY_PARAMETER]) as sandbox:
        yield sandbox


def run(
    sandbox: Sandbox,
    source: str,
    *args,
    helper_dir=None,
    timeout: float | None = None,
    limits: Limits | None = None,
):
    """Define ``probe`` from ``source`` in a fresh session and return what it returns."""
    with sandbox.open([source], helper_dir, limits=limits) as session:
        assert session.cell_results[0].status == "ok", session.cell_results[0]
        result = session.call("probe", args, timeout=timeout)
    assert result.status == "ok", result.error
    return result.value


WALK = """
import os
def probe(names, fragments):
    found, seen = [], 0
    for folder, dirs, files in os.walk("/"):
        if folder in ("/proc", "/sys", "/dev"):
            dirs[:] = []
            continue
        seen += len(files)
        for name in dirs + files:
            path = os.path.join(folder, name)
            if name in names or any(fragment in path for fragment in fragments):
                found.append(path)
    return seen, found
"""


def test_the_file_system_holds_nothing_of_the_grader(box):
    """An exhaustive search by name: the kit (reference, cases), course folders, notebooks.

    (site-packages still names the installed distribution and, for an editable install,
    the path of the package: that path is empty here.)"""
    names = ["source_notebooks", NOTEBOOK, "grades.json", "nb_autograder.egg-info"]
    fragments = ["/grader/assignments", "dnn_step_by_step", str(REPO / "solutions"), "pytest-of-"]
    seen, found = run(box, WALK, names, fragments, timeout=30.0)
    assert seen > 10_000  # the walk really went through the installation
    assert found == []


PEEK = """
import os
def probe(paths):
    listing = {}
    for path in paths:
        try:
            listing[path] = sorted(os.listdir(path))
        except OSError as exc:
            listing[path] = type(exc).__name__
    return listing
"""


def test_grader_folders_are_empty_and_hide_adds_more(box):
    folders = [
        str(REPO),
        str(REPO / "grader"),
        str(Path.home()),
        tempfile.gettempdir(),
        "/var/tmp",
        "/dev/shm",
        "/run",
        "/home",
        HIDDEN_BY_PARAMETER,
    ]
    listing = run(box, PEEK, folders)
    assert os.listdir(HIDDEN_BY_PARAMETER)  # not empty for the grader
    prefixes = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}

    def leads_to_python(folder: str, entry: str) -> bool:
        # the way to the Python installation (a virtualenv may live in /tmp or $HOME)
        return any(prefix.is_relative_to(Path(folder) / entry) for prefix in prefixes)

    for folder in folders:
        visible = listing[folder]
        if visible == "FileNotFoundError":
            continue
        allowed = [".grader"] if folder == tempfile.gettempdir() else []  # the sandbox's own
        unexpected = [e for e in visible if e not in allowed and not leads_to_python(folder, e)]
        assert unexpected == [], (folder, visible)
        if folder == tempfile.gettempdir():
            assert ".grader" in visible


IDENTITY = """
import os
def probe():
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[int(fd)] = os.readlink(f"/proc/self/fd/{fd}").split(":")[0]
        except OSError:
            pass  # the descriptor listdir itself used
    return (os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), os.getppid(),
            status["NoNewPrivs"].strip(), status["CapEff"].strip(), status["CapPrm"].strip(),
            sorted(fds.items()), sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            os.getpid())  # (descriptors as pairs: the wire carries dicts with string keys only)
"""


def test_identity_privileges_and_descriptors(box):
    with box.open([IDENTITY]) as first, box.open([IDENTITY]) as second:
        one, two = first.call("probe").value, second.call("probe").value
    uid, euid, gid, groups, parent, no_new_privs, effective, permitted, fds, pids, me = one
    assert uid == euid == gid and uid >= ATTACK_UID_FLOOR and groups == []
    assert two[0] >= ATTACK_UID_FLOOR and two[0] != uid  # a uid per submission
    assert parent == 1 and no_new_privs == "1" and int(effective, 16) == int(permitted, 16) == 0
    assert dict(fds) == {0: "/dev/null", 1: "/dev/null", 2: "/dev/null", 3: "socket"}
    assert set(pids) <= {1, me, two[-1]}  # the zygote, the two submissions: nothing else


ENVIRONMENT = """
import os
def probe(marker):
    try:
        own = open("/proc/self/environ", "rb").read()
    except OSError as exc:
        own = type(exc).__name__.encode()
    try:
        zygote = open("/proc/1/environ", "rb").read()
    except OSError as exc:
        zygote = type(exc).__name__.encode()
    return sorted(os.environ), marker.encode() in own, zygote.decode(errors="replace")
"""


def test_no_variable_of_the_grader_reaches_the_child(box, monkeypatch):
    marker = f"secret-{time.monotonic_ns()}"
    monkeypatch.setenv("GRADER_TEST_SECRET", marker)
    with Sandbox(LIMITS, preload=("numpy",)) as fresh:  # started with the secret set
        names, leaked, zygote = run(fresh, ENVIRONMENT, marker)
    expected = {
        "HOME",
        "MPLBACKEND",
        "MKL_NUM_THREADS",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "PATH",
        "TMPDIR",
    }
    expected |= {name for name in ("LANG", "LC_ALL") if name in os.environ}
    assert names == sorted(expected)
    assert not leaked and zygote == "PermissionError"


WRITE = """
import os
def probe(paths):
    outcome = {}
    for path in paths:
        try:
            with open(os.path.join(path, "written-by-a-submission"), "w") as handle:
                handle.write("x")
            outcome[path] = "written"
        except OSError as exc:
            outcome[path] = type(exc).__name__
    return outcome
"""


def test_only_the_scratch_folder_is_writable(box, tmp_path):
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "mine.py").write_text("VALUE = 1\n")
    cells = [
        WRITE,
        "import mine\nHELPERS = os.path.dirname(mine.__file__)",
        "def helpers():\n    return HELPERS",
    ]
    with box.open(cells, helpers) as session:
        copy = session.call("helpers").value
        targets = [
            "/",
            "/etc",
            "/usr",
            "/var",
            tempfile.gettempdir(),
            "/tmp/.grader",
            "/tmp/.grader/scratch",
            copy,
            "/dev/shm",
            "/var/tmp",
            str(Path.home()),
            str(REPO),
            "/proc/self",
            sys.prefix,
            ".",
        ]
        outcome = session.call("probe", (targets,)).value
    assert [path for path, result in outcome.items() if result == "written"] == ["."], outcome
    assert not (helpers / "written-by-a-submission").exists()


SYSV = """
import ctypes
def probe(key):
    libc = ctypes.CDLL(None, use_errno=True)
    segment = libc.shmget(key, 1 << 20, 0o1000 | 0o666)   # IPC_CREAT: it outlives its process
    return segment, open("/proc/sysvipc/shm").read().count("\\n")
"""


def test_shared_memory_segments_stay_with_their_submission(box):
    """Each child has an IPC namespace of its own: a segment (which outlives the process
    that made it) is neither the machine's nor the next submission's to see."""
    key = 0x47524144  # "GRAD"
    segment, lines = run(box, SYSV, key)
    assert segment >= 0 and lines == 2  # the header and its own segment: none of the machine's
    host = Path("/proc/sysvipc/shm").read_text().split("\n")[1:]
    assert not [line for line in host if line.split()[:1] == [str(key)]]
    assert run(box, SYSV, key + 1)[1] == 2  # not 3: the first one's segment went with it


def test_dev_holds_only_harmless_devices(box):
    listing = run(box, PEEK, ["/dev"])["/dev"]
    assert listing == sorted(
        ["full", "null", "random", "urandom", "zero", "shm", "fd", "stdin", "stdout", "stderr"]
    )


NETWORK = """
import socket
def probe():
    outcome = []
    for address in (("127.0.0.1", 9), ("1.1.1.1", 53)):
        try:
            socket.create_connection(address, timeout=1).close()
            outcome.append("connected")
        except OSError as exc:
            outcome.append(type(exc).__name__)
    return socket.if_nameindex(), outcome
"""


def test_there_is_no_network(box):
    interfaces, outcome = run(box, NETWORK)
    assert [name for _, name in interfaces] == ["lo"]
    assert "connected" not in outcome


FORK = """
import os, time
def probe():
    children, error = [], ""
    while len(children) < 200:
        try:
            pid = os.fork()
        except OSError as exc:
            error = type(exc).__name__
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children.append(pid)
    return len(children), error
"""


def test_processes_per_submission_are_limited(box):
    started, error = run(box, FORK, limits=Limits(processes=8, call_timeout=5.0))
    assert started == 7 and error == "BlockingIOError"  # 8 with the submission itself


FILL = """
def probe():
    written = 0
    try:
        for number in range(1000):
            with open(f"part{number}", "wb") as handle:
                handle.write(b"x" * (1 << 20))
            written += 1 << 20
    except OSError as exc:
        return written, exc.errno
    return written, 0
"""


def test_scratch_space_is_limited(box):
    written, errno = run(box, FILL, limits=Limits(scratch_bytes=8 << 20, call_timeout=5.0))
    assert written <= 8 << 20 and errno == 28  # ENOSPC


def test_sessions_cannot_reach_each_other(box):
    cells = [
        "import os\nopen('mine.txt', 'w').write('private')",
        "def probe(path):\n    try:\n        return sorted(os.listdir(path))\n"
        "    except OSError as exc:\n        return type(exc).__name__",
        "def here():\n    return os.getcwd()",
    ]
    with box.open(cells) as first, box.open(cells) as second:
        assert second.call("probe", (first.call("here").value,)).value == "PermissionError"
        assert second.call("probe", ("/tmp/.grader/scratch",)).value == "PermissionError"


def test_helpers_in_a_private_folder_are_readable_and_fresh(box, tmp_path):
    helpers = tmp_path / "private" / "helpers"  # tmp_path is 0700: no other user may enter
    helpers.mkdir(parents=True)
    (helpers / "mine.py").write_text("VALUE = 1\n")
    source = "import mine\ndef probe():\n    return mine.VALUE, mine.__file__"
    first = run(box, source, helper_dir=helpers)
    assert first[0] == 1 and first[1].startswith("/tmp/.grader/helpers/")
    (helpers / "mine.py").write_text("VALUE = 2  # changed between sessions\n")
    assert run(box, source, helper_dir=helpers)[0] == 2


DAEMONS = """
import os, signal, subprocess, time
def probe(marker):
    for target in (1, -1):  # the zygote, every process of this uid: nothing happens
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    subprocess.Popen(["sleep", "600"], env={"MARK": marker}, start_new_session=True)
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve("/bin/sh", ["sh", "-c", "trap '' TERM HUP; sleep 601"], {"MARK": marker})
        os._exit(0)
    os.waitpid(middle, 0)
    return os.getuid()
"""


def test_nothing_is_left_when_a_session_or_the_sandbox_closes(strong):
    if not strong:
        pytest.skip("needs the namespace sandbox (not available here)")
    marker = f"leftover-{time.monotonic_ns()}"
    sandbox = Sandbox(LIMITS, preload=("numpy",))
    first, second = sandbox.open([DAEMONS]), sandbox.open([DAEMONS])
    assert first.call("probe", (marker,)).status == "ok"
    assert second.call("probe", (f"{marker}-second",)).status == "ok"
    deadline = time.monotonic() + 20  # polled: only a failure waits it out
    while len(processes_with(marker)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with(marker)) >= 4  # both sessions' daemons run
    first.close()  # returns at once; the zygote kills the session's processes right after
    deadline = time.monotonic() + 10
    while set(processes_with(marker)) - set(processes_with(f"{marker}-second")):
        assert time.monotonic() < deadline, "the first session's processes outlived it"
        time.sleep(0.02)
    assert processes_with(f"{marker}-second")
    uids = ATTACK_UID_FLOOR + sandbox.pid * 64  # this zygote's 64 uids
    sandbox.close()  # returns when the zygote is gone: its whole pid namespace is
    assert processes_with(marker) == [] and processes_of_uids_from(uids, uids + 64) == []
