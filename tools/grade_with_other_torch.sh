#!/usr/bin/env bash
# Grade every solution notebook (and the example) with another torch release than the references were
# recorded with (DESIGN.md §3: the same submission gets the same score on another torch).
#   tools/grade_with_other_torch.sh [TORCH_VERSION]     (default 2.13.0, a CPU build)
# Creates /tmp/regnorm-torch-$VERSION (a venv with that torch and the grader's runtime needs) once.
set -euo pipefail
VERSION="${1:-2.13.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="/tmp/regnorm-torch-$VERSION"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet "torch==$VERSION" numpy ipython scikit-learn matplotlib tqdm
fi
cd "$ROOT"
for nb in solutions/*/*.ipynb examples/*.ipynb; do
  PYTHONPATH="$ROOT" "$VENV/bin/python" -m autograder grade "$nb" --format json \
    | "$VENV/bin/python" -c "import json, sys; d = json.load(sys.stdin); print(f\"{d['score']:>5g} / {d['max_score']:<4g} $nb\")"
done
