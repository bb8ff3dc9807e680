"""Assignment 08 (training diagnostics): alternative correct implementations get full marks, null submissions
score 0 on every check, the probe sees what the diagnostics must not do (with the feedback text), the
term-sensitive inputs really separate the saturation rules, and the statistical tolerances of kaiming_init_
have a wide margin for correct implementations."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb
from torch import nn

from autograder.fixtures import diagnostics as fx

ASSIGNMENT = "08_training_diagnostics"

# Variant A: other formulas, Python floats, torch.nn.init, .data, a module -> name map in one hook function.
ALT_A = {
    "expected_initial_loss": r'''
def expected_initial_loss(num_classes):
    return float(-torch.log(torch.tensor(1.0 / num_classes, dtype=torch.float64)))
''',
    "initial_loss": r'''
def initial_loss(model, x, y):
    with torch.inference_mode():
        logits = model(x)
        return -(logits.log_softmax(1)[torch.arange(len(y)), y]).mean().clone()
''',
    "shrink_last_layer_": r'''
def shrink_last_layer_(model, scale=0.01):
    for m in reversed(list(model.modules())):
        if isinstance(m, nn.Linear):
            m.weight.data *= scale
            if m.bias is not None:
                m.bias.data.fill_(0.0)
            break
    return model
''',
    "activation_stats": r'''
def activation_stats(model, x, threshold=0.97):
    names = {m: n for n, m in model.named_modules() if isinstance(m, (nn.Tanh, nn.ReLU))}
    stats = {}

    def hook(module, inputs, output):
        h = output.detach().double()
        rule = h.abs().gt(threshold) if isinstance(module, nn.Tanh) else h.le(0)
        stats[names[module]] = {"mean": float(h.sum() / h.numel()), "std": float(h.var().sqrt()),
                                "saturated": float(rule.sum()) / h.numel()}

    handles = []
    try:
        for m in names:
            handles.append(m.register_forward_hook(hook))
        with torch.no_grad():
            model(x)
    finally:
        while handles:
            handles.pop().remove()
    return stats
''',
    "update_to_data_ratios": r'''
def update_to_data_ratios(model, lr):
    out = {}
    for name, p in model.named_parameters():
        if p.grad is not None and p.dim() >= 2:
            out[name] = math.log10(float((p.grad * lr).std()) / float(p.data.std()))
    return out
''',
    "kaiming_init_": r'''
def kaiming_init_(model, nonlinearity, generator=None):
    if nonlinearity not in ("relu", "tanh"):
        raise ValueError(nonlinearity)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity=nonlinearity, generator=generator)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model
''',
}

# Variant B: tensors everywhere, functools.partial hooks, explicit correction, randn * std, calculate_gain.
ALT_B = {
    "expected_initial_loss": r'''
def expected_initial_loss(num_classes):
    return F.cross_entropy(torch.zeros(1, num_classes), torch.zeros(1, dtype=torch.long))
''',
    "initial_loss": r'''
def initial_loss(model, x, y):
    with torch.no_grad():
        return F.nll_loss(F.log_softmax(model(x), dim=-1), y)
''',
    "shrink_last_layer_": r'''
def shrink_last_layer_(model, scale=0.01):
    last = None
    for m in model.modules():
        if type(m) is nn.Linear:
            last = m
    last.weight.detach().mul_(scale)
    if last.bias is not None:
        torch.nn.init.zeros_(last.bias)
    return model
''',
    "activation_stats": r'''
from functools import partial


def _record(store, threshold, name, module, inputs, output):
    h = output.detach()
    if isinstance(module, nn.Tanh):
        frac = torch.count_nonzero(h.abs() > threshold) / h.numel()
    else:
        frac = torch.mean((h == 0).to(torch.float64))
    store[name] = dict(mean=torch.mean(h), std=torch.std(h, correction=1), saturated=frac)


def activation_stats(model, x, threshold=0.97):
    store = {}
    handles = [m.register_forward_hook(partial(_record, store, threshold, n))
               for n, m in model.named_modules() if isinstance(m, (nn.Tanh, nn.ReLU))]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hd in handles:
            hd.remove()
    return store
''',
    "update_to_data_ratios": r'''
def update_to_data_ratios(model, lr):
    with torch.no_grad():
        return {n: (lr * p.grad).std().div(p.std()).log10() for n, p in model.named_parameters()
                if p.ndim >= 2 and p.grad is not None}
''',
    "kaiming_init_": r'''
def kaiming_init_(model, nonlinearity, generator=None):
    for module in model.modules():
        if not isinstance(module, nn.Linear):
            continue
        std = torch.nn.init.calculate_gain(nonlinearity) / math.sqrt(module.in_features)
        with torch.no_grad():
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
            if module.bias is not None:
                module.bias.fill_(0)
    return model
''',
}

# Null submissions: each family replaces every stub at once (the groups are independent).
NULL_ZERO = {
    "expected_initial_loss": "def expected_initial_loss(num_classes):\n    return 0.0",
    "initial_loss": "def initial_loss(model, x, y):\n    return torch.zeros(())",
    "shrink_last_layer_": "def shrink_last_layer_(model, scale=0.01):\n    with torch.no_grad():\n"
                          "        for p in model.parameters():\n            p.zero_()\n    return model",
    "activation_stats": "def activation_stats(model, x, threshold=0.97):\n    return {}",
    "update_to_data_ratios": "def update_to_data_ratios(model, lr):\n    return {}",
    "kaiming_init_": "def kaiming_init_(model, nonlinearity, generator=None):\n    with torch.no_grad():\n"
                     "        for p in model.parameters():\n            p.zero_()\n    return model",
}
NULL_CONSTANT = {
    "expected_initial_loss": "def expected_initial_loss(num_classes):\n    return 2.302585",
    "initial_loss": "def initial_loss(model, x, y):\n    return torch.tensor(2.302585)",
    "shrink_last_layer_": "def shrink_last_layer_(model, scale=0.01):\n    return model",
    "activation_stats": "def activation_stats(model, x, threshold=0.97):\n"
                        "    return {n: {'mean': 0.0, 'std': 1.0, 'saturated': 0.5} for n, m in model.named_modules()\n"
                        "            if isinstance(m, (nn.Tanh, nn.ReLU))}",
    "update_to_data_ratios": "def update_to_data_ratios(model, lr):\n"
                             "    return {n: torch.tensor(-3.0) for n, p in model.named_parameters()\n"
                             "            if p.ndim >= 2 and p.grad is not None}",
    "kaiming_init_": "def kaiming_init_(model, nonlinearity, generator=None):\n    return model",
}


def submission(alts: dict, path) -> str:
    nb = load_nb(solution_path(ASSIGNMENT))
    for grade_id, src in alts.items():
        nb = with_cells_after(nb, grade_id, [src.strip("\n")])
        for cell in nb["cells"]:
            if cell.get("id") == "injected0":
                cell["id"] = f"alt-{grade_id}"
    return write_nb(nb, path)


@pytest.mark.parametrize("variant", ["A", "B"])
def test_alternative_implementations_get_full_marks(variant, grade, tmp_path):
    alts = {"A": ALT_A, "B": ALT_B}[variant]
    assert_full_marks(grade(submission(alts, tmp_path / f"alt_{variant}.ipynb")))


@pytest.mark.parametrize("family", ["zero", "constant"])
def test_null_submissions_score_zero_on_every_check(family, grade, tmp_path):
    nulls = {"zero": NULL_ZERO, "constant": NULL_CONSTANT}[family]
    result = grade(submission(nulls, tmp_path / f"null_{family}.ipynb"))
    assert result.error is None
    earned = [(c.name, c.score) for c in result.checks if c.score > 0]
    assert not earned, earned


def _one(src_by_stub: dict, grade, tmp_path, name):
    return {c.name: c for c in grade(submission(src_by_stub, tmp_path / f"{name}.ipynb")).checks}


def test_side_effects_are_reported_with_their_own_feedback(grade, tmp_path):
    """Hooks left behind, a mode switch and an in-place gradient change each fail only their own check."""
    subs = {
        "activation_stats": ALT_B["activation_stats"].replace("        for hd in handles:\n            hd.remove()\n",
                                                              "        pass\n"),
        "update_to_data_ratios": r'''
def update_to_data_ratios(model, lr):
    out = {}
    for n, p in model.named_parameters():
        if p.ndim >= 2 and p.grad is not None:
            p.grad *= lr
            out[n] = torch.log10(p.grad.std() / p.std())
    return out
''',
        "initial_loss": r'''
def initial_loss(model, x, y):
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(x), y)
''',
    }
    by_name = _one(subs, grade, tmp_path, "side_effects")
    hooks = by_name["activation_stats.hooks_removed"]
    assert not hooks.passed and "still registered after activation_stats returned" in hooks.feedback
    grads = by_name["update_to_data_ratios.ratio_side_effects"]
    assert not grads.passed and "changed the gradients" in grads.feedback
    mode = by_name["initial_loss.loss_side_effects"]
    assert not mode.passed and "current mode" in mode.feedback
    failing = sorted(n for n, c in by_name.items() if not c.passed)
    assert failing == sorted(["activation_stats.hooks_removed", "activation_stats.hooks_removed.hidden",
                              "update_to_data_ratios.ratio_side_effects",
                              "update_to_data_ratios.ratio_side_effects.hidden",
                              "initial_loss.loss_side_effects", "initial_loss.loss_side_effects.hidden"]), failing


# -- grader-side properties (no grading) ----------------------------------------------------------------------
@pytest.mark.parametrize("t", [0.97, 0.9375, 0.875])
def test_threshold_inputs_separate_every_saturation_rule(t):
    """Exact +-t values exist (so > and >= differ), and abs, the 0.9 rule, the hard-coded 0.97 and the
    pre-activation rule all give fractions far from the right one."""
    x = fx.threshold_inputs(0, 32, 8, t)
    h = torch.tanh(x)
    right = float((h.abs() > t).float().mean())
    wrong = {
        **({">=": float((h.abs() >= t).float().mean())} if t != 0.97 else {}),
        "no abs": float((h > t).float().mean()),
        "pre-activation": float((x.abs() > t).float().mean()),
    }
    if t > 0.9:  # the "abs(h) >= 0.9" mistake is told apart by the cases with a threshold above 0.9
        wrong[">= 0.9"] = float((h.abs() >= 0.9).float().mean())
    if t != 0.97:
        wrong["0.97"] = float((h.abs() > 0.97).float().mean())
    if t != 0.97:  # exact values at the threshold only where t is a float32 number (see the fixture)
        assert bool((h.abs() == torch.tensor(t)).any()), "no exact tanh value at the threshold"
    for rule, value in wrong.items():
        assert abs(value - right) > 4 / x.numel(), (rule, value, right)  # at least 4 entries apart


def test_probe_sees_hooks_modes_grads_and_replacement():
    """The side-effect report is decided in the grader, from what ordinary calls read off the student's model,
    against the grader's own copy as built (no fixture code in the student's process decides it)."""
    from autograder.checks import Context
    from autograder.student import LocalStudent
    from autograder.suites.s08_training_diagnostics import checks

    make = checks.ctx_make("mlp", 0, bn=True, grads=True)
    ctx = Context(LocalStudent({}), checks.suite.checks[0], references=None)
    ref, originals = checks.kept_model(ctx, make)
    model = ctx.student.worker.objects[ref.id]
    clean = checks.probe(ctx, ref, make, originals)
    assert clean["hooks"] == 0 and not clean["changed_params"] and not clean["changed_grads"]
    assert not clean["replaced"] and not clean["changed_mode"] and not clean["changed_buffers"]
    handle = model[2].register_forward_hook(lambda *a: None)
    assert checks.probe(ctx, ref, make)["hooks"] == 1
    handle.remove()
    glob = torch.nn.modules.module.register_module_forward_hook(lambda *a: None)
    try:
        assert checks.probe(ctx, ref, make)["hooks"] == 1
    finally:
        glob.remove()
    model.eval()
    assert checks.probe(ctx, ref, make)["changed_mode"]
    model.train()
    model[0].weight.grad.mul_(2)
    assert checks.probe(ctx, ref, make)["changed_grads"] == ["0.weight"]
    with torch.no_grad():
        model[1].running_mean.add_(1)
    assert checks.probe(ctx, ref, make)["changed_buffers"] == ["1.running_mean"]
    model[0].weight = nn.Parameter(model[0].weight.detach().clone())
    assert checks.probe(ctx, ref, make, originals)["replaced"] == ["0.weight"]
    # what fixture code in the student's process says changes nothing: the snapshot lives in the grader
    object.__setattr__(model, "probe", lambda: {"hooks": 0, "changed_params": []})
    assert checks.probe(ctx, ref, make)["changed_grads"] == ["0.weight"]


def test_kaiming_statistics_have_a_wide_margin():
    """Over many seeds, torch's own kaiming_normal_ stays far inside the documented tolerances (3 % on the
    std, 5 standard errors on the mean, 0.15 on the excess kurtosis)."""
    from autograder.suites.s08_training_diagnostics import checks

    worst_std, worst_mean, worst_kurt = 0.0, 0.0, 0.0
    for seed in range(12):
        g = torch.Generator().manual_seed(seed)
        for fan_out, fan_in in ((256, 256), (128, 512), (384, 128), (100, 600)):
            w = torch.empty(fan_out, fan_in)
            nn.init.kaiming_normal_(w, nonlinearity="tanh", generator=g)
            mean, std, kurt, n = checks.weight_stats(w)
            target = (5 / 3) / math.sqrt(fan_in)
            worst_std = max(worst_std, abs(std / target - 1))
            worst_mean = max(worst_mean, abs(mean) / (target / math.sqrt(n)))
            worst_kurt = max(worst_kurt, abs(kurt))
    assert worst_std < checks.STD_TOL / 3
    assert worst_mean < checks.MEAN_SE * 0.9
    assert worst_kurt < checks.KURT_TOL / 2


def test_solution_stubs_on_the_documented_conventions():
    from autograder.notebooks import notebook_namespace

    ns = notebook_namespace(solution_path(ASSIGNMENT))
    assert ns["expected_initial_loss"](27) == pytest.approx(3.2958, abs=1e-4)
    model = fx.mlp(3, grads=True)
    ratios = ns["update_to_data_ratios"](model, 0.1)
    assert sorted(ratios) == ["0.weight", "2.weight", "4.weight"]
    # the n/(n-1) factors cancel: the biased std gives the same ratio
    for name, p in model.named_parameters():
        if name in ratios:
            biased = torch.log10((0.1 * p.grad).std(unbiased=False) / p.std(unbiased=False))
            assert torch.allclose(ratios[name], biased, atol=1e-6)


# -- every known mistake, graded in-process (the student sandbox cannot import the instructor-only mistakes) ----
def _in_process_grader():
    from autograder import references
    from autograder.checks import run_check
    from autograder.notebooks import notebook_namespace
    from autograder.student import LocalStudent
    from autograder.suites import load_suite

    suite = load_suite(ASSIGNMENT, hidden=True, mistakes=True)
    refs = references.load(ASSIGNMENT, hidden=True)
    base = notebook_namespace(solution_path(ASSIGNMENT))

    def grade_ns(ns):
        student = LocalStudent(dict(ns))
        return {c.name: run_check(c, student, refs.of(c.name)) for c in suite.checks}

    return suite, base, grade_ns


def test_every_known_mistake_loses_its_targets_with_its_feedback_in_process():
    suite, base, grade_ns = _in_process_grader()
    assert all(r.passed for r in grade_ns(base).values())
    problems = []
    for m in suite.mistakes:
        ns = dict(base)
        ns[m.exercise] = m.impl
        ns.update(m.namespace)
        res = grade_ns(ns)
        for target in m.targets:
            if res[target].score >= res[target].points:
                problems.append(f"{m.name}: no loss on {target}")
        feedback = "\n".join(res[t].feedback for t in m.targets)
        if (m.feedback or m.hint) not in feedback:
            problems.append(f"{m.name}: feedback missing")
        others = [n for n, r in res.items() if not r.passed and r.exercise != m.exercise and r.exercise not in m.affects]
        if others:
            problems.append(f"{m.name}: other groups fail {others}")
    assert not problems, problems
    assert len(suite.mistakes) >= 40


def test_non_default_arguments_are_honoured(grade, tmp_path):
    """Hard-coding threshold=0.97, scale=0.01 or drawing from the global RNG loses exactly those checks, with the
    hint of the matching known mistake."""
    subs = {
        "activation_stats": ALT_B["activation_stats"].replace("h.abs() > threshold", "h.abs() > 0.97"),
        "shrink_last_layer_": ALT_B["shrink_last_layer_"].replace("mul_(scale)", "mul_(0.01)"),
        "kaiming_init_": ALT_B["kaiming_init_"].replace("generator=generator", "generator=None"),
    }
    by_name = _one(subs, grade, tmp_path, "non_default")
    failing = sorted(n for n, c in by_name.items() if not c.passed)
    assert failing == sorted(["activation_stats.tanh_saturation", "activation_stats.tanh_saturation.hidden",
                              "shrink_last_layer_.shrink_values", "shrink_last_layer_.shrink_values.hidden",
                              "shrink_last_layer_.shrink_in_place", "shrink_last_layer_.shrink_in_place.hidden",
                              "kaiming_init_.generator_draws", "kaiming_init_.generator_draws.hidden"]), failing
    assert "the threshold argument was ignored" in by_name["activation_stats.tanh_saturation"].feedback
    assert "the scale argument was ignored" in by_name["shrink_last_layer_.shrink_values"].feedback
    assert "the generator argument was ignored" in by_name["kaiming_init_.generator_draws"].feedback
