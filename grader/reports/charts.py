"""The class report's charts, drawn with matplotlib as SVG ``data:`` URIs.

An SVG in an ``<img>`` keeps the page one self-contained file, cannot run script and
cannot clash with the page's ids or styles. Each chart is a ``Figure`` of its own,
never pyplot, so no GUI backend is chosen or needed: the figure prints through
matplotlib's SVG backend (vector, where Agg would give a raster). The SVG is made
byte-for-byte reproducible by a fixed hash salt (the ids of clip paths) and no date.
matplotlib is imported on first use: it costs ~0.4 s, which only writing the class
report should pay.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

_PASS = "#2e7d32"
_NOT_PASSED = "#f3d6d6"
_BARS = "#3f6fb5"
_CHAR_INCHES = 0.075  # a label's width per character at 10 pt, a little over a sans font's mean
_RC: dict[Any, Any] = {  # matplotlib types its keys as a Literal of every rc name
    "svg.hashsalt": "grader-class-report",
    "svg.fonttype": "none",
    "text.parse_math": False,  # a '$' in a label is text, not mathtext
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure(
    width: float,
    height: float,
    left: float,
    bottom: float = 0.5,
    top: float = 0.15,
    right: float = 0.45,
) -> Any:
    """A figure of one axes with margins in inches. Fixed margins, not matplotlib's
    constrained layout: that measures every label in an extra draw (half the time)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )
    return figure


def _data_uri(figure: Any) -> str:
    """Called inside ``rc_context(_RC)``: the salt and font type are read when saving."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def histogram_svg(totals: Sequence[float], max_score: float, bins: int = 10) -> str:
    """Counts of total scores in ``bins`` equal ranges from 0 to ``max_score``."""
    import matplotlib
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    top = max_score if max_score > 0 else 1.0
    edges = np.linspace(0.0, top, bins + 1)
    counts, _ = np.histogram(np.clip(np.asarray(totals, dtype=float), 0.0, top), bins=edges)
    with matplotlib.rc_context(_RC):
        figure = _figure(5.6, 2.8, left=0.6, right=0.2)
        axes = figure.add_subplot()
        axes.bar(
            edges[:-1],
            counts,
            width=np.diff(edges),
            align="edge",
            color=_BARS,
            edgecolor="white",
            linewidth=1,
        )
        for index, (left, width, count) in enumerate(zip(edges[:-1], np.diff(edges), counts)):
            if count:  # the id names the bin in the SVG (for tests and scripts)
                axes.annotate(
                    str(int(count)),
                    (left + width / 2, count),
                    ha="center",
                    va="bottom",
                    xytext=(0, 2),
                    textcoords="offset points",
                    fontsize=9,
                    color="#333",
                    gid=f"bin-{index}",
                )
        axes.set_xlim(0, top)
        axes.set_xticks(edges)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max(int(counts.max(initial=0)), 1) * 1.15)
        axes.set_xlabel(f"total score (of {top:g})")
        axes.set_ylabel("submissions")
        return _data_uri(figure)


def pass_rate_svg(names: Sequence[str], rates: Sequence[float]) -> str:
    """One horizontal bar per exercise, in assignment order from the top: its pass rate."""
    import matplotlib
    from matplotlib.ticker import PercentFormatter

    with matplotlib.rc_context(_RC):
        label = 0.2 + _CHAR_INCHES * max((len(name) for name in names), default=0)
        figure = _figure(3.6 + label, 0.65 + 0.26 * max(len(names), 1), left=label)
        axes = figure.add_subplot()
        positions = range(len(names))
        percents = [100 * rate for rate in rates]
        axes.barh(positions, [100] * len(names), color=_NOT_PASSED, height=0.7)
        axes.barh(positions, percents, color=_PASS, height=0.7)
        for position, percent in zip(positions, percents):
            axes.annotate(
                f"{percent:.0f}%",
                (100, position),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
                color="#333",
                annotation_clip=False,
                gid=f"rate-{position}",
            )
        axes.set_yticks(list(positions), labels=list(names))
        axes.invert_yaxis()
        axes.set_xlim(0, 100)
        axes.xaxis.set_major_formatter(PercentFormatter())
        axes.tick_params(axis="y", length=0)
        axes.spines["left"].set_visible(False)
        axes.set_xlabel("graded submissions that passed")
        return _data_uri(figure)
