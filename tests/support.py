"""Helpers shared by the tests: where things are in the repository, and small readers.

Imported as ``from support import ...``; the fixtures that use them live in conftest.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "dnn_step_by_step"
NOTEBOOK_NAME = "Building_your_Deep_Neural_Network_Step_by_Step.ipynb"
SOURCE_ROOT = REPO_ROOT / "source_notebooks"
SOURCE_DIR = SOURCE_ROOT / ASSIGNMENT
RELEASE_DIR = REPO_ROOT / "release" / ASSIGNMENT
SOLUTIONS_DIR = REPO_ROOT / "solutions" / ASSIGNMENT
DATA_DIR = Path(__file__).resolve().parent / "data"

EXERCISES = (
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
)
PASS_LINE = "All tests passed."
STUB_MESSAGE = (
    "Not done yet: write your code between the YOUR CODE lines above, then delete this line."
)


def load_module(path: Path, name: str) -> ModuleType:
    """Import a student-folder module by path (no sys.path changes, fresh each call).

    No bytecode is written: the committed release/ folder must not grow a __pycache__."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


def read_expected_prints() -> dict[str, str]:
    """tests/data/expected_prints.txt: exercise -> exact text its test cell prints
    before the pass line (numpy 2 formatting of the seed's expected outputs)."""
    text = (DATA_DIR / "expected_prints.txt").read_text(encoding="utf-8")
    sections = re.split(r"^== (\w+)\n", text, flags=re.MULTILINE)[1:]
    prints = {name: body.rstrip("\n") + "\n" for name, body in zip(sections[::2], sections[1::2])}
    assert tuple(prints) == EXERCISES
    return prints


def split_prints(text: str) -> list[tuple[str, str]]:
    """'W1 = [[...]\\n [...]]\\nb1 = ...' -> [('W1 = ', '[[...]\\n [...]]'), ('b1 = ', ...)]."""
    items = []
    for block in re.split(r"\n(?=\S)", text.rstrip("\n")):
        match = re.match(r"(.*?(?: = |: ))(?=[\[\d-])(.*)\Z", block, flags=re.DOTALL)
        assert match, block
        items.append((match.group(1), match.group(2)))
    return items


def code_cells(notebook) -> list[tuple[int, dict]]:
    return [(index, cell) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def cell_by_id(notebook, grade_id: str):
    matches = [cell for cell in notebook.cells if nbgrader(cell).get("grade_id") == grade_id]
    assert len(matches) == 1, grade_id
    return matches[0]


def stream_text(cell) -> str:
    return "".join(
        out.get("text", "")
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )


def error_outputs(cell) -> list:
    return [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]


@dataclass(frozen=True)
class GeneratedTree:
    root: Path
    release_root: Path
    solutions_root: Path
    release_dir: Path
    solutions_dir: Path
    stdout: str

    @property
    def release_notebook(self) -> Path:
        return self.release_dir / NOTEBOOK_NAME

    @property
    def solved_notebook(self) -> Path:
        return self.solutions_dir / NOTEBOOK_NAME


def load_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
