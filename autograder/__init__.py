"""regnorm-lab's grader: checks, the student-process sandbox, reports, and the self-check.

Notebooks use ``from autograder import check``. Importing this package is cheap (no torch).
"""

__version__ = "0.1.0"


def check(group: str, hidden: bool = False, **kwargs):
    """Self-check the notebook's ``group`` (e.g. ``"split_data"``); see :mod:`autograder.selfcheck`."""
    import sys

    from autograder.selfcheck import check as _check

    kwargs.setdefault("namespace", sys._getframe(1).f_globals)
    return _check(group, hidden, **kwargs)


__all__ = ["check", "__version__"]
