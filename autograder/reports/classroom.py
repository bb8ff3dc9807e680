"""GitHub Classroom's autograding result: one test per check, so each check's points reach Classroom.

``classroom-resources/autograding-grading-reporter@v1`` reads, for each id in its ``runners`` input,
the environment variable ``<ID>_RESULTS`` (the id in capitals): base64 of one JSON object

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": N,
     "tests": [{"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}]}

(the object ``autograding-command-grader`` writes as its ``result`` output, with one test). The
reporter sends Classroom ``Points <sum of every test's score>/<sum of max_score>`` (its
``notify-classroom.js``), so one test per check with the check's score gives per-check points. Its
log prints ``name`` for every test, ``message`` only for ``status: error`` and ``test_code`` for
every test, so ``test_code`` carries the points and the feedback a student reads there. A runner
with ``status: fail`` or ``error`` makes the reporter's step fail (the run shows a red cross).

Formats: ``classroom`` is that JSON (indented); ``classroom-output`` is the line
``result=<base64>`` to append to ``$GITHUB_OUTPUT``. When grading did not finish, write the line of
:func:`unfinished_result`: 0 points out of the assignment's total, and the reason::

    python -c 'import sys; from autograder.reports.classroom import main; sys.exit(main())' \
        --unfinished "grading did not finish (exit 137)" --assignment 01_data_splits >> "$GITHUB_OUTPUT"

(``-c`` rather than ``-m``: the package imports this module to register its renderers).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys

from autograder.results import NOT_JUDGED, GradingRun

VERSION = 1
#: The reporter gets the result through one environment variable; Linux refuses a single variable
#: over 128 KiB (MAX_ARG_STRLEN) when it starts the action, so the base64 text stays below this.
MAX_ENCODED = 100_000
#: Longest ``message``/``test_code`` kept, tried in turn until the encoded result fits.
TEXT_CAPS = (4000, 1000, 200, 0)


def _number(x: float) -> float | int:
    x = round(float(x), 4)
    return int(x) if x == int(x) else x


def _cut(text: str, cap: int | None) -> str:
    if cap is None or len(text) <= cap:
        return text
    return text[:cap].rstrip() + (" …" if cap else "")


def assignment_points(assignment: str | None) -> float:
    """Total points of an assignment (hidden checks included); 0 when it is not known."""
    if not assignment:
        return 0.0
    try:
        from autograder.suites import load_suite

        return float(load_suite(assignment, hidden=True).points())
    except Exception:  # noqa: BLE001 - an unknown assignment or a student bundle: no total to show
        return 0.0


def _test(name: str, status: str, score: float, message: str, test_code: str, filename: str,
          duration_s: float) -> dict:
    return {"name": name, "status": status, "score": _number(score), "message": message, "test_code": test_code,
            "filename": filename, "line_no": 0, "duration": int(round(duration_s * 1000))}


def classroom_result(run: GradingRun, cap: int | None = None) -> dict:
    """The reporter's JSON for a grading run: one test per check (an ungradable notebook: one error test)."""
    tests: list[dict] = []
    notes: list[str] = []
    max_score = 0.0
    for nb in run.notebooks:
        filename = nb.path
        if nb.error:
            max_score += assignment_points(nb.assignment)
            tests.append(_test(f"{nb.assignment or os.path.basename(nb.path)}: could not be graded", "error", 0.0,
                               _cut(f"{nb.path}: {nb.error}", cap), "", filename, nb.duration_s))
            continue
        max_score += nb.max_score
        for c in nb.checks:
            verdict = "pass" if c.passed else ("error" if c.status in NOT_JUDGED else "fail")
            where = c.exercise + (", hidden" if c.hidden else "")
            feedback = c.feedback or ""
            message = c.title + ("\n" + feedback if feedback else "")
            test_code = f"{c.score:g}/{c.points:g} points ({where}): {c.title}"
            if feedback and not c.passed:
                test_code += "\n" + feedback
            tests.append(_test(f"{nb.assignment}: {c.name}", verdict, c.score, _cut(message, cap),
                               _cut(test_code, cap), filename, c.duration_s))
        notes += [f"{nb.path}: {n}" for n in nb.notes]
        notes += [f"{nb.path}: cell #{e.index} raised {e.error_type}: {e.message}" for e in nb.cell_errors]
    verdicts = {t["status"] for t in tests}
    status = "error" if "error" in verdicts or not tests else ("fail" if "fail" in verdicts else "pass")
    result = {"version": VERSION, "status": status, "max_score": _number(max_score), "tests": tests}
    if notes:  # not read by the reporter; kept for people reading the JSON
        result["notes"] = [_cut(n, cap) for n in notes]
    return result


def encode(result: dict) -> str:
    return base64.b64encode(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode("utf-8")).decode("ascii")


def encoded_result(run: GradingRun) -> str:
    """Base64 of :func:`classroom_result`, texts shortened until it fits :data:`MAX_ENCODED`."""
    text = encode(classroom_result(run))
    for cap in TEXT_CAPS:
        if len(text) <= MAX_ENCODED:
            break
        text = encode(classroom_result(run, cap=cap))
    return text


def render_classroom(run: GradingRun) -> str:
    return json.dumps(classroom_result(run), indent=2, ensure_ascii=False) + "\n"


def render_classroom_output(run: GradingRun) -> str:
    """``result=<base64>``: append it to ``$GITHUB_OUTPUT`` in a step whose id the reporter lists."""
    return f"result={encoded_result(run)}\n"


def unfinished_result(reason: str, assignment: str | None = None) -> dict:
    """The result when grading did not finish: 0 points out of the assignment's total, and why."""
    return {"version": VERSION, "status": "error", "max_score": _number(assignment_points(assignment)),
            "tests": [_test(f"{assignment or 'notebook'}: grading", "error", 0.0, reason[:2000], "", "", 0.0)]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autograder.reports.classroom",
                                     description="Write the GitHub Classroom result line for a grading that did "
                                                 "not finish (append it to $GITHUB_OUTPUT).")
    parser.add_argument("--unfinished", required=True, metavar="REASON", help="why there is no grading report")
    parser.add_argument("--assignment", help="the assignment (its total points become max_score)")
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the result= line")
    args = parser.parse_args(argv)
    result = unfinished_result(args.unfinished, args.assignment)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        sys.stdout.write(f"result={encode(result)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
