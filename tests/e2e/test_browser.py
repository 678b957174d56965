"""End to end in a real browser (Debian's chromium driven by Playwright): a student
checks a notebook with one exercise broken and submits it through the grading service;
an instructor grades a folder of submissions in the dashboard; without a service the
panel runs the public tests locally. Selectors are the DOM contract of issue 16.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from e2e_support import (
    ASSIGNMENT,
    BATCH,
    BROKEN,
    DASHBOARD_EXTENSION,
    NOTEBOOK,
    REPO_ROOT,
    STUDENT,
    SUBMISSIONS,
    Lab,
    exercise_names,
    require_labextensions,
)
from playwright.sync_api import Locator, Page, expect
from service_support import Service

GRADING_TIMEOUT = 180_000  # ms: a whole batch graded on a busy 2-core machine
DOCS_IMAGES = REPO_ROOT / "docs" / "images"


def _screenshot(page: Page, tmp_path: Path, name: str, update_docs: bool) -> Path:
    """The page as a PNG in the test's folder (and in docs/images/ when asked)."""
    path = tmp_path / name
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, "an empty screenshot"
    if update_docs:
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / name)
    return path


def _hide_file_browser(page: Page) -> None:
    """Collapse the left sidebar: more room for the notebook in the screenshots."""
    tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="filebrowser"]')
    if tab.count() and "lm-mod-current" in (tab.get_attribute("class") or ""):
        tab.click()
        expect(page.locator("#filebrowser")).to_be_hidden()


def _open_notebook(page: Page, lab: Lab) -> None:
    page.goto(lab.tree_url(f"{STUDENT}/{ASSIGNMENT}/{NOTEBOOK}"))
    page.wait_for_function(
        "document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length > 5", timeout=60_000
    )


def _check(page: Page) -> Locator:
    """Click "Check exercises"; the panel once its rows are in and the run is over."""
    button = page.locator(".grader-check-button").first
    expect(button).to_be_visible()
    expect(button).to_contain_text("Check exercises")
    button.click()
    panel = page.locator("#grader-exercises-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".grader-exercise-row")).to_have_count(
        len(exercise_names()), timeout=GRADING_TIMEOUT
    )
    expect(panel.locator(".grader-progress").first).to_be_hidden(timeout=GRADING_TIMEOUT)
    return panel


def _statuses(panel: Locator) -> dict[str, str]:
    rows = panel.locator(".grader-exercise-row")
    return {
        row.get_attribute("data-exercise") or "": row.get_attribute("data-status") or ""
        for row in rows.all()
    }


def _message(panel: Locator, exercise: str) -> str:
    """The text of the ``.grader-exercise-message`` elements inside that row, or else in
    the row right after it."""
    row = panel.locator(f'.grader-exercise-row[data-exercise="{exercise}"]')
    messages = row.locator(".grader-exercise-message")
    if not messages.count():
        messages = row.locator("xpath=following-sibling::*[1]").locator(".grader-exercise-message")
    expect(messages.first).to_be_visible()
    return "\n".join(messages.all_inner_texts())


def test_student_checks_then_submits(
    lab: Lab, service: Service, page: Page, tmp_path: Path, update_docs: bool
) -> None:
    _open_notebook(page, lab)
    panel = _check(page)
    expected = {name: "passed" for name in exercise_names()}
    expected[BROKEN] = "failed"
    assert _statuses(panel) == expected
    assert "Wrong values in `Z`" in _message(panel, BROKEN)
    source = panel.locator(".grader-source")
    expect(source).to_have_attribute("data-source", "service")
    expect(source).to_contain_text("grading service")

    # a row leads to the exercise's solution cell
    panel.locator(f'.grader-exercise-row[data-exercise="{BROKEN}"]').click()
    active = page.locator(".jp-NotebookPanel .jp-Cell.jp-mod-active")
    expect(active).to_contain_text(f"def {BROKEN}(")

    page.locator(".grader-submit-button").first.click()
    receipt = page.locator(".grader-receipt")
    expect(receipt).to_contain_text("Submitted", timeout=GRADING_TIMEOUT)
    answer = service.request("GET", f"assignments/{ASSIGNMENT}/submissions", user=STUDENT)
    assert answer.status == 200, answer.body
    submissions = answer.json()["submissions"]
    assert len(submissions) == 1, submissions
    expect(receipt).to_contain_text(str(submissions[0]["id"]))
    expect(receipt).to_contain_text("90")  # the score: one of ten exercises lost
    _hide_file_browser(page)
    _screenshot(page, tmp_path, "student-panel.png", update_docs)


def _open_dashboard(page: Page, lab: Lab) -> Locator:
    """From the palette (command ``grader:dashboard``); the launcher has its card too."""
    require_labextensions(DASHBOARD_EXTENSION)
    page.goto(lab.lab_url())
    launcher = page.locator(".jp-Launcher")
    expect(launcher).to_be_visible(timeout=60_000)
    expect(launcher.locator(".jp-LauncherCard", has_text="Grader").first).to_be_visible()
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette")
    expect(palette).to_be_visible()
    palette.locator("input").fill("Grader dashboard")
    palette.locator('[data-command="grader:dashboard"]').first.click()
    dashboard = page.locator("#grader-dashboard")
    expect(dashboard).to_be_visible()
    expect(dashboard.locator(f'.grader-assignment[data-assignment="{ASSIGNMENT}"]')).to_have_count(
        1
    )
    return dashboard


def test_instructor_grades_a_folder(
    lab: Lab, page: Page, tmp_path: Path, update_docs: bool
) -> None:
    dashboard = _open_dashboard(page, lab)
    dashboard.locator(".grader-folder-input").fill(SUBMISSIONS)
    button = dashboard.locator(".grader-grade-button")
    expect(button).to_contain_text("Grade")
    button.click()
    # the live progress bar: it counts up to the batch, then stays full or goes
    page.wait_for_function(
        """(total) => {
            const bar = document.querySelector('#grader-dashboard .grader-progress-bar');
            return !bar || (bar.getAttribute('role') === 'progressbar'
                && bar.getAttribute('aria-valuemax') === String(total)
                && bar.getAttribute('aria-valuenow') === String(total));
        }""",
        arg=len(BATCH),
        timeout=GRADING_TIMEOUT,
    )
    rows = dashboard.locator("table.grader-grade-table tr[data-student]")
    expect(rows).to_have_count(len(BATCH), timeout=GRADING_TIMEOUT)
    students = [row.get_attribute("data-student") or "" for row in rows.all()]
    assert sorted(students) == sorted(Path(name).stem for name in BATCH)
    links = dashboard.locator("a.grader-feedback-link")
    expect(links).to_have_count(len(BATCH))
    assert all(link.get_attribute("href") for link in links.all())
    # sortable: a click on the Student header reverses the order
    table = dashboard.locator("table.grader-grade-table")
    table.locator("th", has_text="Student").first.click()
    expect(rows.first).to_have_attribute("data-student", sorted(students)[-1])
    table.locator("th", has_text="Student").first.click()
    expect(rows.first).to_have_attribute("data-student", sorted(students)[0])
    expect(dashboard.locator("svg.grader-histogram")).to_be_visible()
    expect(dashboard.locator("svg.grader-pass-rate")).to_be_visible()
    for kind in ("csv", "json", "junit"):
        expect(dashboard.locator(f'a.grader-download[data-format="{kind}"]')).to_have_count(1)
    _hide_file_browser(page)
    page.set_viewport_size({"width": 1440, "height": 1080})  # the whole table in view
    _screenshot(page, tmp_path, "dashboard.png", update_docs)


def test_without_a_service_the_panel_runs_the_public_tests(local_lab: Lab, page: Page) -> None:
    _open_notebook(page, local_lab)
    panel = _check(page)
    source = panel.locator(".grader-source")
    expect(source).to_have_attribute("data-source", "local")
    expect(source).to_contain_text("Public tests only")
    # the public tests call the student's own helpers: those built on the broken
    # exercise fail with it here (the service grades each exercise on its own)
    statuses = _statuses(panel)
    assert list(statuses) == exercise_names()
    assert statuses[BROKEN] == "failed"
    assert statuses["initialize_parameters"] == "passed"
    assert set(statuses.values()) <= {"passed", "failed"}


def test_instructor_reads_the_service_store(
    lab: Lab, service: Service, course: Path, page: Page
) -> None:
    solved = (course / SUBMISSIONS / "alice_correct.ipynb").read_bytes()
    answer = service.post_notebook("bob", ASSIGNMENT, solved)
    assert answer.status == 200, answer.body
    dashboard = _open_dashboard(page, lab)
    store = service.db.relative_to(course)
    dashboard.locator(".grader-db-input").fill(store.as_posix())
    dashboard.locator(".grader-db-button").click()
    bob = dashboard.locator('table.grader-grade-table tr[data-student="bob"]')
    expect(bob).to_have_count(1, timeout=GRADING_TIMEOUT)
    expect(bob).to_contain_text("100")
    expect(dashboard.locator("svg.grader-histogram")).to_be_visible()
