"""IPython syntax rewritten line by line, in one pass: for cells too costly for IPython.

IPython's transformer finds one piece of IPython syntax, rewrites it, and tokenizes
the whole cell again to find the next: quadratic in a cell of many magics, and its
``name?`` pattern is quadratic in a long line. This rewrite reads each line once. It
gives the same text as IPython for the lines it rewrites (``%magic``, ``!cmd``, ``!!cmd``,
``x = %magic``, ``x = !cmd``, ``name?``, ``?name``, ``/f x``, ``,f x``, ``;f x``, prompts,
leading indentation, a ``%%`` cell), using IPython's own cleanup steps and translations.
Where a line opens a statement is tracked with a small scanner (strings, comments,
brackets, backslash continuations) instead of Python's tokenizer; the two can disagree
only on cells that are broken anyway.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from IPython.core.inputtransformer2 import (
    ESCAPE_DOUBLES,
    ESCAPE_SINGLES,
    TransformerManager,
    assemble_continued_line,
    find_end_of_continued_line,
    tr,
)

# what can follow an escape character at a line's start and make it an operator instead
# (a line opening with ``//``, ``/=``, ``%=``, ``!=`` is no IPython syntax)
_NOT_ESCAPES = ("//", "/=", "%=", "!=")
_TOKENS = re.compile(
    r"""(?P<skip>\\[\s\S])|(?P<quote>'''|\"\"\"|['"])|(?P<comment>\#)"""
    r"|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<op>[-+*/%&|^@:<>!=]*=)"
)
# the rest of a string, from just after its opening quote (disjoint alternatives: linear)
_CLOSING = {
    "'": re.compile(r"(?:[^\\']|\\[\s\S])*'"),
    '"': re.compile(r'(?:[^\\"]|\\[\s\S])*"'),
    "'''": re.compile(r"(?:[^\\']|\\[\s\S]|'(?!''))*'''"),
    '"""': re.compile(r'(?:[^\\"]|\\[\s\S]|"(?!""))*"""'),
}
_NAME = re.compile(r"[\w*]")  # a character of a name in IPython's ``name?`` pattern


class _Scan(NamedTuple):
    quote: str | None  # a string left open at the end of the line
    depth: int  # brackets open
    continued: bool  # the line ends with a backslash outside strings and comments
    code_end: bool  # its last character is code (not in a comment or a string)
    assign: int | None  # where its first ``=`` outside brackets is, from depth 0


def _scan(line: str, quote: str | None, depth: int) -> _Scan:
    """One line's effect on where the next statement starts (linear in the line)."""
    position, assign, start_depth = 0, None, depth
    if quote is not None:
        closing = _CLOSING[quote].match(line)
        if closing is None:
            return _Scan(_still_open(quote, line), depth, False, False, None)
        position, quote = closing.end(), None
    while True:
        token = _TOKENS.search(line, position)
        if token is None:
            body = line.rstrip("\r\n")
            return _Scan(None, depth, body.endswith("\\"), True, assign)
        kind, position = token.lastgroup, token.end()
        if kind == "quote":
            closing = _CLOSING[token.group()].match(line, position)
            if closing is None:
                return _Scan(_still_open(token.group(), line), depth, False, False, assign)
            position = closing.end()
        elif kind == "comment":
            return _Scan(None, depth, False, False, assign)
        elif kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "op" and token.group() == "=" and depth == start_depth == 0 and assign is None:
            assign = token.start()
        elif kind == "skip" and token.group() in ("\\\n", "\\\r"):
            return _Scan(None, depth, True, True, assign)


def _still_open(quote: str, line: str) -> str | None:
    """A triple-quoted string goes on to the next line; a single-quoted one only after a
    backslash (otherwise it is unterminated, and Python says so)."""
    return quote if len(quote) == 3 or line.rstrip("\r\n").endswith("\\") else None


def _help_target(content: str) -> tuple[str, str] | None:
    """``(target, "?" or "??")`` where IPython's ``name?`` pattern (``_help_end_re``,
    searched in ``content``) would find them, found from the right in linear time: the
    pattern backtracks quadratically in a long line. A match is ``%{0,2}name`` followed
    by ``.name`` and ``[digits]`` parts; the leftmost one starts at the leftmost name
    such a chain reaches."""
    if not content.endswith("?"):
        return None
    escape = "??" if content.endswith("??") else "?"
    head = content[: -len(escape)]
    if head.endswith("?"):
        return None
    start, end = None, len(head)
    while True:
        run = end
        while run > 0 and _NAME.match(head, run - 1):
            run -= 1
        if run < end:
            if run > 0 and head[run - 1] == "." and not head[run].isdecimal():
                start, end = run, run - 1  # ``.name``: the chain may go on to the left
                continue
            first = next((i for i in range(run, end) if not head[i].isdecimal()), None)
            if first is not None:  # the chain's first name (which cannot open with a digit)
                start = first
                while first == run and start > max(0, run - 2) and head[start - 1] == "%":
                    start -= 1
            break
        opening = _index_part(head, end)
        if opening is None:
            break
        end = opening
    return None if start is None else (head[start:], escape)


def _index_part(head: str, end: int) -> int | None:
    """Where a ``[digits]`` or ``[-digits]`` ending at ``end`` starts, if one does."""
    if end == 0 or head[end - 1] != "]":
        return None
    index = end - 1
    while index > 0 and head[index - 1] in "0123456789":
        index -= 1
    if index == end - 1:
        return None
    if index > 0 and head[index - 1] == "-":
        index -= 1
    return index - 1 if index > 0 and head[index - 1] == "[" else None


def _escaped(lines: list[str], index: int, scan: _Scan) -> tuple[str, int] | None:
    """The rewrite of the statement opening at ``lines[index]`` and its last line, when
    it is IPython syntax (in IPython's order: help, escapes, magic and shell assignments)."""
    line = lines[index]
    body = line.lstrip(" \t\f")
    indent = line[: len(line) - len(body)]
    content = body.removesuffix("\n")
    if content.endswith("?") and scan.code_end and scan.depth == 0 and not scan.continued:
        found = _help_target(content)
        if found is not None:
            return indent + tr[found[1]](found[0]) + "\n", index
    if body[:1] in ESCAPE_SINGLES and not body.startswith(_NOT_ESCAPES):
        end = find_end_of_continued_line(lines, index)
        text = assemble_continued_line(lines, (index, len(indent)), end)
        escape = text[:2] if text[:2] in ESCAPE_DOUBLES else text[:1]
        call = tr[escape](text[len(escape) :]) if escape in tr else ""
        return indent + call + "\n", end
    if scan.assign is not None:
        after = scan.assign + 1
        after += len(line[after:]) - len(line[after:].lstrip(" \t\f"))
        kind, rest = line[after : after + 1], line[after + 1 : after + 2]
        if (
            kind == "%"
            and rest.isidentifier()
            or kind == "!"
            and rest != "="
            and not body.startswith("=")
        ):
            end = find_end_of_continued_line(lines, index)
            text = assemble_continued_line(lines, (index, after), end)
            if kind == "%":
                name, _, args = text[1:].partition(" ")
                call = f"get_ipython().run_line_magic({name!r}, {args!r})"
            else:
                call = f"get_ipython().getoutput({text[1:]!r})"
            return line[:after] + call + "\n", end
    return None


def rewrite_lines(text: str, transformer: TransformerManager) -> str:
    """``text`` with its IPython syntax rewritten as IPython would, in one pass."""
    lines = (text if text.endswith("\n") else text + "\n").splitlines(keepends=True)
    for transform in transformer.cleanup_transforms + transformer.line_transforms:
        lines = transform(lines)
    out: list[str] = []
    quote, depth, continued, index, opened = None, 0, False, 0, (0, 0)
    while index < len(lines):
        line = lines[index]
        scan = _scan(line, quote, depth)
        if quote is None and depth == 0 and not continued:
            opened = (index, len(out))  # a statement opens here: its line, its place in out
            rewritten = _escaped(lines, index, scan)
            if rewritten is not None:
                out.append(rewritten[0])
                index = rewritten[1] + 1
                continue
        out.append(line)
        quote, depth, continued = scan.quote, scan.depth, scan.continued
        if (
            opened[0] < index
            and quote is None
            and depth == 0
            and not continued
            and scan.code_end
            and line.rstrip("\n").endswith("?")
        ):
            _help_over_lines(lines, opened, index, out)
        index += 1
    return "".join(out)


def _help_over_lines(lines: list[str], opened: tuple[int, int], last: int, out: list[str]) -> None:
    """A statement of several lines that ends in ``name?`` becomes that help call, all of
    it (IPython's ``HelpEnd`` takes the whole logical line)."""
    piece = "".join(lines[opened[0] : last + 1])
    body = piece.lstrip(" \t\f")
    found = _help_target(body.removesuffix("\n"))
    if found is not None:
        del out[opened[1] :]
        out.append(piece[: len(piece) - len(body)] + tr[found[1]](found[0]) + "\n")
