"""`--format classroom` / `classroom-output`: what GitHub Classroom's grading reporter reads.

The fields and the arithmetic below are those of classroom-resources/autograding-grading-reporter
(src/main.js, src/notify-classroom.js, src/console-results.js, src/helpers/test-helpers.js) and of the
result that classroom-resources/autograding-command-grader writes (src/main.js, generateResult):

- the reporter reads the environment variable ``<RUNNER ID IN CAPITALS>_RESULTS``, base64-decodes it
  (UTF-8) and JSON-parses it: ``{"version": 1, "status", "max_score", "tests": [...]}``;
- each test: ``name``, ``status`` (``pass``/``fail``/``error``), ``score``, ``message``, ``test_code``,
  ``filename``, ``line_no``, ``duration`` (milliseconds);
- Classroom gets the notice ``Points <sum of the tests' scores>/<max_score>`` (only when max_score > 0);
- the step fails when a runner's ``status`` is ``fail`` or ``error``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys

import pytest
from helpers import REPO, solution_path, student_path

from autograder.reports import RENDERERS
from autograder.reports.classroom import MAX_ENCODED, classroom_result, encoded_result, unfinished_result
from autograder.results import CheckResult, GradingRun, NotebookResult, Status
from autograder.suites import load_suite

ASSIGNMENT = "01_data_splits"
EXAMPLE = os.path.join(REPO, "examples", f"{ASSIGNMENT}-example.ipynb")
GRADER = os.path.join(os.path.dirname(sys.executable), "autograder")
STATUSES = {"pass", "fail", "error"}
TEST_FIELDS = {"name": str, "status": str, "score": (int, float), "message": str, "test_code": str,
               "filename": str, "line_no": int, "duration": int}
#: Linux's limit on one environment variable (MAX_ARG_STRLEN), which carries the result to the reporter.
ENV_LIMIT = 128 * 1024


def decode_output_line(text: str, runner: str = "regnorm") -> dict:
    """What the reporter does with a ``result=<base64>`` line once it is ``<RUNNER>_RESULTS``."""
    lines = [line for line in text.splitlines() if line.startswith("result=")]
    assert len(lines) == 1, text
    env = {f"{runner.upper()}_RESULTS": lines[0][len("result="):]}
    encoded = env[f"{runner.strip().upper()}_RESULTS"]
    assert re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", encoded) and len(encoded) < ENV_LIMIT
    return json.loads(base64.b64decode(encoded, validate=True).decode("utf-8"))


def validate(result: dict) -> dict:
    """Assert ``result`` is what the reporter reads; returns the reporter's figures."""
    assert result["version"] == 1
    assert result["status"] in STATUSES
    assert isinstance(result["max_score"], (int, float)) and result["max_score"] >= 0
    tests = result["tests"]
    assert isinstance(tests, list) and tests  # console-results divides by len(tests)
    for t in tests:
        for key, typ in TEST_FIELDS.items():
            assert isinstance(t[key], typ) and not isinstance(t[key], bool), (key, t)
        assert t["status"] in STATUSES and t["line_no"] == 0 and t["duration"] >= 0
        assert 0 <= t["score"]
        if t["status"] == "pass":
            assert t["score"] > 0 or "0/0 points" in t["test_code"]
        if t["status"] == "error":
            assert t["score"] == 0 and t["message"]  # the reporter prints only the message of an error
    # notify-classroom.js: Points <sum of scores>/<max_score>, only for a runner with max_score > 0
    total = sum(t["score"] for t in tests) if result["max_score"] else 0
    assert total <= result["max_score"] + 1e-9
    statuses = {t["status"] for t in tests}
    expected = "error" if "error" in statuses else ("fail" if "fail" in statuses else "pass")
    assert result["status"] == expected
    return {"points": total, "max": result["max_score"], "fails_the_step": result["status"] != "pass"}


def check(name, exercise, points, score, status, hidden=False, feedback=""):
    return CheckResult(name, exercise, f"title of {name}", points, score, status, hidden, feedback)


def test_full_partial_and_ungradable_runs_in_the_reporters_format():
    full = NotebookResult("a.ipynb", ASSIGNMENT, checks=[check("e.a", "e", 2, 2, Status.PASSED),
                                                        check("e.b", "e", 1, 1, Status.PASSED, hidden=True)])
    figures = validate(classroom_result(GradingRun([full])))
    assert figures == {"points": 3, "max": 3, "fails_the_step": False}

    partial = NotebookResult("b.ipynb", ASSIGNMENT, notes=["a note"], checks=[
        check("e.a", "e", 2, 1, Status.PARTIAL, feedback="[case 1] wrong"),
        check("e.b", "e", 1, 0, Status.NOT_IMPLEMENTED, feedback="not implemented yet"),
        check("f.c", "f", 1.5, 1.5, Status.PASSED)])
    result = classroom_result(GradingRun([partial]))
    assert validate(result) == {"points": 2.5, "max": 4.5, "fails_the_step": True}
    assert result["status"] == "fail" and result["notes"] == ["b.ipynb: a note"]
    by_name = {t["name"]: t for t in result["tests"]}
    assert list(by_name) == [f"{ASSIGNMENT}: e.a", f"{ASSIGNMENT}: e.b", f"{ASSIGNMENT}: f.c"]
    assert by_name[f"{ASSIGNMENT}: e.a"]["score"] == 1 and by_name[f"{ASSIGNMENT}: e.a"]["status"] == "fail"
    assert by_name[f"{ASSIGNMENT}: e.a"]["message"] == "title of e.a\n[case 1] wrong"  # the check's feedback
    assert "[case 1] wrong" in by_name[f"{ASSIGNMENT}: e.a"]["test_code"]  # what the reporter's log prints
    assert by_name[f"{ASSIGNMENT}: e.a"]["test_code"].startswith("1/2 points (e): title of e.a")

    died = NotebookResult("c.ipynb", ASSIGNMENT, checks=[check("e.a", "e", 1, 0, Status.DIED, feedback="killed")])
    assert validate(classroom_result(GradingRun([died])))["fails_the_step"]
    assert classroom_result(GradingRun([died]))["tests"][0]["status"] == "error"

    ungradable = NotebookResult("d.ipynb", ASSIGNMENT, error="the file is not a valid notebook")
    result = classroom_result(GradingRun([ungradable]))
    total = load_suite(ASSIGNMENT, hidden=True).points()
    assert validate(result) == {"points": 0, "max": total, "fails_the_step": True}  # 0 out of the assignment
    assert result["status"] == "error" and "not a valid notebook" in result["tests"][0]["message"]

    unknown = NotebookResult("e.ipynb", None, error="no assignment")
    assert validate(classroom_result(GradingRun([unknown])))["max"] == 0

    unfinished = unfinished_result("grading did not finish (exit 137)", ASSIGNMENT)
    assert validate(unfinished) == {"points": 0, "max": total, "fails_the_step": True}


def test_the_output_line_is_base64_of_the_json_and_stays_under_the_environment_limit():
    run = GradingRun([NotebookResult("b.ipynb", ASSIGNMENT, checks=[
        check("e.a", "e", 2, 1, Status.PARTIAL, feedback="ünïcode ✓")])])
    assert decode_output_line(RENDERERS["classroom-output"](run)) == json.loads(RENDERERS["classroom"](run))
    huge = GradingRun([NotebookResult("b.ipynb", ASSIGNMENT, checks=[
        check(f"e.{i}", "e", 1, 0, Status.FAILED, feedback="x" * 20_000) for i in range(30)])])
    encoded = encoded_result(huge)
    assert len(encoded) <= MAX_ENCODED
    result = json.loads(base64.b64decode(encoded))
    assert validate(result)["max"] == 30 and len(result["tests"]) == 30  # shortened texts, every check kept


def grade(notebook, fmt: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REGNORM_GRADING"}
    return subprocess.run([GRADER, "grade", notebook, "--assignment", ASSIGNMENT, "--format", fmt],
                          capture_output=True, text=True, timeout=600, env={**env, "CI": "true"})


@pytest.mark.slow
def test_grade_writes_the_reporters_result_for_full_partial_and_ungradable_notebooks(tmp_path):
    suite = load_suite(ASSIGNMENT, hidden=True)
    total = suite.points()
    junk = tmp_path / f"{ASSIGNMENT}.ipynb"
    junk.write_bytes(b"\x00\x01 not a notebook")
    cases = {"solution": solution_path(ASSIGNMENT), "example": EXAMPLE, "junk": str(junk),
             "student": student_path(ASSIGNMENT)}
    results = {}
    for label, notebook in cases.items():
        proc = grade(notebook, "classroom-output")
        assert proc.returncode in (0, 3), proc.stdout + proc.stderr
        results[label] = decode_output_line(proc.stdout)

    full = validate(results["solution"])
    assert full == {"points": total, "max": total, "fails_the_step": False}
    names = [t["name"] for t in results["solution"]["tests"]]
    assert names == [f"{ASSIGNMENT}: {c.name}" for c in suite.checks]  # one test per check, suite order

    partial = validate(results["example"])
    assert 0 < partial["points"] < total and partial["max"] == total and results["example"]["status"] == "fail"
    report = json.loads(grade(EXAMPLE, "json").stdout)  # the same points, check by check, as the JSON report
    (nb,) = report["notebooks"]
    assert [t["score"] for t in results["example"]["tests"]] == [c["score"] for c in nb["checks"]]
    assert [t["status"] == "pass" for t in results["example"]["tests"]] == [c["status"] == "passed"
                                                                           for c in nb["checks"]]
    failed = [t for t in results["example"]["tests"] if t["status"] != "pass"]
    assert failed and all("\n" in t["message"] for t in failed)  # title, then the check's feedback

    assert validate(results["student"]) == {"points": 0, "max": total, "fails_the_step": True}
    ungradable = validate(results["junk"])
    assert ungradable == {"points": 0, "max": total, "fails_the_step": True}
    assert results["junk"]["status"] == "error" and len(results["junk"]["tests"]) == 1
