"""Executing a notebook in a fresh Jupyter kernel, the way a student's machine would.

Used to build the solved notebooks and by tests. The kernel runs in a folder that
holds only the student files, and with a shadow ``grader`` package first on its
path, so anything that tries to import the kit fails loudly.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode

from grader.errors import GenerationError

KERNEL = "python3"
_BLOCKER = (
    'raise ImportError("the grader package is not available to student notebooks: '
    'a student folder must work without it")\n'
)


def run_notebook(
    notebook: NotebookNode,
    files: Mapping[str, bytes],
    *,
    allow_errors: bool = False,
    timeout: int = 1800,  # per cell: a solved notebook may train a model for minutes
) -> NotebookNode:
    """Execute a copy of ``notebook`` in a temporary folder holding ``files``."""
    executed = copy.deepcopy(notebook)
    with tempfile.TemporaryDirectory(prefix="grader-run-") as tmp:
        work, shadow = Path(tmp, "work"), Path(tmp, "shadow", "grader")
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text(_BLOCKER)
        for relative, data in files.items():
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            (work / relative).write_bytes(data)
        env = dict(
            os.environ, PYTHONPATH=str(shadow.parent), MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1"
        )
        # IPC sockets in the private temp folder: nothing listens on the network
        manager = KernelManager(kernel_name=KERNEL, transport="ipc", ip=str(Path(tmp, "kernel")))
        client = NotebookClient(
            executed,
            km=manager,
            timeout=timeout,
            kernel_name=KERNEL,
            allow_errors=allow_errors,
            record_timing=False,
            resources={"metadata": {"path": str(work)}},
        )
        try:
            client.execute(env=env, cwd=str(work))
        except CellExecutionError as exc:
            summary = str(exc).strip().splitlines()
            raise GenerationError(
                f"{_failed_cell(executed)}: {summary[-1] if summary else exc}"
            ) from None
        finally:
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
    executed.metadata = copy.deepcopy(notebook.metadata)  # keep machine-specific info out
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    return executed


def _failed_cell(notebook: NotebookNode) -> str:
    for index, cell in enumerate(notebook.cells):
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            grade_id = (cell.metadata.get("nbgrader") or {}).get("grade_id")
            return f"cell #{index + 1}" + (f" ({grade_id})" if grade_id else "")
    return "a cell"


def merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same stream.

    The kernel flushes stdout in chunks whose boundaries vary from run to run; merged,
    the saved notebook is the same bytes every time.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged
