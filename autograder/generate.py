"""Generate the student notebooks (assignments/) from the instructor sources (solutions/) with nbgrader.

This runs nbgrader's own ``generate_assignment`` with the repository's ``nbgrader_config.py``; the
gradebook it needs goes to a temporary database, so the repository stays clean. With ``check=True``
the release is written to a temporary folder and compared byte for byte with the committed one.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import tempfile

from autograder.suites import ASSIGNMENTS

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class OutOfDate(RuntimeError):
    """The committed student notebooks differ from what the solutions generate."""


def run_nbgrader_generate(assignment: str, release_dir: str, db_path: str, root: str = REPO_ROOT) -> None:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
           f"--CourseDirectory.db_url=sqlite:///{db_path}", f"--CourseDirectory.release_directory={release_dir}"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{proc.stdout}\n{proc.stderr}")


def generate_assignments(assignments: list[str] | None = None, check: bool = False,
                         root: str = REPO_ROOT) -> list[str]:
    """Generate (or, with ``check``, verify) ``assignments/NN/NN.ipynb``; returns the notebook paths."""
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="regnorm-generate-") as tmp:
        db = os.path.join(tmp, "gradebook.db")
        for assignment in assignments or ASSIGNMENTS:
            release = os.path.join(root, "assignments") if not check else os.path.join(tmp, "release")
            run_nbgrader_generate(assignment, release, db, root)
            generated = os.path.join(release, assignment)
            committed = os.path.join(root, "assignments", assignment)
            for name in sorted(os.listdir(generated)):
                path = os.path.join(committed, name)
                if check and (not os.path.exists(path) or not filecmp.cmp(os.path.join(generated, name), path,
                                                                           shallow=False)):
                    raise OutOfDate(f"{os.path.relpath(path, root)} is out of date with solutions/; "
                                    f"run `autograder generate {assignment}`")
                written.append(path)
    return written
