#!/usr/bin/env bash
# regnorm-lab: Gradescope runs this once, as root, while it builds the autograder image.
# It installs Python, torch (CPU wheels) and the grader's dependencies into $ROOT/venv, and installs the
# grader in place (editable), so its only copy stays under $ROOT/source/grader, where run_autograder
# makes the hidden checks and reference values readable by root only.
set -euo pipefail
ROOT="${GRADESCOPE_ROOT:-/autograder}"
SRC="$ROOT/source"
export DEBIAN_FRONTEND=noninteractive
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --upgrade pip
CONSTRAINTS=()
if [ -f "$SRC/grader/constraints.txt" ]; then CONSTRAINTS=(-c "$SRC/grader/constraints.txt"); fi
"$ROOT/venv/bin/python" -m pip install --extra-index-url https://download.pytorch.org/whl/cpu \
    "${CONSTRAINTS[@]}" -e "$SRC/grader"
# The student's process drops to an unprivileged user: it must be able to run this Python and import
# the grader's worker (but not the secrets, see run_autograder).
chmod 755 "$ROOT" "$SRC"
chmod -R go+rX "$ROOT/venv" "$SRC/grader"
"$ROOT/venv/bin/python" -c "import autograder.bundles as b; b.lock_down('$SRC/grader/autograder')"
"$ROOT/venv/bin/python" -c "import torch, autograder; print('torch', torch.__version__, 'grader', autograder.__file__)"
