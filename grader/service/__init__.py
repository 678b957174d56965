"""The grading service: students check and submit notebooks over HTTP, graded in the
course's sandboxes, never on the student's machine.

Modules: :mod:`~grader.service.schema` (the SQLite schema and its versioned migrations),
:mod:`~grader.service.store` (every submission, durable before it is acknowledged),
:mod:`~grader.service.gradebook` (the latest submission per student as a batch for the
report writers), :mod:`~grader.service.app` (the HTTP API), :mod:`~grader.service.auth`
(tokens and roles), :mod:`~grader.service.settings` (deadlines, limits) and
:mod:`~grader.service.server` (``grader serve``). Nothing is imported here: the command
line loads only what a command needs.
"""
