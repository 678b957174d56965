"""The sandbox: cells in a child process, calls with deadlines, and nothing left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import grader
from grader.sandbox.server import Limits, Sandbox, SandboxError, hidden_paths
from grader.sandbox.wire import Unsupported

LIMITS = Limits(call_timeout=1.0, cells_timeout=1.0, submission_timeout=60.0)


@pytest.fixture(scope="module", params=["auto", "rlimits"])
def sandbox(request):
    """Every test runs twice: with the default isolation (namespaces where possible) and
    with the rlimits-only fallback."""
    with Sandbox(LIMITS, mode=request.param) as shared:
        yield shared


@pytest.fixture
def helpers(tmp_path: Path) -> Path:
    folder = tmp_path / "helpers"
    folder.mkdir()
    (folder / "mymod.py").write_text(
        "from pathlib import Path\n"
        "VALUE = 42\n"
        "def data():\n"
        "    return Path(__file__).with_name('data.txt').read_text()\n"
    )
    (folder / "data.txt").write_text("stored next to the helper")
    return folder


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_cells_share_one_namespace_and_calls_return_values(sandbox):
    cells = ["import numpy as np\nscale = 3", "def f(x):\n    return scale * x, {'n': 2}"]
    with sandbox.open(cells) as session:
        assert [c.status for c in session.cell_results] == ["ok", "ok"]
        result = session.call("f", (np.arange(3),))
    assert result.status == "ok" and result.error == ""
    values, extra = result.value
    assert np.array_equal(values, [0, 3, 6]) and extra == {"n": 2}


def test_a_raising_cell_is_recorded_and_later_cells_still_run(sandbox):
    cells = [
        "x = 1",
        "def boom():\n    return undefined_name\nboom()",
        "y = x + 1",
        "def f():\n    return y",
    ]
    with sandbox.open(cells) as session:
        results = session.cell_results
        assert [c.status for c in results] == ["ok", "error", "ok", "ok"]
        failed = results[1]
        assert failed.error_type == "NameError" and "undefined_name" in failed.message
        assert [line.splitlines()[0] for line in failed.traceback] == [
            'File "<cell 2>", line 3, in <module>',
            'File "<cell 2>", line 2, in boom',
        ]
        assert session.cell_errors() == ["cell 2: NameError: name 'undefined_name' is not defined"]
        assert session.call("f").value == 2


def test_syntax_errors_and_exits_in_cells_are_recorded(sandbox):
    cells = [
        "def broken(:\n    pass",
        "import sys\nsys.exit(0)",
        "raise KeyboardInterrupt",
        "def f():\n    return 'still here'",
    ]
    with sandbox.open(cells) as session:
        assert [c.error_type for c in session.cell_results] == [
            "SyntaxError",
            "SystemExit",
            "KeyboardInterrupt",
            "",
        ]
        assert '<cell 1>", line 1' in session.cell_results[0].traceback[-1]
        assert session.call("f").value == "still here"


def test_ipython_calls_are_harmless_no_ops(sandbox):
    cells = [
        "get_ipython().run_line_magic('matplotlib', 'inline')\n"
        "get_ipython().system('touch escaped.txt')\n"
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
        "def f():\n    import os\n"
        "    return get_ipython().run_cell_magic('time', '', 'x'), sorted(os.listdir('.'))",
    ]
    with sandbox.open(cells) as session:
        assert [c.status for c in session.cell_results] == ["ok", "ok"]
        assert session.call("f").value == (None, [])


def test_missing_or_non_callable_function_is_missing(sandbox):
    with sandbox.open(["not_a_function = 3"]) as session:
        assert session.call("nowhere").status == "missing"
        assert session.call("not_a_function").status == "missing"


def test_exception_shows_only_the_students_frames(sandbox):
    cells = [
        "def inner(a):\n    raise ValueError(f'bad {a}')",
        "def outer(a):\n    return inner(a + 1)",
    ]
    with sandbox.open(cells) as session:
        result = session.call("outer", (1,))
    assert result.status == "error"
    assert result.error_type == "ValueError" and result.message == "bad 2"
    assert [line.splitlines()[0] for line in result.traceback] == [
        'File "<cell 2>", line 2, in outer',
        'File "<cell 1>", line 2, in inner',
    ]
    assert "raise ValueError(f'bad {a}')" in result.traceback[1]
    assert result.error.splitlines()[-1] == "ValueError: bad 2"
    assert "sandbox" not in result.error and "_child" not in result.error


def test_an_infinite_loop_times_out_and_the_next_call_works(sandbox):
    cells = [
        "calls = []",
        "def spin():\n    while True:\n        pass",
        "def count():\n    calls.append(1)\n    return len(calls)",
    ]
    with sandbox.open(cells) as session:
        assert session.call("count").value == 1
        first_pid = session.pid
        started = time.monotonic()
        result = session.call("spin", timeout=0.5)
        elapsed = time.monotonic() - started
        assert result.status == "timeout" and result.error == "spin did not return within 0.5 s"
        assert 0.5 <= elapsed < 10  # the call's own limit, not the session's 60 s (busy cores)
        assert gone(first_pid)
        assert session.call("count").value == 1  # a fresh process ran the cells again
        assert session.pid != first_pid


def test_a_hanging_cell_is_marked_and_skipped(sandbox):
    # all cells may take 30 s, the session 60 s: waiting either out (or running the
    # hanging cell again, which would loop until the session's time is gone) is far
    # beyond the bound below; one cell's 1 s limit takes ~1 s
    limits = Limits(call_timeout=1.0, cells_timeout=30.0, submission_timeout=60.0)
    cells = ["def f():\n    return 'f'", "while True:\n    pass", "def g():\n    return 'g'"]
    started = time.monotonic()
    with sandbox.open(cells, limits=limits) as session:
        assert time.monotonic() - started < 15  # one cell's limit (generous: busy cores)
        assert [c.status for c in session.cell_results] == ["ok", "timeout", "ok"]
        assert session.cell_errors() == [
            "cell 2: did not finish within the time limit (1 s a cell, 30 s for all cells); "
            "the grader did not run this cell again"
        ]
        assert (session.call("f").value, session.call("g").value) == ("f", "g")


def test_a_cell_that_kills_its_process_is_skipped(sandbox):
    cells = ["import os", "os._exit(3)", "def f():\n    return 'f'"]
    with sandbox.open(cells) as session:
        assert [c.status for c in session.cell_results] == ["ok", "died", "ok"]
        assert "exit status 3" in session.cell_results[1].message
        assert session.call("f").value == "f"


@pytest.mark.parametrize(
    "body, status, error_type",
    [
        ("os._exit(0)", "died", ""),
        ("sys.exit(0)", "error", "SystemExit"),
        ("raise KeyboardInterrupt", "error", "KeyboardInterrupt"),
        ("os.kill(os.getpid(), signal.SIGKILL)", "died", ""),
        ("import ctypes; ctypes.string_at(0)", "died", ""),
    ],
)
def test_leaving_the_process_is_never_a_pass(sandbox, body, status, error_type):
    cells = [
        "import os, sys, signal",
        f"def leave():\n    {body}\n    return 'passed'",
        "def f():\n    return 1",
    ]
    with sandbox.open(cells) as session:
        result = session.call("leave")
        assert (result.status, result.error_type) == (status, error_type)
        assert result.value is None and result.error
        assert session.call("f").value == 1


def test_a_huge_allocation_fails_and_the_parent_survives(sandbox):
    cells = [
        "import numpy as np",
        "def hog():\n    return np.ones(10 * 2**30 // 8).sum()",
        "def reserve():\n    return np.empty(3 << 30, dtype=np.uint8).nbytes",
        "def f():\n    return 1",
    ]
    with sandbox.open(cells) as session:
        result = session.call("hog")
        assert result.status in ("error", "died")
        if result.status == "error":
            assert result.error_type == "MemoryError"
        # untouched pages cost nothing without the address-space limit
        assert session.call("reserve").error_type == "MemoryError"
        assert session.call("f").value == 1


def test_an_output_flood_is_dropped_but_the_call_returns(sandbox):
    cells = [
        "import os, sys",
        "def flood():\n    line = 'x' * 1_000_000\n"
        "    for _ in range(200):\n        print(line)\n"
        "    os.write(1, b'y' * 10_000_000)\n    sys.stderr.write('the end')\n"
        "    return 'done'",
    ]
    with sandbox.open(cells) as session:
        result = session.call("flood", timeout=10.0)
    assert result.status == "ok" and result.value == "done"
    assert result.output.endswith("x\nthe end") and len(result.output) <= LIMITS.output_bytes


def test_a_result_over_the_message_limit_is_an_error(sandbox):
    cells = [
        "import numpy as np",
        "def big():\n    return np.zeros(10_000_000)",
        "def f():\n    return 1",
    ]
    with sandbox.open(cells, limits=Limits(message_bytes=1 << 20)) as session:
        result = session.call("big")
        assert result.status == "error" and "too large" in result.message
        assert session.call("f").value == 1


def test_garbage_on_the_grader_socket_ends_the_call(sandbox):
    cells = [
        "import os, socket",
        "def forge():\n"
        "    for fd in os.listdir('/proc/self/fd'):\n"
        "        if os.readlink(f'/proc/self/fd/{fd}').startswith('socket:'):\n"
        "            os.write(int(fd), (2**62).to_bytes(8, 'big') + b'junk')\n"
        "    return 'forged'",
        "def f():\n    return 1",
    ]
    with sandbox.open(cells) as session:
        result = session.call("forge")
        assert result.status == "died" and "over the limit" in result.error
        assert session.call("f").value == 1


def test_callbacks_run_in_the_grader_and_the_students_version_comes_back(sandbox):
    cells = [
        "def helper(x):\n    return ('student', x)",
        "def uses(x):\n    return helper(x), other(x)",
        "def has_other():\n    return 'other' in globals()",
    ]
    seen = []

    def reference_helper(x):
        seen.append(x)
        return ("grader", x)

    with sandbox.open(cells) as session:
        result = session.call(
            "uses", (5,), callbacks={"helper": reference_helper, "other": lambda x: [x] * 2}
        )
        assert result.status == "ok" and result.value == (("grader", 5), [5, 5])
        assert seen == [5]
        assert session.call("uses", (6,)).status == "error"  # `other` was the grader's only
        assert session.call("has_other").value is False
        assert session.call("helper", (7,)).value == ("student", 7)

        def failing(x):
            raise ArithmeticError("reference failed")

        result = session.call("uses", (1,), callbacks={"helper": failing, "other": failing})
        assert result.status == "error" and result.error_type == "RuntimeError"
        assert "ArithmeticError: reference failed" in result.message


def test_arguments_after_the_call_show_in_place_changes(sandbox):
    cells = [
        "def mutate(params, grads):\n    params['W1'] -= grads['dW1']\n"
        "    params['new'] = 1\n    return None"
    ]
    params, grads = {"W1": np.ones((2, 2))}, {"dW1": np.full((2, 2), 0.5)}
    with sandbox.open(cells) as session:
        result = session.call("mutate", (params, grads))
    assert result.status == "ok"
    after_params, after_grads = result.args_after
    assert np.array_equal(after_params["W1"], np.full((2, 2), 0.5)) and after_params["new"] == 1
    assert np.array_equal(after_grads["dW1"], grads["dW1"])
    assert np.array_equal(params["W1"], np.ones((2, 2))) and "new" not in params


def test_unsupported_results_are_described_not_sent(sandbox):
    cells = ["class Model:\n    pass", "def make():\n    return Model(), (lambda: 1)"]
    with sandbox.open(cells) as session:
        assert session.call("make").value == (Unsupported("Model"), Unsupported("function"))


def test_the_grader_package_cannot_be_imported(sandbox):
    cells = [
        "import grader",
        "def sneak():\n    from grader import reference\n    return 1",
        "def modules():\n    import sys\n"
        "    return sorted(m for m in sys.modules if m.split('.')[0] == 'grader')",
        "def unblocked():\n    import sys\n"
        "    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != '_Blocker']\n"
        "    import grader",
    ]
    with sandbox.open(cells) as session:
        assert session.cell_results[0].error_type == "ModuleNotFoundError"
        assert session.call("sneak").error_type == "ModuleNotFoundError"
        assert session.call("modules").value == []
        # without the first layer, the editable install's finder is gone too
        assert session.call("unblocked").error_type == "ModuleNotFoundError"


def test_cwd_is_a_fresh_empty_folder_per_session(sandbox):
    cells = [
        "import os",
        "def where():\n    return os.getcwd(), os.listdir('.')",
        "def write():\n    open('out.txt', 'w').write('x')",
    ]
    with sandbox.open(cells) as first, sandbox.open(cells) as second:
        (cwd1, listing1), (cwd2, listing2) = first.call("where").value, second.call("where").value
        assert listing1 == listing2 == [] and cwd1 != cwd2
        scratch1, scratch2 = first.scratch_dir, second.scratch_dir
        # the grader's view of the child's folder (through /proc/PID/root with namespaces)
        assert str(scratch1).endswith(cwd1) and str(scratch2).endswith(cwd2)
        first.call("write")
        assert (scratch1 / "out.txt").read_text() == "x"
        assert second.call("where").value[1] == []
    assert gone_path(scratch1) and gone_path(scratch2)


def gone_path(path: Path, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not path.exists()


def test_file_size_limit_raises_instead_of_killing(sandbox):
    cells = [
        "def write():\n    with open('big', 'wb') as f:\n        f.write(b'x' * (2 << 20))",
        "def f():\n    return 1",
    ]
    with sandbox.open(cells, limits=Limits(file_bytes=1 << 20)) as session:
        result = session.call("write")
        assert result.status == "error" and result.error_type == "OSError"
        assert session.call("f").value == 1


def test_helper_modules_aliases_and_their_data_files(sandbox, helpers):
    cells = [
        "import mymod_v2\nimport mymod\nfrom mymod_v3 import VALUE",
        "def check():\n    return mymod_v2 is mymod, VALUE, mymod.data(), mymod.__spec__.name",
    ]
    aliases = {"mymod_v2": "mymod", "mymod_v3": "mymod"}
    with sandbox.open(cells, helpers, aliases) as session:
        assert [c.status for c in session.cell_results] == ["ok", "ok"]
        assert session.call("check").value == (True, 42, "stored next to the helper", "mymod")
    with sandbox.open(cells[:1], helpers) as session:
        assert session.cell_results[0].error_type == "ModuleNotFoundError"


def test_seed_global_random(sandbox):
    cells = [
        "import numpy as np",
        "def draw():\n    return np.random.rand(3)",
        "def reseeds():\n    np.random.seed(3)\n    return np.random.rand(3)",
    ]
    with sandbox.open(cells) as session:
        one = session.call("draw", seed_global_random=1).value
        other = session.call("draw", seed_global_random=2).value
        unseeded = session.call("draw").value
        assert np.array_equal(one, np.random.RandomState(1).rand(3))
        assert np.array_equal(other, np.random.RandomState(2).rand(3))
        assert not np.array_equal(unseeded, one)
        assert np.array_equal(
            session.call("reseeds", seed_global_random=1).value,
            session.call("reseeds", seed_global_random=2).value,
        )


def test_cpu_limit_kills_a_busy_process():
    # SIGXCPU, not the call's limit, ends it: a long call limit leaves 1 s of CPU time
    # room to be used up even on busy cores (the status says which one struck)
    limits = Limits(call_timeout=30.0, cpu_seconds=1)
    with Sandbox(limits, preload=("numpy",)) as own:
        with own.open(["def spin():\n    while True:\n        pass"]) as session:
            result = session.call("spin")
    assert result.status == "died" and "SIGXCPU" in result.error


def test_the_submission_budget_bounds_everything(sandbox):
    limits = Limits(call_timeout=0.4, cells_timeout=5.0, submission_timeout=1.0)
    cells = ["def spin():\n    while True:\n        pass", "def f():\n    return 1"]
    with sandbox.open(cells, limits=limits) as session:
        statuses = [session.call("spin").status for _ in range(4)]
        late = session.call("f")
    assert statuses[:2] == ["timeout", "timeout"] and late.status == "timeout"
    # refused before any process is started for it (f itself would return at once)
    assert late.error == "the submission used up its time (1 s) before this call"


def test_sessions_in_parallel_threads(sandbox):
    results, errors = {}, []

    def work(number: int) -> None:
        try:
            with sandbox.open([f"def f(x):\n    return x + {number}"]) as session:
                results[number] = [session.call("f", (i,)).value for i in range(20)]
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == {n: [i + n for i in range(20)] for n in range(4)}


def test_closing_leaves_no_process_behind():
    cells = [
        "import os, time",
        "def escape():\n"  # a double fork with setsid leaves the process group
        "    middle = os.fork()\n"
        "    if middle == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        os._exit(0)\n"
        "    os.waitpid(middle, 0)",
        "def stay():\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\n"
        "    return os.getpid()",
    ]
    sandbox = Sandbox(LIMITS, preload=("numpy",))
    zygote = sandbox.pid
    first = sandbox.open(cells)
    second = sandbox.open(cells)
    pids = [first.pid, second.pid]
    before = set(_children_of(zygote))
    first.call("escape")
    second.call("stay")
    strays = set(_children_of(zygote)) - before  # the escaped process, reparented to the zygote
    assert strays and all(alive(pid) for pid in pids + list(strays))
    grandchildren = [pid for pid in _all_pids() if _parent(pid) == second.pid]
    assert grandchildren
    first.close()
    assert gone(pids[0]) and all(gone(pid) for pid in strays)
    assert alive(pids[1])
    sandbox.close()
    assert all(gone(pid) for pid in [zygote, pids[1], *grandchildren])
    with pytest.raises(SandboxError):
        sandbox.open(["x = 1"])


def test_an_exception_in_the_grader_still_kills_the_child(sandbox):
    with pytest.raises(RuntimeError, match="grader bug"):
        with sandbox.open(["x = 1"]) as session:
            pid = session.pid
            assert alive(pid)
            raise RuntimeError("grader bug")
    assert gone(pid)


def test_a_dead_helper_process_is_replaced():
    own = Sandbox(LIMITS, preload=("numpy",))
    try:
        session = own.open(["def f():\n    return 1"])
        first_zygote, first_child, scratch = own.pid, session.pid, session.scratch_dir
        os.kill(first_zygote, signal.SIGKILL)
        assert wait_until_dead(first_child)  # children die with their zygote
        assert session.call("f").status == "died"
        assert not scratch.exists()
        assert session.call("f").value == 1  # forked by a new helper
        assert own.pid != first_zygote
    finally:
        own.close()


def test_killing_the_grader_kills_everything(tmp_path):
    script = (
        "import os, signal, threading, time\n"
        "from grader.sandbox.server import Sandbox\n"
        "sandbox = Sandbox(preload=('numpy',))\n"
        "session = sandbox.open(['import time', 'def hang():\\n    time.sleep(100)'])\n"
        "print(sandbox.pid, session.pid, session.scratch_dir, flush=True)\n"
        "threading.Thread(target=session.call, args=('hang',)).start()\n"
        "time.sleep(0.2)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    ).stdout.split()
    zygote, child, scratch = int(output[0]), int(output[1]), Path(output[2])
    assert wait_until_dead(zygote) and wait_until_dead(child)
    assert gone_path(scratch)


def wait_until_dead(pid: int, within: float = 10.0) -> bool:
    """Not running (a zombie left for init to reap counts as dead)."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _children_of(pid: int) -> list[int]:
    return [child for child in _all_pids() if _parent(child) == pid]


def test_isolation_is_reported(sandbox):
    assert isinstance(sandbox.strong, bool)
    if sandbox.strong:
        assert sandbox.isolation.startswith("namespaces (mount, pid, network, IPC)")
    else:
        assert sandbox.isolation.startswith("rlimits only: ")


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and util-linux setpriv to take CAP_SYS_ADMIN away",
)
def test_without_the_capability_for_namespaces_it_falls_back_or_refuses(tmp_path):
    """As in a container without CAP_SYS_ADMIN: auto falls back and says why; namespaces
    (required by mode or GRADER_SANDBOX) refuses to start."""
    script = (
        "import os\n"
        "from grader.sandbox.server import Sandbox, SandboxError\n"
        "with Sandbox(preload=()) as auto:\n"
        "    print(auto.strong, auto.isolation, flush=True)\n"
        "    with auto.open(['def f():\\n    return 1']) as session:\n"
        "        print(session.call('f').value, flush=True)\n"
        "for kwargs in ({'mode': 'namespaces'}, {}):\n"
        "    os.environ['GRADER_SANDBOX'] = 'namespaces'\n"
        "    try:\n"
        "        Sandbox(preload=(), **kwargs)\n"
        "    except SandboxError as exc:\n"
        "        print('refused:', exc, flush=True)\n"
        "lazy = Sandbox(preload=(), wait=False)\n"  # refuses at its first use instead
        "for _ in range(2):\n"
        "    try:\n"
        "        lazy.isolation\n"
        "    except SandboxError as exc:\n"
        "        print('refused:', exc, flush=True)\n"
        "lazy.close()\n"
    )
    result = subprocess.run(
        ["setpriv", "--bounding-set", "-sys_admin", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    reason = "no namespaces here (unshare: Operation not permitted)"
    assert lines[0] == f"False rlimits only: {reason}"
    assert lines[1] == "1"
    assert lines[2:4] == [f"refused: the sandbox cannot isolate submissions: {reason}"] * 2
    assert lines[4:] == [
        f"refused: the sandbox cannot isolate submissions: {reason}",
        "refused: the sandbox's helper process did not start",
    ]


def test_hidden_paths_cover_the_grader_and_what_is_asked():
    paths = hidden_paths(["/srv/course/out", Path("relative-folder")])
    package = str(Path(grader.__file__).resolve().parent)
    assert {
        package,
        os.getcwd(),
        str(Path.home()),
        "/tmp",
        "/srv/course/out",
        str(Path("relative-folder").resolve()),
    } <= set(paths)
    assert "/" not in paths and len(paths) == len(set(paths))


def test_many_failing_cells_are_summarised(sandbox):
    cells = [f"raise ValueError({n})" for n in range(120)] + ["def f():\n    return 1"]
    with sandbox.open(cells) as session:
        lines = session.cell_errors()
        assert session.call("f").value == 1
    assert len(lines) == 50 and lines[0] == "cell 1: ValueError: 0"
    assert lines[-1] == "... and 71 more cells with errors"


def test_data_after_the_result_ends_the_call(sandbox):
    cells = [
        "import json, os",
        "def forge():\n"
        "    frames = [json.dumps({'$dict': [['op', 'result'], ['status', 'ok'],"
        " ['parts', 2]]}).encode(), b'1', b'{\"$tuple\":[]}']\n"
        "    result = b''.join(len(f).to_bytes(8, 'big') + f for f in frames)\n"
        "    os.write(3, result * 2)\n"
        "    return 2",
        "def f():\n    return 3",
    ]
    with sandbox.open(cells) as session:
        result = session.call("forge")
        assert result.status == "died" and result.value is None
        assert result.error == "the submission's process sent data nobody asked for"
        assert session.call("f").value == 3


def test_new_limits_have_defaults():
    limits = Limits()
    assert limits.processes == 16 and limits.scratch_bytes == 64 << 20


def test_callbacks_refuse_data_larger_than_the_checks(sandbox):
    """A callback runs in the grader: (n, 1) x (1, n) must not become an n-by-n product there."""
    cells = [
        "import numpy as np",
        "def blow_up(x):\n    return helper(np.ones((100_000, 1)), np.ones((1, 100_000)))",
        "def fair(x):\n    return helper(x.T, x)",
    ]
    calls = []

    def helper(a, b):
        calls.append(a.shape)
        return a @ b

    with sandbox.open(cells) as session:
        refused = session.call("blow_up", (np.ones((3, 2)),), callbacks={"helper": helper})
        fair = session.call("fair", (np.ones((3, 2)),), callbacks={"helper": helper})
    assert refused.status == "error" and refused.error_type == "RuntimeError"
    assert refused.message == "helper refused arguments larger than the check's own"
    assert fair.status == "ok" and np.array_equal(fair.value, np.full((2, 2), 3.0))
    assert calls == [(2, 3)]


def test_a_helper_that_cannot_start_says_why(tmp_path, monkeypatch):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'boom: no interpreter here' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    with pytest.raises(SandboxError, match="did not start: boom"):
        Sandbox(Limits(), mode="rlimits")


# ---- batches of calls: one request, results streamed back, each call with its deadline


def test_a_batch_runs_every_call_in_order_with_its_own_seed(sandbox):
    from grader.sandbox.server import CallBatch

    cells = ["import numpy as np", "def draw(n):\n    return n, float(np.random.rand())"]
    batch = CallBatch("draw", (((1,), 5), ((2,), None), ((3,), 5)))
    with sandbox.open(cells) as session:
        results = session.calls(batch)
    assert [r.status for r in results] == ["ok"] * 3
    assert [r.value[0] for r in results] == [1, 2, 3]
    assert results[0].value[1] == results[2].value[1] != results[1].value[1]
    assert [r.args_after for r in results] == [(1,), (2,), (3,)]


def test_a_batch_stops_after_a_timeout_and_the_session_goes_on(sandbox):
    from grader.sandbox.server import CallBatch

    cells = ["def f(n):\n    while n == 2:\n        pass\n    return n"]
    batch = CallBatch("f", (((1,), None), ((2,), None), ((3,), None)))
    with sandbox.open(cells) as session:
        started = time.monotonic()
        results = session.calls(batch, timeout=0.5)
        # the call's 0.5 s limit, not the session's 60 s (generous: busy cores)
        assert time.monotonic() - started < 10
        assert [r.status for r in results] == ["ok", "timeout"]  # the third was not made
        assert [r.status for r in session.calls(batch, timeout=0.5)] == ["ok", "timeout"]
        assert session.call("f", (3,)).value == 3  # a fresh child


def test_a_function_that_deletes_itself_is_missing_for_the_rest(sandbox):
    from grader.sandbox.server import CallBatch

    cells = ["def f(n):\n    global f\n    del f\n    return n"]
    with sandbox.open(cells) as session:
        results = session.calls(CallBatch("f", (((1,), None), ((2,), None), ((3,), None))))
    assert [r.status for r in results] == ["ok", "missing"]


def test_results_equal_to_the_expected_encoding_are_not_decoded(sandbox):
    from grader.sandbox import wire
    from grader.sandbox.server import CallBatch

    cells = [
        "import numpy as np",
        "def f(x):\n    return {'y': x * 2}",
        "def g(x):\n    x += 1\n    return {'y': x * 2.0}",
    ]
    x = np.arange(3.0)
    expected = [(wire.encode({"y": x * 2}), wire.encode((x,)))]
    with sandbox.open(cells) as session:
        same = session.calls(CallBatch("f", (((x,), None),)), expected=expected)[0]
        other = session.calls(CallBatch("g", (((x,), None),)), expected=expected)[0]
    assert same.value_matches and same.args_match and same.value is None
    assert not other.value_matches and not other.args_match
    assert np.array_equal(other.value["y"], (x + 1) * 2) and np.array_equal(
        other.args_after[0], x + 1
    )


def test_callback_answers_are_remembered_across_sessions(sandbox):
    from grader.sandbox.server import CallBatch

    cells = ["def f(x):\n    return helper(x) + helper(x + 1)"]
    seen = []

    def helper(x):
        seen.append(x)
        return x * 10

    batch = CallBatch("f", (((1,), None), ((2,), None)), ("helper",))
    for _ in range(3):
        with sandbox.open(cells) as session:
            assert [r.value for r in session.calls(batch, {"helper": helper})] == [30, 50]
    assert sorted(seen) == [1, 2, 3]  # each question computed once, whoever asks it
    other = lambda x: -x  # noqa: E731 - a different function under the same name
    with sandbox.open(cells) as session:
        assert session.calls(batch, {"helper": other})[0].value == -3


def test_a_batch_refuses_callbacks_it_was_not_built_for(sandbox):
    from grader.sandbox.server import CallBatch

    with sandbox.open(["def f():\n    return 1"]) as session:
        with pytest.raises(ValueError, match="are not the batch's"):
            session.calls(CallBatch("f", (((), None),)), {"helper": abs})


def test_reply_memo_stays_within_its_bytes():
    from grader.sandbox.messages import ReplyMemo

    memo = ReplyMemo(limit=1000)
    for n in range(50):
        memo.put(((), (1, 1), b"%03d" % n), b"x" * 97)
    assert memo.get(((), (1, 1), b"049")) == b"x" * 97
    assert memo.get(((), (1, 1), b"000")) is None
    assert memo._size <= 1000


def test_sealed_answers_spare_the_round_trip_and_nothing_else(sandbox):
    """An answer known in advance opens only for its exact question; others still ask."""
    from grader.sandbox import wire
    from grader.sandbox.server import CallBatch

    salt, sealed = b"s" * 16, {}
    for x in (1, 2):
        key, box = wire.seal(wire.question(salt, "helper", (x, "up")), wire.to_child(x * 100))
        sealed[key] = box
    answers = {"salt": salt, "names": {"helper": ["x", "how"]}, "sealed": sealed}
    cells = ["def f(x):\n    return helper(x, how='up') + helper(x + 1, 'up')"]
    asked = []

    def helper(x, how):
        asked.append(x)
        return -x

    batch = CallBatch("f", (((1,), None), ((2,), None)), ("helper",), answers)
    with sandbox.open(cells) as session:
        assert [r.value for r in session.calls(batch, {"helper": helper})] == [300, 197]
    assert asked == [3]  # helper(3) was not sealed: the grader answered it


def test_a_cell_stuck_in_a_function_says_which(sandbox):
    limits = Limits(call_timeout=0.5, cells_timeout=5.0, submission_timeout=30.0)
    cells = [
        "def spin(n):\n    while True:\n        n += 1",
        "spin(1)",
        "while True:\n    pass",
        "def stubborn():\n    while True:\n        try:\n            spin(0)\n"
        "        except KeyboardInterrupt:\n            pass",
        "stubborn()",
        "x = 5",
    ]
    with sandbox.open(cells, limits=limits) as session:
        results = session.cell_results
        assert session.hung == {"spin": 1}  # not the cell's own loop, nor a liar
        assert [r.status for r in results] == ["ok", "timeout", "timeout", "ok", "timeout", "ok"]
        assert all("did not finish" in results[i].message for i in (1, 2, 4))
        assert session.call("spin", (1,), timeout=0.3).status == "timeout"


def test_arguments_left_as_they_were_are_not_sent_back(sandbox):
    """The child sends the arguments only when they lost their fingerprint; the grader then
    reports them as the ones it sent, and as matching the expected encoding."""
    from grader.sandbox import wire
    from grader.sandbox.server import CallBatch

    cells = [
        "def f(x, d):\n    return x.sum()",
        "def g(x, d):\n    x[0] = 9\n    return x.sum()",
        "def h(x, d):\n    d['new'] = 1\n    return 0",
    ]
    x, d = np.arange(3.0), {"k": np.ones(2)}
    batch = {name: CallBatch(name, (((x, d), None),)) for name in "fgh"}
    expected = [(b"", wire.encode((x, d)))]
    with sandbox.open(cells) as session:
        frames = []
        original = session._read_frame
        session._read_frame = lambda deadline: frames.append(original(deadline)) or frames[-1]
        kept = session.calls(batch["f"], expected=expected)[0]
        assert len(frames) == 2  # meta data and value: no arguments
        changed = session.calls(batch["g"], expected=expected)[0]
        added = session.calls(batch["h"])[0]
        assert len(frames) == 8
        plain = session.call("f", (x, d))
    assert kept.args_match and not changed.args_match and not added.args_match
    assert np.array_equal(changed.args_after[0], [9.0, 1.0, 2.0])
    assert added.args_after[1]["new"] == 1 and "new" not in d
    assert np.array_equal(plain.args_after[0], x) and plain.args_after[0] is not x
    assert np.array_equal(x, np.arange(3.0))


def test_cells_are_compiled_once_by_the_grader_and_run_alike(sandbox):
    import marshal

    from grader.sandbox.messages import COMPILED_CHARS, compiled

    code = marshal.loads(compiled(3, "y = 1\nz = y + 1\n"))
    assert code.co_filename == "<cell 3>"
    assert compiled(0, "def f(:\n") is None and compiled(0, "x = '\0'") is None
    assert compiled(0, "x = 1\n" + "#" * COMPILED_CHARS) is None
    assert compiled(0, "1+" * 30000 + "1") is None  # too deep for the compiler: an error
    cells = [
        "assert False, 'asserts are kept'",
        "def f(:\n    pass",
        "x = 1\n" + "#" * COMPILED_CHARS + "\nraise ValueError(x)",
    ]
    with sandbox.open(cells) as session:
        results = session.cell_results
    assert results[0].error_type == "AssertionError" and results[0].message == "asserts are kept"
    assert results[1].error_type == "SyntaxError"
    assert 'File "<cell 2>", line 1' in results[1].traceback[-1]
    assert results[2].error_type == "ValueError"
    assert 'File "<cell 3>", line 3' in results[2].traceback[-1]


def test_results_that_printed_nothing_are_read_without_decoding(sandbox):
    """The child's message for a quiet result is a known constant: the grader decodes only
    the others (here, the one that printed)."""
    from grader.sandbox.server import CallBatch

    cells = ["def f(n):\n    if n == 2:\n        print('two')\n    return n"]
    with sandbox.open(cells) as session:
        decoded = []
        original = session._decode
        session._decode = lambda data: decoded.append(data) or original(data)
        results = session.calls(CallBatch("f", (((1,), None), ((2,), None), ((3,), None))))
    assert [r.value for r in results] == [1, 2, 3] and results[1].output == "two\n"
    assert len(decoded) == 1 and b"two" in decoded[0]


def test_a_sandbox_started_without_waiting_answers_at_its_first_use():
    """``wait=False`` returns while the helper still loads numpy; the first use waits for
    it, and closing one that was never used leaves no process behind."""
    with Sandbox(LIMITS) as waited:
        expected = waited.isolation, waited.strong
    lazy = Sandbox(LIMITS, wait=False)
    # returned before the helper answered: numpy and matplotlib load in the helper
    # (what that saves is a speed claim: bench/bench_grade.py's fixed cost of a run)
    assert lazy._ready is None and lazy._process.poll() is None
    with lazy:
        assert (lazy.isolation, lazy.strong) == expected and lazy.pid > 0
        with lazy.open(["def f():\n    return 7"]) as session:
            assert session.call("f").value == 7
    unused = Sandbox(LIMITS, wait=False)
    process = unused._process
    unused.close()
    assert process.poll() is not None  # stopped and reaped
