"""Hostile and broken submissions: the grader must hold against every one (issue 5)."""
