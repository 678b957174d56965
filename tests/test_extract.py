"""Submission notebooks -> plain Python cells."""
import ast

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.extract import code_cells, to_python


def test_line_magics_and_shell_become_calls_that_the_sandbox_ignores():
    source = to_python("%matplotlib inline\n%load_ext autoreload\n!pip install x\nx = 1\n")
    ast.parse(source)
    assert "get_ipython().run_line_magic('matplotlib', 'inline')" in source
    assert "get_ipython().system('pip install x')" in source
    assert "x = 1" in source


def test_transparent_cell_magics_keep_their_body_and_others_are_dropped():
    assert to_python("%%time\ny = 2\n").strip() == "y = 2"
    dropped = to_python("%%bash\nrm -rf /\n")
    assert "rm -rf" not in dropped and dropped.lstrip().startswith("#")
    assert "open('x', 'w')" not in to_python("%%writefile x.py\nopen('x', 'w')\n")


def test_broken_python_is_left_for_python_to_report():
    assert "def f(:" in to_python("def f(:\n    pass\n")


def test_code_cells_keep_order_index_and_grade_id_and_ignore_markdown_and_outputs():
    nb = new_notebook(cells=[
        new_markdown_cell("# title"),
        new_code_cell("a = 1", metadata={"nbgrader": {"grade_id": "first"}},
                      outputs=[nbformat.v4.new_output("stream", text="All tests passed.")]),
        new_code_cell(["b = ", "2"]),
    ])
    cells = code_cells(nb)
    assert [(c.index, c.source.strip(), c.grade_id) for c in cells] == [
        (1, "a = 1", "first"), (2, "b = 2", None)]
    assert all("All tests passed" not in c.source for c in cells)
