"""Helpers every test may import (``from helpers import ...``): the repository's notebooks, notebooks with
cells injected (a known mistake, an alternative implementation), and the full-marks assertion.

Fixtures live in ``conftest.py`` (``grade``); helpers live here, in an importable module.
"""

from __future__ import annotations

import contextlib
import copy
import glob
import io
import json
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from autograder import paths  # noqa: E402
from autograder.sandbox.limits import Limits, become, unprivileged_user  # noqa: E402


def solution_path(assignment: str) -> str:
    return paths.solution_notebook(assignment)


def student_path(assignment: str) -> str:
    return paths.student_notebook(assignment)


def load_nb(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": "injected", "metadata": {}, "outputs": [],
            "source": source}


def with_cells_after(nb: dict, grade_id: str, sources: list[str]) -> dict:
    """A copy of ``nb`` with new code cells right after the cell whose nbgrader grade_id is ``grade_id``."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb["cells"]):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            taken = {c.get("id") for c in nb["cells"]}
            for k, src in enumerate(sources):
                cell_k = code_cell(src)
                cell_k["id"] = next(f"injected{n}" for n in range(k, k + len(taken) + 1) if f"injected{n}" not in taken)
                taken.add(cell_k["id"])
                nb["cells"].insert(i + 1 + k, cell_k)
            return nb
    raise KeyError(f"no cell with grade_id {grade_id}")


def with_cell_appended(nb: dict, source: str) -> dict:
    nb = copy.deepcopy(nb)
    cell = code_cell(source)
    cell["id"] = f"appended{len(nb['cells'])}"
    nb["cells"].append(cell)
    return nb


def write_nb(nb: dict, path) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(nb, fh)
    return str(path)


def mistake_submission(assignment: str, mistake, tmp_path) -> str:
    """The solution notebook with ``mistake`` swapped in for its function, right after the solution cell."""
    nb = load_nb(solution_path(assignment))
    names = [mistake.exercise, *mistake.namespace]
    src = (f"from autograder.suites.s{assignment} import mistakes as _mistakes\n"
           f"_m = [m for m in _mistakes.suite.mistakes if m.name == {mistake.name!r} "
           f"and m.exercise == {mistake.exercise!r}][0]\n"
           f"{mistake.exercise} = _m.impl\n"
           + "".join(f"{n} = _m.namespace[{n!r}]\n" for n in names[1:]))
    grade_id = mistake.cell or mistake.exercise
    path = write_nb(with_cells_after(nb, grade_id, [src]), tmp_path / f"{assignment}-{mistake.name}.ipynb")
    MISTAKE_SUBMISSIONS[path] = assignment
    return path


#: Notebooks made by :func:`mistake_submission` (trusted: they import the suite's known mistakes, so their
#: suite folder must stay visible in the sandbox) -> their assignment.
MISTAKE_SUBMISSIONS: dict[str, str] = {}


def limits_for(path, limits: Limits | None = None) -> Limits:
    """``limits`` (default :data:`FAST_LIMITS`), revealing the suite folder to a known-mistake submission."""
    import dataclasses

    limits = limits or FAST_LIMITS
    assignment = MISTAKE_SUBMISSIONS.get(str(path))
    return dataclasses.replace(limits, reveal_suites=(assignment,)) if assignment else limits


def assert_full_marks(result) -> None:
    """Graded without error or cell errors, every check passed, the whole score earned."""
    assert result.error is None, result.error
    assert not result.cell_errors, result.cell_errors
    failing = [(c.name, c.status, c.feedback) for c in result.checks if not c.passed]
    assert not failing, failing
    assert result.score == result.max_score > 0


#: Limits for tests: short enough that a hang fails fast, long enough for a loaded 2-core machine.
FAST_LIMITS = Limits(cell_timeout=20, notebook_timeout=90, call_timeout=20)


def python_for_unprivileged_user(tmp_root: str) -> tuple[str | None, str]:
    """A Python the unprivileged user can run, with this venv's packages (torch) importable."""
    user = unprivileged_user()
    system = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if system is None:
        return None, "no system python3 in /usr/local/bin, /usr/bin or /bin"
    ver = subprocess.run([system, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True).stdout.strip()
    mine = "{}.{}".format(*sys.version_info[:2])
    if ver != mine:
        return None, f"system python3 is {ver}, the grader's venv is {mine}: torch's wheels cannot be shared"
    venv = os.path.join(tmp_root, "venv")
    subprocess.run([system, "-m", "venv", "--without-pip", venv], check=True)
    import site

    pth = glob.glob(os.path.join(venv, "lib", "python*", "site-packages"))[0]
    with open(os.path.join(pth, "regnorm-grader-deps.pth"), "w") as fh:
        fh.write("\n".join(p for p in site.getsitepackages() if os.path.isdir(p)) + "\n")
    subprocess.run(["chmod", "-R", "go+rX", venv], check=True)
    python = os.path.join(venv, "bin", "python")

    def demote():
        become(user)

    probe = subprocess.run([python, "-c", "import torch, numpy, IPython"], preexec_fn=demote, cwd="/",
                           capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    if probe.returncode != 0:
        tail = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"uid {user[0]} cannot import torch from this venv's site-packages via {system}: {tail}"
    return python, ""


def run_solution_capturing_output(assignment: str) -> tuple[dict, dict, dict]:
    """Every code cell of the solution notebook, in order, in this process (Agg backend; self-check cells
    skipped). Returns (namespace, {grade_id: [figures shown by that cell, each a list of its axes'
    (title, xlabel, ylabel), colour bars left out]}, {grade_id: [objects passed to display()]})."""
    import matplotlib

    matplotlib.use("Agg")
    import IPython.display
    import matplotlib.pyplot as plt

    nb = load_nb(solution_path(assignment))
    shown: dict[str, list] = {}
    displayed: dict[str, list] = {}
    current = [None]

    def show(*args, **kwargs):
        for num in plt.get_fignums():
            fig = plt.figure(num)
            shown.setdefault(current[0], []).append(
                [(ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes if ax.get_label() != "<colorbar>"])
            fig.canvas.draw()        # the figure really renders
        plt.close("all")

    real_show, plt.show = plt.show, show      # the notebook's `import matplotlib.pyplot as plt` gets this module
    real_display = IPython.display.display
    IPython.display.display = lambda *objs, **kw: displayed.setdefault(current[0], []).extend(objs)
    ns: dict = {"__name__": "__main__"}
    cwd = os.getcwd()
    os.chdir(os.path.dirname(solution_path(assignment)))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for cell in nb["cells"]:
                meta = cell["metadata"].get("nbgrader", {})
                if cell["cell_type"] != "code" or meta.get("grade"):
                    continue
                current[0] = meta.get("grade_id")
                exec(compile("".join(cell["source"]), f"<{current[0]}>", "exec"), ns)
    finally:
        os.chdir(cwd)
        plt.close("all")
        plt.show = real_show
        IPython.display.display = real_display
    return ns, shown, displayed


def run_solution_capturing_figures(assignment: str) -> tuple[dict, dict]:
    """:func:`run_solution_capturing_output` without what was displayed: (namespace, figures by cell)."""
    ns, shown, _ = run_solution_capturing_output(assignment)
    return ns, shown


def in_process_judge(assignment: str):
    """``judge(exercise, source)``: the solution notebook's namespace with ``source`` executed over it,
    graded in-process on that exercise's visible and hidden checks -> ``{check name: CheckResult}``."""
    from autograder import references
    from autograder.checks import run_check
    from autograder.notebooks import notebook_namespace
    from autograder.student import LocalStudent
    from autograder.suites import load_suite

    suite = load_suite(assignment, hidden=True)
    refs = references.load(assignment, hidden=True)
    base = notebook_namespace(solution_path(assignment))

    def judge(exercise: str, source: str) -> dict:
        ns = dict(base)
        exec(source, ns)
        student = LocalStudent(ns)
        return {c.name: run_check(c, student, refs.checks.get(c.name)) for c in suite.select(exercise)}

    return judge
