"""The dashboard's API, under ``{base_url}grader/api/``.

Every method is ``@tornado.web.authenticated`` (tests/test_dashboard_handlers.py scans
for it) and jupyter_server checks the XSRF token of every POST made with a cookie.
Paths come relative to the server root and stay inside it
(:func:`grader.jupyter.course.confined`). Nothing long runs here: a POST starts a job
(:mod:`grader.jupyter.jobs`) and answers 202 with its id; the page then polls
``jobs/<id>``. Errors are one line, ``{"error": "..."}``: 400 for a request that
cannot be right, 404 for something missing, 409 for a job in the way. A submission
that cannot be read is not an error: it is a result (``unreadable``) like any other.
"""

from __future__ import annotations

import asyncio
import json
from http.client import responses
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler

from grader.jupyter import course
from grader.jupyter.jobs import DONE, BusyError, Job, JobManager

JOBS_SETTING = "grader_dashboard_jobs"
ROOT_SETTING = "grader_dashboard_root"
PREFIX = "grader/api"
DOWNLOADS = {
    "grades.csv": "text/csv; charset=utf-8",
    "grades.json": "application/json; charset=utf-8",
    "junit.xml": "application/xml; charset=utf-8",
}
JOB_ID = r"(?P<job_id>[0-9a-f]{12})"


class DashboardHandler(APIHandler):
    """What every handler here shares: the jobs, the root, one-line JSON errors."""

    @property
    def jobs(self) -> JobManager:
        return self.settings[JOBS_SETTING]

    @property
    def root(self) -> Path:
        return self.settings[ROOT_SETTING]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = responses.get(status_code, "error")
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], tornado.web.HTTPError):
            message = exc_info[1].log_message or message
        elif exc_info:
            message = "the dashboard failed; the server's log says why"
        self.finish(json.dumps({"error": " ".join(str(message).split())}))

    def fail(self, status: int, message: str) -> tornado.web.HTTPError:
        # log_message is %-formatted by tornado when it has args: never any here
        return tornado.web.HTTPError(status, message.replace("%", "%%"))

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise self.fail(400, "the request body is not JSON") from None
        if not isinstance(body, dict):
            raise self.fail(400, "the request body must be a JSON object")
        return body

    def path(self, relative: object, what: str) -> Path:
        try:
            return course.confined(self.root, relative, what)
        except course.PathError as exc:
            raise self.fail(exc.status, str(exc)) from None

    def job(self, job_id: str) -> Job:
        job = self.jobs.find(job_id)
        if job is None:
            raise self.fail(404, f"no job {job_id}")
        return job

    async def start(self, kind: str, target: str, out: str | None, request: dict) -> None:
        try:
            job = await self.jobs.start(kind, target, out, request)
        except BusyError as exc:
            raise self.fail(409, str(exc)) from None
        self.set_status(202)
        self.finish(json.dumps(job.status()))

    def finished(self, job_id: str) -> Job:
        """The job, which must have finished well (its results are read)."""
        job = self.job(job_id)
        if job.state != DONE or job.result is None:
            problem = f"failed: {job.error}" if job.error else "is still running"
            raise self.fail(409, f"job {job_id} {problem}")
        return job

    def batch(self, job_id: str) -> dict[str, Any]:
        """One graded assignment of a finished job: ``?assignment=`` or the first."""
        job = self.finished(job_id)
        graded = (job.result or {}).get("assignments") or []
        if not graded:
            raise self.fail(404, f"job {job_id} graded nothing")
        wanted = self.get_argument("assignment", None)
        for entry in graded:
            if wanted is None or entry["assignment"] == wanted:
                return entry
        raise self.fail(404, f"job {job_id} graded no assignment {wanted}")

    async def read(self, path: Path) -> bytes:
        if not path.is_file():
            raise self.fail(404, f"{path.relative_to(self.root)} is not there any more")
        return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)


class AssignmentsHandler(DashboardHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        """The course's assignments (reading notebooks: in a thread)."""
        listed = await asyncio.get_running_loop().run_in_executor(
            None, course.assignments, self.root
        )
        self.finish(json.dumps({"assignments": listed}))


class ReleaseHandler(DashboardHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """Regenerate ``{"assignment": folder}``'s release and solutions (a job)."""
        name = self.json_body().get("assignment")
        try:
            folder = course.source_folder(self.root, name)
        except course.PathError as exc:
            raise self.fail(exc.status, str(exc)) from None
        target = folder.relative_to(self.root).as_posix()
        await self.start("release", target, None, {"assignment": folder.name})


class GradeHandler(DashboardHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """Grade ``{"folder": path}`` or read ``{"db": path}`` (a job): reports into
        ``grading-output/<path>/``, as ``grader grade`` / ``grader export`` write them."""
        body = self.json_body()
        if ("folder" in body) == ("db" in body):
            raise self.fail(400, 'name either a "folder" to grade or a "db" to read')
        if "folder" in body:
            path = self.path(body["folder"], "folder")
            if path == self.root:
                raise self.fail(400, "name a folder of submissions, not the server root")
            kind, key = "grade", "folder"
        else:
            path = self.path(body["db"], "database")
            if not path.is_file():
                raise self.fail(400, f"database {body['db']} is a folder, not a file")
            kind, key = "store", "db"
        out = course.output_for(self.root, path)
        if (self.root / out).exists() and not (self.root / out).is_dir():
            raise self.fail(400, f"{out} is a file: the reports need a folder there")
        target = path.relative_to(self.root).as_posix()
        await self.start(kind, target, out, {key: target, "out": out})


class JobsHandler(DashboardHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        """Every job this server remembers, newest first."""
        listed = [job.status() for job in reversed(self.jobs.jobs.values())]
        self.finish(json.dumps({"jobs": listed}))


class JobHandler(DashboardHandler):
    @tornado.web.authenticated
    def get(self, job_id: str) -> None:
        """``{state, done, total, error?, summary?}``; a release job's changed files too."""
        job = self.job(job_id)
        status = job.status()
        if job.kind == "release" and job.result is not None:
            status["result"] = job.result
        self.finish(json.dumps(status))

    @tornado.web.authenticated
    async def delete(self, job_id: str) -> None:
        """Stop a running job (its results so far stay in the journal)."""
        job = self.job(job_id)
        await self.jobs.stop(job)
        self.finish(json.dumps(job.status()))


class ResultsHandler(DashboardHandler):
    @tornado.web.authenticated
    def get(self, job_id: str) -> None:
        """The grade table's rows, the histogram's bins, the pass rate per exercise."""
        job = self.finished(job_id)
        entry = self.batch(job_id)
        names = [a["assignment"] for a in (job.result or {}).get("assignments", [])]
        self.finish(json.dumps({"job": job_id, "assignments": names, **entry}))


class DownloadHandler(DashboardHandler):
    @tornado.web.authenticated
    async def get(self, job_id: str, name: str) -> None:
        """grades.csv, grades.json or junit.xml, as the reports wrote them."""
        if name not in DOWNLOADS:
            raise self.fail(404, f"no download {name} (only {', '.join(DOWNLOADS)})")
        entry = self.batch(job_id)
        data = await self.read(self.root / entry["out"] / name)
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(data, set_content_type=DOWNLOADS[name])


class FeedbackHandler(DashboardHandler):
    @property
    def content_security_policy(self) -> str:
        # the page is the kit's (inline CSS, no script) showing students' text: no script
        # runs whatever it holds
        return (
            "frame-ancestors 'self'; default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:; sandbox"
        )

    @tornado.web.authenticated
    async def get(self, job_id: str, student: str) -> None:
        """The feedback page the reports wrote for ``student`` (id or page name)."""
        entry = self.batch(job_id)
        rows = entry["rows"]
        row = next((r for r in rows if r["student"] == student), None) or next(
            (r for r in rows if r["feedback"] == student), None
        )
        if row is None:
            raise self.fail(404, f"no student {student} in job {job_id}")
        data = await self.read(self.root / entry["out"] / "feedback" / f"{row['feedback']}.html")
        self.finish(data, set_content_type="text/html; charset=utf-8")


def routes() -> list[tuple[str, type]]:
    """The handlers by URL pattern (the server puts its base URL in front)."""
    api = f"/{PREFIX}"
    return [
        (f"{api}/assignments", AssignmentsHandler),
        (f"{api}/release", ReleaseHandler),
        (f"{api}/grade", GradeHandler),
        (f"{api}/jobs", JobsHandler),
        (f"{api}/jobs/{JOB_ID}", JobHandler),
        (f"{api}/jobs/{JOB_ID}/results", ResultsHandler),
        (f"{api}/jobs/{JOB_ID}/download/(?P<name>[^/]+)", DownloadHandler),
        (f"{api}/jobs/{JOB_ID}/feedback/(?P<student>[^/]+)", FeedbackHandler),
    ]
