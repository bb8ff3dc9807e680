"""Grading results: one model, rendered by every report in :mod:`autograder.reports`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: Check statuses. ``passed``/``partial``/``failed`` come from the check's cases; the others mean
#: the check could not judge the code and gives 0.
STATUSES = ("passed", "partial", "failed", "not_implemented", "missing", "error", "died")


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
    group: str
    title: str
    points: float
    score: float
    status: str
    hidden: bool
    feedback: str = ""
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


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

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.points for c in self.checks), 4)

    def to_dict(self) -> dict:
        d = asdict(self)
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
