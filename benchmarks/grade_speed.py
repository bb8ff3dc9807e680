"""Wall time of `autograder grade` on the 01 solution notebook against the floor `python -c "import torch"`.

Both are measured in one run, on the same machine, alternating, N times each; the medians are
compared. Target (issue 2): grade <= 1.5x the floor. Usage:

    python benchmarks/grade_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(REPO, "solutions", "01_data_splits", "01_data_splits.ipynb")


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    floor_cmd = [sys.executable, "-c", "import torch"]
    grade_cmd = [sys.executable, "-m", "autograder", "grade", NOTEBOOK]
    wall(floor_cmd)  # warm the file cache
    wall(grade_cmd)
    floors, grades = [], []
    for _ in range(args.repeats):
        floors.append(wall(floor_cmd))
        grades.append(wall(grade_cmd))
    f, g = statistics.median(floors), statistics.median(grades)
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    print(f"floor  python -c 'import torch'          median {f:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in floors)})")
    print(f"grade  autograder grade 01 solution      median {g:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in grades)})")
    print(f"ratio  {g / f:.2f}x the floor (target <= 1.5x; anchors: nbgrader autograde ~2.8x, otter run ~3.2x)")


if __name__ == "__main__":
    main()
