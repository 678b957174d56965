"""``python -m grader_student check|submit [NOTEBOOK]``."""

import sys

from grader_student.api import main

sys.exit(main())
