"""What leaves the instructor's repository, one module per job:

- :mod:`~autograder.bundles.student` — the student bundle: the release notebooks, the *visible* part of
  the grader (the in-notebook self-check), ``source_data/`` and a ``pyproject.toml``. No solution, no
  hidden check, no hidden reference value, no known-mistake implementation.
- :mod:`~autograder.bundles.leaks` — the leak scan: everything in a folder a student must not get.
- :mod:`~autograder.bundles.gradescope` — the Gradescope autograder zip (``setup.sh`` + ``run_autograder``
  and the whole grader under ``grader/``) and :func:`gradescope_run`, what ``run_autograder`` calls.
- :mod:`~autograder.bundles.lockdown` — make the secret files root-only, so the student's process
  (which drops to an unprivileged user when the grader runs as root) cannot read them.

This module holds what they share: which package files are secret or instructor-only, and copying.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tempfile

from autograder.paths import PACKAGE_DIR, REFERENCES, REPO_ROOT, assignment_of

#: Files of the package that only the instructor/grader may hold (relative to ``autograder/``).
SECRET_FILES = ("hidden.py", "mistakes.py", f"{REFERENCES}/hidden.json")
SECRET_PATTERNS = tuple(f"suites/*/{f}" for f in SECRET_FILES)
#: Grader-only modules left out of the student bundle (they are not needed by ``check()``).
INSTRUCTOR_ONLY = ("cli/*", "__main__.py", "engine.py", "generate.py", "batch.py", "bundles/*",
                   "nbgrader_autograde.py", "reports/*", "gradescope_files/*")
SKIP_ALWAYS = ("*/__pycache__/*", "__pycache__/*", "*.pyc", "*/.ipynb_checkpoints/*", "*.tmp")

__all__ = ["PACKAGE_DIR", "REPO_ROOT", "SECRET_FILES", "SECRET_PATTERNS", "INSTRUCTOR_ONLY", "package_files",
           "copy_file", "copy_tree", "temp_root", "build_student_bundle", "released_assignments", "find_leaks",
           "solution_lines", "build_gradescope_bundle", "extract_bundle", "gradescope_run", "lock_down"]


def _matches(rel: str, patterns) -> bool:
    return any(fnmatch.fnmatch(rel, p) for p in patterns)


def _suite_of(folder: str) -> str | None:
    try:
        return assignment_of(folder)
    except ValueError:
        return None


def package_files(student: bool, assignments=None) -> list[str]:
    """Paths (relative to ``autograder/``) of the package files a bundle holds (``assignments``: only
    these assignments' suites; default all)."""
    out = []
    for root, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(root, f), PACKAGE_DIR).replace(os.sep, "/")
            if _matches(rel, SKIP_ALWAYS):
                continue
            if student and (_matches(rel, SECRET_PATTERNS) or _matches(rel, INSTRUCTOR_ONLY)):
                continue
            parts = rel.split("/")
            if assignments is not None and len(parts) > 2 and parts[0] == "suites" and \
                    _suite_of(parts[1]) not in assignments:
                continue
            out.append(rel)
    return out


def copy_file(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)


def copy_tree(src: str, dst: str, exclude=SKIP_ALWAYS) -> list[str]:
    copied = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(root, f), src).replace(os.sep, "/")
            if _matches(rel, exclude) or f.startswith("."):
                continue
            copy_file(os.path.join(root, f), os.path.join(dst, rel))
            copied.append(rel)
    return copied


def temp_root(prefix: str = "regnorm-gs-") -> str:
    """A temporary folder the unprivileged user can traverse (pytest's tmp_path is 0700 under root)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


from autograder.bundles.gradescope import build_gradescope_bundle, extract_bundle, gradescope_run  # noqa: E402
from autograder.bundles.leaks import find_leaks, solution_lines  # noqa: E402
from autograder.bundles.lockdown import lock_down  # noqa: E402
from autograder.bundles.student import build_student_bundle, released_assignments  # noqa: E402
