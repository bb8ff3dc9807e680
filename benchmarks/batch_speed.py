"""Batch grading throughput: fresh Python per notebook vs the fork server, 1 and 2 workers.

Copies the 01 solution and the example submission N/2 times each into a temporary flat folder and
times `autograder grade-batch` on it. Usage:

    python benchmarks/batch_speed.py [--notebooks 24]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = [os.path.join(REPO, "solutions", "01_data_splits", "01_data_splits.ipynb"),
           os.path.join(REPO, "examples", "01_data_splits-example.ipynb")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="regnorm-bench-") as tmp:
        folder = os.path.join(tmp, "submissions")
        os.makedirs(folder)
        for i in range(args.notebooks):
            shutil.copy(SOURCES[i % 2], os.path.join(folder, f"student{i:03d}-01_data_splits.ipynb"))
        print(f"machine: {os.cpu_count()} CPUs; {args.notebooks} notebooks of assignment 01")
        for label, extra in [("fresh Python per notebook, 1 worker", ["--jobs", "1", "--no-fork-server"]),
                             ("fresh Python per notebook, 2 workers", ["--jobs", "2", "--no-fork-server"]),
                             ("fork server, 1 worker", ["--jobs", "1"]),
                             ("fork server, 2 workers", ["--jobs", "2"])]:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "autograder", "grade-batch", folder, *extra,
                            "-o", os.path.join(tmp, "scores.csv")], cwd=REPO, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            print(f"{label:<40} {wall:6.1f} s  ({wall / args.notebooks:.2f} s per notebook)")


if __name__ == "__main__":
    main()
