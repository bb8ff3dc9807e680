"""A submission whose functions never return costs at most ``Limits.checks_timeout`` of checks, not
``call_timeout`` per case: the remaining checks are "not run" with the reason."""

from __future__ import annotations

import time

from helpers import load_nb, student_path, with_cell_appended, write_nb

from autograder.results import Status
from autograder.sandbox.limits import Limits

HANG = """
def split_data(*args, **kwargs):
    while True:
        pass

standardize = stratified_split = split_data
"""


def test_hanging_functions_stop_at_the_checks_budget(tmp_path, grade):
    path = write_nb(with_cell_appended(load_nb(student_path("01_data_splits")), HANG), tmp_path / "hang.ipynb")
    limits = Limits(cell_timeout=20, notebook_timeout=60, call_timeout=2, checks_timeout=6)
    started = time.monotonic()
    result = grade(path, limits=limits)
    elapsed = time.monotonic() - started
    assert result.score == 0 and result.error is None
    # 27 checks x >= 1 case x 2 s each would be > 54 s; the budget stops it near 6 s (+ start-up, interrupts).
    assert elapsed < 40, elapsed
    timed_out = [c for c in result.checks if c.status != Status.DIED]
    not_run = [c for c in result.checks if c.status == Status.DIED]
    assert timed_out and not_run, [c.status for c in result.checks]
    assert "raised TimeoutError" in timed_out[0].feedback and "no answer within 2 s" in timed_out[0].feedback
    assert "KeyboardInterrupt" not in timed_out[0].feedback
    assert all("used up the time all checks may take (6 s in all; does a function never return?)" in c.feedback
               for c in not_run)


def test_the_budget_is_a_grading_option():
    from autograder.cli import build_parser
    from autograder.cli.options import limits_from_args

    args = build_parser().parse_args(["grade", "x.ipynb", "--checks-timeout", "7"])
    assert limits_from_args(args).checks_timeout == 7
    assert Limits().checks_timeout == 120
