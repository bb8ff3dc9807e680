"""Points each attack of the corpus (tests/sandbox/test_attack_corpus.py) gains, per grading set-up.

    python benchmarks/attack_matrix.py [--setups sandboxed,uid-fallback,refused,gradescope,nbgrader] [--save FILE]

``--save FILE`` keeps each set-up's column in FILE (JSON) as soon as it finishes and prints the table over
every column FILE holds, so set-ups can be measured in separate runs and a slow one loses nothing.

Set-ups:
- sandboxed     `grade` with the namespace sandbox (the default where the kernel allows it);
- uid-fallback  no namespaces, a root grader whose student processes drop to the unprivileged user
                (needs root and a system Python of the grader's version that user can run);
- refused       neither namespaces nor a usable user drop: grading must refuse (no score at all);
- gradescope    the Gradescope bundle's run_autograder in a Gradescope-like root, one submission at a time;
- nbgrader      a real nbgrader course: generate_assignment, autograde (with this repo's nbgrader_config.py),
                export — the score nbgrader's gradebook records.

Every attack is the untouched student copy of 01 plus one cell, so the null score is 0: the table prints
the points each attack gained per set-up (every entry must be 0) and the classes' totals.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO] + [os.path.join(REPO, "tests", d) for d in ("", "sandbox", "integration")]

from test_attack_corpus import ASSIGNMENT, ATTACKS, attack_notebook  # noqa: E402

from autograder.engine import grade_notebook  # noqa: E402
from autograder.sandbox import namespaces  # noqa: E402
from autograder.sandbox.limits import Limits  # noqa: E402

LIMITS = Limits(cell_timeout=6, notebook_timeout=40, call_timeout=4)
BIN = os.path.dirname(sys.executable)


def notebooks(tmp: str) -> dict[str, str]:
    folder = os.path.join(tmp, "submissions")
    os.makedirs(folder, exist_ok=True)
    canary = os.path.join(tmp, "canary.txt")
    with open(canary, "w") as fh:
        fh.write("untouched")
    return {a.name: attack_notebook(a, os.path.join(folder, f"{a.name}.ipynb"), canary, folder) for a in ATTACKS}


def sandboxed(paths: dict[str, str], tmp: str) -> dict[str, float | str]:
    from autograder.sandbox.zygote import shared_zygote

    assert namespaces.problem_here() is None, namespaces.problem_here()
    return {name: grade_notebook(p, LIMITS, zygote=shared_zygote()).score for name, p in paths.items()}


def uid_fallback(paths: dict[str, str], tmp: str) -> dict[str, float | str]:
    from helpers import python_for_unprivileged_user

    from autograder.bundles import temp_root
    from autograder.sandbox.zygote import Zygote

    if os.geteuid() != 0:
        return {name: "n/a (not root)" for name in paths}
    root = temp_root()
    try:
        python, why = python_for_unprivileged_user(root)
        if python is None:
            return {name: f"n/a ({why})" for name in paths}
        zygote = Zygote(python=python)
        zygote._drop_checked["sandbox"] = "namespaces disabled to measure the uid fallback"
        out = {}
        for name, p in paths.items():
            shutil.copy(p, os.path.join(root, os.path.basename(p)))
            r = grade_notebook(os.path.join(root, os.path.basename(p)), LIMITS, zygote=zygote)
            assert not any("ran as root" in n for n in r.notes), r.notes
            out[name] = r.score if r.error is None else f"error: {r.error[:60]}"
        zygote.close()
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def refused(paths: dict[str, str], tmp: str) -> dict[str, float | str]:
    import autograder.sandbox.process as process

    saved = namespaces.problem_here, process.unprivileged_user
    namespaces.problem_here = lambda: "disabled"
    process.unprivileged_user = lambda: None
    try:
        out = {}
        for name, p in paths.items():
            r = grade_notebook(p, LIMITS)
            out[name] = "refused" if (r.error and "grading refused" in r.error and not r.checks) else r.score
        return out
    finally:
        namespaces.problem_here, process.unprivileged_user = saved


def gradescope(paths: dict[str, str], tmp: str) -> dict[str, float | str]:
    import zipfile

    zip_path = os.path.join(tmp, "gs.zip")
    subprocess.run([os.path.join(BIN, "autograder"), "gradescope-bundle", zip_path, "--assignment", ASSIGNMENT],
                   check=True, capture_output=True)
    out = {}
    for name, p in paths.items():
        root = os.path.join(tmp, f"gs-{name}")
        os.makedirs(os.path.join(root, "source"))
        os.makedirs(os.path.join(root, "submission"))
        os.makedirs(os.path.join(root, "results"))
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(os.path.join(root, "source"))
        os.chmod(os.path.join(root, "source", "run_autograder"), 0o755)
        shutil.copy(p, os.path.join(root, "submission", f"{ASSIGNMENT}.ipynb"))
        env = dict(os.environ, GRADESCOPE_ROOT=root, REGNORM_PYTHON=sys.executable)
        try:
            subprocess.run([os.path.join(root, "source", "run_autograder")], env=env, capture_output=True, timeout=600)
            with open(os.path.join(root, "results", "results.json"), encoding="utf-8") as fh:
                out[name] = json.load(fh)["score"]
        except subprocess.TimeoutExpired:
            out[name] = "timeout"  # counted as an unexpected result: Gradescope would have stopped it
        shutil.rmtree(root, ignore_errors=True)
    return out


def run_nbgrader(root, *args) -> None:
    """nbgrader in a clean Jupyter environment (as the tests run it), with a limit for a whole class."""
    from test_nbgrader_course import nbgrader_env

    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=nbgrader_env(root),
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def nbgrader(paths: dict[str, str], tmp: str) -> dict[str, float | str]:
    root = os.path.join(tmp, "course")
    os.makedirs(root)
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root)
    shutil.copytree(os.path.join(REPO, "solutions", ASSIGNMENT), os.path.join(root, "solutions", ASSIGNMENT))
    from pathlib import Path

    run_nbgrader(Path(root), "generate_assignment", ASSIGNMENT, "--force")
    for name, p in paths.items():
        d = os.path.join(root, "submitted", name, ASSIGNMENT)
        os.makedirs(d)
        shutil.copy(p, os.path.join(d, f"{ASSIGNMENT}.ipynb"))
    run_nbgrader(Path(root), "autograde", ASSIGNMENT, "--force")
    run_nbgrader(Path(root), "export")
    with open(os.path.join(root, "grades.csv"), newline="", encoding="utf-8") as fh:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}


SETUPS = {"sandboxed": sandboxed, "uid-fallback": uid_fallback, "refused": refused, "gradescope": gradescope,
          "nbgrader": nbgrader}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--save", metavar="FILE", help="keep every set-up's column in this JSON file")
    parser.add_argument("--attacks", metavar="NAME,...", help="grade only these attacks (merged into --save's columns)")
    args = parser.parse_args()
    chosen = [s for s in args.setups.split(",") if s]
    table: dict[str, dict[str, float | str]] = {}
    if args.save and os.path.exists(args.save):
        with open(args.save, encoding="utf-8") as fh:
            table = json.load(fh)
    with tempfile.TemporaryDirectory(prefix="regnorm-attacks-") as tmp:
        paths = notebooks(tmp)
        if args.attacks:
            paths = {name: p for name, p in paths.items() if name in args.attacks.split(",")}
        for setup in chosen:
            t = time.monotonic()
            table[setup] = {**table.get(setup, {}), **SETUPS[setup](paths, tmp)}
            print(f"{setup}: {time.monotonic() - t:.0f} s", file=sys.stderr)
            if args.save:
                with open(args.save, "w", encoding="utf-8") as fh:
                    json.dump(table, fh, indent=1)
    chosen = [s for s in SETUPS if s in table]
    width = max(len(a.name) for a in ATTACKS)
    print(f"{'attack':<{width}}  {'class':<9}  " + "  ".join(f"{s:>12}" for s in chosen))
    by_class: dict[tuple[str, str], float] = defaultdict(float)
    bad = 0
    for a in ATTACKS:
        cells = []
        for s in chosen:
            v = table[s].get(a.name, "missing")
            cells.append(f"{v:>12g}" if isinstance(v, float) else f"{str(v)[:12]:>12}")
            if isinstance(v, float):
                by_class[(a.klass, s)] += v
                bad += v > 0
            elif v not in ("refused",) and not str(v).startswith("n/a"):
                bad += 1
        print(f"{a.name:<{width}}  {a.klass:<9}  " + "  ".join(cells))
    print()
    print(f"{'class (points gained)':<{width + 11}}  " + "  ".join(f"{s:>12}" for s in chosen))
    for klass in dict.fromkeys(a.klass for a in ATTACKS):
        print(f"{klass:<{width + 11}}  " + "  ".join(f"{by_class[(klass, s)]:>12g}" for s in chosen))
    print(f"\n{len(ATTACKS)} attacks x {len(chosen)} set-ups; entries with points gained or unexpected results: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
