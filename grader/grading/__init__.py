"""The per-submission pipeline: read -> extract -> run in the sandbox -> check against
the reference -> score; and the batch that drives it (:mod:`grader.grading.batch`)."""
