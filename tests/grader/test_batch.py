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
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert list(rows) == [f"{ASSIGNMENT}-bob", "alice", "carol"]
    assert set(next(iter(rows.values()))) == set(batch.FIELDS)
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]) == full_points()
    assert rows["alice"]["assignment"] == ASSIGNMENT and rows["alice"]["error"] == ""
    assert float(rows[f"{ASSIGNMENT}-bob"]["score"]) == 0 and rows[f"{ASSIGNMENT}-bob"]["error"] == ""
    assert float(rows["carol"]["score"]) == 0 and rows["carol"]["error"]


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
    for r in rows.values():
        assert r["assignment"] == ASSIGNMENT and r["error"] == "" and r["max_score"] == full_points()
        assert r["notebook"].endswith(f"{r['student']}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    assert rows["alice"]["score"] == full_points()
    assert rows["bob"]["score"] == 0
    assert 0 < rows["dave"]["score"] < full_points()
    assert "3/3 notebooks graded" in proc.stdout


def test_shards_cover_every_submission_once_and_merge(tmp_path):
    jobs = [batch.Job(f"s{i}", ASSIGNMENT, f"s{i}.ipynb") for i in range(7)]
    shards = [batch.shard(jobs, f"{k}/3") for k in range(3)]
    assert sorted(j.student for s in shards for j in s) == sorted(j.student for j in jobs)
    with pytest.raises(ValueError):
        batch.shard(jobs, "3/3")
    paths = []
    for k, s in enumerate(shards):
        rows = [batch.Row(j.student, j.assignment, j.notebook, 1.0, 2.0, "", 0.1) for j in s]
        paths.append(str(tmp_path / f"part{k}.{'json' if k % 2 else 'csv'}"))
        batch.write_rows(rows, paths[-1])
    assert batch.merge(paths, str(tmp_path / "all.csv")) == 7
    with open(tmp_path / "all.csv", newline="", encoding="utf-8") as fh:
        merged = list(csv.DictReader(fh))
    assert [r["student"] for r in merged] == sorted(j.student for j in jobs)


def test_progress_bar_only_on_a_terminal(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    assert batch.progress_enabled(Tty())
    assert not batch.progress_enabled(open(os.devnull, "w"))  # noqa: SIM115
    monkeypatch.setenv("CI", "true")
    assert not batch.progress_enabled(Tty())
