"""The mutation benchmark's machinery, and a small fixed sample of mutants (issue 8; docs/MUTATION.md).

The full benchmark (benchmarks/mutation_score.py) takes minutes per assignment; here a few mutants per
exercise are graded (seconds) and must be killed or shown equivalent by the probe.
"""

from __future__ import annotations

import ast

import pytest

from tools import mutation
from tools.mutants import generate, solution_regions

#: Assignments whose checks meet the mutation bar (DESIGN.md §7): a sample of their mutants must not
#: survive. Add yours once `benchmarks/mutation_score.py -a NN_name` reports >= 95 %.
AT_THE_BAR = ("01_data_splits", "02_weight_penalties", "04_layer_norm")
#: Mutants per exercise in the CI sample (an evenly spread, deterministic selection).
SAMPLE = 3

CELL = '''def f(x, y, p=0.5, dim=0):
    """doc"""
    ### BEGIN SOLUTION
    z = (x - y.mean(dim=0)) * p
    out = z[1:] / (z.abs().sum() + 1e-5)
    return out
    ### END SOLUTION
'''


def test_generator_covers_the_operators_and_compiles():
    assert solution_regions(CELL) == [(4, 6)]
    mutants = generate(CELL, "f")
    ops = {m.operator for m in mutants}
    assert {"binop", "drop-term", "inplace", "const", "dim", "drop-kwarg", "default", "drop-call", "slice",
            "detach", "delete", "no-grad"} <= ops, ops
    for m in mutants:
        ast.parse(m.source)
        assert 4 <= m.line <= 6, m.key  # only the solution region is mutated
    assert len({m.source for m in mutants}) == len(mutants)
    assert any("argument `p` ignored" in m.description for m in mutants)


def test_probe_finds_no_difference_between_the_solution_and_itself():
    state = mutation.State("01_data_splits")
    other = mutation.build_namespace(state.assignment, state.nb)
    assert mutation.probe(state.sol_ns, other, state.suite.checks, seeds=2) is None


def test_probe_sees_an_ignored_argument_and_an_in_place_change():
    state = mutation.State("01_data_splits")
    ex = {e.name: e for e in state.exercises}
    for exercise, needle in (("split_data", "argument `ratios` ignored"), ("standardize", "-> `t.sub_(...)`")):
        mutant = next(m for m in generate(ex[exercise].source, exercise, ex[exercise].regions) if needle in m.description)
        mut_ns = mutation.build_namespace(state.assignment, state.nb, {ex[exercise].cell_index: mutant.source})
        checks = [c for c in state.suite.checks if c.exercise == exercise]
        assert mutation.probe(state.sol_ns, mut_ns, checks, seeds=1), needle


@pytest.mark.parametrize("assignment", AT_THE_BAR)
def test_sample_of_mutants_is_killed_or_equivalent(assignment):
    state = mutation.State(assignment)
    work = [(ex, m) for ex in state.exercises
            for m in mutation.select_mutants(generate(ex.source, ex.name, ex.regions), SAMPLE)]
    assert work
    results = mutation.run_mutants(state, work, jobs=1, timeout=60, seeds=2)
    survivors = [f"{r.exercise}: {r.key}: {r.detail}" for r in results if r.status == "survived" and not r.accepted]
    assert not survivors, survivors
    assert all(r.status in ("killed", "equivalent", "survived") for r in results)


def test_probe_compares_inf_and_modules_as_equal_when_they_are():
    """inf on both sides is no difference (inf - inf is nan), and a module reached on both sides (e.g. torch's
    globals that a check reads) is the same module, not a tree of values to walk."""
    import math as m

    import torch

    from tools.mutation import compare

    assert compare(float("inf"), float("inf")) is None and compare(-m.inf, -m.inf) is None
    assert compare(m.inf, -m.inf) is not None and compare(1.0, m.inf) is not None
    assert compare({"math": m}, {"math": m}) is None and compare(m, torch) is not None
    assert compare([m.inf, {"x": m.inf}], [m.inf, {"x": m.inf}]) is None
