"""Assignment 03 (batch norm): alternative correct implementations get full marks, the cache survives
the trip to the grader and back (also when it is an object that stays in the student process), and
the by-hand solution reproduces the worksheet's published numbers."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb

from autograder.notebooks import notebook_namespace

ASSIGNMENT = "03_batch_norm"

# Variant A: other formulas (mean of squares, staged backward, lerp, tuple cache, in-place buffers).
ALT_A = {
    "batchnorm_by_hand": r'''
def batchnorm_by_hand(X, W, b, gamma, beta, round_stats=False, eps=1e-5):
    Z = F.linear(X, W, b)
    H = torch.relu(Z)
    mean = H.mean(0)
    var = (H ** 2).mean(0) - mean ** 2
    std = var.add(eps).sqrt()
    if round_stats:
        mean = mean.round()
        std = std.round()
    x_hat = (H - mean[None, :]) / std[None, :]
    return dict(linear=Z, relu=H, mean=mean, var=var, std=std, x_hat=x_hat, out=x_hat * gamma + beta)
''',
    "batchnorm_forward": r'''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    N, D = x.shape
    bn_param.setdefault("running_mean", torch.zeros(D, dtype=x.dtype))
    bn_param.setdefault("running_var", torch.ones(D, dtype=x.dtype))
    if bn_param["mode"] == "train":
        mu = x.sum(0) / N
        xc = x - mu
        var = (xc * xc).sum(0) / N
        bn_param["running_mean"].mul_(1 - momentum).add_(momentum * mu)
        bn_param["running_var"].mul_(1 - momentum).add_(momentum * var * (N / (N - 1)))
        out = gamma * xc / torch.sqrt(var + eps) + beta
        return out, (x, mu, var, eps, gamma)
    mu, var = bn_param["running_mean"], bn_param["running_var"]
    return gamma * (x - mu) / (var + eps).sqrt() + beta, None
''',
    "batchnorm_backward": r'''
def batchnorm_backward(dout, cache):
    # the computational graph, one node at a time (CS231n style)
    x, mu, var, eps, gamma = cache
    N = x.shape[0]
    xc = x - mu
    std = torch.sqrt(var + eps)
    istd = 1.0 / std
    xhat = xc * istd
    dbeta = dout.sum(0)
    dgamma = (dout * xhat).sum(0)
    dxhat = dout * gamma
    dxc = dxhat * istd
    distd = (dxhat * xc).sum(0)
    dstd = -distd / std ** 2
    dvar = 0.5 * dstd / std
    dsq = torch.ones_like(x) * dvar / N
    dxc = dxc + 2 * xc * dsq
    dmu = -dxc.sum(0)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta
''',
    "batchnorm_backward_alt": r'''
def batchnorm_backward_alt(dout, cache):
    x, mu, var, eps, gamma = cache
    N = x.shape[0]
    istd = torch.rsqrt(var + eps)
    xhat = (x - mu) * istd
    dbeta = dout.sum(0)
    dgamma = (dout * xhat).sum(0)
    return gamma * istd / N * (N * dout - dbeta - xhat * dgamma), dgamma, dbeta
''',
    "BatchNorm1d": r'''
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if not self.training:
            return (x - self.running_mean) * torch.rsqrt(self.running_var + self.eps) * self.weight + self.bias
        mean = x.mean(0)
        var = x.var(0, correction=0)
        self.running_mean.lerp_(mean.detach(), self.momentum)
        self.running_var.lerp_(x.var(0, correction=1).detach(), self.momentum)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias
''',
    "batchnorm2d_forward": r'''
def batchnorm2d_forward(x, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    flat = x.permute(0, 2, 3, 1).reshape(-1, C)
    mean, var = flat.mean(0), flat.var(0, unbiased=False)
    out = (flat - mean) / torch.sqrt(var + eps) * gamma + beta
    return out.reshape(N, H, W, C).permute(0, 3, 1, 2)
''',
    "bn_block": r'''
class _Block(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out, bias=False)
        self.norm = BatchNorm1d(d_out)

    def forward(self, x):
        return F.relu(self.norm(self.lin(x)))


def bn_block(d_in, d_out):
    return _Block(d_in, d_out)
''',
    "fold_bn_into_linear": r'''
def fold_bn_into_linear(linear, bn):
    d = bn.running_var.numel()
    scale = torch.diag(bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps))
    b = linear.bias.detach() if linear.bias is not None else torch.zeros(d)
    new = nn.Linear(linear.in_features, linear.out_features)
    new.weight = nn.Parameter(scale @ linear.weight.detach())
    new.bias = nn.Parameter(scale @ (b - bn.running_mean) + bn.bias.detach())
    return new
''',
    "FixedBatchNorm": r'''
class FixedBatchNorm(BatchNorm1d):
    pass
''',
}

# Variant B: the cache is an object (it stays in the student process as a ref), torch.var, F.batch_norm
# inside the module, nn.Sequential with names.
ALT_B = {
    "batchnorm_by_hand": r'''
def batchnorm_by_hand(X, W, b, gamma, beta, round_stats=False, eps=1e-5):
    Z = torch.stack([X @ W[j] + b[j] for j in range(W.shape[0])], dim=1)
    H = F.relu(Z)
    mean = torch.stack([H[:, j].mean() for j in range(H.shape[1])])
    var = H.var(dim=0, unbiased=False)
    std = (var + eps) ** 0.5
    if round_stats:
        mean, std = torch.round(mean), torch.round(std)
    x_hat = (H - mean) / std
    return {"linear": Z, "relu": H, "mean": mean, "var": var, "std": std, "x_hat": x_hat,
            "out": torch.addcmul(beta.expand_as(x_hat), gamma.expand_as(x_hat), x_hat)}
''',
    "batchnorm_forward": r'''
from types import SimpleNamespace


def batchnorm_forward(x, gamma, beta, bn_param):
    D = x.shape[1]
    eps, m = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    rm = bn_param.get("running_mean", torch.zeros(D, dtype=x.dtype))
    rv = bn_param.get("running_var", torch.ones(D, dtype=x.dtype))
    if bn_param["mode"] != "train":
        return F.batch_norm(x, rm.clone(), rv.clone(), gamma, beta, training=False, eps=eps), None
    var = x.var(0, unbiased=False)
    std = (var + eps).sqrt()
    xhat = (x - x.mean(0)) / std
    bn_param["running_mean"] = rm + m * (x.mean(0) - rm)
    bn_param["running_var"] = rv + m * (x.var(0) - rv)
    return xhat * gamma + beta, SimpleNamespace(xhat=xhat, std=std, gamma=gamma)
''',
    "batchnorm_backward": r'''
def batchnorm_backward(dout, cache):
    N = dout.shape[0]
    dbeta = dout.sum(0)
    dgamma = (dout * cache.xhat).sum(0)
    dx = cache.gamma / (N * cache.std) * (N * dout - dbeta - cache.xhat * dgamma)
    return dx, dgamma, dbeta
''',
    "batchnorm_backward_alt": r'''
def batchnorm_backward_alt(dout, cache):
    g = dout * cache.gamma
    dx = (g - g.mean(0) - cache.xhat * (g * cache.xhat).mean(0)) / cache.std
    return dx, (dout * cache.xhat).sum(0), dout.sum(0)
''',
    "BatchNorm1d": r'''
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        if self.training:
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=self.momentum, eps=self.eps)
''',
    "batchnorm2d_forward": r'''
def batchnorm2d_forward(x, gamma, beta, eps=1e-5):
    dims = (0, 2, 3)
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, unbiased=False, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps) * gamma[None, :, None, None] + beta[None, :, None, None]
''',
    "bn_block": r'''
from collections import OrderedDict


def bn_block(d_in, d_out):
    return nn.Sequential(OrderedDict(fc=nn.Linear(d_in, d_out, bias=False), bn=nn.BatchNorm1d(d_out),
                                     act=nn.ReLU()))
''',
    "fold_bn_into_linear": r'''
import copy


def fold_bn_into_linear(linear, bn):
    folded = nn.Linear(linear.in_features, linear.out_features)
    with torch.no_grad():
        inv = torch.rsqrt(bn.running_var + bn.eps) * bn.weight
        folded.weight.copy_(linear.weight * inv.unsqueeze(1))
        b = torch.zeros(linear.out_features) if linear.bias is None else linear.bias
        folded.bias.copy_((b - bn.running_mean) * inv + bn.bias)
    return copy.deepcopy(folded)
''',
    "FixedBatchNorm": r'''
class FixedBatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.weight = nn.Parameter(torch.ones(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            n = x.shape[0]
            mean, var = x.mean(0), x.var(0, unbiased=False)
            with torch.no_grad():
                self.running_mean.copy_((1 - self.momentum) * self.running_mean + self.momentum * mean)
                self.running_var.copy_((1 - self.momentum) * self.running_var
                                       + self.momentum * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias
''',
}


def alternative_submission(alts: dict, path) -> str:
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
    result = grade(alternative_submission(alts, tmp_path / f"alt_{variant}.ipynb"))
    assert_full_marks(result)


def _solution_namespace() -> dict:
    return notebook_namespace(solution_path(ASSIGNMENT))


def test_by_hand_reproduces_the_worksheet():
    """The pencil path gives the worksheet's published numbers; the exact path equals F.batch_norm."""
    import torch.nn.functional as F

    from autograder.data import load_source_data

    ns = _solution_namespace()
    data = load_source_data("batchnorm_by_hand")
    X, W, b, gamma, beta = (torch.tensor(data[k], dtype=torch.float32) for k in ("X", "W", "b", "gamma", "beta"))
    pencil = ns["batchnorm_by_hand"](X, W, b, gamma, beta, round_stats=True)
    assert pencil["mean"].tolist() == [2, 1, 2]
    assert pencil["std"].tolist() == [1, 1, 2]
    assert pencil["out"].T.tolist() == [[2, -2, 2, 0], [-3, 3, 6, -3], [2, -0.5, 1, 2]]
    exact = ns["batchnorm_by_hand"](X, W, b, gamma, beta, round_stats=False)
    ref = F.batch_norm(exact["relu"], None, None, gamma, beta, training=True)
    assert torch.allclose(exact["out"], ref, rtol=1e-5, atol=1e-6)


def test_source_data_holds_inputs_only():
    with open(f"{solution_path(ASSIGNMENT).rsplit('/solutions/', 1)[0]}/source_data/batchnorm_by_hand.json",
              encoding="utf-8") as fh:
        data = json.load(fh)
    assert {"X", "W", "b", "gamma", "beta"} <= set(data)
    assert not {"out", "mean", "std", "expected"} & set(data)


def test_cache_object_round_trips_in_process():
    """A cache that is not plain data comes back to the grader as a ref and resolves in batchnorm_backward."""
    from autograder import wire
    from autograder.student import LocalStudent

    ns = _solution_namespace()
    exec(ALT_B["batchnorm_forward"] + ALT_B["batchnorm_backward"], ns)
    student = LocalStudent(ns)
    x = torch.randn(6, 3, dtype=torch.float64)
    g, bt = torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    out, cache = student.call("batchnorm_forward", x, g, bt, {"mode": "train"})
    assert isinstance(cache, wire.Ref)
    dx, dgamma, dbeta = student.call("batchnorm_backward", torch.ones(6, 3, dtype=torch.float64), cache)
    assert torch.allclose(dx, torch.zeros_like(dx), atol=1e-12)
    assert torch.allclose(dbeta, torch.full((3,), 6.0, dtype=torch.float64))


def test_the_buggy_class_itself_loses_both_bug_checks_with_both_hints(grade, tmp_path):
    nb = with_cells_after(load_nb(solution_path(ASSIGNMENT)), "FixedBatchNorm", ["FixedBatchNorm = BuggyBatchNorm"])
    result = grade(write_nb(nb, tmp_path / "buggy.ipynb"))
    by_name = {c.name: c for c in result.checks}
    assert by_name["FixedBatchNorm.fixed_init"].score == 0
    assert "bug 1 is still there" in by_name["FixedBatchNorm.fixed_init"].feedback
    assert by_name["FixedBatchNorm.fixed_running_mean"].score == 0
    assert "bug 2 is still there" in by_name["FixedBatchNorm.fixed_running_mean"].feedback
    assert all(c.passed for c in result.checks if c.exercise != "FixedBatchNorm")


def test_by_hand_feedback_points_at_the_first_wrong_step(grade, tmp_path):
    """With the unbiased variance, linear/relu/mean pass and var is the first step that fails."""
    from helpers import mistake_submission

    from autograder.suites import load_suite

    suite = load_suite(ASSIGNMENT, hidden=True, mistakes=True)
    mistake = [m for m in suite.mistakes if m.name == "by_hand_unbiased_var"][0]
    result = grade(mistake_submission(ASSIGNMENT, mistake, tmp_path))
    by_name = {c.name: c for c in result.checks}
    for step in ("linear", "relu", "mean"):
        assert by_name[f"batchnorm_by_hand.{step}"].passed
    assert not by_name["batchnorm_by_hand.var"].passed
    assert "this matches a known mistake" in by_name["batchnorm_by_hand.var"].feedback
