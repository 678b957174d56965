"""The student package's Jupyter server extension: the panel's back end.

Enabled by the file the wheel installs in ``etc/jupyter/jupyter_server_config.d``;
``_jupyter_server_extension_points`` (in the package's ``__init__``) names this module.
Settings, in ``jupyter_server_config.py``::

    c.GraderStudent.local_timeout = 300    # seconds a local run of the public tests may take
    c.GraderStudent.service_timeout = 300  # seconds to wait for the grading service
    c.GraderStudent.workers = 4            # runs at once (each a thread; a local one a process)

Only this module and ``handlers.py`` import jupyter_server: ``check()`` and ``submit()``
in a kernel never do.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from traitlets import Float, Integer
from traitlets.config import Configurable

from grader_student.handlers import Backend, setup_handlers
from grader_student.runs import Limits


class GraderStudent(Configurable):
    """Limits of the Check exercises panel's runs."""

    local_timeout = Float(
        300.0, help="Seconds a local run of a notebook's public tests may take."
    ).tag(config=True)
    service_timeout = Float(300.0, help="Seconds to wait for the grading service's answer.").tag(
        config=True
    )
    workers = Integer(4, help="Checks and submissions run at once.").tag(config=True)


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the handlers under ``{base_url}grader-student/``."""
    settings = GraderStudent(parent=serverapp)
    backend = Backend(
        root=Path(serverapp.root_dir).expanduser(),
        limits=Limits(settings.local_timeout, settings.service_timeout),
        executor=ThreadPoolExecutor(
            max_workers=max(1, settings.workers), thread_name_prefix="grader-student"
        ),
    )
    setup_handlers(serverapp.web_app, backend)
    serverapp.log.info("grader_student: Check exercises panel's API at grader-student/")


# the name the classic notebook server (and nbclassic) looks for
load_jupyter_server_extension = _load_jupyter_server_extension
