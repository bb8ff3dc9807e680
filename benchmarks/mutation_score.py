"""Mutation score of an assignment's checks (issue 8; DESIGN.md §7).

Mutants of every solution function/class (operators swapped, constants changed, dim/axis changed,
an argument ignored or a keyword dropped, in place vs out of place, detach/no_grad, off-by-one,
arguments swapped, a statement deleted; see tools/mutants.py) are graded by the assignment's own
checks (visible + hidden, in process, each mutant in a forked child). A mutant that loses points is
killed; one that keeps full marks is probed against the solution on the checks' calls with other
seeds and float64 inputs: if nothing differs it is equivalent (discarded), otherwise it survived.
score = killed / (killed + survived). See docs/MUTATION.md.

    python benchmarks/mutation_score.py --assignment 05_dropout [--exercise NAME] [--max-mutants N]
                                        [--jobs 2] [--json out.json] [--fail-under 95]

It is a benchmark (minutes), not a test; tests/grader/test_mutation_sample.py runs a small fixed sample.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", "-a", action="append", required=True,
                    help="assignment id, e.g. 03_batch_norm (repeatable; 'all' for every suite)")
    ap.add_argument("--exercise", "-e", help="only this exercise (suite group / grade_id)")
    ap.add_argument("--max-mutants", type=int, default=None,
                    help="at most N mutants per exercise (an evenly spread, deterministic sample)")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="mutants graded in parallel (forked children)")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="CPU seconds per mutant before it counts as killed (the grader's call time limit would "
                         "cost points too); the wall-clock limit is 5x this")
    ap.add_argument("--seeds", type=int, default=4,
                    help="probe rounds for equivalence: the checks' cases, then re-seeded variants")
    ap.add_argument("--false-rejects", action="store_true",
                    help="also probe killed mutants: a killed mutant the probe cannot tell from the solution "
                         "means the checks reject an equivalent (correct) implementation")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--all", action="store_true", help="print every mutant's outcome, not only survivors")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--fail-under", type=float, default=None,
                    help="exit 1 when an assignment's score is below this percentage")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from autograder.suites import ASSIGNMENTS
    from tools.mutants import generate
    from tools.mutation import State, run_mutants, select_mutants, summarize, total

    assignments = list(ASSIGNMENTS) if "all" in args.assignment else args.assignment
    report: dict = {}
    status = 0
    for assignment in assignments:
        if assignment not in ASSIGNMENTS:
            print(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}", file=sys.stderr)
            return 2
        started = time.monotonic()
        state = State(assignment, args.exercise)
        if not state.exercises:
            print(f"{assignment}: no exercise found" + (f" named {args.exercise}" if args.exercise else ""))
            continue
        work = []
        for ex in state.exercises:
            mutants = select_mutants(generate(ex.source, ex.name, ex.regions), args.max_mutants)
            work += [(ex, m) for m in mutants]
        if args.list:
            for ex, m in work:
                print(f"{ex.name:<24} #{m.index:<3} L{m.line:<3} {m.operator:<10} {m.description}")
            continue
        print(f"{assignment}: {len(work)} mutants of {len(state.exercises)} exercises, {args.jobs} job(s)",
              flush=True)
        results = run_mutants(state, work, jobs=args.jobs, timeout=args.timeout, seeds=args.seeds,
                              probe_killed=args.false_rejects, progress=_progress(len(work), started))
        summary = summarize(results)
        tot = total(summary)
        print_table(assignment, summary, tot)
        survivors = [r for r in results if r.status == "survived"]
        if survivors:
            print("survivors (line numbers are within the exercise's solution cell):")
            for r in survivors:
                extra = f"  [accepted: {r.accepted}]" if r.accepted else ""
                print(f"  {r.exercise}: L{r.line} {r.operator}: {r.description}{extra}\n      probe: {r.detail}")
        false_rejects = [r for r in results if r.detail.startswith("FALSE REJECTION")]
        if false_rejects:
            print("killed although the probe cannot tell them from the solution (checks may reject correct code):")
            for r in false_rejects:
                print(f"  {r.exercise}: L{r.line} {r.operator}: {r.description}\n      {r.detail}")
        if args.all:
            for r in results:
                print(f"  {r.status:<10} {r.exercise}: L{r.line} {r.operator}: {r.description}"
                      + (f"  <- {', '.join(r.killed_by[:2])}" if r.killed_by else ""))
        print(f"({time.monotonic() - started:.0f} s)\n", flush=True)
        report[assignment] = {"summary": summary, "total": tot,
                              "results": [dict(r.__dict__, key=r.key) for r in results]}
        if args.fail_under is not None and tot["score"] < args.fail_under:
            status = 1
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
    return status


def _progress(n: int, started: float):
    count = [0]

    def progress(_result) -> None:
        count[0] += 1
        if count[0] % 25 == 0 or count[0] == n:
            print(f"  {count[0]}/{n} graded ({time.monotonic() - started:.0f} s)", flush=True)

    return progress


def print_table(assignment: str, summary: dict, tot: dict) -> None:
    head = f"{'exercise':<26}{'mutants':>8}{'equiv':>7}{'killed':>8}{'(crash)':>8}{'survived':>9}{'score':>8}"
    print(head)
    print("-" * len(head))
    for name, row in summary.items():
        print(f"{name:<26}{row['mutants']:>8}{row['equivalent']:>7}{row['killed']:>8}{row['crashed']:>8}"
              f"{row['survived']:>9}{row['score']:>7.1f}%")
    print("-" * len(head))
    print(f"{assignment:<26}{tot['mutants']:>8}{tot['equivalent']:>7}{tot['killed']:>8}{tot['crashed']:>8}"
          f"{tot['survived']:>9}{tot['score']:>7.1f}%")


if __name__ == "__main__":
    sys.exit(main())
