"""Executing a notebook in a fresh Jupyter kernel, the way a student's machine would.

Used to build the solved notebooks and by tests. The kernel runs in a folder that
holds only the student files, and with a shadow ``grader`` package first on its
path, so anything that tries to import the kit fails loudly.
"""
from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Mapping

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode

from grader.errors import GenerationError

KERNEL = "python3"
_BLOCKER = ('raise ImportError("the grader package is not available to student notebooks: '
            'a student folder must work without it")\n')


def run_notebook(notebook: NotebookNode, files: Mapping[str, bytes], *,
                 allow_errors: bool = False, timeout: int = 300) -> NotebookNode:
    """Execute a copy of ``notebook`` in a temporary folder holding ``files``."""
    executed = copy.deepcopy(notebook)
    with tempfile.TemporaryDirectory(prefix="grader-run-") as tmp:
        work, shadow = Path(tmp, "work"), Path(tmp, "shadow", "grader")
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text(_BLOCKER)
        for relative, data in files.items():
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            (work / relative).write_bytes(data)
        env = dict(os.environ, PYTHONPATH=str(shadow.parent), MPLBACKEND="Agg",
                   PYTHONDONTWRITEBYTECODE="1")
        client = NotebookClient(
            executed, timeout=timeout, kernel_name=KERNEL, allow_errors=allow_errors,
            record_timing=False, resources={"metadata": {"path": str(work)}})
        try:
            client.execute(env=env, cwd=str(work))
        except CellExecutionError as exc:
            summary = str(exc).strip().splitlines()
            raise GenerationError(f"executing the notebook failed: {summary[-1] if summary else exc}"
                                  ) from None
    executed.metadata = copy.deepcopy(notebook.metadata)  # keep machine-specific info out
    return executed
