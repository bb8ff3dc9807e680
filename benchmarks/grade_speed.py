"""Wall time of `autograder grade` on every assignment's solution notebook against the floor
`python -c "import torch"`.

Measured in one run, on the same machine, alternating (floor, grade 01, floor, grade 02, ...), N times
each; each grade is compared with the median of all floor runs. Target: every assignment <= 1.5x the
floor. The slowest checks of each assignment (``duration_s`` of the JSON report) are listed, so a slow
assignment shows where its time goes. With ``--nbgrader``, also times ``nbgrader autograde`` on the 01
notebook (a temporary course built from the repository's ``nbgrader_config.py``).

The `autograder` command ends with a quick exit (``autograder.cli.run``: exit handlers and flushing, but
no interpreter teardown, which costs ~0.25 s once torch is loaded), while the floor pays for that teardown.
So a second floor is timed too, `python -c "import torch, os; os._exit(0)"` (the import alone), and each
grade is also given against it (column ``x import``): what grading costs on top of importing torch. Usage:

    python benchmarks/grade_speed.py [--repeats 5] [--nbgrader] [NN_name ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from autograder.paths import solution_notebook  # noqa: E402


def wall(cmd: list[str], cwd: str = REPO) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def nbgrader_course(root: str, assignment: str = "01_data_splits") -> list[str]:
    """A temporary nbgrader course with the solution submitted by one student; returns the autograde command."""
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root)
    shutil.copytree(os.path.join(REPO, "solutions", assignment), os.path.join(root, "solutions", assignment))
    sub = os.path.join(root, "submitted", "student", assignment)
    os.makedirs(sub)
    shutil.copy(solution_notebook(assignment), sub)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "generate_assignment", assignment, "--force"], cwd=root, check=True,
                   capture_output=True, env=_env())
    return [*nbgrader, "autograde", assignment, "--force"]


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # nbgrader needs alembic
    return env


def slowest_checks(report: str, n: int = 3) -> str:
    with open(report, encoding="utf-8") as fh:
        checks = json.load(fh)["notebooks"][0]["checks"]
    top = sorted(checks, key=lambda c: -c.get("duration_s", 0.0))[:n]
    total = sum(c.get("duration_s", 0.0) for c in checks)
    return f"checks {total:.2f} s; slowest: " + ", ".join(f"{c['name']} {c['duration_s']:.2f}" for c in top)


def main() -> None:
    from autograder.suites import ASSIGNMENTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", metavar="NN_name", help="default: every assignment")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--nbgrader", action="store_true", help="also time nbgrader autograde on 01")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="regnorm-bench-")
    floor_cmd = [sys.executable, "-c", "import torch"]
    import_cmd = [sys.executable, "-c", "import torch, os; os._exit(0)"]
    commands: dict[str, tuple[list[str], str]] = {}
    reports: dict[str, str] = {}
    for a in args.assignments or ASSIGNMENTS:
        reports[a] = os.path.join(tmp, f"{a}.json")
        commands[f"grade {a}"] = ([sys.executable, "-m", "autograder", "grade", solution_notebook(a), "--format",
                                   "json", "--output", reports[a]], REPO)
    try:
        if args.nbgrader:
            course = os.path.join(tmp, "course")
            os.makedirs(course)
            commands["nbgrader autograde 01_data_splits"] = (nbgrader_course(course), course)
        wall(floor_cmd)  # warm the file cache
        for cmd, cwd in commands.values():
            wall(cmd, cwd)
        floors: list[float] = []
        imports: list[float] = []
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.repeats):
            for label, (cmd, cwd) in commands.items():
                floors.append(wall(floor_cmd))
                imports.append(wall(import_cmd))
                times[label].append(wall(cmd, cwd))
        floor = statistics.median(floors)
        import_only = statistics.median(imports)
        print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}; {args.repeats} alternating runs "
              f"each; floor `python -c 'import torch'` median {floor:.2f} s over {len(floors)} runs; the import alone "
              f"(no interpreter teardown) {import_only:.2f} s")
        print(f"{'':42} {'median':>7} {'x floor':>8} {'x import':>9}")
        worst = 0.0
        for label, runs in times.items():
            med = statistics.median(runs)
            worst = max(worst, med / floor) if label.startswith("grade") else worst
            detail = slowest_checks(reports[label[6:]]) if label.startswith("grade") else ""
            print(f"{label:42} {med:6.2f}s {med / floor:7.2f}x {med / import_only:8.2f}x  {detail}")
        print(f"target: every `autograder grade` <= 1.5x the floor; worst {worst:.2f}x -> "
              + ("met" if worst <= 1.5 else "NOT met"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
