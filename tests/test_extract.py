"""Submission notebooks -> plain Python cells."""

import ast

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.grading.extract import code_cells, to_python


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
    nb = new_notebook(
        cells=[
            new_markdown_cell("# title"),
            new_code_cell(
                "a = 1",
                metadata={"nbgrader": {"grade_id": "first"}},
                outputs=[nbformat.v4.new_output("stream", text="All tests passed.")],
            ),
            new_code_cell(["b = ", "2"]),
        ]
    )
    cells = code_cells(nb)
    assert [(c.index, c.source.strip(), c.grade_id) for c in cells] == [
        (1, "a = 1", "first"),
        (2, "b = 2", None),
    ]
    assert all("All tests passed" not in c.source for c in cells)


PLAIN = [
    "x = 1",
    "x = 1\r\ny = 2\r\n",
    "s = '''\nline\n'''",
    "y = x % 3\nz = x != 2",
    "def f(a):\n    return a\n",
    "print('done?', 5)",
    "x = 1  \n\n",
    "\u00a0x = 1",
]
IPYTHON = [
    "%matplotlib inline\nx = 1",
    "  x = 1",
    "\nx = 1",
    "np.dot?",
    "np.dot??",
    "files = !ls",
    "t = %time 1 + 1",
    "In [1]: x = 2",
    ">>> x = 1\n... ",
    "/print 1",
    "!!ls",
    "x = 1\n%who",
    "s = '''\n%text\n'''",
    "a = 1  # really?",
]


@pytest.mark.parametrize("text", PLAIN + IPYTHON)
def test_conversion_equals_ipythons_own(text):
    """Plain Python skips IPython's tokenizer; the result must be what it would give."""
    from IPython.core.inputtransformer2 import TransformerManager

    assert to_python(text) == TransformerManager().transform_cell(text)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_python_takes_the_fast_path(text, monkeypatch):
    from IPython.core.inputtransformer2 import TransformerManager

    def refuse(self, cell):
        raise AssertionError("IPython's transformer ran on plain Python")

    monkeypatch.setattr(TransformerManager, "transform_cell", refuse)
    assert to_python(text).rstrip("\n") == text.rstrip("\n")


# cells past the budget for IPython's transformer take grader.grading.magic_lines' one-pass rewrite
ONE_PASS = [
    "if x:\n    %time f()\n    y = !ls\nelse:\n    !echo hi\n",
    "x = [1,\n 2]\n%who\n",
    "%magic?",
    "a[1].b?",
    "x = foo?",
    "!echo a \\\n  b\n%x\n",
    ",f a b\n;g a b\n",
    "x: int = %timeit f()\n",
    "d = {'a': %x}\n",
    'x = """\n!ls\n"""\n!ls\n',
    "x = 'it\\'s'\n%x\n",
    "%%capture out\nx = 1\n",
    "# %comment\n%real\n",
    "x = (\n'''\n%in\n'''\n)\n%out\n",
    "?x\n",
    "a? \n",
    "x = 1 \\\n  + %y\n",
    "a = b = %c\n",
    "x = !=3\n",
    "//x\n",
    "print(a) ?\n",
    "1a?",
    "%%%a?",
    "x.1b?",
    "x = 1 \\\nobj.attr??\n",
]


@pytest.mark.parametrize("text", PLAIN + IPYTHON + ONE_PASS)
def test_the_one_pass_rewrite_equals_ipythons_own(text):
    from IPython.core.inputtransformer2 import TransformerManager

    from grader.grading.magic_lines import rewrite_lines

    assert rewrite_lines(text, TransformerManager()) == TransformerManager().transform_cell(text)
    assert to_python(text, budget=-1) == to_python(text)  # the budget only changes the cost


def test_headings_name_cells_without_their_closing_hashes():
    from grader.grading.extract import cell_names

    for heading, name in [
        ("# Title ##", "Title"),
        ("## 2 -   Compute  cost #", "2 - Compute cost"),
        ("### C#", "C"),
        ("#no space", "Intro"),
        ("# #", "#"),
    ]:
        nb = new_notebook(
            cells=[new_markdown_cell("# Intro"), new_markdown_cell(heading), new_code_cell("x = 1")]
        )
        assert cell_names(nb) == {2: name}, heading
