"""The kit inside the course tools people already run: an nbgrader course and its
gradebook, a Gradescope autograder, a GitHub Actions / Classroom template, a pytest
plugin. Each one only adapts: the grading is :mod:`grader.engine`'s."""
