"""The full kit in JupyterLab: the instructor's "Grader" dashboard.

A Jupyter server extension (``grader.jupyter``, enabled by the config file that
``pip install`` puts in ``etc/jupyter/jupyter_server_config.d``) serves the dashboard's
API under ``{base_url}grader/api/``; the prebuilt JupyterLab extension
``nb-grader-dashboard`` (``labextension/``, built from ``dashboard/`` at the repository
root) is its page. Every grading and release job runs in a process of its own
(:mod:`grader.jupyter.worker`), through the same engine and report writers as the
command line, so that no request ever waits for a notebook.

This module stays light: the worker process imports the package without Jupyter.
"""

from __future__ import annotations

from typing import Any

from grader.version import __version__  # shown by `jupyter server extension list`

__all__ = ["LABEXTENSION", "__version__"]

LABEXTENSION = "nb-grader-dashboard"  # the npm name of the dashboard's frontend


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension`` finds the prebuilt frontend (a development
    install; a wheel ships it in ``share/jupyter/labextensions``)."""
    return [{"src": "labextension", "dest": LABEXTENSION}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The server extension, as jupyter_server looks it up."""
    from grader.jupyter.app import GraderDashboard

    return [{"module": "grader.jupyter", "app": GraderDashboard}]
