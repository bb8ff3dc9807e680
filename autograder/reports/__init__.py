"""Renderings of one :class:`~autograder.results.GradingRun`: terminal, JSON, Gradescope, JUnit, GitHub Classroom."""

from __future__ import annotations

import os
import tempfile

from autograder.reports.classroom import render_classroom, render_classroom_output
from autograder.reports.gradescope import render_gradescope
from autograder.reports.json_report import render_json
from autograder.reports.junit import render_junit
from autograder.reports.terminal import render_terminal

RENDERERS = {
    "table": render_terminal,
    "json": render_json,
    "gradescope": render_gradescope,
    "junit": render_junit,
    "classroom": render_classroom,
    "classroom-output": render_classroom_output,
}


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so readers never see a half-written file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
