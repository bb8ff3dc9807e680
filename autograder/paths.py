"""Where things are: the one place that knows the repository's layout and the assignment ↔ suite naming.

Assignment ``NN_name`` (e.g. ``03_batch_norm``) has its solution in ``solutions/NN_name/``, its student
notebook in ``assignments/NN_name/`` and its checks in the package ``autograder.suites.sNN_name``
(a Python package name cannot start with a digit, hence the ``s``).
"""

from __future__ import annotations

import os
import re

#: The ``autograder`` package folder.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: The repository (or bundle) root: the folder that holds ``autograder/``.
REPO_ROOT = os.path.dirname(PACKAGE_DIR)
#: The suite packages live here, one folder ``sNN_name`` per assignment.
SUITES_DIR = os.path.join(PACKAGE_DIR, "suites")
#: The folder of a suite's reference values.
REFERENCES = "references"

_SUITE = re.compile(r"s(\d\d_[a-z0-9_]+)")


def suite_package(assignment: str) -> str:
    """``03_batch_norm`` -> ``autograder.suites.s03_batch_norm``."""
    return f"autograder.suites.s{assignment}"


def assignment_of(module: str) -> str:
    """The assignment a suite module belongs to: ``autograder.suites.s03_batch_norm.checks`` -> ``03_batch_norm``."""
    for part in module.split("."):
        m = _SUITE.fullmatch(part)
        if m:
            return m.group(1)
    raise ValueError(f"{module!r} is not inside a suite package autograder.suites.sNN_name")


def suite_dir(assignment: str) -> str:
    return os.path.join(SUITES_DIR, f"s{assignment}")


def is_suite_folder(name: str) -> bool:
    """Whether ``name`` (an entry of :data:`SUITES_DIR`) is an assignment's suite: ``sNN_name`` with a checks.py."""
    return bool(_SUITE.fullmatch(name)) and os.path.isfile(os.path.join(SUITES_DIR, name, "checks.py"))


def references_file(assignment: str, hidden: bool) -> str:
    return os.path.join(suite_dir(assignment), REFERENCES, "hidden.json" if hidden else "visible.json")


def solution_source(assignment: str, root: str = REPO_ROOT) -> str:
    """The hand-edited solution script (jupytext percent format)."""
    return os.path.join(root, "solutions", assignment, f"{assignment}.py")


def solution_notebook(assignment: str, root: str = REPO_ROOT) -> str:
    return os.path.join(root, "solutions", assignment, f"{assignment}.ipynb")


def student_notebook(assignment: str, root: str = REPO_ROOT) -> str:
    return os.path.join(root, "assignments", assignment, f"{assignment}.ipynb")


def source_data_dir() -> str:
    """``$REGNORM_SOURCE_DATA`` if set, else ``<repo>/source_data`` (the worksheets' numbers)."""
    return os.environ.get("REGNORM_SOURCE_DATA") or os.path.join(REPO_ROOT, "source_data")
