"""grader.grading.notebooks: anything that is not a notebook becomes one NotebookReadError line;
old formats are upgraded to v4; writing is canonical."""

from __future__ import annotations

import json

import nbformat
import nbformat.v3 as v3
import pytest
from support import NOTEBOOK_NAME, SOURCE_DIR

from grader.errors import GraderError, NotebookReadError
from grader.grading.notebooks import notebook_bytes, parse_notebook, read_notebook


def v4_notebook() -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title", id="title"),
            nbformat.v4.new_code_cell("print('héllo')", id="code-1"),
        ],
        metadata={"grader": {"assignment": "demo"}},
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (b'{"cells": [', "not valid JSON (Expecting value at line 1, column 12)"),
        (b"", "not valid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text (byte 0)"),
        (b"\x00\x01\x02\x03", "not valid JSON"),  # binary that happens to decode
        ('{"cells": [], "note": "caf\xe9"}'.encode("latin-1"), "not UTF-8 text (byte 26)"),
        (b"[1, 2, 3]", "JSON but not a notebook (no 'nbformat' field)"),
        (b'"a string"', "JSON but not a notebook"),
        (b'{"cells": []}', "JSON but not a notebook (no 'nbformat' field)"),
        (
            b'{"nbformat": 4, "nbformat_minor": 5, "cells": "oops", "metadata": {}}',
            "not a valid notebook",
        ),
        (
            b'{"nbformat": 99, "nbformat_minor": 0, "cells": [], "metadata": {}}',
            "not a valid notebook",
        ),
    ],
    ids=[
        "truncated-json",
        "empty",
        "png",
        "binary-ascii",
        "latin-1",
        "json-list",
        "json-string",
        "no-nbformat",
        "bad-cells",
        "future-version",
    ],
)
def test_not_a_notebook_is_one_clear_error(data, message):
    with pytest.raises(NotebookReadError) as info:
        parse_notebook(data, "sub/bad.ipynb")
    text = str(info.value)
    assert text.startswith("sub/bad.ipynb: ")
    assert message in text
    assert "\n" not in text
    assert isinstance(info.value, GraderError) and info.value.exit_code == 1


def test_nbformat_3_is_upgraded_to_v4():
    old = v3.new_notebook(
        name="old",
        worksheets=[
            v3.new_worksheet(
                cells=[
                    v3.new_heading_cell("Old title", level=1),
                    v3.new_code_cell(
                        input="x = 1\nprint(x)",
                        prompt_number=3,
                        outputs=[v3.new_output("stream", output_text="1\n")],
                    ),
                    v3.new_text_cell("markdown", source="Some *text*."),
                ]
            )
        ],
    )
    data = v3.writes_json(old).encode("utf-8")
    assert json.loads(data)["nbformat"] == 3
    notebook = parse_notebook(data, "old.ipynb")
    assert notebook.nbformat == 4
    nbformat.validate(notebook)
    assert [cell.cell_type for cell in notebook.cells] == ["markdown", "code", "markdown"]
    assert notebook.cells[0].source == "# Old title"
    assert notebook.cells[1].source == "x = 1\nprint(x)"
    assert notebook.cells[1].execution_count == 3
    assert notebook.cells[1].outputs[0]["text"] == "1\n"
    assert notebook.cells[2].source == "Some *text*."
    # the upgraded notebook serializes as a v4 document
    assert json.loads(notebook_bytes(notebook))["nbformat"] == 4


def test_valid_v4_notebook_round_trips():
    original = v4_notebook()
    data = notebook_bytes(original)
    parsed = parse_notebook(data, "ok.ipynb")
    assert parsed == original
    assert parsed.cells[1].source == "print('héllo')"
    assert parsed.metadata["grader"] == {"assignment": "demo"}


def _reverse_keys(value):
    if isinstance(value, dict):
        return {key: _reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(item) for item in value]
    return value


def test_notebook_bytes_is_stable_and_canonical():
    notebook = v4_notebook()
    first = notebook_bytes(notebook)
    assert first == notebook_bytes(notebook)
    assert first == notebook_bytes(parse_notebook(first))  # a fixed point
    assert first.endswith(b"}\n") and not first.endswith(b"\n\n")
    assert "héllo".encode() in first  # UTF-8, not \\u escapes
    # key order and indentation are nbformat's, whatever the input's layout
    shuffled = json.dumps(_reverse_keys(json.loads(first)), indent=4).encode()
    assert shuffled != first
    assert notebook_bytes(parse_notebook(shuffled)) == first
    compact = json.dumps(json.loads(first), separators=(",", ":")).encode()
    assert notebook_bytes(parse_notebook(compact)) == first


def test_the_source_notebook_is_already_canonical():
    path = SOURCE_DIR / NOTEBOOK_NAME
    assert notebook_bytes(read_notebook(path)) == path.read_bytes()


def test_read_notebook_missing_file(tmp_path):
    missing = tmp_path / "gone.ipynb"
    with pytest.raises(NotebookReadError, match=rf"^{missing}: cannot read \(No such file"):
        read_notebook(missing)


def test_read_notebook_on_a_folder(tmp_path):
    with pytest.raises(NotebookReadError, match="cannot read"):
        read_notebook(tmp_path)


def test_oversized_input_is_refused_before_decoding(monkeypatch):
    import grader.grading.notebooks as notebooks

    monkeypatch.setattr(notebooks, "MAX_NOTEBOOK_BYTES", 1024)
    with pytest.raises(NotebookReadError, match="larger than"):
        notebooks.parse_notebook(b" " * 1025 + notebook_bytes(v4_notebook()))


def test_grading_drops_saved_outputs_even_malformed_ones():
    """Outputs are never evidence: the grader does not read, convert or validate them."""
    notebook = v4_notebook()
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="x" * 1000)]
    notebook.cells[1].execution_count = 3
    data = json.loads(nbformat.writes(notebook))
    data["cells"][1]["outputs"].append({"no": "output_type"})  # invalid per the schema
    raw = json.dumps(data).encode()
    with pytest.raises(NotebookReadError, match="not a valid notebook"):
        parse_notebook(raw)
    graded = parse_notebook(raw, outputs=False)
    assert graded.cells[1].outputs == [] and graded.cells[1].execution_count is None
    assert graded.cells[1].source == "print('héllo')" and graded.cells[1].id == "code-1"
    v3_notebook = v3.new_notebook(
        worksheets=[
            v3.new_worksheet(
                cells=[
                    v3.new_code_cell(
                        input="x = 1", outputs=[v3.new_output("stream", output_text="1")]
                    )
                ]
            )
        ]
    )
    old = parse_notebook(v3.writes_json(v3_notebook).encode("utf-8"), outputs=False)
    assert old.cells[0].source == "x = 1" and old.cells[0].outputs == []


def _variants() -> list[bytes]:
    """A current-format notebook broken in every place one key can break it."""
    base = json.loads(nbformat.writes(v4_notebook()))
    base["metadata"].update(orig_nbformat=3, signature="x")
    base["cells"][1]["metadata"].update(trusted=True, nbgrader={"grade_id": "g", "locked": True})
    base["cells"][1]["source"] = ["print(1)\n", "x = 2"]
    base["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    variants = [base]
    bad_values = [None, 1, "x", [], {}, [1], {"a": 1}]
    places = (
        [(base, key) for key in base]
        + [(cell, key) for cell in base["cells"] for key in cell]
        + [(base["cells"][1]["metadata"], "nbgrader"), (base["metadata"], "orig_nbformat")]
    )
    for container, key in places:
        for value in [*bad_values, "delete"]:
            copy = json.loads(json.dumps(base))
            target = (
                copy
                if container is base
                else (
                    copy["metadata"]
                    if container is base["metadata"]
                    else copy["cells"][1]["metadata"]
                    if container is base["cells"][1]["metadata"]
                    else copy["cells"][base["cells"].index(container)]
                )
            )
            if value == "delete":
                target.pop(key, None)
            else:
                target[key] = value
            variants.append(copy)
    return [json.dumps(v).encode() for v in variants]


@pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")
def test_the_graders_fast_reader_agrees_with_nbformats_reader():
    """``submission_notebook`` skips nbformat's node copy for current notebooks: it must
    accept and refuse exactly what ``parse_notebook`` does, and read the same cells."""
    from grader.grading.notebooks import submission_notebook

    variants = _variants()
    assert len(variants) > 100
    refused = 0
    for data in variants:
        try:
            slow = parse_notebook(data, "n.ipynb", outputs=False)
        except NotebookReadError:
            with pytest.raises(NotebookReadError, match=r"^n\.ipynb: "):
                submission_notebook(data, "n.ipynb")
            refused += 1
            continue
        fast = submission_notebook(data, "n.ipynb")
        assert [
            (c["cell_type"], c["source"], c["metadata"], c.get("outputs")) for c in fast["cells"]
        ] == [(c["cell_type"], c["source"], c["metadata"], c.get("outputs")) for c in slow["cells"]]
    assert 50 < refused < len(variants) - 20  # both kinds are exercised
