"""Wall time of `autograder grade` on the 01 solution notebook against the floor `python -c "import torch"`.

Both are measured in one run, on the same machine, alternating, N times each; the medians are
compared. Target (issue 2): grade <= 1.5x the floor. With ``--nbgrader``, also times
``nbgrader autograde`` on the same notebook (a temporary course built from the repository's
``nbgrader_config.py``), for the anchor comparison. Usage:

    python benchmarks/grade_speed.py [--repeats 5] [--nbgrader]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(REPO, "solutions", "01_data_splits", "01_data_splits.ipynb")


def wall(cmd: list[str], cwd: str = REPO) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def nbgrader_course(root: str) -> list[str]:
    """A temporary nbgrader course with the 01 solution submitted by one student; returns the autograde command."""
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root)
    shutil.copytree(os.path.join(REPO, "solutions", "01_data_splits"), os.path.join(root, "solutions", "01_data_splits"))
    sub = os.path.join(root, "submitted", "student", "01_data_splits")
    os.makedirs(sub)
    shutil.copy(NOTEBOOK, sub)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "generate_assignment", "01_data_splits", "--force"], cwd=root, check=True,
                   capture_output=True, env=_env())
    return [*nbgrader, "autograde", "01_data_splits", "--force"]


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # nbgrader needs alembic
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--nbgrader", action="store_true", help="also time nbgrader autograde")
    args = parser.parse_args()
    commands = {
        "floor  python -c 'import torch'   ": ([sys.executable, "-c", "import torch"], REPO),
        "grade  autograder grade 01        ": ([sys.executable, "-m", "autograder", "grade", NOTEBOOK], REPO),
    }
    tmp = tempfile.mkdtemp(prefix="regnorm-bench-course-")
    try:
        if args.nbgrader:
            commands["nbgrader autograde 01             "] = (nbgrader_course(tmp), tmp)
        for cmd, cwd in commands.values():
            wall(cmd, cwd)  # warm the file cache
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.repeats):
            for label, (cmd, cwd) in commands.items():
                times[label].append(wall(cmd, cwd))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}; {args.repeats} alternating runs each")
    floor = statistics.median(next(iter(times.values())))
    for label, runs in times.items():
        med = statistics.median(runs)
        print(f"{label} median {med:5.2f} s = {med / floor:.2f}x the floor  (runs: {', '.join(f'{x:.2f}' for x in runs)})")
    print("target for autograder grade: <= 1.5x the floor (issue anchors: nbgrader autograde ~2.8x, otter run ~3.2x)")


if __name__ == "__main__":
    main()
