"""The class report (index.html): parsed back with an HTML parser, checked against the results."""

from __future__ import annotations

import base64
import gc
import json
import statistics
import tracemalloc
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.cli import cli
from grader.reports import CLASS_REPORT, class_report_html, feedback_file_stems, write_reports
from grader.reports._common import fmt_points
from grader.reports.class_report import MESSAGE_WIDTH, shorten
from grader.results import (
    BatchResult,
    CheckResult,
    Environment,
    ExerciseResult,
    SubmissionResult,
    batch_from_dict,
)

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
ENV = Environment("0.1.0", "3.11.9", "1.26.4", "openblas", {}, True)
SCRIPT_ID = "<script>alert(1)</script>"
HIDDEN = "Wrong values in `A`: expected [[0.73105858]], got [[0.5]]."
SHOWN = "Wrong values in `A`: check the activation you apply."
LONG = " ".join(f"word{i}" for i in range(80))  # ~550 characters, no word longer than 7


# ---------------------------------------------------------------- reading the page back


@dataclass
class Page:
    """What the tests read of the page: text by id, links, images, table rows."""

    ids: dict[str, str] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    images: dict[str, str] = field(default_factory=dict)  # id -> src
    tables: dict[str, list[list[dict]]] = field(default_factory=dict)  # class -> rows of cells
    scripts: int = 0


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.open_ids: list[list] = []  # [id, tag, depth, text parts]
        self.depth = 0
        self.table: str | None = None
        self.cell: dict | None = None
        self.link: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in ("img", "br", "meta", "input"):
            self.depth += 1
        if tag == "script":
            self.page.scripts += 1
        if "id" in attrs and tag != "img":
            self.open_ids.append([attrs["id"], tag, self.depth, []])
        if tag == "img":
            self.page.images[attrs.get("id", "")] = attrs["src"]
        elif tag == "table":
            self.table = attrs.get("class", "").split()[0]
            self.page.tables[self.table] = []
        elif tag == "tr" and self.table:
            self.page.tables[self.table].append([])
        elif tag in ("td", "th") and self.table:
            self.cell = {"text": "", **attrs}
            self.page.tables[self.table][-1].append(self.cell)
        elif tag == "a":
            self.link = [attrs.get("href"), ""]
            if self.cell is not None:
                self.cell["href"] = attrs.get("href")

    def handle_endtag(self, tag):
        if self.open_ids and self.open_ids[-1][2] == self.depth and self.open_ids[-1][1] == tag:
            key, _, _, parts = self.open_ids.pop()
            self.page.ids[key] = " ".join("".join(parts).split())
        if tag == "table":
            self.table = None
        elif tag in ("td", "th"):
            self.cell = None
        elif tag == "a" and self.link:
            self.page.links.append((self.link[0], self.link[1]))
            self.link = None
        self.depth -= 1

    def handle_data(self, data):
        for item in self.open_ids:
            item[3].append(data)
        if self.cell is not None:
            self.cell["text"] += data
        if self.link is not None:
            self.link[1] += data


def read_page(text: str) -> Page:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.page


def problem_rows(page: Page) -> dict[str, dict]:
    """Exercise -> its row of the 'most common problem' table."""
    rows = {}
    for row in page.tables["problems"][1:]:
        exercise, passed, not_passed, message, count = row
        rows[exercise["text"]] = {
            "passed": passed["text"],
            "not_passed": int(not_passed["text"]),
            "message": " ".join(message["text"].split()),
            "title": message.get("title"),
            "count": int(count["text"]),
        }
    return rows


def student_rows(page: Page) -> list[list[dict]]:
    return page.tables["students"][1:]


def labels(svg: str, prefix: str) -> dict[str, str]:
    """Text of the SVG groups whose id starts with ``prefix`` (the charts' bar labels)."""
    root = ET.fromstring(svg.encode("utf-8"))
    return {
        group.get("id"): "".join(group.itertext()).strip()
        for group in root.iter()
        if (group.get("id") or "").startswith(prefix)
    }


def svg_of(src: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert src.startswith(prefix)
    return base64.b64decode(src[len(prefix) :]).decode("utf-8")


# ---------------------------------------------------------------- a batch built by hand


def ok(name: str) -> CheckResult:
    return CheckResult(name, True, "")


def failed(name: str, message: str, student_message: str | None = None) -> CheckResult:
    return CheckResult(name, False, message, student_message)


def graded(
    student: str, *exercises: ExerciseResult, tampered: bool | None = None
) -> SubmissionResult:
    return SubmissionResult(
        student,
        f"{student}/dnn.ipynb",
        sum(e.score for e in exercises),
        10.0,
        "graded",
        exercises=exercises,
        tampered=tampered,
    )


def init(
    status: str = "passed", *checks: CheckResult, score: float = 4.0, error: str = ""
) -> ExerciseResult:
    return ExerciseResult("init", score, 4.0, status, checks or (ok("case 1"),), error)


def forward(
    status: str = "passed", *checks: CheckResult, score: float = 6.0, error: str = ""
) -> ExerciseResult:
    return ExerciseResult("forward", score, 6.0, status, checks or (ok("case 1"),), error)


TRACEBACK = (
    'Traceback (most recent call last):\n  File "<cell 4>", line 3, in forward\n'
    "    return W @ A\nValueError: matmul: Input operand 1 has a mismatch"
)


@pytest.fixture()
def batch() -> BatchResult:
    subs = (
        graded("alice", init(), forward()),
        graded(
            "bob",
            init("failed", ok("case 1"), failed("case 2", "W1 wrong shape"), score=2.0),
            forward(
                "failed",
                ok("case 1"),
                failed("case 2", "A wrong values"),
                failed("case 3", "A wrong values"),
                score=2.0,
            ),
        ),
        graded(
            "carol",
            init(),
            forward("failed", ok("case 1"), failed("case 2", "A wrong values"), score=3.0),
        ),
        graded(
            "dave",
            init(),
            forward("failed", failed("case 1", HIDDEN, SHOWN), score=0.0),
            tampered=True,
        ),
        graded(
            SCRIPT_ID,
            init("missing", score=0.0, error="init is not defined."),
            forward("error", score=0.0, error=TRACEBACK),
        ),
        SubmissionResult("erin", "erin.ipynb", 0.0, 10.0, "unreadable", error="not a notebook"),
        SubmissionResult("fred", "fred.ipynb", 0.0, 10.0, "not_graded", error="fork refused"),
        graded("a\x1bb", init(), forward("failed", failed("case 1", LONG), score=0.0)),
        graded("a_b", init(), forward()),  # the same file stem as the one above
    )
    return BatchResult("dnn_step_by_step", 10.0, ENV, subs)


def written_page(batch: BatchResult, out: Path) -> tuple[str, Page]:
    write_reports(batch, out, "DNN <Step> by Step")
    text = (out / CLASS_REPORT).read_text(encoding="utf-8")
    return text, read_page(text)


# ---------------------------------------------------------------- tests


def test_counts_mean_and_median_follow_the_summarys_rule(batch, tmp_path):
    _, page = written_page(batch, tmp_path / "out")
    assert page.ids["count-submissions"] == "9"
    assert (
        page.ids["count-graded"],
        page.ids["count-unreadable"],
        page.ids["count-not-graded"],
    ) == ("7", "1", "1")
    totals = [10.0, 4.0, 7.0, 4.0, 0.0, 0.0, 4.0, 10.0]  # erin 0, fred left out
    assert page.ids["mean"] == fmt_points(statistics.fmean(totals)) == "4.9"
    assert page.ids["median"] == fmt_points(statistics.median(totals)) == "4"
    assert page.ids["count-tampered"] == "1"
    assert "DNN &lt;Step&gt; by Step" in (tmp_path / "out" / CLASS_REPORT).read_text()


def test_one_chart_per_figure_with_the_batchs_data(batch, tmp_path):
    _, page = written_page(batch, tmp_path / "out")
    assert set(page.images) == {"histogram", "pass-rates"}
    histogram, rates = svg_of(page.images["histogram"]), svg_of(page.images["pass-rates"])
    assert "total score (of 10)" in histogram
    # each bar's count, by its bin: totals 0, 0, 4, 4, 4, 7, 10, 10 (fred not graded)
    assert labels(histogram, "bin-") == {"bin-0": "2", "bin-4": "3", "bin-7": "1", "bin-9": "2"}
    assert labels(rates, "rate-") == {"rate-0": "71%", "rate-1": "29%"}  # 5/7, 2/7 passed
    assert ">init<" in rates and ">forward<" in rates
    assert "<script" not in histogram + rates


def test_most_common_problem_per_exercise_with_its_count(batch, tmp_path):
    _, page = written_page(batch, tmp_path / "out")
    rows = problem_rows(page)
    assert list(rows) == ["init", "forward"]
    # bob told it twice (two checks) counts once; carol once more
    assert rows["forward"]["not_passed"] == 5 and rows["forward"]["passed"] == "29%"
    assert rows["forward"]["message"].startswith("A wrong values") and rows["forward"]["count"] == 2
    assert "and 3 other messages" in rows["forward"]["message"]
    assert rows["init"]["not_passed"] == 2 and rows["init"]["count"] == 1
    assert rows["init"]["message"].startswith("W1 wrong shape")  # a tie: the first seen


def test_an_exercise_without_failed_checks_shows_its_error_or_status():
    only = lambda *subs: BatchResult("a", 10.0, ENV, subs)  # noqa: E731
    for exercise, expected in (
        (
            forward("error", score=0.0, error=TRACEBACK),
            "ValueError: matmul: Input operand 1 has a mismatch",
        ),
        (forward("missing", score=0.0, error="forward is not defined."), "forward is not defined."),
        (ExerciseResult("forward", 0.0, 6.0, "timeout"), "status: timeout"),
    ):
        exercise = ExerciseResult(exercise.name, 0.0, 6.0, exercise.status, (), exercise.error)
        one = only(graded("x", exercise))
        rows = problem_rows(read_page("".join(class_report_html(one, "A", ["x"]))))
        assert rows["forward"]["message"] == expected and rows["forward"]["count"] == 1


def test_long_messages_are_cut_between_words():
    a_b = graded("a b", init(), forward("failed", failed("case 1", LONG), score=0.0))
    rows = problem_rows(
        read_page("".join(class_report_html(BatchResult("a", 10.0, ENV, (a_b,)), "A", ["a_b"])))
    )
    shown = rows["forward"]["message"]
    assert shown.endswith(" \u2026") and len(shown) <= MESSAGE_WIDTH
    assert LONG.startswith(shown[:-2] + " ")  # whole words only, then the ellipsis
    assert rows["forward"]["title"] == LONG  # the whole message in the tooltip
    assert shorten("x" * 500, 20) == "x" * 19 + "\u2026"  # one word longer than the width


def test_every_student_links_their_own_feedback_page(batch, tmp_path):
    out = tmp_path / "out"
    _, page = written_page(batch, out)
    rows = student_rows(page)
    stems = feedback_file_stems(batch.submissions)
    assert [row[0]["href"] for row in rows] == [f"feedback/{stem}.html" for stem in stems]
    assert stems[-2:] == [f"a_b-{stems[-2][4:]}", "a_b"] and len(stems[-2]) == 12  # told apart
    for row in rows:
        assert (out / row[0]["href"]).is_file()
    assert [row[1]["text"] for row in rows] == [
        "10.0",
        "4.0",
        "7.0",
        "4.0",
        "0.0",
        "0.0",
        "\u2013",
        "4.0",
        "10.0",
    ]
    assert [row[2]["text"].strip() for row in rows][-4:] == [
        "unreadable",
        "not_graded",
        "graded",
        "graded",
    ]
    header = [cell["text"] for cell in page.tables["students"][0]]
    assert header == ["Student", "Score", "Status", "init", "forward"]
    assert [cell["title"] for cell in rows[1][3:]] == ["failed", "failed"]
    assert [cell["title"] for cell in rows[4][3:]] == ["missing", "error"]
    assert rows[5][3:] == [{"text": "", "class": "st st-none", "data-sort": "6", "title": ""}] * 2
    assert float(rows[6][1]["data-sort"]) < 0  # not graded sorts below 0


def test_student_text_is_escaped(batch, tmp_path):
    text, page = written_page(batch, tmp_path / "out")
    assert SCRIPT_ID not in text and "alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert page.scripts == 1  # the page's own sorting script, nothing else
    assert [row[0]["text"] for row in student_rows(page)][4] == SCRIPT_ID  # shown as text
    assert "\x1b" not in text
    assert [row[0]["text"] for row in student_rows(page)][-2] == "ab"  # the control left out


def test_a_hidden_expected_value_never_appears(batch, tmp_path):
    text, _ = written_page(batch, tmp_path / "out")
    assert "0.73105858" not in text
    dave_only = BatchResult("a", 10.0, ENV, (batch.submissions[3],))
    text = "".join(class_report_html(dave_only, "A", ["dave"]))
    rows = problem_rows(read_page(text))
    assert rows["forward"]["message"] == SHOWN and rows["forward"]["title"] == SHOWN
    assert "0.73105858" not in text and "expected" not in text


def test_an_empty_batch_gives_a_sensible_page(tmp_path):
    text, page = written_page(BatchResult("dnn_step_by_step", 100.0, ENV, ()), tmp_path / "out")
    assert page.ids["count-submissions"] == "0" and page.ids["mean"] == "\u2013"
    assert page.ids["empty"] == "No submissions were found."
    assert not page.images and "students" not in page.tables
    assert text.rstrip().endswith("</html>")


def test_nothing_graded_still_shows_the_assignments_columns(tmp_path):
    subs = (
        *(SubmissionResult(f"s{i}", "x", 0.0, 10.0, "unreadable", error="bad") for i in range(2)),
        SubmissionResult("s2", "", 0.0, 10.0, "missing", error="No notebook was submitted"),
    )
    batch = BatchResult("a", 10.0, ENV, subs, exercises=("init", "forward"))
    text, page = written_page(batch, tmp_path / "out")
    assert (page.ids["count-unreadable"], page.ids["count-missing"]) == ("2", "1")
    assert page.ids["mean"] == page.ids["median"] == "0"  # both count as 0
    assert set(page.images) == {"histogram"} and "problems" not in page.tables
    assert "No submission was graded" in text
    assert [cell["text"] for cell in page.tables["students"][0]][3:] == ["init", "forward"]
    assert [row[2]["text"].strip() for row in student_rows(page)] == [
        "unreadable",
        "unreadable",
        "missing",
    ]


def test_the_page_is_deterministic(batch):
    stems = feedback_file_stems(batch.submissions)
    first, second = ("".join(class_report_html(batch, "A", stems)) for _ in range(2))
    assert first == second


def test_memory_stays_flat_in_the_batch_size(batch):
    """Aggregates are gathered in one pass and rows streamed: writing the page for 4000
    submissions instead of 40 costs a few numbers per submission at the peak (the totals,
    which the median and the histogram need), nothing of the page itself."""

    def peak(n: int) -> int:
        subs = tuple(
            graded(f"s{i}", init(), forward("failed", failed("case 1", "A wrong " * 50), score=0.0))
            for i in range(n)
        )
        big = BatchResult("a", 10.0, ENV, subs)
        stems = feedback_file_stems(subs)
        gc.collect()
        gc.disable()  # matplotlib's cyclic garbage (~1 MB) would go at a random moment
        tracemalloc.start()
        try:
            size = sum(len(chunk) for chunk in class_report_html(big, "A", stems))
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()
            gc.enable()

    peak(10)  # imports and compiled templates
    (small, _), (large, size) = peak(40), peak(4000)
    assert size > 1_000_000
    assert large - small < 64 * (4000 - 40), (small, large)  # the page's rows: ~300 bytes each


# ---------------------------------------------------------------- a real grading run


@pytest.fixture(scope="module")
def graded_out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    names = (
        "alice_correct.ipynb",
        "mistake_compute_cost.ipynb",
        "grace_deleted_compute_cost.ipynb",
        "frank_not_a_notebook.ipynb",
    )
    for name, data in sample_batch(SOLUTIONS, RELEASE).items():
        if name in names:
            (folder / name).write_bytes(data)
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(folder),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "--timeout",
            "2",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_a_real_run_writes_a_page_that_matches_grades_json(graded_out):
    data = json.loads((graded_out / "grades.json").read_text(encoding="utf-8"))
    batch = batch_from_dict(data)
    page = read_page((graded_out / CLASS_REPORT).read_text(encoding="utf-8"))
    totals = [s.score if s.status == "graded" else 0.0 for s in batch.submissions]
    assert page.ids["count-submissions"] == str(len(batch.submissions)) == "4"
    assert (page.ids["count-graded"], page.ids["count-unreadable"]) == ("3", "1")
    assert page.ids["mean"] == fmt_points(statistics.fmean(totals))
    assert page.ids["median"] == fmt_points(statistics.median(totals))
    rows = student_rows(page)
    assert [row[0]["text"] for row in rows] == [s.student for s in batch.submissions]
    assert [row[1]["text"] for row in rows] == [f"{s.score:.1f}" for s in batch.submissions]
    for row in rows:
        assert (graded_out / row[0]["href"]).is_file()
    problems = problem_rows(page)
    assert problems["compute_cost"]["not_passed"] == 2
    cost = next(s for s in batch.submissions if s.student == "mistake_compute_cost")
    first = next(c for c in cost.exercise("compute_cost").checks if not c.passed)
    told = {problems["compute_cost"]["title"]}
    assert told <= {shorten(first.shown_message(), 1000), "compute_cost is not defined."}
    assert problems["initialize_parameters"]["count"] == 0
    assert problems["initialize_parameters"]["passed"] == "100%"
    assert {"histogram", "pass-rates"} == set(page.images)


def test_a_batch_of_one_gets_its_page_without_charts_and_a_batch_gets_them(batch, tmp_path):
    """One notebook (a CI run) has no distribution to chart, and must not wait for
    matplotlib; two or more get both charts."""
    from dataclasses import replace

    from grader.reports import write_reports

    one = replace(batch, submissions=batch.submissions[:1])
    write_reports(one, tmp_path / "one", "T")
    write_reports(batch, tmp_path / "all", "T")
    single = (tmp_path / "one" / "index.html").read_text(encoding="utf-8")
    several = (tmp_path / "all" / "index.html").read_text(encoding="utf-8")
    assert 'id="histogram"' not in single and 'id="pass-rates"' not in single
    assert 'id="histogram"' in several and 'id="pass-rates"' in several
