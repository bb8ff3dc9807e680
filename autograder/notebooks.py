"""Reading submissions: parse a notebook, find its assignment, pick the cells to run."""

from __future__ import annotations

import json
from dataclasses import dataclass

from autograder.suites import ASSIGNMENTS, assignment_from_filename

#: Notebook-level metadata key the generator carries into student notebooks.
META_KEY = "regnorm"
#: A cell tag that tells the grader not to run a cell (long training loops, downloads).
SKIP_TAG = "skip-when-grading"


class NotebookError(ValueError):
    """The file is not a notebook we can grade."""


@dataclass
class CodeCell:
    index: int
    source: str


def find_notebooks(paths: list[str]) -> list[str]:
    """Expand folders to the notebooks inside them (sorted, hidden folders and checkpoints skipped)."""
    import os

    found: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith(".ipynb")]
        else:
            found.append(p)
    return found


def read_notebook(path: str) -> dict:
    """Parse ``path`` (nbformat 4 JSON) without modifying it.

    Plain :mod:`json` rather than :mod:`nbformat`: importing nbformat costs ~1.5 s, more than the
    rest of the grader; we need only the cells and metadata, and check their shape ourselves.
    Raises :class:`NotebookError` with a clear reason.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise NotebookError(f"cannot read {path}: {exc.strerror}") from None
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError("the file is not UTF-8 text, so it is not a notebook") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"the file is not a valid notebook: invalid JSON ({exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("the file is not a valid notebook: no list of cells")
    if nb.get("nbformat") != 4:
        raise NotebookError(f"the file is not a version-4 notebook (nbformat={nb.get('nbformat')!r})")
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), (str, list)):
            raise NotebookError(f"the file is not a valid notebook: cell {i} is malformed")
        if not isinstance(cell.get("metadata", {}), dict):
            raise NotebookError(f"the file is not a valid notebook: cell {i} has malformed metadata")
    return nb


def detect_assignment(nb, path: str) -> str | None:
    """The assignment id from notebook metadata, falling back to the file name."""
    metadata = nb.get("metadata")
    meta = metadata.get(META_KEY, {}) if isinstance(metadata, dict) else {}
    name = meta.get("assignment") if isinstance(meta, dict) else None
    if isinstance(name, str) and name in ASSIGNMENTS:
        return name
    return assignment_from_filename(path)


def is_test_cell(cell) -> bool:
    """nbgrader's autograded-test cells (grade, not solution): the grader runs its own checks instead."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return isinstance(meta, dict) and bool(meta.get("grade")) and not meta.get("solution")


def cells_to_run(nb) -> list[CodeCell]:
    """Code cells in order, without test cells and cells tagged ``skip-when-grading``."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if is_test_cell(cell) or (isinstance(tags, list) and SKIP_TAG in tags):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if source.strip():
            out.append(CodeCell(i, source))
    return out


def notebook_namespace(path: str, quiet: bool = True) -> dict:
    """Run a *trusted* notebook's graded cells (as :func:`cells_to_run` picks them) in this process.

    For instructor code only (the solutions): recording reference values, tests. The cells run with
    the notebook's folder as working directory; their printed output is dropped when ``quiet``.
    Returns the namespace.
    """
    import contextlib
    import io
    import os

    ns: dict = {"__name__": "__main__"}
    cwd = os.getcwd()
    sink = contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext()
    try:
        os.chdir(os.path.dirname(os.path.abspath(path)))
        with sink:
            for cell in cells_to_run(read_notebook(path)):
                exec(compile(cell.source, f"<cell {cell.index}>", "exec"), ns)
    finally:
        os.chdir(cwd)
    return ns
