"""Hostile or broken submissions gain nothing, crash nothing and hang nothing (DESIGN.md §1)."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest
from helpers import REPO, load_nb, solution_path, student_path, with_cell_appended, with_cells_after, write_nb

from autograder.engine import grade_notebook
from autograder.sandbox.limits import Limits

A = "01_data_splits"
ZEROS_IMPL = '''
import torch
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    return {k: (torch.zeros(1, x.shape[1]), torch.zeros(1, dtype=torch.long)) for k in ("train", "val", "test")}
def standardize(train_x, *others):
    return tuple(torch.zeros_like(t) for t in (train_x, *others))
'''


def sha(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def stubs_plus(source: str, tmp_path, name: str) -> str:
    return write_nb(with_cell_appended(load_nb(student_path(A)), source), tmp_path / f"{name}.ipynb")


def solution_plus(source: str, tmp_path, name: str, after: str | None = None) -> str:
    nb = load_nb(solution_path(A))
    nb = with_cells_after(nb, after, [source]) if after else with_cell_appended(nb, source)
    return write_nb(nb, tmp_path / f"{name}.ipynb")


def test_monkeypatched_comparisons_returning_zeros_gain_nothing(grade, tmp_path):
    path = stubs_plus("""
import torch, numpy, numpy.testing, builtins
torch.equal = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.allclose = lambda *a, **k: True
""" + ZEROS_IMPL, tmp_path, "monkeypatch")
    before = sha(path)
    result = grade(path)
    assert result.score == 0, [(c.name, c.score) for c in result.checks if c.score]
    # every implemented exercise fails its checks; exercises left as stubs say so
    assert all(c.status in ("failed", "not_implemented") for c in result.checks), [(c.name, c.status) for c in result.checks]
    assert sha(path) == before


def test_tensor_subclass_whose_eq_is_always_true_gains_nothing(grade, tmp_path):
    path = stubs_plus('''
import torch
class Liar(torch.Tensor):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def equal(self, other): return True
    def allclose(self, *a, **k): return True
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    return {k: (torch.zeros(len(x), x.shape[1]).as_subclass(Liar), torch.zeros(len(x), dtype=torch.long).as_subclass(Liar))
            for k in ("train", "val", "test")}
def standardize(train_x, *others):
    return tuple(torch.zeros_like(t).as_subclass(Liar) for t in (train_x, *others))
''', tmp_path, "liar")
    result = grade(path)
    assert result.score == 0, [(c.name, c.score) for c in result.checks if c.score]


def test_sys_exit_in_a_cell_is_a_cell_error_not_an_exit(grade, tmp_path):
    result = grade(stubs_plus("import sys\nsys.exit(0)", tmp_path, "sysexit-stubs"))
    assert result.score == 0 and result.error is None
    assert any(e.error_type == "SystemExit" for e in result.cell_errors)
    # A solution that calls sys.exit() afterwards keeps its points: the process carries on.
    full = grade(solution_plus("import sys\nsys.exit(0)", tmp_path, "sysexit-solution"))
    assert full.score == full.max_score


def test_os_exit_kills_only_this_submission_and_passes_nothing(grade, tmp_path):
    result = grade(solution_plus("import os\nos._exit(0)", tmp_path, "osexit"))
    assert result.error is None
    assert result.score == 0
    assert all(c.status == "died" for c in result.checks)
    assert "exited with status 0" in result.checks[0].feedback


def test_endless_loop_is_interrupted_at_the_cell_timeout_and_the_rest_is_graded(tmp_path):
    path = solution_plus("while True:\n    pass", tmp_path, "loop", after="split_data")
    result = grade_notebook(path, Limits(cell_timeout=2, notebook_timeout=60, call_timeout=10))
    assert any("interrupted after 2 s" in n for n in result.notes), (result.notes, result.error)
    assert any(e.error_type == "KeyboardInterrupt" for e in result.cell_errors)
    assert result.score == result.max_score


def test_loop_that_ignores_interrupts_is_killed_and_scores_zero(tmp_path):
    path = solution_plus("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
                         tmp_path, "stubborn")
    result = grade_notebook(path, Limits(cell_timeout=2, notebook_timeout=60, call_timeout=10))
    assert result.score == 0
    assert all(c.status == "died" for c in result.checks)
    assert "time limit" in result.checks[0].feedback


def test_function_that_hangs_fails_its_check_only(tmp_path):
    path = solution_plus("_real = standardize\ndef standardize(*a):\n    while True:\n        pass", tmp_path, "hang",
                         after="standardize")
    result = grade_notebook(path, Limits(cell_timeout=10, notebook_timeout=60, call_timeout=2))
    by_group = {}
    for c in result.checks:
        by_group.setdefault(c.exercise, []).append(c)
    assert all(c.passed for c in by_group["split_data"]), [(c.name, c.status, c.feedback[:300]) for c in result.checks]
    assert all(c.score == 0 for c in by_group["standardize"])
    feedback = by_group["standardize"][0].feedback
    assert "raised TimeoutError" in feedback and "no answer within 2 s (an endless loop" in feedback
    assert "while True:" in feedback  # where it was interrupted


def test_fake_success_output_and_fake_results_file_change_nothing(tmp_path):
    report = tmp_path / "out" / "results.json"
    fake = json.dumps({"score": 100, "tests": []})
    path = stubs_plus(f"""
print("All tests passed! 16/16")
import os
for target in [{str(report)!r}, os.path.join(os.getcwd(), "results.json"), "/autograder/results/results.json"]:
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").write({fake!r})
    except OSError:
        pass
""", tmp_path, "fake")
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", path, "--format", "gradescope",
                           "--output", str(report), "--cell-timeout", "20"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data["score"] == 0
    assert len(data["tests"]) > 0 and all(t["score"] == 0 for t in data["tests"])


def test_invalid_json_is_a_clear_error_with_exit_status_3(tmp_path):
    bad = tmp_path / "01_data_splits.ipynb"
    bad.write_text('{"cells": [ this is not json')
    good = solution_path(A)
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(bad), good, "--format", "json"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    bad_nb, good_nb = data["notebooks"]
    assert "not a valid notebook: invalid JSON" in bad_nb["error"]
    assert bad_nb["assignment"] is None or bad_nb["checks"] == []
    assert good_nb["score"] == good_nb["max_score"] > 0 and good_nb["error"] is None


def test_memory_cap_refuses_a_huge_tensor_cleanly(tmp_path):
    path = solution_plus("import torch\nbig = torch.ones(2**31)  # 8 GiB", tmp_path, "memory")
    result = grade_notebook(path, Limits(memory_mb=3072))
    assert any(e.error_type in ("RuntimeError", "MemoryError") for e in result.cell_errors), result.cell_errors
    assert result.score == result.max_score


def test_submission_is_byte_identical_and_report_is_deterministic(tmp_path):
    from autograder.reports.json_report import run_to_dict
    from autograder.results import GradingRun

    path = os.path.join(REPO, "examples", "01_data_splits-example.ipynb")
    before = sha(path)

    def graded():
        run = GradingRun([grade_notebook(path)])
        d = run_to_dict(run)
        for nb in d["notebooks"]:
            nb.pop("duration_s")
            for c in nb["checks"]:
                c.pop("duration_s")
        return d

    first, second = graded(), graded()
    assert sha(path) == before
    assert first == second
    assert 0 < first["score"] < first["max_score"]


def test_student_process_environment_has_no_grader_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "s3cret")
    path = solution_plus("""
import os
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    secrets = ",".join(sorted(k for k in os.environ if "SECRET" in k))
    raise RuntimeError("env:" + secrets + ":threads=" + os.environ.get("OMP_NUM_THREADS", "?"))
""", tmp_path, "env", after="split_data")
    result = grade_notebook(path)
    fb = result.checks[0].feedback
    assert "env::threads=1" in fb, fb


def test_forked_and_spawned_student_processes_grade_alike(grade, tmp_path):
    """The fork server (zygote) is an optimisation only: same report as a fresh process."""
    from autograder.reports.json_report import run_to_dict
    from autograder.results import GradingRun

    path = os.path.join(REPO, "examples", "01_data_splits-example.ipynb")

    def report(result):
        d = run_to_dict(GradingRun([result]))
        for nb in d["notebooks"]:
            nb.pop("duration_s")
            for c in nb["checks"]:
                c.pop("duration_s")
            # Where a root grader cannot drop privileges, the note names the path each start-up
            # method found unreadable (the interpreter for a spawn, the stdlib for a fork).
            nb["notes"] = [n.split(" cannot run this Python")[0] for n in nb["notes"]]
        return d

    assert report(grade(path)) == report(grade_notebook(path, Limits(cell_timeout=20, notebook_timeout=90,
                                                                     call_timeout=20)))
    died = grade(solution_plus("import os\nos._exit(3)", tmp_path, "osexit3"))
    assert all(c.status == "died" for c in died.checks) and "exited with status 3" in died.checks[0].feedback


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: only a root grader drops the student's process to an "
                                               "unprivileged user")
def test_forked_student_process_runs_as_the_unprivileged_user():
    """Without namespaces, but with a Python that user can read, children of the fork server drop root
    before student code (the fallback of DESIGN.md §1)."""
    import shutil

    from helpers import python_for_unprivileged_user

    from autograder.bundles import temp_root
    from autograder.sandbox.zygote import Zygote

    root = temp_root()  # pytest's tmp_path is private to root; the unprivileged user must reach this one
    try:
        python, why = python_for_unprivileged_user(root)
        if python is None:
            pytest.skip(why)
        path = solution_plus("""
import os
def standardize(*args):
    import resource
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    raise RuntimeError(f"uid={os.getuid()} home_writable={os.access(os.environ['HOME'], os.W_OK)} nproc={nproc}")
""", pathlib.Path(root), "whoami", after="standardize")
        zygote = Zygote(python=python)
        # This test is about the fallback where no namespace sandbox can be made.
        zygote._drop_checked["sandbox"] = "disabled by the test of the unprivileged-user fallback"
        try:
            result = grade_notebook(path, Limits(cell_timeout=20, notebook_timeout=90, call_timeout=20), zygote=zygote)
        finally:
            zygote.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert not any("ran as root" in n for n in result.notes), result.notes
    split = [c for c in result.checks if c.exercise == "split_data"]
    assert all(c.passed for c in split), [(c.name, c.feedback) for c in split if not c.passed]
    feedback = next(c.feedback for c in result.checks if c.exercise == "standardize" and not c.hidden)
    assert "uid=0 " not in feedback and "uid=" in feedback, feedback
    assert "home_writable=True" in feedback and "nproc=256" in feedback, feedback


def test_hidden_feedback_never_quotes_hidden_inputs(grade, tmp_path):
    """A student's error message built from the inputs shows up for visible cases only."""
    path = solution_plus('def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n'
                         '    raise ValueError(f"cannot split n={len(x)} rows of width {x.shape[1]}")',
                         tmp_path, "quotes", after="split_data")
    result = grade(path)
    visible = [c.feedback for c in result.checks if c.exercise == "split_data" and not c.hidden]
    hidden = [c.feedback for c in result.checks if c.exercise == "split_data" and c.hidden]
    assert all("cannot split n=" in f and "rows of width 4" in f for f in visible), visible
    assert hidden and all("raised ValueError on a hidden case" in f for f in hidden), hidden
    assert not any("n=19" in f or "n=103" in f or "cannot split" in f for f in hidden), hidden


def test_self_check_gives_up_on_an_endless_loop_instead_of_hanging_the_notebook():
    import time

    from autograder import references
    from autograder.checks import run_check
    from autograder.student import LocalStudent
    from autograder.suites import load_suite

    def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
        while True:
            pass

    check = load_suite(A, hidden=False).select("split_data", hidden=False)[0]
    started = time.monotonic()
    result = run_check(check, LocalStudent({"split_data": split_data}, call_timeout=1.0),
                       references.load(A, hidden=False).of(check.name))
    assert time.monotonic() - started < 10
    assert result.score == 0 and "raised CallTimeout" in result.feedback, result.feedback
    assert "no answer within 1 s" in result.feedback


def test_time_limits_interrupt_even_when_the_grader_inherited_sigint_ignored(tmp_path):
    """A grader started as a background job of a non-interactive shell (`cmd &` in a CI script) runs with
    SIGINT ignored, and children inherit that: the student process must still take the interrupt of a
    time limit (seen in CI: the cell was killed instead, and the rest of the notebook lost)."""
    import signal

    path = solution_plus("while True:\n    pass", tmp_path, "loop_bg", after="split_data")
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", path, "--cell-timeout", "2",
                           "--format", "json", "--output", str(report)], capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    nb = json.loads(report.read_text())["notebooks"][0]
    assert any("interrupted after 2 s" in n for n in nb["notes"]), nb["notes"]
    assert nb["score"] == nb["max_score"]
