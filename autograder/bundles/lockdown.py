"""Lock-down: the secret files of an installed grader readable by root only."""

from __future__ import annotations

import os

from autograder.bundles import SECRET_FILES


def lock_down(package_dir: str) -> list[str]:
    """Make the secret files under ``package_dir`` (an ``autograder/`` folder) root-only (0600, their
    folders' caches 0700); returns the paths changed. Everything else stays world-readable, because the
    unprivileged student process imports the package's worker from there."""
    changed = []
    suites = os.path.join(package_dir, "suites")
    if not os.path.isdir(suites):
        return changed
    for entry in sorted(os.listdir(suites)):
        d = os.path.join(suites, entry)
        if not os.path.isdir(d):
            continue
        for rel in SECRET_FILES:
            p = os.path.join(d, rel)
            if os.path.exists(p):
                os.chmod(p, 0o600)
                changed.append(p)
        cache = os.path.join(d, "__pycache__")
        os.makedirs(cache, exist_ok=True)
        os.chmod(cache, 0o700)  # compiled hidden.py / mistakes.py land here
        changed.append(cache)
    return changed


