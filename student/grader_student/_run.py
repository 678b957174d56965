"""The child process of a local check: runs a plan of notebook cells, reports as JSON.

Run as ``python .../grader_student/_run.py PLAN RESULT`` in the notebook's folder. PLAN is
JSON ``{"cells": [{"label", "role", "exercise", "source"}, ...]}``; after every cell,
RESULT is replaced (atomically) by ``{"done", "running", "cells": [{"label", "role",
"exercise", "ok", "error", "output"}]}`` so the parent still knows how far it got when
it has to stop this process at the time limit. Standard library only: it runs in the
student's own Python, with whatever the notebook imports.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
from typing import Any

OUTPUT_TAIL = 4000  # characters of a cell's printed output kept for the report


class _Tail(io.TextIOBase):
    """A text stream that keeps only the last ``OUTPUT_TAIL`` characters written
    (a cell that prints forever must not fill the memory before the time limit)."""

    def __init__(self) -> None:
        self.text = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text = (self.text + text)[-OUTPUT_TAIL:]
        return len(text)


def _error_line(error: BaseException) -> str:
    """The exception's last line, as a traceback would end: 'AssertionError: ...'."""
    lines = traceback.format_exception_only(type(error), error)
    return lines[-1].strip() if lines else type(error).__name__


def _write(path: str, report: dict[str, Any]) -> None:
    temporary = f"{path}.part"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(report, file)
    os.replace(temporary, path)


def run(plan: dict[str, Any], result_path: str) -> dict[str, Any]:
    """Execute the plan's cells in one namespace, in order, recording each outcome."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    report: dict[str, Any] = {"done": False, "running": None, "cells": []}
    for cell in plan["cells"]:
        report["running"] = cell["label"]
        _write(result_path, report)
        output = _Tail()
        error = None
        try:
            code = compile(cell["source"], f"<{cell['label']}>", "exec")
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                exec(code, namespace)
        except KeyboardInterrupt:
            raise
        except BaseException as caught:  # SystemExit too: a cell may call sys.exit()
            error = _error_line(caught)
        report["cells"].append(
            {
                "label": cell["label"],
                "role": cell["role"],
                "exercise": cell.get("exercise"),
                "ok": error is None,
                "error": error,
                "output": output.text,
            }
        )
    report["done"], report["running"] = True, None
    _write(result_path, report)
    return report


def main(argv: list[str]) -> int:
    plan_path, result_path = argv
    with open(plan_path, encoding="utf-8") as file:
        plan = json.load(file)
    # the notebook's folder first, as in a kernel, instead of this script's folder
    sys.path[0] = os.getcwd()
    run(plan, result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
