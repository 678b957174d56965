"""``grader serve``: the grading service students check and submit notebooks to (see
docs/service.md). Arguments in, :func:`grader.service.server.run_service` does the rest."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import limit_options, sigterm_interrupts


@click.command()
@click.option(
    "--release-root",
    type=click.Path(path_type=Path),
    default=Path("release"),
    show_default=True,
    help="The folder of release folders (one per assignment served), or one release folder.",
)
@click.option(
    "--tokens",
    type=click.Path(path_type=Path),
    required=True,
    help="CSV with the columns token,user,role (role: student or instructor): "
    "the roster and who may do what.",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=Path("grader.sqlite"),
    show_default=True,
    help="The SQLite store of every check and submission (created if missing).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0: any."
)
@click.option(
    "--base-url",
    default="/",
    show_default=True,
    help="Path prefix of the API, e.g. /services/grader/ behind JupyterHub's proxy.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Worker processes grading in parallel (default: one per core).",
)
@click.option(
    "--max-queue",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Notebooks waiting or being graded before new ones get 503 (with Retry-After).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=5 << 20,
    show_default=True,
    help="Largest notebook accepted (413 above).",
)
@click.option(
    "--max-per-hour",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions per student and assignment per hour (429 above; default: no limit).",
)
@click.option(
    "--deadline",
    metavar="ISO",
    default=None,
    help="Deadline of every assignment, ISO 8601 with a UTC offset "
    "(2025-03-01T23:59+01:00); per assignment: --config.",
)
@click.option(
    "--late",
    metavar="POLICY",
    default=None,
    help="What a late submission gets: accept (flagged, the default), refuse (recorded, "
    "not counted) or penalty:F (F of the score off per day late, e.g. penalty:0.1).",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML (or .json) file with deadline, late, max_per_hour and per-assignment "
    "[assignments.NAME] deadline and late; flags win over it.",
)
@click.option(
    "--hub-api-url",
    metavar="URL",
    default=None,
    help="JupyterHub's API (e.g. http://127.0.0.1:8081/hub/api): tokens not in --tokens "
    "are checked there, so students' JUPYTERHUB_API_TOKEN works.",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    default=None,
    help="Grade on a Dask cluster instead, e.g. tcp://scheduler:8786.",
)
@limit_options
def serve(
    release_root: Path,
    tokens: Path,
    db: Path,
    host: str,
    port: int,
    base_url: str,
    jobs: int,
    max_queue: int,
    max_bytes: int,
    max_per_hour: int | None,
    deadline: str | None,
    late: str | None,
    config: Path | None,
    hub_api_url: str | None,
    dask_address: str | None,
    timeout: float,
    memory_mb: int,
) -> None:
    """Run the grading service: students check and submit notebooks over HTTP, graded
    here in the same sandboxes as grader grade. Stops on Ctrl-C or SIGTERM."""
    from grader.grading.options import Options
    from grader.sandbox.server import Limits
    from grader.service.server import run_service
    from grader.service.settings import load_settings

    settings = load_settings(
        max_bytes=max_bytes,
        max_queue=max_queue,
        max_per_hour=max_per_hour,
        deadline=deadline,
        late=late,
        config=config,
        hub_api_url=hub_api_url,
    )
    options = Options(limits=Limits(call_timeout=timeout, memory_bytes=memory_mb << 20), jobs=jobs)
    runner = None
    if dask_address is not None:
        from grader.runners.dask_cluster import DaskRunner

        runner = DaskRunner(dask_address, keep=True)  # one call per notebook

    def out(line: str) -> None:
        click.echo(line)

    with sigterm_interrupts():  # while starting; the running service handles its own
        run_service(
            release_root=release_root,
            tokens=tokens,
            db=db,
            host=host,
            port=port,
            options=options,
            settings=settings,
            runner=runner,
            base_url=base_url,
            out=out,
        )
