"""Assignment 03 as a course (issue 13): the simplified backward exercise (alternative implementations keep full
marks, null submissions score 0 on every check), the written questions (graded by hand, model answers not
released), and the experiments: every figure renders when its cell runs, and the claims the text makes hold
on the notebook's own data."""

from __future__ import annotations

import pytest
from helpers import in_process_judge, load_nb, run_solution_capturing_output, solution_path, student_path

from autograder.notebooks import notebook_namespace
from autograder.suites import load_suite

ASSIGNMENT = "03_batch_norm"

# -- batchnorm_backward_alt: alternatives and null submissions (in process, through the suite's own checks) ----
ALT_BACKWARD = {
    # sums instead of means, with its own tuple cache (the forward is the student's too)
    "tuple_cache_sums": r'''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps, m = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    N, D = x.shape
    rm = bn_param.get("running_mean", torch.zeros(D, dtype=x.dtype))
    rv = bn_param.get("running_var", torch.ones(D, dtype=x.dtype))
    if bn_param["mode"] == "train":
        mu, var = x.mean(0), x.var(0, unbiased=False)
        bn_param["running_mean"] = (1 - m) * rm + m * mu
        bn_param["running_var"] = (1 - m) * rv + m * x.var(0)
        std = torch.sqrt(var + eps)
        xhat = (x - mu) / std
        return gamma * xhat + beta, (xhat, std, gamma)
    return gamma * (x - rm) / torch.sqrt(rv + eps) + beta, None


def batchnorm_backward_alt(dout, cache):
    xhat, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(0)
    dgamma = (dout * xhat).sum(0)
    return (gamma / (N * std)) * (N * dout - dbeta - xhat * dgamma), dgamma, dbeta
''',
    # through dL/dx_hat first, einsum for the sums
    "dxhat_einsum": r'''
def batchnorm_backward_alt(dout, cache):
    xh, r, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
    dxh = dout * gamma
    dx = r * (dxh - dxh.mean(0, keepdim=True) - xh * torch.einsum("nd,nd->d", dxh, xh) / dout.shape[0])
    return dx, torch.einsum("nd,nd->d", dout, xh), torch.einsum("nd->d", dout)
''',
}

NULL_BACKWARD = {
    "zeros": "def batchnorm_backward_alt(dout, cache):\n"
             "    d = dout.shape[1]\n"
             "    return torch.zeros_like(dout), dout.new_zeros(d), dout.new_zeros(d)",
    "identity": "def batchnorm_backward_alt(dout, cache):\n"
                "    return dout, dout[0], dout[0]",
    "constant": "def batchnorm_backward_alt(dout, cache):\n"
                "    d = dout.shape[1]\n"
                "    return torch.ones_like(dout), dout.new_ones(d), dout.new_ones(d)",
    "empty": "def batchnorm_backward_alt(dout, cache):\n"
             "    return dout[:0], dout[0, :0], dout[0, :0]",
}


@pytest.fixture(scope="module")
def judge():
    return in_process_judge(ASSIGNMENT)


@pytest.mark.parametrize("name", sorted(ALT_BACKWARD))
def test_alternative_simplified_backwards_get_full_marks(judge, name):
    results = judge("batchnorm_backward_alt", ALT_BACKWARD[name])
    assert results and all(r.score == r.points for r in results.values()), \
        {n: r.feedback for n, r in results.items() if r.score < r.points}


@pytest.mark.parametrize("name", sorted(NULL_BACKWARD))
def test_null_simplified_backwards_score_zero_on_every_check(judge, name):
    results = judge("batchnorm_backward_alt", NULL_BACKWARD[name])
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items() if r.score}


def test_staged_and_simplified_backward_agree_and_the_staged_one_is_staged():
    ns = notebook_namespace(solution_path(ASSIGNMENT))
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randn(9, 4, generator=g, dtype=torch.float64) * 3 + 1
    gamma, beta, dout = torch.rand(4, dtype=torch.float64) + 0.5, torch.randn(4, dtype=torch.float64), \
        torch.randn(9, 4, generator=g, dtype=torch.float64)
    _, cache = ns["batchnorm_forward"](x, gamma, beta, {"mode": "train"})
    for a, b in zip(ns["batchnorm_backward"](dout, cache), ns["batchnorm_backward_alt"](dout, cache)):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    src = "".join(next(c for c in load_nb(solution_path(ASSIGNMENT))["cells"]
                       if c["metadata"].get("nbgrader", {}).get("grade_id") == "batchnorm_backward")["source"])
    for name in ("dxhat", "dr", "ds", "dv", "dc", "dmu", "dx"):
        assert f"    {name} = " in src, name


def test_backward_text_and_visible_hints_do_not_give_the_closed_form():
    """The closed form is revealed only after the check passes: not in the backward's markdown, nor in the
    student copy's text, nor in a visible hint of the staged backward's checks."""
    closed = "dout.mean(0) - x_hat * (dout * x_hat).mean(0)"
    student = load_nb(student_path(ASSIGNMENT))
    text = "\n".join("".join(c["source"]) for c in student["cells"])
    assert closed not in text and r"\frac1N\sum_k g_k" not in text
    suite = load_suite(ASSIGNMENT)
    for c in suite.select("batchnorm_backward") + suite.select("batchnorm_backward_alt"):
        assert closed not in (c.hint or "") and "mean(0)" not in (c.hint or ""), c.name


# -- written questions -------------------------------------------------------------------------------------
MANUAL = {"answer_bn_training", "answer_small_batch", "answer_batch_noise"}


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


def test_every_question_is_in_the_student_copy():
    """nbgrader replaces the whole text of a written-answer cell: each question lives in a locked cell of its
    own, before its answer cell, so the student copy still asks it."""
    student_text = "\n".join("".join(c["source"]) for c in load_nb(student_path(ASSIGNMENT))["cells"])
    for q in ("**Q1.**", "**Q2.**", "**Q3.**"):
        assert student_text.count(q) == 1, q


# -- the experiments: figures render, claims hold -----------------------------------------------------------
FIGURE_CELLS = {"plot_code": 1, "grad_code": 1, "train_code": 1, "calib_code": 1, "noise_code": 1}
SKIPPED = set(FIGURE_CELLS) | {"backward_reveal", "backward_timing", "scale_demo", "by_hand_show", "block_demo"}


@pytest.fixture(scope="module")
def run():
    """(namespace, {grade_id: figures shown}, {grade_id: objects displayed}) of the solution run in this process."""
    return run_solution_capturing_output(ASSIGNMENT)


def test_every_experiment_cell_draws_labelled_figures(run):
    _, shown, _ = run
    for gid, n in FIGURE_CELLS.items():
        assert len(shown.get(gid, [])) == n, (gid, shown.get(gid))
        for axes in shown[gid]:   # every panel titled; shared axes are labelled on the outer panels
            assert all(title for title, _, _ in axes), (gid, axes)
            assert any(x for _, x, _ in axes) and any(y for _, _, y in axes), (gid, axes)


def test_training_and_plot_cells_are_skipped_when_grading():
    nb = load_nb(solution_path(ASSIGNMENT))
    tagged = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]
              if "skip-when-grading" in c["metadata"].get("tags", [])}
    assert SKIPPED <= tagged, SKIPPED - tagged


def test_closed_form_is_revealed_once_the_simplified_backward_passes(run):
    ns, _, displayed = run
    assert ns["_ok"] is True
    (md,) = displayed["backward_reveal"]
    assert r"\frac{\gamma}{s}" in md.data


def test_simplified_backward_is_faster(run):
    ns, _, _ = run
    assert ns["t_alt"] < ns["t_staged"]


def test_saturation_figure_shows_no_vanishing_gradient_but_uneven_layers(run):
    """The text: without BN many units saturate, yet every layer's grad:data ratio stays ~1e-2 (nothing
    vanishes) and the ratio spreads ~3x across layers; with BN it is within ~20 %."""
    ns, _, _ = run
    no_bn, bn = ns["grad_ratio"][False], ns["grad_ratio"][True]
    assert max(ns["saturation"][False]) > 0.3 and max(ns["saturation"][True]) < 0.1
    assert min(no_bn) > 5e-3 and no_bn[-1] > 0.5 * no_bn[2]          # no decay with depth after layer 3
    assert 2.0 < ns["spread"][False] < 4.0 and ns["spread"][True] < 1.3
    assert all(3e-3 < r < 6e-3 for r in bn)


def test_bn_trains_over_a_wider_range_of_inits_and_learning_rates(run):
    ns, _, _ = run
    acc = ns["val_acc"]
    assert ns["good"][True] >= 6 and ns["good"][False] <= 2
    assert float(acc[True].mean() - acc[False].mean()) > 0.4
    assert float(acc[False][0].max()) < 0.2 and float(acc[False][2].max()) < 0.2   # s = 0.3 and s = 3 fail
    assert float(acc[True][2, 0]) < float(acc[True][2, 2]) - 0.3                   # large init, small lr lags


def test_linear_bn_scale_invariance(run):
    ns, _, _ = run
    assert float((ns["scale_out"][1.0] - ns["scale_out"][3.0]).abs().max()) < 1e-3
    assert abs(ns["scale_grad"][1.0] / ns["scale_grad"][3.0] - 3.0) < 0.01


def test_calibration_recovers_what_slow_running_statistics_lose(run):
    ns, _, _ = run
    acc = ns["calib_acc"]
    assert abs(acc[0.1, "calibrated"] - acc[0.1, "running"]) < 0.03           # "changes little"
    assert acc[0.001, "running"] < acc[0.001, "calibrated"] - 0.15             # "drops"
    assert acc[0.001, "calibrated"] > 0.9


def test_batch_noise_is_a_weak_regularizer_and_tiny_ghost_batches_hurt(run):
    """The text: every run fits its 128 images; BN without batch noise (g = 128) beats no BN in every seed
    (~2 points); g = 32 adds about half a point on average, within the seed spread (not in every seed);
    g = 4 loses ~2 points in every seed."""
    ns, _, _ = run
    tr, val, gain = ns["noise_tr"], ns["noise_val"], ns["noise_gain"]
    assert len(ns["noise_seeds"]) >= 3
    assert all(bool((tr[g] == 1.0).all()) for g in tr)                         # all fit the training subset
    assert bool((gain[None] < 0).all()) and float(gain[None].mean()) < -0.01   # no BN is worse, every seed
    assert 0.0 < float(gain[32].mean()) < 0.015                                # small gain on average...
    assert float(gain[32].min()) < 0.005                                       # ...not a clear one in every seed
    assert bool((gain[4] < -0.01).all()) and float(gain[4].mean()) < -0.015   # tiny ghost batches hurt
    assert bool((gain[8] < 0).all())
    assert max(float(gain[g].mean()) for g in ns["ghost_sizes"]) < 0.015      # nowhere a large effect
    assert float(val[128].mean()) > 0.9
