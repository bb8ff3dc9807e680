"""Gradescope's run_autograder trusts only a results.json the grader wrote in this run (DESIGN.md §1):
a stale or forged file is removed before grading, and a grader that dies (a bug, a signal) leaves a
"grading did not finish" result instead of whatever file exists."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest
from helpers import REPO

RUN_AUTOGRADER = os.path.join(REPO, "autograder", "gradescope_files", "run_autograder")


def gradescope_root(tmp_path, fake_python_body: str):
    root = tmp_path / "autograder"
    (root / "source" / "grader").mkdir(parents=True)
    (root / "results").mkdir()
    shutil.copy(RUN_AUTOGRADER, root / "source" / "run_autograder")
    fake = tmp_path / "fake-python"
    fake.write_text("#!/usr/bin/env bash\n" + fake_python_body)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return root, fake


def run(root, fake) -> tuple[int, dict]:
    env = dict(os.environ, GRADESCOPE_ROOT=str(root), REGNORM_PYTHON=str(fake))
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=60)
    with open(root / "results" / "results.json", encoding="utf-8") as fh:
        return proc.returncode, json.load(fh)


FORGED = '{"score": 100, "output": "forged", "tests": []}'


def test_a_stale_results_file_is_removed_before_grading(tmp_path):
    # The "grader" here writes nothing and reports success: the old file must not survive.
    root, fake = gradescope_root(tmp_path, "exit 0\n")
    (root / "results" / "results.json").write_text(FORGED)
    status, results = run(root, fake)
    assert status == 0
    assert results["score"] == 0 and "did not finish" in results["output"]


@pytest.mark.parametrize("death", ["kill -9 $$", "exit 4"], ids=["killed", "grader-bug"])
def test_a_grader_that_dies_after_a_forged_write_leaves_did_not_finish(tmp_path, death):
    root, fake = gradescope_root(tmp_path, f"echo '{FORGED}' > \"$GRADESCOPE_ROOT/results/results.json\"\n{death}\n")
    status, results = run(root, fake)
    assert status != 0
    assert results["score"] == 0 and "Grading did not finish" in results["output"], results


def test_a_finished_grading_keeps_its_results(tmp_path):
    good = '{"score": 7, "output": "graded", "tests": []}'
    root, fake = gradescope_root(tmp_path, f"echo '{good}' > \"$GRADESCOPE_ROOT/results/results.json\"\nexit 0\n")
    status, results = run(root, fake)
    assert status == 0 and results["score"] == 7
