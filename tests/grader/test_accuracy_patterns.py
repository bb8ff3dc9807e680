"""Issue 8's patterns, one test each: wrong submissions that used to keep full marks now lose points on
the check that owns the mistake, with feedback that names it; correct ones written differently keep
full marks (DESIGN.md §7).

Submissions are graded in process (tools/mutation.py: the solution notebook's namespace with the
submission swapped in, every check of the assignment through LocalStudent, references as recorded);
tests/assignments/test_assignments.py grades the known mistakes through the sandboxed engine.
"""

from __future__ import annotations

import collections

import pytest
import torch

from autograder.student import LocalStudent
from tools import mutation

_STATES: dict = {}


def state(assignment: str) -> mutation.State:
    if assignment not in _STATES:
        _STATES[assignment] = mutation.State(assignment)
    return _STATES[assignment]


def grade(assignment: str, source: str, groups: tuple[str, ...] | None = None) -> dict:
    """Grade the solution notebook with ``source`` run after it (it redefines some names): {check: result}."""
    st = state(assignment)
    ns = mutation.build_namespace(assignment, st.nb)
    exec(compile(source, "<submission>", "exec"), ns)
    checks = [c for c in st.suite.checks if groups is None or c.exercise in groups]
    return {r.name: r for r in mutation.grade_namespace(ns, checks, st.references, stop_early=False)}


def lost(results: dict) -> dict:
    return {n: r for n, r in results.items() if r.score < r.points}


def assert_full(results: dict) -> None:
    bad = {n: r.feedback for n, r in lost(results).items()}
    assert not bad, bad


def assert_caught(results: dict, check: str, text: str, only: tuple[str, ...] | None = None) -> None:
    """``check`` lost points with ``text`` in its feedback; with ``only``, no check outside it lost any."""
    missed = lost(results)
    assert check in missed, f"{check} kept its points; lost: {sorted(missed)}"
    assert text in missed[check].feedback, missed[check].feedback
    if only is not None:
        extra = sorted(n for n in missed if not any(n.startswith(o) for o in only))
        assert not extra, {n: missed[n].feedback for n in extra}


# -- the engine: a result kept in the student's process (any cache type reaches the backward) -------------

def test_kept_result_arrives_as_the_same_object():
    cache_type = collections.namedtuple("Cache", "x scale")
    ns = {"fwd": lambda x: (x * 2, cache_type(x, 3.0)),
          "bwd": lambda dout, cache: (type(cache).__name__, dout * cache.scale + cache.x)}
    student = LocalStudent(ns)
    kept = student.call_kept("fwd", torch.ones(2))
    assert torch.equal(student.method(kept, "__getitem__", 0), torch.full((2,), 2.0))
    cache = student.method_kept(kept, "__getitem__", 1)
    name, dx = student.call("bwd", torch.ones(2), cache)
    assert name == "Cache" and torch.equal(dx, torch.full((2,), 4.0))


def test_probe_reports_state_values_do_not_show():
    """ctx.probe runs grader-owned code on the student's objects: a detached forward gives no gradients."""
    import torch.nn as nn

    class Detached(nn.Linear):
        def forward(self, x):
            return super().forward(x).detach()

    student = LocalStudent({"Good": lambda: nn.Linear(3, 2), "Bad": lambda: Detached(3, 2)})
    x = torch.randn(4, 3)
    good = student.probe("autograder.fixtures.probes:module_autograd", student.call("Good"), x)
    bad = student.probe("autograder.fixtures.probes:module_autograd", student.call("Bad"), x)
    assert good["requires_grad"] and all(g is not None for g in good["grads"].values()) and good["deepcopy"]
    assert not bad["requires_grad"] and all(g is None for g in bad["grads"].values())


# -- 01 data splits -------------------------------------------------------------------------------------

SPLIT_OK_1 = '''
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    g = torch.Generator()
    g.manual_seed(seed)
    order = torch.randperm(len(x), generator=g).tolist()
    a = int(len(x) * ratios[0]); b = a + int(len(x) * ratios[1])
    parts = {"train": order[:a], "val": order[a:b], "test": order[b:]}
    return {k: (x[torch.tensor(v, dtype=torch.long)], y[torch.tensor(v, dtype=torch.long)]) for k, v in parts.items()}
'''
SPLIT_OK_2 = '''
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    perm = torch.randperm(x.size(0), generator=torch.Generator().manual_seed(seed))
    n_tr, n_va = int(x.size(0) * ratios[0]), int(x.size(0) * ratios[1])
    tr, va, te = perm.split([n_tr, n_va, x.size(0) - n_tr - n_va])
    return dict(train=(x.index_select(0, tr), y.index_select(0, tr)), val=(x[va], y[va]), test=(x[te], y[te]))
'''
STD_OK_1 = '''
def standardize(train_x, *others):
    mu = train_x.mean(0, keepdim=True)
    sd = ((train_x - mu) ** 2).mean(0, keepdim=True).sqrt()
    sd = sd.masked_fill(sd == 0, 1.0)
    return tuple((t - mu) / sd for t in (train_x,) + others)
'''
STD_OK_2 = '''
def standardize(train_x, *others):
    var, mean = torch.var_mean(train_x, dim=0, correction=0)
    std = var.sqrt()
    std[std == 0] = 1
    out = [(train_x - mean) / std]
    for o in others:
        out.append((o - mean) / std)
    return tuple(out)
'''


@pytest.mark.parametrize("source", [SPLIT_OK_1, SPLIT_OK_2, STD_OK_1, STD_OK_2])
def test_01_alternative_correct_implementations_keep_full_marks(source):
    assert_full(grade("01_data_splits", source))


def test_01_split_data_that_ignores_ratios_loses_the_size_points():
    src = SPLIT_OK_2.replace("int(x.size(0) * ratios[0]), int(x.size(0) * ratios[1])",
                             "int(x.size(0) * 0.8), int(x.size(0) * 0.1)")
    assert_caught(grade("01_data_splits", src, ("split_data",)), "split_data.sizes", "sizes (train, val, test)",
                  only=("split_data.sizes", "split_data.reference"))


def test_01_split_data_that_shuffles_x_in_place_loses_the_inputs_point():
    src = SPLIT_OK_2.replace("    perm = torch", "    x.mul_(1.0); y.add_(0); x[0, 1] += 1.0\n    perm = torch")
    assert_caught(grade("01_data_splits", src, ("split_data",)), "split_data.split_inputs_unchanged",
                  "split_data changed x in place")


def test_01_empty_or_one_row_splits_earn_no_pairing_or_seeded_points():
    empty = '''
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    return {k: (x[:0], y[:0]) for k in ("train", "val", "test")}
'''
    one_row = '''
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    i = torch.randint(len(x), (1,), generator=torch.Generator().manual_seed(seed))
    return {k: (x[i], y[i]) for k in ("train", "val", "test")}
'''
    for src in (empty, one_row):
        res = grade("01_data_splits", src, ("split_data",))
        earned = {n: r.score for n, r in res.items() if r.score > 0}
        assert not earned, earned


def test_01_standardize_keeps_float64():
    src = STD_OK_1.replace("return tuple((t - mu) / sd", "return tuple(((t - mu) / sd).float()")
    assert_caught(grade("01_data_splits", src, ("standardize",)), "standardize.train_stats.hidden",
                  "failed on a hidden case")


# -- 02 weight penalties ----------------------------------------------------------------------------

def test_02_param_groups_of_data_copies_lose_the_partition_point_only():
    src = '''
def make_param_groups(model, weight_decay):
    decay = [m.weight.data for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    ids = {id(m.weight) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))}
    rest = [p.detach() for p in model.parameters() if id(p) not in ids]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
'''
    assert_caught(grade("02_weight_penalties", src, ("make_param_groups",)), "make_param_groups.partition",
                  "a copy with the same values", only=("make_param_groups.partition",))


def test_02_weight_decay_on_parameters_without_grad_is_caught():
    src = '''
def sgd_step_weight_decay(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
            p -= lr * weight_decay * p
'''
    assert_caught(grade("02_weight_penalties", src, ("sgd_step_weight_decay",)), "sgd_step_weight_decay.matches_torch",
                  "p.grad is None is skipped", only=("sgd_step_weight_decay.matches_torch",))


def test_02_ridge_that_centers_in_place_loses_the_inputs_point_only():
    src = '''
def ridge_fit(X, y, lam):
    xm, ym = X.mean(0), y.mean()
    X.sub_(xm)
    w = torch.linalg.solve(X.T @ X + lam * torch.eye(X.shape[1], dtype=X.dtype), X.T @ (y - ym))
    return w, ym - xm @ w
'''
    assert_caught(grade("02_weight_penalties", src, ("ridge_fit",)), "ridge_fit.ridge_inputs_unchanged",
                  "ridge_fit changed its argument #1 in place", only=("ridge_fit.ridge_inputs_unchanged",))


def test_02_ridge_with_a_0d_weight_is_told_about_the_shape_not_the_intercept():
    src = '''
def ridge_fit(X, y, lam):
    xm, ym = X.mean(0), y.mean()
    xc, yc = X - xm, y - ym
    w = torch.linalg.solve(xc.T @ xc + lam * torch.eye(X.shape[1], dtype=X.dtype), xc.T @ yc).squeeze()
    return w, ym - xm @ w.reshape(-1)
'''
    res = grade("02_weight_penalties", src, ("ridge_fit",))
    assert_caught(res, "ridge_fit.intercept.hidden", "also D = 1 (do not squeeze it")
    assert "not penalized" not in res["ridge_fit.intercept.hidden"].feedback.split("Hint:")[-1]


def test_02_penalty_that_changes_the_model_is_caught():
    src = '''
def l2_penalty(model, lam):
    total = torch.zeros(())
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            total = total + (m.weight ** 2).sum()
            if m.bias is not None:
                with torch.no_grad():
                    m.bias.zero_()
    return lam / 2 * total
'''
    assert_caught(grade("02_weight_penalties", src, ("l2_penalty",)), "l2_penalty.value",
                  "l2_penalty changed the model's parameters")


def test_02_decay_step_that_does_nothing_earns_nothing():
    src = '''
def sgd_step_weight_decay(params, lr, weight_decay):
    pass
'''
    res = grade("02_weight_penalties", src, ("sgd_step_weight_decay",))
    assert not {n: r.score for n, r in res.items() if r.score}, res


# -- feedback attribution ---------------------------------------------------------------------------

def test_an_unfinished_stub_is_named_not_the_given_helper_that_calls_it():
    src = '''
def l1_penalty(model, lam):
    raise NotImplementedError()
'''
    res = grade("02_weight_penalties", src, ("l1_penalty",))
    fb = res["l1_penalty.gradient"].feedback
    assert "`l1_penalty` is not implemented yet" in fb and "reached through `sgd_on_penalized_loss`" in fb, fb
    assert "`sgd_on_penalized_loss` is not implemented" not in fb


# -- 03 / 04: any cache type reaches the backward (the cache never crosses the wire) ------------------

BN_NAMEDTUPLE = '''
from collections import namedtuple

BNCache = namedtuple("BNCache", "xhat inv_std gamma")


def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    d = x.shape[1]
    rm = bn_param.get("running_mean", torch.zeros(d, dtype=x.dtype))
    rv = bn_param.get("running_var", torch.ones(d, dtype=x.dtype))
    if bn_param["mode"] == "train":
        mu = x.mean(0)
        var = ((x - mu) ** 2).mean(0)
        inv_std = 1.0 / torch.sqrt(var + eps)
        xhat = (x - mu) * inv_std
        n = x.shape[0]
        bn_param["running_mean"] = (1 - momentum) * rm + momentum * mu
        bn_param["running_var"] = (1 - momentum) * rv + momentum * var * n / (n - 1)
        return gamma * xhat + beta, BNCache(xhat, inv_std, gamma)
    xhat = (x - rm) / torch.sqrt(rv + eps)
    return gamma * xhat + beta, BNCache(xhat, None, gamma)


def batchnorm_backward(dout, cache):
    dxhat = dout * cache.gamma
    dx = cache.inv_std * (dxhat - dxhat.mean(0) - cache.xhat * (dxhat * cache.xhat).mean(0))
    return dx, (dout * cache.xhat).sum(0), dout.sum(0)


batchnorm_backward_alt = batchnorm_backward
'''

LN_NAMEDTUPLE = '''
from collections import namedtuple

LNCache = namedtuple("LNCache", ["xhat", "inv_std", "gamma"])


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    inv_std = torch.rsqrt(x.var(-1, keepdim=True, unbiased=False) + eps)
    xhat = (x - mu) * inv_std
    return xhat * gamma + beta, LNCache(xhat, inv_std, gamma)


def layernorm_backward(dout, cache):
    d = dout.shape[-1]
    dxhat = dout * cache.gamma
    dx = cache.inv_std * (dxhat - dxhat.mean(-1, keepdim=True)
                          - cache.xhat * (dxhat * cache.xhat).mean(-1, keepdim=True))
    return dx, (dout * cache.xhat).reshape(-1, d).sum(0), dout.reshape(-1, d).sum(0)
'''


@pytest.mark.parametrize("assignment,source,groups", [
    ("03_batch_norm", BN_NAMEDTUPLE, ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt")),
    ("04_layer_norm", LN_NAMEDTUPLE, ("layernorm_forward", "layernorm_backward")),
], ids=["03", "04"])
def test_a_named_tuple_cache_keeps_full_marks(assignment, source, groups):
    assert_full(grade(assignment, source, groups))


def test_04_backward_that_scales_dout_in_place_loses_points_with_that_reason():
    src = LN_NAMEDTUPLE.replace("    dxhat = dout * cache.gamma", "    dxhat = dout.mul_(cache.gamma)")
    res = grade("04_layer_norm", src, ("layernorm_backward",))
    assert_caught(res, "layernorm_backward.vs_autograd", "layernorm_backward changed dout in place")


def test_04_layer_norm_module_without_gradients_is_caught():
    src = '''
class LayerNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        with torch.no_grad():
            return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)
'''
    assert_caught(grade("04_layer_norm", src, ("LayerNorm",)), "LayerNorm.module_autograd",
                  "carries no gradient to weight and bias", only=("LayerNorm.module_autograd",))


def test_04_layer_norm_module_that_ignores_eps_is_caught():
    src = '''
class LayerNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, 1e-5)
'''
    assert_caught(grade("04_layer_norm", src, ("LayerNorm",)), "LayerNorm.module_train_eval", "compared with nn.LayerNorm")
