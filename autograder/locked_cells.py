"""Locked cells are the course's, not the student's (DESIGN.md §1; nbgrader's ``OverwriteCells``).

Before a submission runs, every locked code cell it contains (the imports, given helpers, data loading:
nbgrader ``locked`` cells that are neither solution nor test cells) is restored from the released
student notebook — source and tags — so no check goes through a helper the student rewrote, and a
``skip-when-grading`` tag cannot be added to or removed from a given cell. A locked cell the student
deleted is put back where the release has it. The report notes which cells were restored.
"""

from __future__ import annotations

import copy

from autograder import paths
from autograder.notebooks import NotebookError, is_test_cell, read_notebook


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _is_locked_code(cell) -> bool:
    meta = _nbgrader(cell)
    return (cell.get("cell_type") == "code" and bool(meta.get("locked")) and not meta.get("solution")
            and not is_test_cell(cell) and isinstance(meta.get("grade_id"), str))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell) -> list:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


def release_of(assignment: str) -> dict | None:
    """The released student notebook of ``assignment``, or None where it is not installed."""
    try:
        return read_notebook(paths.student_notebook(assignment))
    except (NotebookError, OSError):
        return None


def manual_points(assignment: str, release: dict | None = None) -> float:
    """Points of the release's manually graded cells (nbgrader ``grade`` and ``solution``: written answers)."""
    release = release if release is not None else release_of(assignment)
    if release is None:
        return 0.0
    return float(sum(float(_nbgrader(c).get("points", 0) or 0) for c in release.get("cells", [])
                     if _nbgrader(c).get("grade") and _nbgrader(c).get("solution")))


def restore_locked_cells(nb: dict, assignment: str, release: dict | None = None) -> list[str]:
    """Restore ``nb``'s locked code cells (in place) from the release; returns notes for the report."""
    release = release if release is not None else release_of(assignment)
    if release is None:
        return [f"locked cells were not checked: the released notebook of {assignment} is not installed"]
    given = [c for c in release.get("cells", []) if _is_locked_code(c)]
    cells = nb.get("cells", [])
    position = {_nbgrader(c).get("grade_id"): i for i, c in enumerate(cells) if _nbgrader(c).get("grade_id")}
    edited, missing = [], []
    for cell in given:
        gid = _nbgrader(cell)["grade_id"]
        i = position.get(gid)
        if i is None:
            missing.append(gid)
            continue
        mine = cells[i]
        if _source(mine) != _source(cell) or _tags(mine) != _tags(cell) or not _is_locked_code(mine):
            edited.append(gid)
            restored = copy.deepcopy(cell)
            restored["outputs"] = []
            cells[i] = restored
    for gid in missing:  # put deleted given cells back after the cell that precedes them in the release
        order = [_nbgrader(c).get("grade_id") for c in release["cells"]]
        before = order[: order.index(gid)]
        here = {_nbgrader(c).get("grade_id"): i for i, c in enumerate(cells)}
        at = max((here[g] + 1 for g in before if g in here), default=0)
        restored = copy.deepcopy(next(c for c in given if _nbgrader(c)["grade_id"] == gid))
        restored["outputs"] = []
        cells.insert(at, restored)
    notes = []
    if edited:
        notes.append("locked cells restored from the released notebook (they had been edited): " + ", ".join(edited))
    if missing:
        notes.append("locked cells put back from the released notebook (they had been deleted): " + ", ".join(missing))
    return notes
