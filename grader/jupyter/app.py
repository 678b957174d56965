"""The server extension as a jupyter_server ``ExtensionApp``: an app, not a bare load
function, because it owns processes (the running jobs) that the server must stop when it
stops, and only apps are told."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.extension.application import ExtensionApp

from grader.jupyter.handlers import JOBS_SETTING, ROOT_SETTING, routes
from grader.jupyter.jobs import JobManager


class GraderDashboard(ExtensionApp):
    """Serves the dashboard's API under ``{base_url}grader/api/``."""

    name = "grader_dashboard"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        assert self.serverapp is not None  # set before any extension app initializes
        root = Path(self.serverapp.root_dir).expanduser().resolve()
        self.jobs = JobManager(root, log=self.log)
        self.settings.update({JOBS_SETTING: self.jobs, ROOT_SETTING: root})

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes())

    async def stop_extension(self) -> None:
        """Stop every running job (and its workers and sandboxes) with the server."""
        await self.jobs.close()
