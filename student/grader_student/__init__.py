"""Check and submit course notebooks from a notebook cell.

``check()`` grades the notebook with the course's grading service when one is set up
(``GRADER_SERVICE_URL`` and ``GRADER_TOKEN``, or ``grader.json`` next to the notebook),
else runs its public tests locally; ``submit()`` hands it in. This package holds no
answers and no hidden checks: those stay with the service.
"""

from grader_student.api import Result, check, submit
from grader_student.errors import GraderClientError

__version__ = "0.1.0"
__all__ = ["GraderClientError", "Result", "check", "submit", "__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt Check exercises panel is (for ``jupyter labextension``)."""
    return [{"src": "labextension", "dest": "nb-grader-student"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The panel's server side: a module of its own, so that importing this package
    (check() in a kernel) never imports jupyter_server."""
    return [{"module": "grader_student.server"}]
