"""The student process's sandbox (DESIGN.md §1, revised): its own user, PID, mount, IPC and network
namespaces, with the course's secrets out of view — for forked (fork server) and spawned students.

Each probe is a notebook cell that looks around and reports what it found in its exception message,
which comes back as the cell's error: nothing else of the student's reaches the grader.
"""

from __future__ import annotations

import json
import os
import sys

import pytest
from helpers import FAST_LIMITS, REPO, code_cell, load_nb, solution_path, student_path, write_nb

from autograder.engine import grade_notebook
from autograder.sandbox import namespaces
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import SandboxUnavailable, StudentProcess

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="namespaces are Linux only")

LOOK_AROUND = r'''
import glob, json, os, socket
import autograder
pkg = os.path.dirname(autograder.__file__)
repo = os.path.dirname(pkg)
found = {
    "suite_files": sorted(glob.glob(pkg + "/suites/*/*") + glob.glob(pkg + "/suites/*/*/*")),
    "repo_entries": sorted(os.listdir(repo)),
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "grader_visible": os.path.exists("/proc/%d" % GRADER_PID),
    "uid": os.getuid(),
    "env": sorted(k for k in os.environ if "SECRET" in k or "TOKEN" in k or k.startswith("REGNORM_SECRET")),
    "tmp": sorted(os.listdir("/tmp")),
}
for name, path in (("write_package", pkg + "/pwned.py"), ("write_repo", repo + "/pwned.txt")):
    try:
        open(path, "w").write("x")
        found[name] = "written"
    except OSError as exc:
        found[name] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
    found["network"] = "connected"
except OSError as exc:
    found["network"] = type(exc).__name__
try:
    os.kill(GRADER_PID, 0)
    found["signal_grader"] = "delivered"
except OSError as exc:
    found["signal_grader"] = type(exc).__name__
raise RuntimeError("FOUND " + json.dumps(found, separators=(",", ":")))
'''


def look_around(tmp_path, **grade_kw) -> dict:
    nb = load_nb(student_path("01_data_splits"))
    cell = code_cell(LOOK_AROUND.replace("GRADER_PID", str(os.getpid())))
    cell["id"] = "look-around"
    nb["cells"].insert(2, cell)
    result = grade_notebook(write_nb(nb, tmp_path / "01_data_splits-look.ipynb"), **grade_kw)
    assert result.error is None, result.error
    messages = [e.message for e in result.cell_errors if "FOUND " in e.message]
    assert messages, result.cell_errors
    text = messages[0].split("FOUND ", 1)[1]
    assert "characters cut" not in text, text  # the report caps student messages (2000 characters)
    return json.loads(text)


@pytest.fixture(scope="module")
def sandbox_here():
    problem = namespaces.problem_here()
    if problem is not None:
        pytest.fail(f"this machine should allow the namespace sandbox (util-linux unshare works here): {problem}")


@pytest.mark.parametrize("forked", [True, False], ids=["fork-server", "spawned"])
def test_student_sees_no_secrets_no_processes_no_network(sandbox_here, tmp_path, forked):
    kw = {"limits": FAST_LIMITS}
    if forked:
        from autograder.sandbox.zygote import shared_zygote

        kw["zygote"] = shared_zygote()
    found = look_around(tmp_path, **kw)
    # The suites' folders are empty mount points: no checks, hidden checks, references or mistakes.
    assert found["suite_files"] == [], found["suite_files"]
    # Of the repository only the grader package and the worksheets' data are in view (and the
    # virtual environment, when the interpreter lives in the repository).
    venv = os.path.relpath(os.path.realpath(sys.prefix), REPO).split(os.sep)[0]
    assert set(found["repo_entries"]) <= {"autograder", "source_data", venv}, found["repo_entries"]
    # PID 1 of its own PID namespace; the grader is neither visible nor reachable by a signal.
    assert found["pids"] == [1], found["pids"]
    assert found["grader_visible"] is False
    assert found["signal_grader"] == "ProcessLookupError"
    assert found["uid"] == namespaces.STUDENT_UID
    assert found["write_package"] != "written"
    # Where the repository lives under /tmp, its folder inside the sandbox is a mount point on the
    # sandbox's own /tmp tmpfs: a write there lands in that tmpfs, never in the real repository.
    assert found["write_repo"] != "written" or REPO.startswith("/tmp/")
    assert not os.path.exists(os.path.join(REPO, "pwned.txt"))
    assert found["network"] != "connected"
    assert not [k for k in found["env"] if k.startswith(("REGNORM_SECRET", "GITHUB_TOKEN", "CI_JOB_TOKEN"))]
    # Its /tmp is its own (a fresh tmpfs): no other student's or the grader's files.
    # (plus the mount points of a repository or interpreter installed under /tmp, as in a CI clone)
    installed = {p.split("/")[2] for p in (REPO, os.path.realpath(sys.prefix)) if p.startswith("/tmp/")}
    assert set(found["tmp"]) <= {".output.log", "work"} | installed, found["tmp"]
    assert not os.path.exists(os.path.join(REPO, "autograder", "pwned.py"))


SOLUTION_THIEF = r'''
import glob, os, json
import autograder
repo = os.path.dirname(os.path.dirname(autograder.__file__))
stolen = glob.glob(repo + "/solutions/01_data_splits/*.ipynb")
if stolen:
    cells = json.load(open(stolen[0]))["cells"]
    for c in cells:
        if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution"):
            exec("".join(c["source"]), globals())
'''


def test_executing_the_solution_found_on_disk_gains_nothing(sandbox_here, tmp_path, grade):
    nb = load_nb(student_path("01_data_splits"))
    nb["cells"].append(code_cell(SOLUTION_THIEF))
    result = grade(write_nb(nb, tmp_path / "01_data_splits-thief.ipynb"))
    assert result.error is None
    assert result.score == 0, [(c.name, c.score) for c in result.checks if c.score]


def test_processes_left_behind_die_with_the_sandbox(sandbox_here, tmp_path, grade):
    """A daemon that escapes the process group (setsid) dies with the student's PID namespace."""
    marker = tmp_path / "marker"
    nb = load_nb(solution_path("01_data_splits"))
    nb["cells"].append(code_cell(
        "import os, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import os, time\\nos.setsid()\\ntime.sleep(30)'],"
        " start_new_session=True)\n"))
    result = grade(write_nb(nb, tmp_path / "01_data_splits-daemon.ipynb"))
    assert result.score == result.max_score
    # No process of ours outlives grading: nothing sleeps with that command line any more.
    leftovers = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if b"time.sleep(30)" in fh.read():
                    leftovers.append(pid)
        except OSError:
            pass
    assert not leftovers
    assert not marker.exists()


def test_no_sandbox_and_no_user_drop_refuses_unless_trusted(monkeypatch):
    """Nothing fails open: without namespaces and without a working user drop, grading refuses."""
    monkeypatch.setattr(namespaces, "problem_here", lambda: "namespaces disabled for this test")
    monkeypatch.setattr("autograder.sandbox.process.unprivileged_user", lambda: None)
    with pytest.raises(SandboxUnavailable, match="grading refused") as refused:
        StudentProcess(Limits())
    # The refusal says exactly what to do: enable namespaces, run as root, or trust your own code.
    assert "kernel.unprivileged_userns_clone=1" in str(refused.value)
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in str(refused.value)
    assert "your own work on your own machine? add --trusted-code" in str(refused.value)
    proc = StudentProcess(Limits(trusted_code=True))
    try:
        assert proc.isolation == "none"
        assert "UNSANDBOXED (--trusted-code)" in proc.warning
        assert "sudo sysctl -w kernel.unprivileged_userns_clone=1" in proc.warning
    finally:
        proc.close()


def test_refusal_is_a_report_error_not_a_crash(monkeypatch):
    monkeypatch.setattr(namespaces, "problem_here", lambda: "namespaces disabled for this test")
    monkeypatch.setattr("autograder.sandbox.process.unprivileged_user", lambda: None)
    result = grade_notebook(solution_path("01_data_splits"), limits=FAST_LIMITS)
    assert result.checks == []
    assert "grading refused" in result.error and "--trusted-code" in result.error


def test_a_fork_bomb_stops_at_the_process_cap(sandbox_here, tmp_path, grade):
    """Where a pids control group can be made, the sandbox's tasks are capped (Limits.max_processes)."""
    from autograder.sandbox import cgroups

    probe = cgroups.create(8)
    if probe is None:
        pytest.skip("no writable pids control group on this machine: the cap cannot apply here")
    cgroups.remove(probe)
    nb = load_nb(solution_path("01_data_splits"))
    nb["cells"].append(code_cell(
        "import threading, time\n"
        "started = 0\n"
        "try:\n"
        "    for _ in range(2000):\n"
        "        threading.Thread(target=time.sleep, args=(3,), daemon=True).start()\n"
        "        started += 1\n"
        "finally:\n"
        "    print(started)\n"))
    result = grade(write_nb(nb, tmp_path / "01_data_splits-bomb.ipynb"))
    assert result.score == result.max_score  # the cap stops the bomb, not the grading
    assert any("can't start new thread" in e.message for e in result.cell_errors), result.cell_errors


def test_trusted_code_option_reaches_the_limits():
    import argparse

    from autograder.cli.options import add_limit_args, limits_from_args

    parser = argparse.ArgumentParser()
    add_limit_args(parser)
    assert limits_from_args(parser.parse_args([])).trusted_code is False
    assert limits_from_args(parser.parse_args(["--trusted-code"])).trusted_code is True


def test_a_grader_failure_costs_only_that_notebook(tmp_path, monkeypatch, capsys):
    """One notebook that breaks the grader (simulated) leaves the others graded and reported (exit 4)."""
    import autograder.engine as engine
    from autograder.cli import main

    real = engine.grade_notebook

    def flaky(path, *a, **k):
        if "broken" in str(path):
            raise RecursionError("simulated grader bug")
        return real(path, *a, **k)

    monkeypatch.setattr(engine, "grade_notebook", flaky)
    broken = write_nb(load_nb(solution_path("01_data_splits")), tmp_path / "broken-01_data_splits.ipynb")
    status = main(["grade", broken, solution_path("01_data_splits"), "--format", "json",
                   "--output", str(tmp_path / "r.json"), "--no-fork-server"])
    assert status == 4
    report = json.loads((tmp_path / "r.json").read_text())
    by_path = {nb["path"]: nb for nb in report["notebooks"]}
    assert "simulated grader bug" in by_path[broken]["error"]
    assert by_path[solution_path("01_data_splits")]["score"] == by_path[solution_path("01_data_splits")]["max_score"]


def test_a_trusted_unsandboxed_run_says_so_in_the_report(monkeypatch):
    monkeypatch.setattr(namespaces, "problem_here", lambda: "namespaces disabled for this test")
    monkeypatch.setattr("autograder.sandbox.process.unprivileged_user", lambda: None)
    import dataclasses

    result = grade_notebook(solution_path("01_data_splits"), limits=dataclasses.replace(FAST_LIMITS, trusted_code=True))
    assert result.error is None and result.score == result.max_score
    assert any(n.startswith("UNSANDBOXED (--trusted-code)") for n in result.notes), result.notes
