"""Jinja2 templates of the HTML reports, autoescaped: student text never becomes markup.

Every value a template prints first loses the characters XML 1.0 cannot carry
(:func:`grader.reports._common.clean_text`), then is escaped; nothing a student wrote is
ever marked safe.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from grader.reports._common import clean_text


def _finalize(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("grader.reports", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """``template`` (a file of ``grader/reports/templates``) rendered with ``context``."""
    return environment().get_template(template).render(**context)
