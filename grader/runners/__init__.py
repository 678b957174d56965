"""How a batch is spread over workers: processes on this machine, or a Dask cluster.

A runner is a callable ``(submissions, context) -> iterator of (position, result)``
(:data:`grader.grading.batch.Runner`); it owns its workers and stops them when closed.
"""
