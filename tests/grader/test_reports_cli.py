"""Reports (table, JSON, Gradescope, JUnit), --output, --fail-under and exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from helpers import REPO

from autograder.engine import grade_notebook
from autograder.reports import RENDERERS
from autograder.results import GradingRun

EXAMPLE = os.path.join(REPO, "examples", "01_data_splits-example.ipynb")


@pytest.fixture(scope="module")
def example_run() -> GradingRun:
    return GradingRun([grade_notebook(EXAMPLE)])


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=REPO)


def test_table_lists_every_check_total_and_feedback(example_run):
    text = RENDERERS["table"](example_run)
    nb = example_run.notebooks[0]
    for c in nb.checks:
        assert c.name in text
    assert "TOTAL" in text and f"{nb.score:g} / {nb.max_score:g}" in text
    assert "this matches a known mistake: sizes were rounded with round()" in text


def test_json_report_schema(example_run):
    data = json.loads(RENDERERS["json"](example_run))
    assert data["schema"] == "regnorm-report/2" and data["graded"] is True
    nb = data["notebooks"][0]
    assert nb["assignment"] == "01_data_splits"
    assert 0 < data["score"] < data["max_score"] == nb["max_score"]
    statuses = {c["status"] for c in nb["checks"]}
    assert {"passed", "failed"} <= statuses
    for c in nb["checks"]:
        assert {"name", "exercise", "title", "points", "score", "status", "hidden", "feedback", "cases"} <= set(c)


def test_gradescope_results_follow_the_spec(example_run):
    data = json.loads(RENDERERS["gradescope"](example_run))
    assert data["score"] == example_run.score
    assert data["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert data["tests"]
    for t in data["tests"]:
        assert {"name", "score", "max_score", "status", "output"} <= set(t)
        assert t["status"] in ("passed", "failed")
        assert t["visibility"] in ("visible", "after_published")
        assert 0 <= t["score"] <= t["max_score"]
    assert sum(t["max_score"] for t in data["tests"]) == example_run.max_score


def test_junit_parses_and_counts_failures(example_run):
    root = ET.fromstring(RENDERERS["junit"](example_run))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(example_run.notebooks[0].checks)
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed) > 0


def test_cli_output_file_fail_under_and_exit_statuses(tmp_path):
    out = tmp_path / "reports" / "report.xml"
    proc = cli("grade", EXAMPLE, "--format", "junit", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert ET.parse(out).getroot().tag == "testsuites"
    assert "TOTAL" in proc.stdout  # the table still goes to the terminal
    assert not [p for p in os.listdir(out.parent) if p.startswith(".report-")]  # no temp files left

    below = cli("grade", EXAMPLE, "--fail-under", "15")
    assert below.returncode == 1
    assert cli("grade", "--format", "yaml", EXAMPLE).returncode == 2
    missing = cli("grade", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 3 and "no such file" in missing.stdout


def test_unknown_assignment_is_reported_not_crashed(tmp_path):
    nb = json.load(open(EXAMPLE))
    nb["metadata"].pop("regnorm")
    path = tmp_path / "homework.ipynb"
    path.write_text(json.dumps(nb))
    proc = cli("grade", str(path))
    assert proc.returncode == 3
    assert "cannot tell which assignment" in proc.stdout
    forced = cli("grade", str(path), "--assignment", "01_data_splits", "--format", "json")
    assert forced.returncode == 0 and json.loads(forced.stdout)["score"] > 0


def test_assignment_detected_from_file_name_without_metadata(tmp_path):
    nb = json.load(open(EXAMPLE))
    nb["metadata"].pop("regnorm")
    path = tmp_path / "data_splits-jane.ipynb"
    path.write_text(json.dumps(nb))
    assert grade_notebook(str(path)).assignment == "01_data_splits"


def test_example_submission_is_up_to_date_with_the_student_notebook():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "make_example.py"), "--check"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_a_torch_version_other_than_the_references_is_reported(monkeypatch):
    from autograder import references

    real = references.load

    def fake(assignment, hidden=True):
        refs = real(assignment, hidden)
        refs.torch = "0.0.0-recorded"
        return refs

    monkeypatch.setattr(references, "load", fake)
    result = grade_notebook(EXAMPLE)
    assert any("recorded with torch 0.0.0-recorded" in n for n in result.notes), result.notes
    monkeypatch.setattr(references, "load", real)
    assert not any("recorded with torch" in n for n in grade_notebook(EXAMPLE).notes)


def test_list_shows_autograded_and_hand_graded_points_and_survives_a_closed_pipe():
    from autograder.locked_cells import manual_points
    from autograder.suites import ASSIGNMENTS, load_suite

    out = subprocess.run([sys.executable, "-m", "autograder", "list"], capture_output=True, text=True, cwd=REPO,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    for a in ASSIGNMENTS:
        line = next(x for x in out.stdout.splitlines() if x.startswith(a + ":"))
        assert f"{load_suite(a, hidden=True).points():g} points" in line
        manual = manual_points(a)
        assert (f"+ {manual:g} points of written answers graded by hand" in line) == bool(manual)
    assert manual_points("01_data_splits") > 0  # the written questions exist, so the branch above is exercised
    closed = subprocess.run(f"{sys.executable} -m autograder list | head -1", shell=True, capture_output=True,
                            text=True, cwd=REPO, timeout=120)
    assert "internal error" not in closed.stderr and "Traceback" not in closed.stderr


def test_readme_assignment_table_states_the_points_the_grader_gives():
    """The README's table of assignments says each one's autograded points and its hand-graded points."""
    import re

    from autograder.locked_cells import manual_points
    from autograder.suites import ASSIGNMENTS, load_suite

    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as fh:
        rows = {m.group(1): (m.group(2), m.group(3)) for m in
                re.finditer(r"^\| \d\d \| `([a-z_]+)` \|.*\| ([\d.]+)(?: \(\+(\d+)\))? \|$", fh.read(), re.M)}
    for a in ASSIGNMENTS:
        name = a[3:]
        assert name in rows, f"{a} is not in the README's table"
        points, manual = rows[name]
        assert float(points) == load_suite(a, hidden=True).points(), f"README: {a} points"
        assert float(manual or 0) == manual_points(a), f"README: {a} hand-graded points"


def test_the_command_exits_quickly_but_runs_exit_handlers_flushes_and_keeps_its_status(tmp_path):
    """``autograder.cli.run`` skips the interpreter's teardown (os._exit) but not what the command needs: exit
    handlers run, buffered output (also to a pipe) arrives, and every exit status is kept, argparse's too."""
    marker = tmp_path / "atexit-ran"
    script = (f"import atexit, sys; atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'));"
              "from autograder.cli import run; sys.stdout.write('x' * 100000); run(sys.argv[1:])")
    code = [sys.executable, "-c", script]
    listed = subprocess.run([*code, "list"], capture_output=True, text=True, cwd=REPO)
    assert listed.returncode == 0 and listed.stdout.startswith("x" * 100000) and "01_data_splits" in listed.stdout
    assert marker.read_text() == "yes"
    assert subprocess.run([*code, "no-such-command"], capture_output=True, cwd=REPO).returncode == 2
    assert subprocess.run([*code, "--help"], capture_output=True, cwd=REPO).returncode == 0
    missing = subprocess.run([*code, "grade", str(tmp_path / "missing.ipynb")], capture_output=True, text=True,
                             cwd=REPO)
    assert missing.returncode == 3 and "missing.ipynb" in missing.stdout + missing.stderr
