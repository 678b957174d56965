#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image (Ubuntu):
# it installs the grading kit shipped beside it (wheels/) and the kit's dependencies
# (from PyPI) into a venv of their own, so that the system's Python is left as it is.
#
# Settings, for trying it elsewhere (all optional):
#   AUTOGRADER_ROOT     where the autograder lives (default /autograder)
#   GRADER_VENV         the venv to install into (default $AUTOGRADER_ROOT/venv); one that
#                       exists already is used as it is (e.g. made --system-site-packages)
#   GRADER_PIP_OPTIONS  more options for pip install (e.g. --no-index)
set -euo pipefail

root="${AUTOGRADER_ROOT:-/autograder}"
venv="${GRADER_VENV:-$root/venv}"
pip_options=(${GRADER_PIP_OPTIONS:-})
wheels=("$root"/source/wheels/*.whl)

if [ ! -x "$venv/bin/python" ]; then
    # python3 and its venv module only when missing (apt needs root and the network)
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv python3-pip
        python3 -m venv "$venv"
    fi
fi
python="$venv/bin/python"

# the kit itself goes into the venv even when the venv sees another copy of it (one that
# shares the system's packages); then whatever the wheels need that is still missing
"$python" -m pip install -q "${pip_options[@]}" --no-deps --force-reinstall "${wheels[@]}"
"$python" -m pip install -q "${pip_options[@]}" "${wheels[@]}"

# fail here, while the instructor watches the build, rather than on every submission
"$python" - <<'PY'
import os.path
import sys

import grader

if not os.path.realpath(grader.__file__).startswith(os.path.realpath(sys.prefix) + os.sep):
    sys.exit(f"setup.sh: grader imports from {grader.__file__}, not from the venv {sys.prefix}")
print(f"grader {grader.__version__} installed in {sys.prefix}")
PY
