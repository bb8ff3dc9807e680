"""Fixtures shared by every test (``grade``). Helpers are in ``helpers.py`` (``from helpers import ...``);
``from helpers import ...`` still works while tests migrate."""

from __future__ import annotations

import os
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)  # `import helpers` from tests in sub-folders
sys.path.insert(0, os.path.dirname(TESTS))

from helpers import *  # noqa: E402,F401,F403 - compatibility: `from helpers import ...`
from helpers import limits_for  # noqa: E402

from autograder.engine import grade_notebook  # noqa: E402


@pytest.fixture
def grade():
    """Grade a notebook, forking the student process from this test process's shared zygote."""
    from autograder.sandbox.zygote import shared_zygote

    def _grade(path, **kw):
        kw["limits"] = limits_for(path, kw.get("limits"))
        kw.setdefault("zygote", shared_zygote())
        return grade_notebook(str(path), **kw)

    return _grade
