"""Pin what grading reports for the solutions, the untouched student copies and the example.

``tests/integration/pinned_reports.json`` holds, per notebook, the total, the maximum and every
check's ``[status, score]``; ``tests/integration/test_pinned_reports.py`` grades the same notebooks
and compares. A refactor must leave it unchanged; a deliberate change of the checks re-pins:

    python tools/pin_reports.py            # grade and rewrite the pin (all assignments)
    python tools/pin_reports.py 03_batch_norm   # only these assignments' entries
"""

from __future__ import annotations

import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIN = os.path.join(REPO, "tests", "integration", "pinned_reports.json")


def pinned_notebooks(assignments) -> dict[str, str]:
    """``{key: path}`` of the notebooks the pin covers (keys are repository-relative, without .ipynb)."""
    out = {}
    for a in assignments:
        out[f"solutions/{a}/{a}"] = os.path.join(REPO, "solutions", a, f"{a}.ipynb")
        out[f"assignments/{a}/{a}"] = os.path.join(REPO, "assignments", a, f"{a}.ipynb")
        example = os.path.join(REPO, "examples", f"{a}-example.ipynb")
        if os.path.exists(example):
            out[f"examples/{a}-example"] = example
    return out


def summarize(result) -> dict:
    """The pinned part of a :class:`~autograder.results.NotebookResult`."""
    return {"error": result.error, "score": result.score, "max_score": result.max_score,
            "checks": {c.name: [str(c.status), c.score] for c in result.checks}}


def main(argv: list[str]) -> int:
    sys.path.insert(0, REPO)
    import argparse

    from autograder.suites import ASSIGNMENTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", metavar="NN_name", help="only these assignments' entries (default: all)")
    argv = parser.parse_args(argv).assignments
    unknown = [a for a in argv if a not in ASSIGNMENTS]
    if unknown:
        parser.error(f"unknown assignment(s) {', '.join(unknown)}; one of {', '.join(ASSIGNMENTS)}")

    from autograder.engine import grade_notebook
    from autograder.sandbox.zygote import shared_zygote

    pin = {}
    if os.path.exists(PIN):
        with open(PIN, encoding="utf-8") as fh:
            pin = json.load(fh)
    for key, path in pinned_notebooks(argv or ASSIGNMENTS).items():
        pin[key] = summarize(grade_notebook(path, zygote=shared_zygote()))
        print(f"{key}: {pin[key]['score']:g}/{pin[key]['max_score']:g}")
    with open(PIN, "w", encoding="utf-8") as fh:
        json.dump(dict(sorted(pin.items())), fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(f"wrote {os.path.relpath(PIN, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
