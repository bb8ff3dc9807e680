"""The assignments the grader knows, and loading their checks and reference values.

Assignment ``NN_name`` lives in the package ``autograder.suites.sNN_name`` (see
:mod:`autograder.checks` for its layout).
"""

from __future__ import annotations

import importlib
import json
import os
import re

from autograder.checks import Suite

HERE = os.path.dirname(os.path.abspath(__file__))

#: Assignment ids, in course order: one per suite package ``sNN_name`` in this folder.
ASSIGNMENTS = tuple(sorted(
    entry[1:] for entry in os.listdir(HERE)
    if re.fullmatch(r"s\d\d_[a-z0-9_]+", entry) and os.path.isfile(os.path.join(HERE, entry, "checks.py"))
))


class HiddenChecksUnavailable(ImportError):
    """This installation is a student bundle: hidden checks and goldens are not included."""


def module_name(assignment: str) -> str:
    return f"autograder.suites.s{assignment}"


def golden_path(assignment: str, hidden: bool) -> str:
    return os.path.join(HERE, f"s{assignment}", "goldens", "hidden.json" if hidden else "visible.json")


def load_suite(assignment: str, hidden: bool = True, mistakes: bool = False) -> Suite:
    """Import an assignment's checks (and, on request, hidden checks and known mistakes)."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    base = module_name(assignment)
    suite: Suite = importlib.import_module(base).suite
    importlib.import_module(base + ".checks")
    if hidden:
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


def load_goldens(assignment: str, hidden: bool, key: str = "checks") -> dict:
    """Recorded reference values: ``{check_name: {case_key: [expectation, ...]}}``.

    ``key="hidden_points"`` (visible file) gives the points of hidden checks per group, which a
    student bundle can report without holding the hidden checks.
    """
    path = golden_path(assignment, hidden)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)[key]
    except FileNotFoundError:
        if hidden:
            raise HiddenChecksUnavailable(f"hidden reference values of {assignment} are not installed") from None
        raise


def assignment_from_filename(filename: str) -> str | None:
    """Guess an assignment id from a notebook's file name (``01_data_splits.ipynb``, ``data_splits-jane.ipynb``)."""
    stem = os.path.basename(filename).lower()
    for a in ASSIGNMENTS:
        if stem.startswith(a) or re.search(rf"(^|[^a-z]){re.escape(a[3:])}([^a-z]|$)", stem):
            return a
    return None
