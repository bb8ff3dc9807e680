"""Reference values: what the solution produced at every ``ctx.expect_reference`` of every check (and
what each known mistake produced there), recorded from the solution notebook, never typed by hand.

Files: ``autograder/suites/sNN_name/references/visible.json`` (visible checks, the hidden points per
group, the torch version they were recorded with) and ``references/hidden.json`` (hidden checks; not in
student bundles). ``autograder references NN_name`` re-records both (:func:`record`, :func:`write`);
the grader and the self-check read them with :func:`load`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from autograder import paths


class HiddenChecksUnavailable(ImportError):
    """This installation is a student bundle: hidden checks and their references are not included."""


@dataclass
class References:
    """The reference values of one assignment: ``checks[check_name][case_key]`` is the list of recorded
    expectations (``{"ref": value, "mistakes": {name: [hint, value]}}``) of that case, in order."""

    assignment: str
    checks: dict[str, dict] = field(default_factory=dict)
    hidden_points: dict[str, float] = field(default_factory=dict)
    torch: str | None = None

    def of(self, check_name: str) -> dict | None:
        return self.checks.get(check_name)


def path(assignment: str, hidden: bool) -> str:
    return paths.references_file(assignment, hidden)


def _read(assignment: str, hidden: bool) -> dict:
    try:
        with open(path(assignment, hidden), encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        if hidden:
            raise HiddenChecksUnavailable(f"hidden reference values of {assignment} are not installed") from None
        raise


def load(assignment: str, hidden: bool = True) -> References:
    """The visible references, plus the hidden ones when ``hidden`` (one object, one read per file)."""
    visible = _read(assignment, False)
    refs = References(assignment, dict(visible["checks"]), dict(visible.get("hidden_points", {})),
                      visible.get("torch"))
    if hidden:
        refs.checks.update(_read(assignment, True)["checks"])
    return refs


def mistake_namespace(mistake, base: Callable[[], dict] | None = None) -> dict:
    """The namespace a mistake runs in: a fresh copy of the solution notebook's names (from ``base``)
    with the mistake swapped in, so notebook helpers that call the stub by name use the mistake."""
    ns = base() if base is not None else {}
    ns[mistake.exercise] = mistake.impl
    ns.update(mistake.namespace)
    return ns


def record_check(check, student, mistakes, base_namespace: Callable[[], dict] | None = None) -> dict:
    """Record the reference values (and each mistake's values) of every case of ``check``.

    ``base_namespace`` builds a fresh namespace of the solution notebook (for mistakes whose check
    also calls other notebook functions). Returns
    ``{case_key: [{"ref": value, "mistakes": {name: [hint, value]}}, ...]}``.
    """
    from autograder.checks import Context
    from autograder.student import LocalStudent

    out: dict = {}
    for case in check.cases:
        ref_values: list = []
        check.run(Context(student, check, recording=ref_values), **case)  # the solution passes; errors propagate
        entries = [{"ref": v, "mistakes": {}} for v in ref_values]
        for m in mistakes:
            values: list = []
            try:
                check.run(Context(LocalStudent(mistake_namespace(m, base_namespace)), check, recording=values), **case)
            except Exception:  # noqa: BLE001 - a mistake may break later steps; keep what it reached
                pass
            for i, v in enumerate(values[: len(entries)]):
                if v != entries[i]["ref"]:
                    entries[i]["mistakes"][m.name] = [m.hint, v]
        out[check.case_key(case)] = entries
    return out


def record(assignment: str, solution_path: str | None = None, limits=None) -> dict[bool, dict]:
    """Run the solution notebook in a student process and record every check's references.

    Returns ``{False: visible_file_data, True: hidden_file_data}``; raises if the solution fails.
    """
    import torch

    from autograder.engine import run_cells
    from autograder.notebooks import cells_to_run, notebook_namespace, read_notebook
    from autograder.results import NotebookResult
    from autograder.sandbox.limits import Limits
    from autograder.sandbox.process import StudentProcess
    from autograder.student import RemoteStudent
    from autograder.suites import load_suite

    solution_path = solution_path or paths.solution_notebook(assignment)
    suite = load_suite(assignment, hidden=True, mistakes=True)
    limits = limits or Limits()
    out: dict[bool, dict] = {False: {}, True: {}}
    with StudentProcess(limits) as proc:
        proc.wait_ready()
        probe = NotebookResult(solution_path, assignment)
        run_cells(proc, cells_to_run(read_notebook(solution_path)), limits, probe)
        if probe.cell_errors:
            first = probe.cell_errors[0]
            raise RuntimeError(f"the solution notebook failed in cell #{first.index}: {first.message}")
        student = RemoteStudent(proc, limits.call_timeout)
        # Each mistake runs in a fresh namespace of the solution (trusted instructor code, run here)
        # with the mistake swapped in, so the notebook's other functions stay as the solution has them.
        base = functools.partial(notebook_namespace, solution_path)
        for check in suite.checks:
            out[check.hidden][check.name] = record_check(check, student, suite.mistakes_for(check.exercise), base)
    meta = {"assignment": assignment, "torch": torch.__version__,
            "generated_by": "autograder references (from the solution notebook)"}
    hidden_points: dict[str, float] = {}
    for check in suite.select(hidden=True):
        hidden_points[check.exercise] = hidden_points.get(check.exercise, 0.0) + check.points
    return {False: {**meta, "hidden_points": hidden_points, "checks": out[False]},
            True: {**meta, "checks": out[True]}}


def write(assignment: str, recorded: dict[bool, dict]) -> list[str]:
    """Write both files atomically; returns their paths."""
    written = []
    for hidden, data in recorded.items():
        target = paths.references_file(assignment, hidden)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = target + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, target)
        written.append(target)
    return written
