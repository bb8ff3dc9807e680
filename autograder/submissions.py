"""``.py`` submissions: a jupytext percent-format script is graded exactly like the notebook it converts to.

A student who works in an editor submits ``NN_name.py`` (what ``jupytext --to py:percent NN_name.ipynb``
makes: ``# %%`` cells, nbgrader metadata in the cell headers, notebook metadata in the YAML header).
:func:`script_to_notebook` converts it with jupytext — imported here, lazily, because importing
jupytext/nbformat costs about 1.5 s and grading an ``.ipynb`` must not pay for it — and the result goes
through the same validation, locked-cell restoration, cell selection and checks as a notebook.
Which ``.py`` files in a folder are submissions: :func:`autograder.notebooks.is_script_submission`.
"""

from __future__ import annotations

import json
import re

from autograder.notebooks import NotebookError

_CELL_MARKER = re.compile(r"(?m)^# %%")


def script_to_notebook(text: str) -> dict:
    """The nbformat-4 notebook (a plain dict) of a percent-format script; raises :class:`NotebookError`."""
    if not _CELL_MARKER.search(text):
        raise NotebookError("the script has no `# %%` cell markers, so it is not a jupytext percent-format "
                            "notebook (make one with `jupytext --to py:percent NOTEBOOK.ipynb`)")
    try:
        import jupytext
        import nbformat
    except ImportError as exc:  # pragma: no cover - both are dependencies of the grader
        raise NotebookError(f".py submissions need jupytext, which is not installed ({exc})") from None
    try:
        notebook = jupytext.reads(text, fmt="py:percent")
        # Plain JSON types, exactly what the .ipynb file written from it would hold.
        nb = json.loads(nbformat.writes(notebook, version=4))
    except (RecursionError, MemoryError):
        raise NotebookError("the script could not be converted to a notebook (too large or nested too deeply)") \
            from None
    except Exception as exc:  # noqa: BLE001 - jupytext's parser on arbitrary text: any failure is the file's
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise NotebookError(f"the script could not be converted to a notebook: {message}") from None
    return nb


def notebook_to_script(nb: dict) -> str:
    """The percent-format script of ``nb`` (what ``jupytext --to py:percent`` writes)."""
    import jupytext
    import nbformat

    return jupytext.writes(nbformat.reads(json.dumps(nb), as_version=4), fmt="py:percent")
