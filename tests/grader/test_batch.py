"""`autograder grade-batch` over a flat folder and over nbgrader's submitted/<student>/<assignment>/ layout."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import REPO, solution_path, student_path

from autograder import batch
from autograder.suites import load_suite

ASSIGNMENT = "01_data_splits"
EXAMPLE = os.path.join(REPO, "examples", f"{ASSIGNMENT}-example.ipynb")
AUTOGRADER = os.path.join(os.path.dirname(sys.executable), "autograder")
LIMIT_ARGS = ["--cell-timeout", "20", "--notebook-timeout", "90", "--call-timeout", "20"]


def run_cli(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REGNORM_GRADING"}
    env["CI"] = "true"
    return subprocess.run([AUTOGRADER, *args], capture_output=True, text=True, timeout=600, env=env)


def full_points() -> float:
    return load_suite(ASSIGNMENT, hidden=True).points()


@pytest.mark.slow
def test_flat_folder_to_csv(tmp_path):
    sub = tmp_path / "uploads"
    sub.mkdir()
    shutil.copy(solution_path(ASSIGNMENT), sub / "alice.ipynb")
    shutil.copy(student_path(ASSIGNMENT), sub / f"{ASSIGNMENT}-bob.ipynb")
    (sub / "carol.ipynb").write_text("this is not a notebook", encoding="utf-8")
    layout, jobs = batch.discover(str(sub))
    assert layout == "flat" and [j.student for j in jobs] == [f"{ASSIGNMENT}-bob", "alice", "carol"]

    out = tmp_path / "scores.csv"
    proc = run_cli("grade-batch", str(sub), "--jobs", "2", "--output", str(out), *LIMIT_ARGS)
    assert proc.returncode == 3, proc.stdout + proc.stderr  # carol's file could not be graded
    assert "nb/s" not in proc.stderr and "%|" not in proc.stderr  # no progress bar when CI=true
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = {r["student"]: r for r in reader}
    assert list(rows) == [f"{ASSIGNMENT}-bob", "alice", "carol"]
    suite = load_suite(ASSIGNMENT, hidden=True)
    # the existing columns first, then the feedback file, then one column per check in the suite's order
    assert reader.fieldnames == [*batch.FIELDS, "feedback", *(f"{ASSIGNMENT}/{c.name}" for c in suite.checks)]
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]) == full_points()
    assert rows["alice"]["assignment"] == ASSIGNMENT and rows["alice"]["error"] == ""
    assert all(float(rows["alice"][f"{ASSIGNMENT}/{c.name}"]) == c.points for c in suite.checks)
    assert float(rows[f"{ASSIGNMENT}-bob"]["score"]) == 0 and rows[f"{ASSIGNMENT}-bob"]["error"] == ""
    assert all(float(rows[f"{ASSIGNMENT}-bob"][f"{ASSIGNMENT}/{c.name}"]) == 0 for c in suite.checks)
    assert float(rows["carol"]["score"]) == 0 and rows["carol"]["error"]
    assert all(rows["carol"][f"{ASSIGNMENT}/{c.name}"] == "" for c in suite.checks)  # not graded: no check scores

    # one feedback file per student beside the CSV: every check, its points, visible/hidden, and errors
    assert rows["alice"]["feedback"] == f"feedback/alice/{ASSIGNMENT}.md"
    assert rows["carol"]["feedback"] == "feedback/carol/carol.md"  # unknown assignment: the notebook's name
    alice = (tmp_path / rows["alice"]["feedback"]).read_text(encoding="utf-8")
    assert f"**{full_points():g}/{full_points():g}**" in alice
    for c in suite.checks:
        assert f"(`{c.name}`) | {'hidden' if c.hidden else 'visible'} | {c.points:g}/{c.points:g} | PASS |" in alice
    bob = (tmp_path / rows[f"{ASSIGNMENT}-bob"]["feedback"]).read_text(encoding="utf-8")
    assert "| TODO |" in bob and "not implemented" in bob.lower()
    carol = (tmp_path / rows["carol"]["feedback"]).read_text(encoding="utf-8")
    assert "could not be graded" in carol and "not a valid notebook" in carol


@pytest.mark.slow
def test_nbgrader_layout_to_json(tmp_path):
    course = tmp_path / "course"
    for student, src in (("alice", solution_path(ASSIGNMENT)), ("bob", student_path(ASSIGNMENT)), ("dave", EXAMPLE)):
        d = course / "submitted" / student / ASSIGNMENT
        d.mkdir(parents=True)
        shutil.copy(src, d / f"{ASSIGNMENT}.ipynb")
    layout, jobs = batch.discover(str(course))
    assert layout == "nbgrader" and [(j.student, j.assignment) for j in jobs] == [
        ("alice", ASSIGNMENT), ("bob", ASSIGNMENT), ("dave", ASSIGNMENT)]

    out = tmp_path / "scores.json"
    proc = run_cli("grade-batch", str(course / "submitted"), "--jobs", "2", "-o", str(out), *LIMIT_ARGS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["student"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert sorted(rows) == ["alice", "bob", "dave"]
    suite = load_suite(ASSIGNMENT, hidden=True)
    for r in rows.values():
        assert r["assignment"] == ASSIGNMENT and r["error"] == "" and r["max_score"] == full_points()
        assert r["notebook"].endswith(f"{r['student']}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
        assert list(r["checks"]) == [f"{ASSIGNMENT}/{c.name}" for c in suite.checks]
        assert sum(r["checks"].values()) == pytest.approx(r["score"])
        assert r["feedback"] == f"feedback/{r['student']}/{ASSIGNMENT}.md" and (tmp_path / r["feedback"]).is_file()
    assert rows["alice"]["score"] == full_points()
    assert rows["bob"]["score"] == 0
    assert 0 < rows["dave"]["score"] < full_points()
    dave = (tmp_path / rows["dave"]["feedback"]).read_text(encoding="utf-8")
    assert "Hint: this matches a known mistake" in dave and "| FAIL |" in dave and "| PASS |" in dave
    assert "3/3 notebooks graded" in proc.stdout


def test_shards_cover_every_submission_once_and_merge(tmp_path):
    jobs = [batch.Job(f"s{i}", ASSIGNMENT, f"s{i}.ipynb") for i in range(7)]
    shards = [batch.shard(jobs, f"{k}/3") for k in range(3)]
    assert sorted(j.student for s in shards for j in s) == sorted(j.student for j in jobs)
    with pytest.raises(ValueError):
        batch.shard(jobs, "3/3")
    checks = {f"{ASSIGNMENT}/b.first": 1.0, f"{ASSIGNMENT}/a.second": 0.5, "02_weight_penalties/x": 0.0}
    paths = []
    for k, s in enumerate(shards):
        rows = [batch.Row(j.student, j.assignment, j.notebook, 1.5, 2.0, "", 0.1, checks=dict(checks),
                          feedback=f"feedback/{j.student}/{ASSIGNMENT}.md") for j in s]
        part = tmp_path / f"part{k}"
        for j in s:  # each shard's feedback files beside its scores file
            (part / "feedback" / j.student).mkdir(parents=True)
            (part / "feedback" / j.student / f"{ASSIGNMENT}.md").write_text(f"feedback of {j.student}\n")
        paths.append(str(part / f"part{k}.{'json' if k % 2 else 'csv'}"))
        batch.write_rows(rows, paths[-1])
    out = tmp_path / "merged" / "all.csv"
    assert batch.merge(paths, str(out)) == 7
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        merged = list(reader)
    assert [r["student"] for r in merged] == sorted(j.student for j in jobs)
    # per-check columns survive the merge: assignments in course order, checks in their first order
    assert reader.fieldnames == [*batch.FIELDS, "feedback", f"{ASSIGNMENT}/b.first", f"{ASSIGNMENT}/a.second",
                                 "02_weight_penalties/x"]
    assert all(float(r[f"{ASSIGNMENT}/a.second"]) == 0.5 for r in merged)
    for r in merged:  # and the feedback files are copied beside the merged file
        assert (out.parent / r["feedback"]).read_text() == f"feedback of {r['student']}\n"
    # merging again where the files already are (a shared volume) keeps them
    assert batch.merge([str(out)], str(out)) == 7
    assert (out.parent / merged[0]["feedback"]).is_file()


def test_feedback_file_lists_every_check_notes_errors_and_manual_points():
    from autograder.results import CellError, CheckResult, NotebookResult, Status

    result = NotebookResult("/x/alice.ipynb", ASSIGNMENT, manual_points=4, notes=["a note | with a pipe"],
                            cell_errors=[CellError(3, "ValueError", "bad value")], checks=[
        CheckResult("ex.one", "ex", "first check", 1.0, 1.0, Status.PASSED, False),
        CheckResult("ex.two", "ex", "second check", 2.0, 0.0, Status.FAILED, True, feedback="got ```x``` back"),
        CheckResult("other.three", "other", "third", 1.0, 0.0, Status.NOT_IMPLEMENTED, False, feedback="todo"),
    ])
    text = batch.render_feedback("alice", result)
    assert text.startswith(f"# {ASSIGNMENT}: feedback for alice")
    assert "**1/4** autograded points" in text and "4 more points, graded by hand (pending" in text
    assert "a note \\| with a pipe" in text and "cell #3 raised ValueError: bad value" in text
    assert "## ex: 1/3" in text and "## other: 0/1" in text
    assert "| first check (`ex.one`) | visible | 1/1 | PASS |" in text
    assert "| second check (`ex.two`) | hidden | 0/2 | FAIL |" in text
    assert "| third (`other.three`) | visible | 0/1 | TODO |" in text
    assert "````text\ngot ```x``` back\n````" in text  # a fence longer than any run of backticks inside
    withheld = batch.render_feedback("alice", result, hidden_feedback=False)
    assert "| second check (`ex.two`) | hidden | 0/2 | FAIL |" in withheld and "```x```" not in withheld
    assert "todo" in withheld and "Hidden checks: points only" in withheld
    failed = batch.render_feedback("bob", NotebookResult("/x/bob.ipynb", None, error="invalid JSON"))
    assert "unknown assignment" in failed and "could not be graded: invalid JSON" in failed


def test_feedback_names_are_unique_per_notebook(tmp_path):
    for student, names in (("alice", ["01_data_splits.ipynb"]), ("bob", ["a.ipynb", "b.ipynb"])):
        d = tmp_path / "submitted" / student / ASSIGNMENT
        d.mkdir(parents=True)
        for n in names:
            (d / n).write_text("{}")
    _, jobs = batch.discover(str(tmp_path))
    assert [batch.feedback_name(j, ASSIGNMENT) for j in jobs] == [
        f"alice/{ASSIGNMENT}.md", f"bob/{ASSIGNMENT}-a.md", f"bob/{ASSIGNMENT}-b.md"]
    flat = batch.Job("carol", None, str(tmp_path / "carol.ipynb"))
    assert batch.feedback_name(flat, ASSIGNMENT) == f"carol/{ASSIGNMENT}.md"
    assert batch.feedback_name(flat, None) == "carol/carol.md"


def test_progress_bar_only_on_a_terminal(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    assert batch.progress_enabled(Tty())
    assert not batch.progress_enabled(open(os.devnull, "w"))  # noqa: SIM115
    monkeypatch.setenv("CI", "true")
    assert not batch.progress_enabled(Tty())


def test_py_submissions_are_found_in_both_layouts_and_helper_modules_are_not(tmp_path):
    """grade-batch picks up jupytext .py submissions (flat: the student id is the file's stem; nbgrader:
    inside the assignment folder), never a helper module and never the .py half of a jupytext pair."""
    from helpers import load_nb, solution_path, student_path

    from autograder.batch import discover
    from autograder.submissions import notebook_to_script

    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "01_data_splits-bob.py").write_text(notebook_to_script(load_nb(solution_path("01_data_splits"))))
    shutil.copy(student_path("01_data_splits"), flat / "alice.ipynb")
    (flat / "utils.py").write_text("def helper():\n    return 1\n")
    shutil.copy(student_path("01_data_splits"), flat / "01_data_splits-carol.ipynb")
    (flat / "01_data_splits-carol.py").write_text(notebook_to_script(load_nb(student_path("01_data_splits"))))  # a pair
    layout, jobs = discover(str(flat))
    assert layout == "flat"
    assert sorted((j.student, os.path.basename(j.notebook)) for j in jobs) == [
        ("01_data_splits-bob", "01_data_splits-bob.py"), ("01_data_splits-carol", "01_data_splits-carol.ipynb"),
        ("alice", "alice.ipynb")]

    course = tmp_path / "course" / "submitted" / "dave" / "01_data_splits"
    course.mkdir(parents=True)
    (course / "01_data_splits.py").write_text(notebook_to_script(load_nb(solution_path("01_data_splits"))))
    (course / "helpers.py").write_text("x = 1\n")
    layout, jobs = discover(str(tmp_path / "course"))
    assert layout == "nbgrader"
    assert [(j.student, j.assignment, os.path.basename(j.notebook)) for j in jobs] == [
        ("dave", "01_data_splits", "01_data_splits.py")]
