"""Batch grading on one machine: many submissions, parallel workers, one CSV/JSON of scores.

Two layouts are understood:

- nbgrader's ``submitted/<student>/<assignment>/*.ipynb`` (pass the course root or ``submitted/``);
- a flat folder of notebooks (``alice.ipynb``, ``01_data_splits-bob.ipynb``, ...): the student id is
  the file name without ``.ipynb``, the assignment comes from the notebook's metadata or file name.

Each worker is a separate process (spawned, so no torch state is forked) that grades one notebook at a
time, each in its own student process. ``--shard K/N`` grades every N-th submission starting at K, so a
class can be split over a CI matrix / Slurm array / indexed Job; :func:`merge` joins the shards' files.

Scores file: one row per notebook, the columns :data:`FIELDS`, then ``feedback`` (the feedback file,
relative to the scores file) and one column per check, ``<assignment>/<check name>`` holding the
check's score (empty when the notebook could not be graded), assignments in course order and each
assignment's checks in its suite's order. Rows are sorted by student, assignment, notebook, so a
merged set of shards is the same file as one unsharded run (durations aside).

Feedback files: ``feedback/<student>/<assignment>.md`` beside the scores file (nbgrader layout with
several notebooks in one assignment folder: ``<assignment>-<notebook>.md``; a notebook whose
assignment is unknown: ``<notebook>.md``), Markdown: score, every check with its points, visible or
hidden, status and feedback, the notes, cell errors, manual points pending, or why the notebook could
not be graded. They hold hidden checks' feedback: read them before handing them back.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import json
import multiprocessing
import os
import sys
import time
from dataclasses import asdict, dataclass, field

FIELDS = ("student", "assignment", "notebook", "score", "max_score", "error", "duration_s")
#: Columns after :data:`FIELDS`, before the per-check columns.
EXTRA_FIELDS = ("feedback",)
#: The feedback files' folder, beside the scores file.
FEEDBACK_DIR = "feedback"


@dataclass
class Job:
    student: str
    assignment: str | None
    notebook: str
    #: the feedback file's name under ``feedback/`` without ``.md`` (``student/assignment``); ``None``:
    #: ``student/<graded assignment>`` once the notebook is graded (flat layout)
    feedback: str | None = None


@dataclass
class Row:
    student: str
    assignment: str | None
    notebook: str
    score: float
    max_score: float
    error: str
    duration_s: float
    #: ``{"<assignment>/<check name>": score}`` in the suite's order; empty when not graded
    checks: dict[str, float] = field(default_factory=dict)
    #: the feedback file, relative to the scores file (``feedback/alice/01_data_splits.md``); "" if none
    feedback: str = ""


def discover(directory: str) -> tuple[str, list[Job]]:
    """Find the submissions under ``directory``; returns (layout, jobs) with layout ``nbgrader`` or ``flat``."""
    from autograder.suites import ASSIGNMENTS

    directory = os.path.abspath(directory)
    if os.path.isdir(os.path.join(directory, "submitted")):
        directory = os.path.join(directory, "submitted")
    jobs: list[Job] = []
    for student in sorted(os.listdir(directory)):
        sdir = os.path.join(directory, student)
        if not os.path.isdir(sdir) or student.startswith("."):
            continue
        for assignment in sorted(os.listdir(sdir)):
            adir = os.path.join(sdir, assignment)
            if not os.path.isdir(adir) or assignment.startswith("."):
                continue
            notebooks = [f for f in sorted(os.listdir(adir)) if _is_submission(os.path.join(adir, f))]
            for f in notebooks:
                name = assignment if len(notebooks) == 1 else f"{assignment}-{_stem(f)}"
                jobs.append(Job(student, assignment if assignment in ASSIGNMENTS else None,
                                os.path.join(adir, f), feedback=f"{student}/{name}"))
    if jobs:
        return "nbgrader", jobs
    flat = [Job(_stem(f), None, os.path.join(directory, f))
            for f in sorted(os.listdir(directory)) if not f.startswith(".") and _is_submission(os.path.join(directory, f))]
    return "flat", flat


def _is_submission(path: str) -> bool:
    """A notebook, or a jupytext ``.py`` submission (:func:`autograder.notebooks.is_script_submission`)."""
    from autograder.notebooks import is_script_submission

    name = os.path.basename(path)
    if name.startswith(".") or not os.path.isfile(path):
        return False
    return name.endswith(".ipynb") or (name.endswith(".py") and is_script_submission(path))


def _stem(filename: str) -> str:
    return filename.rsplit(".", 1)[0]


def _grade_one(job: Job, limits, hidden: bool, fork_server: bool = True, feedback_dir: str | None = None,
               hidden_feedback: bool = True) -> Row:
    """Runs in a worker process."""
    from autograder.engine import grade_notebook
    from autograder.results import NotebookResult
    from autograder.sandbox.zygote import shared_zygote

    started = time.monotonic()
    try:
        # Each worker forks its student processes from its own fork server (torch imported once).
        result = grade_notebook(job.notebook, limits, hidden=hidden, assignment=job.assignment,
                                zygote=shared_zygote() if fork_server else None)
        error = result.error or ""
        if not error and result.notes and any("could not start" in n for n in result.notes):
            error = "; ".join(result.notes)
        row = Row(job.student, result.assignment, job.notebook, float(result.score), float(result.max_score), error,
                  round(time.monotonic() - started, 3),
                  checks={f"{result.assignment}/{c.name}": float(c.score) for c in result.checks})
    except Exception as exc:  # noqa: BLE001 - one broken submission must not stop the batch
        result = NotebookResult(job.notebook, job.assignment, error=f"grader error: {exc}")
        row = Row(job.student, job.assignment, job.notebook, 0.0, 0.0, f"grader error: {exc}",
                  round(time.monotonic() - started, 3))
    if feedback_dir:
        row.feedback = write_feedback(feedback_dir, job, result, row.error, hidden_feedback)
    return row


def feedback_name(job: Job, assignment: str | None) -> str:
    """The feedback file's path under the feedback folder: ``student/assignment.md``."""
    if job.feedback:
        return job.feedback + ".md"
    stem = os.path.splitext(os.path.basename(job.notebook))[0]
    return f"{job.student}/{assignment or stem}.md"


def write_feedback(feedback_dir: str, job: Job, result, error: str = "", hidden_feedback: bool = True) -> str:
    """Write ``result``'s feedback file; returns its path relative to the scores file's folder."""
    from autograder.reports import write_atomic

    name = feedback_name(job, result.assignment)
    write_atomic(os.path.join(feedback_dir, *name.split("/")),
                 render_feedback(job.student, result, error, hidden_feedback))
    return f"{os.path.basename(os.path.normpath(feedback_dir))}/{name}"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _fenced(text: str) -> list[str]:
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text, fence]


def render_feedback(student: str, result, error: str = "", hidden_feedback: bool = True) -> str:
    """One student's feedback on one notebook, in Markdown (what an instructor hands back).

    ``hidden_feedback=False``: hidden checks keep their row (points, status) but not their feedback."""
    from autograder.results import mark

    assignment = result.assignment or "unknown assignment"
    lines = [f"# {assignment}: feedback for {student}", "",
             f"- Notebook: `{os.path.basename(result.path)}`"]
    error = error or result.error or ""
    if result.error:
        lines.append(f"- Score: **0** (the notebook could not be graded: {_cell(result.error)})")
    else:
        lines.append(f"- Score: **{result.score:g}/{result.max_score:g}** autograded points")
        if error:
            lines.append(f"- Grading problem: {_cell(error)}")
    if not hidden_feedback and any(c.hidden for c in result.checks):
        lines.append("- Hidden checks: points only (their feedback is not handed back)")
    if result.manual_points:
        lines.append(f"- Written answers: {result.manual_points:g} more points, graded by hand (pending; not in "
                     "the score above)")
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {_cell(n)}" for n in result.notes]
    if result.cell_errors:
        lines += ["", "## Errors in cells", ""]
        lines += [f"- cell #{e.index} raised {e.error_type}: {_cell(e.message)}" for e in result.cell_errors]
    exercises: dict[str, list] = {}
    for c in result.checks:
        exercises.setdefault(c.exercise, []).append(c)
    for exercise, checks in exercises.items():
        score, points = sum(c.score for c in checks), sum(c.points for c in checks)
        lines += ["", f"## {exercise}: {round(score, 4):g}/{round(points, 4):g}", "",
                  "| check | | points | result |", "|---|---|---|---|"]
        for c in checks:
            lines.append(f"| {_cell(c.title)} (`{c.name}`) | {'hidden' if c.hidden else 'visible'} | "
                         f"{c.score:g}/{c.points:g} | {mark(c.status)} |")
        for c in checks:
            if c.feedback and not c.passed and (hidden_feedback or not c.hidden):
                lines += ["", f"**{_cell(c.title)}** (`{c.name}`, {'hidden' if c.hidden else 'visible'}, "
                              f"{c.score:g}/{c.points:g}):", ""] + _fenced(c.feedback)
    return "\n".join(lines) + "\n"


def _worker_init() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
        from autograder import no_compile

        no_compile.GRADER_OPT_IN = True  # this process only grades (autograder.no_compile)
    except ImportError:  # pragma: no cover
        pass


def progress_enabled(stream=None) -> bool:
    stream = stream or sys.stderr
    if os.environ.get("CI", "").lower() in ("true", "1"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def shard(jobs: list[Job], spec: str | None) -> list[Job]:
    """``K/N``: keep jobs K, K+N, K+2N, ... (K counts from 0)."""
    if not spec:
        return jobs
    k, n = (int(v) for v in spec.split("/"))
    if not 0 <= k < n:
        raise ValueError(f"bad shard {spec!r}: need 0 <= K < N")
    return jobs[k::n]


def grade_batch(jobs: list[Job], jobs_n: int = 1, limits=None, hidden: bool = True, progress: bool | None = None,
                fork_server: bool = True, feedback_dir: str | None = None, hidden_feedback: bool = True) -> list[Row]:
    """Grade every job with ``jobs_n`` worker processes; rows come back in the jobs' order.

    ``fork_server``: fork student processes from a zygote that has imported torch (DESIGN.md §6)
    instead of starting a fresh Python for each. ``feedback_dir``: write one feedback file per
    notebook there (:func:`render_feedback`; ``hidden_feedback=False``: hidden checks' points only).
    """
    from tqdm import tqdm

    from autograder.sandbox.limits import Limits

    limits = limits or Limits()
    if progress is None:
        progress = progress_enabled()
    rows: list[Row | None] = [None] * len(jobs)
    bar = tqdm(total=len(jobs), unit="nb", file=sys.stderr, disable=not progress, desc="grading")
    try:
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=max(1, jobs_n), mp_context=ctx, initializer=_worker_init) as pool:
            futures = {pool.submit(_grade_one, job, limits, hidden, fork_server, feedback_dir, hidden_feedback): i
                       for i, job in enumerate(jobs)}
            for fut in cf.as_completed(futures):
                i = futures[fut]
                try:
                    rows[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a worker killed by the OOM killer
                    from autograder.results import NotebookResult

                    job = jobs[i]
                    rows[i] = Row(job.student, job.assignment, job.notebook, 0.0, 0.0, f"worker failed: {exc}", 0.0)
                    if feedback_dir:
                        rows[i].feedback = write_feedback(
                            feedback_dir, job, NotebookResult(job.notebook, job.assignment, error=rows[i].error))
                bar.update(1)
    finally:
        bar.close()
    return [r for r in rows if r is not None]


def sort_rows(rows: list[Row]) -> list[Row]:
    """The order of every scores file: student, assignment, notebook (sharded or not)."""
    return sorted(rows, key=lambda r: (r.student, r.assignment or "", r.notebook))


def check_columns(rows: list[Row]) -> list[str]:
    """The per-check columns: assignments in course (name) order, each one's checks in suite order."""
    by_assignment: dict[str, dict[str, None]] = {}
    for r in rows:
        for name in r.checks:
            by_assignment.setdefault(name.split("/", 1)[0], {})[name] = None
    return [name for a in sorted(by_assignment) for name in by_assignment[a]]


def _row_dict(r: Row) -> dict:
    d = asdict(r)
    d["checks"] = dict(r.checks)
    return d


def write_rows(rows: list[Row], path: str) -> None:
    """``.json`` -> a JSON list of row objects (``checks``: name -> score); anything else -> CSV with a
    header: :data:`FIELDS`, ``feedback``, then one column per check (:func:`check_columns`)."""
    from autograder.reports import write_atomic

    if path.endswith(".json"):
        write_atomic(path, json.dumps([_row_dict(r) for r in rows], indent=1) + "\n")
        return
    import io

    columns = check_columns(rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=(*FIELDS, *EXTRA_FIELDS, *columns), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        d = {k: ("" if v is None else v) for k, v in asdict(r).items() if k != "checks"}
        d.update({name: r.checks.get(name, "") for name in columns})
        writer.writerow(d)
    write_atomic(path, buf.getvalue())


def read_rows(path: str) -> list[dict]:
    """The rows of a scores file as dicts (CSV: the per-check columns gathered under ``checks``)."""
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in (reader.fieldnames or []) if c not in FIELDS and c not in EXTRA_FIELDS]
        rows = []
        for r in reader:
            d = {k: r.get(k, "") for k in (*FIELDS, *EXTRA_FIELDS)}
            d["checks"] = {c: float(r[c]) for c in columns if r.get(c) not in (None, "")}
            rows.append(d)
        return rows


def merge(paths: list[str], out: str) -> int:
    """Join shard files (CSV or JSON) into one, sorted by student, assignment, notebook.

    The feedback files beside each shard file are copied beside ``out`` (same relative paths), unless
    the shards already wrote them there (e.g. a shared volume).
    """
    import shutil

    rows = []
    missing = []
    out_dir = os.path.dirname(os.path.abspath(out))
    for p in paths:
        part_dir = os.path.dirname(os.path.abspath(p))
        for r in read_rows(p):
            row = Row(r["student"], r["assignment"] or None, r["notebook"], float(r["score"]),
                      float(r["max_score"]), r["error"] or "", float(r["duration_s"] or 0),
                      checks={k: float(v) for k, v in (r.get("checks") or {}).items()},
                      feedback=r.get("feedback") or "")
            rows.append(row)
            if not row.feedback:
                continue
            src = os.path.normpath(os.path.join(part_dir, row.feedback))
            dst = os.path.normpath(os.path.join(out_dir, row.feedback))
            if not os.path.isfile(src):
                missing.append(src)
            elif os.path.realpath(src) != os.path.realpath(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(src, dst)
    if missing:
        print(f"autograder: {len(missing)} feedback file(s) not found beside their shard file, e.g. {missing[0]}",
              file=sys.stderr)
    write_rows(sort_rows(rows), out)
    return len(rows)


def summary(rows: list[Row]) -> str:
    graded = [r for r in rows if not r.error]
    lines = [f"{'student':<24} {'assignment':<24} {'score':>12}  error"]
    for r in rows:
        lines.append(f"{r.student[:24]:<24} {(r.assignment or '?')[:24]:<24} {r.score:>5g}/{r.max_score:<6g}  {r.error[:60]}")
    lines.append(f"{len(graded)}/{len(rows)} notebooks graded")
    return "\n".join(lines) + "\n"
