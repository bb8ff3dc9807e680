"""nbgrader, for real: a temporary course built from the repo's nbgrader_config.py and solutions/.

generate_assignment -> submissions -> autograde -> generate_feedback -> export, and the exported score of
every student equals what ``autograder grade`` gives the same notebook — including submissions that
attack a grade computed in the student's kernel (nbgrader_config.py grades with the sandboxed engine).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import REPO, load_nb, solution_path, write_nb

ASSIGNMENT = "01_data_splits"
BIN = os.path.dirname(sys.executable)

NO_SHUFFLE_SPLIT = '''def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    # forgot to shuffle: cuts the rows in their original order
    n = x.shape[0]
    n_train = int(n * ratios[0])
    n_val = int(n * ratios[1])
    return {"train": (x[:n_train], y[:n_train]),
            "val": (x[n_train:n_train + n_val], y[n_train:n_train + n_val]),
            "test": (x[n_train + n_val:], y[n_train + n_val:])}
'''

# A harmless warning at the top of the student's cell, and a real torch UserWarning ("To copy construct
# from a tensor ...") raised each time the checks call split_data.
WARNING_PRELUDE = 'import warnings\nwarnings.warn("just a harmless warning", UserWarning)\n'


KERNEL_CHEATS = {
    # the test cells call check(...): rebind it to report full points
    "rebinds_check": "def check(*args, **kwargs):\n    return 100.0\n",
    # make every comparison the checks could use succeed
    "patches_compare": ("import numpy, torch\n"
                        "torch.allclose = lambda *a, **k: True\n"
                        "torch.equal = lambda *a, **k: True\n"
                        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                        "def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n"
                        "    raise NotImplementedError()\n"),
    # a test cell with no output earns full credit under nbgrader's Execute
    "hides_output": ("get_ipython().ast_node_interactivity = 'none'\n"
                     "def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n"
                     "    raise NotImplementedError()\n"),
}


def nbgrader_env(root=None) -> dict:
    env = dict(os.environ)
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")  # nbgrader needs `alembic` on PATH
    env.pop("REGNORM_GRADING", None)
    if root is not None:
        # As in a clean CI clone: no user-level Jupyter config or kernelspecs; the notebooks' `python3`
        # kernel is then this venv's Python (the one running nbgrader), which can `from autograder import check`.
        for var, sub in (("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                         ("JUPYTER_RUNTIME_DIR", "jupyter-runtime")):
            env[var] = str(root / sub)
        env.pop("JUPYTER_PATH", None)
    env["PYTHONWARNINGS"] = "default"  # make sure warnings are on, as in a student's kernel
    return env


def nbgrader(root, *args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=nbgrader_env(root),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in ("### BEGIN SOLUTION",
                                                                                    "### END SOLUTION"))


def submission(release: dict, solution: dict, replace: dict[str, str] | None = None) -> dict:
    """The release notebook with every solution cell filled in from the solution (or ``replace[grade_id]``)."""
    sol_cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in solution["cells"]}
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            gid = meta["grade_id"]
            src = (replace or {}).get(gid)
            if src is None:
                src = strip_markers("".join(sol_cells[gid]["source"]))
            cell["source"] = src
    return nb


def cheat_on_stubs(release: dict, cheat: str) -> dict:
    """The untouched student copy (every stub still raising) with ``cheat`` as split_data's cell."""
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "split_data":
            cell["source"] = cheat
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root / "nbgrader_config.py")
    shutil.copytree(os.path.join(REPO, "solutions", ASSIGNMENT), root / "solutions" / ASSIGNMENT)
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    release_path = root / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert release_path.exists()
    release, solution = load_nb(str(release_path)), load_nb(solution_path(ASSIGNMENT))
    split_src = strip_markers("".join(next(c for c in solution["cells"]
                                           if c["metadata"].get("nbgrader", {}).get("grade_id") == "split_data")["source"]))
    warn_split = WARNING_PRELUDE + split_src.replace("    n = x.shape[0]\n", "    x = torch.tensor(x)\n    n = x.shape[0]\n", 1)
    assert warn_split != WARNING_PRELUDE + split_src
    students = {
        "full": submission(release, solution),
        "stubs": release,
        "noshuffle": submission(release, solution, {"split_data": NO_SHUFFLE_SPLIT}),
        "warns": submission(release, solution, {"split_data": warn_split}),
        # Attacks on a grade computed in the student's kernel (DESIGN.md §1): each is the untouched
        # student copy plus one cell's worth of cheating, so the true score is 0.
        **{name: cheat_on_stubs(release, cheat) for name, cheat in KERNEL_CHEATS.items()},
    }
    paths = {}
    for student, nb in students.items():
        d = root / "submitted" / student / ASSIGNMENT
        d.mkdir(parents=True)
        paths[student] = write_nb(nb, d / f"{ASSIGNMENT}.ipynb")
    nbgrader(root, "autograde", ASSIGNMENT, "--force")
    nbgrader(root, "generate_feedback", ASSIGNMENT, "--force")
    nbgrader(root, "export")
    with open(root / "grades.csv", newline="", encoding="utf-8") as fh:
        exported = {row["student_id"]: row for row in csv.DictReader(fh)}
    proc = subprocess.run([os.path.join(BIN, "autograder"), "grade", *paths.values(), "--format", "json"],
                          capture_output=True, text=True, timeout=900, env=nbgrader_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    ours = {student: nb for student, nb in zip(paths, report["notebooks"], strict=True)}
    return {"root": root, "exported": exported, "ours": ours, "paths": paths}


@pytest.mark.slow
def test_export_scores_equal_autograder_grade(course):
    exported, ours = course["exported"], course["ours"]
    assert set(exported) == set(ours)
    for student, nb in ours.items():
        assert nb["error"] is None, nb["error"]
        row = exported[student]
        assert row["assignment"] == ASSIGNMENT
        # nbgrader's total also holds the written answers graded by hand; the report names them apart.
        assert float(row["max_score"]) == pytest.approx(nb["max_score"] + nb["manual_points"]), student
        assert float(row["score"]) == pytest.approx(nb["score"], abs=1e-6), (student, row, nb["score"])
    assert ours["full"]["score"] == ours["full"]["max_score"] > 0
    assert ours["stubs"]["score"] == 0
    assert 0 < ours["noshuffle"]["score"] < ours["noshuffle"]["max_score"]


@pytest.mark.slow
@pytest.mark.parametrize("cheat", sorted(KERNEL_CHEATS))
def test_kernel_cheats_gain_nothing_under_nbgrader(course, cheat):
    """nbgrader's recorded score comes from the sandboxed engine, not from the student's kernel."""
    row = course["exported"][cheat]
    assert float(row["score"]) == course["ours"][cheat]["score"] == 0, (cheat, row)
    autograded = load_nb(str(course["root"] / "autograded" / cheat / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    tests = [c for c in autograded["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
             and not c["metadata"]["nbgrader"].get("solution")]
    assert tests
    for cell in tests:
        results = [o for o in cell["outputs"] if o["output_type"] == "execute_result"]
        assert ["".join(o["data"]["text/plain"]) for o in results] == ["0"], cell["outputs"]


@pytest.mark.slow
def test_feedback_html_exists(course):
    for student in course["paths"]:
        html = course["root"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert html.exists(), html
        assert "split_data" in html.read_text(encoding="utf-8")


@pytest.mark.slow
def test_harmless_warning_costs_no_points_under_nbgrader(course):
    row = course["exported"]["warns"]
    ours = course["ours"]["warns"]
    assert float(row["score"]) == ours["max_score"] > 0, row  # every autograded point (written answers aside)
    assert float(row["max_score"]) == ours["max_score"] + ours["manual_points"]
    # The test cells' outputs are the engine's verdict (feedback on stdout, points as the result).
    autograded = load_nb(str(course["root"] / "autograded" / "warns" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    outputs = [o for c in autograded["cells"] for o in c.get("outputs", [])]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "[PASS] split_data." in text
    assert not [o for c in autograded["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
                for o in c.get("outputs", []) if o.get("name") == "stderr"]
