"""The flagship assignment's reference implementation, under a short name.

Kept out of every student folder; see :mod:`grader.assignments.dnn_step_by_step.reference`.
"""
from grader.assignments.dnn_step_by_step.reference import *  # noqa: F401,F403
from grader.assignments.dnn_step_by_step.reference import EXERCISES, __all__  # noqa: F401
