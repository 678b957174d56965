"""setuptools' editable install, with the data files that a wheel installs.

``pip install -e .`` builds an editable wheel with setuptools' ``editable_wheel``
command, which means to install data files (``[tool.setuptools.data-files]``: the
dashboard's prebuilt labextension in ``share/jupyter/labextensions`` and the config that
enables ``grader.jupyter``) as a wheel does, but asks the distribution for ``has_data``,
a method it lacks (it has ``has_data_files``), and so installs none: JupyterLab and
jupyter_server would not see the dashboard of an editable install. pyproject.toml names
this command in ``[tool.setuptools.cmdclass]``; only setuptools loads this module.
"""

from __future__ import annotations

from setuptools.command.editable_wheel import editable_wheel


class EditableWheel(editable_wheel):
    """``editable_wheel`` that also installs ``data_files`` (into the wheel's data)."""

    def run(self) -> None:
        distribution = self.distribution
        if not hasattr(distribution, "has_data"):
            distribution.has_data = distribution.has_data_files  # type: ignore[attr-defined]
        super().run()
