"""Which notebook a cell runs in, which assignment it is, and where the service is.

Nothing here talks to the service or runs code: it reads the notebook file, the
environment and an optional ``grader.json`` next to the notebook.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader_student.errors import ConfigurationError, NotebookNotFoundError

CONFIG_NAMES = ("grader.json", ".grader.json")
URL_VARIABLE, TOKEN_VARIABLE, HUB_TOKEN_VARIABLE = (
    "GRADER_SERVICE_URL",
    "GRADER_TOKEN",
    "JUPYTERHUB_API_TOKEN",
)
ASK_FOR_PATH = 'call it with the notebook\'s path, e.g. check("my_notebook.ipynb")'


@dataclass(frozen=True)
class Service:
    """Where to send notebooks, and the token to send with them."""

    url: str  # without the trailing slash
    token: str


def _kernel_namespace() -> dict[str, Any]:
    """The IPython user namespace when this runs in a kernel, else empty.

    IPython is only looked up, never imported: when it is not loaded yet, this is not a
    kernel (a plain script), and importing it would only cost time.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    namespace = getattr(shell, "user_ns", None)
    return namespace if isinstance(namespace, dict) else {}


def _candidates(hint: str) -> list[Path]:
    """Where a notebook name handed over by a frontend may be: as given (absolute, or
    relative to the working folder), or its file name in the working folder (a server's
    path is relative to its root, while the kernel runs in the notebook's folder)."""
    path = Path(hint).expanduser()
    return [path, Path.cwd() / path, Path.cwd() / path.name]


def find_notebook(path: str | os.PathLike[str] | None = None) -> Path:
    """The notebook to check: ``path``, else the one the calling kernel runs.

    VS Code sets ``__vsc_ipynb_file__`` and ipykernel under Jupyter Server sets
    ``__session__`` (from ``JPY_SESSION_NAME``) in the user namespace; outside a kernel
    the only ``.ipynb`` file of the working folder is taken.
    """
    if path is not None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise NotebookNotFoundError(f"no notebook at {given}")
        return given.resolve()
    namespace = _kernel_namespace()
    hints = [namespace.get("__vsc_ipynb_file__"), namespace.get("__session__")]
    hints.append(os.environ.get("JPY_SESSION_NAME"))
    for hint in hints:
        if isinstance(hint, str) and hint.endswith(".ipynb"):
            for candidate in _candidates(hint):
                if candidate.is_file():
                    return candidate.resolve()
    notebooks = sorted(p for p in Path.cwd().glob("*.ipynb") if p.is_file())
    if len(notebooks) == 1:
        return notebooks[0].resolve()
    found = "no notebook" if not notebooks else f"{len(notebooks)} notebooks"
    raise NotebookNotFoundError(
        f"cannot tell which notebook to check ({found} in {Path.cwd()}): {ASK_FOR_PATH}"
    )


def read_notebook(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The notebook's saved bytes (what is sent) and their parsed JSON."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NotebookNotFoundError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        notebook = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise NotebookNotFoundError(f"{path.name} is not a notebook (not JSON)") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookNotFoundError(f"{path.name} is not a notebook (no cells)")
    return data, notebook


def assignment_name(notebook: dict[str, Any], path: Path, name: str | None = None) -> str:
    """``name``, else the release's ``metadata.grader.assignment``, else the notebook's
    folder name (nbgrader keeps each assignment in a folder of its name)."""
    if name:
        return name
    metadata = notebook.get("metadata")
    grader = metadata.get("grader") if isinstance(metadata, dict) else None
    stored = grader.get("assignment") if isinstance(grader, dict) else None
    if isinstance(stored, str) and stored:
        return stored
    return path.parent.name


def _config_file(folder: Path) -> dict[str, Any]:
    """The first of ``grader.json`` / ``.grader.json`` in ``folder``, or {}."""
    for name in CONFIG_NAMES:
        file = folder / name
        if not file.is_file():
            continue
        try:
            config = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ConfigurationError(f"{file} is not valid JSON") from None
        if not isinstance(config, dict):
            raise ConfigurationError(f'{file} should hold {{"service_url": ..., "token": ...}}')
        return config
    return {}


def find_service(folder: Path, environ: dict[str, str] | None = None) -> Service | None:
    """The configured service, or None when no URL is set (then checks run locally).

    Each setting comes from the environment first, then from the config file in the
    notebook's folder; on a JupyterHub the hub's API token stands in for a missing one.
    """
    env = dict(os.environ) if environ is None else environ
    config = _config_file(folder)
    url = env.get(URL_VARIABLE) or config.get("service_url") or ""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the service URL {url!r} should start with http:// or https://")
    token = env.get(TOKEN_VARIABLE) or config.get("token") or env.get(HUB_TOKEN_VARIABLE)
    if not isinstance(token, str) or not token.strip():
        raise ConfigurationError(
            f"a grading service is set ({url}) but no token: set {TOKEN_VARIABLE} "
            f'or "token" in {CONFIG_NAMES[0]} next to the notebook'
        )
    return Service(url=url, token=token.strip())
