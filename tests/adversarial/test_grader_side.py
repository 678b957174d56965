"""What the grader does in its own process with what a submission sends stays bounded.

The sandbox confines the student's process, but the grader decodes that process's
frames, keeps its texts and answers its dependency callbacks with the reference, in
its own process. Each attack here aims at one of those: a frame that is slow to decode,
texts of megabytes (the child's own caps patched out, since it runs in the student's
process), and a callback whose arguments make the reference allocate gigabytes. Each
notebook is graded with an honest one by the real command in a process of its own, so
that its time, peak memory and reports are its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader.assignments import get_kit
from grader.assignments.dnn_step_by_step.samples import NOTEBOOK
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.sandbox.server import Sandbox

from .adversarial_support import LIMITS
from .attack_notebooks import RELEASE, SOLUTIONS, Attack, Paths, _cells, _replace

# each batch of two notebooks: 8-10 s on two busy cores; the decode bomb alone would
# cost ~100 s of the grader's CPU
SECONDS = 60.0
PEAK_BYTES = 1 << 30  # the largest process of the grading (workers and sandboxes alike)
REPORT_BYTES = 1 << 20  # any one report file

# --- slow to decode: ~100 000 int dict keys that all hash alike (~100 s of grader CPU) ----

DECODE_BOMB = """
def compute_cost(AL, Y):
    import json, os, time
    prime = 2 ** 61 - 1   # hash(k * prime) == 0 for every k: one long collision chain
    meta = {{"$dict": [["op", "result"], ["status", "ok"], ["output", ""], ["parts", 1]]}}
    value = {{"$dict": [[k * prime, 0] for k in range(1, 100_001)]}}
    data = b"".join(len(f).to_bytes(8, "big") + f for f in
                    (json.dumps(part, separators=(",", ":")).encode() for part in (meta, value)))
    while data:
        data = data[os.write(3, data):]
    time.sleep(60)
"""

# --- texts of megabytes: the child's caps removed from inside the student's process -------
# (each string just under wire.MAX_STRING_CHARS: a longer one makes the whole frame unreadable)

UNCAPPED = """
import sys
_child = sys._getframe(1).f_globals   # the sandbox child's own module, running this cell
_child.update(MESSAGE_CHARS=10**9, LINE_CHARS=10**9, TRACEBACK_FRAMES=10**6)
sys.stdout._size = sys.stderr._size = 10**9
raise RuntimeError("cell " + "c" * 1_000_000)
"""

HUGE_TEXTS = """
def compute_cost(AL, Y):
    print("o" * 1_000_000)
    def down(n):
        if n == 0:
            raise ValueError("m" * 1_000_000)
        return down(n - 1)  # {padding}
    return down(300)
""".replace("{padding}", "p" * 10_000)

# --- a callback that broadcasts: 3136 argument values, a 2**27-value answer (1 GiB) --------

CALLBACK_BROADCAST = """
def L_model_forward(X, parameters):
    W = np.ones((64, 32, 1, 1, 1))
    A = np.ones((1, 1, 64, 1, 1))
    b = np.ones((1, 1, 1, 32, 32))
    Z, cache = linear_forward(A, W, b)   # the grader's reference: W @ A + b
    return Z, [cache]
"""

ATTACKS = (
    Attack(
        "decode_bomb",
        "a result frame whose dict keys all hash alike",
        _replace("compute_cost", DECODE_BOMB),
        {"compute_cost": "error"},
        90,
    ),
    Attack(
        "huge_texts",
        "an error, traceback and output of megabytes each",
        _cells(UNCAPPED, exercise="compute_cost", function=HUGE_TEXTS),
        {"compute_cost": "error"},
        90,
        cell_error="RuntimeError: cell ccc",
    ),
    Attack(
        "callback_broadcast",
        "callback arguments that broadcast to a 1 GiB answer",
        _replace("L_model_forward", CALLBACK_BROADCAST),
        {"L_model_forward": "error"},
        90,
    ),
)

# runs the command as its only child, then prints the largest resident size (KiB) of any
# process of its tree that ended: the grader, its workers, the sandboxes, the submissions
PEAK = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


@pytest.fixture(scope="module")
def solved():
    return read_notebook(SOLUTIONS / NOTEBOOK)


def _grade_alone(attack: Attack, solved, root: Path) -> dict:
    folder, out = root / "submissions", root / "out"
    folder.mkdir()
    (folder / "victim_correct.ipynb").write_bytes(notebook_bytes(solved))
    paths = Paths("grader-side", folder / "victim_correct.ipynb", out, root / "sentinel")
    (folder / f"{attack.name}.ipynb").write_bytes(notebook_bytes(attack.build(solved, paths)))
    command = [
        sys.executable,
        "-c",
        PEAK,
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--release",
        str(RELEASE),
        "--timeout",
        "1.5",
        "--memory",
        "512",
        "--jobs",
        "2",
        "-q",
    ]
    started = time.monotonic()
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    grades = json.loads((out / "grades.json").read_text())
    sizes = {str(p.relative_to(out)): p.stat().st_size for p in out.rglob("*") if p.is_file()}
    return {
        "by_student": {entry["student"]: entry for entry in grades["submissions"]},
        "elapsed": elapsed,
        "peak": int(done.stdout.split()[-1]) << 10,
        "sizes": sizes,
    }


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_the_grader_stays_bounded_and_the_batch_goes_on(attack, solved, tmp_path):
    graded = _grade_alone(attack, solved, tmp_path)
    assert graded["elapsed"] < SECONDS, graded["elapsed"]
    assert graded["peak"] < PEAK_BYTES, graded["peak"]
    assert {"grades.json", "grades.csv", "junit.xml", "index.html"} <= set(graded["sizes"])
    assert max(graded["sizes"].values()) < REPORT_BYTES, graded["sizes"]
    assert graded["by_student"]["victim_correct"]["score"] == 100
    result = graded["by_student"][attack.name]
    statuses = {name: exercise["status"] for name, exercise in result["exercises"].items()}
    assert statuses == {name: attack.statuses.get(name, "passed") for name in statuses}
    assert result["score"] == attack.score
    if attack.cell_error:
        assert any(
            attack.cell_error in line and line.endswith("(cut)") for line in result["cell_errors"]
        ), [line[:200] for line in result["cell_errors"]]
    if attack.name == "huge_texts":
        error = result["exercises"]["compute_cost"]["error"]
        assert error.endswith("(cut)") and 'File "<cell' in error, error[:500]


# --- callbacks, seen from one session -----------------------------------------------------

LONG_PRODUCT = """
import numpy as np
def probe(x):
    # each argument within the check's own size (x: 1000 values), the answer 1000 x 1000
    return linear_forward(np.ones((1, 1000)), np.ones((1000, 1)), np.ones((1000, 1)))
"""

ASKS = """
import numpy as np
def probe(x):
    return linear_forward(np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 1)))[0].shape
"""


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(LIMITS, preload=("numpy",)) as box:
        yield box


def _ask(sandbox: Sandbox, source: str, callbacks: dict, *args):
    with sandbox.open([source]) as session:
        assert session.cell_results[0].status == "ok", session.cell_results[0]
        return session.call("probe", args, callbacks=callbacks, timeout=10.0)


def test_a_callback_whose_answer_exceeds_the_checks_size_is_refused_before_it_runs(sandbox):
    from grader.sandbox.messages import Callback

    kit = get_kit("dnn_step_by_step")
    ran = []

    def reference(*args):
        ran.append(args)
        return kit.reference.linear_forward(*args)

    callbacks = {"linear_forward": Callback(reference, kit.callback_contract)}
    result = _ask(sandbox, LONG_PRODUCT, callbacks, np.zeros(1000))
    assert result.status == "error" and ran == [], result.status
    assert "linear_forward refused" in result.message, result.message
    assert _ask(sandbox, ASKS, callbacks, np.zeros(3)).value == (4, 3)  # within: answered


@pytest.mark.parametrize(
    "args, refused",
    [
        ((np.ones((3, 2, 1)), np.ones((4, 3)), np.ones((4, 1))), "`A` should be a 2-D"),
        ((np.ones((3, 2)), np.ones((4, 2)), np.ones((4, 1))), "`W` should have shape"),  # A's rows
        # b not (n, 1): it would broadcast
        ((np.ones((3, 2)), np.ones((4, 3)), np.ones((1, 4))), "`b` should have shape"),
        ((np.ones((3, 2)), np.ones((4, 3)), [[1.0]] * 4), "`b` should be a 2-D"),  # not an array
    ],
)
def test_callback_arguments_outside_the_contract_are_refused(args, refused):
    kit = get_kit("dnn_step_by_step")
    with pytest.raises(ValueError, match=refused):  # refused for the argument at fault
        kit.callback_contract("linear_forward", args, {})
    assert (
        kit.callback_contract(
            "linear_forward", (np.ones((3, 2)), np.ones((4, 3)), np.ones((4, 1))), {}
        )
        == 8
    )


def test_a_callback_that_raises_fails_the_students_call_only(sandbox):
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no text either")

    def raising(*args):
        raise ValueError("x" * 100_000)

    def unprintable(*args):
        raise Unprintable()

    for function, told in ((raising, "ValueError: xxx"), (unprintable, "Unprintable")):
        result = _ask(sandbox, ASKS, {"linear_forward": function}, 1.0)
        assert result.status == "error" and told in result.message, result.message
        assert len(result.message) < 3000
