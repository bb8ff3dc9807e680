"""Bad input (docs/BAD_INPUT.md): every case gets a one-line reason in its own report entry, the rest of
the batch is graded, and the exit status follows the README's table (0 graded, 3 a file could not be
graded, 4 grader bug). All cases go through ``autograder grade`` with many files at once."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from helpers import REPO, load_nb, solution_path, student_path, write_nb

from autograder.engine import grade_notebook
from autograder.notebooks import NotebookError, read_submission
from autograder.reports import RENDERERS
from autograder.results import GradingRun, Status

A = "05_dropout"  # the base of every case: cheap to grade
OTHER = "03_batch_norm"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", "--cell-timeout", "30",
                           "--notebook-timeout", "120", *args], capture_output=True, text=True, cwd=REPO, timeout=600)


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if _gid(c) == grade_id)


def _no_cells() -> dict:
    nb = load_nb(solution_path(A))
    nb["cells"] = []
    return nb


#: Refused files: name -> (how to make it, the reason's text).
REFUSED = {
    "empty.ipynb": (lambda p: p.write_bytes(b""), "the file is empty (0 bytes)"),
    "blank.ipynb": (lambda p: p.write_text("  \n\n"), "the file holds only white space"),
    "script.ipynb": (lambda p: p.write_text("# %%\nx = 1\n"), "named like a notebook: rename it to .py"),
    "printout.ipynb": (lambda p: p.write_bytes(b"%PDF-1.7\n" + bytes(50)), "a PDF document, not a notebook"),
    "no_cells.ipynb": (lambda p: write_nb(_no_cells(), p), "the notebook has no cells"),
    "v3.ipynb": (lambda p: p.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                                    "worksheets": [{"cells": []}]})), "old version-3 notebook"),
    "invalid.ipynb": (lambda p: p.write_text('{"cells": [{"cell_type": "code", '), "invalid JSON"),
    "junk.ipynb": (lambda p: p.write_bytes(bytes(range(256)) * 64), "binary data, not a notebook"),
    "archive.ipynb": (lambda p: p.write_bytes(b"PK\x03\x04" + bytes(100)), "a ZIP archive"),
    "list.ipynb": (lambda p: p.write_text("[1, 2, 3]"), "its top level is a list"),
    "huge.ipynb": (lambda p: write_nb(_huge(), p), "holds 50.0 million characters"),
    "giant.ipynb": (lambda p: os.truncate(p.write_bytes(b"{") and p, 65 * 2**20),  # sparse: nothing is read
                    "the file is 65.0 MB; files over 64 MB are not graded (clear the outputs and save again)"),
    "05_dropout-big.py": (lambda p: p.write_text("# %%\n" + "x = 1\n" * 200_000), "files over 1 MB are not graded"),
    "x.ipynb": (lambda p: p.mkdir(), "a folder, not a notebook file, holding no notebooks"),
    "loop.ipynb": (lambda p: os.symlink(p.name, p), "a symbolic link that leads nowhere"),
    "fifo.ipynb": (lambda p: os.mkfifo(p), "not a regular file"),
    "helpers_only": (lambda p: (p.mkdir(), (p / "utils.py").write_text("def f():\n    return 1\n")),
                     "this folder holds no notebooks"),
    "plain_script.py": (lambda p: p.write_text("print('hello')\n"), "no `# %%` cell markers"),
    "missing.ipynb": (lambda p: None, "no such file"),
}


def _huge() -> dict:
    nb = load_nb(solution_path(A))
    nb["cells"][_index(nb, "dropout_forward")]["source"] = "x = 1\n" + "#" * 50_000_000
    return nb


def _graded_cases(tmp_path) -> dict[str, str]:
    """Files that are graded (with notes or lost points): name -> path."""
    sol = load_nb(solution_path(A))
    out = {}
    deleted = copy.deepcopy(sol)
    del deleted["cells"][_index(deleted, "dropout_forward")]
    out["deleted"] = write_nb(deleted, tmp_path / "deleted.ipynb")
    raised = copy.deepcopy(sol)
    raised["cells"][_index(raised, "dropout_forward")]["source"] = "def dropout_forward(:\n    pass\n"
    out["raised"] = write_nb(raised, tmp_path / "raised.ipynb")
    no_imports = copy.deepcopy(sol)
    del no_imports["cells"][_index(no_imports, "imports")]
    out["locked_deleted"] = write_nb(no_imports, tmp_path / "locked_deleted.ipynb")
    reordered = copy.deepcopy(sol)
    cell = reordered["cells"].pop(_index(reordered, "imports"))
    reordered["cells"].append(cell)
    out["reordered"] = write_nb(reordered, tmp_path / "reordered.ipynb")
    duplicated = copy.deepcopy(sol)
    i = _index(duplicated, "dropout_backward")
    duplicated["cells"].insert(i + 1, copy.deepcopy(duplicated["cells"][i]))
    out["duplicated"] = write_nb(duplicated, tmp_path / "duplicated.ipynb")
    locked = copy.deepcopy(sol)
    locked["cells"][_index(locked, "imports")]["source"] += "\ncheck = lambda *a, **k: 100.0\n"
    out["locked"] = write_nb(locked, tmp_path / "locked_edited.ipynb")
    misnamed = load_nb(solution_path(OTHER))
    out["misnamed"] = write_nb(misnamed, tmp_path / f"{A}-misnamed.ipynb")
    text = json.dumps(sol, ensure_ascii=False)
    (tmp_path / "utf16.ipynb").write_bytes(text.encode("utf-16"))  # with a byte-order mark
    out["utf16"] = str(tmp_path / "utf16.ipynb")
    (tmp_path / "utf8bom.ipynb").write_bytes(text.encode("utf-8-sig"))
    out["utf8bom"] = str(tmp_path / "utf8bom.ipynb")
    latin = copy.deepcopy(sol)
    latin["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "Caf\u00e9, na\u00efve r\u00e9sum\u00e9"})
    (tmp_path / "latin1.ipynb").write_bytes(json.dumps(latin, ensure_ascii=True).replace(
        "Caf\\u00e9, na\\u00efve r\\u00e9sum\\u00e9", "Caf\u00e9, na\u00efve r\u00e9sum\u00e9").encode("latin-1"))
    out["latin1"] = str(tmp_path / "latin1.ipynb")
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One `autograder grade` over every case (no --assignment), as JSON; the table on stdout."""
    tmp = tmp_path_factory.mktemp("bad")
    refused = {}
    for name, (make, _reason) in REFUSED.items():
        make(tmp / name)
        refused[name] = str(tmp / name)
    graded = _graded_cases(tmp)
    report = tmp / "report.json"
    proc = cli(*refused.values(), *graded.values(), "--format", "json", "--output", str(report))
    data = json.loads(report.read_text())
    by_path = {nb["path"]: nb for nb in data["notebooks"]}
    return proc, data, by_path, refused, graded


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_file_gets_one_line_reason(batch, name):
    proc, _data, by_path, refused, _graded = batch
    entry = by_path[refused[name]]
    reason = REFUSED[name][1]
    assert entry["error"] and reason in entry["error"], entry["error"]
    assert "\n" not in entry["error"] and len(entry["error"]) < 300
    assert entry["checks"] == [] and entry["score"] == 0
    assert f"GRADING FAILED: {entry['error']}" in proc.stdout  # the table names it too


def test_batch_exit_status_and_every_other_file_graded(batch):
    proc, data, by_path, refused, graded = batch
    errors = {p: nb["error"] for p, nb in by_path.items() if nb["error"]}
    assert proc.returncode == 3, (proc.stderr, errors)  # a file could not be graded; the others were
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert data["graded"] is False
    assert len(data["notebooks"]) == len(refused) + len(graded)
    for path in graded.values():
        assert by_path[path]["error"] is None, by_path[path]["error"]
        assert by_path[path]["max_score"] > 0


def _notes(entry) -> str:
    return "\n".join(entry["notes"])


def test_deleted_cell_loses_its_points_with_a_specific_reason(batch):
    entry = batch[2][batch[4]["deleted"]]
    assert "cells of the assignment are missing" in _notes(entry) and "dropout_forward" in _notes(entry)
    forward = [c for c in entry["checks"] if c["exercise"] == "dropout_forward"]
    assert forward and all(c["status"] == Status.MISSING and c["score"] == 0 for c in forward)
    assert all("Its cell (`dropout_forward`) is not in the notebook: it was deleted" in c["feedback"] for c in forward)
    others = [c for c in entry["checks"] if c["exercise"] == "dropout_backward"]
    assert others and all(c["status"] == Status.PASSED for c in others)  # nothing else is lost


def test_cell_that_raised_is_named_in_the_missing_feedback(batch):
    entry = batch[2][batch[4]["raised"]]
    errors = [e for e in entry["cell_errors"] if e["error_type"] == "SyntaxError"]
    assert len(errors) == 1
    forward = [c for c in entry["checks"] if c["exercise"] == "dropout_forward"]
    assert forward and all(c["status"] == Status.MISSING for c in forward)
    why = f"Its cell (#{errors[0]['index']}, `dropout_forward`) raised SyntaxError when it ran, so it defined nothing."
    assert all(why in c["feedback"] for c in forward)


def test_a_whole_cell_stub_that_still_raises_is_not_implemented_not_missing(grade):
    """03's FixedBatchNorm cell is all solution ("copy the class here and fix it"): untouched, it raises
    NotImplementedError and defines nothing. Its checks say "not implemented yet", as every other stub's do."""
    result = grade(student_path("03_batch_norm"))
    fixed = [c for c in result.checks if c.exercise == "FixedBatchNorm"]
    assert fixed and all(c.status == Status.NOT_IMPLEMENTED and c.score == 0 for c in fixed)
    assert all(c.feedback.startswith("`FixedBatchNorm` is not implemented yet: its cell still raises "
                                     "NotImplementedError") for c in fixed)
    assert not [c for c in result.checks if c.status == Status.MISSING]


def test_deleted_locked_cell_is_put_back(batch):
    entry = batch[2][batch[4]["locked_deleted"]]
    assert "locked cells put back from the released notebook (they had been deleted): imports" in _notes(entry)
    assert entry["score"] == entry["max_score"]


def test_reordered_and_duplicated_cells_are_graded_with_a_note(batch):
    by_path, graded = batch[2], batch[4]
    reordered = by_path[graded["reordered"]]
    assert "cells are not in the assignment's order (" in _notes(reordered)
    assert any(e["error_type"] == "NameError" for e in reordered["cell_errors"])  # cells that used torch early
    duplicated = by_path[graded["duplicated"]]
    assert "cells appear more than once" in _notes(duplicated) and "dropout_backward" in _notes(duplicated)
    assert duplicated["score"] == duplicated["max_score"]


def test_edited_locked_cell_is_restored(batch):
    entry = batch[2][batch[4]["locked"]]
    assert "locked cells restored from the released notebook (they had been edited): imports" in _notes(entry)
    assert entry["score"] == entry["max_score"]


def test_notebook_named_like_another_assignment_is_graded_as_its_metadata_says(batch):
    entry = batch[2][batch[4]["misnamed"]]
    assert entry["assignment"] == OTHER, entry["error"] and entry["score"] == entry["max_score"]
    assert f"the file name suggests {A}, but the notebook is {OTHER}" in _notes(entry)


@pytest.mark.parametrize("case, note", [("utf16", "saved as UTF-16"), ("utf8bom", None),
                                        ("latin1", "read as Latin-1")])
def test_odd_encodings_are_read_and_graded(batch, case, note):
    entry = batch[2][batch[4][case]]
    assert entry["error"] is None and entry["score"] == entry["max_score"]
    if note:
        assert note in _notes(entry)
    else:
        assert not entry["notes"]


def test_notebook_of_another_assignment_given_assignment_is_refused_and_the_rest_graded(tmp_path):
    other = write_nb(load_nb(solution_path(OTHER)), tmp_path / "mine.ipynb")
    good = write_nb(load_nb(student_path(A)), tmp_path / "good.ipynb")
    proc = cli(other, good, "--assignment", A, "--format", "json")
    assert proc.returncode == 3, proc.stderr
    first, second = json.loads(proc.stdout)["notebooks"]
    assert first["error"] == (f"this is a notebook of {OTHER} (its metadata says so), not of {A}: submit the {A} "
                              f"notebook, or grade this one as {OTHER}")
    assert second["error"] is None and second["assignment"] == A and second["checks"]


def test_all_ok_is_exit_0_and_a_folder_without_notebooks_alone_is_exit_3(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = cli(str(tmp_path / "empty"))
    assert proc.returncode == 3 and "this folder holds no notebooks" in proc.stdout


def test_unreadable_file(tmp_path, monkeypatch):
    """Root reads any file, so the permission error is simulated where the reader opens the file."""
    path = write_nb(load_nb(student_path(A)), tmp_path / "locked_out.ipynb")
    real_open = open

    def fake_open(file, *args, **kwargs):
        if str(file) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    with pytest.raises(NotebookError, match="cannot read the file: Permission denied"):
        read_submission(path)
    assert grade_notebook(path).error == "cannot read the file: Permission denied"
    (tmp_path / "closed").mkdir()

    def no_listing(path="."):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("os.scandir", no_listing)
    from autograder.notebooks import find_submissions

    assert [f.error for f in find_submissions([str(tmp_path / "closed")])] == ["cannot read the folder: Permission denied"]
    if os.geteuid() != 0:
        monkeypatch.undo()
        os.chmod(path, 0)
        assert grade_notebook(path).error == "cannot read the file: Permission denied"


def test_every_report_format_carries_the_reason(tmp_path):
    """Refused files need no student process: grade them in process and render every format."""
    run = GradingRun()
    for name in ("empty.ipynb", "v3.ipynb", "junk.ipynb", "missing.ipynb"):
        make, _ = REFUSED[name]
        make(tmp_path / name)
        run.notebooks.append(grade_notebook(str(tmp_path / name)))
    reasons = [REFUSED[os.path.basename(nb.path)][1] for nb in run.notebooks]
    assert all(nb.error for nb in run.notebooks)
    table = RENDERERS["table"](run)
    data = json.loads(RENDERERS["json"](run))
    gradescope = json.loads(RENDERERS["gradescope"](run))["output"]
    junit = ET.fromstring(RENDERERS["junit"](run))
    messages = [case.find("error").get("message") for case in junit.iter("testcase")]
    for nb, reason, entry, message in zip(run.notebooks, reasons, data["notebooks"], messages):
        assert reason in nb.error and entry["error"] == nb.error and message == nb.error
        assert f"{nb.path}: grading failed: {nb.error}" in gradescope
        assert f"GRADING FAILED: {nb.error}" in table


def test_a_grader_bug_costs_one_file_and_exits_4(tmp_path, monkeypatch, capsys):
    from autograder import engine
    from autograder.cli import main

    real = engine.grade_notebook
    (tmp_path / "bug.ipynb").write_text("{}")
    (tmp_path / "empty.ipynb").write_bytes(b"")

    def buggy(path, *args, **kwargs):
        if path.endswith("bug.ipynb"):
            raise RuntimeError("boom\nsecond line")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(engine, "grade_notebook", buggy)
    status = main(["grade", str(tmp_path / "bug.ipynb"), str(tmp_path / "empty.ipynb"), "--format", "json"])
    first, second = json.loads(capsys.readouterr().out)["notebooks"]
    assert status == 4
    assert first["error"] == "grader error (a bug, please report it): RuntimeError: boom second line"
    assert second["error"] == "the file is empty (0 bytes)"


def test_student_bundle_without_hidden_checks_says_what_to_do(tmp_path, monkeypatch, capsys):
    from autograder import engine
    from autograder.cli import main
    from autograder.references import HiddenChecksUnavailable

    def bundle(path, *args, **kwargs):
        raise HiddenChecksUnavailable("hidden checks of 05_dropout are not installed (this is a student bundle)")

    monkeypatch.setattr(engine, "grade_notebook", bundle)
    status = main(["grade", str(tmp_path / "05_dropout.ipynb"), "--format", "json"])
    (entry,) = json.loads(capsys.readouterr().out)["notebooks"]
    assert status == 3  # not a grader bug
    assert entry["error"] == ("hidden checks of 05_dropout are not installed (this is a student bundle); grade with "
                              "--no-hidden for the visible checks only")
