"""Assignment 04 as a course (issue 13): the normalize(x, dims) and rms_norm exercises (alternative implementations
keep full marks, null submissions score 0 on every check), the written questions (graded by hand, model answers
not released), and the experiments: every figure renders when its cell runs, and the claims the text makes hold
on the notebook's own data."""

from __future__ import annotations

import pytest
from helpers import in_process_judge, load_nb, run_solution_capturing_output, solution_path, student_path

from autograder.notebooks import notebook_namespace

ASSIGNMENT = "04_layer_norm"

ALTERNATIVES = {
    "normalize": {
        # moves the reduced dims to the end and flattens them; torch.var_mean; rsqrt
        "permute_flatten": r'''
def normalize(x, dims, eps=1e-5):
    nd = x.dim()
    red = sorted(d % nd for d in dims)
    keep = [d for d in range(nd) if d not in red]
    perm = keep + red
    y = x.permute(*perm)
    flat = y.reshape(*[x.shape[d] for d in keep], -1)
    var, mean = torch.var_mean(flat, dim=-1, unbiased=False, keepdim=True)
    z = ((flat - mean) * torch.rsqrt(var + eps)).reshape(y.shape)
    inv = [perm.index(d) for d in range(nd)]
    return z.permute(*inv).contiguous()
''',
        # E[x^2] - E[x]^2 in float64, cast back
        "moments_float64": r'''
def normalize(x, dims, eps=1e-5):
    x64 = x.double()
    m = x64.mean(dims, keepdim=True)
    v = (x64 ** 2).mean(dims, keepdim=True) - m ** 2
    return ((x64 - m) / (v + eps).sqrt()).to(x.dtype)
''',
    },
    "rms_norm": {
        "rsqrt_pow": r'''
def rms_norm(x, weight, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight
''',
        "norm_based": r'''
def rms_norm(x, weight, eps=1e-6):
    d = x.shape[-1]
    rms = torch.sqrt(torch.linalg.vector_norm(x, dim=-1, keepdim=True) ** 2 / d + eps)
    return weight * (x / rms)
''',
    },
}

NULLS = {
    "normalize": {
        "zeros": "def normalize(x, dims, eps=1e-5):\n    return torch.zeros_like(x)",
        "identity": "def normalize(x, dims, eps=1e-5):\n    return x.clone()",
        "constant": "def normalize(x, dims, eps=1e-5):\n    return torch.ones_like(x)",
        "empty": "def normalize(x, dims, eps=1e-5):\n    return x.new_empty(0)",
    },
    "rms_norm": {
        "zeros": "def rms_norm(x, weight, eps=1e-6):\n    return torch.zeros_like(x)",
        "identity": "def rms_norm(x, weight, eps=1e-6):\n    return x.clone()",
        "constant": "def rms_norm(x, weight, eps=1e-6):\n    return torch.ones_like(x)",
        "weight_only": "def rms_norm(x, weight, eps=1e-6):\n    return weight.expand_as(x).clone()",
    },
}


@pytest.fixture(scope="module")
def judge():
    return in_process_judge(ASSIGNMENT)


@pytest.mark.parametrize("group,name", [(g, n) for g, alts in ALTERNATIVES.items() for n in sorted(alts)])
def test_alternative_implementations_get_full_marks(judge, group, name):
    results = judge(group, ALTERNATIVES[group][name])
    assert results and all(r.score == r.points for r in results.values()), \
        {n: r.feedback for n, r in results.items() if r.score < r.points}


@pytest.mark.parametrize("group,name", [(g, n) for g, nulls in NULLS.items() for n in sorted(nulls)])
def test_null_submissions_score_zero_on_every_check(judge, group, name):
    results = judge(group, NULLS[group][name])
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items() if r.score}


def test_layer_norm_solution_is_a_normalize_call_away():
    """normalize over the last dim is layernorm_forward with gamma = 1, beta = 0 (the text's claim)."""
    import torch

    ns = notebook_namespace(solution_path(ASSIGNMENT))
    x = torch.randn(5, 7, dtype=torch.float64) * 3 + 2
    assert torch.allclose(ns["normalize"](x, (-1,)), ns["layernorm_forward"](x, torch.ones(7, dtype=torch.float64),
                                                                            torch.zeros(7, dtype=torch.float64))[0])


# -- written questions -------------------------------------------------------------------------------------
MANUAL = {"answer_small_d", "answer_norm_choice", "answer_bn_two"}


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
FIGURE_CELLS = {"plot_code": 1, "sweep_code": 1}
SKIPPED = set(FIGURE_CELLS) | {"normalize_demo", "invariance_demo"}


@pytest.fixture(scope="module")
def run():
    """(namespace, {grade_id: figures shown}, {grade_id: objects displayed}) of the solution run in this process."""
    return run_solution_capturing_output(ASSIGNMENT)


def test_every_experiment_cell_draws_labelled_figures(run):
    _, shown, _ = run
    for gid, n in FIGURE_CELLS.items():
        assert len(shown.get(gid, [])) == n, (gid, shown.get(gid))
        for axes in shown[gid]:
            for title, xlabel, ylabel in axes:
                assert title and xlabel and ylabel, (gid, title, xlabel, ylabel)


def test_plot_and_demo_cells_are_skipped_when_grading():
    nb = load_nb(solution_path(ASSIGNMENT))
    tagged = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]
              if "skip-when-grading" in c["metadata"].get("tags", [])}
    assert SKIPPED <= tagged, SKIPPED - tagged


def test_batch_noise_shrinks_like_one_over_sqrt_b_and_ln_has_none(run):
    ns, _, _ = run
    assert -0.6 < ns["slope"] < -0.4
    err = ns["bn_err_mean"]
    assert bool((err[1:] < err[:-1]).all())                    # monotone in B
    assert float(err[0]) > 0.5 and float(err[-1]) < 0.1
    assert float(ns["bn_err_std"].min()) > 0                   # 200 draws per size: real error bars
    assert ns["ln_dev"] < 1e-6


def test_bn_erases_a_batch_of_one(run):
    import torch

    ns, _, _ = run
    assert torch.equal(ns["bn_train"](ns["row"])[0], torch.zeros(ns["d"]))
    assert float(ns["ln_row"].abs().max()) > 0.5


def test_normalize_recovers_the_four_normalizations(run):
    ns, _, _ = run
    for name, (mine, ref) in ns["recovered"].items():
        assert float((mine - ref).abs().max()) < 1e-5, name


def test_invariances(run):
    ns, _, _ = run
    inv = ns["invariance"]
    assert inv["LN", "scale"] < 1e-4 and inv["LN", "shift"] < 1e-10 and inv["RMS", "scale"] < 1e-4
    assert inv["RMS", "shift"] > 1.0


def test_bn_fails_at_tiny_batches_and_ln_does_not(run):
    """The sweep's text: LN's validation accuracy at B = 2 is within ~1.3 points of B = 64 (no normalization
    flat too); BN matches them at B >= 16, loses a few points at B = 4 and collapses at B = 2 (0.64), where
    even its training loss stays high (1.8 vs 0.2)."""
    ns, _, _ = run
    val, loss = ns["val_by"], ns["final_loss"]
    mean = {k: float(v.mean()) for k, v in val.items()}
    assert len(ns["sweep_seeds"]) >= 3
    assert abs(mean["LN", 2] - mean["LN", 64]) < 0.03 and abs(mean["none", 2] - mean["none", 64]) < 0.03
    assert mean["BN", 64] - mean["BN", 2] > 0.2 and mean["BN", 2] < 0.75
    assert bool((val["BN", 2] < val["LN", 2] - 0.15).all())                  # in every seed
    assert 0.005 < mean["BN", 64] - mean["BN", 4] < 0.06                     # a few points at B = 4
    assert min(mean["BN", 16], mean["BN", 64]) > 0.93 and min(mean["LN", B] for B in ns["batch_sizes"]) > 0.93
    assert loss["BN", 2] > 1.2 and loss["LN", 2] < 0.4 and loss["none", 2] < 0.4
