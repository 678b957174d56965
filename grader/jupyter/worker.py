"""One dashboard job, run as ``python -m grader.jupyter.worker REQUEST`` by the server
(:mod:`grader.jupyter.jobs`): grading a folder, reading the grading service's store, or
regenerating a release, through the code the commands use.

* ``grade``: :func:`grader.engine.jobs_by_assignment` (the one engine), its journal in
  the output folder as ``grader grade`` keeps it, reports by
  :func:`grader.reports.write_reports`;
* ``store``: :func:`grader.service.gradebook.batch_from_store`, as ``grader export``;
* ``release``: :func:`grader.authoring.generate.build` and ``write``, as ``grader
  release`` (the executed solutions reused when their inputs did not change).

``REQUEST`` is a JSON object: ``kind``, ``root`` (the server root; the course's
``release/`` there is where releases are looked up, unless ``GRADER_RELEASE_ROOT`` says
otherwise) and the kind's paths, relative to the root, checked by the server. The
worker answers on its stdout, one JSON object a line: ``{"total": n}``, ``{"done": n}``,
``{"warning": text}``, and last ``{"result": {...}}`` or ``{"error": text}``. Anything
else written to stdout (by a library) goes to stderr instead. SIGTERM, or its stdin
closing (the server gone), stops it as Ctrl-C stops ``grader grade``: its sandboxes
closed, the results so far kept in the journal.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from grader.errors import GraderError, UsageError

Send = Callable[..., None]


def _channel() -> IO[str]:
    """The real stdout, for messages; fd 1 then points at stderr, so that nothing else
    printed (a library, a forked worker) can break a message line."""
    messages = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    return messages


def _stop_when_told() -> None:
    """SIGTERM, or EOF on stdin (the server died), as Ctrl-C."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)

    def watch() -> None:
        # the file descriptor, not sys.stdin: a worker forked by multiprocessing closes
        # its copy of sys.stdin, and a buffered read in this thread then ends at once
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="grader-stdin-watch", daemon=True).start()


def _shown(root: Path, path: Path) -> str:
    """``path`` relative to the server root when inside it (as the dashboard names it)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def grade(request: dict[str, Any], send: Send) -> dict[str, Any]:
    """Grade ``folder`` into ``out`` as ``grader grade FOLDER --out OUT`` would."""
    from grader.engine import jobs_by_assignment
    from grader.grading.locations import RELEASE_ROOT_VARIABLE
    from grader.grading.options import Options
    from grader.jupyter.summary import summarize
    from grader.reports import write_reports
    from grader.resume import journal_path

    root = Path(request["root"])
    folder, out_dir = root / request["folder"], root / request["out"]
    if not os.environ.get(RELEASE_ROOT_VARIABLE) and (root / "release").is_dir():
        os.environ[RELEASE_ROOT_VARIABLE] = str(root / "release")  # this course's releases
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        send(warning=message)

    by_assignment = jobs_by_assignment(
        [folder], options=Options(), hide=(out_dir.resolve(),), warn=warn, argument="--release"
    )
    if not any(job.notebooks for job in by_assignment.values()):
        raise UsageError(f"no notebooks (*.ipynb) found in {request['folder']}; nothing graded")
    total = sum(len(job.submissions) for job in by_assignment.values())
    done = [0]
    send(total=total, done=0)

    def progress(_result: object) -> None:
        done[0] += 1
        send(done=done[0])

    several = len(by_assignment) > 1  # each assignment's reports in OUT/<assignment>/
    assignments = []
    for name, job in by_assignment.items():
        target = out_dir / name if several else out_dir
        target.mkdir(parents=True, exist_ok=True)
        job.journal = journal_path(target)
        batch = job.run(progress)
        title = job.context.assignment.title if job.context else batch.assignment
        write_reports(batch, target, title)
        assignments.append(summarize(batch, title, _shown(root, target)))
    return _result(assignments, warnings)


def _result(assignments: list[dict[str, Any]], warnings: list[str]) -> dict[str, Any]:
    summary = [
        {"assignment": a["assignment"], "title": a["title"], "out": a["out"], **a["stats"]}
        for a in assignments
    ]
    return {"assignments": assignments, "summary": summary, "warnings": warnings}


def store(request: dict[str, Any], send: Send) -> dict[str, Any]:
    """The grading service's store into ``out`` as ``grader export --db DB`` would."""
    from grader.authoring.assignment import load_release
    from grader.jupyter.summary import summarize
    from grader.reports import write_reports
    from grader.service.gradebook import batch_from_store
    from grader.service.store import Store

    root = Path(request["root"])
    db_path, out_dir = root / request["db"], root / request["out"]
    assignments = []
    with Store(db_path) as opened:
        names = opened.assignments()
        if not names:
            raise GraderError(f"{request['db']} holds no submissions: nothing to show")
        send(total=len(names), done=0)
        for number, name in enumerate(names, start=1):
            released = None
            if (root / "release" / name).is_dir():
                try:
                    released = load_release(root / "release" / name)[0]
                except GraderError:
                    released = None  # costs the reports their title and exercise order
            batch = batch_from_store(
                opened,
                name,
                exercises=None if released is None else [e.name for e in released.exercises],
                max_score=None if released is None else released.max_score,
            )
            target = out_dir / name if len(names) > 1 else out_dir
            target.mkdir(parents=True, exist_ok=True)
            title = name if released is None else released.title
            write_reports(batch, target, title)
            assignments.append(summarize(batch, title, _shown(root, target)))
            send(done=number)
    return _result(assignments, [])


def release(request: dict[str, Any], send: Send) -> dict[str, Any]:
    """Regenerate one assignment's release and solutions as ``grader release NAME``
    would; the result lists every file added, changed or removed, by content."""
    from grader import atomic
    from grader.authoring import generate

    root = Path(request["root"])
    release_root, solutions_root = root / "release", root / "solutions"
    [folder] = generate.source_folders(root / "source_notebooks", [request["assignment"]])
    send(total=1, done=0)
    built = generate.build(folder, solutions_root / folder.name)
    trees = [
        (release_root / folder.name, built.release),
        (solutions_root / folder.name, built.solutions),
    ]
    if built.kit_folder is not None:
        trees.append((built.kit_folder, built.kit_files))
    before = {tree: atomic.read_tree(tree) for tree, _ in trees}
    generate.write([built], release_root, solutions_root)
    changes = []
    for tree, wanted in trees:
        present = before[tree]
        for name in sorted(set(wanted) | set(present)):
            if wanted.get(name) != present.get(name):
                change = (
                    "added"
                    if name not in present
                    else "removed"
                    if name not in wanted
                    else "changed"
                )
                changes.append({"path": _shown(root, tree / name), "change": change})
    send(done=1)
    assignment = built.assignment
    return {
        "assignment": assignment.name,
        "title": assignment.title,
        "release": _shown(root, release_root / folder.name),
        "solutions": _shown(root, solutions_root / folder.name),
        "changes": changes,
        "summary": {
            "assignment": assignment.name,
            "exercises": len(assignment.exercises),
            "max_score": assignment.max_score,
            "files": len(built.release),
            "changed": len(changes),
        },
    }


KINDS: dict[str, Callable[[dict[str, Any], Send], dict[str, Any]]] = {
    "grade": grade,
    "store": store,
    "release": release,
}


def main(argv: list[str] | None = None) -> int:
    messages = _channel()

    def send(**fields: Any) -> None:
        messages.write(json.dumps(fields) + "\n")
        messages.flush()

    _stop_when_told()
    try:
        request = json.loads((argv if argv is not None else sys.argv[1:])[0])
        result = KINDS[request["kind"]](request, send)
    except KeyboardInterrupt:
        send(error="stopped: the server stopped or cancelled the job")
        return 143
    except GraderError as exc:
        send(error=str(exc))
        return exc.exit_code
    except Exception as exc:  # a fault of the grader: the traceback for the server's log
        traceback.print_exc()
        send(error=f"{type(exc).__name__}: {exc}")
        return 1
    send(result=result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
