"""Batch grading on one machine: many submissions, parallel workers, one CSV/JSON of scores.

Two layouts are understood:

- nbgrader's ``submitted/<student>/<assignment>/*.ipynb`` (pass the course root or ``submitted/``);
- a flat folder of notebooks (``alice.ipynb``, ``01_data_splits-bob.ipynb``, ...): the student id is
  the file name without ``.ipynb``, the assignment comes from the notebook's metadata or file name.

Each worker is a separate process (spawned, so no torch state is forked) that grades one notebook at a
time, each in its own student process. ``--shard K/N`` grades every N-th submission starting at K, so a
class can be split over a CI matrix / Slurm array / indexed Job; :func:`merge` joins the shards' files.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import json
import multiprocessing
import os
import sys
import time
from dataclasses import asdict, dataclass

FIELDS = ("student", "assignment", "notebook", "score", "max_score", "error", "duration_s")


@dataclass
class Job:
    student: str
    assignment: str | None
    notebook: str


@dataclass
class Row:
    student: str
    assignment: str | None
    notebook: str
    score: float
    max_score: float
    error: str
    duration_s: float


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
            for f in sorted(os.listdir(adir)):
                if f.endswith(".ipynb"):
                    jobs.append(Job(student, assignment if assignment in ASSIGNMENTS else None,
                                    os.path.join(adir, f)))
    if jobs:
        return "nbgrader", jobs
    flat = [Job(f[: -len(".ipynb")], None, os.path.join(directory, f))
            for f in sorted(os.listdir(directory)) if f.endswith(".ipynb") and not f.startswith(".")]
    return "flat", flat


def _grade_one(job: Job, limits, hidden: bool, fork_server: bool = True) -> Row:
    """Runs in a worker process."""
    from autograder.engine import grade_notebook
    from autograder.sandbox.zygote import shared_zygote

    started = time.monotonic()
    try:
        # Each worker forks its student processes from its own fork server (torch imported once).
        result = grade_notebook(job.notebook, limits, hidden=hidden, assignment=job.assignment,
                                zygote=shared_zygote() if fork_server else None)
        error = result.error or ""
        if not error and result.notes and any("could not start" in n for n in result.notes):
            error = "; ".join(result.notes)
        return Row(job.student, result.assignment, job.notebook, result.score, result.max_score, error,
                   round(time.monotonic() - started, 3))
    except Exception as exc:  # noqa: BLE001 - one broken submission must not stop the batch
        return Row(job.student, job.assignment, job.notebook, 0.0, 0.0, f"grader error: {exc}",
                   round(time.monotonic() - started, 3))


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
                fork_server: bool = True) -> list[Row]:
    """Grade every job with ``jobs_n`` worker processes; rows come back in the jobs' order.

    ``fork_server``: fork student processes from a zygote that has imported torch (DESIGN.md §6)
    instead of starting a fresh Python for each.
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
            futures = {pool.submit(_grade_one, job, limits, hidden, fork_server): i for i, job in enumerate(jobs)}
            for fut in cf.as_completed(futures):
                i = futures[fut]
                try:
                    rows[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a worker killed by the OOM killer
                    job = jobs[i]
                    rows[i] = Row(job.student, job.assignment, job.notebook, 0.0, 0.0, f"worker failed: {exc}", 0.0)
                bar.update(1)
    finally:
        bar.close()
    return [r for r in rows if r is not None]


def write_rows(rows: list[Row], path: str) -> None:
    """``.json`` -> a JSON list of row objects; anything else -> CSV with a header."""
    from autograder.reports import write_atomic

    if path.endswith(".json"):
        write_atomic(path, json.dumps([asdict(r) for r in rows], indent=1) + "\n")
        return
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})
    write_atomic(path, buf.getvalue())


def read_rows(path: str) -> list[dict]:
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def merge(paths: list[str], out: str) -> int:
    """Join shard files (CSV or JSON) into one, sorted by student, assignment, notebook."""
    rows = []
    for p in paths:
        for r in read_rows(p):
            rows.append(Row(r["student"], r["assignment"] or None, r["notebook"], float(r["score"]),
                            float(r["max_score"]), r["error"] or "", float(r["duration_s"] or 0)))
    rows.sort(key=lambda r: (r.student, r.assignment or "", r.notebook))
    write_rows(rows, out)
    return len(rows)


def summary(rows: list[Row]) -> str:
    graded = [r for r in rows if not r.error]
    lines = [f"{'student':<24} {'assignment':<24} {'score':>12}  error"]
    for r in rows:
        lines.append(f"{r.student[:24]:<24} {(r.assignment or '?')[:24]:<24} {r.score:>5g}/{r.max_score:<6g}  {r.error[:60]}")
    lines.append(f"{len(graded)}/{len(rows)} notebooks graded")
    return "\n".join(lines) + "\n"
