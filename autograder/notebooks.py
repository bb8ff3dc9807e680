"""Reading submissions: parse a notebook (or a jupytext percent-format script), find its assignment,
pick the cells to run.

Everything a submission can get wrong about its *file* ends here as a :class:`NotebookError` with a
one-line reason (docs/BAD_INPUT.md lists every case); the grader turns it into that file's report
entry and goes on with the others.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from dataclasses import dataclass, field

from autograder.suites import ASSIGNMENTS, assignment_from_filename

#: Notebook-level metadata key the generator carries into student notebooks.
META_KEY = "regnorm"
#: A cell tag that tells the grader not to run a cell (long training loops, downloads).
SKIP_TAG = "skip-when-grading"
#: Files larger than this are not read (a notebook with its outputs is a few MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Scripts larger than this are not converted (a script has no outputs; jupytext takes seconds per MB).
MAX_SCRIPT_BYTES = 1024 * 1024
#: A code cell with more source than this is refused (pasted data, not code).
MAX_CELL_CHARS = 1_000_000
#: Submission file types: notebooks, and jupytext percent-format scripts (:mod:`autograder.submissions`).
NOTEBOOK_EXT, SCRIPT_EXT = ".ipynb", ".py"

_UNPACK = ": unpack it and submit the .ipynb inside"
_MAGIC = ((b"PK\x03\x04", "a ZIP archive", _UNPACK), (b"%PDF", "a PDF document", ": submit the .ipynb file itself"),
          (b"\x89PNG", "a PNG image", ""), (b"\xff\xd8\xff", "a JPEG image", ""), (b"GIF8", "a GIF image", ""),
          (b"\x1f\x8b", "a gzip archive", _UNPACK), (b"7z\xbc\xaf", "a 7-Zip archive", _UNPACK),
          (b"Rar!", "a RAR archive", _UNPACK), (b"\x7fELF", "a program (ELF binary)", ""))


class NotebookError(ValueError):
    """The file is not a notebook we can grade (the message is the one-line reason)."""


@dataclass
class CodeCell:
    index: int
    source: str


@dataclass
class Submission:
    """A parsed submission: the notebook (nbformat-4 dict) and notes on how it was read."""

    nb: dict
    notes: list[str] = field(default_factory=list)


@dataclass
class Found:
    """One entry of :func:`find_submissions`: a file to grade, or (``error``) a path with nothing to grade."""

    path: str
    error: str | None = None


# ------------------------------------------------------------------------------------------ discovery
def is_script_submission(path: str) -> bool:
    """Whether the ``.py`` file ``path``, met in a folder, is a submission rather than a helper module.

    A submission is a jupytext percent-format script (a line starting with ``# %%``) that names its
    assignment (``regnorm: assignment:`` in its jupytext header, or an assignment in its file name,
    e.g. ``05_dropout.py``) and has no ``.ipynb`` of the same name beside it (a jupytext pair: the
    notebook is the submission). Named on the command line, any ``.py`` is graded (or refused).
    """
    if not path.endswith(SCRIPT_EXT) or os.path.basename(path).startswith("."):
        return False
    if os.path.lexists(path[: -len(SCRIPT_EXT)] + NOTEBOOK_EXT):
        return False
    named = assignment_from_filename(path) is not None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a FIFO: it would block
            return named
        with open(path, "rb") as fh:
            head = fh.read(256 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return named  # unreadable: graded (and refused with the reason) only if its name says it is one
    if not re.search(r"(?m)^# %%", head):
        return False
    return named or re.search(r"(?m)^#\s+regnorm:\s*\n#\s+assignment:\s*\S", head) is not None


def find_submissions(paths: list[str]) -> list[Found]:
    """Expand ``paths`` to the submissions to grade, in order; folders are walked (sorted, hidden folders
    skipped) for ``.ipynb`` notebooks and ``.py`` submissions (:func:`is_script_submission`). A path that
    yields nothing gets a :class:`Found` with the reason; a file named explicitly is always returned."""
    found: list[Found] = []
    for p in paths:
        if os.path.isdir(p):
            inside, unreadable = [], []
            for root, dirs, files in os.walk(p, onerror=unreadable.append):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for f in sorted(files):
                    full = os.path.join(root, f)
                    if (f.endswith(NOTEBOOK_EXT) and not f.startswith(".")) or is_script_submission(full):
                        inside.append(Found(full))
            if not inside and unreadable:
                found.append(Found(p, f"cannot read the folder: {unreadable[0].strerror}"))
            elif not inside:
                found.append(Found(p, "a folder, not a notebook file, holding no notebooks" if p.rstrip("/").endswith(
                    NOTEBOOK_EXT) else "this folder holds no notebooks (.ipynb) or percent-format scripts (.py)"))
            found += inside
        else:
            found.append(Found(p))
    return found


def find_notebooks(paths: list[str]) -> list[str]:
    """Expand folders to the submissions inside them (:func:`find_submissions`, without the reasons)."""
    return [f.path for f in find_submissions(paths) if f.error is None]


# -------------------------------------------------------------------------------------------- reading
def _read_bytes(path: str, limit: int, advice: str) -> bytes:
    if not os.path.lexists(path):
        raise NotebookError("no such file or folder")
    try:
        st = os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            raise NotebookError(f"a symbolic link that leads nowhere ({exc.strerror})") from None
        raise NotebookError(f"cannot read the file: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise NotebookError("a folder, not a notebook file")
    if not stat.S_ISREG(st.st_mode):
        raise NotebookError("not a regular file (a device, pipe or socket), so not a notebook")
    if st.st_size > limit:
        raise NotebookError(f"the file is {st.st_size / 2**20:.1f} MB; files over {limit // 2**20} MB are not "
                            f"graded{advice}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise NotebookError(f"cannot read the file: {exc.strerror}") from None
    if len(raw) > limit:
        raise NotebookError(f"the file is over {limit // 2**20} MB; not graded")
    return raw


def decode_text(raw: bytes) -> tuple[str, list[str]]:
    """The text of a submission's bytes and notes on its encoding. UTF-8 (with or without a byte-order
    mark) and UTF-16/32 with a byte-order mark are read; other non-UTF-8 text is read as Latin-1 with a
    note; binary data raises :class:`NotebookError`."""
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    for bom, encoding in boms:
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise NotebookError(f"the file starts with a {encoding.upper()} byte-order mark but is not "
                                    f"valid {encoding.upper()} text") from None
            return text, ([] if encoding == "utf-8-sig" else
                          [f"the file was saved as {encoding.upper()}, not UTF-8; it was read as {encoding.upper()}"])
    for magic, what, advice in _MAGIC:
        if raw.startswith(magic):
            raise NotebookError(f"the file is {what}, not a notebook{advice}")
    if b"\x00" in raw:
        raise NotebookError("the file is binary data, not a notebook (a notebook is JSON text)")
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    text = raw.decode("latin-1")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f")
    if controls > max(8, len(text) // 100):
        raise NotebookError("the file is binary data, not a notebook (a notebook is JSON text)")
    return text, ["the file is not UTF-8 text; it was read as Latin-1 (save it as UTF-8 to be sure every "
                  "character is what you typed)"]


def read_submission(path: str) -> Submission:
    """Parse the submission at ``path`` without modifying it: a notebook (nbformat 4 JSON), or a jupytext
    percent-format script (``.py``, converted as :mod:`autograder.submissions` does).

    Plain :mod:`json` for notebooks rather than :mod:`nbformat`: importing nbformat costs ~1.5 s, more
    than the rest of the grader; we need only the cells and metadata, and check their shape ourselves
    (:func:`validate`). Raises :class:`NotebookError` with a one-line reason.
    """
    script = path.endswith(SCRIPT_EXT)
    raw = _read_bytes(path, MAX_SCRIPT_BYTES if script else MAX_FILE_BYTES,
                      "" if script else " (clear the outputs and save again)")
    if not raw:
        raise NotebookError("the file is empty (0 bytes)")
    text, notes = decode_text(raw)
    if not text.strip():
        raise NotebookError("the file holds only white space")
    if script:
        from autograder.submissions import script_to_notebook

        nb = script_to_notebook(text)
    else:
        nb = parse_notebook_json(text)
    validate(nb)
    return Submission(nb, notes)


def read_notebook(path: str) -> dict:
    """The notebook at ``path`` (see :func:`read_submission`); raises :class:`NotebookError`."""
    return read_submission(path).nb


def parse_notebook_json(text: str) -> dict:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("# %%") or "\n# %%" in text[:100_000]:
            raise NotebookError("the file is a percent-format script (# %% cells) named like a notebook: "
                                "rename it to .py") from None
        raise NotebookError(f"the file is not a valid notebook: invalid JSON ({exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno})") from None
    except RecursionError:
        raise NotebookError("the file is not a valid notebook: its JSON is nested too deeply") from None
    return nb


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def validate(nb) -> None:
    """Check that ``nb`` has the shape the grader relies on (nbformat 4: cells with a type, text source and
    metadata objects; nbgrader metadata an object with a text grade_id); raises :class:`NotebookError`."""
    if not isinstance(nb, dict):
        raise NotebookError(f"the file is JSON but not a notebook (its top level is {_kind(nb)}, not an object)")
    version = nb.get("nbformat")
    if version == 3 or (version is None and "worksheets" in nb):
        raise NotebookError("the file is an old version-3 notebook: open and save it in a current Jupyter "
                            "(or run `jupyter nbconvert --to notebook --nbformat 4`) to make it version 4")
    if "cells" not in nb and version is None:
        raise NotebookError("the file is JSON but not a notebook (no nbformat and no cells)")
    if not isinstance(version, int) or isinstance(version, bool) or version != 4:
        raise NotebookError(f"the file is not a version-4 notebook (nbformat={repr(version)[:40]})")
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"the file is not a valid notebook: its cells are {_kind(nb.get('cells'))}, not a list")
    if "metadata" in nb and not isinstance(nb["metadata"], dict):
        raise NotebookError("the file is not a valid notebook: its metadata is not an object")
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict):
            raise NotebookError(f"the file is not a valid notebook: cell {i} is {_kind(cell)}, not an object")
        if not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"the file is not a valid notebook: cell {i} has no cell_type")
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise NotebookError(f"the file is not a valid notebook: the source of cell {i} is not text")
        metadata = cell.get("metadata", {})
        if not isinstance(metadata, dict):
            raise NotebookError(f"the file is not a valid notebook: cell {i} has malformed metadata")
        nbgrader = metadata.get("nbgrader", {})
        if not isinstance(nbgrader, dict) or not isinstance(nbgrader.get("grade_id", ""), str):
            raise NotebookError(f"the file is not a valid notebook: cell {i} has malformed nbgrader metadata")
        points = nbgrader.get("points", 0)
        if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float))):
            raise NotebookError(f"the file is not a valid notebook: cell {i} has malformed nbgrader points")
        tags = metadata.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise NotebookError(f"the file is not a valid notebook: cell {i} has malformed tags")


def gradable_problem(nb: dict) -> str | None:
    """Why a well-formed notebook is still not graded (no cells, a huge code cell), or None."""
    if not nb["cells"]:
        return "the notebook has no cells (it is empty)"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            size = len(cell_source(cell))
            if size > MAX_CELL_CHARS:
                return (f"code cell #{i} holds {size / 1e6:.1f} million characters (the limit is "
                        f"{MAX_CELL_CHARS / 1e6:g} million per cell): data pasted into a cell?")
    return None


# -------------------------------------------------------------------------------- what the file holds
def cell_source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def declared_assignment(nb) -> str | None:
    """The assignment the notebook's own metadata names (``metadata.regnorm.assignment``), if known."""
    metadata = nb.get("metadata")
    meta = metadata.get(META_KEY, {}) if isinstance(metadata, dict) else {}
    name = meta.get("assignment") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name in ASSIGNMENTS else None


def detect_assignment(nb, path: str) -> str | None:
    """The assignment id from notebook metadata, falling back to the file name."""
    return declared_assignment(nb) or assignment_from_filename(path)


def is_test_cell(cell) -> bool:
    """nbgrader's autograded-test cells (grade, not solution): the grader runs its own checks instead."""
    metadata = cell.get("metadata", {})
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
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
        source = cell_source(cell)
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


# ------------------------------------------------------------------------ the cells against the release
def _grade_id(cell) -> str | None:
    metadata = cell.get("metadata", {})
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    gid = meta.get("grade_id") if isinstance(meta, dict) else None
    return gid if isinstance(gid, str) and gid else None


def _is_solution_code(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and isinstance(meta, dict) and bool(meta.get("solution"))


def deleted_solution_cells(nb: dict, release: dict) -> list[str]:
    """grade_ids of the release's solution code cells (where the student writes code) missing from ``nb``."""
    have = {_grade_id(c) for c in nb["cells"]}
    return [g for g in (_grade_id(c) for c in release.get("cells", []) if _is_solution_code(c)) if g and g not in have]


def structure_notes(nb: dict, release: dict | None) -> list[str]:
    """Notes on cells deleted, duplicated or reordered relative to the released notebook (the submission
    is graded as it is; these notes say why a function is missing or a cell failed)."""
    if release is None:
        return []
    notes = []
    deleted = deleted_solution_cells(nb, release)
    if deleted:
        notes.append("cells of the assignment are missing (deleted, or their nbgrader metadata was lost by "
                     "copying the code into a new cell): " + ", ".join(deleted)
                     + "; what they define is graded only if another cell defines it")
    ids = [g for g in (_grade_id(c) for c in nb["cells"]) if g]
    twice = sorted({g for g in ids if ids.count(g) > 1})
    if twice:
        notes.append("cells appear more than once (the same nbgrader grade_id): " + ", ".join(twice)
                     + "; every copy runs, in order, so the last definition wins")
    order = {g: i for i, g in enumerate(_grade_id(c) for c in release.get("cells", [])) if g}
    seen = [g for g in dict.fromkeys(ids) if g in order]
    for a, b in zip(seen, seen[1:]):
        if order[a] > order[b]:
            notes.append(f"cells are not in the assignment's order ({a} comes before {b}); cells run in the "
                         f"notebook's order, so code that uses a name before the cell defining it has run fails")
            break
    return notes


def stub_cell_raised(nb: dict, exercise: str, cell_errors) -> bool:
    """``exercise``'s own cell (``grade_id``) raised NotImplementedError when it ran: a stub that is the whole cell
    (e.g. "copy the class here and fix it"), not written yet."""
    raised = {e.index for e in cell_errors if e.error_type == "NotImplementedError"}
    return any(_grade_id(c) == exercise and i in raised for i, c in enumerate(nb["cells"]))


def missing_feedback(nb: dict, release: dict | None, exercise: str, cell_errors) -> str | None:
    """A specific reason why ``exercise``'s function is not defined: its cell was deleted, or raised."""
    if release is not None and exercise in deleted_solution_cells(nb, release):
        return (f"Its cell (`{exercise}`) is not in the notebook: it was deleted, or its nbgrader metadata was "
                f"lost (the grader looks for the cell the assignment gave you).")
    at = [i for i, c in enumerate(nb["cells"]) if _grade_id(c) == exercise]
    errors = {e.index: e for e in cell_errors}
    for i in at:
        if i in errors:
            return f"Its cell (#{i}, `{exercise}`) raised {errors[i].error_type} when it ran, so it defined nothing."
    return None
