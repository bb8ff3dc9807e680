"""Data helpers for notebooks: the course's small source data files and the real data sets.

``source_data/`` (at the repository root) holds the numbers of the lecture's by-hand worksheets as
JSON; notebooks load them with :func:`load_source_data` so no expected value is typed twice.
"""

from __future__ import annotations

import json
import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source_data_dir() -> str:
    """``$REGNORM_SOURCE_DATA`` if set, else ``<repo>/source_data``."""
    return os.environ.get("REGNORM_SOURCE_DATA") or os.path.join(REPO_ROOT, "source_data")


def load_source_data(name: str) -> dict:
    """Load ``source_data/<name>.json`` (e.g. ``load_source_data("batchnorm_by_hand")``)."""
    path = os.path.join(source_data_dir(), f"{name}.json")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
