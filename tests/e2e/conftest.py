"""Fixtures of the browser tests: one course folder, one grading service and one
``jupyter lab`` per module, one chromium per module and a fresh browser context (page)
per test. A failing test leaves a screenshot of its page in its tmp_path.

These tests run by default (CI runs them); without /usr/bin/chromium or without the
project's labextensions installed they fail in one line saying what to install.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    STUDENT,
    STUDENT_EXTENSION,
    Lab,
    make_course,
    require_chromium,
    require_labextensions,
    start_lab,
    wait_for_lab,
)
from service_support import Service, start_service, token_of

VIEWPORT = {"width": 1440, "height": 900}
SERVICE_FOLDER = "service"  # under the course root: the dashboard reads its store there


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (the page fixture looks at it)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    require_chromium()  # before anything is started
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def service(course: Path) -> Iterator[Service]:
    """The grading service for the course's release (its store under the course root)."""
    running = start_service(course / SERVICE_FOLDER, jobs=2, release_root=course / "release")
    try:
        yield running
    finally:
        try:
            running.stop()
        except Exception:  # noqa: BLE001 - stop() kills it before raising
            pass


def _lab(course: Path, state: Path, env: dict[str, str]) -> Iterator[Lab]:
    require_labextensions(STUDENT_EXTENSION)
    lab = start_lab(course, state, env)
    try:
        wait_for_lab(lab)
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def lab(course: Path, service: Service, tmp_path_factory) -> Iterator[Lab]:
    """The student's (and instructor's) lab, with the grading service configured."""
    env = {
        "GRADER_SERVICE_URL": service.url,
        "GRADER_TOKEN": token_of(STUDENT),
        "GRADER_RELEASE_ROOT": str(course / "release"),
    }
    yield from _lab(course, tmp_path_factory.mktemp("lab"), env)


@pytest.fixture(scope="module")
def local_lab(course: Path, tmp_path_factory) -> Iterator[Lab]:
    """A lab with no grading service configured: checks run the public tests locally."""
    yield from _lab(course, tmp_path_factory.mktemp("local-lab"), {})


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, request, tmp_path: Path):
    """A fresh context and page (no video, no trace); its screenshot when the test fails."""
    context = browser.new_context(viewport=VIEWPORT, record_video_dir=None)
    context.set_default_timeout(30_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            try:
                opened.screenshot(path=str(tmp_path / "failure.png"), full_page=False)
            except Exception:  # noqa: BLE001 - a debugging aid only
                pass
        context.close()


@pytest.fixture
def update_docs() -> bool:
    """``GRADER_UPDATE_SCREENSHOTS=1``: copy the screenshots into docs/images/ (off by
    default, so a CI run leaves the checkout unchanged)."""
    return os.environ.get("GRADER_UPDATE_SCREENSHOTS") == "1"
