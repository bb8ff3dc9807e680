"""Generate the notebooks from their sources: solution notebooks from the jupytext scripts, student
notebooks from the solution notebooks.

``solutions/NN_name/NN_name.py`` (jupytext percent format, nbgrader metadata in the ``# %%`` headers)
is the file people edit and review. :func:`sync_solution` writes ``solutions/NN_name/NN_name.ipynb``
from it with jupytext (cell ids ``c00``, ``c01``, ... so the output is deterministic), and
:func:`generate_assignments` then runs nbgrader's own ``generate_assignment`` with the repository's
``nbgrader_config.py`` (the gradebook it needs goes to a temporary database, so the repository stays
clean) to write ``assignments/NN_name/``. With ``check=True`` nothing is written: the generated files
are compared byte for byte with the committed ones and :class:`OutOfDate` names the first that differs.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import tempfile

from autograder.paths import REPO_ROOT, solution_source
from autograder.suites import ASSIGNMENTS


class OutOfDate(RuntimeError):
    """A committed generated file differs from what its source generates."""


def solution_notebook_text(source_path: str) -> str:
    """The ``.ipynb`` text jupytext makes from a percent-format script, with deterministic cell ids."""
    import jupytext

    with open(source_path, encoding="utf-8") as fh:
        nb = jupytext.reads(fh.read(), fmt="py:percent")
    # The pairing options belong to the script, not to the notebooks; only the metadata filter stays, so a
    # student's `jupytext --to py:percent NN.ipynb` keeps `regnorm.assignment` in the script's header.
    nb.metadata["jupytext"] = {"notebook_metadata_filter": "regnorm"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:02d}"
    return jupytext.writes(nb, fmt="ipynb")


def sync_solution(assignment: str, check: bool = False, root: str = REPO_ROOT) -> str | None:
    """Write (or, with ``check``, verify) ``solutions/NN/NN.ipynb`` from ``NN.py``.

    Returns the notebook path, or None when the assignment has no script source (legacy layout).
    """
    source = solution_source(assignment, root)
    if not os.path.exists(source):
        return None
    target = source[:-3] + ".ipynb"
    text = solution_notebook_text(source)
    try:
        with open(target, encoding="utf-8") as fh:
            current = fh.read()
    except FileNotFoundError:
        current = None
    if current != text:
        if check:
            raise OutOfDate(f"{os.path.relpath(target, root)} is out of date with {os.path.basename(source)}; "
                            f"run `autograder generate {assignment}`")
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
    return target


def run_nbgrader_generate(assignment: str, release_dir: str, db_path: str, root: str = REPO_ROOT) -> None:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
           f"--CourseDirectory.db_url=sqlite:///{db_path}", f"--CourseDirectory.release_directory={release_dir}"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{proc.stdout}\n{proc.stderr}")


def generate_assignments(assignments: list[str] | None = None, check: bool = False,
                         root: str = REPO_ROOT) -> list[str]:
    """Generate (or, with ``check``, verify) the solution notebook and ``assignments/NN/``; returns the paths."""
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="regnorm-generate-") as tmp:
        db = os.path.join(tmp, "gradebook.db")
        for assignment in assignments or ASSIGNMENTS:
            solution = sync_solution(assignment, check, root)
            if solution:
                written.append(solution)
            release = os.path.join(root, "assignments") if not check else os.path.join(tmp, "release")
            run_nbgrader_generate(assignment, release, db, root)
            generated = os.path.join(release, assignment)
            committed = os.path.join(root, "assignments", assignment)
            for name in sorted(os.listdir(generated)):
                path = os.path.join(committed, name)
                if check and (not os.path.exists(path) or not filecmp.cmp(os.path.join(generated, name), path,
                                                                           shallow=False)):
                    raise OutOfDate(f"{os.path.relpath(path, root)} is out of date with solutions/; "
                                    f"run `autograder generate {assignment}`")
                written.append(path)
    return written
