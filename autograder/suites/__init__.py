"""The assignments the grader knows, and loading their checks.

Assignment ``NN_name`` lives in the package ``autograder.suites.sNN_name`` (found by its folder; see
docs/AUTHORING.md): ``checks.py`` creates ``suite = Suite(__name__)`` and holds the visible checks,
``hidden.py`` (optional) the hidden ones, ``mistakes.py`` the known mistakes, ``references/`` the
recorded reference values.
"""

from __future__ import annotations

import importlib
import os
import re

from autograder import paths
from autograder.checks import Suite
from autograder.references import HiddenChecksUnavailable

#: Assignment ids, in course order: one per suite folder ``sNN_name`` (with a checks.py) in this package.
ASSIGNMENTS = tuple(sorted(paths.assignment_of(entry) for entry in os.listdir(paths.SUITES_DIR)
                           if paths.is_suite_folder(entry)))


def load_suite(assignment: str, hidden: bool = True, mistakes: bool = False) -> Suite:
    """Import an assignment's checks (and, on request, hidden checks and known mistakes)."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    base = paths.suite_package(assignment)
    suite: Suite = importlib.import_module(base + ".checks").suite
    if hidden and os.path.exists(os.path.join(paths.suite_dir(assignment), "mistakes.py")):
        # An instructor installation: hidden.py is optional (an assignment may have no hidden-only logic).
        _import_optional(base + ".hidden")
    elif hidden:
        try:
            importlib.import_module(base + ".hidden")
        except ModuleNotFoundError as exc:
            if exc.name == base + ".hidden":
                raise HiddenChecksUnavailable(
                    f"hidden checks of {assignment} are not installed (this is a student bundle)") from exc
            raise
    if mistakes:
        importlib.import_module(base + ".mistakes")
    return suite


def _import_optional(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise


def assignment_from_filename(filename: str) -> str | None:
    """Guess an assignment id from a notebook's file name (``01_data_splits.ipynb``, ``data_splits-jane.ipynb``)."""
    stem = os.path.basename(filename).lower()
    for a in ASSIGNMENTS:
        if stem.startswith(a) or re.search(rf"(^|[^a-z]){re.escape(a[3:])}([^a-z]|$)", stem):
            return a
    return None
