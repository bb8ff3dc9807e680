"""Helpers for writing nbgrader *source* notebooks (solutions/) from Python.

The committed ``solutions/NN_name/NN_name.ipynb`` is the source of truth; this only saves typing
nbgrader's cell metadata when a notebook is first written. Example::

    from tools.nbauthor import md, code, solution, tests, write
    cells = [md("# Title"), code("import torch"), solution("split_data", SRC), tests("split_data", 15)]
    write("solutions/01_data_splits/01_data_splits.ipynb", "01_data_splits", cells)
"""

from __future__ import annotations

import textwrap

import nbformat

_META = {"schema_version": 3}


def _clean(src: str) -> str:
    return textwrap.dedent(src).strip("\n")


def md(src: str, grade_id: str | None = None):
    cell = nbformat.v4.new_markdown_cell(_clean(src))
    if grade_id:
        cell.metadata["nbgrader"] = {**_META, "grade": False, "locked": True, "solution": False,
                                     "grade_id": grade_id, "task": False}
    return cell


def code(src: str, grade_id: str | None = None, tags: list[str] | None = None):
    """A read-only code cell (locked when it has a grade_id)."""
    cell = nbformat.v4.new_code_cell(_clean(src))
    if grade_id:
        cell.metadata["nbgrader"] = {**_META, "grade": False, "locked": True, "solution": False,
                                     "grade_id": grade_id, "task": False}
    if tags:
        cell.metadata["tags"] = tags
    return cell


def solution(grade_id: str, src: str):
    """An autograded answer cell: put ``### BEGIN SOLUTION`` / ``### END SOLUTION`` inside ``src``."""
    cell = nbformat.v4.new_code_cell(_clean(src))
    cell.metadata["nbgrader"] = {**_META, "grade": False, "locked": False, "solution": True,
                                 "grade_id": grade_id, "task": False}
    return cell


def tests(group: str, points: float, grade_id: str | None = None):
    """The autograded test cell of ``group``: visible self-check, hidden checks between markers."""
    src = (f'points = check("{group}")\n'
           "### BEGIN HIDDEN TESTS\n"
           f'points += check("{group}", hidden=True)\n'
           "### END HIDDEN TESTS\n"
           "points")
    cell = nbformat.v4.new_code_cell(src)
    cell.metadata["nbgrader"] = {**_META, "grade": True, "locked": True, "solution": False,
                                 "grade_id": grade_id or f"check_{group}", "points": points, "task": False}
    return cell


def manual(grade_id: str, src: str, points: float):
    """A manually graded answer (markdown)."""
    cell = nbformat.v4.new_markdown_cell(_clean(src))
    cell.metadata["nbgrader"] = {**_META, "grade": True, "locked": False, "solution": True,
                                 "grade_id": grade_id, "points": points, "task": False}
    return cell


def write(path: str, assignment: str, cells: list) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "regnorm": {"assignment": assignment},
    }
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:02d}"
    nbformat.validate(nb)
    nbformat.write(nb, path)
