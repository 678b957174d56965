"""Reading and writing notebooks with nbformat, with one-line errors.

Every notebook the kit touches goes through here: old formats are upgraded to
v4, anything that is not a notebook becomes :class:`NotebookReadError`, and
writing is canonical (same notebook, same bytes).
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.errors import NotebookReadError

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024


def parse_notebook(data: bytes, name: str = "<notebook>") -> NotebookNode:
    """Decode ``data`` as a notebook (nbformat 3 or 4), upgraded to v4 and validated."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookReadError(f"{name}: file is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookReadError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookReadError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                                f"column {exc.colno})") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise NotebookReadError(f"{name}: JSON but not a notebook (no 'nbformat' field)")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several types for bad documents
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookReadError(f"{name}: not a valid notebook ({message})") from None
    return notebook


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook file; a missing or unreadable file is a NotebookReadError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotebookReadError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_notebook(data, str(path))


def notebook_bytes(notebook: NotebookNode) -> bytes:
    """Canonical serialization: nbformat's own writer, UTF-8, trailing newline."""
    return (nbformat.writes(notebook) + "\n").encode("utf-8")
