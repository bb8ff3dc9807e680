"""Assignment 02 as a course (issue 13): the prox_l1_step exercise (alternative implementations keep full marks,
null submissions score 0 on every check), the written questions (graded by hand, model answers not released), and
the experiments: every figure renders when its cell runs, and the claims the text makes hold on the notebook's own
data (both penalties beat the unpenalized net on validation, proximal L1 gives exact zeros, ridge's held-out error
has an interior minimum, λ scales with N between mean and sum losses)."""

from __future__ import annotations

import pytest
from helpers import in_process_judge, load_nb, run_solution_capturing_figures, solution_path, student_path

ASSIGNMENT = "02_weight_penalties"

ALT_PROX = {
    # where / relu form, one tensor at a time through .data-free in-place ops
    "where_relu": r'''
def prox_l1_step(params, lr, lam):
    t = lr * lam
    with torch.no_grad():
        for p in params:
            shrunk = torch.relu(p.abs() - t)
            p.copy_(torch.where(p >= 0, shrunk, -shrunk))
''',
    # two in-place passes: zero the small entries, then move the rest towards 0 (masks, sub_/add_)
    "masked_in_place": r'''
def prox_l1_step(params, lr, lam):
    thr = float(lr) * float(lam)
    with torch.no_grad():
        for p in params:
            small = p.abs() <= thr
            pos, neg = (p > thr), (p < -thr)
            p[small] = 0
            p[pos] -= thr
            p[neg] += thr
''',
}

NULL_PROX = {
    "do_nothing": "def prox_l1_step(params, lr, lam):\n    return None",
    "zeros": "def prox_l1_step(params, lr, lam):\n"
             "    with torch.no_grad():\n        for p in params:\n            p.zero_()",
    "constant": "def prox_l1_step(params, lr, lam):\n"
                "    with torch.no_grad():\n        for p in params:\n            p.fill_(0.5)",
    "returns_new": "def prox_l1_step(params, lr, lam):\n"
                   "    return [torch.sign(p) * torch.clamp(p.abs() - lr * lam, min=0) for p in params]",
}


@pytest.fixture(scope="module")
def judge():
    return in_process_judge(ASSIGNMENT)


@pytest.mark.parametrize("name", sorted(ALT_PROX))
def test_alternative_prox_steps_get_full_marks(judge, name):
    results = judge("prox_l1_step", ALT_PROX[name])
    assert all(r.score == r.points for r in results.values()), \
        {n: r.feedback for n, r in results.items() if r.score < r.points}


@pytest.mark.parametrize("name", sorted(NULL_PROX))
def test_null_prox_steps_score_zero_on_every_check(judge, name):
    results = judge("prox_l1_step", NULL_PROX[name])
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items() if r.score}


# -- written questions -------------------------------------------------------------------------------------
MANUAL = {"answer_gaussian_prior", "answer_experiment"}


def test_manual_answers_are_graded_by_hand_and_not_released():
    for nb, released in ((load_nb(solution_path(ASSIGNMENT)), False), (load_nb(student_path(ASSIGNMENT)), True)):
        cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
                 if c["metadata"].get("nbgrader", {}).get("grade_id") in MANUAL}
        assert set(cells) == MANUAL
        for c in cells.values():
            meta = c["metadata"]["nbgrader"]
            assert c["cell_type"] == "markdown" and meta["grade"] and meta["solution"] and meta["points"] == 2
            assert ("Model answer" in "".join(c["source"])) != released
    student_text = "\n".join("".join(c["source"]) for c in load_nb(student_path(ASSIGNMENT))["cells"])
    assert "Model answer" not in student_text


def test_decay_groups_cell_comes_after_make_param_groups_and_uses_it():
    nb = load_nb(solution_path(ASSIGNMENT))
    order = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    assert order.index("equiv_code") > order.index("check_make_param_groups")
    src = "".join(nb["cells"][order.index("equiv_code")]["source"])
    assert "make_param_groups(" in src and "weight_decay\": lam" not in src


# -- the experiments: figures render, claims hold -----------------------------------------------------------
FIGURE_CELLS = {"poly_code": 1, "curves_plot": 3}


@pytest.fixture(scope="module")
def run():
    """Every code cell of the solution notebook in this process: (namespace, {grade_id: figures})."""
    return run_solution_capturing_figures(ASSIGNMENT)


def test_every_experiment_cell_draws_labelled_figures(run):
    _, shown = run
    for gid, n in FIGURE_CELLS.items():
        assert len(shown.get(gid, [])) == n, (gid, shown.get(gid))
        for axes in shown[gid]:
            for title, xlabel, ylabel in axes:
                assert title and xlabel, (gid, title, xlabel, ylabel)
            assert axes[0][2], (gid, "the first panel has no y label")
    assert set(shown) <= set(FIGURE_CELLS), set(shown)


def test_training_and_plot_cells_are_skipped_when_grading():
    nb = load_nb(solution_path(ASSIGNMENT))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in {*FIGURE_CELLS, "hist_code", "equiv_code", "scale_code", "adam_table", "prox_demo"}:
            assert "skip-when-grading" in cell["metadata"].get("tags", []), gid


def test_both_penalties_beat_no_penalty_on_validation(run):
    ns, _ = run
    val, train = ns["final_val"], ns["final_train"]
    none = ("none", 0.0)
    l1, l2 = ("L1", ns["best"]["L1"]), ("L2", ns["best"]["L2"])
    assert train[none] > 0.99                          # the unpenalized net fits every (noisy) training label
    assert val[l1] > val[none] + 0.03 and val[l2] > val[none] + 0.03
    assert train[l1] < train[none] and train[l2] < train[none]
    curve = ns["runs"][none][1]["val"]
    assert max(curve) > curve[-1] + 0.02          # validation accuracy peaked, then fell: overfitting
    for kind, grid in (("L1", ns["L1_GRID"]), ("L2", ns["L2_GRID"])):   # an interior optimum on the log grid
        assert ns["best"][kind] not in (grid[0],), kind
        assert val[(kind, grid[0])] < val[(kind, ns["best"][kind])]


def test_proximal_l1_gives_exact_zeros_and_subgradient_l1_does_not(run):
    ns, _ = run
    lam = ns["best"]["L1"]
    w_prox, w_sub = ns["runs"][("prox L1", lam)][0], ns["runs"][("L1", lam)][0]
    assert float((w_prox == 0).double().mean()) > 0.5
    assert float((w_sub == 0).double().mean()) < 0.01
    assert ns["final_val"][("prox L1", lam)] > ns["final_val"][("none", 0.0)] + 0.03
    assert not (ns["initial_w"] == 0).any() and ns["panels"][0][0] == "initial weights"


def test_ridge_held_out_error_has_an_interior_minimum(run):
    ns, _ = run
    lams, train, val = ns["lams"], ns["ridge_train"], ns["ridge_val"]
    assert all(b >= a - 1e-12 for a, b in zip(train[1:], train[2:]))     # training error only grows with λ
    best = min(val[1:])
    assert best < 0.5 * val[0] and best < 0.5 * val[-1]                  # λ = 0 overfits, λ = 100 underfits
    assert lams[0] < ns["best_ridge"] < lams[-1]


def test_lambda_scales_with_n_between_sum_and_mean_losses(run):
    ns, _ = run
    assert float((ns["w_sum"] - ns["w_gd"].detach()).abs().max()) < 1e-6
    assert float((ns["penalized"]["0.weight"] - ns["decayed"]["0.weight"]).abs().max()) < 1e-5
