"""Grading results: one model, rendered by every report in :mod:`autograder.reports` and the self-check."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Status(str, Enum):
    """How a check ended. ``passed``/``partial``/``failed`` come from its cases; the others mean the
    check could not judge the code and gives 0."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    NOT_IMPLEMENTED = "not_implemented"  # the function raises NotImplementedError (the untouched stub)
    MISSING = "missing"  # the function is not defined
    ERROR = "error"  # the grader could not run it (e.g. no reference value recorded): a setup problem
    DIED = "died"  # the student process died (memory, crash) before or during the check

    def __str__(self) -> str:
        return self.value


#: The mark every rendering shows for a status (terminal table, self-check, check-report).
MARKS = {Status.PASSED: "PASS", Status.PARTIAL: "PART", Status.FAILED: "FAIL", Status.NOT_IMPLEMENTED: "TODO",
         Status.MISSING: "MISSING", Status.ERROR: "ERROR", Status.DIED: "DIED"}
#: Statuses where the grader, not the submission, could not judge (JUnit ``error`` rather than ``failure``).
NOT_JUDGED = (Status.ERROR, Status.DIED)


def mark(status: str) -> str:
    return MARKS[Status(status)]


@dataclass
class CaseResult:
    """One case (inputs/seed) of a check."""

    label: str
    passed: bool
    message: str = ""


@dataclass
class CheckResult:
    """The outcome of one check: its points, score and the feedback a student reads."""

    name: str
    exercise: str
    title: str
    points: float
    score: float
    status: Status
    hidden: bool
    feedback: str = ""
    cases: list[CaseResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == Status.PASSED


def scored(check, cases: list[CaseResult]) -> CheckResult:
    """The result of a check whose cases all ran: an equal share of the points per passed case, and one
    feedback line per distinct failure."""
    passed = sum(c.passed for c in cases)
    status = Status.PASSED if passed == len(cases) else (Status.PARTIAL if passed else Status.FAILED)
    first = {}
    for c in cases:
        if not c.passed:
            first.setdefault(c.message, c.label)  # one line per distinct message, labelled by its first case
    lines = [f"[{label}] {message}" for message, label in first.items()]
    return CheckResult(check.name, check.exercise, check.title, check.points, round(check.points * passed / len(cases), 4),
                       status, check.hidden, "\n".join(lines), cases)


def unjudged(check, status: Status, feedback: str, cases: list[CaseResult] | None = None) -> CheckResult:
    """The one place that builds the result of a check that could not judge the code (0 points)."""
    return CheckResult(check.name, check.exercise, check.title, check.points, 0.0, status, check.hidden, feedback,
                       cases or [])


def died(check, reason: str) -> CheckResult:
    return unjudged(check, Status.DIED, f"the student process {reason}; this check could not run.")


@dataclass
class CellError:
    index: int
    error_type: str
    message: str
    traceback: str = ""


@dataclass
class NotebookResult:
    """Everything grading one notebook found. ``error`` is set when grading could not run."""

    path: str
    assignment: str | None
    checks: list[CheckResult] = field(default_factory=list)
    cell_errors: list[CellError] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    #: points of written answers graded by hand in nbgrader (manually graded cells of the release);
    #: not part of ``score``/``max_score``, which are the autograded points.
    manual_points: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.points for c in self.checks), 4)

    def to_dict(self) -> dict:
        d = asdict(self)
        for c in d["checks"]:
            c["status"] = str(c["status"])
        d["score"] = self.score
        d["max_score"] = self.max_score
        return d


@dataclass
class GradingRun:
    """Results for every notebook named on one command line."""

    notebooks: list[NotebookResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(n.score for n in self.notebooks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(n.max_score for n in self.notebooks), 4)

    @property
    def failed_to_grade(self) -> list[NotebookResult]:
        return [n for n in self.notebooks if n.error]
