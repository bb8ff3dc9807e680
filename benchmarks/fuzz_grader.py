"""Fuzz the grader with malformed submissions: every case must end in a report or a one-line reason.

    python benchmarks/fuzz_grader.py [--cases 10000] [--seed 0]

Prints ``cases: N  crashes: C`` and the time; exits 1 if a case crashed or hung (each crash is printed
with the hypothesis reproduction blob). ``tests/grader/test_fuzz_submissions.py`` runs a few hundred
cases of the same strategies in CI.

**The cases** (:func:`submissions`, hypothesis strategies): a small real notebook of a random assignment
(its released student notebook, markdown shortened, so locked cells, grade_ids and test cells are the
real ones) that is then broken —

- random JSON values (null, numbers, text, lists, objects, nested) in place of a cell, a cell's source,
  metadata, cell_type, outputs, nbgrader metadata, grade_id, points, solution, grade, locked or tags,
  or of the notebook's cells, metadata, nbformat; keys deleted (the notebook's, a cell's, a cell's
  nbgrader metadata's);
- cells deleted, duplicated, shuffled; random text (any Unicode, lone surrogates included) as code
  cell sources; another assignment's metadata;
- the file: the JSON truncated at a random byte, bytes flipped, encoded as UTF-8, UTF-8 with a BOM,
  UTF-16 or Latin-1; random bytes; empty;
- ``.py`` files: the jupytext percent-format script of such a notebook, truncated or with random lines
  (random ``# %%`` headers with random metadata among them), or random text.

**What each case exercises** (:func:`run_case`): the file is written to disk and graded by the real
:func:`autograder.engine.grade_notebook` — reading (encodings, JSON or jupytext conversion, validation),
refusal reasons, assignment detection, the notes on deleted/duplicated/reordered cells, locked-cell
restoration against the real release, manual points, cell selection, every check of the detected
assignment (visible and hidden) and the missing-function feedback — and the result is rendered in every
report format (table, JSON, Gradescope, JUnit, whatever :data:`autograder.reports.RENDERERS` holds).
The one thing replaced is the student process: :class:`StandIn` answers in this process instead of
starting a sandboxed Python per case (which costs ~0.3 s and is exercised by the sandbox and attack
tests). It compiles each selected cell's source exactly as the worker would receive it (the request is
framed with :func:`autograder.wire.dumps`), reports a compile error as the worker reports a raising
cell, and answers every call as "not defined" — so the checks run their "missing" path. No student
code is executed. A case **crashes** if anything raises out of ``grade_notebook`` or a renderer, if a
refused file's reason is not one line, or if a case takes longer than ``--case-timeout`` seconds (hang).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from hypothesis import strategies as st  # noqa: E402

from autograder import paths, wire  # noqa: E402
from autograder.suites import ASSIGNMENTS  # noqa: E402


# ----------------------------------------------------------------------------------------- the bases
def _small(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        if cell.get("cell_type") == "markdown":
            cell["source"] = src[:120]
        cell["outputs"] = [] if cell.get("cell_type") == "code" else cell.get("outputs")
        if cell.get("outputs") is None:
            cell.pop("outputs", None)
    return nb


_BASES: dict[str, dict] = {}


def base(assignment: str) -> dict:
    """The released student notebook of ``assignment``, markdown shortened (cached)."""
    if assignment not in _BASES:
        with open(paths.student_notebook(assignment), encoding="utf-8") as fh:
            _BASES[assignment] = _small(json.load(fh))
    return copy.deepcopy(_BASES[assignment])


# ------------------------------------------------------------------------------------ the strategies
def json_values(max_leaves: int = 8):
    scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=20)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                               max_size=4),
                        max_leaves=max_leaves)


CELL_FIELDS = ("cell", "source", "metadata", "cell_type", "nbgrader", "grade_id", "points", "tags", "solution",
               "grade", "locked", "outputs")
TOP_FIELDS = ("cells", "metadata", "nbformat", "nbformat_minor", "regnorm")


@st.composite
def broken_notebooks(draw) -> dict:
    """A real notebook with a few random breakages (the JSON object, before serialising)."""
    nb = base(draw(st.sampled_from(ASSIGNMENTS)))
    for _ in range(draw(st.integers(0, 4))):
        cells = nb.get("cells") if isinstance(nb, dict) else None
        action = draw(st.sampled_from(("cell_field", "cell_field", "top", "delete_key", "delete_cell", "duplicate",
                                       "shuffle", "code_source", "code_source", "other_assignment", "list_source",
                                       "delete_cell_key")))
        if action == "top" and isinstance(nb, dict):
            nb[draw(st.sampled_from(TOP_FIELDS))] = draw(json_values())
        elif action == "other_assignment" and isinstance(nb, dict):
            nb["metadata"] = {"regnorm": {"assignment": draw(st.sampled_from(ASSIGNMENTS) | st.text(max_size=12))}}
        elif action == "delete_key" and isinstance(nb, dict) and nb:
            nb.pop(draw(st.sampled_from(sorted(nb, key=str))))
        elif isinstance(cells, list) and cells:
            i = draw(st.integers(0, len(cells) - 1))
            cell = cells[i]
            if action == "delete_cell":
                del cells[i]
            elif action == "duplicate":
                cells.insert(i, copy.deepcopy(cell))
            elif action == "shuffle":
                cells[:] = draw(st.permutations(cells))
            elif action == "code_source" and isinstance(cell, dict):
                cell["cell_type"] = "code"
                cell["source"] = draw(st.text(max_size=200) | st.sampled_from(
                    ["def f(:\n", "import os\n", "while True\n", "x = '\\ud800'\n", "%matplotlib inline\n",
                     "!ls\n", "\x00", "(" * 200, "return 1\n", "yield\n"]))
            elif action == "delete_cell_key" and isinstance(cell, dict) and cell:
                key = draw(st.sampled_from(sorted(cell, key=str)))
                meta = cell.get("metadata")
                nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
                if isinstance(nbg, dict) and nbg and draw(st.booleans()):
                    nbg.pop(draw(st.sampled_from(sorted(nbg, key=str))))  # e.g. grade_id, solution, locked
                else:
                    cell.pop(key)
            elif action == "list_source" and isinstance(cell, dict):
                cell["source"] = draw(st.lists(st.text(max_size=20) | json_values(2), max_size=4))
            elif action == "cell_field" and isinstance(cell, dict):
                field = draw(st.sampled_from(CELL_FIELDS))
                value = draw(json_values())
                meta = cell.setdefault("metadata", {}) if isinstance(cell.get("metadata", {}), dict) else {}
                nbg = meta.setdefault("nbgrader", {}) if isinstance(meta.get("nbgrader", {}), dict) else {}
                if field == "cell":
                    cells[i] = value
                elif field in ("source", "metadata", "cell_type", "outputs"):
                    cell[field] = value
                elif field == "nbgrader":
                    meta["nbgrader"] = value
                elif field == "tags":
                    meta["tags"] = value
                else:
                    nbg[field] = value
    return nb


def _encode(draw, text: str) -> bytes:
    how = draw(st.sampled_from(("utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1")))
    raw = text.encode(how, errors="replace") if how == "latin-1" else text.encode(how, errors="surrogatepass")
    damage = draw(st.sampled_from(("none", "none", "truncate", "flip")))
    if damage == "truncate" and raw:
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    elif damage == "flip" and raw:
        raw = bytearray(raw)
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        raw = bytes(raw)
    return raw


@st.composite
def notebook_files(draw) -> tuple[str, bytes]:
    nb = draw(broken_notebooks())
    try:
        text = json.dumps(nb, ensure_ascii=draw(st.booleans()))
    except ValueError:
        text = "{}"
    return ".ipynb", _encode(draw, text)


def _script_of(nb: dict) -> str:
    from autograder.submissions import notebook_to_script

    try:
        return notebook_to_script(nb)
    except Exception:  # noqa: BLE001 - a broken notebook jupytext cannot write: use a plain one
        return "# %%\nx = 1\n"


_SCRIPTS: dict[str, str] = {}


def _script(assignment: str) -> str:
    """The percent-format script of :func:`base` (cached: jupytext takes tens of ms per conversion)."""
    if assignment not in _SCRIPTS:
        _SCRIPTS[assignment] = _script_of(base(assignment))
    return _SCRIPTS[assignment]


@st.composite
def script_files(draw) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(("converted", "converted", "edited", "random")))
    if kind == "random":
        text = draw(st.text(max_size=400))
    else:
        text = _script(draw(st.sampled_from(ASSIGNMENTS)))
        if kind == "edited":
            lines = text.splitlines(keepends=True)
            for _ in range(draw(st.integers(1, 6))):
                at = draw(st.integers(0, len(lines)))
                header = draw(st.sampled_from(("# %%", "# %% [markdown]", "# %% nbgrader=", "# %% tags=",
                                               "# ---", "#   regnorm:", "# %% [raw]")))
                lines.insert(at, header + draw(st.text(max_size=60)) + "\n")
            text = "".join(lines)
    return ".py", _encode(draw, text)


@st.composite
def raw_files(draw) -> tuple[str, bytes]:
    ext = draw(st.sampled_from((".ipynb", ".py")))
    return ext, draw(st.binary(max_size=300) | st.just(b"") | st.sampled_from(
        [b"\xef\xbb\xbf", b"\xff\xfe", b"PK\x03\x04", b"null", b"[]", b"{}", b'{"nbformat": 4}',
         b'{"nbformat": 3, "worksheets": []}', b"[" * 100_000, b'{"cells": {}}', b'{"nbformat": 4, "cells": [1]}']))


def submissions():
    """(extension, file bytes) of one malformed submission."""
    return st.one_of(notebook_files(), notebook_files(), script_files(), raw_files())


# ------------------------------------------------------------------------------------- the stand-in
class StandIn:
    """The student process's interface, answered in this process (no student code runs; see the docstring)."""

    warning = None
    torch_version = None

    def __init__(self, limits=None, zygote=None):
        self.dead_reason = None
        self.cells = 0

    def start(self):
        return self

    def wait_ready(self) -> None:
        pass

    def close(self) -> None:
        pass

    def run_cell(self, index: int, source: str, timeout: float) -> dict:
        message = wire.loads(wire.dumps({"op": "run_cell", "index": index, "source": source}))
        self.cells += 1
        try:
            compile(message["source"], f"<cell {index}>", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError, UnicodeError) as exc:
            return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)[:500], "traceback": ""}}
        return {"ok": True}

    def request(self, message: dict, timeout: float) -> dict:
        wire.loads(wire.dumps(message))
        target = message.get("target") or {}
        return {"ok": False, "error": {"kind": "missing", "type": "NameError",
                                       "message": f"name {target.get('name', '?')!r} is not defined"}}


class Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise Hang()


def run_case(ext: str, data: bytes, folder: str, case_timeout: float = 60.0, grade=None) -> str | None:
    """Write the case and grade it (:func:`autograder.engine.grade_notebook`, or ``grade``) and render every
    report; returns None when it ended in a report or a one-line reason, else what went wrong."""
    from autograder.reports import RENDERERS
    from autograder.results import GradingRun

    if grade is None:
        from autograder import engine

        engine.StudentProcess = StandIn
        grade = engine.grade_notebook
    name = os.path.join(folder, "05_dropout-case" + ext)  # a name that tells an assignment, as students' do
    with open(name, "wb") as fh:
        fh.write(data)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, case_timeout)
    try:
        result = grade(name)
        run = GradingRun([result])
        for render in RENDERERS.values():
            render(run)
    except Hang:
        return f"hang: no result within {case_timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - what the fuzzer looks for
        import traceback

        return f"crash: {type(exc).__name__}: {exc}\n" + traceback.format_exc()[-3000:]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if result.error is not None and (not isinstance(result.error, str) or not result.error.strip()):
        return f"an empty reason: {result.error!r}"
    if result.error is not None and "\n" in result.error.strip():
        return f"a reason of more than one line: {result.error!r}"
    if result.error is not None and result.error.startswith("grader error"):
        return f"grader error: {result.error}"
    return None


def main() -> int:
    from hypothesis import HealthCheck, Phase, given, settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--case-timeout", type=float, default=60.0)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from autograder import no_compile

    no_compile.GRADER_OPT_IN = True
    counts = {"cases": 0, "crashes": 0, "refused": 0, "graded": 0}
    crashes: list[str] = []
    slowest = [0.0, ""]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="regnorm-fuzz-") as folder:
        from autograder import engine

        seen: list = []
        real_grade = engine.grade_notebook

        def grade(path):
            result = real_grade(path)
            seen.append(result)
            return result

        @settings(max_examples=args.cases, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=submissions())
        def one(case):
            ext, data = case
            t = time.perf_counter()
            problem = run_case(ext, data, folder, args.case_timeout, grade)
            took = time.perf_counter() - t
            if took > slowest[0]:
                slowest[:] = [took, f"{ext}, {len(data)} bytes"]
            counts["cases"] += 1
            if problem:
                counts["crashes"] += 1
                crashes.append(f"{ext} {data[:200]!r}...: {problem}")
            elif seen and seen[-1].error:
                counts["refused"] += 1
            else:
                counts["graded"] += 1
            if counts["cases"] % 1000 == 0:
                print(f"  ... {counts['cases']} cases, {time.perf_counter() - started:.0f} s", file=sys.stderr)

        engine.StudentProcess = StandIn
        from hypothesis import seed as hseed

        hseed(args.seed)(one)()
    elapsed = time.perf_counter() - started
    for c in crashes[:20]:
        print(c)
    print(f"cases: {counts['cases']}  crashes: {counts['crashes']}  (refused with a reason: {counts['refused']}, "
          f"graded: {counts['graded']})  time: {elapsed:.1f} s ({1000 * elapsed / max(counts['cases'], 1):.1f} ms "
          f"per case; slowest {slowest[0]:.2f} s: {slowest[1]})")
    return 1 if counts["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
