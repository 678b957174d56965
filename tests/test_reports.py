"""Report formats: each one parsed back with a real parser and checked against the results."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
import tracemalloc
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

import grader.atomic
import grader.reports.json_report
import grader.reports.junit
from grader.reports import (
    GRADES_SCHEMA,
    PAGES_MANIFEST,
    feedback_file_stems,
    feedback_html,
    feedback_markdown,
    grades_csv,
    grades_json,
    gradescope_results,
    junit_xml,
    safe_file_stem,
    summary_text,
    write_reports,
)
from grader.results import (
    BatchResult,
    CheckResult,
    Environment,
    ExerciseResult,
    SubmissionResult,
    batch_from_dict,
    batch_to_dict,
)

NASTY = (
    "expected shape (3, 1)\ngot <script>alert(1)</script> & more\n"
    "```python\nprint('fenced')\n```\n  indented line"
)
TRACEBACK = (
    'Traceback (most recent call last):\n  File "<cell 4>", line 3, in forward\n'
    "ValueError: shapes (2,3) and (4,1) not aligned \x1b[31mred\x1b[0m\x00"
)
FAILED_MESSAGES = {  # (student, exercise, check) -> message, for every failed check
    ("bob", "init", "case 2"): NASTY,
    ("bob", "forward", "case 1"): "raised ValueError",
    ("dave", "forward", "case 2"): "A has wrong values\nmax abs diff 0.5",
    ("dave", "backward", "case 3"): "dW wrong",
}


def ok(name: str) -> CheckResult:
    return CheckResult(name, True, "")


@pytest.fixture()
def batch() -> BatchResult:
    alice = SubmissionResult(
        "alice",
        "alice/dnn.ipynb",
        10.0,
        10.0,
        "graded",
        exercises=(
            ExerciseResult("init", 2.0, 2.0, "passed", (ok("case 1"), ok("case 2"))),
            ExerciseResult("forward", 3.0, 3.0, "passed", (ok("case 1"),)),
            ExerciseResult("backward", 4.0, 4.0, "passed", (ok("case 1"),)),
            ExerciseResult("update", 1.0, 1.0, "passed", (ok("case 1"),)),
        ),
        content_hash="aaa",
    )
    bob = SubmissionResult(
        "bob",
        "bob/dnn.ipynb",
        1.0,
        10.0,
        "graded",
        exercises=(
            ExerciseResult(
                "init", 1.0, 2.0, "failed", (ok("case 1"), CheckResult("case 2", False, NASTY))
            ),
            ExerciseResult(
                "forward",
                0.0,
                3.0,
                "error",
                (CheckResult("case 1", False, "raised ValueError"),),
                error=TRACEBACK,
            ),
            ExerciseResult("backward", 0.0, 4.0, "timeout", (), error="timed out after 10 s"),
            ExerciseResult("update", 0.0, 1.0, "missing", ()),
        ),
        content_hash="bbb",
        cell_errors=("cell 3: NameError: name '<b>x</b>' is not defined",),
    )
    dave = SubmissionResult(
        "dave",
        "dave/dnn.ipynb",
        2 + 2 + 8 / 3 + 1,
        10.0,
        "graded",
        exercises=(
            ExerciseResult("init", 2.0, 2.0, "passed", (ok("case 1"), ok("case 2"))),
            ExerciseResult(
                "forward",
                2.0,
                3.0,
                "failed",
                (
                    ok("case 1"),
                    CheckResult("case 2", False, FAILED_MESSAGES["dave", "forward", "case 2"]),
                ),
            ),
            ExerciseResult(
                "backward",
                8 / 3,
                4.0,
                "failed",
                (ok("case 1"), ok("case 2"), CheckResult("case 3", False, "dW wrong")),
            ),
            ExerciseResult("update", 1.0, 1.0, "passed", (ok("case 1"),)),
        ),
        content_hash="ddd",
    )
    carol = SubmissionResult(
        "carol",
        "carol/dnn.ipynb",
        0.0,
        10.0,
        "unreadable",
        error="not a notebook: Expecting value: line 1 column 1 <char 0>",
    )
    env = Environment(
        "0.1.0", "3.11.9", "1.26.4", "openblas", {"timeout_s": 10, "memory_mb": 2048}, True
    )
    return BatchResult("dnn_step_by_step", 10.0, env, (alice, bob, dave, carol))


def by_student(batch: BatchResult, student: str) -> SubmissionResult:
    return next(s for s in batch.submissions if s.student == student)


# ---------------------------------------------------------------- CSV


def test_csv_header_and_values(batch):
    rows = list(csv.DictReader(io.StringIO(grades_csv(batch))))
    assert list(rows[0]) == [
        "student",
        "submission",
        "score",
        "max_score",
        "init",
        "forward",
        "backward",
        "update",
    ]
    assert [r["student"] for r in rows] == ["alice", "bob", "dave", "carol"]
    assert rows[0] | {} == {
        "student": "alice",
        "submission": "alice/dnn.ipynb",
        "score": "10",
        "max_score": "10",
        "init": "2",
        "forward": "3",
        "backward": "4",
        "update": "1",
    }
    assert (rows[1]["score"], rows[1]["init"], rows[1]["forward"]) == ("1", "1", "0")
    assert (rows[2]["score"], rows[2]["backward"]) == ("7.6667", "2.6667")  # no float noise
    carol = rows[3]
    assert (carol["score"], carol["max_score"]) == ("0", "10")
    assert [carol[n] for n in ("init", "forward", "backward", "update")] == ["", "", "", ""]


def test_csv_unreadable_row_ignores_leftover_numbers(batch):
    stale = SubmissionResult(
        "eve",
        "eve.ipynb",
        4.0,
        10.0,
        "unreadable",
        error="bad",
        exercises=(ExerciseResult("init", 2.0, 2.0, "passed"),),
    )
    odd = BatchResult(
        batch.assignment, batch.max_score, batch.environment, batch.submissions + (stale,)
    )
    eve = list(csv.DictReader(io.StringIO(grades_csv(odd))))[-1]
    assert (eve["student"], eve["score"], eve["init"], eve["update"]) == ("eve", "0", "", "")


def test_csv_explicit_exercise_names(batch):
    reader = csv.DictReader(io.StringIO(grades_csv(batch, exercise_names=["update", "init"])))
    assert reader.fieldnames == ["student", "submission", "score", "max_score", "update", "init"]
    assert [(r["update"], r["init"]) for r in reader] == [
        ("1", "2"),
        ("0", "1"),
        ("1", "2"),
        ("", ""),
    ]


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x","a")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\r=1"]
)
def test_csv_never_holds_a_formula_from_a_student(batch, name):
    rogue = SubmissionResult(
        name,
        name + ".ipynb",
        1.0,
        10.0,
        "graded",
        exercises=(ExerciseResult("init", 1.0, 2.0, "failed"),),
    )
    odd = BatchResult(batch.assignment, batch.max_score, batch.environment, (rogue,))
    row = list(csv.DictReader(io.StringIO(grades_csv(odd))))[0]
    assert (row["student"], row["submission"]) == ("'" + name, "'" + name + ".ipynb")
    assert (row["score"], row["init"]) == ("1", "1")  # numbers are left as numbers


def test_csv_leaves_ordinary_names_alone(batch):
    plain = ["alice", "o'brien", "x=1", "a-b", "1e5", " =sum", "ü@x"]
    odd = BatchResult(
        batch.assignment,
        batch.max_score,
        batch.environment,
        tuple(SubmissionResult(n, n, 0.0, 10.0, "unreadable", error="x") for n in plain),
    )
    assert [r["student"] for r in csv.DictReader(io.StringIO(grades_csv(odd)))] == plain


def test_csv_rejects_ambiguous_columns(batch):
    with pytest.raises(ValueError, match="must be unique and differ from"):
        grades_csv(batch, exercise_names=["score"])


# ---------------------------------------------------------------- JSON


def _validate(instance, schema, path="$"):
    """The subset of JSON Schema that GRADES_SCHEMA uses, checked by hand."""
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]

        def fits(t):
            if t == "number":
                return isinstance(instance, (int, float)) and not isinstance(instance, bool)
            return isinstance(instance, types[t])

        assert any(fits(t) for t in allowed), f"{path}: {instance!r} is not {allowed}"
    if "enum" in schema:
        assert instance in schema["enum"], f"{path}: {instance!r} not in {schema['enum']}"
    if isinstance(instance, dict):
        for key in schema.get("required", ()):
            assert key in instance, f"{path}: missing {key}"
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key in properties:
                _validate(value, properties[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                raise AssertionError(f"{path}: unexpected key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                _validate(value, schema["additionalProperties"], f"{path}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            _validate(item, schema["items"], f"{path}[{i}]")


def test_json_round_trips(batch):
    text = grades_json(batch)
    assert text.endswith("}\n")
    assert batch_from_dict(json.loads(text)) == batch
    assert list(json.loads(text)["submissions"][1]["exercises"]) == [
        "init",
        "forward",
        "backward",
        "update",
    ]


def test_json_matches_schema_by_hand(batch):
    document = json.loads(grades_json(batch))
    _validate(document, GRADES_SCHEMA)
    document["submissions"][1]["exercises"]["init"]["status"] = "half-passed"
    with pytest.raises(AssertionError, match="'half-passed' not in"):
        _validate(document, GRADES_SCHEMA)
    document = json.loads(grades_json(batch))  # each fault alone
    del document["submissions"][0]["content_hash"]
    with pytest.raises(AssertionError, match="missing content_hash"):
        _validate(document, GRADES_SCHEMA)


def test_json_matches_schema_with_jsonschema(batch):
    import jsonschema

    validator = jsonschema.Draft202012Validator(GRADES_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(GRADES_SCHEMA)
    document = json.loads(grades_json(batch))
    assert list(validator.iter_errors(document)) == []
    document["submissions"][0]["status"] = "lost"
    document["submissions"][1]["exercises"]["init"]["checks"][0]["passed"] = "yes"
    document["environment"].pop("blas")
    assert len(list(validator.iter_errors(document))) == 3


# ---------------------------------------------------------------- JUnit


def test_junit_counts_and_outcomes(batch):
    root = ET.fromstring(
        junit_xml(batch).encode("utf-8")
    )  # parses despite \x00 and \x1b in a traceback
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    expected = {"alice": (5, 0, 0), "bob": (5, 1, 3), "dave": (8, 2, 0), "carol": (1, 0, 1)}
    for student, (tests, failures, errors) in expected.items():
        suite = suites[student]
        assert (int(suite.get("tests")), int(suite.get("failures")), int(suite.get("errors"))) == (
            tests,
            failures,
            errors,
        ), student
        assert len(suite.findall("testcase")) == tests
        assert len(suite.findall("testcase/failure")) == failures
        assert len(suite.findall("testcase/error")) == errors
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("19", "3", "4")

    bob = {(c.get("classname"), c.get("name")): c for c in suites["bob"].findall("testcase")}
    failure = bob["bob.init", "case 2"].find("failure")
    assert failure.text == NASTY and failure.get("message") == "expected shape (3, 1)"
    forward = bob["bob.forward", "case 1"].find("error")
    assert (
        forward.get("type") == "error"
        and "not aligned" in forward.text
        and "\x00" not in forward.text
    )
    assert bob["bob.backward", "backward"].find("error").text == "timed out after 10 s"
    assert bob["bob.update", "update"].find("error").get("type") == "missing"
    assert bob["bob.init", "case 1"].find("failure") is None
    carol = suites["carol"].find("testcase")
    assert carol.get("classname") == "carol" and "not a notebook" in carol.find("error").text


# ---------------------------------------------------------------- Gradescope


def test_gradescope_results(batch):
    bob = json.loads(gradescope_results(by_student(batch, "bob"), execution_time=12.5))
    assert {"score", "execution_time", "output", "stdout_visibility", "tests"} <= set(bob)
    assert bob["stdout_visibility"] == "visible" and bob["execution_time"] == 12.5
    assert bob["score"] == 1.0 == sum(t["score"] for t in bob["tests"])
    assert [t["name"] for t in bob["tests"]] == ["init", "forward", "backward", "update"]
    assert sum(t["max_score"] for t in bob["tests"]) == 10
    for test in bob["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] == "failed" and test["visibility"] == "visible"
    init, forward, backward, _ = bob["tests"]
    assert NASTY in init["output"]
    assert "raised an error" in forward["output"] and "not aligned" in forward["output"]
    assert "timed out" in backward["output"]

    dave = json.loads(gradescope_results(by_student(batch, "dave")))
    assert "execution_time" not in dave
    assert dave["score"] == pytest.approx(sum(t["score"] for t in dave["tests"]))
    assert [t["status"] for t in dave["tests"]] == ["passed", "failed", "failed", "passed"]
    assert dave["tests"][0]["output"] == ""

    carol = json.loads(gradescope_results(by_student(batch, "carol")))
    assert carol["score"] == 0 and len(carol["tests"]) == 1
    assert carol["tests"][0]["max_score"] == 10 and "not a notebook" in carol["output"]


# ---------------------------------------------------------------- feedback pages


class _Page(HTMLParser):
    """Start tags seen, and the text of each <pre> (entities decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.pres: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "pre":
            self._in_pre = True
            self.pres.append("")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._in_pre:
            self.pres[-1] += data


def test_html_escapes_and_shows_every_failure(batch):
    for student in ("bob", "dave"):
        page = feedback_html(by_student(batch, student), "DNN <step> by step")
        assert "<script" not in page.lower() and "<b>x</b>" not in page
        parsed = _Page()
        parsed.feed(page)
        assert "script" not in parsed.tags and "b" not in parsed.tags and "link" not in parsed.tags
        assert "style" in parsed.tags  # inline CSS only
        for (who, exercise, _check), message in FAILED_MESSAGES.items():
            if who == student and (who, exercise) != ("bob", "forward"):
                assert message in parsed.pres  # verbatim, line breaks kept
    bob = feedback_html(by_student(batch, "bob"), "DNN")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in bob
    assert "&lt;step&gt;" in feedback_html(by_student(batch, "bob"), "DNN <step> by step")
    parsed = _Page()
    parsed.feed(bob)
    assert any("not aligned" in pre and "\x00" not in pre for pre in parsed.pres)
    assert "timed out after 10 s" in parsed.pres
    assert "NameError" in bob.split("raised an error")[-1]  # cell errors at the end
    assert "Total score: 1 / 10" in bob


def test_html_full_marks_has_no_problem_sections(batch):
    page = feedback_html(by_student(batch, "alice"), "DNN")
    assert "Total score: 10 / 10" in page and "<pre>" not in page and "<section" not in page
    assert page.count("<tr>") == 5  # header + 4 exercises


def _fenced_blocks(markdown: str) -> tuple[list[str], str]:
    """(contents of fenced code blocks, the text outside them), per CommonMark backtick fences."""
    blocks, outside, lines, fence = [], [], markdown.split("\n"), None
    for line in lines:
        if fence is None:
            match = re.fullmatch(r"(`{3,})[^`]*", line)
            if match:
                fence, current = match.group(1), []
            else:
                outside.append(line)
        elif re.fullmatch(rf"`{{{len(fence)},}}\s*", line):
            blocks.append("\n".join(current))
            fence = None
        else:
            current.append(line)
    assert fence is None, "unclosed fence"
    return blocks, "\n".join(outside)


def test_markdown_fences_hold_messages(batch):
    text = feedback_markdown(by_student(batch, "bob"), "DNN")
    blocks, outside = _fenced_blocks(text)
    assert NASTY in blocks and "timed out after 10 s" in blocks
    # its one check stopped on the error shown in full below it: said once, by the error
    assert "raised ValueError" not in blocks
    assert "````text" in text  # the message holds a ``` run, so the fence is longer
    assert (
        "<script" not in outside and "<b>" not in outside and "&" not in outside.replace("\\&", "")
    )
    assert any("not aligned" in b and "\x00" not in b for b in blocks)
    assert blocks[-1] == "cell 3: NameError: name '<b>x</b>' is not defined"
    assert "| init | failed | 1 / 2 |" in text
    assert "**Total score: 1 / 10**" in text
    carol_blocks, _ = _fenced_blocks(feedback_markdown(by_student(batch, "carol"), "DNN"))
    assert carol_blocks == ["not a notebook: Expecting value: line 1 column 1 <char 0>"]


def test_markdown_escapes_inline_student_text(batch):
    odd = SubmissionResult(
        "<img src=x onerror=alert(1)>|*x*", "s", 0.0, 1.0, "unreadable", error="e"
    )
    text = feedback_markdown(odd, "T")
    assert (
        not re.search(r"(?<!\\)[<|*]", text.split("\n")[0])
        and "\\<img" in text
        and "\\|\\*x\\*" in text
    )


# ---------------------------------------------------------------- summary


def test_summary_numbers(batch):
    text = summary_text(batch)
    assert "Submissions: 4 (3 graded, 1 unreadable)" in text
    totals = [10, 1, 2 + 2 + 8 / 3 + 1, 0]
    assert statistics.median(totals) == pytest.approx(13 / 3)
    assert "mean 4.7, median 4.3 (of 10)" in text  # rounded for people
    rows = {
        cells[0]: cells[1:]
        for line in text.splitlines()
        if len(cells := re.split(r"\s{2,}", line.strip())) == 4
    }
    assert rows["init"] == ["67% (2/3)", "1.7", "2"]
    assert rows["forward"] == ["33% (1/3)", "1.7", "3"]
    assert rows["backward"] == ["33% (1/3)", "2.2", "4"]
    assert rows["update"] == ["67% (2/3)", "0.7", "1"]
    table = [line for line in text.splitlines() if "%" in line or "pass rate" in line]
    assert len({line.index("%") for line in table if "%" in line}) == 1  # aligned


def test_a_submission_the_grader_failed_on_has_no_score_anywhere(batch):
    fault = SubmissionResult(
        "zoe",
        "zoe.ipynb",
        0.0,
        10.0,
        "not_graded",
        error="not graded because of a fault of the grader (OSError: x)",
    )
    odd = BatchResult(
        batch.assignment, batch.max_score, batch.environment, batch.submissions + (fault,)
    )
    text = summary_text(odd)
    assert "Submissions: 5 (3 graded, 1 unreadable, 1 not graded: a fault of the grader)" in text
    assert (
        "mean 4.7, median 4.3 (of 10)" in text
    )  # rounded for people  # as without zoe: no 0 counted
    zoe = list(csv.DictReader(io.StringIO(grades_csv(odd))))[-1]
    assert (zoe["student"], zoe["score"], zoe["max_score"], zoe["init"]) == ("zoe", "", "10", "")
    import jsonschema

    jsonschema.Draft202012Validator(GRADES_SCHEMA).validate(json.loads(grades_json(odd)))
    assert "fault of the grader" in feedback_markdown(fault, "DNN")


def test_summary_of_empty_batch(batch):
    empty = BatchResult("a", 1.0, batch.environment, ())
    assert "Submissions: 0 (0 graded, 0 unreadable)" in summary_text(empty)


# ---------------------------------------------------------------- file names and write_reports


def test_safe_file_stem():
    assert safe_file_stem("../evil") == "_.._evil"
    assert safe_file_stem("a b") == "a_b"
    assert safe_file_stem("..") == "_.."
    assert safe_file_stem("") == "_"
    assert safe_file_stem("ok-Name_1.2") == "ok-Name_1.2"
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,100}", safe_file_stem("\u00e9" * 300))


def _sub(student: str, submission: str = "nb.ipynb") -> SubmissionResult:
    return SubmissionResult(student, submission, 0.0, 1.0, "unreadable", error="x")


def test_file_stems_unique_and_order_independent():
    subs = [
        _sub("a b"),
        _sub("a_b"),
        _sub("a/b"),
        _sub("Alice"),
        _sub("alice"),
        _sub("x", "1"),
        _sub("x", "2"),
    ]
    stems = feedback_file_stems(subs)
    assert len({s.casefold() for s in stems}) == len(stems)
    assert stems[1] == "a_b"  # the one id among its clash that is its stem keeps it
    assert stems[0].startswith("a_b-") and stems[2].startswith("a_b-")
    # ids equal but for case: none keeps the name, or one could open in place of the other
    assert stems[3].startswith("Alice-") and stems[4].startswith("alice-")
    assert stems[5].startswith("x-") and stems[6].startswith("x-")
    assert dict(zip(map(id, subs), stems)) == dict(
        zip(map(id, subs[::-1]), feedback_file_stems(subs[::-1]))
    )


def test_write_reports(batch, tmp_path, monkeypatch):
    written = []
    real = grader.atomic.open_write  # write_bytes goes through it too
    monkeypatch.setattr(
        grader.atomic,
        "open_write",
        lambda path, *args, **kw: (written.append(Path(path)), real(path, *args, **kw))[1],
    )
    odd = BatchResult(
        batch.assignment,
        batch.max_score,
        batch.environment,
        batch.submissions + (_sub("../evil"), _sub("a b"), _sub("a_b")),
    )
    out = tmp_path / "reports"
    paths = write_reports(odd, out, "DNN")
    on_disk = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert set(paths) == set(written) == on_disk  # every file atomically, no temp files left
    assert len(paths) == len(set(paths)) == 3 + 2 * 7 + 2  # + the list of pages, index.html
    feedback = sorted(p.name for p in (out / "feedback").iterdir())
    assert "_.._evil.html" in feedback and "a_b.md" in feedback
    assert sum(name.startswith("a_b-") for name in feedback) == 2
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.(html|md)", n) for n in feedback)
    assert all(p.resolve().is_relative_to(out.resolve()) for p in paths)
    assert (out / "grades.json").read_text() == grades_json(odd)
    assert (out / "junit.xml").read_bytes().startswith(b"<?xml")
    assert "alert(1)" in (out / "feedback" / "bob.html").read_text()


def test_pages_of_an_earlier_batch_are_deleted_and_nothing_else(batch, tmp_path):
    out = tmp_path / "out"
    odd = BatchResult(
        batch.assignment, batch.max_score, batch.environment, batch.submissions + (_sub("zoe"),)
    )
    write_reports(odd, out, "DNN")
    (out / "feedback" / "notes.md").write_text("the instructor's own")
    (out / "feedback" / "mine").mkdir()
    assert (out / "feedback" / "zoe.html").exists()
    write_reports(batch, out, "DNN")  # zoe withdrew
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        [f"{s.student}{suffix}" for s in batch.submissions for suffix in (".html", ".md")]
        + ["notes.md", "mine"]
    )
    (out / PAGES_MANIFEST).write_text("notes.md\n../grades.csv\nmine\nbob.html\n")
    write_reports(BatchResult(batch.assignment, batch.max_score, batch.environment, ()), out, "DNN")
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        [
            f"{s.student}{suffix}"
            for s in batch.submissions
            for suffix in (".html", ".md")
            if (s.student, suffix) != ("bob", ".html")
        ]
        + ["mine"]
    )  # only names listed as ours


def test_write_reports_gradescope(batch, tmp_path):
    one = BatchResult(
        batch.assignment, batch.max_score, batch.environment, (by_student(batch, "bob"),)
    )
    target = tmp_path / "results" / "results.json"
    paths = write_reports(one, tmp_path / "out", "DNN", gradescope=target)
    assert target in paths and json.loads(target.read_text())["score"] == 1.0
    with pytest.raises(ValueError, match="a Gradescope result is for one submission"):
        write_reports(batch, tmp_path / "out2", "DNN", gradescope=target)
    assert not (tmp_path / "out2").exists()


# ---------------------------------------------------------------- streamed reports

# quotes, XML specials, a lone surrogate, controls
ODD = '\u00e9l\u00e8ve "q" <&> \\ \udcff \x1b\x00 \U0001f600'


def _odd_batch(batch: BatchResult) -> BatchResult:
    """The fixture plus submissions with odd characters, another unreadable one, and
    one whose only exercise errored with no check (its own error case)."""
    odd = SubmissionResult(
        ODD,
        f"{ODD}/nb.ipynb",
        0.5,
        10.0,
        "graded",
        exercises=(
            ExerciseResult(
                "init",
                0.5,
                2.0,
                "failed",
                (ok("case 1"), CheckResult("case 2", False, ODD + "\r\nline 2")),
            ),
            ExerciseResult("forward", 0.0, 3.0, "error", (), error=f"boom {ODD}\n  indented"),
        ),
        cell_errors=(ODD,),
        tampered=True,
        tampered_cells=("cell-a",),
    )
    broken = SubmissionResult("zed\n,x", "zed.ipynb", 0.0, 10.0, "unreadable", error=None)
    return BatchResult(
        f"dnn {ODD}",
        batch.max_score,
        batch.environment,
        batch.submissions + (odd, _sub("eve"), broken),
    )


def _junit_whole_tree(batch: BatchResult) -> str:
    """junit.xml built the pre-streaming way: one tree, indented and serialised at once."""
    root = ET.Element("testsuites", name=grader.reports.junit.clean_text(batch.assignment))
    suites = [grader.reports.junit._suite(s) for s in batch.submissions]
    root.extend(suites)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(suite.get(key)) for suite in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def test_streamed_text_equals_building_it_whole(batch):
    for whole in (_odd_batch(batch), BatchResult("empty", 1.0, batch.environment, ())):
        assert grades_json(whole) == json.dumps(batch_to_dict(whole), indent=2) + "\n"
        assert junit_xml(whole) == _junit_whole_tree(whole)
    root = ET.fromstring(junit_xml(_odd_batch(batch)).encode("utf-8"))
    cases = root.findall("testsuite/testcase")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (
        str(len(cases)),
        str(len(root.findall("testsuite/testcase/failure"))),
        str(len(root.findall("testsuite/testcase/error"))),
    )
    assert root.get("tests") == "24"  # 19 + odd (2 checks, 1 own error case) + eve + zed


def test_written_files_equal_the_pure_functions(batch, tmp_path):
    odd = _odd_batch(batch)
    out = tmp_path / "out"
    write_reports(odd, out, "DNN")
    for name, text in (
        ("grades.json", grades_json(odd)),
        ("junit.xml", junit_xml(odd)),
        ("grades.csv", grades_csv(odd)),
    ):
        assert (out / name).read_bytes() == text.encode("utf-8", "replace"), name
    assert b"\r\n" in (out / "grades.csv").read_bytes()  # no newline translation on the way
    assert b"\\udcff" in (out / "grades.json").read_bytes()
    assert batch_from_dict(json.loads((out / "grades.json").read_text())) == odd
    csv_rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    assert csv_rows[-3][0] == ODD.replace("\udcff", "?")  # a lone surrogate cannot abort the write
    assert csv_rows[-1][:3] == ["zed\n,x", "zed.ipynb", "0"]


@pytest.mark.parametrize(
    ("name", "module", "function"),
    [
        ("grades.json", grader.reports.json_report, "submission_to_dict"),
        ("junit.xml", grader.reports.junit, "_suite"),
    ],
)
def test_error_midway_keeps_the_previous_file(batch, tmp_path, monkeypatch, name, module, function):
    out = tmp_path / "out"
    write_reports(batch, out, "DNN")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real, calls = getattr(module, function), []

    def failing(submission):
        calls.append(submission)
        if len(calls) == 3:
            raise RuntimeError("serializer broke")
        return real(submission)

    monkeypatch.setattr(module, function, failing)
    changed = _odd_batch(batch)
    with pytest.raises(RuntimeError, match="serializer broke"):
        write_reports(changed, out, "DNN")
    assert len(calls) == 3
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert set(after) == set(before)  # no temporary or partial file left
    assert after[out / name] == before[out / name]  # the previous report, whole
    assert after[out / "grades.csv"] == grades_csv(changed).encode(
        "utf-8", "replace"
    )  # written first


def test_open_write_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    with grader.atomic.open_write(target, text=True, errors="replace") as handle:
        handle.write("a\r\n")
        handle.write("\udcff\u00e9")
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_bytes() == b"a\r\n?\xc3\xa9"
    with pytest.raises(KeyError):
        with grader.atomic.open_write(target) as handle:
            handle.write(b"partial")
            raise KeyError("stop")
    assert target.read_bytes() == b"a\r\n?\xc3\xa9"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_write_reports_holds_no_report_whole(batch, tmp_path, monkeypatch):
    """Peak allocation while writing stays far below the size of grades.json or junit.xml:
    each is streamed, and feedback pages are written one at a time."""
    import grader.reports.charts

    # the class report's two charts take ~1 MB of matplotlib objects whatever the batch
    # (tests/test_class_report.py holds its memory flat in the batch size): left out here
    for name in ("histogram_svg", "pass_rate_svg"):
        monkeypatch.setattr(grader.reports.charts, name, lambda *args: "")
    bob = by_student(batch, "bob")
    subs = tuple(
        SubmissionResult(
            f"s{i}",
            f"s{i}.ipynb",
            1.0,
            10.0,
            "graded",
            exercises=(
                ExerciseResult(
                    "init",
                    1.0,
                    2.0,
                    "failed",
                    (ok("case 1"), CheckResult("case 2", False, f"{i} " + "y" * 8000)),
                ),
                *bob.exercises[1:],
            ),
        )
        for i in range(300)
    )
    big = BatchResult(batch.assignment, batch.max_score, batch.environment, subs)
    smallest = min(len(junit_xml(big)), len(grades_json(big)))
    assert smallest > 2_400_000
    # the class report's first page imports Jinja2 and compiles its templates: a fixed
    # cost, the same for any batch, paid here before measuring
    write_reports(batch, tmp_path / "warm", "DNN")
    tracemalloc.start()
    try:
        write_reports(big, tmp_path / "out", "DNN")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < smallest / 3, (peak, smallest)
    assert (tmp_path / "out" / "junit.xml").stat().st_size == len(junit_xml(big).encode())


def test_submission_dict_is_the_dataclass_field_by_field(batch):
    """submission_to_dict is written out by hand for speed: the same keys, in field
    order, and the same values as dataclasses.asdict would give."""
    import dataclasses

    from grader.results import submission_to_dict

    for submission in batch.submissions:
        data = submission_to_dict(submission)
        reference = dataclasses.asdict(submission)
        assert list(data) == [f.name for f in dataclasses.fields(SubmissionResult)]
        for key in data:
            if key == "exercises":
                assert list(data[key]) == [e["name"] for e in reference[key]]
                for (name, exercise), expected in zip(data[key].items(), reference[key]):
                    assert {"name": name, **exercise} == {
                        **expected,
                        "checks": list(expected["checks"]),
                    }
                    assert list(exercise) == [
                        "score",
                        "max_score",
                        "status",
                        "error",
                        "checks",
                    ]  # grades.json's order since v0.1
            else:
                assert data[key] == (
                    list(reference[key]) if isinstance(reference[key], tuple) else reference[key]
                )


def test_grade_files_are_fsynced_and_feedback_pages_are_not(batch, tmp_path, monkeypatch):
    """Durable where it matters: grades.csv/json and junit.xml survive a crash; feedback
    pages (remade from the grades by any rerun) skip the fsync that was half their cost."""
    import os

    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")).name)
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_reports(batch, tmp_path, "DNN")
    assert sorted(name.split(".")[1] for name in synced) == ["grades", "grades", "junit"]
    assert len(list((tmp_path / "feedback").iterdir())) == 2 * len(batch.submissions)
