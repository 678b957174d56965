"""Reading and writing notebooks with nbformat, with one-line errors.

Every notebook the kit touches goes through here: old formats are upgraded to
v4, anything that is not a notebook becomes :class:`NotebookReadError`, and
writing is canonical (same notebook, same bytes).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.errors import NotebookReadError
from grader.terminal import printable

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024


def parse_notebook(data: bytes, name: str = "<notebook>", *, outputs: bool = True) -> NotebookNode:
    """Decode ``data`` as a notebook (nbformat 3 or 4), upgraded to v4 and validated.

    ``outputs=False`` drops saved outputs before converting and validating: grading
    never looks at them, and with plots they are most of the bytes to walk."""
    name = printable(name)
    text, raw = _decode(data, name)
    return _parsed(text, raw, name, outputs)


def submission_notebook(data: bytes, name: str = "<notebook>") -> dict:
    """What grading reads of a submission: the notebook as plain JSON data, v4, validated
    by nbformat, every cell's source one string, saved outputs dropped.

    A current-format notebook (v4.5, what Jupyter writes today) is validated as decoded,
    without building nbformat's attribute-access copy of it: the same checks as
    :func:`parse_notebook` for a third less of the grader's work per submission. Older
    formats take :func:`parse_notebook`'s upgrade path. Whatever the bytes, the only
    errors are :class:`NotebookReadError` (one line) and ``MemoryError`` (the machine's)."""
    name = printable(name)
    try:
        return _submission_notebook(data, name)
    except (NotebookReadError, MemoryError):
        raise
    except Exception as exc:  # an odd document no check here foresaw: still the file's doing
        raise NotebookReadError(
            f"{name}: not a valid notebook ({type(exc).__name__}: {_first_line(exc)})"
        ) from None


def _submission_notebook(data: bytes, name: str) -> dict:
    text, raw = _decode(data, name)
    if raw.get("nbformat") != 4 or raw.get("nbformat_minor") != nbformat.v4.nbformat_minor:
        return _parsed(text, raw, name, outputs=False)
    try:
        _drop_outputs(raw)
        _strip_transient(raw)  # as nbformat's reader does before validating
        nbformat.validate(raw)
    except Exception as exc:
        raise NotebookReadError(f"{name}: not a valid notebook ({_first_line(exc)})") from None
    for cell in raw["cells"]:  # valid: each a dict, each source a string or list of them
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return raw


def _decode(data: bytes, name: str) -> tuple[str, dict]:
    """The JSON document in ``data``, a dict naming a format nbformat can read; every way
    a file can fail here (and the submission's bytes are anyone's) is one line."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookReadError(f"{name}: file is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8-sig")  # a BOM is harmless; Windows editors add one
    except UnicodeDecodeError as exc:
        raise NotebookReadError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookReadError(
            f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise NotebookReadError(f"{name}: JSON nested too deeply") from None
    except ValueError:  # Python's int-string conversion limit: the only other one json has
        raise NotebookReadError(
            f"{name}: not valid JSON (a number of more than {sys.get_int_max_str_digits()} digits)"
        ) from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise NotebookReadError(f"{name}: JSON but not a notebook (no 'nbformat' field)")
    version, minor = raw["nbformat"], raw.get("nbformat_minor", 0)
    if type(version) is not int or not 1 <= version <= nbformat.current_nbformat:
        # (True would be read as version 1, 4.0 fail inside nbformat with no message)
        raise NotebookReadError(
            f"{name}: not a valid notebook (unsupported nbformat version {_short(repr(version))})"
        )
    if type(minor) is not int or minor < 0:
        raise NotebookReadError(
            f"{name}: not a valid notebook (nbformat_minor "
            f"{_short(repr(minor))} is not a whole number)"
        )
    if _LONE_SURROGATE.search(text) and not _encodable(raw):
        # "\ud800" alone decodes to a str that cannot be written as UTF-8: every report,
        # feedback page and journal line quoting it would fail; Jupyter never writes one
        raise NotebookReadError(
            f"{name}: not valid Unicode (a lone surrogate escape such as \\ud800)"
        )
    return text, raw


# a \uD800-\uDFFF escape: most are halves of a pair (an emoji written by an ASCII-only
# writer), decoded into one character; only when one is there is the document walked
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
ERROR_CHARS = 160  # of a reason taken from an exception, which may quote a whole cell


def _encodable(raw) -> bool:
    """Whether every string of the decoded document (keys too) is valid Unicode; an
    explicit stack, since the document may nest as deeply as json allows."""
    pending = [raw]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True


def _short(text: str) -> str:
    text = printable(text)  # file names and messages may quote a student's bytes
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _first_line(exc: Exception) -> str:
    """An exception's message, cut to one short printable line. nbformat's validation
    error for a value that fits none of the schemas quotes the value (a whole cell): that
    one names where it is instead."""
    if getattr(exc, "validator", None) in ("oneOf", "anyOf") and isinstance(
        getattr(exc, "instance", None), (dict, list)
    ):
        where = "/".join(str(part) for part in getattr(exc, "absolute_path", ()))
        return _short(f"{where or 'the notebook'} is not valid under any of the given schemas")
    text = str(exc).strip()
    return _short(text.splitlines()[0]) if text else type(exc).__name__


def _strip_transient(raw: dict) -> None:
    """What nbformat's reader drops before validating: dropped here too, for its verdict."""
    metadata = raw.get("metadata")
    if isinstance(metadata, dict):
        for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
            metadata.pop(key, None)
    cells = raw.get("cells")
    for cell in cells if isinstance(cells, list) else ():
        if isinstance(cell, dict) and isinstance(cell.get("metadata"), dict):
            cell["metadata"].pop("trusted", None)


def _parsed(text: str, raw: dict, name: str, outputs: bool) -> NotebookNode:
    try:
        if not outputs:
            _drop_outputs(raw)
        if raw.get("nbformat") == 4:
            # reuse the parsed JSON: nbformat's own v4 reader steps, without a second parse
            # (its from_dict builds new dicts and lists throughout: ``raw`` is left as it was,
            # for _stable_ids, without a deep copy of its own)
            notebook = nbformat.convert(nbformat.v4.nbjson.JSONReader().to_notebook(raw), 4)
        else:
            notebook = nbformat.reads(text, as_version=4)
        if not outputs:
            _drop_outputs(notebook)  # v3 keeps them in worksheets: gone only once upgraded
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several types for bad documents
        raise NotebookReadError(f"{name}: not a valid notebook ({_first_line(exc)})") from None
    _stable_ids(raw, notebook)
    return notebook


def _drop_outputs(notebook: dict) -> None:
    cells = notebook.get("cells")
    for cell in cells if isinstance(cells, list) else ():
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None


def _stable_ids(raw: dict, notebook: NotebookNode) -> None:
    """Replace the random ids nbformat gives cells that had none by positional ones.

    Otherwise an old notebook would parse differently every time, and generated
    files from it could never be byte-identical.
    """
    raw_cells = raw.get("cells") if raw.get("nbformat") == 4 else None
    taken = {cell.get("id") for cell in raw_cells or [] if isinstance(cell, dict)}
    for index, cell in enumerate(notebook.cells):
        had_id = (
            raw_cells is not None
            and index < len(raw_cells)
            and isinstance(raw_cells[index], dict)
            and "id" in raw_cells[index]
        )
        if not had_id:
            candidate, suffix = f"cell-{index}", 0
            while candidate in taken:
                suffix += 1
                candidate = f"cell-{index}-{suffix}"
            cell["id"] = candidate
            taken.add(candidate)


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
