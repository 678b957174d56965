"""``grader serve`` as a function: open the store, start the pool, regrade what a killed
server left unfinished, listen, and stop cleanly on SIGTERM or Ctrl-C.

The order matters: nothing listens before every assignment is prepared and the
workers are up, so the first request is graded at full speed; on a stop the listener
closes first, requests still being graded get a moment to be answered, then the pool
and the store close. A submission accepted and not finished is not lost either way:
the store has it, and the next start grades it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import UsageError
from grader.service.auth import Authenticator, Roster
from grader.service.settings import ServiceSettings
from grader.service.state import ServiceState

if TYPE_CHECKING:
    from grader.grading.options import Options
    from grader.runners import Runner

STORE_THREADS = 4
GRACE_SECONDS = 10.0  # a stop waits this long for requests being graded
ANSWER_SECONDS = 5.0  # then closes the pool and waits this long for their 503 answers
BODY_TIMEOUT_SECONDS = 120.0
IDLE_CONNECTION_SECONDS = 300.0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_service(
    *,
    release_root: Path,
    tokens: Path,
    db: Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    options: Options | None = None,
    settings: ServiceSettings | None = None,
    runner: Runner | None = None,
    base_url: str = "/",
    out: Callable[[str], None] = print,
    warn: Callable[[str], None] = _stderr,
) -> None:
    """Serve until SIGTERM/SIGINT. ``out`` gets the one line saying where it listens."""
    from grader.engine import GradingPool
    from grader.service.store import Store
    from grader.version import __version__

    settings = settings or ServiceSettings()
    roster = Roster.read(tokens)  # a bad tokens file is told before anything starts
    with contextlib.ExitStack() as stack:
        store = Store(db)
        stack.callback(store.close)
        store.set_roster(roster.members())
        if runner is not None:
            stack.callback(runner.close)
        # the sandboxes must not see the store nor the tokens file
        hide = (db.resolve().parent, tokens.resolve().parent)
        pool = GradingPool(release_root, options=options, runner=runner, hide=hide, warn=warn)
        pool.start()
        stack.callback(pool.close)
        settings.check_assignments(set(pool.assignments))
        executor = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="grader-store")
        stack.callback(executor.shutdown, wait=True)
        state = ServiceState(
            pool=pool,
            store=store,
            settings=settings,
            auth=Authenticator(roster, settings.hub_api_url),
            executor=executor,
            grader_version=__version__,
            warn=warn,
        )
        asyncio.run(_serve(state, host, port, base_url, out))


async def _serve(
    state: ServiceState, host: str, port: int, base_url: str, out: Callable[[str], None]
) -> None:
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    from grader.service.app import make_app

    server = HTTPServer(
        make_app(state, base_url),
        max_body_size=state.settings.body_limit,
        body_timeout=BODY_TIMEOUT_SECONDS,
        idle_connection_timeout=IDLE_CONNECTION_SECONDS,
    )
    try:
        sockets = bind_sockets(port, host)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    server.add_sockets(sockets)
    bound = sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    names = ", ".join(sorted(state.pool.assignments))
    jobs = state.pool.jobs
    out(
        f"grading service on http://{shown}:{bound}{base_url if base_url != '/' else ''} "
        f"({jobs} worker{'' if jobs == 1 else 's'}, assignments: {names})"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    regrade = loop.run_in_executor(state.executor, state.regrade_unfinished)
    regrade.add_done_callback(lambda done: _regraded(done, state.warn))
    await stop.wait()
    server.stop()  # no new connections; requests being graded get GRACE_SECONDS
    await _drain(state, GRACE_SECONDS)
    if state.in_flight:  # still grading: those get 503 (kept, graded at the next start)
        await loop.run_in_executor(None, state.pool.close)
        await _drain(state, ANSWER_SECONDS)
    await server.close_all_connections()
    state.warn("grading service stopped")


async def _drain(state: ServiceState, seconds: float) -> None:
    """Wait up to ``seconds`` for the requests being graded to be answered."""
    deadline = asyncio.get_running_loop().time() + seconds
    while state.in_flight and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)


def _regraded(done: asyncio.Future, warn: Callable[[str], None]) -> None:
    if done.cancelled():
        return
    exc = done.exception()
    if exc is not None:
        warn(f"regrading unfinished submissions failed: {exc}")
    elif done.result():
        warn(f"regrading {done.result()} submissions received before the last stop")
