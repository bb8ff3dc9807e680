"""``.py`` submissions (jupytext percent format) are graded exactly like the notebook they convert to;
folders pick out which ``.py`` files are submissions; the self-check runs from a terminal
(docs/STUDENTS-PY.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import REPO, load_nb, solution_path, student_path, write_nb

from autograder.notebooks import find_submissions, is_script_submission, read_notebook
from autograder.submissions import notebook_to_script
from autograder.suites import ASSIGNMENTS


def _comparable(result) -> dict:
    """The report entry without what differs between two runs of the same notebook (path, timings)."""
    d = result.to_dict()
    d.pop("path")
    d.pop("duration_s")
    for c in d["checks"]:
        c.pop("duration_s")
    return d


def _as_script(nb_path: str, folder, stem: str) -> str:
    """The .py jupytext makes of the notebook (what `jupytext --to py:percent` writes)."""
    path = os.path.join(folder, stem + ".py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(notebook_to_script(load_nb(nb_path)))
    return path


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_as_py_gets_the_same_report_as_the_notebook(assignment, tmp_path, grade):
    (tmp_path / "ipynb").mkdir()
    (tmp_path / "py").mkdir()
    notebook = write_nb(load_nb(solution_path(assignment)), tmp_path / "ipynb" / f"{assignment}.ipynb")
    script = _as_script(notebook, tmp_path / "py", assignment)
    as_nb, as_py = grade(notebook), grade(script)
    assert as_py.path == script  # the report names the .py
    assert as_nb.error is None and as_nb.score == as_nb.max_score > 0
    assert _comparable(as_py) == _comparable(as_nb)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_student_copy_as_py_scores_zero_like_the_notebook(assignment, tmp_path, grade):
    (tmp_path / "py").mkdir()
    script = _as_script(student_path(assignment), tmp_path / "py", assignment)
    as_nb, as_py = grade(student_path(assignment)), grade(script)
    assert as_py.error is None and as_py.score == 0 < as_py.max_score
    assert _comparable(as_py) == _comparable(as_nb)


def test_locked_cells_of_a_py_are_restored(tmp_path, grade):
    text = notebook_to_script(load_nb(solution_path("05_dropout")))
    text = text.replace('REGNORM_ASSIGNMENT = "05_dropout"\n',
                        'REGNORM_ASSIGNMENT = "05_dropout"\ncheck = lambda *a, **k: 100.0\n', 1)
    path = tmp_path / "05_dropout.py"
    path.write_text(text, encoding="utf-8")
    result = grade(str(path))
    assert "locked cells restored from the released notebook (they had been edited): imports" in result.notes
    assert result.score == result.max_score


def test_which_py_files_in_a_folder_are_submissions(tmp_path):
    script = notebook_to_script(load_nb(student_path("05_dropout")))
    (tmp_path / "05_dropout.py").write_text(script)  # a converted notebook named after its assignment
    (tmp_path / "utils.py").write_text("def helper():\n    return 1\n")  # a helper module beside it
    no_header = script[script.index("# %%"):]  # the cells without the jupytext header (no regnorm metadata)
    (tmp_path / "scratch.py").write_text(no_header)  # percent format, but no assignment in name or header
    header = "# ---\n# jupyter:\n#   regnorm:\n#     assignment: 03_batch_norm\n# ---\n\n# %%\nx = 1\n"
    (tmp_path / "homework.py").write_text(header)  # the regnorm header names it
    (tmp_path / "04_layer_norm.ipynb").write_text(json.dumps(load_nb(student_path("04_layer_norm"))))
    (tmp_path / "04_layer_norm.py").write_text(script)  # a jupytext pair: the notebook is the submission
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "05_dropout.py").write_text(script)
    os.mkfifo(tmp_path / "pipe.py")  # never opened (it would block)
    os.mkfifo(tmp_path / "05_dropout-pipe.py")  # named like a submission: listed, and refused when read
    found = [os.path.basename(f.path) for f in find_submissions([str(tmp_path)])]
    assert found == ["04_layer_norm.ipynb", "05_dropout-pipe.py", "05_dropout.py", "homework.py"]
    assert not is_script_submission(str(tmp_path / "utils.py"))
    # Named on the command line, any file is graded (or refused with its reason).
    assert [f.path for f in find_submissions([str(tmp_path / "utils.py")])] == [str(tmp_path / "utils.py")]


def test_cli_grades_a_py_and_a_folder_of_them(tmp_path):
    script = _as_script(solution_path("05_dropout"), tmp_path, "05_dropout")
    (tmp_path / "helpers.py").write_text("X = 1\n")
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path), script, "--format", "json"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [n["path"] for n in report["notebooks"]] == [script, script]
    assert all(n["score"] == n["max_score"] > 0 for n in report["notebooks"])


def test_reading_a_notebook_does_not_import_jupytext():
    code = ("import sys; from autograder.notebooks import read_notebook; read_notebook(sys.argv[1]); "
            "assert 'jupytext' not in sys.modules and 'nbformat' not in sys.modules, 'slow import'")
    proc = subprocess.run([sys.executable, "-c", code, student_path("05_dropout")], capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_py_round_trip_keeps_cells_and_metadata(tmp_path):
    for assignment in ASSIGNMENTS:
        nb = read_notebook(solution_path(assignment))
        back = read_notebook(_as_script(solution_path(assignment), tmp_path, assignment))
        strip = [(c["cell_type"], "".join(c["source"]), c.get("metadata", {})) for c in nb["cells"]]
        assert [(c["cell_type"], "".join(c["source"]), c.get("metadata", {})) for c in back["cells"]] == strip


def _selfcheck(path, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "selfcheck", str(path), *args],
                          capture_output=True, text=True, cwd=cwd or REPO, timeout=300)


def test_selfcheck_from_a_terminal(tmp_path):
    solved = _as_script(solution_path("05_dropout"), tmp_path, "05_dropout")
    proc = _selfcheck(solved, "dropout_forward", "dropout_backward", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dropout_forward: visible checks 10/10 points" in proc.stdout
    assert "-> visible checks passed; 4.5 more points are graded by hidden checks." in proc.stdout
    assert "dropout_backward: visible checks" in proc.stdout and "05_dropout: visible checks" in proc.stdout

    (tmp_path / "student").mkdir()
    untouched = _as_script(student_path("05_dropout"), tmp_path / "student", "05_dropout")
    proc = _selfcheck(untouched, "dropout_forward")
    assert proc.returncode == 1  # some visible checks did not pass
    assert "`dropout_forward` is not implemented yet (it raises NotImplementedError)." in proc.stdout
    assert "05_dropout: visible checks 0/10 points" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr

    bundle_way = subprocess.run([sys.executable, "-m", "autograder.selfcheck", untouched, "dropout_forward"],
                                capture_output=True, text=True, cwd=REPO, timeout=300)  # no autograder.cli needed
    assert bundle_way.returncode == 1 and bundle_way.stdout == proc.stdout

    (tmp_path / "broken.py").write_text("print(1)\n")
    proc = _selfcheck(tmp_path / "broken.py")
    assert proc.returncode == 3 and "no `# %%` cell markers" in proc.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_plain_jupytext_conversion_of_the_student_copy_keeps_the_assignment(assignment, tmp_path):
    """The student notebooks carry jupytext's metadata filter, so `jupytext --to py:percent` writes
    `regnorm.assignment` into the script's header and the grader detects the assignment whatever the name."""
    from autograder.notebooks import detect_assignment

    src = tmp_path / "my_work.ipynb"
    src.write_bytes(open(student_path(assignment), "rb").read())
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "jupytext"), "--to", "py:percent", "-q",
                    str(src)], check=True, timeout=120)
    script = (tmp_path / "my_work.py").read_text()
    assert f"#   regnorm:\n#     assignment: {assignment}\n" in script
    assert detect_assignment(read_notebook(str(tmp_path / "my_work.py")), str(tmp_path / "my_work.py")) == assignment
